"""C1xx: where conda packages come from (or cannot)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from conda2docker.audit.context import AuditContext
from conda2docker.audit.knowledge.channels import channel_name, is_defaults, is_standard
from conda2docker.audit.registry import Rule, rule
from conda2docker.audit.rules._common import from_changes, listing
from conda2docker.errors import SourceLocation
from conda2docker.model import Finding, Severity


def channel_at(ctx: AuditContext, channel: str) -> SourceLocation | None:
    """Where the file lists ``channel`` (matched by name, so URLs and names agree)."""
    if ctx.spec is None:
        return None
    wanted = channel_name(channel)
    return next((at for name, at in ctx.spec.channel_locations if channel_name(name) == wanted),
                None)


def _channel_usage(ctx: AuditContext) -> Counter[str]:
    """Packages per channel: from the lock when there is one, else from the spec."""
    if ctx.conda:
        return Counter(channel_name(p.channel or "") for p in ctx.conda.values())
    usage: Counter[str] = Counter({channel_name(c): 0 for c in ctx.channels})
    if ctx.spec:
        usage.update(channel_name(d.channel) for d in ctx.spec.conda if d.channel)
    return usage


def missing_from_channels(ctx: AuditContext, rule: Rule) -> Iterator[Finding]:
    """A requested conda package that no configured channel has for the target platform
    cannot be installed; the lock was solved without it, so the image would lack it."""
    for missing in ctx.unavailable:
        if missing.available:
            continue  # the name is there, only the version is not: C108
        yield rule.finding(
            missing.name,
            evidence=(f"requested: {missing.spec}", f"searched: {', '.join(missing.channels)}"),
            location=missing.location,
            platform=missing.platform,
        )


rule(
    "C101",
    "missing-from-channels",
    Severity.ERROR,
    message="{subject} is not available for {platform} in any configured channel",
    fix="add a channel that builds {subject} for {platform}, or remove it",
    example="""
channels: [conda-forge]
dependencies:
  - python=3.11
  - pywin32        # Windows only: no linux-64 build in any channel
""",
)(missing_from_channels)


def personal_channel(ctx: AuditContext, rule: Rule) -> Iterator[Finding]:
    """Personal channels and ``label/`` channels (development builds) are unreviewed,
    can vanish or be overwritten, and often build against another ABI than conda-forge;
    packages only they provide make the image hard to rebuild."""
    locations: dict[str, SourceLocation] = {}
    names: dict[str, list[str]] = {}
    if ctx.conda:
        for package in ctx.conda.values():
            names.setdefault(channel_name(package.channel or ""), []).append(
                f"{package.name} {package.version}"
            )
    elif ctx.spec:
        for channel in ctx.channels:
            names.setdefault(channel_name(channel), [])
        for dep in ctx.spec.conda:
            if dep.channel:
                names.setdefault(channel_name(dep.channel), []).append(dep.name)
                if dep.location and channel_name(dep.channel) not in locations:
                    locations[channel_name(dep.channel)] = dep.location
    for channel, packages in sorted(names.items()):
        if not channel or is_standard(channel):
            continue
        what = f"{len(packages)} package(s) come from it" if packages else "listed in channels"
        yield rule.finding(
            channel,
            evidence=listing(sorted(packages)),
            location=channel_at(ctx, channel) or locations.get(channel),
            what=what,
        )


rule(
    "C102",
    "personal-or-label-channel",
    Severity.WARNING,
    message="{subject} is a personal or label channel ({what})",
    fix="prefer a conda-forge or bioconda build; if you must keep {subject}, pin the "
    "packages from it (channel::name=version=build) and mirror the channel",
    example="""
channels: [sleap-deps/label/dev, conda-forge]
dependencies:
  - sleap-deps/label/dev::tensorflow=2.9.2
""",
)(personal_channel)


def mixed_channels(ctx: AuditContext, rule: Rule) -> Iterator[Finding]:
    """``defaults`` and ``conda-forge`` build against different library versions; mixing
    them invites ABI breaks at import time, and the defaults part carries Anaconda's
    licence terms."""
    usage = _channel_usage(ctx)
    defaults = sorted(c for c in usage if is_defaults(c))
    if "conda-forge" in usage and defaults:
        evidence = [f"{c}: {usage[c]} package(s)" if ctx.conda else c
                    for c in ["conda-forge", *defaults]]
        yield rule.finding(f"{' + '.join(defaults)} and conda-forge", evidence=evidence,
                           location=channel_at(ctx, defaults[0]) or channel_at(ctx, "defaults")
                           or channel_at(ctx, "conda-forge"))


rule(
    "C103",
    "mixed-defaults-conda-forge",
    Severity.WARNING,
    message="packages come from both {subject}",
    fix="use conda-forge alone (channels: [conda-forge, nodefaults]); conda-forge builds "
    "the same packages",
    example="""
channels: [conda-forge, defaults]
dependencies: [python=3.11, numpy]
""",
)(mixed_channels)


def anaconda_licence(ctx: AuditContext, rule: Rule) -> Iterator[Finding]:
    """Anaconda's terms of service cover the ``defaults`` channels (``pkgs/main``,
    ``pkgs/r``, ``anaconda``); using them in a company or large institution's images
    requires a commercial licence."""
    usage = _channel_usage(ctx)
    for channel in sorted(c for c in usage if is_defaults(c)):
        evidence = (f"{usage[channel]} package(s) from it",) if ctx.conda else ()
        yield rule.finding(channel, evidence=evidence,
                           location=channel_at(ctx, channel) or channel_at(ctx, "defaults"))


rule(
    "C104",
    "anaconda-licence",
    Severity.INFO,
    message="{subject} is an Anaconda channel: organisations of 200+ people need a paid licence",
    fix="check your organisation's Anaconda licence, or switch to conda-forge "
    "(channels: [conda-forge, nodefaults])",
    example="""
channels: [defaults]
dependencies: [python=3.11]
""",
)(anaconda_licence)


def no_channels(ctx: AuditContext, rule: Rule) -> Iterator[Finding]:
    """Without ``channels:`` conda uses whatever the installing machine is configured
    with; the image needs one answer, so the ``--default-channels`` are used (conda-forge,
    as Miniforge ships, unless told ``defaults`` or others)."""
    yield from from_changes(ctx, rule)


rule(
    "C105",
    "no-channels",
    Severity.INFO,
    message="no channel is named; {subject} is used",
    fix="add channels: [conda-forge, nodefaults] (or your channels) to the environment file",
    example="""
name: sleap
dependencies: [python=3.6, attrs]
""",
)(no_channels)


def default_channels_added(ctx: AuditContext, rule: Rule) -> Iterator[Finding]:
    """``conda env create`` appends the channels of the installing machine's configuration
    (Miniforge: conda-forge; Anaconda: defaults) unless the file lists ``nodefaults``; the
    image needs one answer, so ``--default-channels`` (conda-forge unless told otherwise)
    is appended with the lowest priority, and this says so."""
    yield from from_changes(ctx, rule)


rule(
    "C107",
    "default-channels-added",
    Severity.INFO,
    message="{subject} appended after the environment's channels",
    fix="list nodefaults in channels: to solve with the file's channels only, or choose the "
    "appended ones with --default-channels (defaults for Anaconda users)",
    example="""
channels: [nvidia]
dependencies: [python=3.11, cuda-toolkit]
""",
)(default_channels_added)


def unreadable_channel(ctx: AuditContext, rule: Rule) -> Iterator[Finding]:
    """A channel that does not exist (any more) or cannot be reached is left out of the
    solve instead of failing it, so every other package can still be checked; the packages
    only that channel would have provided are reported as missing (C101)."""
    yield from from_changes(ctx, rule)


rule(
    "C106",
    "unreadable-channel",
    Severity.ERROR,
    message="channel {subject} could not be read; what only it provides is missing",
    fix="check the channel name and the network, or point --channel-alias/--mirror at a copy",
    example="""
channels: [rusty1s, conda-forge]   # a personal channel that no longer exists
dependencies: [pytorch-scatter]
""",
)(unreadable_channel)


def version_not_in_channels(ctx: AuditContext, rule: Rule) -> Iterator[Finding]:
    """The channels have the package but not the version asked for (old releases get
    removed or were never built for Linux). The solve leaves the request out, and whatever
    needed it conflicts next: the pin is the cause, not the packages the solver names."""
    for missing in ctx.unavailable:
        if not missing.available:
            continue
        requested = missing.spec[len(missing.name):].strip(" =") if missing.spec.startswith(
            missing.name) else missing.spec
        yield rule.finding(
            missing.name,
            evidence=(f"requested: {missing.spec}", f"searched: {', '.join(missing.channels)}",
                      f"nearest versions: {', '.join(missing.available)}"),
            location=missing.location,
            platform=missing.platform,
            requested=requested or missing.spec,
            nearest=", ".join(missing.available),
        )


rule(
    "C108",
    "version-not-in-channels",
    Severity.ERROR,
    message="{subject} {requested} is not in the channels for {platform}; they have {nearest}",
    fix="pin a version the channels have (nearest: {nearest}), or add the channel that "
    "publishes {subject} {requested}",
    example="""
channels: [conda-forge]
dependencies:
  - python=3.6       # conda-forge has no Python 3.6 for linux-64 any more
""",
)(version_not_in_channels)


def unsolvable(ctx: AuditContext, rule: Rule) -> Iterator[Finding]:
    """When no environment satisfies every request, nothing can be built; the audit still
    reports what it found in the file, and this finding names the cause the solver gave
    (a version the channels lack comes first: C108)."""
    for change in ctx.changes_with(rule.code):
        yield rule.finding(change.subject, evidence=(), location=change.location,
                           reason=change.reason,
                           detail=change.detail.removeprefix("fix: ") or "relax the pins named above")


rule(
    "C109",
    "unsolvable",
    Severity.ERROR,
    message="{subject} cannot be locked: {reason}",
    fix="{detail}",
    example="""
channels: [conda-forge]
dependencies:
  - python=3.11
  - numpy<1.20       # no numpy that old is built for Python 3.11
""",
)(unsolvable)
