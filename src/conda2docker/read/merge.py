"""Duplicate requests for one package: identical or compatible ones merge, conflicts fail."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence

from conda2docker.errors import InputError, SourceLocation
from conda2docker.model import CondaDependency, PipRequirement, ReaderChange

_LITERAL = re.compile(r"[0-9A-Za-z_!+][0-9A-Za-z_.!+]*")


def _where(location: SourceLocation | None) -> str:
    if location is None or location.line is None:
        return ""
    return f" ({location.brief})"


def _merged(
    subject: str,
    group: Sequence[CondaDependency] | Sequence[PipRequirement],
    identical: bool,
    *,
    what: str,
    into: str,
) -> ReaderChange:
    """The change that records several listings of one package merged into one."""
    reason = f"{what} {len(group)} times with the same spec"
    if not identical:
        reason = f"{what} {len(group)} times with compatible specs; merged into {into}"
    return ReaderChange(
        action="merged",
        subject=subject,
        reason=reason,
        detail="; ".join(f"{item.raw.strip()}{_where(item.location)}" for item in group),
        location=group[1].location,
    )


def _conflict(
    subject: str,
    first: str,
    second: str,
    location: SourceLocation | None,
    first_location: SourceLocation | None,
    why: str,
) -> InputError:
    return InputError(
        f"conflicting requirements for {subject}: {first!r}{_where(first_location)} and "
        f"{second!r}{_where(location)} ({why})",
        fix=f"keep one {subject} entry, or write one range that allows both",
        location=location,
    )


def _candidates(specs: Iterable[str]) -> list[str]:
    """Versions worth testing against a conjunction: every literal, and a little above it."""
    found: list[str] = []
    for spec in specs:
        for literal in _LITERAL.findall(spec.replace(".*", "")):
            found += [literal, f"{literal}.1", f"{literal}.0.1"]
    return list(dict.fromkeys(found))


def conda_versions_compatible(versions: Sequence[str]) -> bool:
    """Whether some version satisfies every conda version spec (tested on likely versions)."""
    from rattler import Version, VersionSpec

    specs = [VersionSpec(v, strict=False) for v in versions]
    for text in _candidates(versions):
        try:
            version = Version(text)
        except Exception:  # not every literal is a version (e.g. a bare '!')
            continue
        if all(spec.matches(version) for spec in specs):
            return True
    return False


def merge_conda(
    dependencies: Sequence[CondaDependency],
) -> tuple[list[CondaDependency], list[ReaderChange]]:
    groups: dict[str, list[CondaDependency]] = {}
    for dependency in dependencies:
        groups.setdefault(dependency.name, []).append(dependency)
    merged: list[CondaDependency] = []
    changes: list[ReaderChange] = []
    for name, group in groups.items():
        if len(group) == 1:
            merged.append(group[0])
            continue
        first = group[0]
        channels = {d.channel for d in group if d.channel}
        builds = {d.build for d in group if d.build}
        versions = list(dict.fromkeys(d.version for d in group if d.version))
        for other in group[1:]:
            if len(channels) > 1 and other.channel and other.channel != first.channel:
                raise _conflict(
                    name,
                    first.raw.strip(),
                    other.raw.strip(),
                    other.location,
                    first.location,
                    "different channels",
                )
            if len(builds) > 1 and other.build and other.build != first.build:
                raise _conflict(
                    name,
                    first.raw.strip(),
                    other.raw.strip(),
                    other.location,
                    first.location,
                    "different builds",
                )
        if len(versions) > 1 and not conda_versions_compatible(versions):
            other = next(d for d in group if d.version == versions[1])
            holder = next(d for d in group if d.version == versions[0])
            raise _conflict(
                name,
                holder.raw.strip(),
                other.raw.strip(),
                other.location,
                holder.location,
                "no version satisfies both",
            )
        identical = all(
            (d.version, d.build, d.channel) == (first.version, first.build, first.channel)
            for d in group
        )
        version = ",".join(f"({v})" if "|" in v else v for v in versions)
        if len(versions) > 1:
            from conda2docker.read.condaspec import normalise_version

            version = normalise_version(version, first.raw, first.location)
        result = dataclasses.replace(
            first,
            version=version,
            build=next(iter(builds), None),
            channel=next(iter(channels), None),
        )
        merged.append(result)
        changes.append(_merged(name, group, identical, what="listed", into=repr(result.matchspec)))
    return merged, changes


def _pip_compatible(specifiers: Sequence[str]) -> bool:
    from packaging.specifiers import SpecifierSet
    from packaging.version import InvalidVersion, Version

    combined = SpecifierSet(",".join(s for s in specifiers if s))
    if not str(combined):
        return True
    for text in _candidates(specifiers):
        try:
            version = Version(text)
        except InvalidVersion:
            continue
        if combined.contains(version, prereleases=True):
            return True
    return False


def _source_key(requirement: PipRequirement) -> tuple[object, ...]:
    return (requirement.kind, requirement.url, requirement.ref, requirement.path)


def merge_pip(
    requirements: Sequence[PipRequirement],
) -> tuple[list[PipRequirement], list[ReaderChange]]:
    groups: dict[tuple[object, ...], list[PipRequirement]] = {}
    for requirement in requirements:
        identity: tuple[object, ...] = (
            ("name", requirement.name, requirement.marker)
            if requirement.name
            else ("source", *_source_key(requirement), requirement.marker)
        )
        groups.setdefault(identity, []).append(requirement)
    merged: list[PipRequirement] = []
    changes: list[ReaderChange] = []
    for group in groups.values():
        if len(group) == 1:
            merged.append(group[0])
            continue
        first = group[0]
        subject = first.name or first.raw.strip()
        direct = [r for r in group if r.kind != "registry"]
        sources = {_source_key(r) for r in direct}
        if len(sources) > 1:
            a, b = direct[0], next(r for r in direct if _source_key(r) != _source_key(direct[0]))
            raise _conflict(
                subject, a.raw.strip(), b.raw.strip(), b.location, a.location, "different sources"
            )
        specifiers = [r.specifier for r in group if r.specifier]
        if direct and specifiers:
            holder = next(r for r in group if r.specifier)
            raise _conflict(
                subject,
                direct[0].raw.strip(),
                holder.raw.strip(),
                holder.location,
                direct[0].location,
                "a version range and a direct source",
            )
        if not _pip_compatible(specifiers):
            raise _conflict(
                subject,
                group[0].raw.strip(),
                group[-1].raw.strip(),
                group[-1].location,
                group[0].location,
                "no version satisfies both",
            )
        from packaging.specifiers import SpecifierSet  # only for a name listed twice

        base = direct[0] if direct else first
        result = dataclasses.replace(
            base,
            specifier=str(SpecifierSet(",".join(specifiers))) if specifiers else "",
            extras=tuple(sorted({e for r in group for e in r.extras})),
            editable=any(r.editable for r in group),
        )
        identical = all(
            (r.specifier, r.extras, _source_key(r))
            == (first.specifier, first.extras, _source_key(first))
            for r in group
        )
        merged.append(result)
        changes.append(_merged(subject, group, identical, what="pip requirement listed",
                               into=f"{subject}{result.specifier}"))
    return merged, changes
