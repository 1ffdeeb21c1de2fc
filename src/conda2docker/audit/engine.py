"""Run the rules over a context and return sorted findings."""

from __future__ import annotations

from collections.abc import Sequence

from conda2docker.audit.context import AuditContext
from conda2docker.audit.registry import all_rules
from conda2docker.audit.select import enabled_codes
from conda2docker.model import Finding


def sort_key(finding: Finding) -> tuple[str, str, str, str, str]:
    return (finding.code, finding.subject, finding.platform or "", finding.message,
            str(finding.location or ""))


def audit(
    ctx: AuditContext, *, select: Sequence[str] = (), ignore: Sequence[str] = ()
) -> list[Finding]:
    """Every finding of the enabled rules, sorted by code then subject, without repeats."""
    rules = all_rules()
    codes = enabled_codes(rules, select, ignore)
    findings = {f for r in rules if r.code in codes for f in r.check(ctx, r)}
    return sorted(findings, key=sort_key)
