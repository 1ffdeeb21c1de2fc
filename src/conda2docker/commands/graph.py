"""``conda2docker graph``: the lock's dependency graph, why a package is there, what it weighs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

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

if TYPE_CHECKING:
    from conda2docker.graph import DepGraph, SizeReport, WhyPaths

GRAPH_FORMATS = ("dot", "json", "graphml", "svg")


def register(app: typer.Typer) -> None:
    app.command("graph")(graph_command)


def render_svg(dot_text: str) -> str:
    """Lay the DOT text out with Graphviz's ``dot``; a one-line error where it is absent."""
    from conda2docker.errors import UserError

    dot = shutil.which("dot")
    if dot is None:
        raise UserError("Graphviz 'dot' is not installed, so svg cannot be rendered",
                        fix="install Graphviz (apt-get install graphviz), or use --format dot "
                        "and render it elsewhere")
    done = subprocess.run([dot, "-Tsvg"], input=dot_text, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise UserError(f"Graphviz dot failed: {done.stderr.strip().splitlines()[-1:]}",
                        fix="use --format dot and inspect the graph")
    return done.stdout


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"  # pragma: no cover - the loop always returns


def format_why(result: WhyPaths) -> str:
    if not result.paths:
        return f"{result.target} is not reachable from any root\n"
    lines = [f"{result.target} is required through:"]
    lines += ["  " + " -> ".join(path) for path in result.paths]
    if result.more:
        bound = "at least " if result.more_is_lower_bound else ""
        lines.append(f"  … and {bound}{result.more} more path(s) (raise --limit to see them)")
    return "\n".join(lines) + "\n"


def format_sizes(dep_graph: DepGraph, report: SizeReport) -> str:
    rows = sorted(report.per_root.items(), key=lambda item: (-item[1], item[0]))
    width = max((len(root) for root, _ in rows), default=4)
    lines = [f"{'root':<{width}}  {'alone':>10}  packages"]
    lines += [f"{root:<{width}}  {human_size(size):>10}  {len(report.exclusive[root])}"
              for root, size in rows]
    lines.append(f"{'shared':<{width}}  {human_size(report.shared):>10}")
    if report.unreachable:
        lines.append(f"{'unreached':<{width}}  {human_size(report.unreachable):>10}")
    lines.append(f"{'total':<{width}}  {human_size(report.total):>10}  {len(dep_graph)}")
    if report.unknown:
        lines.append(f"({len(report.unknown)} of {len(dep_graph)} packages have no size in "
                     "the lock and count as 0)")
    return "\n".join(lines) + "\n"


def graph_command(
    env_file: EnvArg,
    fmt: Annotated[str, typer.Option("--format", "-f", help="dot, json, graphml or svg (svg "
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
    channel_priority: PriorityOpt = "strict",
    solver: SolverOpt = "auto",
    cuda: CudaOpt = None,
) -> None:
    """The dependency graph of ENV_FILE's lock for one platform."""
    from conda2docker.commands._options import resolve_options_from_cli
    from conda2docker.commands.audit import load, target_platforms
    from conda2docker.errors import InputError
    from conda2docker.graph import build_graph, size_attribution, to_dot, to_graphml, to_json
    from conda2docker.graph import why as why_paths

    if fmt not in GRAPH_FORMATS:
        raise InputError(f"unknown --format {fmt!r}", fix=f"use {', '.join(GRAPH_FORMATS)}")
    options = resolve_options_from_cli(
        platforms=platform, channels=channel, channel_alias=channel_alias,
        default_channels=default_channels, mirrors=mirror,
        offline=offline, priority=channel_priority, solver=solver, cuda=cuda,
        lock_path=env_file.parent / "conda-lock.yml",
    )
    spec, resolution = load(env_file, options)
    lock = resolution.lock if resolution else spec.lock
    target = target_platforms(platform, spec, resolution)[0]
    if lock is None or not lock.for_platform(target):
        available = ", ".join(lock.platforms) if lock else "none"
        raise InputError(f"the lock has no packages for {target}",
                         fix=f"pass --platform with one of: {available}")
    dep_graph = build_graph(lock, target, lock.roots or spec.requested_names)
    if why is not None:
        keys = dep_graph.find(why)
        if not keys:
            raise InputError(f"{why} is not in the lock for {target}",
                             fix="check the spelling; --format json lists every package")
        text = "".join(format_why(why_paths(dep_graph, key, limit=limit)) for key in keys)
    elif sizes:
        text = format_sizes(dep_graph, size_attribution(dep_graph))
    elif fmt == "json":
        text = to_json(dep_graph)
    elif fmt == "graphml":
        text = to_graphml(dep_graph)
    elif fmt == "svg":
        text = render_svg(to_dot(dep_graph))
    else:
        text = to_dot(dep_graph)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
