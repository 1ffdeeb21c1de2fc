"""``conda2docker build``: build a generated context through the Docker Engine API."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from conda2docker.choices import Engine
from conda2docker.commands._options import BuildArgOpt, EngineOpt, parse_build_args
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
    engine: EngineOpt = None,
    bake: Annotated[bool, typer.Option("--bake", help="Build every target of CONTEXT/docker-bake.hcl: with "
                                       "`docker buildx bake` when buildx is there, else one by one "
                                       "through the engine API (with a note on what is lost).")] = False,
    bake_target: Annotated[Optional[list[str]], typer.Option("--bake-target", help="With --bake: a target or group to build (repeatable; default: bake's default group).")] = None,  # noqa: UP045
    push: Annotated[bool, typer.Option("--push", help="With --bake and buildx: push the images (bake --push).")] = False,
    load: Annotated[bool, typer.Option("--load", help="With --bake and buildx: load the images into the local engine (bake --load).")] = False,
) -> None:
    """Build the image from CONTEXT, streaming progress; the log is saved as CONTEXT/build.log.

    On a terminal a live display shows each stage's steps; elsewhere one line per step. A
    failed step is reported in one line naming the stage, the step, the package it was
    working on and the last lines of its output (exit code 4, as for an unreachable engine).

    With --bake, every target of CONTEXT/docker-bake.hcl (checked first: nothing in it may reach
    the host) is built by `docker buildx bake`, or without buildx one by one through the engine
    API; one line per target, exit code 4 when any did not build (docs/scale-out.md).
    """
    from conda2docker.engine.client import address_for, engine_at
    from conda2docker.engine.run import build_variant

    args = parse_build_args(build_arg)
    if bake:
        _bake(context, args, engine, tag=tag, target=target, network=network, names=bake_target or [],
              push=push, load=load, no_cache=no_cache, quiet=quiet)
        return
    if bake_target or push or load:
        from conda2docker.errors import InputError

        raise InputError("--bake-target, --push and --load apply to --bake",
                         fix="add --bake to build the bake file's targets")
    with engine_at(address_for(engine)):
        result = build_variant(context, variant, tag, target=target, build_args=args,
                               network_mode=network, no_cache=no_cache, quiet=quiet)
    for note in result.notes:
        typer.echo(f"note: {note}", err=True)
    typer.echo(f"built {result.tag} ({result.image_id[:19]}) in {result.seconds:.1f} s; log: {result.log_path}")


def _bake(context: Path, args: dict[str, str], engine: Engine | None, *, tag: str | None,
          target: str | None, network: str | None, names: list[str], push: bool, load: bool,
          no_cache: bool, quiet: bool) -> None:
    from conda2docker.engine.bake import BakeOptions, bake_build
    from conda2docker.engine.client import address_for, engine_at
    from conda2docker.errors import EngineError, InputError

    given = [name for name, value in (("--tag", tag), ("--target", target), ("--network", network)) if value]
    if given:
        raise InputError(f"{', '.join(given)} cannot be used with --bake",
                         fix="set tags, target and network per target in docker-bake.hcl")
    if push and load:
        raise InputError("--push and --load cannot be used together", fix="choose one")
    address = address_for(engine)
    options = BakeOptions(names=tuple(names), push=push, load=load, no_cache=no_cache,
                          build_args=args, quiet=quiet, engine_chosen=address)
    with engine_at(address):
        report = bake_build(context, options, echo=lambda line: typer.echo(line, err=True))
    for note in report.notes:
        typer.echo(f"note: {note}", err=True)
    for result in report.results:
        what = " ".join(x for x in (result.image, f"in {result.seconds:.1f} s" if result.seconds else "") if x)
        detail = f": {result.detail}" if result.detail else ""
        typer.echo(f"{result.name}: {result.status}" + (f" {what}" if what else "") + detail)
    typer.echo(f"log: {report.log}")
    if report.failed:
        listed = "; ".join(f"{r.name} ({r.status})" for r in report.failed)
        raise EngineError(f"{len(report.failed)} of {len(report.results)} bake target(s) did not build: {listed}",
                          fix=f"read {report.log} and the targets' build logs; fix them and run again")
