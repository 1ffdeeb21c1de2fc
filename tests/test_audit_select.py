"""--select/--ignore semantics (ruff-like) and --fail-on thresholds."""

from __future__ import annotations

import pytest

from conda2docker.audit import all_rules, enabled_codes, fails, parse_selectors
from conda2docker.errors import InputError
from conda2docker.model import Finding, Severity

RULES = all_rules()
ALL = frozenset(r.code for r in RULES)


def codes(select: str = "", ignore: str = "") -> frozenset[str]:
    return enabled_codes(RULES, parse_selectors([select]), parse_selectors([ignore]))


def test_parse_selectors_splits_commas_and_repeats() -> None:
    assert parse_selectors(["C1, p201", "G", ""]) == ("C1", "P201", "G")


def test_default_is_every_rule() -> None:
    assert codes() == ALL


def test_select_prefix() -> None:
    assert codes("C1") == {c for c in ALL if c.startswith("C1")}
    assert codes("P201,G") == {"P201"} | {c for c in ALL if c.startswith("G")}


def test_ignore_removes_and_more_specific_select_wins() -> None:
    assert "C101" not in codes("C", "C101") and "C102" in codes("C", "C101")
    assert codes("C101", "C") == {"C101"}
    assert codes("ALL", "R") == {c for c in ALL if not c.startswith("R")}


def test_unknown_selector_is_an_input_error() -> None:
    with pytest.raises(InputError, match="Z9"):
        codes("Z9")
    with pytest.raises(InputError, match="P299"):
        codes("", "P299")


def _finding(severity: Severity) -> Finding:
    return Finding("X101", severity, "m", "s", "f")


@pytest.mark.parametrize(
    ("present", "fail_on", "expected"),
    [
        (Severity.ERROR, "error", True),
        (Severity.WARNING, "error", False),
        (Severity.WARNING, "warning", True),
        (Severity.INFO, "warning", False),
        (Severity.INFO, "info", True),
        (Severity.ERROR, "never", False),
    ],
)
def test_fails(present: Severity, fail_on: str, expected: bool) -> None:
    assert fails([_finding(present)], fail_on) is expected


def test_fails_rejects_unknown_level() -> None:
    with pytest.raises(InputError):
        fails([], "fatal")
