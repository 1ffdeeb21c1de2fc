"""The rule registry: every rule is a code, a severity, a message, its docs and a check.

A check is a pure function ``(ctx, rule) -> Iterable[Finding]``; it builds findings with
:meth:`Rule.finding` so message and fix come from the templates documented next to it.
Rules register with :func:`rule` when their family module (``rules/*.py``) is imported.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from conda2docker.credentials import redact
from conda2docker.errors import SourceLocation
from conda2docker.model import Finding, Severity
from conda2docker.values import frozen

if TYPE_CHECKING:
    from conda2docker.audit.context import AuditContext

Check = Callable[["AuditContext", "Rule"], Iterable[Finding]]

_CODE = re.compile(r"^[A-Z][1-9]\d\d$")
_REGISTRY: dict[str, Rule] = {}


@frozen
class Rule:
    """One audit rule and its documentation (rendered into docs/rules.md)."""

    code: str
    name: str
    severity: Severity
    message: str
    """One-line template; ``{subject}`` and the check's named values are substituted."""
    fix: str
    """Template for the fix, same substitutions as ``message``."""
    why: str
    example: str
    check: Check

    def finding(
        self,
        subject: str,
        *,
        evidence: Iterable[str] = (),
        location: SourceLocation | None = None,
        platform: str | None = None,
        **values: object,
    ) -> Finding:
        """A finding of this rule, with message and fix filled from the templates; any URL's
        ``user:password@`` is cut out (findings reach reports and generated files)."""
        subject = redact(subject)
        fields: Mapping[str, object] = {
            "subject": subject, "platform": platform or "",
            **{k: redact(v) if isinstance(v, str) else v for k, v in values.items()},
        }
        return Finding(
            code=self.code,
            severity=self.severity,
            message=self.message.format_map(fields),
            subject=subject,
            fix=self.fix.format_map(fields),
            evidence=tuple(redact(e) for e in evidence),
            platform=platform,
            location=location,
        )


def rule(
    code: str, name: str, severity: Severity, *, message: str, fix: str, example: str
) -> Callable[[Check], Check]:
    """Register a check as rule ``code``: ``rule(...)(check)``; its docstring is the rule's "why".

    The rule families call it after each check's body rather than as a decorator, so that
    mutation testing (which leaves decorated functions alone) reaches the checks' conditions.
    """

    def register(check: Check) -> Check:
        if not _CODE.match(code):
            raise ValueError(f"rule code {code!r} must look like C101")
        if code in _REGISTRY:
            raise ValueError(f"rule code {code} registered twice")
        why = " ".join((check.__doc__ or "").split())
        if not why:
            raise ValueError(f"rule {code} needs a docstring saying why it matters")
        _REGISTRY[code] = Rule(code, name, severity, message, fix, why, example.strip("\n"), check)
        return check

    return register


def all_rules() -> tuple[Rule, ...]:
    """Every registered rule, sorted by code."""
    import conda2docker.audit.rules  # noqa: F401  (importing registers the families)

    return tuple(_REGISTRY[code] for code in sorted(_REGISTRY))


def get_rule(code: str) -> Rule:
    all_rules()
    return _REGISTRY[code]
