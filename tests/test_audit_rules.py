"""Every registered rule fires on its trigger fixture and stays silent on its clean one."""

from __future__ import annotations

import re

import pytest

from conda2docker.audit import all_rules, audit
from conda2docker.audit.registry import Rule
from fixtures.audit.cases import CASES

RULES = all_rules()


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_rule_has_both_fixtures(rule: Rule) -> None:
    assert rule.code in CASES, f"{rule.code}: add a trigger and a clean case to fixtures/audit/cases.py"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_rule_fires_on_its_trigger(rule: Rule) -> None:
    case = CASES.get(rule.code)
    if case is None:
        pytest.fail(f"no fixture for {rule.code}")
    findings = audit(case.trigger, select=[rule.code])
    assert findings, f"{rule.code} did not fire on its trigger fixture"
    for finding in findings:
        assert finding.code == rule.code
        assert finding.severity is rule.severity
        assert not re.search(r"\{\w+\}", finding.message + finding.fix), finding
        assert finding.subject and finding.fix


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_rule_is_silent_on_its_clean_case(rule: Rule) -> None:
    case = CASES.get(rule.code)
    if case is None:
        pytest.fail(f"no fixture for {rule.code}")
    assert audit(case.clean, select=[rule.code]) == []


def test_no_fixture_names_an_unregistered_rule() -> None:
    assert set(CASES) <= {r.code for r in RULES}


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_rule_is_documented(rule: Rule) -> None:
    assert re.fullmatch(r"[CPSGR][1-5]\d\d", rule.code)
    assert rule.why and rule.example and rule.name == rule.name.lower()
    assert "\n" not in rule.message


def test_findings_are_sorted_and_repeatable() -> None:
    everything = [f for case in CASES.values() for f in audit(case.trigger)]
    assert everything
    for case in CASES.values():
        first = audit(case.trigger)
        assert first == audit(case.trigger)
        assert first == sorted(first, key=lambda f: (f.code, f.subject, f.platform or "",
                                                    f.message, str(f.location or "")))


def test_rules_tolerate_nothing_at_all() -> None:
    from conda2docker.audit import AuditContext

    assert audit(AuditContext()) == []
