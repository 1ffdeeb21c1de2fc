"""CLI options shared by several commands, and the parsing of ``KEY=VALUE`` options.

Choices are the types of :mod:`conda2docker.choices` (typer validates them); defaults are the
image contract's and the plan's. Nothing outside ``commands/`` imports this package.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from conda2docker.choices import ChannelPriority, Engine, Solver
from conda2docker.platforms import TARGET_PLATFORMS

EnvArg = Annotated[
    Path,
    typer.Argument(help="environment.yml, conda-lock.yml, an explicit lock or requirements.txt",
                   show_default=False, metavar="ENV_FILE"),
]
PlatformOpt = Annotated[
    Optional[list[str]],  # noqa: UP045 - typer needs Optional here
    typer.Option("--platform", "-p", help=f"Target platform (repeatable): {', '.join(TARGET_PLATFORMS)}."),
]
ChannelOpt = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option("--channel", "-c", help="Extra channel, after the environment's own (repeatable)."),
]
ChannelAliasOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--channel-alias", help="Root URL for channel names, as conda's channel_alias "
                 "(e.g. file:///srv/channels maps conda-forge to file:///srv/channels/conda-forge)."),
]
DefaultChannelsOpt = Annotated[
    str,
    typer.Option("--default-channels", help="Channels appended after the environment's own unless it "
                 "lists nodefaults, as conda appends its configured ones: conda-forge (Miniforge), "
                 "defaults (Anaconda), a comma-separated list, or none."),
]
MirrorOpt = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option("--mirror", help="Read channel NAME from URL; the lock keeps the canonical URL "
                 "(NAME=URL, repeatable)."),
]
OfflineOpt = Annotated[
    bool, typer.Option("--offline", help="Use local channels and the repodata cache only.")
]
PriorityOpt = Annotated[
    ChannelPriority, typer.Option("--channel-priority", help="strict, flexible or disabled (as conda).")
]
SolverOpt = Annotated[
    Solver, typer.Option("--solver", help="auto (conda-lock when conda/micromamba is on PATH), rattler or conda-lock.")
]
CudaOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--cuda", help="CUDA version the GPU variant targets (the __cuda virtual package).",
                 show_default=False),
]
ForceOpt = Annotated[bool, typer.Option("--force", help="Overwrite files that differ.")]


BuildArgOpt = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option("--build-arg", help="KEY=VALUE, or KEY to take its value from the "
                 "environment (repeatable)."),
]


def parse_build_args(items: list[str] | None) -> dict[str, str]:
    """``--build-arg KEY=VALUE`` values as a mapping (a one-line error for a malformed one)."""
    import os

    from conda2docker.errors import InputError

    args: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep and key and key in os.environ:  # `--build-arg NAME`: the value from the environment, as docker's
            value = os.environ[key]
        elif not sep or not key:
            raise InputError(
                f"invalid --build-arg {item!r}" + (f" ({key} is not set)" if key and not sep else ""),
                fix="write --build-arg KEY=VALUE, or --build-arg KEY with KEY set in the environment",
            )
        args[key] = value
    return args


EngineOpt = Annotated[
    Optional[Engine],  # noqa: UP045
    typer.Option("--engine", help="docker, or podman (Podman's Docker-compatible API: "
                 "$CONTAINER_HOST, the rootless socket, then /run/podman/podman.sock). "
                 "Default: DOCKER_HOST, else the local Docker socket.", show_default=False),
]
