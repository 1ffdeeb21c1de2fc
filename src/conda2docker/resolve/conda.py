"""The embedded conda solver: py-rattler against the channels, for one target platform."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

from conda2docker.cachedir import cache_root
from conda2docker.choices import DEFAULT_PRIORITY, ChannelPriority
from conda2docker.credentials import redact
from conda2docker.errors import InputError, ResolveError
from conda2docker.model import CondaDependency, LockedPackage, ReaderChange, Unavailable
from conda2docker.resolve.channels import ChannelRef, canonical_url, expand_channel
from conda2docker.resolve.virtual import VirtualTarget
from conda2docker.values import frozen


@frozen
class CondaSolveRequest:
    """What one conda solve is given: the specs, channels and target."""
    dependencies: tuple[CondaDependency, ...]
    channels: tuple[ChannelRef, ...]
    target: VirtualTarget
    priority: ChannelPriority = DEFAULT_PRIORITY
    channel_alias: str | None = None
    mirrors: tuple[tuple[str, str], ...] = ()
    preferred: tuple[LockedPackage, ...] = ()
    """Packages of an earlier lock to keep where possible (``--update`` re-solves the rest)."""
    offline: bool = False
    cache_dir: Path | None = None
    appended: tuple[str, ...] = ()
    """Source URLs of default channels appended after the environment's own: one that cannot
    be read is left out with a note (C107), not an error, as the file did not ask for it."""


@frozen
class CondaSolveResult:
    """What one conda solve gives: the packages, the specs it had to leave out, the changes made."""
    packages: tuple[LockedPackage, ...]
    unavailable: tuple[Unavailable, ...]
    changes: tuple[ReaderChange, ...]


def default_cache_dir() -> Path:
    """The solver's repodata cache (``rattler`` below :func:`cache_root`)."""
    return cache_root() / "rattler"


_SHARED_GATEWAYS: ContextVar[dict[tuple[Path, bool], Any] | None] = ContextVar("shared_gateways", default=None)


@contextmanager
def shared_gateways() -> Iterator[None]:
    """Within this block, solves with the same cache directory and ``--offline`` share one
    gateway, so each channel's repodata is read and parsed once (``convert`` of many
    environments). Outside it, every solve reads the channels afresh."""
    token = _SHARED_GATEWAYS.set({})
    try:
        yield
    finally:
        _SHARED_GATEWAYS.reset(token)


_LAST_GATEWAY: list[Any] = []
"""The gateway of the last solve outside :func:`shared_gateways`, kept until the next one: freeing
the repodata it read costs 6-10 ms of CPU for an 800-package environment (py-rattler frees it
when the gateway goes), which a command leaving with ``os._exit`` never pays."""


def _gateway(request: CondaSolveRequest, *, revalidate: bool = True) -> Any:
    """The gateway for ``request``'s cache; ``revalidate=False`` fetches every index afresh
    instead of asking the server whether the cached copy still holds (see
    :func:`_revalidation_refused`), and takes the cached gateway's place in a shared block."""
    from rattler import Gateway, SourceConfig

    cache = request.cache_dir or default_cache_dir()
    shared = _SHARED_GATEWAYS.get()
    key = (cache, request.offline)
    if shared is not None and key in shared and revalidate:
        return shared[key]
    if request.offline:
        config = SourceConfig(cache_action="force-cache-only")
    else:
        config = SourceConfig(cache_action="cache-or-fetch" if revalidate else "no-cache")
    gateway = Gateway(cache_dir=cache, default_config=config)
    if shared is not None:
        shared[key] = gateway
    else:
        _LAST_GATEWAY[:] = [gateway]
    return gateway


def _revalidation_refused(exc: Exception) -> bool:
    """Whether py-rattler failed on a ``304 Not Modified`` that carries none of the cached
    copy's validators. Python's ``http.server`` (``python -m http.server``, the usual way to
    serve a local channel) answers so once a cached shard index is stale, and py-rattler
    0.28 then treats the 304 as a new response; fetching afresh succeeds."""
    return "304 Not Modified" in str(exc)


def _dependency_channel(dep: CondaDependency, request: CondaSolveRequest) -> ChannelRef | None:
    if not dep.channel:
        return None
    return expand_channel(
        dep.channel, channel_alias=request.channel_alias, mirrors=dict(request.mirrors)
    )[0]


def _match_spec(dep: CondaDependency, channel: ChannelRef | None) -> Any:
    from rattler import MatchSpec
    from rattler.exceptions import InvalidMatchSpecError

    text = replace(dep, channel=None).matchspec
    if channel is not None:
        text = f"{channel.source_url}::{text}"
    try:
        return MatchSpec(text, strict=False)
    except InvalidMatchSpecError as exc:
        raise InputError(
            f"invalid conda spec {dep.raw or dep.matchspec!r}: {str(exc).splitlines()[0]}",
            fix="write it as NAME, NAME=VERSION or NAME=VERSION=BUILD",
            location=dep.location,
        ) from exc


def _to_locked(record: Any, platform: str, channels: Sequence[ChannelRef]) -> LockedPackage:
    dependencies: dict[str, str] = {}
    for spec in record.depends:
        name, _, constraint = spec.strip().partition(" ")
        constraint = constraint.strip()
        known = dependencies.get(name)
        if not known:
            dependencies[name] = constraint
        elif constraint:
            dependencies[name] = f"{known},{constraint}"
    return LockedPackage(
        name=record.name.normalized,
        version=str(record.version),
        manager="conda",
        platform=platform,
        url=canonical_url(record.url, channels),
        md5=record.md5.hex() if isinstance(record.md5, bytes) else record.md5,
        sha256=record.sha256.hex() if isinstance(record.sha256, bytes) else record.sha256,
        build=str(record.build),
        dependencies=dependencies,
        size=record.size,
    )


def _availability_spec(dep: CondaDependency) -> str:
    """The dependency without channel, and without an exact (exported) build string, which
    the solve relaxes when it is not published (R503) rather than calling the package missing."""
    build = dep.build if dep.build and not _exact_build(dep) else None
    return replace(dep, channel=None, build=build).matchspec


async def _available(
    gateway: Any, sources: Sequence[Any], platform: str, deps: Sequence[CondaDependency]
) -> tuple[dict[str, list[Any]], set[str]]:
    """``(versions of each name with any record, names with a record matching the request)``."""
    from rattler import MatchSpec

    if not deps or not sources:
        return {}, set()
    names = sorted({d.name for d in deps})
    by_name = await gateway.query(
        sources, [platform, "noarch"], [MatchSpec(n) for n in names], recursive=False
    )
    records: dict[str, list[Any]] = {}
    for per_channel in by_name:
        for record in per_channel:
            records.setdefault(record.name.normalized, []).append(record)
    matching: set[str] = set()
    for dep in deps:
        spec = MatchSpec(_availability_spec(dep), strict=False)
        if any(spec.matches(record) for record in records.get(dep.name, ())):
            matching.add(dep.name)
    return {name: [r.version for r in found] for name, found in records.items()}, matching


async def _probe(gateway: Any, ref: ChannelRef, platform: str) -> Exception | None:
    """The gateway's error reading ``ref``'s repodata for ``platform``, or None."""
    from rattler import Channel, MatchSpec
    from rattler.exceptions import GatewayError

    try:
        await gateway.query([Channel(ref.source_url)], [platform, "noarch"],
                            [MatchSpec("python")], recursive=False)
    except GatewayError as exc:
        return cast(Exception, exc)
    return None


async def _readable_channels(
    gateway: Any, refs: Sequence[ChannelRef], platform: str, offline: bool,
    appended: Sequence[str], *, afresh: Callable[[Exception], Any],
) -> tuple[list[ChannelRef], list[ReaderChange]]:
    """Drop channels whose repodata cannot be read (each with a C106 change); fail only
    when none is left. A channel whose probe fails is probed once more with the gateway
    ``afresh`` gives for that error (None: the error stands)."""
    readable: list[ChannelRef] = []
    changes: list[ReaderChange] = []
    for ref in refs:
        exc = await _probe(gateway, ref, platform)
        if exc is not None and (fresh := afresh(exc)) is not None:
            gateway = fresh
            exc = await _probe(gateway, ref, platform)
        if exc is not None:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if ref.source_url in appended:
                changes.append(ReaderChange(
                    action="ignored", subject=ref.name, code="C107",
                    reason=redact(f"cannot read {ref.source_url}: {first}"),
                ))
                continue
            changes.append(ReaderChange(
                action="ignored", subject=ref.name, code="C106",
                reason=redact(f"cannot read {ref.source_url}: {first}"),
            ))
            continue
        readable.append(ref)
    if not readable:
        raise _gateway_error(RuntimeError(changes[0].reason if changes else "no channel"), refs, offline)
    return readable, changes


def _source_channels(request: CondaSolveRequest) -> list[ChannelRef]:
    refs = list(request.channels)
    for dep in request.dependencies:
        ref = _dependency_channel(dep, request)
        if ref is not None and all(r.source_url != ref.source_url for r in refs):
            refs.append(ref)
    return refs


def _gateway_error(exc: Exception, refs: Sequence[ChannelRef], offline: bool) -> ResolveError:
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    channels = ", ".join(redact(r.source_url) for r in refs)
    fix = (
        "run once without --offline to fill the cache, or point --channel-alias/--mirror at a local copy"
        if offline
        else "check the network, or use --channel-alias/--mirror NAME=URL to read from a mirror or a local channel"
    )
    return ResolveError(f"cannot read channel repodata from {channels}: {first}", fix=fix)


async def _solve_async(request: CondaSolveRequest) -> CondaSolveResult:
    from rattler import Channel
    from rattler import ChannelPriority as RattlerPriority
    from rattler.exceptions import GatewayError, SolverError

    gateway = _gateway(request)
    platform = request.target.platform
    refs = _source_channels(request)
    channel_changes: list[ReaderChange] = []
    sources = [Channel(ref.source_url) for ref in refs]

    priority = {
        "strict": RattlerPriority.Strict,
        "flexible": RattlerPriority.Flexible,
        "disabled": RattlerPriority.Disabled,
    }[request.priority]

    def afresh(exc: Exception) -> Any:
        """The gateway to ask again after ``exc``, which every later read then uses: one that
        fetches afresh after a refused revalidation (never offline: that never revalidates),
        else None."""
        nonlocal gateway
        if request.offline or not _revalidation_refused(exc):
            return None
        gateway = _gateway(request, revalidate=False)
        return gateway

    async def attempt(deps: Sequence[CondaDependency]) -> list[Any]:
        specs = [_match_spec(d, _dependency_channel(d, request)) for d in deps]

        async def solve() -> list[Any]:
            locked = await _preferred_records(request, gateway, sources)
            return list(await _solve_call(sources, specs, platform, request, gateway, priority, locked))

        try:
            return await solve()
        except GatewayError as exc:
            if afresh(exc) is None:
                raise
        return await solve()

    unavailable: list[Unavailable] = []
    try:
        # A solve that succeeds has found a record for every spec: nothing is missing, so the
        # per-name availability check (a query and a match per record) runs only on failure.
        # Likewise it has read every channel: which channels cannot be read (each left out
        # with a C106/C107 change) is asked only when the channels fail it.
        try:
            records = await attempt(request.dependencies)
        except GatewayError:
            refs, channel_changes = await _readable_channels(gateway, refs, platform,
                                                             request.offline, request.appended,
                                                             afresh=afresh)
            sources = [Channel(ref.source_url) for ref in refs]
            records = await attempt(request.dependencies)
    except SolverError:
        records = None
    except GatewayError as exc:
        raise _gateway_error(exc, refs, request.offline) from exc
    changes: list[ReaderChange] = list(channel_changes)
    if records is None:
        solvable = await _split_available(request, gateway, refs, sources, unavailable)
        records = await _solve_relaxing_builds(attempt, solvable, gateway, sources, platform,
                                               changes, refs, request.offline, unavailable)

    packages = sorted(
        (_to_locked(r, platform, refs) for r in records), key=lambda p: p.name
    )
    return CondaSolveResult(tuple(packages), tuple(unavailable), tuple(changes))


async def _split_available(request: CondaSolveRequest, gateway: Any, refs: Sequence[ChannelRef],
                           sources: Sequence[Any], unavailable: list[Unavailable]) -> list[CondaDependency]:
    """The dependencies some channel has a matching record for; the others are added to
    ``unavailable`` (with the channels searched)."""
    from rattler import Channel
    from rattler.exceptions import GatewayError

    platform = request.target.platform
    solvable: list[CondaDependency] = []
    try:
        by_channel: dict[str | None, list[CondaDependency]] = {}
        for dep in request.dependencies:
            by_channel.setdefault(dep.channel, []).append(dep)
        for deps in by_channel.values():
            ref = _dependency_channel(deps[0], request)
            if ref is not None and all(r.source_url != ref.source_url for r in refs):
                query_sources = []
            else:
                query_sources = [Channel(ref.source_url)] if ref else list(sources)
            present, matching = await _available(gateway, query_sources, platform, deps)
            for dep in deps:
                if dep.name in matching or dep.name.startswith("__"):
                    solvable.append(dep)
                    continue
                names = (ref.name,) if ref else tuple(r.name for r in refs)
                spec = (dep.raw or dep.matchspec).strip()
                nearest = nearest_versions(present.get(dep.name, []), dep.version)
                unavailable.append(Unavailable(dep.name, platform, spec, names, dep.location,
                                               nearest))
    except GatewayError as exc:
        raise _gateway_error(exc, refs, request.offline) from exc
    return solvable


async def _solve_relaxing_builds(
    attempt: Any, solvable: list[CondaDependency], gateway: Any, sources: Sequence[Any],
    platform: str, changes: list[ReaderChange], refs: Sequence[ChannelRef], offline: bool,
    unavailable: Sequence[Unavailable] = (),
) -> list[Any]:
    """Solve the available dependencies; when that fails, drop exported build strings that
    are not published for ``platform`` (then every exact build) and say so (R503)."""
    from rattler.exceptions import GatewayError, SolverError

    try:
        try:
            return list(await attempt(solvable))
        except SolverError as first_error:
            unpublished = await _unpublished_builds(gateway, sources, platform, solvable)
            relaxed, relax_changes = _drop_builds(solvable, platform, unpublished)
            if not relax_changes:
                raise _explain(first_error, solvable, platform, unavailable) from first_error
            try:
                records = list(await attempt(relaxed))
            except SolverError as second_error:
                relaxed, more = _drop_builds(relaxed, platform, None)
                if not more:
                    raise _explain(second_error, relaxed, platform, unavailable) from second_error
                try:
                    records = list(await attempt(relaxed))
                except SolverError as third_error:
                    raise _explain(third_error, relaxed, platform, unavailable) from third_error
                relax_changes += more
            changes.extend(relax_changes)
            return records
    except GatewayError as exc:
        raise _gateway_error(exc, refs, offline) from exc


async def _solve_call(
    sources: Sequence[Any],
    specs: Sequence[Any],
    platform: str,
    request: CondaSolveRequest,
    gateway: Any,
    priority: Any,
    locked: Sequence[Any],
) -> list[Any]:
    import rattler

    return list(
        await rattler.solve(
            sources=sources,
            specs=specs,
            gateway=gateway,
            platforms=cast(Any, [platform, "noarch"]),
            virtual_packages=request.target.rattler_packages(),
            channel_priority=priority,
            locked_packages=list(locked) or None,
            timestamp_policy="allow-missing",
        )
    )


async def _preferred_records(request: CondaSolveRequest, gateway: Any, sources: Sequence[Any]) -> list[Any]:
    """Repodata records of the earlier lock's packages, so the solver keeps them if it can."""
    from rattler import MatchSpec

    if not request.preferred:
        return []
    wanted = {(p.name, p.version, p.build) for p in request.preferred}
    specs = [MatchSpec(f"{p.name} =={p.version}") for p in request.preferred]
    result = await gateway.query(sources, [request.target.platform, "noarch"], specs, recursive=False)
    return [
        record
        for per_channel in result
        for record in per_channel
        if (record.name.normalized, str(record.version), record.build) in wanted
    ]


def _exact_build(dep: CondaDependency) -> bool:
    return bool(dep.build) and not any(ch in (dep.build or "") for ch in "*?")


async def _unpublished_builds(
    gateway: Any, sources: Sequence[Any], platform: str, deps: Sequence[CondaDependency]
) -> set[str]:
    """Names whose exact ``name=version=build`` pin has no record for ``platform``."""
    from rattler import MatchSpec

    exact = [d for d in deps if _exact_build(d)]
    if not exact:
        return set()
    specs = [MatchSpec(replace(d, channel=None).matchspec, strict=False) for d in exact]
    result = await gateway.query(sources, [platform, "noarch"], specs, recursive=False)
    found = {(r.name.normalized, str(r.build)) for per_channel in result for r in per_channel}
    return {d.name for d in exact if (d.name, d.build) not in found}


def _drop_builds(
    deps: Sequence[CondaDependency], platform: str, only: set[str] | None
) -> tuple[list[CondaDependency], list[ReaderChange]]:
    """Exports pin the build strings of the machine they came from: keep the version, drop the
    build — for ``only`` the builds not published for ``platform``, or (None) every exact build."""
    relaxed: list[CondaDependency] = []
    changes: list[ReaderChange] = []
    for dep in deps:
        if _exact_build(dep) and (only is None or dep.name in only):
            relaxed.append(replace(dep, build=None))
            why = (f"build '{dep.build}' is not published for {platform}" if only is not None
                   else f"build '{dep.build}' conflicts with the rest of the environment on {platform}")
            changes.append(
                ReaderChange(
                    action="relaxed", subject=dep.name, code="R503", detail=dep.raw,
                    reason=f"{why}; kept version {dep.version or '*'} and let the solver pick the build",
                    location=dep.location,
                )
            )
        else:
            relaxed.append(dep)
    return relaxed, changes


_NAME_IN_ERROR = re.compile(r"(?:^|[\s├└─│])([A-Za-z0-9_][A-Za-z0-9_.\-]*)\s+(?:[<>=!~*]|\d|cannot|would)")
_VERSION_START = re.compile(r"\d+(?:\.\d+)*")
NEAREST = 4


def nearest_versions(versions: Sequence[Any], requested: str) -> tuple[str, ...]:
    """Up to four versions around ``requested`` (two below, two above), ascending.

    ``versions`` are rattler ``Version`` values (or strings); ``requested`` a conda version
    spec such as ``3.6``, ``>=1.2,<2`` or ``1.7.*``: its first number is the reference, and
    versions are compared at its precision (``3.6`` → the newest of each ``3.x`` series).
    """
    from rattler import Version

    found = _VERSION_START.search(requested or "")
    depth = found[0].count(".") + 1 if found else 0
    newest: dict[tuple[str, ...], Any] = {}
    for version in versions:
        value = Version(version) if isinstance(version, str) else version
        parts = str(value).split(".")
        series = tuple(parts[:depth]) if depth else tuple(parts)
        if series not in newest or newest[series] < value:
            newest[series] = value
    ordered = sorted(newest.values())
    if not ordered:
        return ()
    if found is None:
        return tuple(str(v) for v in ordered[-NEAREST:])
    reference = Version(found[0])
    index = sum(1 for v in ordered if v < reference)
    start = max(0, min(index - NEAREST // 2, len(ordered) - NEAREST))
    return tuple(str(v) for v in ordered[start:start + NEAREST])


class UnsolvableError(ResolveError):
    """The solver found no environment; ``unavailable`` lists what was left out before it
    ran (missing names or versions), which is often the true cause of the conflict."""

    def __init__(self, message: str, *, fix: str, location: Any, platform: str,
                 unavailable: Sequence[Unavailable], conflict: str) -> None:
        super().__init__(message, fix=fix, location=location)
        self.platform = platform
        self.unavailable = tuple(unavailable)
        self.conflict = conflict


def _explain(error: Exception, deps: Sequence[CondaDependency], platform: str,
             unavailable: Sequence[Unavailable] = ()) -> UnsolvableError:
    """The solver's failure, blaming what was dropped before the solve when it is involved.

    A pin the channels cannot meet (``python=3.6``) is left out of the solve; other packages
    that need that Python then conflict. The fix is that pin, not the packages that conflict.
    """
    text = str(error).strip()
    mentioned = set(_NAME_IN_ERROR.findall(text))
    tree = " | ".join(line.strip(" │") for line in text.splitlines() if line.strip())
    dropped = [u for u in unavailable if u.platform == platform]
    if dropped:
        causes = "; ".join(u.describe() for u in dropped)
        message = (f"cannot solve for {platform}: {len(dropped)} requested package(s) were left "
                   f"out first because the channels cannot meet them: {causes}; the rest then "
                   f"conflicts: {tree}")
        pins = ", ".join(f"{u.spec} (have: {', '.join(u.available)})" if u.available else u.spec
                         for u in dropped)
        fix = (f"first fix what the channels cannot meet: {pins} (pin a version they have, or "
               "add the channel that publishes it); the conflict may follow from leaving them out")
        location = dropped[0].location
    else:
        involved = [d for d in deps if d.name in mentioned]
        message = f"cannot solve for {platform}: {tree}"
        if involved:
            names = ", ".join(
                f"{d.name} ({d.version or '*'}{' ' + d.build if d.build else ''})" for d in involved
            )
            fix = f"relax or remove the pins of: {names}"
        else:
            fix = "relax version pins, or add a channel that provides the missing packages"
        location = involved[0].location if involved else None
    return UnsolvableError(message, fix=fix, location=location, platform=platform,
                           unavailable=dropped, conflict=tree)


def solve_conda(request: CondaSolveRequest) -> CondaSolveResult:
    """Solve ``request`` for its target platform.

    The coroutine ``asyncio.run`` runs returns nothing: as ``asyncio.run`` ends it asks
    ``signal.getsignal`` for its SIGINT handler, which (Python 3.11) builds and drops an error
    message holding the repr of the finished main task, result included: for a lock, every
    package's repr (5 ms of an 800-package solve)."""
    import asyncio

    solved: list[CondaSolveResult] = []

    async def solve() -> None:
        solved.append(await _solve_async(request))

    asyncio.run(solve())
    return solved[0]
