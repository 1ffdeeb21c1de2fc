"""How `lock` grows: synthetic environments of 1,000 to 10,000 packages, solved for real.

The packages are the scale benchmark's (`scale.synthetic_lock`: a python core, four
dependencies per package, fan-in hubs), published as a local channel (a ``repodata.json``
built from them, every package a conda record); the environment file requests the packages
nothing else depends on, so the solve pulls in all of them. Each size is locked in-process
three times (the fastest run of each step counts) with the steps timed apart, in CPU
seconds (the machine is shared: wall time would measure the neighbours): reading the
environment, the solver itself (py-rattler's ``solve``), the rest of the resolve (channel
checks, records to packages), writing the lock. Target: the time outside the solver grows
near-linearly (fitted exponent of time ~ n^k below 1.2). The in-process wall time and one
whole `conda2docker lock` process per size are reported too. The curve is drawn in
``scale_lock.svg``.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import common
from common import BIN, REPO, installed_environment
from scale import fitted_exponent, synthetic_lock

from conda2docker.lockfile import write_conda_lock
from conda2docker.model import LockedPackage
from conda2docker.pipeline import read_spec
from conda2docker.resolve import ResolveOptions, conda, resolve

SIZES = (1_000, 2_500, 5_000, 10_000)
REPEAT = 3
STEPS = ("read", "solver", "resolve_rest", "write")
EXPONENT_TARGET = 1.2
SVG = REPO / "benchmarks" / "scale_lock.svg"


def write_channel(packages: Sequence[LockedPackage], root: Path) -> None:
    """A channel ``root/synthetic`` whose linux-64 repodata holds ``packages``."""
    records = {}
    for p in packages:
        build = p.build or "h0_0"
        records[f"{p.name}-{p.version}-{build}.conda"] = {
            "name": p.name, "version": p.version, "build": build, "build_number": 0,
            "depends": [f"{d} {c}".strip() for d, c in sorted(p.dependencies.items())],
            "subdir": "linux-64", "md5": p.md5 or f"{abs(hash(p.name)):032x}"[:32],
            "sha256": p.sha256 or f"{abs(hash(p.name)):064x}"[:64], "size": p.size or 1000,
        }
    for subdir, content in (("linux-64", records), ("noarch", {})):
        directory = root / "synthetic" / subdir
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "repodata.json").write_text(json.dumps({
            "info": {"subdir": subdir}, "packages": {}, "packages.conda": content,
            "repodata_version": 1,
        }))


def environment(n: int, directory: Path) -> tuple[Path, int]:
    """The channel and an environment file requesting the packages no other one needs."""
    packages = [p for p in synthetic_lock(n).packages]
    # the generator's pip wheels become conda packages: the channel is conda's
    packages = [LockedPackage(name=p.name, version=p.version, manager="conda",
                              platform=p.platform, url="", dependencies=p.dependencies,
                              build=p.build or "pypi_0") for p in packages]
    write_channel(packages, directory / "channels")
    needed = {d for p in packages for d in p.dependencies}
    roots = [p.name for p in packages if p.name not in needed]
    env = directory / "environment.yml"
    env.write_text("name: synthetic\nchannels:\n  - synthetic\ndependencies:\n"
                   + "".join(f"  - {name}\n" for name in roots), encoding="utf-8")
    return env, len(packages)


@contextmanager
def solver_clock(spent: list[float]) -> Iterator[None]:
    """CPU seconds of py-rattler's own ``solve`` calls (the rest of the resolve is ours)."""
    original = conda._solve_call

    async def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.process_time()
        try:
            return await original(*args, **kwargs)
        finally:
            spent.append(time.process_time() - start)

    conda._solve_call = timed  # type: ignore[assignment]
    try:
        yield
    finally:
        conda._solve_call = original  # type: ignore[assignment]


def lock_steps(env: Path, channels: Path, out: Path) -> dict[str, float]:
    """CPU seconds (this process, all threads) of each step of one lock: on a machine shared
    with other work, wall time measures the neighbours as much as the code."""
    options = ResolveOptions(channel_alias=channels.as_uri(), cache_dir=out.parent / "cache")
    timings: dict[str, float] = {}
    wall = time.perf_counter()
    start = time.process_time()
    spec = read_spec(env)
    timings["read"] = time.process_time() - start
    spent: list[float] = []
    start = time.process_time()
    with solver_clock(spent):
        resolution = resolve(spec, options)
    resolve_seconds = time.process_time() - start
    timings["solver"] = sum(spent)
    timings["resolve_rest"] = resolve_seconds - timings["solver"]
    start = time.process_time()
    write_conda_lock(resolution.lock, out)
    timings["write"] = time.process_time() - start
    timings["wall"] = time.perf_counter() - wall
    timings["packages"] = float(len(resolution.lock.packages))
    return timings


def whole_lock_seconds(env: Path, channels: Path, out: Path) -> float:
    out.unlink(missing_ok=True)
    argv = [str(BIN / "conda2docker"), "lock", str(env), "--channel-alias", channels.as_uri(),
            "-o", str(out)]
    start = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True, env=installed_environment())
    return time.perf_counter() - start


def measure(n: int, directory: Path, repeat: int = REPEAT) -> dict[str, float]:
    env, published = environment(n, directory)
    channels = directory / "channels"
    runs = [lock_steps(env, channels, directory / "conda-lock.yml") for _ in range(repeat)]
    result = {step: min(r[step] for r in runs) for step in (*STEPS, "wall")}
    result["outside_solver"] = min(r["read"] + r["resolve_rest"] + r["write"] for r in runs)
    result["packages"] = runs[0]["packages"]
    result["published"] = float(published)
    result["whole_process"] = whole_lock_seconds(env, channels, directory / "whole.yml")
    return result


def svg_plot(per_size: dict[int, dict[str, float]], exponent: float) -> str:
    """A line chart of each step's seconds against the number of packages (SVG, no library)."""
    width, height, left, right, top, bottom = 640, 400, 60, 170, 40, 50
    series: list[tuple[str, str, Callable[[dict[str, float]], float]]] = [
        ("outside the solver", "#d62728", lambda r: r["outside_solver"]),
        ("solver (py-rattler)", "#1f77b4", lambda r: r["solver"]),
        ("read", "#2ca02c", lambda r: r["read"]),
        ("resolve, rest", "#9467bd", lambda r: r["resolve_rest"]),
        ("write", "#ff7f0e", lambda r: r["write"]),
    ]
    sizes = sorted(per_size)
    top_value = max(f(per_size[n]) for _, _, f in series for n in sizes) * 1.1 or 1.0
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(n: float) -> float:
        return left + plot_w * n / sizes[-1]

    def y(v: float) -> float:
        return top + plot_h * (1 - v / top_value)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{left}" y="22" font-size="14">conda2docker lock: CPU seconds per step '
           f'(outside the solver ~ n^{exponent:.2f})</text>',
           f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="black"/>',
           f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="black"/>']
    for n in sizes:
        out.append(f'<text x="{x(n):.1f}" y="{top + plot_h + 18}" text-anchor="middle">{n:,}</text>')
    out.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 10}" text-anchor="middle">packages</text>')
    for i in range(5):
        value = top_value * i / 4
        out.append(f'<text x="{left - 8}" y="{y(value) + 4:.1f}" text-anchor="end">{value:.2f}</text>')
        out.append(f'<line x1="{left}" y1="{y(value):.1f}" x2="{left + plot_w}" y2="{y(value):.1f}" '
                   'stroke="#ddd"/>')
    first = per_size[sizes[0]]["outside_solver"]
    out.append(f'<polyline fill="none" stroke="#d62728" stroke-dasharray="4 4" points="'
               f'{x(0):.1f},{y(0):.1f} {x(sizes[-1]):.1f},{y(first * sizes[-1] / sizes[0]):.1f}"/>')
    for index, (label, colour, value_of) in enumerate(series):
        points = " ".join(f"{x(n):.1f},{y(value_of(per_size[n])):.1f}" for n in sizes)
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>')
        for n in sizes:
            out.append(f'<circle cx="{x(n):.1f}" cy="{y(value_of(per_size[n])):.1f}" r="3" fill="{colour}"/>')
        ly = top + 14 + index * 20
        out.append(f'<line x1="{width - right + 15}" y1="{ly}" x2="{width - right + 35}" y2="{ly}" '
                   f'stroke="{colour}" stroke-width="2"/>')
        out.append(f'<text x="{width - right + 40}" y="{ly + 4}">{label}</text>')
    ly = top + 14 + len(series) * 20
    out.append(f'<line x1="{width - right + 15}" y1="{ly}" x2="{width - right + 35}" y2="{ly}" '
               'stroke="#d62728" stroke-dasharray="4 4"/>')
    out.append(f'<text x="{width - right + 40}" y="{ly + 4}">linear from {sizes[0]:,}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def run(sizes: Sequence[int] = SIZES, repeat: int = REPEAT) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        measure(sizes[0], Path(tmp) / "warm", repeat=1)  # imports and caches out of the figures
        per_size = {n: measure(n, Path(tmp) / str(n), repeat) for n in sizes}
    exponent = fitted_exponent([(n, r["outside_solver"]) for n, r in per_size.items()])
    solver_exponent = fitted_exponent([(n, r["solver"]) for n, r in per_size.items()])
    if common.WRITE:
        SVG.write_text(svg_plot(per_size, exponent), encoding="utf-8")
    return {
        "name": "scale: lock of synthetic environments, solved against a synthetic channel",
        "per_size": {str(n): {k: round(v, 3) for k, v in r.items()} for n, r in per_size.items()},
        "fitted_exponent_outside_solver": round(exponent, 2),
        "fitted_exponent_solver": round(solver_exponent, 2),
        "largest_outside_solver_seconds": round(per_size[sizes[-1]]["outside_solver"], 3),
        "plot": SVG.name,
        "target": f"time outside the solver near-linear (exponent < {EXPONENT_TARGET})",
        "met": exponent < EXPONENT_TARGET and math.isfinite(exponent),
    }


if __name__ == "__main__":
    sizes = tuple(int(a) for a in sys.argv[1:]) or SIZES
    print(json.dumps(run(sizes), indent=2))
