"""Facts about local pip packages, read from their source trees before the audit runs.

The only module of the audit that touches the filesystem; rules see the result through
:attr:`AuditContext.local`. The walk is bounded so a huge tree cannot stall the audit.
"""

from __future__ import annotations

import os
from pathlib import Path

from conda2docker.audit.context import LocalFacts
from conda2docker.model import EnvSpec

MAX_FILES = 5000
_SKIP_DIRS = {".git", "node_modules", "__pycache__", ".venv", "venv", "build", "dist"}
_BUILD_FILES = ("setup.py", "pyproject.toml", "setup.cfg", "CMakeLists.txt")


def scan_local_paths(spec: EnvSpec) -> dict[str, LocalFacts]:
    """Facts for each local-path pip requirement of ``spec``, keyed by ``str(path)``."""
    facts: dict[str, LocalFacts] = {}
    for requirement in spec.pip:
        if requirement.kind == "path" and requirement.path is not None:
            facts[str(requirement.path)] = scan_tree(requirement.path)
    return facts


def scan_tree(path: Path) -> LocalFacts:
    """What a source tree (or archive path) holds that needs a toolchain."""
    if not path.is_dir():
        return LocalFacts(path, exists=path.exists())
    suffixes: set[str] = set()
    names: set[str] = set()
    build_text = ""
    for count, file in enumerate(_walk(path)):
        if count >= MAX_FILES:
            break
        suffixes.add(file.suffix.lower())
        names.add(file.name)
        if file.name in _BUILD_FILES and file.parent == path:
            build_text += file.read_text("utf-8", errors="replace")
    return LocalFacts(
        path,
        cuda_sources=bool(suffixes & {".cu", ".cuh"}),
        cpp_extension="cpp_extension" in build_text or "CppExtension" in build_text,
        cuda_extension="CUDAExtension" in build_text or "nvcc" in build_text,
        c_sources=bool(suffixes & {".c", ".cc", ".cpp", ".cxx"}),
        cython=bool(suffixes & {".pyx", ".pxd"}),
        rust="Cargo.toml" in names,
        fortran=bool(suffixes & {".f", ".f90", ".f95", ".f03"}),
    )


def _walk(root: Path) -> list[Path]:
    found: list[Path] = []
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        found.extend(Path(directory, f) for f in sorted(files))
        if len(found) >= MAX_FILES:
            break
    return found

