"""Choosing rules by code or prefix (``--select``/``--ignore``) and failing on severity."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import get_args

from conda2docker.audit.registry import Rule
from conda2docker.choices import FailOn
from conda2docker.errors import InputError
from conda2docker.model import Finding, Severity

FAIL_LEVELS: tuple[FailOn, ...] = get_args(FailOn)


def parse_selectors(values: Iterable[str]) -> tuple[str, ...]:
    """``["C1,P201", "G"]`` → ``("C1", "P201", "G")``: comma-separated or repeated."""
    return tuple(part.strip().upper() for value in values for part in value.split(",")
                 if part.strip())


def _longest(code: str, selectors: Sequence[str]) -> int:
    """Length of the most specific selector matching ``code`` (-1: none; ALL counts 0)."""
    lengths = [0 if s == "ALL" else len(s) for s in selectors if s == "ALL" or code.startswith(s)]
    return max(lengths, default=-1)


def enabled_codes(
    rules: Sequence[Rule], select: Sequence[str] = (), ignore: Sequence[str] = ()
) -> frozenset[str]:
    """Codes left after ``select`` (default: all) and ``ignore``; the more specific wins.

    ``--select C --ignore C101`` keeps C102 to C104; ``--select C101 --ignore C`` keeps C101.
    An unknown selector is an error, so a typo cannot silently disable nothing.
    """
    codes = [r.code for r in rules]
    for selector in (*select, *ignore):
        if selector != "ALL" and not any(code.startswith(selector) for code in codes):
            raise InputError(
                f"unknown rule selector {selector!r}",
                fix="use a rule code or prefix such as C101, P2 or G (see docs/rules.md)",
            )
    chosen = select or ("ALL",)
    return frozenset(
        code for code in codes
        if (picked := _longest(code, chosen)) >= 0 and picked > _longest(code, ignore)
    )


def fails(findings: Iterable[Finding], fail_on: str) -> bool:
    """True when a finding at or above ``fail_on`` (error|warning|info|never) remains."""
    if fail_on not in FAIL_LEVELS:
        raise InputError(f"unknown --fail-on level {fail_on!r}", fix="use error, warning, info or never")
    if fail_on == "never":
        return False
    threshold = Severity(fail_on).rank
    return any(f.severity.rank >= threshold for f in findings)
