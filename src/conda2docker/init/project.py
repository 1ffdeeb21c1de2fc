"""The repository's own Python package(s), read statically (nothing is built or run).

A directory is a package when it has a ``setup.py``, a ``setup.cfg`` with ``[metadata]`` or
``[options]``, or a ``pyproject.toml`` with ``[project]`` or ``[build-system]``. A
``pyproject.toml`` holding only tool settings (black, ruff…) is not a package.

What is read: the name (``[project] name``, ``[metadata] name``, or a literal
``name="…"`` in ``setup.py``), the runtime dependencies (``[project] dependencies``,
``[options] install_requires``), ``requires-python``, and whether the build needs the
environment itself: a ``setup.py`` using ``torch.utils.cpp_extension`` (a CUDA/C++
extension against PyTorch) builds without isolation, against the environment's torch.
"""

from __future__ import annotations

import configparser
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conda2docker.errors import InputError, SourceLocation

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

_SETUP_NAME = re.compile(r"""\bname\s*=\s*(['"])([A-Za-z0-9][A-Za-z0-9._\-]*)\1""")
_TORCH_EXTENSION = re.compile(r"torch\.utils\.cpp_extension|\bCUDAExtension\b|\bBuildExtension\b")
_CUDA_EXTENSION = re.compile(r"\bCUDAExtension\b|\.cu['\"]")


@dataclass(frozen=True, slots=True)
class Project:
    """A Python package in the repository; ``path`` is relative to the repository root."""

    path: Path
    name: str
    dependencies: tuple[str, ...] = ()
    requires_python: str | None = None
    needs_environment: bool = False
    """The build imports the environment's packages (torch): build without isolation."""
    cuda: bool = False
    """The package compiles CUDA code (nvcc at build time, the GPU variant)."""

    @property
    def is_root(self) -> bool:
        return self.path == Path()


def _toml(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot parse: {exc}", fix="fix the TOML syntax",
                         location=SourceLocation(path)) from exc
    return data


def _setup_cfg(path: Path) -> configparser.ConfigParser | None:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(path.read_text(encoding="utf-8"))
    except (configparser.Error, UnicodeDecodeError) as exc:
        raise InputError(f"cannot parse: {exc}", fix="fix the INI syntax",
                         location=SourceLocation(path)) from exc
    return parser if parser.has_section("metadata") or parser.has_section("options") else None


def _cfg_list(value: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in value.splitlines()
                 if line.strip() and not line.strip().startswith(("#", ";")))


def read_project(root: Path, relative: Path) -> Project | None:
    """The package at ``root/relative``, or None when that directory holds no package."""
    directory = root / relative
    pyproject = directory / "pyproject.toml"
    setup_py = directory / "setup.py"
    setup_cfg = directory / "setup.cfg"
    table = _toml(pyproject) if pyproject.is_file() else {}
    project = table.get("project") if isinstance(table.get("project"), dict) else None
    cfg = _setup_cfg(setup_cfg) if setup_cfg.is_file() else None
    setup_text = setup_py.read_text(encoding="utf-8", errors="replace") if setup_py.is_file() else ""
    if project is None and "build-system" not in table and cfg is None and not setup_py.is_file():
        return None

    name = None
    dependencies: tuple[str, ...] = ()
    requires_python = None
    if project is not None:
        name = project.get("name")
        dependencies = tuple(str(d) for d in project.get("dependencies", ()) or ())
        requires_python = project.get("requires-python")
    if cfg is not None:
        name = name or cfg.get("metadata", "name", fallback=None)
        if not dependencies:
            dependencies = _cfg_list(cfg.get("options", "install_requires", fallback=""))
        requires_python = requires_python or cfg.get("options", "python_requires", fallback=None)
    if not name:
        found = _SETUP_NAME.search(setup_text)
        name = found.group(2) if found else None
    build_requires = " ".join(str(r) for r in table.get("build-system", {}).get("requires", ()))
    needs_environment = bool(_TORCH_EXTENSION.search(setup_text)) or "torch" in build_requires
    return Project(
        path=relative,
        name=str(name) if name else _fallback_name(root, relative),
        dependencies=dependencies,
        requires_python=str(requires_python).strip() if requires_python else None,
        needs_environment=needs_environment,
        cuda=bool(_CUDA_EXTENSION.search(setup_text)),
    )


def _fallback_name(root: Path, relative: Path) -> str:
    """A name for a package whose setup.py computes it: the directory's name."""
    return (root / relative).resolve().name
