"""Conda spec files (``conda create --file spec.txt``, ``conda list --export``) and telling
them from pip requirements files by their content.

A ``.txt`` file is a conda spec file when it uses forms only conda reads: ``name=1.2`` or
``name=1.2=build`` pins (pip needs ``==``), ``name 1.2 build`` with spaces, ``channel::name``,
or the ``# platform:`` header ``conda list --export`` writes. It is a pip requirements file
when it uses forms only pip reads: option lines (``-r``, ``--index-url``), ``name @ url``,
extras, markers, URLs. A file of forms both read (bare names, ``==``/``>=`` pins) is read by
its name: ``requirements*.txt``, ``*requirements.txt``, ``constraints*.txt`` and ``*.in`` as
pip; any other name is an error saying how to make it unambiguous.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from conda2docker.errors import InputError, SourceLocation
from conda2docker.model import CondaDependency, EnvSpec, PipRequirement, ReaderChange
from conda2docker.read.condaspec import parse_conda_spec
from conda2docker.read.piplines import parse_requirement
from conda2docker.read.platform_only import adapt_conda, origin_evidence

TextKind = Literal["conda", "pip", "either"]

_PLATFORM_HEADER = re.compile(r"^#\s*platform:\s*(\S+)\s*$")
_CONDA_ONLY = (
    re.compile(r"^[A-Za-z0-9_.\-]+\s*=(?!=)"),  # name=1.2, name =1.2, name=1.2=build
    re.compile(r"^[A-Za-z0-9_.\-]+\s+[0-9*][^\s;@]*(\s+\S+)?$"),  # name 1.2 [build]
    re.compile(r"^[^\s:/]+::"),  # channel::name
    re.compile(r"^\S+\.(conda|tar\.bz2)(#\S*)?$"),  # a package file URL
)
_PIP_ONLY = (
    re.compile(r"^-"),  # -r, -e, --index-url, ...
    re.compile(r"\s@\s"),  # name @ url
    re.compile(r"^[A-Za-z0-9_.\-]+\s*\["),  # extras
    re.compile(r";"),  # markers
    re.compile(r"^[a-z][a-z0-9+.\-]*://"),  # a URL
    re.compile(r"^[a-z]+\+[a-z]+://"),  # git+https://
    re.compile(r"==="),
    re.compile(r"^[./~]"),  # a local path
)
PIP_FILE_NAME = re.compile(r"(^requirements|requirements\Z|^constraints|^requires\Z)", re.IGNORECASE)
SPEC_FILE_HINT = (
    "name it requirements.txt (or requirements-*.txt) to read it as pip requirements, or add a "
    "'# platform: linux-64' line (as `conda list --export` writes) or pin with '=' "
    "(name=1.2) to read it as a conda spec file"
)


def _entries(text: str) -> list[tuple[int, int, str]]:
    """(line, column, text) of each entry: comments and blank lines left out."""
    found = []
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.split(" #", 1)[0].split("\t#", 1)[0].strip()
        if not stripped or stripped.startswith("#"):
            continue
        found.append((number, len(raw) - len(raw.lstrip()) + 1, stripped))
    return found


def text_kind(text: str) -> TextKind:
    """Which tool's syntax the file uses: ``conda``, ``pip``, or ``either`` (both read it)."""
    lines = text.splitlines()
    if any(_PLATFORM_HEADER.match(line.strip()) for line in lines[:20]):
        return "conda"
    conda = pip = False
    for _, _, entry in _entries(text):
        conda = conda or any(p.search(entry) for p in _CONDA_ONLY)
        pip = pip or any(p.search(entry) for p in _PIP_ONLY)
    if conda and not pip:
        return "conda"
    if pip and not conda:
        return "pip"
    if conda and pip:
        return "either"
    return "either"


def is_pip_file_name(path: Path) -> bool:
    stem = path.name.lower().split(".")[0]
    return path.suffix.lower() == ".in" or bool(PIP_FILE_NAME.search(stem)) or (
        path.parent.name.lower() == "requirements"
    )


def spec_file_kind(path: Path, text: str) -> Literal["conda", "pip"]:
    """How to read a ``.txt``-like input; an :class:`InputError` with the hint when its content
    and its name leave it open, or when it mixes conda-only and pip-only forms."""
    kind = text_kind(text)
    if kind != "either":
        return kind
    entries = _entries(text)
    conda_line = next((e for e in entries if any(p.search(e[2]) for p in _CONDA_ONLY)), None)
    pip_line = next((e for e in entries if any(p.search(e[2]) for p in _PIP_ONLY)), None)
    if conda_line and pip_line:
        raise InputError(
            f"mixes conda spec lines ({conda_line[2]!r}) and pip requirement lines "
            f"({pip_line[2]!r})",
            fix="keep conda specs (name=1.2) and pip requirements (name==1.2) in separate files, "
            "or write an environment.yml with a pip: section",
            location=SourceLocation(path, pip_line[0], pip_line[1]),
        )
    if is_pip_file_name(path):
        return "pip"
    raise InputError(
        "cannot tell whether this is a conda spec file or a pip requirements file (its lines "
        "read the same to both)",
        fix=SPEC_FILE_HINT,
        location=SourceLocation(path),
    )


def read_conda_spec_file(path: Path, text: str, *, platform: str) -> EnvSpec:
    """A conda spec file as an environment: its lines are the conda dependencies.

    As ``conda create --file``: ``# platform:`` says where it was written (a Windows or macOS
    export has its platform-only packages dropped or mapped for Linux, as in environment
    files); ``@EXPLICIT`` files are explicit locks and never reach here. Packages that
    ``conda list --export`` lists from PyPI (build ``pypi_0``) become pip requirements.
    """
    written_for: str | None = None
    for line in text.splitlines()[:20]:
        header = _PLATFORM_HEADER.match(line.strip())
        if header:
            written_for = header[1]
    conda: list[CondaDependency] = []
    pip: list[PipRequirement] = []
    changes: list[ReaderChange] = []
    problems: list[InputError] = []
    for number, column, entry in _entries(text):
        where = SourceLocation(path, number, column)
        try:
            dependency = parse_conda_spec(entry, where).dependency
        except InputError as error:
            problems.append(error)
            continue
        if dependency.build and re.fullmatch(r"pypi_\d+", dependency.build):
            version = dependency.version.removeprefix("==")
            pip.append(parse_requirement(f"{dependency.name}=={version}", where, path.parent,
                                         raw=entry))
            changes.append(ReaderChange(
                action="mapped", subject=dependency.name, code="R510", location=where,
                reason="listed by `conda list --export` as installed from PyPI (build "
                f"{dependency.build}); installed with pip",
            ))
            continue
        conda.append(dependency)
    if problems:
        first = problems[0]
        more = f" (and {len(problems) - 1} more problem(s) in this file)" if len(problems) > 1 else ""
        raise InputError(first.message + more, fix=first.fix, location=first.location)
    evidence = origin_evidence([d.name for d in conda], None, path.name)
    if written_for and written_for.startswith("osx"):
        evidence = evidence | {"osx"}
    elif written_for and written_for.startswith("win"):
        evidence = evidence | {"win"}
    kept: list[CondaDependency] = []
    for dependency in conda:
        adapted, change = adapt_conda(dependency, platform, evidence)
        if change is not None:
            changes.append(change)
        if adapted is not None:
            kept.append(adapted)
    if pip and not any(d.name == "pip" for d in kept):
        kept.append(CondaDependency(name="pip"))
        changes.append(ReaderChange(action="added", subject="pip", code="R510",
                                    reason="pip installs the packages listed from PyPI",
                                    location=SourceLocation(path)))
    if is_pip_file_name(path):
        sample = next((e for e in _entries(text) if any(p.search(e[2]) for p in _CONDA_ONLY)), None)
        shown = f" (line {sample[0]}: {sample[2]!r})" if sample else ""
        changes.insert(0, ReaderChange(
            action="mapped", subject=path.name, location=SourceLocation(path),
            reason=f"read as a conda spec file, as `conda create --file` reads it: its lines use "
            f"forms pip does not accept{shown}; write name==1.2 for pip",
        ))
    return EnvSpec(
        source=path,
        kind="environment",
        conda=tuple(kept),
        pip=tuple(pip),
        platforms=(written_for,) if written_for else (),
        changes=tuple(changes),
    )
