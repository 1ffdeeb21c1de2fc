"""``conda2docker build``: build a generated context through the Docker Engine API."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


def register(app: typer.Typer) -> None:
    app.command("build")(build_command)


def default_tag(context: Path) -> str:
    """``conda2docker/<directory name>:latest``, with the name made a valid repository."""
    import re

    name = re.sub(r"[^a-z0-9._-]+", "-", context.resolve().name.lower()).strip("-._") or "env"
    return f"conda2docker/{name}:latest"


def parse_build_args(items: list[str] | None) -> dict[str, str]:
    from conda2docker.errors import InputError

    args: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError(f"invalid --build-arg {item!r}", fix="write --build-arg KEY=VALUE")
        args[key] = value
    return args


def build_command(
    context: Annotated[Path, typer.Argument(help="The directory `convert` wrote.", show_default=False)],
    tag: Annotated[Optional[str], typer.Option("--tag", "-t", help="Image tag (default: conda2docker/<dir>:latest).")] = None,  # noqa: UP045
    variant: Annotated[str, typer.Option("--variant", help="cpu (Dockerfile) or gpu (Dockerfile.gpu).")] = "cpu",
    build_arg: Annotated[Optional[list[str]], typer.Option("--build-arg", help="KEY=VALUE (repeatable).")] = None,  # noqa: UP045
    network: Annotated[Optional[str], typer.Option("--network", help="Build network mode, e.g. none for vendored contexts.")] = None,  # noqa: UP045
    target: Annotated[Optional[str], typer.Option("--target", help="Build only up to this stage (env, wheels, pip, runtime).")] = None,  # noqa: UP045
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Do not use the layer cache.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")] = False,
) -> None:
    """Build the image from CONTEXT, streaming progress; the log is saved as CONTEXT/build.log.

    On a terminal a live display shows each stage's steps; elsewhere one line per step. A
    failed step is reported in one line naming the stage, the step, the package it was
    working on and the last lines of its output (exit code 4, as for an unreachable engine).
    """
    from conda2docker.engine.build import build_image
    from conda2docker.engine.progress import ProgressDisplay
    from conda2docker.errors import InputError
    from conda2docker.image import dockerfile_name
    from conda2docker.verify_checks import parse_stages

    if variant not in ("cpu", "gpu"):
        raise InputError(f"unknown --variant {variant!r}", fix="use cpu or gpu")
    dockerfile = dockerfile_name(variant)
    args = parse_build_args(build_arg)
    tag = tag or default_tag(context)
    steps: dict[str, int] = {}
    path = context / dockerfile
    if path.is_file():
        steps = {s.name: len(s.instructions) + 1 for s in parse_stages(path.read_text(encoding="utf-8"))}
    with ProgressDisplay(enabled=not quiet, stage_steps=steps) as display:
        result = build_image(
            context, tag, dockerfile=dockerfile, target=target, build_args=args, network_mode=network,
            no_cache=no_cache, progress=display.update,
        )
    display.summary(result)
    typer.echo(f"built {result.tag} ({result.image_id[:19]}) in {result.seconds:.1f} s; log: {result.log_path}")
