"""How cost grows: synthetic locks of 1,000 / 5,000 / 10,000 packages through
read → graph → audit → render (target: 10,000 in < 3 s, near-linear; the fitted exponent
of time ~ n^k is printed). Each size is timed three times and the fastest run counts, so a
garbage-collector pause or a busy neighbour does not bend the curve.

The locks are written by conda-lock's own writer, then read back by conda2docker's reader,
so the read step parses real conda-lock YAML.
"""

from __future__ import annotations

import json
import math
import random
import tempfile
import time
from pathlib import Path

import common  # noqa: F401 - puts tests/ on sys.path

from conda2docker.audit import AuditContext, audit
from conda2docker.lockfile import read_conda_lock, write_conda_lock
from conda2docker.model import Lock, LockedPackage
from conda2docker.plan import PlanOptions, make_plan
from conda2docker.render.dockerfile import render_dockerfile
from support.locks import pip as pip_package

SIZES = (1_000, 5_000, 10_000)
STEPS = ("read", "graph", "audit", "render")
REPEAT = 3
TARGET_SECONDS = 3.0
CF = "https://conda.anaconda.org/conda-forge/linux-64"


def synthetic_lock(n: int, seed: int = 7) -> Lock:
    """A lock shaped like real ones: a python core, a few fan-in hubs, 4 deps per package,
    5 % pip wheels."""
    rng = random.Random(seed)
    packages: list[LockedPackage] = []
    names = [f"pkg-{i:05d}" for i in range(n)]
    for i, name in enumerate(names):
        later = names[i + 1:]
        deps = {d: ">=1.0" for d in rng.sample(later, min(4, len(later)))}
        if name == names[0]:
            packages.append(LockedPackage(
                name="python", version="3.11.9", manager="conda", platform="linux-64",
                url=f"{CF}/python-3.11.9-h0_0.conda", md5="0" * 32, sha256="1" * 64,
                build="h0_0", dependencies=deps))
            continue
        if i % 20 == 0:
            packages.append(pip_package(name, "1.0", f"https://files.example/{name}-1.0-py3-none-any.whl",
                                        deps={"python": ""}))
            continue
        file_name = f"{name}-1.0-h{i:x}_0.conda"
        packages.append(LockedPackage(
            name=name, version="1.0", manager="conda", platform="linux-64", url=f"{CF}/{file_name}",
            md5=f"{i:032x}", sha256=f"{i:064x}", build=f"h{i:x}_0", dependencies=deps, size=1000 + i))
    packages.append(LockedPackage(
        name="pip", version="24.2", manager="conda", platform="linux-64",
        url=f"{CF}/pip-24.2-h0_0.conda", md5="2" * 32, sha256="3" * 64, build="h0_0",
        dependencies={"python": ">=3.8"}))
    return Lock(packages=tuple(packages), platforms=("linux-64",), channels=("conda-forge",),
                roots=("python", names[1]))


def measure(n: int, directory: Path, repeat: int = REPEAT) -> dict[str, float]:
    """Seconds of each step for a lock of ``n`` packages: the fastest of ``repeat`` runs."""
    path = directory / f"lock-{n}" / "conda-lock.yml"
    write_conda_lock(synthetic_lock(n), path)
    runs = [_steps(path) for _ in range(repeat)]
    timings = {step: min(run[step] for run in runs) for step in STEPS}
    timings["total"] = min(sum(run[step] for step in STEPS) for run in runs)
    timings["nodes"], timings["findings"] = runs[0]["nodes"], runs[0]["findings"]
    return timings


def _steps(path: Path) -> dict[str, float]:
    timings: dict[str, float] = {}
    start = time.perf_counter()
    lock = read_conda_lock(path)
    timings["read"] = time.perf_counter() - start
    start = time.perf_counter()
    context = AuditContext.build(lock=lock)
    graph = context.graph  # built on first use; the audit reuses it for its chains
    timings["graph"] = time.perf_counter() - start
    start = time.perf_counter()
    findings = audit(context)
    timings["audit"] = time.perf_counter() - start
    start = time.perf_counter()
    render_dockerfile(make_plan(None, lock, PlanOptions()))
    timings["render"] = time.perf_counter() - start
    timings["nodes"] = float(len(graph) if graph else 0)
    timings["findings"] = float(len(findings))
    return timings


def fitted_exponent(points: list[tuple[int, float]]) -> float:
    """Least-squares slope of log(time) against log(n)."""
    xs = [math.log(n) for n, _ in points]
    ys = [math.log(t) for _, t in points]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    covariance = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    variance = sum((x - mean_x) ** 2 for x in xs)
    return covariance / variance


def run() -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        measure(SIZES[0], Path(tmp) / "warm", repeat=1)  # imports and caches out of the figures
        results = {n: measure(n, Path(tmp)) for n in SIZES}
    exponent = fitted_exponent([(n, r["total"]) for n, r in results.items()])
    largest = results[SIZES[-1]]["total"]
    return {
        "name": "scale: read → graph → audit → render of synthetic locks",
        "per_size": {str(n): {k: round(v, 3) for k, v in r.items()} for n, r in results.items()},
        "fitted_exponent": round(exponent, 2),
        "target": f"{SIZES[-1]} packages in < {TARGET_SECONDS} s, exponent near 1",
        "met": largest < TARGET_SECONDS and exponent < 1.3,
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
