"""``conda2docker build``: build a generated context through the Docker Engine API."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from conda2docker.commands._options import BuildArgOpt, parse_build_args
from conda2docker.image import Variant


def register(app: typer.Typer) -> None:
    app.command("build")(build_command)


def build_command(
    context: Annotated[Path, typer.Argument(help="The directory `convert` wrote.", show_default=False)],
    tag: Annotated[Optional[str], typer.Option("--tag", "-t", help="Image tag (default: conda2docker/<dir>:latest).")] = None,  # noqa: UP045
    variant: Annotated[Variant, typer.Option("--variant", help="cpu (Dockerfile) or gpu (Dockerfile.gpu).")] = "cpu",
    build_arg: BuildArgOpt = None,
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
    from conda2docker.engine.run import build_variant
    from conda2docker.validate import check_image_reference

    if tag is not None:  # the engine would refuse it too, but only after connecting
        check_image_reference(tag, "--tag")
    result = build_variant(context, variant, tag, target=target, build_args=parse_build_args(build_arg),
                           network_mode=network, no_cache=no_cache, quiet=quiet)
    for note in result.notes:
        typer.echo(f"note: {note}", err=True)
    typer.echo(f"built {result.tag} ({result.image_id[:19]}) in {result.seconds:.1f} s; log: {result.log_path}")
