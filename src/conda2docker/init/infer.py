"""An environment for a repository that has none, from requirements.txt and its package.

With nothing at all (only ``runtime.txt``, ``apt.txt``, ``postBuild``, ``start``, or no file),
it is repo2docker's default environment: Python (``runtime.txt``'s, else repo2docker's default
:data:`DEFAULT_PYTHON`) and Jupyter. Dependencies the conda↔PyPI map knows (``conda2docker.names``) become conda dependencies,
when their version specifier means the same to conda; the rest (extras, markers, URLs, git,
local paths, ``===``) stay in the ``pip:`` section. Python comes from ``runtime.txt``
(``python-3.10`` → ``python=3.10``), the package's ``requires-python``, or repo2docker's
default. JupyterLab is added, as repo2docker always provides Jupyter (``--no-jupyter`` leaves
it out). The repository's own package is not listed: ``init`` builds it from the checkout.
Nothing here reaches the network.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from conda2docker.init.discover import RepoFiles
from conda2docker.init.project import Project
from conda2docker.names import is_mapped_conda_name, pypi_to_conda
from conda2docker.read.decode import read_text
from conda2docker.values import frozen

CHANNEL = "conda-forge"
DEFAULT_PYTHON = "3.10"
"""repo2docker's default Python when a repository does not choose one (its tests assert 3.10)."""
JUPYTER = "jupyterlab"
_CONDA_OPERATORS = ("==", "!=", ">=", "<=", ">", "<", "~=")
_PLAIN = re.compile(r"^[A-Za-z0-9_.<>=!~*,][A-Za-z0-9_.<>=!~*, \-]*\Z")


@frozen
class Inferred:
    """The text of the environment file, and one line per decision for the report."""

    text: str
    conda: tuple[str, ...]
    pip: tuple[str, ...]
    notes: tuple[str, ...]


def conda_version(specifier: str) -> str | None:
    """A PEP 440 specifier as a conda version spec, or None when conda reads it differently."""
    try:
        specs = SpecifierSet(specifier)
    except InvalidSpecifier:
        return None
    parts = []
    for spec in sorted(specs, key=str):
        if spec.operator not in _CONDA_OPERATORS or "+" in spec.version or "!" in spec.version:
            return None
        if spec.operator == "==" and spec.version.endswith(".*"):
            parts.append(spec.version)
        else:
            parts.append(f"{spec.operator}{spec.version}")
    return ",".join(parts)


def python_dependency(runtime: str | None, requires_python: str | None,
                      default: str | None = None) -> tuple[str, str]:
    """The conda ``python`` dependency, and where it came from (``default``: ``--default-python``,
    else repo2docker's)."""
    if runtime:
        return f"python={runtime}", "runtime.txt"
    if requires_python:
        version = conda_version(requires_python)
        if version:
            return f"python{version}", "requires-python"
    if default:
        return f"python={default}", "--default-python"
    return f"python={DEFAULT_PYTHON}", "repo2docker's default; choose another with runtime.txt"


def as_conda(requirement: Requirement) -> str | None:
    """``numpy>=1.24`` → ``numpy>=1.24`` (conda name), or None when it must stay with pip."""
    if requirement.url or requirement.extras or requirement.marker is not None:
        return None
    conda_name = pypi_to_conda(requirement.name)
    if not is_mapped_conda_name(conda_name):
        return None
    version = conda_version(str(requirement.specifier))
    if version is None:
        return None
    return f"{conda_name}{version}" if version else conda_name


def _yaml_item(value: str) -> str:
    return value if _PLAIN.match(value) else json.dumps(value)


def _requirement_lines(root: Path, files: RepoFiles) -> list[str]:
    if files.requirements is None:
        return []
    lines = []
    for raw in read_text(root / files.requirements).splitlines():
        text = raw.split(" #", 1)[0].strip()
        if text and not text.startswith("#"):
            lines.append(text)
    return lines


def infer_environment(
    root: Path, files: RepoFiles, project: Project | None, runtime: str | None, name: str,
    *, jupyter: bool = True, default_python: str | None = None,
) -> Inferred:
    """The environment ``init`` builds for a repository without an environment file."""
    python, python_source = python_dependency(runtime, project.requires_python if project else None,
                                              default_python)
    conda: list[str] = [python]
    pip: list[str] = []
    notes = [f"python: {python} ({python_source})"]
    seen: set[str] = set()
    sources = [(line, str(files.requirements)) for line in _requirement_lines(root, files)]
    if project is not None:
        sources += [(dep, f"{project.name}'s dependencies") for dep in project.dependencies]
    for line, origin in sources:
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            pip.append(line)  # options (-r, --index-url), paths, -e …: pip reads them as written
            notes.append(f"pip: {line} ({origin})")
            continue
        key = canonicalize_name(requirement.name)
        if key in seen:
            continue
        seen.add(key)
        converted = as_conda(requirement)
        if converted is not None:
            conda.append(converted)
            notes.append(f"conda: {converted} (from {line}, {origin})")
        else:
            pip.append(line)
            notes.append(f"pip: {line} ({origin}; not in the conda map or not expressible)")
    if jupyter and not seen & {"jupyterlab", "notebook", "jupyter"}:
        conda.append(JUPYTER)
        notes.append(f"conda: {JUPYTER} (repo2docker always provides Jupyter; --no-jupyter "
                     "leaves it out)")
    if pip or files.post_build is not None:
        conda.append("pip")
        if not pip:
            notes.append("conda: pip (postBuild may call it)")
    body = [f"name: {_yaml_item(name)}", "channels:", f"  - {CHANNEL}", "dependencies:"]
    body += [f"  - {_yaml_item(dep)}" for dep in conda]
    if pip:
        body.append("  - pip:")
        body += [f"    - {_yaml_item(line)}" for line in pip]
    sources_read = [str(p) for p in (files.requirements, files.pyproject or files.setup_py
                                     or files.setup_cfg, files.runtime) if p is not None]
    header = ("# Written by `conda2docker init` from "
              + (" and ".join(sources_read) if sources_read else "repo2docker's defaults")
              + ". init infers it again on every run; to edit it, save it as environment.yml.")
    text = "\n".join([header, *body]) + "\n"
    return Inferred(text, tuple(conda), tuple(pip), tuple(notes))
