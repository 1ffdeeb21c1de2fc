"""The resolve job: ``EnvSpec`` → ``Resolution`` (a lock for every target platform).

The conda part is solved by py-rattler (``resolve.conda``) or by conda-lock proper
(``resolve.condalock``); the pip part by ``resolve.pip`` against a PyPI-compatible index,
consistent with the conda packages already chosen. A lock on disk whose input hash still
matches is reused; ``update`` names packages to re-solve while keeping the rest.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

from conda2docker.choices import DEFAULT_PRIORITY, DEFAULT_SOLVER, ChannelPriority, Solver
from conda2docker.errors import InputError, InputErrors, ResolveError, UserError
from conda2docker.image import RUNTIME_GLIBC
from conda2docker.model import (
    EnvSpec,
    Lock,
    LockedPackage,
    ReaderChange,
    Resolution,
    Unavailable,
)
from conda2docker.names import canonical
from conda2docker.platforms import lock_targets
from conda2docker.resolve.channels import (
    NO_DEFAULTS,
    ChannelRef,
    expand_channel,
    expand_channels,
    unset_credentials,
)
from conda2docker.resolve.virtual import VirtualTarget
from conda2docker.values import frozen

DEFAULT_CHANNELS = ("conda-forge",)
HASH_SCHEME = "conda2docker-input-v1"


@frozen
class ResolveOptions:
    """How to resolve: platforms, channels, mirrors, solver and the lock to reuse."""
    platforms: tuple[str, ...] = ()
    channel_alias: str | None = None
    mirrors: tuple[tuple[str, str], ...] = ()
    extra_channels: tuple[str, ...] = ()
    default_channels: tuple[str, ...] = DEFAULT_CHANNELS
    """Appended after the file's channels unless it lists ``nodefaults``, as conda appends the
    channels of its configuration (Miniforge: conda-forge; Anaconda: defaults)."""
    offline: bool = False
    priority: ChannelPriority = DEFAULT_PRIORITY
    solver: Solver = DEFAULT_SOLVER
    cuda: str | None = None
    glibc: str = RUNTIME_GLIBC
    update: tuple[str, ...] = ()
    existing: Lock | None = None
    existing_path: Path | None = None
    """An earlier lock file, read only when a solve is needed (``existing`` wins when given)."""
    cache_dir: Path | None = None
    keep_going: bool = False
    """Record an unsolvable platform or pip part as a change (C109/P207) and go on with what
    could be solved, instead of raising: the audit wants every finding, not the first error."""


def target_platforms(spec: EnvSpec, options: ResolveOptions) -> tuple[tuple[str, ...], list[ReaderChange]]:
    """The platforms to lock for (:func:`conda2docker.platforms.lock_targets`), and an ``S306``
    change for each of the env's ``platforms:`` left out."""
    platforms, ignored = lock_targets(options.platforms, spec.platforms)
    changes = [
        ReaderChange(
            action="ignored", subject=other, code="S306",
            reason=f"platform {other} is not a container target; locking for Linux only",
        )
        for other in ignored
    ]
    return platforms, changes


def channel_names(spec: EnvSpec, options: ResolveOptions) -> tuple[tuple[str, ...], list[ReaderChange]]:
    """The channels to solve with, in priority order, as ``conda env create`` builds them.

    The file's channels (then ``--channel``), followed by the default channels unless the
    file lists ``nodefaults``; what was appended is reported (C105 with no channel named,
    C107 otherwise).
    """
    names = tuple(dict.fromkeys([*spec.channels, *options.extra_channels]))
    named = tuple(n for n in names if n != NO_DEFAULTS)
    if NO_DEFAULTS in names and named:
        return named, []
    added = tuple(c for c in options.default_channels if c not in named)
    if not named:
        if not added:
            raise ResolveError(
                "no channel to solve with: the environment names none and --default-channels is empty",
                fix="add channels: [conda-forge] to the environment file, or pass --default-channels",
            )
        change = ReaderChange(
            action="added", subject=", ".join(added), code="C105",
            reason=f"the environment names no channel; {', '.join(added)} is used, as conda "
            "uses its configured channels (--default-channels)",
        )
        return added, [change]
    if not added:
        return named, []
    change = ReaderChange(
        action="added", subject=", ".join(added), code="C107",
        reason=f"{', '.join(added)} appended after the environment's channels, as conda appends "
        "its configured channels unless the file lists nodefaults (--default-channels)",
    )
    return (*named, *added), [change]


def check_pip_hashes(spec: EnvSpec, packages: Sequence[LockedPackage]) -> None:
    """Every pip package whose requirement carries ``--hash`` is locked to a file with one
    of those hashes; a lock (reused or made) pinning another file is an error at that line."""
    for requirement in spec.pip:
        if not requirement.hashes or not requirement.name:
            continue
        allowed = {h.split(":", 1)[1] for h in requirement.hashes if h.startswith("sha256:")}
        name = canonical(requirement.name)
        for package in packages:
            if package.manager != "pip" or canonical(package.name) != name:
                continue
            if package.sha256 not in allowed:
                raise ResolveError(
                    f"the lock pins {package.file_name} (sha256 {package.sha256 or 'unknown'}) for "
                    f"{package.platform}, which the --hash of this line does not allow",
                    fix="lock again (`conda2docker lock --update "
                    f"{requirement.name}`), or correct the --hash",
                    location=requirement.location,
                )


def unreadable_default_channel(ref: ChannelRef) -> ReaderChange:
    """The note for an appended default channel that could not be read (the same words
    whether the solve ran now or the lock on disk, which lacks that channel, is reused)."""
    return ReaderChange(
        action="ignored", subject=ref.name, code="C107",
        reason=f"{ref.name} (a default channel, appended after the environment's own) cannot "
        f"be read at {ref.source_url}; left out",
    )


def input_hash(spec: EnvSpec, platform: str, channels: list[ChannelRef], target: VirtualTarget,
               options: ResolveOptions) -> str:
    """A digest of everything that decides the solve for ``platform``."""
    payload = {
        "scheme": HASH_SCHEME,
        "platform": platform,
        "channels": [r.canonical_url for r in channels],
        "priority": options.priority,
        "conda": sorted(d.matchspec for d in spec.conda),
        "pip": sorted(r.raw for r in spec.pip),
        "pip_options": [
            spec.pip_options.index_url, list(spec.pip_options.extra_index_urls),
            list(spec.pip_options.find_links), spec.pip_options.pre,
        ],
        "virtual": target.packages(),
    }
    if spec.pip_options.constraints:  # only when present: earlier locks keep their digest
        payload["pip_constraints"] = sorted(c.constraint_text for c in spec.pip_options.constraints)
    import hashlib  # OpenSSL start-up: only when something is hashed

    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _conda_lock_available() -> bool:
    return any(shutil.which(tool) for tool in ("micromamba", "mamba", "conda"))


def _expand_at_their_lines(spec: EnvSpec, names: Sequence[str], options: ResolveOptions) -> list[ChannelRef]:
    """:func:`expand_channels`, each channel that cannot be recorded (credentials written
    out) reported at its line of the file, all of them at once."""
    mirrors = dict(options.mirrors)
    problems: list[InputError] = []
    for name in names:
        try:
            expand_channel(name, channel_alias=options.channel_alias, mirrors=mirrors)
        except InputError as error:
            problems.append(InputError(error.message, fix=error.fix,
                                       location=spec.channel_location(name) or error.location))
    if problems:
        raise InputErrors(problems)
    return expand_channels(names, channel_alias=options.channel_alias, mirrors=mirrors)


def resolve(spec: EnvSpec, options: ResolveOptions) -> Resolution:
    """Lock ``spec`` for every target platform (or return the lock it already is)."""
    if spec.lock is not None:
        return Resolution(spec=spec, lock=spec.lock, reused=True)
    if not options.keep_going:
        _require_includes(spec)
    platforms, changes = target_platforms(spec, options)
    names, channel_changes = channel_names(spec, options)
    changes += channel_changes
    channels = _expand_at_their_lines(spec, names, options)
    asked = {*spec.channels, *options.extra_channels}
    appended = expand_channels(
        [n for n in names if n not in asked], channel_alias=options.channel_alias,
        mirrors=dict(options.mirrors)) if asked else []
    unread: dict[str, ChannelRef] = {}
    if not channels:
        raise ResolveError("no usable channel", fix="add a channel such as conda-forge to 'channels:'")

    use_conda_lock = options.solver == "conda-lock" or (
        options.solver == "auto" and _conda_lock_available() and not options.channel_alias
        and not options.mirrors
    )

    packages: list[LockedPackage] = []
    unavailable: list[Unavailable] = []
    hashes: dict[str, str] = {}
    all_reused = True
    existing = options.existing
    if existing is None:
        from conda2docker.lockfile import read_reusable_lock

        existing = read_reusable_lock(options.existing_path)
    for platform in platforms:
        target = VirtualTarget(platform=platform, glibc=options.glibc, cuda=options.cuda)
        digest = input_hash(spec, platform, channels, target, options)
        hashes[platform] = digest
        if existing and not options.update and existing.content_hash.get(platform) == digest:
            packages += existing.for_platform(platform)
            if existing.channels:
                unread.update((r.source_url, r) for r in appended
                              if r.canonical_url not in existing.channels)
            continue
        if all_reused:  # about to read the channels: their credentials must be set
            unset_credentials([*channels, *appended])
        all_reused = False
        preferred = tuple(
            p for p in (existing.conda_packages(platform) if existing else ())
            if p.name not in options.update
        )
        try:
            if use_conda_lock:
                from conda2docker.resolve.condalock import solve_with_conda_lock

                result = solve_with_conda_lock(spec, platform, names, target, options)
            else:
                from conda2docker.resolve.conda import CondaSolveRequest, solve_conda

                result = solve_conda(
                    CondaSolveRequest(
                        dependencies=spec.conda, channels=tuple(channels), target=target,
                        priority=options.priority, channel_alias=options.channel_alias,
                        mirrors=options.mirrors, preferred=preferred, offline=options.offline,
                        cache_dir=options.cache_dir,
                        appended=tuple(r.source_url for r in appended),
                    )
                )
        except ResolveError as error:
            if not options.keep_going:
                raise
            unavailable += getattr(error, "unavailable", ())
            changes.append(_failed("C109", f"conda packages for {platform}", error))
            continue
        packages += result.packages
        unavailable += result.unavailable
        dropped = {c.subject for c in result.changes if c.code == "C107" and c.action == "ignored"}
        unread.update((r.source_url, r) for r in appended if r.name in dropped)
        changes += [c for c in result.changes if not (c.code == "C107" and c.action == "ignored")]
        if spec.pip and not result.unavailable:
            try:
                pip_packages, pip_changes = _resolve_pip(spec, platform, result.packages, options)
            except UserError as error:
                if not options.keep_going:
                    raise
                changes.append(_failed("P207", f"pip packages for {platform}", error))
                continue
            packages += pip_packages
            changes += pip_changes

    changes += [unreadable_default_channel(ref) for ref in unread.values()]
    check_pip_hashes(spec, packages)
    lock = Lock(
        packages=tuple(packages),
        platforms=platforms,
        channels=tuple(r.canonical_url for r in channels if r.source_url not in unread),
        content_hash=hashes,
        sources=(spec.source.name,),
        roots=spec.requested_names,
    )
    return Resolution(
        spec=spec, lock=lock, unavailable=tuple(unavailable), changes=tuple(changes),
        reused=all_reused,
    )


def _require_includes(spec: EnvSpec) -> None:
    """A lock of the whole environment needs every ``-r``/``-c`` file the reader could not find."""
    from conda2docker.errors import InputError, Problems

    problems = Problems()
    for change in spec.changes:
        if change.code == "R512":
            what = change.reason.split(";")[0]
            problems.add(InputError(f"{what}; the lock needs the packages it lists",
                                    location=change.location,
                                    fix="create the file or correct the path (relative to the "
                                    "file that names it), or remove the line"))
    problems.raise_all()


def _failed(code: str, what: str, error: UserError) -> ReaderChange:
    """A part that could not be solved, as a change the audit reports (``keep_going``)."""
    return ReaderChange(action="dropped", subject=what, reason=error.message, code=code,
                        detail=f"fix: {error.fix}" if error.fix else "", location=error.location)


def _resolve_pip(
    spec: EnvSpec, platform: str, conda_packages: tuple[LockedPackage, ...], options: ResolveOptions
) -> tuple[list[LockedPackage], list[ReaderChange]]:
    from conda2docker.resolve.pip import PipTarget, resolve_pip
    from conda2docker.resolve.pip.target import is_free_threaded
    from conda2docker.resolve.pypi import IndexClient

    python = next((p for p in conda_packages if p.name == "python"), None)
    if python is None:
        first = spec.pip[0]
        raise ResolveError(
            "the environment has pip dependencies but no python among its conda packages",
            fix="add python (e.g. python=3.11) and pip to 'dependencies:'",
            location=first.location,
        )
    target = PipTarget(platform=platform, python_version=python.version, glibc=options.glibc,
                       free_threaded=is_free_threaded(python.build))
    result = resolve_pip(
        spec.pip, spec.pip_options, target, conda_packages=conda_packages,
        base_dir=spec.source.parent,
        index=IndexClient(
            cache_dir=options.cache_dir / "pypi" if options.cache_dir else None,
            offline=options.offline,
        ),
    )
    return list(result.packages), list(result.changes)


def require_complete(resolution: Resolution) -> Resolution:
    """Raise if some requested packages were missing from every channel."""
    if not resolution.unavailable:
        return resolution
    raise ResolveError(unavailable_message(resolution.unavailable),
                       fix=unavailable_fix(resolution.unavailable),
                       location=resolution.unavailable[0].location)


def unavailable_message(unavailable: tuple[Unavailable, ...]) -> str:
    """What the channels cannot meet, split into missing versions and missing names."""
    versions = [u for u in unavailable if u.available]
    names = [u for u in unavailable if not u.available]
    parts = []
    if versions:
        parts.append(f"{len(versions)} requested version(s) are not in the channels: "
                     + "; ".join(u.describe() for u in versions))
    if names:
        parts.append(f"{len(names)} requested package(s) are in no channel: "
                     + "; ".join(u.describe() for u in names))
    return "; ".join(parts)


def unavailable_fix(unavailable: tuple[Unavailable, ...]) -> str:
    fixes = []
    if any(u.available for u in unavailable):
        fixes.append("pin a version the channels have")
    if any(not u.available for u in unavailable):
        fixes.append("add the channel that provides the missing packages (or a --mirror), or "
                     "remove them")
    return "; ".join(fixes)

__all__ = [
    "ResolveOptions",
    "input_hash",
    "require_complete",
    "resolve",
    "unavailable_fix",
    "unavailable_message",
]
