"""Embedded solve of each solvable shared corpus environment on the snapshot (median ≤ 0.5 s).

Each environment is read, then solved with the py-rattler solver against
../shared/channels/snapshot through --channel-alias; environments whose packages the snapshot
lacks are counted as unsolvable (the tool names the missing packages) and left out of the median.
"""

from __future__ import annotations

import json
import statistics
import time

from common import SHARED, skipped

from conda2docker.errors import UserError
from conda2docker.read import read_input
from conda2docker.resolve import ResolveOptions, resolve


def run() -> dict[str, object]:
    corpus = SHARED / "corpus" / "envs"
    snapshot = SHARED / "channels" / "snapshot"
    if not corpus.is_dir() or not snapshot.is_dir():
        return skipped("../shared corpus or channel snapshot is absent")
    options = ResolveOptions(channel_alias=snapshot.as_uri())
    per_env: dict[str, object] = {}
    times: list[float] = []
    for path in sorted(corpus.iterdir()):
        try:
            spec = read_input(path)
        except UserError as error:
            per_env[path.name] = f"unreadable: {error.one_line()[:100]}"
            continue
        start = time.perf_counter()
        try:
            resolution = resolve(spec, options)
        except UserError as error:
            per_env[path.name] = f"unsolvable: {error.one_line()[:100]}"
            continue
        elapsed = time.perf_counter() - start
        if resolution.unavailable:
            per_env[path.name] = "missing from snapshot: " + ", ".join(
                sorted({u.name for u in resolution.unavailable})[:8])
            continue
        times.append(elapsed)
        per_env[path.name] = f"{elapsed:.3f} s, {len(resolution.lock.packages)} packages"
    median = statistics.median(times) if times else None
    return {
        "name": "embedded solve of the solvable corpus environments (snapshot)",
        "environments": len(per_env),
        "solved": len(times),
        "median_seconds": round(median, 3) if median is not None else None,
        "max_seconds": round(max(times), 3) if times else None,
        "target": "median <= 0.5 s",
        "met": median is not None and median <= 0.5,
        "per_environment": per_env,
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
