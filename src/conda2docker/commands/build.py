"""``conda2docker build``: build a generated context through the Docker Engine API."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


def register(app: typer.Typer) -> None:
    app.command("build")(build_command)


def build_command(
    context: Annotated[Path, typer.Argument(help="The directory `convert` wrote.", show_default=False)],
    tag: Annotated[Optional[str], typer.Option("--tag", "-t", help="Image tag (default: conda2docker/<dir>:latest).")] = None,  # noqa: UP045
    variant: Annotated[str, typer.Option("--variant", help="cpu (Dockerfile) or gpu (Dockerfile.gpu).")] = "cpu",
    build_arg: Annotated[Optional[list[str]], typer.Option("--build-arg", help="KEY=VALUE (repeatable).")] = None,  # noqa: UP045
    network: Annotated[Optional[str], typer.Option("--network", help="Build network mode, e.g. none for vendored contexts.")] = None,  # noqa: UP045
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Do not use the layer cache.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")] = False,
) -> None:
    """Build the image from CONTEXT, streaming progress; the log is saved as CONTEXT/build.log."""
    import re

    from conda2docker.engine.build import build_image
    from conda2docker.engine.progress import ProgressDisplay
    from conda2docker.errors import InputError

    if variant not in ("cpu", "gpu"):
        raise InputError(f"unknown --variant {variant!r}", fix="use cpu or gpu")
    dockerfile = "Dockerfile" if variant == "cpu" else "Dockerfile.gpu"
    args: dict[str, str] = {}
    for item in build_arg or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError(f"invalid --build-arg {item!r}", fix="write --build-arg KEY=VALUE")
        args[key] = value
    name = re.sub(r"[^a-z0-9._-]+", "-", context.resolve().name.lower()).strip("-.") or "env"
    tag = tag or f"conda2docker/{name}:latest"
    with ProgressDisplay(enabled=not quiet) as display:
        result = build_image(
            context, tag, dockerfile=dockerfile, build_args=args, network_mode=network,
            no_cache=no_cache, progress=display.update,
        )
    typer.echo(f"built {result.tag} ({result.image_id[:19]}); log: {result.log_path}")
