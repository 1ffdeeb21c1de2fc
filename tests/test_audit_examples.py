"""Every audit rule's documented example goes through read → audit: the page never shows an
example that the reader refuses, and an example that can fire without a solve does fire."""

from __future__ import annotations

from pathlib import Path

import pytest

from conda2docker.audit.registry import Rule, all_rules
from conda2docker.audit.run import audit_targets
from conda2docker.pipeline import read_spec

RULES = {rule.code: rule for rule in all_rules()}
DESCRIBED = {"S304"}
"""Examples told in comments: they need a lock with a binary built for a newer glibc."""
NEEDS_A_SOLVE = {"C101", "C105", "C106", "C107", "C108", "C109", "P201", "P205", "P207", "P208",
                 "S302", "S306"}
"""Rules about what the solve or the index answered (a package or version in no channel, a
failed solve, a channel added or left out, a relaxed pin, a pin without a wheel): their
examples read and audit cleanly, and fire once the input is locked or the index is asked."""
SERVICES = {"S307": ("postgres",)}
"""Rules about what ``init --service`` puts beside the environment: their examples fire with the
services init passes to the audit (the example's comment names them)."""


def _example_file(rule: Rule, tmp_path: Path) -> Path:
    name = "requirements.txt" if rule.example.startswith("# requirements.txt") else "environment.yml"
    path = tmp_path / name
    path.write_text(rule.example + "\n", encoding="utf-8")
    return path


def test_the_exception_lists_name_real_rules() -> None:
    assert set(RULES) >= DESCRIBED | NEEDS_A_SOLVE | SERVICES.keys()
    for code, names in SERVICES.items():
        assert all(f"--service {name}" in RULES[code].example for name in names)
    for code in DESCRIBED:
        assert all(line.startswith("#") for line in RULES[code].example.splitlines())


@pytest.mark.parametrize("code", sorted(RULES.keys() - DESCRIBED))
def test_example_reads_and_audits(code: str, tmp_path: Path) -> None:
    rule = RULES[code]
    spec = read_spec(_example_file(rule, tmp_path))
    found = {f.code for f in audit_targets(spec, None, ("linux-64",),
                                           services=SERVICES.get(code, ()))}
    if code not in NEEDS_A_SOLVE:
        assert code in found, f"{code}'s example does not show {code}: {sorted(found)}"
