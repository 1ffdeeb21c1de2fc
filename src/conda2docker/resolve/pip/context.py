"""Shared state of one resolution: indexes, metadata, markers, caches."""

from __future__ import annotations

import tempfile
from collections import defaultdict
from pathlib import Path

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from conda2docker.credentials import redact
from conda2docker.errors import ResolveError, SourceLocation
from conda2docker.model import PipOptions, PipRequirement
from conda2docker.public_index import default_index_url
from conda2docker.resolve.pip.candidates import Candidate, Direct, Req, VersionFiles
from conda2docker.resolve.pip.provided import CondaProvided
from conda2docker.resolve.pip.target import PipTarget, glibc_needed, glibc_tuple, wheel_priority
from conda2docker.resolve.pypi import (
    CoreMetadata,
    DistFile,
    FetchError,
    IndexClient,
    build_metadata,
    parse_core_metadata,
    pip_index_args,
)
from conda2docker.values import frozen

# -- shared state: indexes, metadata, markers ----------------------------------------------


@frozen
class Constraint:
    """What ``-c`` files allow for one package: the intersection of their ranges."""

    specifier: SpecifierSet
    sources: tuple[PipRequirement, ...]

    def describe(self) -> str:
        """``name>=1 (constraints.txt:3)``, for messages."""
        return ", ".join(source.constraint_text + (f" ({source.location.brief})" if source.location else "")
                         for source in self.sources)


def constraint_map(
    constraints: tuple[PipRequirement, ...], environment: dict[str, str]
) -> dict[NormalizedName, Constraint]:
    """The constraints whose markers hold for the target, by canonical name."""
    found: dict[NormalizedName, Constraint] = {}
    for item in constraints:
        try:
            if item.marker and not Marker(item.marker).evaluate(environment):
                continue
            specifier = SpecifierSet(item.specifier)
        except (InvalidSpecifier, InvalidMarker) as exc:
            raise ResolveError(
                f"pip: invalid constraint {item.constraint_text!r}: {exc}",
                fix="write it as name>=1.2,<2", location=item.location,
            ) from None
        name = canonicalize_name(item.name or "")
        known = found.get(name)
        if known is not None:
            specifier &= known.specifier
        found[name] = Constraint(specifier, (*(known.sources if known else ()), item))
    return found


class Context:
    """Everything the provider consults; caches listings and metadata for one resolve."""

    def __init__(
        self, options: PipOptions, target: PipTarget, client: IndexClient, base_dir: Path,
        conda: dict[NormalizedName, CondaProvided],
    ) -> None:
        self.target = target
        self.client = client
        self.base_dir = base_dir
        self.conda = conda
        self.pre = options.pre
        self.index_urls = [options.index_url or default_index_url(), *options.extra_index_urls]
        self.find_links = [_absolute_link(link, base_dir) for link in options.find_links]
        self.directs: dict[NormalizedName, Direct] = {}
        self.locations: dict[NormalizedName, SourceLocation | None] = {}
        """Where each registry requirement of the pip: section was written."""
        self.hashes: dict[NormalizedName, frozenset[str]] = {}
        """sha256 digests a requirement's ``--hash`` options allow: only those files qualify."""
        self.environment = target.marker_environment()
        self.constraints = constraint_map(options.constraints, self.environment)
        self._versions: dict[NormalizedName, list[VersionFiles]] = {}
        self._files: dict[NormalizedName, list[DistFile]] = {}
        self._metadata: dict[str, CoreMetadata | None] = {}

    @property
    def pip_args(self) -> list[str]:
        return pip_index_args(self.index_urls, self.find_links)

    def where(self) -> str:
        return redact(", ".join([*self.index_urls, *self.find_links]))

    def files(self, name: NormalizedName) -> list[DistFile]:
        if name not in self._files:
            found: list[DistFile] = []
            for index in self.index_urls:
                try:
                    found += self.client.project_files(index, name)
                except FetchError as exc:
                    raise _unreachable(exc, index) from None
            for link in self.find_links:
                try:
                    found += self.client.find_links_files(link)
                except FetchError as exc:
                    raise _unreachable(exc, link) from None
            self._files[name] = [
                f for f in found if (nv := f.name_version()) is not None and nv[0] == name
            ]
        return self._files[name]

    def hashed_files(self, name: NormalizedName) -> list[DistFile]:
        """The files of ``name`` a ``--hash`` allows (all of them without one), as pip's
        hash-checking mode accepts only those."""
        allowed = self.hashes.get(name)
        files = self.files(name)
        if allowed is None:
            return files
        return [f for f in files if self.client.sha256(f) in allowed]

    def versions(self, name: NormalizedName) -> list[VersionFiles]:
        """Each version with a file chosen for the target (best wheel, else an sdist)."""
        if name not in self._versions:
            by_version: dict[Version, list[DistFile]] = defaultdict(list)
            for f in self.hashed_files(name):
                nv = f.name_version()
                if nv is not None:
                    by_version[nv[1]].append(f)
            self._versions[name] = [
                self._choose(v, by_version[v]) for v in sorted(by_version, reverse=True)
            ]
        return self._versions[name]

    def _choose(self, version: Version, files: list[DistFile]) -> VersionFiles:
        live = [f for f in files if not f.yanked] or files
        yanked = all(f.yanked for f in files)
        wheels = []
        glibc: list[str] = []
        for f in live:
            if not f.is_wheel:
                continue
            rank = wheel_priority(f.filename, self.target)
            if rank is not None:
                wheels.append((rank, f.filename, f))
            elif (needed := glibc_needed(f.filename, self.target)) is not None:
                glibc.append(needed)
        sdists = sorted(
            (f for f in live if f.is_sdist), key=lambda f: (not f.filename.endswith(".tar.gz"), f.url)
        )
        chosen = min(wheels, key=lambda w: (w[0], w[1]))[2] if wheels else next(iter(sdists), None)
        low = min(glibc, key=glibc_tuple) if glibc and not wheels else None
        return VersionFiles(version, chosen, yanked, low)

    # -- metadata --------------------------------------------------------------------

    def metadata(self, cand: Candidate) -> CoreMetadata | None:
        if cand.direct is not None:
            return cand.direct.metadata
        if cand.file is None:
            return None
        url = cand.file.url
        if url not in self._metadata:
            self._metadata[url] = self._file_metadata(cand.file)
        return self._metadata[url]

    def _file_metadata(self, file: DistFile) -> CoreMetadata | None:
        try:
            raw = self.client.metadata(file)
        except FetchError as exc:
            raise _unreachable(exc, file.origin or file.url) from None
        except (ValueError, OSError) as exc:
            raise ResolveError(
                f"pip: cannot read the metadata of {file.filename}: {exc}",
                fix=f"check the file at {file.url}, or pin another version",
            ) from None
        meta = parse_core_metadata(raw) if raw else None
        if file.is_wheel or (meta is not None and meta.reliable):
            return meta
        return self._built_metadata(file)

    def _built_metadata(self, file: DistFile) -> CoreMetadata:
        sha = self.client.sha256(file)
        cached = self.client.cached_blob("built", file.url, sha)
        if cached:
            return parse_core_metadata(cached)
        with tempfile.TemporaryDirectory(prefix="c2d-sdist-") as tmp:
            archive = Path(tmp) / file.filename
            archive.write_bytes(self.client.download(file))
            meta = self.build(archive, file.filename)
        self.client.store_blob("built", serialise_metadata(meta), file.url, sha)
        return meta

    def build(self, source: Path, what: str) -> CoreMetadata:
        try:
            return build_metadata(source, self.pip_args)
        except ValueError as exc:
            raise ResolveError(
                f"pip: cannot prepare the metadata of {what}: {exc}",
                fix="make its build requirements reachable from the index (or --find-links), "
                "or pin a version that has a wheel",
            ) from None

    def requires(self, cand: Candidate, extras: frozenset[NormalizedName]) -> list[Requirement]:
        """The candidate's dependencies for the target, with the given extras active."""
        meta = self.metadata(cand)
        if meta is None and cand.kind == "conda" and extras:
            meta = self._conda_extras_metadata(cand)
        if meta is None or (cand.kind == "conda" and not extras):
            return []
        found: dict[str, Requirement] = {}
        for line in meta.requires_dist:
            try:
                requirement = Requirement(line)
            except InvalidRequirement:
                continue
            if self._active(requirement.marker, extras):
                found.setdefault(str(requirement), requirement)
        return list(found.values())

    def _active(self, marker: Marker | None, extras: frozenset[NormalizedName]) -> bool:
        """Whether a dependency applies; with extras, only what the extras add to the base."""
        base = marker is None or marker.evaluate({**self.environment, "extra": ""})
        if not extras:
            return base
        return not base and marker is not None and any(
            marker.evaluate({**self.environment, "extra": e}) for e in sorted(extras)
        )

    def _conda_extras_metadata(self, cand: Candidate) -> CoreMetadata | None:
        """For ``pkg[extra]`` provided by conda: the index's metadata of the same version."""
        try:
            entry = next((v for v in self.versions(cand.name) if v.version == cand.version), None)
        except ResolveError:
            return None
        if entry is None or entry.chosen is None:
            return None
        return self.metadata(Candidate(cand.name, cand.version, "index", file=entry.chosen))

    def to_req(self, requirement: Requirement) -> Req:
        name = canonicalize_name(requirement.name)
        extras = frozenset(canonicalize_name(e) for e in requirement.extras)
        direct = None
        if requirement.url:
            from conda2docker.resolve.pip.sources import prepare_url

            direct = self.directs.get(name) or prepare_url(
                self, name, requirement.url, str(requirement)
            )
            self.directs[name] = direct
        return Req(name, requirement.specifier, extras, direct)


def _absolute_link(link: str, base_dir: Path) -> str:
    if "://" in link:
        return link
    path = Path(link).expanduser()
    return str(path if path.is_absolute() else (base_dir / path).resolve())


def _unreachable(exc: FetchError, where: str) -> ResolveError:
    where = redact(where)
    if exc.status in (401, 403):
        return ResolveError(
            f"pip: {where} answered {exc.reason} for {exc.url}",
            fix="give the index's credentials in its URL as ${USER}:${PASSWORD}@ placeholders "
            "(pip's form) and set those environment variables",
        )
    if exc.status is not None and exc.status < 500:
        return ResolveError(
            f"pip: {where} answered {exc.reason} for {exc.url}",
            fix="check the --index-url/--extra-index-url/--find-links address",
        )
    return ResolveError(
        f"pip: cannot reach the package index {where} ({exc.reason})",
        fix="check the network or proxy, point --index-url at a reachable mirror, "
        "or lock with --offline from a warm cache",
    )


def serialise_metadata(meta: CoreMetadata) -> bytes:
    lines = [f"Metadata-Version: {meta.metadata_version}", f"Name: {meta.name}",
             f"Version: {meta.version}"]
    if meta.requires_python:
        lines.append(f"Requires-Python: {meta.requires_python}")
    lines += [f"Requires-Dist: {r}" for r in meta.requires_dist]
    return ("\n".join(lines) + "\n").encode()


