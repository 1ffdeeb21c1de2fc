"""`conda2docker convert LOCK` against `conda-lock render -k explicit LOCK`, same lock, same run.

The lock is the largest real one in ../shared/locks (no solve: the lock is given).
Targets: convert ≤ 1.0x conda-lock's time, and < 1 s.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from common import BIN, SHARED, command_seconds, skipped


def largest_lock() -> Path | None:
    locks = [p for p in (SHARED / "locks").glob("*conda-lock*.yml")]
    return max(locks, key=lambda p: p.stat().st_size) if locks else None


def run() -> dict[str, object]:
    lock = largest_lock()
    if lock is None:
        return skipped(f"no conda-lock files under {SHARED / 'locks'}")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        ours = command_seconds(
            [str(BIN / "conda2docker"), "convert", str(lock), "-o", str(out), "--force"], repeat=5)
        theirs = command_seconds(
            [str(BIN / "conda-lock"), "render", "-k", "explicit", "-p", "linux-64", str(lock)],
            repeat=5, cwd=Path(tmp))
    ratio = ours / theirs
    return {
        "name": "convert from the largest real lock vs conda-lock render",
        "lock": lock.name,
        "lock_bytes": lock.stat().st_size,
        "conda2docker_convert_seconds": round(ours, 3),
        "conda_lock_render_seconds": round(theirs, 3),
        "ratio": round(ratio, 3),
        "target": "ratio <= 1.0 and convert < 1 s",
        "met": ratio <= 1.0 and ours < 1.0,
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
