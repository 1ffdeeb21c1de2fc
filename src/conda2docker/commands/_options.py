"""CLI options shared by several commands, and their translation into typed options."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

if TYPE_CHECKING:
    from conda2docker.resolve import ResolveOptions

EnvArg = Annotated[
    Path,
    typer.Argument(help="environment.yml, conda-lock.yml, an explicit lock or requirements.txt",
                   show_default=False, metavar="ENV_FILE"),
]
PlatformOpt = Annotated[
    Optional[list[str]],  # noqa: UP045 - typer needs Optional here
    typer.Option("--platform", "-p", help="Target platform (repeatable): linux-64, linux-aarch64, linux-ppc64le."),
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
    str, typer.Option("--channel-priority", help="strict, flexible or disabled (as conda).")
]
SolverOpt = Annotated[
    str, typer.Option("--solver", help="auto (conda-lock when conda/micromamba is on PATH), rattler or conda-lock.")
]
CudaOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--cuda", help="CUDA version the GPU variant targets (the __cuda virtual package).",
                 show_default=False),
]
ForceOpt = Annotated[bool, typer.Option("--force", help="Overwrite files that differ.")]


def resolve_options_from_cli(
    *,
    platforms: list[str] | None,
    channels: list[str] | None = None,
    channel_alias: str | None = None,
    default_channels: str = "conda-forge",
    mirrors: list[str] | None = None,
    offline: bool = False,
    priority: str = "strict",
    solver: str = "auto",
    cuda: str | None = None,
    update: list[str] | None = None,
    lock_path: Path | None = None,
) -> ResolveOptions:
    """Validate CLI values and build :class:`ResolveOptions`."""
    from conda2docker.errors import InputError
    from conda2docker.resolve import ResolveOptions
    from conda2docker.resolve.channels import parse_default_channels, parse_mirror

    if priority not in ("strict", "flexible", "disabled"):
        raise InputError(f"unknown --channel-priority {priority!r}", fix="use strict, flexible or disabled")
    if solver not in ("auto", "rattler", "conda-lock"):
        raise InputError(f"unknown --solver {solver!r}", fix="use auto, rattler or conda-lock")
    return ResolveOptions(
        platforms=tuple(platforms or ()),
        channel_alias=channel_alias,
        mirrors=tuple(parse_mirror(m) for m in mirrors or ()),
        extra_channels=tuple(channels or ()),
        default_channels=parse_default_channels(default_channels),
        offline=offline,
        priority=priority,  # type: ignore[arg-type]
        solver=solver,  # type: ignore[arg-type]
        cuda=cuda,
        update=tuple(update or ()),
        existing_path=lock_path,
    )
