"""``conda2docker inspect``: show how an input is read, and every change the reader made."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from conda2docker.platforms import DEFAULT_PLATFORM, TARGET_PLATFORMS


class Format(str, Enum):
    json = "json"
    table = "table"


def inspect(
    env: Annotated[
        Path,
        typer.Argument(
            help="environment.yml, conda-lock.yml, explicit lock, requirements.txt, or a "
            "folder holding one."
        ),
    ],
    output_format: Annotated[
        Format,
        typer.Option("--format", help="table for people, json for tools (documented, stable)."),
    ] = Format.table,
    platform: Annotated[
        str,
        typer.Option(
            "--platform", "-p", help=f"Target platform: {', '.join(TARGET_PLATFORMS)}."
        ),
    ] = DEFAULT_PLATFORM,
) -> None:
    """Print the normalised environment and every change the reader made, with the reason."""
    from conda2docker.read import read_input
    from conda2docker.read.report import render_json, render_table

    spec = read_input(env, platform=platform)
    render = render_json if output_format is Format.json else render_table
    from conda2docker.credentials import redact

    typer.echo(redact(render(spec, platform)), nl=False)


def register(app: typer.Typer) -> None:
    app.command("inspect")(inspect)
