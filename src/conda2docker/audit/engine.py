"""Run the rules over a context and return sorted findings."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

from conda2docker.audit.context import AuditContext
from conda2docker.audit.registry import all_rules
from conda2docker.audit.select import enabled_codes
from conda2docker.model import Finding
from conda2docker.names import canonical


def sort_key(finding: Finding) -> tuple[str, str, str, str, str, tuple[str, ...]]:
    # the evidence breaks ties, so two findings of one rule about one subject keep one order
    return (finding.code, finding.subject, finding.platform or "", finding.message,
            str(finding.location or ""), finding.evidence)


def audit(
    ctx: AuditContext, *, select: Sequence[str] = (), ignore: Sequence[str] = ()
) -> list[Finding]:
    """Every finding of the enabled rules, sorted by code then subject, without repeats.

    A finding about a package the user did not ask for says which request pulled it in.
    """
    rules = all_rules()
    codes = enabled_codes(rules, select, ignore)
    findings = {f for r in rules if r.code in codes for f in r.check(ctx, r)}
    return sorted(with_chains(findings, ctx), key=sort_key)


SOLVED_VALUE = frozenset({"G402", "G405"})
"""Rules whose subject is a value the lock decides (the CUDA version): the solve's finding
replaces the file's guess instead of standing beside it."""


def enrich(static: Iterable[Finding], solved: Iterable[Finding], *,
           complete: bool = True) -> list[Finding]:
    """The static findings, with what the solve found added (not replacing them).

    A finding both steps make (same rule and subject) is kept once, as the solve wrote
    it (it knows versions and platforms), at the file's line when the static one had it;
    for :data:`SOLVED_VALUE` rules the solve's findings replace the static ones when the solve
    was ``complete`` (a lock that left a pin out says nothing about what the pin asked for).
    """
    solved = list(solved)
    decided = {f.code for f in solved if f.code in SOLVED_VALUE} if complete else set()
    static = [f for f in static if f.code not in decided]
    at_line = {(f.code, f.subject): f.location for f in static if f.location is not None}
    merged: dict[tuple[str, str], list[Finding]] = {}
    for finding in solved:
        location = finding.location
        if (location is None or location.line is None) and (finding.code, finding.subject) in at_line:
            finding = dataclasses.replace(finding, location=at_line[finding.code, finding.subject])
        merged.setdefault((finding.code, finding.subject), []).append(finding)
    for finding in static:
        if (finding.code, finding.subject) not in merged:
            merged[finding.code, finding.subject] = [finding]
    return sorted({f for group in merged.values() for f in group}, key=sort_key)


def with_chains(findings: set[Finding], ctx: AuditContext) -> set[Finding]:
    """``findings``; those about a locked dependency name the requests that pulled it in.

    ``pulled in by napari -> vispy``: the shortest chain from a root (see ``graph --why``).
    """
    requested = {canonical(name) for name in ctx.root_names}
    dependencies = {f for f in findings if _is_locked(ctx, f.subject)
                    and canonical(f.subject) not in requested}
    if not dependencies or ctx.graph is None:
        return findings
    from conda2docker.graph import shortest_chain

    graph = ctx.graph
    explained = set(findings - dependencies)
    for finding in dependencies:
        chains = [shortest_chain(graph, key) for key in graph.find_exact(finding.subject)]
        found = sorted((c for c in chains if c is not None and len(c) > 1), key=lambda c: (len(c), c))
        if found:
            names = " -> ".join(graph.package(key).name for key in found[0][:-1])
            finding = dataclasses.replace(finding, evidence=(*finding.evidence, f"pulled in by {names}"))
        explained.add(finding)
    return explained


def _is_locked(ctx: AuditContext, subject: str) -> bool:
    return subject.lower() in ctx.conda or canonical(subject) in ctx.pip
