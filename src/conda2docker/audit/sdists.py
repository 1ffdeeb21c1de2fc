"""Exact pip pins that only an sdist can satisfy, and what building that sdist needs.

The facts and the pure look into an archive live here; asking the index (which pins have no
fitting wheel, fetching their sdists) is :mod:`conda2docker.sdist_check`, beside the one
place that talks to indexes. Nothing in an sdist is run: its file names and
``setup.py``/``pyproject.toml``/``setup.cfg`` are read as text. Rules see the result through
:attr:`AuditContext.sdists`.
"""

from __future__ import annotations

import importlib
import io
import json
import re
from dataclasses import asdict

from conda2docker.errors import SourceLocation
from conda2docker.model import EnvSpec, PipRequirement
from conda2docker.names import canonical
from conda2docker.values import frozen

MAX_MEMBERS = 20000
MAX_TEXT = 1 << 20
"""Largest build file read (bytes); longer ones are read up to this size."""
FACTS_VERSION = "1"
DEFAULT_PYTHON = "3.12"
"""The Python assumed when the conda part pins none (conda-forge's current default)."""

_BUILD_FILES = ("setup.py", "pyproject.toml", "setup.cfg")


def unreadable() -> tuple[type[Exception], ...]:
    """What a bad download or a broken archive raises; the pin is then reported unchecked.
    (tarfile and zipfile are loaded when an archive is looked into, not by every audit.)"""
    import tarfile
    import zipfile

    return (OSError, ValueError, EOFError, tarfile.TarError, zipfile.BadZipFile)


_EXACT = re.compile(r"^===?\s*([^\s,;*]+)\Z")
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


@frozen
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


@frozen
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


def facts_to_json(facts: SdistFacts) -> bytes:
    """What is cached on disk about an sdist (its location in a file is not)."""
    raw = asdict(facts)
    raw.pop("location", None)
    return json.dumps(raw, sort_keys=True).encode()


def facts_from_json(data: bytes, location: SourceLocation | None) -> SdistFacts:
    raw = json.loads(data)
    raw.pop("location", None)
    for key in ("toolchains", "build_requires", "imports"):
        raw[key] = tuple(raw.get(key, ()))
    return with_location(SdistFacts(**raw), location)


def with_location(facts: SdistFacts, location: SourceLocation | None) -> SdistFacts:
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
    declared = {canonical(re.split(r"[\s<>=!~;\[]", r, maxsplit=1)[0]) for r in requires}
    # torch must be the one installed (its CUDA build), never a fresh copy in an isolated env
    isolation = "torch" in imports or any(canonical(m) not in declared for m in imports)
    return SdistFacts(name, version, filename, url, tuple(sorted(chains)), backend,
                      tuple(requires), isolation, tuple(imports))


def _is_test_or_vendored_doc(member: str) -> bool:
    return "/docs/" in member or "/doc/" in member or "/examples/" in member


def _read_archive(data: bytes, filename: str) -> tuple[list[str], dict[str, str]]:
    """Member names (at most :data:`MAX_MEMBERS`) and the top-level build files as text."""
    import tarfile
    import zipfile

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
