"""The repository's own Python package(s), read statically: nothing is built, imported or run.

A directory is a package when it has a ``setup.py``, a ``setup.cfg`` with ``[metadata]`` or
``[options]``, or a ``pyproject.toml`` with ``[project]`` or ``[build-system]``. A
``pyproject.toml`` holding only tool settings (black, ruff…) is not a package.

What is read, and from where:

* ``pyproject.toml`` ``[project]`` (PEP 621): ``name``, ``dependencies``, ``requires-python``;
  ``dynamic = ["dependencies"]`` is followed only into setuptools'
  ``[tool.setuptools.dynamic] dependencies = {file = [...]}`` (plain requirement files);
* ``setup.cfg``: ``[metadata] name``, ``[options] install_requires`` (``file:`` followed the
  same way) and ``python_requires``;
* ``setup.py``: parsed with :mod:`ast`, never executed. The keyword arguments of its
  ``setup(...)`` call are read when they are literals (or names bound once, at module level,
  to literals); anything computed makes the metadata *dynamic*.

When the dependencies are dynamic (computed by ``setup.py``, or declared dynamic with no
file to read), :attr:`Project.dynamic` says why: the image's project stage then lets pip
resolve them inside the build, and ``init`` reports it. The build needs the environment
itself when ``setup.py`` uses ``torch.utils.cpp_extension`` (a CUDA/C++ extension against
PyTorch): it is then built without isolation.
"""

from __future__ import annotations

import ast
import configparser
import re
import sys
from pathlib import Path
from typing import Any

from conda2docker.errors import InputError, SourceLocation
from conda2docker.values import frozen

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

_TORCH_EXTENSION = re.compile(r"torch\.utils\.cpp_extension|\bCUDAExtension\b|\bBuildExtension\b")
_CUDA_EXTENSION = re.compile(r"\bCUDAExtension\b|\.cu['\"]")
_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._\-]*[A-Za-z0-9])?\Z")
MAX_FILE_BYTES = 1024 * 1024
"""Metadata files larger than this are not read (a package's metadata is a few kilobytes)."""


@frozen
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
    dynamic: str | None = None
    """Why the dependencies cannot be read without running the build (None: read statically)."""

    @property
    def is_root(self) -> bool:
        return self.path == Path()

    @property
    def label(self) -> str:
        return f"{self.name} ({self.path.as_posix() or '.'})"


def _confined(root: Path, path: Path) -> None:
    """Refuse a metadata file that resolves outside the repository (a link to ``/etc/…``)."""
    if (path.exists() or path.is_symlink()) and not path.resolve().is_relative_to(root.resolve()):
        raise InputError("is a symbolic link to a file outside the repository",
                         fix="replace the link with the file itself", location=SourceLocation(path))


def _text(path: Path) -> str:
    if not path.is_file():
        raise InputError("is not a regular file", fix="replace it with a regular file",
                         location=SourceLocation(path))
    if path.stat().st_size > MAX_FILE_BYTES:
        raise InputError(f"is larger than {MAX_FILE_BYTES // 1024} KB",
                         fix="keep package metadata small", location=SourceLocation(path))
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError("is not UTF-8 text", fix="save the file as UTF-8",
                         location=SourceLocation(path)) from exc


def _toml(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = tomllib.loads(_text(path))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"cannot parse: {exc}", fix="fix the TOML syntax",
                         location=SourceLocation(path)) from exc
    return data


def _table(data: dict[str, Any], key: str, path: Path) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise InputError(f"[{key}] is not a table", fix=f"write [{key}] as a TOML table",
                         location=SourceLocation(path))
    return value


def _setup_cfg(path: Path) -> configparser.ConfigParser | None:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(_text(path))
    except configparser.Error as exc:
        # configparser's message quotes the offending line: name the line, never its text
        line = getattr(exc, "lineno", None)
        raise InputError(f"cannot parse: {type(exc).__name__}", fix="fix the INI syntax",
                         location=SourceLocation(path, line if isinstance(line, int) else None)) \
            from exc
    return parser if parser.has_section("metadata") or parser.has_section("options") else None


def _requirement_lines(text: str) -> tuple[str, ...]:
    out = []
    for line in text.splitlines():
        content = line.split(" #", 1)[0].strip()
        if content and not content.startswith(("#", ";")):
            out.append(content)
    return tuple(out)


def _file_requirements(directory: Path, names: list[str]) -> tuple[str, ...] | None:
    """Requirement lines of files the metadata points at (inside the package), or None when a
    file is missing, outside the package or itself refers to others (``-r``)."""
    lines: list[str] = []
    base = directory.resolve()
    for name in names:
        target = (directory / name).resolve()
        if not target.is_relative_to(base) or not target.is_file():
            return None
        found = _requirement_lines(_text(target))
        if any(line.startswith("-") for line in found):
            return None
        lines += found
    return tuple(lines)


class _SetupCall:
    """The literal keyword arguments of ``setup(...)`` in a setup.py, found with :mod:`ast`."""

    def __init__(self, text: str, path: Path) -> None:
        try:
            tree = ast.parse(text, filename=str(path))
        except (SyntaxError, ValueError) as exc:
            raise InputError(f"cannot parse: {exc}", fix="fix the Python syntax",
                             location=SourceLocation(path)) from exc
        except (RecursionError, MemoryError) as exc:
            raise InputError("is nested too deeply to read", fix="simplify setup.py",
                             location=SourceLocation(path)) from exc
        self.constants = self._module_constants(tree)
        self.call = self._find_setup(tree)

    @staticmethod
    def _module_constants(tree: ast.Module) -> dict[str, Any]:
        assigned: dict[str, list[ast.expr]] = {}
        for node in tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                    and isinstance(node.targets[0], ast.Name):
                assigned.setdefault(node.targets[0].id, []).append(node.value)
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) \
                    and node.value is not None:
                assigned.setdefault(node.target.id, []).append(node.value)
            elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
                # changed after assignment: never read as a constant
                assigned.setdefault(node.target.id, []).extend((node.target, node.target))
        constants: dict[str, Any] = {}
        for name, values in assigned.items():
            if len(values) != 1:
                continue
            try:
                constants[name] = ast.literal_eval(values[0])
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                continue
        return constants

    @staticmethod
    def _find_setup(tree: ast.Module) -> ast.Call | None:
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else \
                func.attr if isinstance(func, ast.Attribute) else None
            if name == "setup":
                return node
        return None

    def value(self, keyword: str) -> tuple[bool, Any]:
        """``(True, value)`` for a literal keyword argument, ``(True, None)`` when absent and no
        ``**kwargs`` could supply it, ``(False, None)`` when it is computed."""
        if self.call is None:
            return False, None
        for item in self.call.keywords:
            if item.arg is None:
                continue
            if item.arg == keyword:
                if isinstance(item.value, ast.Name):
                    if item.value.id in self.constants:
                        return True, self.constants[item.value.id]
                    return False, None
                try:
                    return True, ast.literal_eval(item.value)
                except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                    return False, None
        if any(item.arg is None for item in self.call.keywords):
            return False, None
        return True, None


def _string_list(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, str):
        return _requirement_lines(value)
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return tuple(v.strip() for v in value if v.strip())
    return None


def read_project(root: Path, relative: Path) -> Project | None:
    """The package at ``root/relative``, or None when that directory holds no package."""
    directory = root / relative
    pyproject = directory / "pyproject.toml"
    setup_py = directory / "setup.py"
    setup_cfg = directory / "setup.cfg"
    for path in (pyproject, setup_py, setup_cfg):
        _confined(root, path)
    table = _toml(pyproject) if pyproject.exists() else {}
    project = _table(table, "project", pyproject) if "project" in table else None
    build_system = _table(table, "build-system", pyproject)
    cfg = _setup_cfg(setup_cfg) if setup_cfg.exists() else None
    setup_text = _text(setup_py) if setup_py.exists() else ""
    if project is None and "build-system" not in table and cfg is None and not setup_py.exists():
        return None

    name: str | None = None
    dependencies: tuple[str, ...] | None = None
    requires_python: str | None = None
    dynamic: str | None = None
    if project is not None:
        name = project.get("name") if isinstance(project.get("name"), str) else None
        declared_dynamic = project.get("dynamic", ())
        if "dependencies" in (declared_dynamic if isinstance(declared_dynamic, list) else ()):
            dependencies = _setuptools_dynamic(table, directory)
        else:
            listed = _string_list(project.get("dependencies", []))
            if listed is None or isinstance(project.get("dependencies"), str):
                raise InputError("[project] dependencies is not a list of strings",
                                 fix='write dependencies = ["numpy>=1.24", ...]',
                                 location=SourceLocation(pyproject))
            dependencies = listed
        python = project.get("requires-python")
        requires_python = python if isinstance(python, str) else None
    if cfg is not None:
        name = name or cfg.get("metadata", "name", fallback=None)
        if dependencies is None or (project is None and not dependencies):
            raw = cfg.get("options", "install_requires", fallback="")
            if raw.strip().startswith("file:"):
                files = [f.strip() for f in raw.strip()[5:].split(",") if f.strip()]
                dependencies = _file_requirements(directory, files)
            elif raw.strip():
                dependencies = _requirement_lines(raw)
        requires_python = requires_python or cfg.get("options", "python_requires", fallback=None)
    if setup_text:
        call = _SetupCall(setup_text, setup_py)
        if call.call is None and project is None and cfg is None:
            dynamic = "setup.py has no setup(...) call to read"
        known, value = call.value("name")
        if not name and known and isinstance(value, str):
            name = value
        if (dependencies is None or not dependencies) and project is None:
            known, value = call.value("install_requires")
            listed = _string_list(value) if known and value is not None else ()
            if known and listed is not None:
                dependencies = (dependencies or ()) + listed
            elif dynamic is None:
                dynamic = "setup.py computes install_requires"
        known, value = call.value("python_requires")
        if not requires_python and known and isinstance(value, str):
            requires_python = value
    if dependencies is None and dynamic is None:
        dynamic = ("pyproject.toml declares its dependencies dynamic"
                   if project is not None else "the dependencies could not be read")
    requires = build_system.get("requires", ())
    build_requires = " ".join(str(r) for r in requires) if isinstance(requires, list) else ""
    needs_environment = bool(_TORCH_EXTENSION.search(setup_text)) or "torch" in build_requires
    clean_name = str(name).strip() if name else ""
    return Project(
        path=relative,
        name=clean_name if _NAME.match(clean_name) else _fallback_name(root, relative),
        dependencies=dependencies or (),
        requires_python=str(requires_python).strip() if requires_python else None,
        needs_environment=needs_environment,
        cuda=bool(_CUDA_EXTENSION.search(setup_text)),
        dynamic=dynamic,
    )


def _setuptools_dynamic(table: dict[str, Any], directory: Path) -> tuple[str, ...] | None:
    tool = table.get("tool", {})
    setuptools = tool.get("setuptools", {}) if isinstance(tool, dict) else {}
    dynamic = setuptools.get("dynamic", {}) if isinstance(setuptools, dict) else {}
    spec = dynamic.get("dependencies") if isinstance(dynamic, dict) else None
    files = spec.get("file") if isinstance(spec, dict) else None
    if isinstance(files, str):
        files = [files]
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        return None
    return _file_requirements(directory, files)


def _fallback_name(root: Path, relative: Path) -> str:
    """A name for a package whose metadata does not give one: the directory's name."""
    slug = re.sub(r"[^A-Za-z0-9._\-]+", "-", (root / relative).resolve().name).strip("-._")
    return slug or "project"
