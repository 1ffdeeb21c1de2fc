"""The ``graph`` job: one platform's dependency graph of a lock, as a format or a view
(why a package is there, what each request weighs alone)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from conda2docker.choices import GraphFormat
from conda2docker.errors import InputError, UserError
from conda2docker.values import frozen

if TYPE_CHECKING:
    from conda2docker.graph import DepGraph, SizeReport, WhyPaths
    from conda2docker.resolve import ResolveOptions


@frozen
class GraphRequest:
    """Everything ``graph`` is asked."""
    env_file: Path
    resolve: ResolveOptions
    fmt: GraphFormat = "dot"
    why: str | None = None
    """Print every path from a root to this package instead of the graph."""
    limit: int = 20
    sizes: bool = False


def render_svg(dot_text: str) -> str:
    """Lay the DOT text out with Graphviz's ``dot``; a one-line error where it is absent."""
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


def graph_text(request: GraphRequest) -> str:
    """The graph of the first target platform, in the asked format or view."""
    from conda2docker.graph import build_graph, size_attribution, to_dot, to_graphml, to_json
    from conda2docker.graph import why as why_paths
    from conda2docker.pipeline import load_input
    from conda2docker.platforms import lock_targets

    spec, resolution = load_input(request.env_file, request.resolve)
    lock = resolution.lock if resolution else spec.lock
    target = lock_targets(request.resolve.platforms, lock.platforms if lock else ())[0][0]
    if lock is None or not lock.for_platform(target):
        available = ", ".join(lock.platforms) if lock else "none"
        raise InputError(f"the lock has no packages for {target}",
                         fix=f"pass --platform with one of: {available}")
    dep_graph = build_graph(lock, target, lock.roots or spec.requested_names)
    if request.why is not None:
        keys = dep_graph.find(request.why)
        if not keys:
            raise InputError(f"{request.why} is not in the lock for {target}",
                             fix="check the spelling; --format json lists every package")
        return "".join(format_why(why_paths(dep_graph, key, limit=request.limit)) for key in keys)
    if request.sizes:
        return format_sizes(dep_graph, size_attribution(dep_graph))
    if request.fmt == "json":
        return to_json(dep_graph)
    if request.fmt == "graphml":
        return to_graphml(dep_graph)
    if request.fmt == "svg":
        return render_svg(to_dot(dep_graph))
    return to_dot(dep_graph)
