"""Small helpers the rule families share."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from conda2docker.audit.context import AuditContext
from conda2docker.audit.registry import Rule
from conda2docker.model import Finding, PipRequirement, ReaderChange

EVIDENCE_LIMIT = 10


def change_evidence(change: ReaderChange) -> tuple[str, ...]:
    lines = [f"{change.action}: {change.reason}"]
    if change.detail:
        lines.append(change.detail)
    return tuple(lines)


def from_changes(ctx: AuditContext, rule: Rule) -> Iterator[Finding]:
    """One finding per reader/resolver change recorded under this rule's code."""
    for change in ctx.changes_with(rule.code):
        yield rule.finding(
            change.subject,
            evidence=change_evidence(change),
            location=change.location,
            reason=change.reason,
            detail=change.detail or change.reason,
        )


def listing(items: Iterable[str], limit: int = EVIDENCE_LIMIT) -> tuple[str, ...]:
    """At most ``limit`` items, then ``… and N more``."""
    items = list(items)
    shown = items[:limit]
    if len(items) > limit:
        shown.append(f"… and {len(items) - limit} more")
    return tuple(shown)


def requirement_label(requirement: PipRequirement) -> str:
    """How to name a pip requirement in a finding: its name, else what the user wrote."""
    if requirement.name:
        return requirement.name
    if requirement.path is not None:
        return requirement.path.name or str(requirement.path)
    return requirement.raw


def shown_path(path: Path, ctx: AuditContext) -> str:
    """A local path relative to the environment file's directory when it is inside it."""
    if ctx.spec is not None:
        for base, target in ((ctx.spec.source.parent, path),
                             (ctx.spec.source.parent.absolute(), path.absolute())):
            try:
                return target.relative_to(base).as_posix() or "."
            except ValueError:
                continue
    return path.as_posix()
