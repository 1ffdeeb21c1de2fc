"""The audit: what the conda channels cannot provide for a Linux container, why, and the fix.

Rules live in ``rules/`` (one module per family, registered by code); :func:`audit` runs
them over an :class:`AuditContext`; :func:`render_report` writes the findings;
:func:`plan_inputs` summarises them as :class:`BuildGaps` for the build plan.
"""

from conda2docker.audit.context import DEFAULT_GLIBC, AuditContext, LocalFacts
from conda2docker.audit.engine import audit
from conda2docker.audit.gaps import BuildGaps, SourceBuild, plan_inputs
from conda2docker.audit.registry import Rule, all_rules
from conda2docker.audit.report import FORMATS, render_report
from conda2docker.audit.select import enabled_codes, fails, parse_selectors

__all__ = [
    "DEFAULT_GLIBC",
    "FORMATS",
    "AuditContext",
    "BuildGaps",
    "LocalFacts",
    "Rule",
    "SourceBuild",
    "all_rules",
    "audit",
    "enabled_codes",
    "fails",
    "parse_selectors",
    "plan_inputs",
    "render_report",
]
