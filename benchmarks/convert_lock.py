"""`conda2docker convert LOCK` against `conda-lock render -k explicit LOCK`, same lock, same
run, and `conda2docker audit LOCK`.

The lock is the largest real one in ../shared/locks (no solve: the lock is given). The
commands run in turn, round after round (alternating, so the machine's load falls on all
alike), after one untimed round; medians are reported with the spread.
Targets: convert <= 0.08x conda-lock's render; audit <= 0.3 s.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

from common import (
    BIN,
    SHARED,
    alternate,
    fastest_seconds,
    median_cpu,
    median_mib,
    median_seconds,
    skipped,
    spread,
)

ROUNDS = 5
RATIO_TARGET = 0.08
AUDIT_TARGET = 0.3


def largest_lock() -> Path | None:
    locks = [p for p in (SHARED / "locks").glob("*conda-lock*.yml")]
    return max(locks, key=lambda p: p.stat().st_size) if locks else None


def run(rounds: int = ROUNDS) -> dict[str, object]:
    lock = largest_lock()
    if lock is None:
        return skipped(f"no conda-lock files under {SHARED / 'locks'}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)

        def convert() -> list[str]:
            shutil.rmtree(work / "out", ignore_errors=True)
            return [str(BIN / "conda2docker"), "convert", str(lock), "-o", str(work / "out")]

        runs = alternate({
            "convert": convert,
            "conda_lock_render": lambda: [str(BIN / "conda-lock"), "render", "-k", "explicit",
                                          "-p", "linux-64", str(lock)],
            "audit": lambda: [str(BIN / "conda2docker"), "audit", str(lock), "--fail-on", "never"],
        }, rounds, cwd=work)
    ours, theirs, audit = (median_seconds(runs[n]) for n in ("convert", "conda_lock_render", "audit"))
    ratio = ours / theirs
    return {
        "name": "convert (and audit) of the largest real lock vs conda-lock render",
        "lock": lock.name,
        "lock_bytes": lock.stat().st_size,
        "rounds": rounds,
        "conda2docker_convert_seconds": round(ours, 3),
        "conda_lock_render_seconds": round(theirs, 3),
        "ratio": round(ratio, 3),
        "audit_seconds": round(audit, 3),
        "cpu_ratio": round(median_cpu(runs["convert"]) / median_cpu(runs["conda_lock_render"]), 3),
        "fastest_ratio": round(fastest_seconds(runs["convert"]) / fastest_seconds(runs["conda_lock_render"]), 3),
        "audit_fastest_seconds": round(fastest_seconds(runs["audit"]), 3),
        "cpu_seconds": {name: round(median_cpu(r), 3) for name, r in runs.items()},
        "convert_mib": round(median_mib(runs["convert"]), 1),
        "conda_lock_render_mib": round(median_mib(runs["conda_lock_render"]), 1),
        "audit_mib": round(median_mib(runs["audit"]), 1),
        "spread_seconds": {name: spread(r) for name, r in runs.items()},
        "target": f"ratio <= {RATIO_TARGET} and audit <= {AUDIT_TARGET} s (medians of {rounds} alternating runs)",
        "met": ratio <= RATIO_TARGET and audit <= AUDIT_TARGET,
    }


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else ROUNDS), indent=2))
