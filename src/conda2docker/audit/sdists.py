"""Exact pip pins that only an sdist can satisfy, and what building that sdist needs.

Read before any lock, like :mod:`.local` reads local trees: for every ``name==version`` of
the pip section, the index (through :mod:`conda2docker.resolve.pypi`, the one place that
talks to indexes) lists the version's files; when no wheel fits the target (platform,
Python, glibc), the sdist is downloaded and looked into **without running anything**:
its file names, ``setup.py``/``pyproject.toml``/``setup.cfg`` as text. Rules see the result
through :attr:`AuditContext.sdists`. What was learnt about a file is cached on disk next
to the index answers (an sdist with a known hash never changes).
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import re
import tarfile
import zipfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from conda2docker.audit.knowledge.toolchains import known_toolchains
from conda2docker.errors import SourceLocation
from conda2docker.model import EnvSpec, Lock, PipRequirement

if TYPE_CHECKING:
    from conda2docker.resolve.pypi import DistFile, IndexClient

MAX_MEMBERS = 20000
MAX_TEXT = 1 << 20
"""Largest build file read (bytes); longer ones are read up to this size."""
FACTS_VERSION = "1"
DEFAULT_PYTHON = "3.12"
"""The Python assumed when the conda part pins none (conda-forge's current default)."""

_BUILD_FILES = ("setup.py", "pyproject.toml", "setup.cfg")
UNREADABLE: tuple[type[Exception], ...] = (OSError, ValueError, EOFError, tarfile.TarError,
                                           zipfile.BadZipFile)
"""What a bad download or a broken archive raises; the pin is then reported unchecked."""
_EXACT = re.compile(r"^===?\s*([^\s,;*]+)$")
_IMPORT = re.compile(r"^\s*(?:from|import)\s+([A-Za-z_][\w]*)", re.MULTILINE)
_BUILD_TIME_IMPORTS = {"torch", "tensorflow", "numpy", "Cython", "pybind11", "cupy", "jax"}
_SOURCE_SUFFIXES = {
    ".c": "c", ".cc": "c++", ".cpp": "c++", ".cxx": "c++", ".c++": "c++",
    ".pyx": "cython", ".pxd": "cython", ".cu": "cuda", ".cuh": "cuda", ".rs": "rust",
    ".f": "fortran", ".f90": "fortran", ".f95": "fortran", ".f03": "fortran", ".for": "fortran",
}
_BACKEND_TOOLCHAINS = {
    "maturin": ("rust",),
    "setuptools_rust": ("rust",),
    "scikit_build_core.build": ("c++", "cmake"),
    "mesonpy": ("c", "meson"),
    "pdm.backend": (),
    "hatchling.build": (),
    "flit_core.buildapi": (),
    "poetry.core.masonry.api": (),
}


@dataclass(frozen=True, slots=True)
class SdistFacts:
    """One exact pin that builds from source, and what its sdist shows it needs."""

    name: str
    version: str
    filename: str
    url: str
    toolchains: tuple[str, ...] = ()
    """Empty for a pure-Python sdist: no compiler at all."""
    backend: str | None = None
    build_requires: tuple[str, ...] = ()
    needs_no_build_isolation: bool = False
    """setup.py imports a package (torch, numpy, …) its build requirements do not bring."""
    imports: tuple[str, ...] = ()
    """Build-time imports of setup.py that betray its needs (torch, numpy, Cython, …)."""
    location: SourceLocation | None = None

    @property
    def cuda(self) -> bool:
        return "cuda" in self.toolchains

    def evidence(self) -> tuple[str, ...]:
        lines = [self.filename]
        if self.backend:
            lines.append(f"build backend: {self.backend}")
        if self.build_requires:
            lines.append(f"build requires: {', '.join(self.build_requires)}")
        if self.imports:
            lines.append(f"setup.py imports: {', '.join(self.imports)}")
        if self.needs_no_build_isolation:
            lines.append("build it with --no-build-isolation: setup.py imports packages its "
                         "build requirements do not declare")
        return tuple(lines)


@dataclass(frozen=True, slots=True)
class SdistScan:
    """The result of :func:`scan_sdist_pins`: the source builds and what could not be checked."""

    facts: dict[str, SdistFacts]
    unchecked: tuple[str, ...] = ()
    """``name==version: reason`` for pins the index could not answer about."""


def exact_version(requirement: PipRequirement) -> str | None:
    """The version an ``==``/``===`` pin names (no wildcard), else None."""
    if requirement.kind != "registry" or not requirement.name:
        return None
    found = _EXACT.match(requirement.specifier.strip())
    return found[1] if found else None


def target_python(spec: EnvSpec, resolved: str | None = None) -> str:
    """The Python the pip part installs into: the solved one, the conda pin, else the default."""
    if resolved:
        return resolved
    from conda2docker.read.condaspec import python_version_of

    for dep in spec.conda:
        if dep.name == "python":
            pinned = python_version_of(dep.version)
            if pinned:
                return pinned
            found = re.search(r"(\d+\.\d+)", dep.version)
            if found:
                return found[1]
    return DEFAULT_PYTHON


def scan_sdist_pins(
    spec: EnvSpec, index: IndexClient, *, platform: str, glibc: str, python: str
) -> SdistScan:
    """Check every exact pip pin of ``spec`` for a wheel that fits the target."""
    from conda2docker.public_index import default_index_url
    from conda2docker.resolve.pip.target import PipTarget
    from conda2docker.resolve.pypi import FetchError

    options = spec.pip_options
    indexes = [options.index_url or default_index_url(), *options.extra_index_urls]
    target = PipTarget(platform=platform, python_version=python, glibc=glibc)
    facts: dict[str, SdistFacts] = {}
    unchecked: list[str] = []
    failures: tuple[type[Exception], ...] = (FetchError, *UNREADABLE)
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

    from conda2docker.resolve.pypi import FetchError

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
    from conda2docker.resolve.pypi import FetchError

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
        return _facts_from_json(cached, requirement.location)
    found = inspect_sdist(index.download(sdist), sdist.filename, name, version, sdist.url)
    if sdist.sha256:
        index.store_blob("sdist-facts", json.dumps(asdict(found)).encode(), FACTS_VERSION,
                         sdist.url, sdist.sha256)
    return _with_location(found, requirement.location)


def inspect_locked(lock: Lock, platform: str, index: IndexClient) -> dict[str, SdistFacts]:
    """Facts of the sdists a lock pins for ``platform`` (what ``convert`` builds), by name.

    An sdist that cannot be fetched or read is left out: the plan then falls back to what
    the package name and its requirements tell (:func:`build_needs`).
    """
    from conda2docker.resolve.pypi import DistFile, FetchError

    found: dict[str, SdistFacts] = {}
    failures: tuple[type[Exception], ...] = (FetchError, *UNREADABLE)
    for package in lock.pip_packages(platform):
        if package.artifact != "sdist":
            continue
        file = DistFile(filename=package.file_name, url=package.url, sha256=package.sha256)
        name = canonicalize_name(package.name)
        try:
            cached = index.cached_blob("sdist-facts", FACTS_VERSION, file.url, file.sha256 or "")
            if cached and file.sha256:
                found[name] = _facts_from_json(cached, None)
                continue
            facts = inspect_sdist(index.download(file), file.filename, name, package.version,
                                  file.url)
        except failures:
            continue
        if file.sha256:
            index.store_blob("sdist-facts", json.dumps(asdict(facts)).encode(), FACTS_VERSION,
                             file.url, file.sha256)
        found[name] = facts
    return found


def _facts_from_json(data: bytes, location: SourceLocation | None) -> SdistFacts:
    raw = json.loads(data)
    raw.pop("location", None)
    for key in ("toolchains", "build_requires", "imports"):
        raw[key] = tuple(raw.get(key, ()))
    return _with_location(SdistFacts(**raw), location)


def _with_location(facts: SdistFacts, location: SourceLocation | None) -> SdistFacts:
    from dataclasses import replace

    return replace(facts, location=location)


# -- looking inside an archive, without extracting or running it -----------------------


def inspect_sdist(data: bytes, filename: str, name: str, version: str, url: str) -> SdistFacts:
    """What building this sdist needs, from its member names and build files as text."""
    members, texts = _read_archive(data, filename)
    chains: set[str] = set()
    for member in members:
        lower = member.lower()
        suffix = lower[lower.rfind("."):] if "." in lower.rsplit("/", 1)[-1] else ""
        if suffix in _SOURCE_SUFFIXES and not _is_test_or_vendored_doc(lower):
            chains.add(_SOURCE_SUFFIXES[suffix])
        if lower.endswith("/cargo.toml") and lower.count("/") <= 2:
            chains.add("rust")
    setup_py = texts.get("setup.py", "")
    backend, requires = _build_system(texts.get("pyproject.toml", ""))
    if not requires and "setup_requires" in texts.get("setup.cfg", ""):
        requires = _setup_cfg_requires(texts["setup.cfg"])
    chains |= set(_BACKEND_TOOLCHAINS.get(backend or "", ()))
    if re.search(r"\bCUDAExtension\b|\bnvcc\b", setup_py):
        chains |= {"cuda", "c++"}
    if re.search(r"\bCppExtension\b|\bPybind11Extension\b", setup_py):
        chains.add("c++")
    if re.search(r"\bcythonize\b", setup_py):
        chains |= {"cython", "c"}
    if "cython" in chains:
        chains.add("c")
    if "cuda" in chains:
        chains.add("c++")
    if re.search(r"\bext_modules\b", setup_py) and not chains & {"c", "c++"}:
        chains.add("c")  # an extension whose sources the names above did not show
    imports = sorted({m for m in _IMPORT.findall(setup_py) if m in _BUILD_TIME_IMPORTS})
    declared = {canonicalize_name(re.split(r"[\s<>=!~;\[]", r, maxsplit=1)[0]) for r in requires}
    # torch must be the one installed (its CUDA build), never a fresh copy in an isolated env
    isolation = "torch" in imports or any(canonicalize_name(m) not in declared for m in imports)
    return SdistFacts(name, version, filename, url, tuple(sorted(chains)), backend,
                      tuple(requires), isolation, tuple(imports))


def _is_test_or_vendored_doc(member: str) -> bool:
    return "/docs/" in member or "/doc/" in member or "/examples/" in member


def _read_archive(data: bytes, filename: str) -> tuple[list[str], dict[str, str]]:
    """Member names (at most :data:`MAX_MEMBERS`) and the top-level build files as text."""
    members: list[str] = []
    texts: dict[str, str] = {}
    if filename.lower().endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist()[:MAX_MEMBERS]:
                members.append(info.filename)
                base = _top_level_build_file(info.filename)
                if base and not info.is_dir():
                    with archive.open(info) as handle:
                        texts[base] = handle.read(MAX_TEXT).decode("utf-8", "replace")
        return members, texts
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
        for count, member in enumerate(archive):
            if count >= MAX_MEMBERS:
                break
            members.append(member.name)
            base = _top_level_build_file(member.name)
            if base and member.isfile():
                content = archive.extractfile(member)
                if content is not None:
                    texts[base] = content.read(MAX_TEXT).decode("utf-8", "replace")
    return members, texts


def _top_level_build_file(member: str) -> str | None:
    """``setup.py`` for ``pkg-1.0/setup.py`` (the sdist's root), else None."""
    parts = member.strip("/").split("/")
    if len(parts) == 2 and parts[1] in _BUILD_FILES:
        return parts[1]
    return None


def _build_system(text: str) -> tuple[str | None, list[str]]:
    if not text:
        return None, []
    try:
        loads = importlib.import_module("tomllib").loads  # Python >= 3.11
    except ModuleNotFoundError:  # pragma: no cover - Python 3.10: the tomli backport
        loads = importlib.import_module("tomli").loads
    try:
        document = loads(text)
    except ValueError:  # TOMLDecodeError is a ValueError
        return None, []
    table = document.get("build-system", {}) if isinstance(document, dict) else {}
    if not isinstance(table, dict):
        return None, []
    backend = table.get("build-backend")
    requires = table.get("requires", [])
    return (backend if isinstance(backend, str) else None,
            [r for r in requires if isinstance(r, str)] if isinstance(requires, list) else [])


def _setup_cfg_requires(text: str) -> list[str]:
    found = re.search(r"setup_requires\s*=\s*((?:\n[ \t]+\S.*)+|.*)", text)
    if not found:
        return []
    return [line.strip() for line in re.split(r"[\n;]", found[1]) if line.strip()]
