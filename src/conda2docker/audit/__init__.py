"""The audit: what the conda channels cannot provide for a Linux container, why, and the fix.

Rules live in ``rules/`` (one module per family, registered by code); :func:`audit` runs
them over an :class:`AuditContext`; :func:`render_report` writes the findings;
:func:`plan_inputs` summarises them as :class:`BuildGaps` for the build plan.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from conda2docker.faces import lazy_names

if TYPE_CHECKING:
    from conda2docker.audit.context import DEFAULT_GLIBC, AuditContext, LocalFacts
    from conda2docker.audit.engine import audit
    from conda2docker.audit.gaps import BuildGaps, SourceBuild, plan_inputs
    from conda2docker.audit.registry import Rule, all_rules
    from conda2docker.audit.report import FORMATS, render_report
    from conda2docker.audit.select import enabled_codes, fails, parse_selectors

_HOMES = {
    "AuditContext": "conda2docker.audit.context",
    "BuildGaps": "conda2docker.audit.gaps",
    "DEFAULT_GLIBC": "conda2docker.audit.context",
    "FORMATS": "conda2docker.audit.report",
    "LocalFacts": "conda2docker.audit.context",
    "Rule": "conda2docker.audit.registry",
    "SourceBuild": "conda2docker.audit.gaps",
    "all_rules": "conda2docker.audit.registry",
    "audit": "conda2docker.audit.engine",
    "enabled_codes": "conda2docker.audit.select",
    "fails": "conda2docker.audit.select",
    "parse_selectors": "conda2docker.audit.select",
    "plan_inputs": "conda2docker.audit.gaps",
    "render_report": "conda2docker.audit.report",
}
"""Where each name lives; a module is imported the first time one of its names is used."""

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

__getattr__, __dir__ = lazy_names(__name__, _HOMES)
