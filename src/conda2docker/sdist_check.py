"""Which exact pip pins only an sdist can satisfy, asked of the index before any lock.

For every ``name==version`` of the pip section the index (through
:mod:`conda2docker.resolve.pypi`, the one
place that talks to indexes) lists the version's files; when no wheel fits the target
(platform, Python, glibc), the sdist is fetched and looked into without running anything
(:func:`conda2docker.audit.sdists.inspect_sdist`). What was learnt about a file is cached on
disk next to the index answers (an sdist with a known hash never changes).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from conda2docker.audit.knowledge.toolchains import known_toolchains
from conda2docker.audit.sdists import (
    FACTS_VERSION,
    SdistFacts,
    SdistScan,
    exact_version,
    facts_from_json,
    facts_to_json,
    inspect_sdist,
    unreadable,
    with_location,
)
from conda2docker.model import EnvSpec, Lock, PipRequirement
from conda2docker.resolve.pypi import DistFile, FetchError, IndexClient


def scan_sdist_pins(
    spec: EnvSpec, index: IndexClient, *, platform: str, glibc: str, python: str
) -> SdistScan:
    """Check every exact pip pin of ``spec`` for a wheel that fits the target."""
    from conda2docker.public_index import default_index_url
    from conda2docker.resolve.pip.target import PipTarget
    options = spec.pip_options
    indexes = [options.index_url or default_index_url(), *options.extra_index_urls]
    target = PipTarget(platform=platform, python_version=python, glibc=glibc)
    facts: dict[str, SdistFacts] = {}
    unchecked: list[str] = []
    failures: tuple[type[Exception], ...] = (FetchError, *unreadable())
    down: dict[str, str] = {}
    """Sources that could not be read, with the reason: asked once, not once per pin."""
    _prefetch(index, indexes, [r.name for r in spec.pip if r.name and exact_version(r)])
    for requirement in spec.pip:
        version = exact_version(requirement)
        if version is None or requirement.name is None:
            continue
        pin = f"{requirement.name}=={version}"
        try:
            files = _version_files(index, indexes, options.find_links, requirement.name,
                                   version, down)
            if not down or _fitting_wheel(files, target):
                found = _source_build(index, files, target, requirement, version)
            else:  # a source that may hold the wheel could not be read: do not guess
                unchecked.append(f"{pin}: {next(iter(down.values()))}")
                continue
        except failures as error:
            unchecked.append(f"{pin}: {error}")
            continue
        if found is not None:
            facts[canonicalize_name(requirement.name)] = found
    return SdistScan(facts, tuple(unchecked))


PREFETCH_THREADS = 8


def _prefetch(index: IndexClient, indexes: Sequence[str], names: Sequence[str]) -> None:
    """Ask the first index about every pinned project at once (its answers are kept by the
    client); errors are left for the pin-by-pin pass, which reports them."""
    from concurrent.futures import ThreadPoolExecutor

    def fetch(name: str) -> None:
        with contextlib.suppress(FetchError):
            index.project_files(indexes[0], name)

    if len(names) > 1 and not index.offline:
        with ThreadPoolExecutor(max_workers=PREFETCH_THREADS) as pool:
            list(pool.map(fetch, dict.fromkeys(names)))


def _version_files(index: IndexClient, indexes: Sequence[str], find_links: Sequence[str],
                   name: str, version: str, down: dict[str, str]) -> list[DistFile]:
    """The files of ``name`` ``version`` from every source that answers; a source that does
    not is recorded in ``down`` (the first index failing is an error: nothing is known)."""
    try:
        wanted = Version(version)
    except InvalidVersion:
        return []
    files: list[DistFile] = []
    for position, source in enumerate([*indexes, *find_links]):
        if source in down:
            continue
        try:
            if position < len(indexes):
                files += index.project_files(source, name)
            else:
                files += index.find_links_files(source)
        except FetchError as error:
            if position == 0:
                raise
            down[source] = str(error)
    chosen = []
    for file in files:
        parsed = file.name_version()
        if parsed and parsed[0] == canonicalize_name(name) and parsed[1] == wanted and not file.yanked:
            chosen.append(file)
    return chosen


def _fitting_wheel(files: Sequence[DistFile], target: Any) -> bool:
    from conda2docker.resolve.pip.target import wheel_priority

    return any(f.is_wheel and wheel_priority(f.filename, target) is not None for f in files)


def _source_build(index: IndexClient, files: Sequence[DistFile], target: Any,
                  requirement: PipRequirement, version: str) -> SdistFacts | None:
    """The facts of the sdist when no wheel of ``files`` fits ``target``; else None."""
    if _fitting_wheel(files, target):
        return None
    sdists = sorted((f for f in files if f.is_sdist), key=lambda f: f.filename)
    if not sdists:
        return None  # nothing installs at all: the lock (P207) says so
    sdist = sdists[0]
    name = canonicalize_name(requirement.name or "")
    known = known_toolchains(name)
    if known is not None:  # a well-known compiled package: no need to fetch a large sdist
        return SdistFacts(name, version, sdist.filename, sdist.url, known,
                          location=requirement.location)
    cached = index.cached_blob("sdist-facts", FACTS_VERSION, sdist.url, sdist.sha256 or "")
    if cached and sdist.sha256:
        return facts_from_json(cached, requirement.location)
    found = inspect_sdist(index.download(sdist), sdist.filename, name, version, sdist.url)
    if sdist.sha256:
        index.store_blob("sdist-facts", facts_to_json(found), FACTS_VERSION, sdist.url,
                         sdist.sha256)
    return with_location(found, requirement.location)


def inspect_locked(lock: Lock, platform: str, index: IndexClient) -> dict[str, SdistFacts]:
    """Facts of the sdists a lock pins for ``platform`` (what ``convert`` builds), by name.

    An sdist that cannot be fetched or read is left out: the plan then falls back to what
    the package name and its requirements tell (:func:`build_needs`).
    """
    found: dict[str, SdistFacts] = {}
    failures: tuple[type[Exception], ...] = (FetchError, *unreadable())
    for package in lock.pip_packages(platform):
        if package.artifact != "sdist":
            continue
        file = DistFile(filename=package.file_name, url=package.url, sha256=package.sha256)
        name = canonicalize_name(package.name)
        try:
            cached = index.cached_blob("sdist-facts", FACTS_VERSION, file.url, file.sha256 or "")
            if cached and file.sha256:
                found[name] = facts_from_json(cached, None)
                continue
            facts = inspect_sdist(index.download(file), file.filename, name, package.version,
                                  file.url)
        except failures:
            continue
        if file.sha256:
            index.store_blob("sdist-facts", facts_to_json(facts), FACTS_VERSION, file.url,
                             file.sha256)
        found[name] = facts
    return found
