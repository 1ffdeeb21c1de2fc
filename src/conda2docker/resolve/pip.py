"""Resolve an environment's ``pip:`` section to exact, hashed files for one target.

:func:`resolve_pip` runs resolvelib's backtracking resolver over candidates listed by
:class:`~conda2docker.resolve.pypi.IndexClient` (the env's ``--index-url``,
``--extra-index-url`` and ``--find-links``). Markers, wheel tags and ``requires-python``
are evaluated for the *target* (platform, Python, the base image's glibc), never for
this host. Distributions the conda packages already provide are fixed to the conda
version and not installed again. Git, URL and local-path requirements are pinned to a
commit, a hash or an absolute path. The result is conda-lock's pip entries.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag, compatible_tags, cpython_tags, mac_platforms
from packaging.utils import NormalizedName, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version
from resolvelib import (
    AbstractProvider,
    BaseReporter,
    ResolutionImpossible,
    ResolutionTooDeep,
    Resolver,
)
from resolvelib.structs import RequirementInformation

from conda2docker.errors import ResolveError, SourceLocation
from conda2docker.model import LockedPackage, PipOptions, PipRequirement, ReaderChange
from conda2docker.names import conda_to_pypi, is_mapped_conda_name, pypi_to_conda
from conda2docker.resolve.pypi import (
    DEFAULT_INDEX_URL,
    CoreMetadata,
    DistFile,
    FetchError,
    IndexClient,
    build_metadata,
    parse_core_metadata,
    pip_index_args,
    sdist_pkg_info,
    setup_cfg_version,
    static_tree_metadata,
    wheel_metadata,
)
from conda2docker.resolve.virtual import DEBIAN_BOOKWORM_GLIBC, LINUX_ARCHSPEC

OTHER_ARCH = {"osx-64": "x86_64", "osx-arm64": "arm64", "win-64": "AMD64"}
MACOS_VERSION = {"osx-64": (10, 13), "osx-arm64": (11, 0)}
LEGACY_MANYLINUX = {"manylinux2014": (2, 17), "manylinux2010": (2, 12), "manylinux1": (2, 5)}
MAX_ROUNDS = 2000
GIT_TIMEOUT = 120.0
FULL_COMMIT = re.compile(r"[0-9a-f]{40}")


# -- the target -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PipTarget:
    """Where the pip packages will run: conda platform, CPython version, base image glibc."""

    platform: str = "linux-64"
    python_version: str = "3.11.7"
    glibc: str = DEBIAN_BOOKWORM_GLIBC
    implementation: str = "cp"

    @property
    def python(self) -> tuple[int, int]:
        major, minor = self.python_version.split(".")[:2]
        return int(major), int(minor)

    @property
    def arch(self) -> str:
        return LINUX_ARCHSPEC.get(self.platform) or OTHER_ARCH.get(self.platform, "x86_64")

    def describe(self) -> str:
        return f"{self.platform} {self.implementation}{self.python[0]}{self.python[1]} glibc {self.glibc}"

    def marker_environment(self) -> dict[str, str]:
        """PEP 508 marker values of the target interpreter."""
        system = self.platform.split("-")[0]
        return {
            "implementation_name": "cpython" if self.implementation == "cp" else "pypy",
            "implementation_version": self.python_version,
            "os_name": "nt" if system == "win" else "posix",
            "platform_machine": self.arch,
            "platform_release": "",
            "platform_system": {"linux": "Linux", "osx": "Darwin", "win": "Windows"}.get(system, "Linux"),
            "platform_version": "",
            "python_full_version": self.python_version,
            "platform_python_implementation": "CPython" if self.implementation == "cp" else "PyPy",
            "python_version": f"{self.python[0]}.{self.python[1]}",
            "sys_platform": {"linux": "linux", "osx": "darwin", "win": "win32"}.get(system, "linux"),
        }


def _glibc(version: str) -> tuple[int, int]:
    major, minor = ([*version.split("."), "0"])[:2]
    return int(major), int(minor)


def platform_tags(target: PipTarget, glibc: str | None = None) -> list[str]:
    """Wheel platform tags the target accepts, most specific first."""
    if target.platform.startswith("osx"):
        return list(mac_platforms(MACOS_VERSION.get(target.platform, (11, 0)), target.arch))
    if target.platform.startswith("win"):
        return ["win_amd64"]
    arch = target.arch
    major, minor = _glibc(glibc or target.glibc)
    lowest = 5 if arch in ("x86_64", "i686") else 17
    tags = []
    for m in range(minor, lowest - 1, -1):
        tags.append(f"manylinux_{major}_{m}_{arch}")
        tags += [f"{alias}_{arch}" for alias, ver in LEGACY_MANYLINUX.items() if ver == (major, m)]
    return [*tags, f"linux_{arch}"]


@cache
def supported_tags(target: PipTarget, glibc: str | None = None) -> dict[Tag, int]:
    """Every wheel tag the target accepts, mapped to its priority (0 = best)."""
    plats = platform_tags(target, glibc)
    nodot = f"{target.python[0]}{target.python[1]}"
    tags: list[Tag] = []
    if target.implementation == "cp":
        tags += cpython_tags(target.python, [f"cp{nodot}"], plats)
    tags += compatible_tags(target.python, f"{target.implementation}{nodot}", plats)
    return {tag: i for i, tag in reversed(list(enumerate(tags)))}


def wheel_priority(filename: str, target: PipTarget) -> int | None:
    """The wheel's best tag priority for the target, or None if it cannot be installed."""
    _, _, _, tags = parse_wheel_filename(filename)
    supported = supported_tags(target)
    ranks = [supported[t] for t in tags if t in supported]
    return min(ranks) if ranks else None


def glibc_needed(filename: str, target: PipTarget) -> str | None:
    """The glibc a wheel needs when that is the only reason the target rejects it."""
    if not target.platform.startswith("linux") or wheel_priority(filename, target) is not None:
        return None
    relaxed = supported_tags(target, "2.99")
    _, _, _, tags = parse_wheel_filename(filename)
    needs = []
    for tag in tags:
        if tag not in relaxed:
            continue
        legacy = [v for alias, v in LEGACY_MANYLINUX.items() if tag.platform.startswith(alias + "_")]
        if legacy:
            needs += legacy
        elif (m := re.match(r"manylinux_(\d+)_(\d+)_", tag.platform)) is not None:
            needs.append((int(m[1]), int(m[2])))
    if not needs:
        return None
    low = min(needs)
    return f"{low[0]}.{low[1]}"


# -- what the conda packages provide -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class CondaProvided:
    conda_name: str
    version: str

    @property
    def parsed(self) -> Version | None:
        try:
            return Version(self.version)
        except InvalidVersion:
            return None

    def satisfies(self, specifier: SpecifierSet) -> bool:
        parsed = self.parsed
        return parsed is None or specifier.contains(parsed, prereleases=True)


def conda_provides(packages: Iterable[LockedPackage]) -> dict[NormalizedName, CondaProvided]:
    """PyPI distributions the conda packages install, by canonical PyPI name.

    A conda package counts when the grayskull table names it, or it depends on python, or
    its dependencies are unknown (explicit locks); never ``python`` itself, and never when
    its PyPI name belongs to another conda package (conda ``tzdata`` ≠ PyPI ``tzdata``).
    """
    provided: dict[NormalizedName, CondaProvided] = {}
    for pkg in packages:
        if pkg.manager != "conda" or pkg.name == "python" or pkg.name.startswith("__"):
            continue
        pypi = canonicalize_name(conda_to_pypi(pkg.name))
        if canonicalize_name(pypi_to_conda(pypi)) != canonicalize_name(pkg.name):
            continue
        pythonic = any(dep in ("python", "python_abi") for dep in pkg.dependencies)
        if is_mapped_conda_name(pkg.name) or pythonic or not pkg.dependencies:
            provided[pypi] = CondaProvided(pkg.name, pkg.version)
    return provided


# -- requirements and candidates --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Direct:
    """A requirement that names one artefact: a git commit, a URL or a local path."""

    name: NormalizedName
    version: Version
    url: str
    sha256: str | None
    metadata: CoreMetadata | None
    origin: str


@dataclass(frozen=True, slots=True)
class Req:
    name: NormalizedName
    specifier: SpecifierSet = field(default_factory=SpecifierSet)
    extras: frozenset[NormalizedName] = frozenset()
    direct: Direct | None = None

    @property
    def key(self) -> str:
        return _key(self.name, self.extras)

    def __str__(self) -> str:
        extras = f"[{','.join(sorted(self.extras))}]" if self.extras else ""
        where = f" @ {self.direct.url}" if self.direct else ""
        return f"{self.name}{extras}{self.specifier}{where}"


CandidateKind = Literal["index", "conda", "direct"]


@dataclass(frozen=True, slots=True)
class Candidate:
    name: NormalizedName
    version: Version
    kind: CandidateKind
    extras: frozenset[NormalizedName] = frozenset()
    file: DistFile | None = None
    direct: Direct | None = None
    conda_name: str | None = None

    @property
    def key(self) -> str:
        return _key(self.name, self.extras)

    def __str__(self) -> str:
        source = f" (conda {self.conda_name})" if self.kind == "conda" else ""
        return f"{self.name} {self.version}{source}"


def _key(name: str, extras: frozenset[NormalizedName]) -> str:
    return f"{name}[{','.join(sorted(extras))}]" if extras else name


@dataclass(frozen=True, slots=True)
class VersionFiles:
    """What an index offers for one version, and the file chosen for the target."""

    version: Version
    chosen: DistFile | None
    yanked: bool
    glibc: str | None
    """Set when wheels exist that only a newer glibc accepts."""


# -- the resolvelib provider --------------------------------------------------------------


class Provider(AbstractProvider[Req, Candidate, str]):
    """Finds candidates and dependencies for resolvelib; remembers what it excluded."""

    def __init__(self, context: Context) -> None:
        self.ctx = context
        self.excluded: dict[NormalizedName, dict[Version, str]] = defaultdict(dict)
        self.glibc_skips: dict[NormalizedName, dict[Version, str]] = defaultdict(dict)

    def identify(self, requirement_or_candidate: Req | Candidate) -> str:
        return requirement_or_candidate.key

    def get_preference(
        self,
        identifier: str,
        resolutions: Mapping[str, Candidate],
        candidates: Mapping[str, Iterator[Candidate]],
        information: Mapping[str, Iterator[RequirementInformation[Req, Candidate]]],
        backtrack_causes: Sequence[RequirementInformation[Req, Candidate]],
    ) -> tuple[bool, bool, bool, bool, str]:
        infos = [i.requirement for i in information[identifier]]
        name = infos[0].name if infos else identifier
        direct = any(r.direct for r in infos)
        pinned = any(s.operator in ("==", "===") for r in infos for s in r.specifier)
        caused = any(c.requirement.name == name for c in backtrack_causes)
        fixed = direct or name in self.ctx.conda
        return (not fixed, not pinned, not caused, bool(infos and infos[0].extras), identifier)

    def find_matches(
        self,
        identifier: str,
        requirements: Mapping[str, Iterator[Req]],
        incompatibilities: Mapping[str, Iterator[Candidate]],
    ) -> Callable[[], Iterator[Candidate]]:
        reqs = list(requirements[identifier])
        bad = set(incompatibilities[identifier])
        name, extras = reqs[0].name, reqs[0].extras

        def matches() -> Iterator[Candidate]:
            for cand in self._candidates(name, extras, reqs):
                if cand not in bad and all(self.is_satisfied_by(r, cand) for r in reqs):
                    yield cand

        return matches

    def _candidates(
        self, name: NormalizedName, extras: frozenset[NormalizedName], reqs: list[Req]
    ) -> Iterator[Candidate]:
        direct = next((r.direct for r in reqs if r.direct), self.ctx.directs.get(name))
        if direct is not None:
            yield Candidate(name, direct.version, "direct", extras, direct=direct)
            return
        provided = self.ctx.conda.get(name)
        if provided is not None:
            version = provided.parsed or Version("0")
            yield Candidate(name, version, "conda", extras, conda_name=provided.conda_name)
            return
        allow_pre = self.ctx.pre or any(r.specifier.prereleases for r in reqs)
        pins = {s.version for r in reqs for s in r.specifier if s.operator in ("==", "===")}
        for entry in self.ctx.versions(name):
            version = entry.version
            if not all(r.specifier.contains(version, prereleases=True) for r in reqs):
                continue
            reason = self._exclusion(entry, allow_pre, pins)
            if reason is None and entry.chosen is not None:
                cand = Candidate(name, version, "index", extras, file=entry.chosen)
                reason = self._metadata_problem(cand)
                if reason is None:
                    yield cand
                    continue
            if reason:
                self.excluded[name][version] = reason
            if entry.glibc:
                self.glibc_skips[name][version] = entry.glibc

    def _exclusion(self, entry: VersionFiles, allow_pre: bool, pins: set[str]) -> str | None:
        if entry.version.is_prerelease and not allow_pre:
            return "a pre-release (use --pre or pin it)"
        if entry.yanked and str(entry.version) not in pins and not any(
            Version(p) == entry.version for p in pins if _is_version(p)
        ):
            return "yanked"
        if entry.chosen is None:
            if entry.glibc:
                return (f"only wheels for glibc >= {entry.glibc} (the base image has "
                        f"{self.ctx.target.glibc}) and no sdist")
            return f"no wheel for {self.ctx.target.describe()} and no sdist"
        python = Version(self.ctx.target.python_version)
        rp = entry.chosen.requires_python
        if rp and not _spec_allows(rp, python):
            return f"requires Python {rp}"
        return None

    def _metadata_problem(self, cand: Candidate) -> str | None:
        meta = self.ctx.metadata(cand)
        if meta is None:
            return None
        if meta.version and _is_version(meta.version) and Version(meta.version) != cand.version:
            return f"its metadata says version {meta.version}"
        rp = meta.requires_python
        if rp and not _spec_allows(rp, Version(self.ctx.target.python_version)):
            return f"requires Python {rp}"
        return None

    def is_satisfied_by(self, requirement: Req, candidate: Candidate) -> bool:
        if requirement.direct is not None:
            return candidate.direct is not None and candidate.direct.url == requirement.direct.url
        if candidate.kind == "conda":
            provided = self.ctx.conda.get(candidate.name)
            return provided is None or provided.satisfies(requirement.specifier)
        return requirement.specifier.contains(candidate.version, prereleases=True)

    def get_dependencies(self, candidate: Candidate) -> list[Req]:
        deps: list[Req] = []
        if candidate.extras:
            pin = SpecifierSet(f"=={candidate.version}")
            deps.append(Req(candidate.name, pin, direct=candidate.direct))
        for requirement in self.ctx.requires(candidate, candidate.extras):
            deps.append(self.ctx.to_req(requirement))
        return deps


def _is_version(text: str) -> bool:
    try:
        Version(text)
    except InvalidVersion:
        return False
    return True


def _spec_allows(spec: str, version: Version) -> bool:
    try:
        return SpecifierSet(spec).contains(version, prereleases=True)
    except InvalidSpecifier:
        return True


# -- shared state: indexes, metadata, markers ----------------------------------------------


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
        self.index_urls = [options.index_url or DEFAULT_INDEX_URL, *options.extra_index_urls]
        self.find_links = [_absolute_link(link, base_dir) for link in options.find_links]
        self.directs: dict[NormalizedName, Direct] = {}
        self.locations: dict[NormalizedName, SourceLocation | None] = {}
        """Where each registry requirement of the pip: section was written."""
        self.environment = target.marker_environment()
        self._versions: dict[NormalizedName, list[VersionFiles]] = {}
        self._files: dict[NormalizedName, list[DistFile]] = {}
        self._metadata: dict[str, CoreMetadata | None] = {}

    @property
    def pip_args(self) -> list[str]:
        return pip_index_args(self.index_urls, self.find_links)

    def where(self) -> str:
        return ", ".join([*self.index_urls, *self.find_links])

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

    def versions(self, name: NormalizedName) -> list[VersionFiles]:
        """Each version with a file chosen for the target (best wheel, else an sdist)."""
        if name not in self._versions:
            by_version: dict[Version, list[DistFile]] = defaultdict(list)
            for f in self.files(name):
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
        low = min(glibc, key=_glibc) if glibc and not wheels else None
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
        self.client.store_blob("built", _serialise(meta), file.url, sha)
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


def _serialise(meta: CoreMetadata) -> bytes:
    lines = [f"Metadata-Version: {meta.metadata_version}", f"Name: {meta.name}",
             f"Version: {meta.version}"]
    if meta.requires_python:
        lines.append(f"Requires-Python: {meta.requires_python}")
    lines += [f"Requires-Dist: {r}" for r in meta.requires_dist]
    return ("\n".join(lines) + "\n").encode()


# -- direct requirements: git, URLs, local paths ------------------------------------------


def _git(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args], capture_output=True, text=True, timeout=GIT_TIMEOUT, cwd=cwd,
        env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true"},
        check=False,
    )


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1] if lines else "no output"


def ls_remote(url: str, ref: str | None) -> str | None:
    """The commit ``ref`` (branch, tag or HEAD) names in repository ``url``; None if unknown."""
    done = _git("ls-remote", url)
    if done.returncode != 0:
        raise ResolveError(
            f"pip: cannot reach git repository {url}: {_last_line(done.stderr)}",
            fix=f"check the URL and your access ('git ls-remote {url}' must work), "
            "or vendor the package and require it by local path",
        )
    refs: dict[str, str] = {}
    for line in done.stdout.splitlines():
        sha, _, name = line.partition("\t")
        refs[name.strip()] = sha.strip()
    wanted = ref or "HEAD"
    for name in (f"refs/tags/{wanted}^{{}}", f"refs/tags/{wanted}", f"refs/heads/{wanted}", wanted):
        if name in refs:
            return refs[name]
    return None


def prepare_vcs(ctx: Context, req: PipRequirement, changes: list[ReaderChange]) -> Direct:
    url = req.url or ""
    vcs = req.vcs or "git"
    if vcs != "git":
        raise ResolveError(
            f"pip: {vcs}+ requirements cannot be locked ({req.raw})",
            fix="use a git repository, an archive URL or a local path", location=req.location,
        )
    ref = req.ref.split("#", 1)[0] if req.ref else None
    commit = ref if ref and FULL_COMMIT.fullmatch(ref) else ls_remote(url, ref)
    with tempfile.TemporaryDirectory(prefix="c2d-git-") as tmp:
        tree = Path(tmp) / "src"
        cloned = _git("clone", "--quiet", "--no-checkout", url, str(tree))
        if cloned.returncode != 0:
            raise ResolveError(
                f"pip: cannot clone git repository {url}: {_last_line(cloned.stderr)}",
                fix="check the URL and your access, or require the package by local path",
                location=req.location,
            )
        if commit is None and ref:
            parsed = _git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", cwd=tree)
            commit = parsed.stdout.strip() if parsed.returncode == 0 else None
        if commit is None:
            raise ResolveError(
                f"pip: git ref {ref!r} is not a branch, tag or commit of {url}",
                fix="use an existing branch or tag, or a full 40-character commit",
                location=req.location,
            )
        if _git("checkout", "--quiet", commit, cwd=tree).returncode != 0:
            raise ResolveError(
                f"pip: commit {commit} is not in {url}",
                fix="use a commit that the repository contains", location=req.location,
            )
        cached = ctx.client.cached_blob("vcs", url, commit)
        meta = parse_core_metadata(cached) if cached else tree_metadata(ctx, tree, req.raw, changes)
        if meta is not None and not cached:
            ctx.client.store_blob("vcs", _serialise(meta), url, commit)
    return _direct(req, meta, f"git+{url}@{commit}", None, f"0+git{commit[:7]}", changes)


def tree_metadata(
    ctx: Context, tree: Path, what: str, changes: list[ReaderChange]
) -> CoreMetadata | None:
    """Metadata of a source tree: static pyproject, else the build backend, else setup.cfg."""
    static = static_tree_metadata(tree)
    if static is not None:
        return static
    try:
        return build_metadata(tree, ctx.pip_args)
    except ValueError as exc:
        reason = str(exc).replace(f" '{tree}'", "")
    literal = setup_cfg_version(tree)
    changes.append(
        ReaderChange(
            action="relaxed", subject=what,
            reason="its dependencies could not be read (the build backend failed: "
            f"{reason}); they are not locked and pip will resolve them at build time",
        )
    )
    if literal is not None:
        return CoreMetadata(name=literal[0], version=literal[1])
    return None


def _direct(
    req: PipRequirement, meta: CoreMetadata | None, url: str, sha256: str | None,
    fallback_version: str, changes: list[ReaderChange],
) -> Direct:
    raw_name = req.name or (meta.name if meta else "")
    if not raw_name:
        raise ResolveError(
            f"pip: cannot tell the package name of {req.raw}",
            fix="write it as 'name @ <url>' (or add #egg=name)", location=req.location,
        )
    version = fallback_version
    if meta is not None and meta.version and _is_version(meta.version):
        version = meta.version
    else:
        changes.append(
            ReaderChange(
                action="added", subject=raw_name,
                reason=f"the version of {req.raw} is unknown; recorded as {version}",
            )
        )
    return Direct(canonicalize_name(raw_name), Version(version), url, sha256, meta, req.raw)


def prepare_path(ctx: Context, req: PipRequirement, changes: list[ReaderChange]) -> Direct:
    path = req.path or Path(unquote(urlsplit(req.url or "").path))
    path = (path if path.is_absolute() else ctx.base_dir / path).resolve()
    if not path.exists():
        raise ResolveError(
            f"pip: local path {path} does not exist ({req.raw})",
            fix="fix the path (relative paths are relative to the environment file)",
            location=req.location,
        )
    if path.is_dir():
        meta = tree_metadata(ctx, path, req.raw, changes)
        return _direct(req, meta, path.as_uri(), None, "0+local", changes)
    data = path.read_bytes()
    meta = archive_metadata(ctx, data, path.name, path)
    return _direct(req, meta, path.as_uri(), hashlib.sha256(data).hexdigest(), "0+local", changes)


def archive_metadata(ctx: Context, data: bytes, filename: str, path: Path | None) -> CoreMetadata:
    """Metadata of a wheel or sdist held in memory (``path`` if it is also on disk)."""
    try:
        if filename.lower().endswith(".whl"):
            return parse_core_metadata(wheel_metadata(data))
        raw = sdist_pkg_info(data, filename)
    except (ValueError, OSError) as exc:  # zipfile/tarfile errors subclass these
        raise ResolveError(
            f"pip: {filename} is not a readable wheel or sdist: {exc}",
            fix="check the file or URL",
        ) from None
    meta = parse_core_metadata(raw) if raw else None
    if meta is not None and meta.reliable:
        return meta
    if path is not None:
        return ctx.build(path, filename)
    with tempfile.TemporaryDirectory(prefix="c2d-url-") as tmp:
        archive = Path(tmp) / filename
        archive.write_bytes(data)
        return ctx.build(archive, filename)


def prepare_url(
    ctx: Context, name: str | None, url: str, raw: str, changes: list[ReaderChange] | None = None
) -> Direct:
    """A requirement on an archive URL (or ``file:`` archive); ``git+`` URLs are cloned."""
    changes = [] if changes is None else changes
    if url.startswith("git+"):
        spec = url[4:].split("#", 1)[0]
        base, ref = spec.rsplit("@", 1) if "@" in spec.rsplit("/", 1)[-1] else (spec, "")
        req = PipRequirement(kind="vcs", raw=raw, name=name, url=base, vcs="git", ref=ref or None)
        return prepare_vcs(ctx, req, changes)
    plain, _, fragment = url.partition("#")
    filename = unquote(urlsplit(plain).path.rsplit("/", 1)[-1])
    algo, _, digest = fragment.partition("=")
    file = DistFile(filename=filename, url=plain, sha256=digest.lower() if algo == "sha256" else None)
    path = Path(unquote(urlsplit(plain).path)) if plain.startswith("file:") else None
    if path is not None and path.is_dir():
        req = PipRequirement(kind="path", raw=raw, name=name, path=path)
        return prepare_path(ctx, req, changes)
    try:
        data = ctx.client.download(file)
    except FetchError as exc:
        raise ResolveError(
            f"pip: cannot download {plain} ({exc.reason})",
            fix="check the URL, or download the file and require it by local path",
        ) from None
    if file.is_wheel and wheel_priority(filename, ctx.target) is None:
        raise ResolveError(
            f"pip: {filename} does not install on {ctx.target.describe()}",
            fix="use a wheel built for the target (or its sdist)",
        )
    meta = archive_metadata(ctx, data, filename, path)
    req = PipRequirement(kind="url", raw=raw, name=name, url=plain)
    return _direct(req, meta, plain, hashlib.sha256(data).hexdigest(), "0+url", changes)


# -- the entry point ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PipResolution:
    """The pip packages to install for one platform, and what the resolve learned."""

    packages: tuple[LockedPackage, ...]
    satisfied_by_conda: tuple[tuple[str, str], ...] = ()
    """``(pip requirement name, conda package that provides it)`` pairs."""
    changes: tuple[ReaderChange, ...] = ()


def resolve_pip(
    requirements: Sequence[PipRequirement],
    options: PipOptions,
    target: PipTarget,
    *,
    conda_packages: Sequence[LockedPackage],
    base_dir: Path,
    index: IndexClient | None = None,
) -> PipResolution:
    """Lock ``requirements`` for ``target``, consistent with ``conda_packages``.

    Raises :class:`ResolveError` when a package or version does not exist, requirements
    conflict (with each other or with a conda package), or an index is unreachable.
    """
    ctx = Context(options, target, index or IndexClient(), base_dir, conda_provides(conda_packages))
    changes: list[ReaderChange] = []
    roots = root_requirements(ctx, requirements, changes)
    if not roots:
        return PipResolution((), (), tuple(changes))
    provider = Provider(ctx)
    try:
        result = Resolver(provider, BaseReporter()).resolve(roots, max_rounds=MAX_ROUNDS)
    except ResolutionImpossible as exc:
        raise impossible(ctx, provider, list(exc.causes)) from None
    except ResolutionTooDeep:
        raise ResolveError(
            f"pip: no consistent set of versions found within {MAX_ROUNDS} rounds",
            fix="pin the main pip requirements to versions known to work together",
        ) from None
    requested = {n: loc for n, loc in ctx.locations.items() if n in ctx.conda}
    return assemble(ctx, provider, result.mapping, changes, requested)


def _pinned(specifier: SpecifierSet) -> bool:
    return any(s.operator in ("==", "===") and "*" not in s.version for s in specifier)


def root_requirements(
    ctx: Context, requirements: Sequence[PipRequirement], changes: list[ReaderChange]
) -> list[Req]:
    """The ``pip:`` entries that apply to the target, as resolver requirements."""
    roots: list[Req] = []
    for req in requirements:
        if req.marker and not _marker_true(ctx, req):
            changes.append(
                ReaderChange(
                    action="dropped", subject=req.name or req.raw, code="S305",
                    reason=f"its marker ({req.marker}) is false for {ctx.target.describe()}",
                    location=req.location,
                )
            )
            continue
        extras = frozenset(canonicalize_name(e) for e in req.extras)
        if req.kind == "registry":
            roots.append(_registry_root(ctx, req, extras, changes))
            continue
        if req.kind == "vcs":
            direct = prepare_vcs(ctx, req, changes)
        elif req.kind == "path":
            direct = prepare_path(ctx, req, changes)
        else:
            direct = prepare_url(ctx, req.name, req.url or req.raw, req.raw, changes)
        ctx.directs[direct.name] = direct
        provided = ctx.conda.pop(direct.name, None)
        if provided is not None:
            changes.append(_overrides(req, direct.name, provided, str(direct.version)))
        roots.append(Req(direct.name, SpecifierSet(), extras, direct))
    return roots


def _marker_true(ctx: Context, req: PipRequirement) -> bool:
    try:
        return Marker(req.marker or "").evaluate(ctx.environment)
    except InvalidMarker as exc:
        raise ResolveError(
            f"pip: invalid environment marker in {req.raw!r}: {exc}",
            fix="write a PEP 508 marker such as sys_platform == \"linux\"", location=req.location,
        ) from None


def _registry_root(
    ctx: Context, req: PipRequirement, extras: frozenset[NormalizedName], changes: list[ReaderChange]
) -> Req:
    try:
        name = canonicalize_name(req.name or "")
        specifier = SpecifierSet(req.specifier)
    except InvalidSpecifier as exc:
        raise ResolveError(
            f"pip: invalid version specifier in {req.raw!r}: {exc}",
            fix="write it as e.g. name>=1.2,<2", location=req.location,
        ) from None
    ctx.locations.setdefault(name, req.location)
    provided = ctx.conda.get(name)
    if provided is not None and not provided.satisfies(specifier):
        if not _pinned(specifier):
            raise ResolveError(
                f"pip: {req.raw} conflicts with conda package {provided.conda_name} "
                f"{provided.version}, which provides {name}",
                fix=f"relax the pip requirement, change the conda requirement on "
                f"{provided.conda_name}, or pin an exact version (==) to let pip's copy "
                "replace conda's",
                location=req.location,
            )
        del ctx.conda[name]
        changes.append(_overrides(req, name, provided, str(specifier)))
    return Req(name, specifier, extras)


def _overrides(req: PipRequirement, name: str, provided: CondaProvided, version: str) -> ReaderChange:
    return ReaderChange(
        action="added", subject=name, code="P205",
        reason=f"pip installs {name} ({req.raw}) over conda package {provided.conda_name} "
        f"{provided.version}: the pip section pins it ({version})",
        location=req.location,
    )


# -- errors ---------------------------------------------------------------------------------


def _chain(info: RequirementInformation[Req, Candidate]) -> str:
    if info.parent is None:
        return f"{info.requirement} (from the pip: section)"
    return f"{info.parent} requires {info.requirement}"


def impossible(
    ctx: Context, provider: Provider, causes: list[RequirementInformation[Req, Candidate]]
) -> ResolveError:
    """The clearest one-line account of why resolution failed, with a fix."""
    by_name: dict[NormalizedName, list[RequirementInformation[Req, Candidate]]] = defaultdict(list)
    for cause in causes:
        by_name[cause.requirement.name].append(cause)
    name, infos = next(iter(by_name.items()))
    chains = "; ".join(dict.fromkeys(_chain(i) for i in infos))
    provided = ctx.conda.get(name)
    if provided is not None:
        return ResolveError(
            f"pip: {chains}; but conda package {provided.conda_name} {provided.version} "
            f"provides {name}",
            fix=f"relax the pip requirement, or change the conda requirement on "
            f"{provided.conda_name} (or drop it so pip installs {name})",
        )
    direct = ctx.directs.get(name)
    if direct is not None:
        return ResolveError(
            f"pip: {chains}; but {name} comes from {direct.origin} (version {direct.version})",
            fix="relax the requirement or point the direct requirement at a matching version",
        )
    parent = f" (required by {infos[0].parent})" if infos[0].parent else ""
    if not ctx.files(name):
        return ResolveError(
            f"pip: no package named {name} at {ctx.where()}{parent}",
            fix="check the name, or add the index that has it with --extra-index-url or "
            "--find-links",
        )
    available = ", ".join(str(v.version) for v in reversed(ctx.versions(name))) or "none"
    excluded = provider.excluded.get(name, {})
    notes = "; ".join(f"{v} is {why}" if why.startswith(("a ", "yanked")) else f"{v} has {why}"
                      for v, why in sorted(excluded.items(), reverse=True)[:3])
    notes = f"; {notes}" if notes else ""
    glibc = sorted(provider.glibc_skips.get(name, {}).values(), key=_glibc)
    fix = "relax the requirement to an available version"
    if glibc:
        fix += f", or use a base image with glibc >= {glibc[0]}"
    requirements = {str(i.requirement.specifier) for i in infos}
    if len(requirements) == 1:
        spec = requirements.pop() or "any version"
        return ResolveError(
            f"pip: no version of {name} matches {spec}{parent} (available: {available}) "
            f"at {ctx.where()}{notes}",
            fix=fix,
        )
    return ResolveError(
        f"pip: conflicting requirements for {name}: {chains} (available: {available}){notes}",
        fix="relax one of them, or pin the packages that require them to versions that agree",
    )


# -- the result -------------------------------------------------------------------------------


def _dependencies(ctx: Context, cand: Candidate, extras: frozenset[NormalizedName]) -> dict[str, str]:
    merged: dict[str, list[str]] = defaultdict(list)
    requirements = ctx.requires(cand, frozenset())
    if extras:
        requirements += ctx.requires(cand, extras)
    for requirement in requirements:
        text = str(requirement.specifier)
        merged[canonicalize_name(requirement.name)] += [text] if text else []
    return {
        dep: ",".join(sorted(set(specs))) or "*"
        for dep, specs in sorted(merged.items())
        if dep != cand.name
    }


def assemble(
    ctx: Context, provider: Provider, mapping: Mapping[str, Candidate],
    changes: list[ReaderChange], requested: Mapping[NormalizedName, SourceLocation | None],
) -> PipResolution:
    """The lock entries; ``requested`` names the pip: lines conda satisfies (audit P204)."""
    extras: dict[NormalizedName, frozenset[NormalizedName]] = defaultdict(frozenset)
    base: dict[NormalizedName, Candidate] = {}
    for cand in mapping.values():
        if cand.extras:
            extras[cand.name] |= cand.extras
        else:
            base[cand.name] = cand
    packages: list[LockedPackage] = []
    satisfied: list[tuple[str, str]] = []
    for name in sorted(base):
        cand = base[name]
        if cand.kind == "conda":
            satisfied.append((name, cand.conda_name or name))
            if name not in requested:
                continue  # a dependency of a pip package: nothing the user should change
            changes.append(
                ReaderChange(
                    action="mapped", subject=name, code="P204",
                    reason=f"pip requirement {name} is satisfied by conda package "
                    f"{cand.conda_name} {ctx.conda[name].version}; pip does not install it again",
                    location=requested[name],
                )
            )
            continue
        if cand.direct is not None:
            url, sha256 = cand.direct.url, cand.direct.sha256
        else:
            assert cand.file is not None
            url, sha256 = cand.file.url, ctx.client.sha256(cand.file)
        packages.append(
            LockedPackage(
                name=name, version=str(cand.version), manager="pip", platform=ctx.target.platform,
                url=url, sha256=sha256, dependencies=_dependencies(ctx, cand, extras[name]),
            )
        )
        glibc_change = _glibc_change(ctx, provider, cand)
        if glibc_change is not None:
            changes.append(glibc_change)
    return PipResolution(tuple(packages), tuple(satisfied), tuple(changes))


def _glibc_change(ctx: Context, provider: Provider, cand: Candidate) -> ReaderChange | None:
    skipped = {v: g for v, g in provider.glibc_skips.get(cand.name, {}).items() if v >= cand.version}
    own = next((v.glibc for v in ctx.versions(cand.name) if v.version == cand.version), None)
    if own:
        skipped[cand.version] = own
    if not skipped:
        return None
    newest = max(skipped)
    kind = "sdist" if cand.file is not None and not cand.file.is_wheel else "wheel"
    chose = (f"built from the sdist of {cand.version}" if newest == cand.version
             else f"{cand.version} ({kind}) chosen instead")
    return ReaderChange(
        action="relaxed", subject=cand.name, code="S304",
        reason=f"{cand.name} {newest} has wheels only for glibc >= {skipped[newest]} (manylinux) "
        f"but the base image has glibc {ctx.target.glibc}; {chose}",
        detail=", ".join(f"{v}: glibc {g}" for v, g in sorted(skipped.items(), reverse=True)),
    )
