"""``conda2docker graph``: the lock's dependency graph, why a package is there, what it weighs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from conda2docker.choices import (
    DEFAULT_PRIORITY,
    DEFAULT_SOLVER,
    GraphFormat,
)
from conda2docker.commands._options import (
    ChannelAliasOpt,
    ChannelOpt,
    CudaOpt,
    DefaultChannelsOpt,
    EnvArg,
    MirrorOpt,
    OfflineOpt,
    PlatformOpt,
    PriorityOpt,
    SolverOpt,
)
from conda2docker.image import LOCK_NAMES


def register(app: typer.Typer) -> None:
    app.command("graph")(graph_command)


def graph_command(
    env_file: EnvArg,
    fmt: Annotated[GraphFormat, typer.Option("--format", "-f", help="dot, json, graphml or svg (svg "
                                             "needs Graphviz).")] = "dot",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write here instead "  # noqa: UP045
                                                   "of stdout.")] = None,
    why: Annotated[Optional[str], typer.Option("--why", help="Print every path from a root to "  # noqa: UP045
                                               "this package.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="Most paths --why prints.")] = 20,
    sizes: Annotated[bool, typer.Option("--sizes", help="Bytes each root alone pulls in "
                                        "(dominator tree).")] = False,
    platform: PlatformOpt = None,
    channel: ChannelOpt = None,
    channel_alias: ChannelAliasOpt = None,
    default_channels: DefaultChannelsOpt = "conda-forge",
    mirror: MirrorOpt = None,
    offline: OfflineOpt = False,
    channel_priority: PriorityOpt = DEFAULT_PRIORITY,
    solver: SolverOpt = DEFAULT_SOLVER,
    cuda: CudaOpt = None,
) -> None:
    """The dependency graph of ENV_FILE's lock for one platform."""
    from conda2docker.graph_report import GraphRequest, graph_text
    from conda2docker.pipeline import resolve_options

    text = graph_text(GraphRequest(
        env_file=env_file, fmt=fmt, why=why, limit=limit, sizes=sizes,
        resolve=resolve_options(
            platforms=platform or (), channels=channel or (), channel_alias=channel_alias,
            default_channels=default_channels, mirrors=mirror or (), offline=offline,
            priority=channel_priority, solver=solver,
            cuda=cuda, lock_path=env_file.parent / LOCK_NAMES["cpu"],
        ),
    ))
    if output is None:
        typer.echo(text, nl=False)
    else:
        from conda2docker.outputs import write_output_file

        write_output_file(output, text.encode())
