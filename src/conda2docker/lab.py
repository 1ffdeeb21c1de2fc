"""The ``convert`` job for a lab: many environments in one run, one context each, one bake file.

``convert ENV_OR_DIR… -o OUT`` with several inputs, or a directory, converts every environment
into ``OUT/<name>/`` (the layout of a single ``convert``) and writes ``OUT/docker-bake.hcl``
with a target per environment and variant. The environments are converted one after another in
this process, their solves sharing one gateway per channel cache (repodata read once); an
environment that fails is reported with its true cause and the others still convert.

Names: the environment's ``name:``, else its file's stem, else (for ``environment.yml`` and
other generic stems) the folder holding it; made safe (:func:`conda2docker.plan.bake.safe_name`)
and unique in input order (``-2``, ``-3``…).

A single environment file keeps the single ``convert``'s layout (the context is ``OUT``); it
gets a bake file (context ``.``) only when asked for something only bake carries:
``--tag-template``, ``--cache`` other than ``none``, or several ``--platform``. The command
(``conda2docker.commands.convert``) makes both choices, so a single environment's ``convert``
never imports this module unless it writes a bake file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from conda2docker.choices import DEFAULT_CACHE, CacheMode
from conda2docker.convert import ConvertRequest, ConvertResult, convert
from conda2docker.errors import (
    NO_GUARD_VARIABLE,
    InputError,
    SourceLocation,
    UserError,
    internal_error_line,
)
from conda2docker.image import BAKE_FILE
from conda2docker.validate import comment_text, shown
from conda2docker.values import frozen

if TYPE_CHECKING:
    from conda2docker.plan.bake import BakeFile, BakeVariant

Echo = Callable[[str], None]

GENERIC_STEMS = frozenset({"environment", "env", "conda-lock", "requirements", "spec"})
"""File stems that say nothing of the environment: its folder names it instead."""
ENV_SUFFIXES = (".yml", ".yaml")
SKIPPED_DIRS = frozenset({".git", "node_modules", "__pycache__"})
MAX_SEARCHED = 10_000
_DEPENDENCIES = re.compile(r"^dependencies\s*:", re.MULTILINE)
EXIT_INTERNAL = 70


@frozen
class LabFailure:
    """An environment of the lab that could not be converted, and why."""
    name: str
    source: Path
    lines: tuple[str, ...]
    """The error as printed: ``file:line:col: what; fix: how``, one line per problem."""
    exit_code: int


@frozen
class LabResult:
    """What a lab convert made."""
    converted: tuple[tuple[str, ConvertResult], ...]
    failed: tuple[LabFailure, ...]
    bake: Path | None = None
    bake_differs: bool = False

    @property
    def exit_code(self) -> int:
        """0 when every environment converted; else the largest exit code of the failures
        (2 bad input, 3 unsolvable, 70 a bug)."""
        return max((f.exit_code for f in self.failed), default=0)


def _looks_like_environment(path: Path) -> bool:
    from conda2docker.read.decode import read_text

    try:
        text = read_text(path, what="environment file")
    except UserError:
        return True  # a file that cannot be read is reported, not silently passed over
    return _DEPENDENCIES.search(text) is not None


def find_environments(inputs: Sequence[Path], output: Path,
                      links: list[Path] | None = None) -> list[Path]:
    """The environment files of ``inputs``: files as given; in a directory (searched
    recursively, hidden folders and ``output`` left out, in sorted order) every ``*.yml`` or
    ``*.yaml`` with a top-level ``dependencies:`` key. Symbolic links met in the search are not
    followed (they may point anywhere); they are added to ``links``."""
    found: list[Path] = []
    out = output.resolve()
    for given in inputs:
        if not given.is_dir():
            found.append(given)
            continue
        searched = 0
        for root, dirs, files in os.walk(given):
            here = Path(root)
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED_DIRS
                             and (here / d).resolve() != out)
            for name in sorted(files):
                searched += 1
                if searched > MAX_SEARCHED:
                    raise InputError(f"more than {MAX_SEARCHED:,} files under {given}",
                                     fix="point at the folder of the environment files",
                                     location=SourceLocation(given))
                path = here / name
                if path.suffix not in ENV_SUFFIXES:
                    continue
                if path.is_symlink():
                    if links is not None:
                        links.append(path)
                elif path.is_file() and _looks_like_environment(path):
                    found.append(path)
    return list(dict.fromkeys(found))


def raw_name(path: Path, declared: str | None) -> str:
    """The name an environment is known by, before it is made safe."""
    if declared and declared.strip():
        return declared
    stem = path.name.split(".")[0]
    if stem.lower() in GENERIC_STEMS and path.absolute().parent.name:
        return path.absolute().parent.name
    return stem


def _declared_name(path: Path, platform: str) -> str | None:
    from conda2docker.pipeline import read_spec

    try:
        return read_spec(path, platform, lock_platforms="target").name
    except UserError:
        return None  # convert reports it, with the true cause


def convert_lab(request: ConvertRequest, inputs: Sequence[Path], *, tag_template: str | None = None,
                cache: CacheMode = DEFAULT_CACHE, echo: Echo = lambda _line: None) -> LabResult:
    """Convert every environment of ``inputs`` into ``request.output/<name>/`` and write the
    bake file; ``request.env_file`` is ignored (each environment's file takes its place)."""
    from conda2docker.plan.bake import bake_file, check_tag_template, unique_names
    from conda2docker.platforms import first_target
    from conda2docker.resolve.conda import shared_gateways

    if tag_template is not None:
        check_tag_template(tag_template)
    links: list[Path] = []
    paths = find_environments(inputs, request.output, links)
    for link in links:
        echo(f"note: {comment_text(str(link))}: a symbolic link, not followed in a folder search; "
             "name the file itself to convert it")
    if not paths:
        raise InputError("no environment files found", fix="pass environment files, or a folder "
                         "holding *.yml files with a top-level dependencies: key",
                         location=SourceLocation(inputs[0]) if inputs else None)
    if tag_template is not None and len(paths) > 1 and "{name}" not in tag_template:
        raise InputError(f"--tag-template {shown(tag_template)} would give {len(paths)} environments the same tags",
                         fix="put {name} in the template, e.g. registry.example.org/lab/{name}:{variant}-{lock_hash}")
    platform = first_target(request.platforms)
    names = unique_names([raw_name(p, _declared_name(p, platform)) for p in paths])
    converted: list[tuple[str, ConvertResult]] = []
    failed: list[LabFailure] = []
    with shared_gateways():
        for path, name in zip(paths, names, strict=True):
            echo(f"{name}: converting {comment_text(str(path))}")  # a file name stays on its line
            one = replace(request, env_file=path, output=request.output / name)
            try:
                result = convert(one, echo=_prefixed(echo, name))
            except UserError as error:
                failed.append(LabFailure(name, path, tuple(error.lines()), error.exit_code))
                continue
            except Exception as error:  # one environment's bug must not lose the others
                if os.environ.get(NO_GUARD_VARIABLE):
                    raise
                failed.append(LabFailure(name, path, (internal_error_line(error),), EXIT_INTERNAL))
                continue
            converted.append((name, result))
    if not converted:
        return LabResult((), tuple(failed))
    bake = bake_file([v for name, result in converted for v in bake_variants(result, name, name)],
                     tag_template=tag_template, cache=cache)
    path, differs = write_bake(request, bake)
    return LabResult(tuple(converted), tuple(failed), path, differs)


def _prefixed(echo: Echo, name: str) -> Echo:
    return lambda line: echo(f"{name}: {line}")


def bake_variants(result: ConvertResult, name: str, context: str) -> list[BakeVariant]:
    from conda2docker.plan.bake import BakeVariant

    return [BakeVariant(name, variant, context, digest, result.platforms)
            for variant, digest in result.lock_digests]


def single_bake(request: ConvertRequest, result: ConvertResult, *, tag_template: str | None,
                cache: CacheMode) -> tuple[Path, bool]:
    """The bake file of one environment converted into ``request.output`` (context ``.``)."""
    from conda2docker.plan.bake import bake_file, safe_name

    name = safe_name(raw_name(request.env_file, result.resolution.spec.name))
    bake = bake_file(bake_variants(result, name, "."), tag_template=tag_template, cache=cache)
    return write_bake(request, bake)


def write_bake(request: ConvertRequest, bake: BakeFile) -> tuple[Path, bool]:
    """Write (or, with ``--check``, compare) ``OUT/docker-bake.hcl``; whether it differs."""
    from conda2docker.outputs import differing, write_files
    from conda2docker.render.bake import render_bake

    path = request.output / BAKE_FILE
    files = {path: render_bake(bake).encode()}
    if request.check:
        return path, bool(differing(files, request.output))
    request.output.mkdir(parents=True, exist_ok=True)
    write_files(files, root=request.output, force=request.force)
    return path, False


__all__ = ["LabFailure", "LabResult", "convert_lab", "find_environments", "raw_name",
           "single_bake"]
