"""CLI start-up: `conda2docker --help` (target ≤ 0.3 s; heavy imports deferred)."""

from __future__ import annotations

import json
import sys

from common import BIN, command_seconds

TARGET_SECONDS = 0.3


def run() -> dict[str, object]:
    seconds = command_seconds([str(BIN / "conda2docker"), "--help"], repeat=7)
    baseline = command_seconds([sys.executable, "-c", "pass"], repeat=7)
    return {
        "name": "CLI start-up (conda2docker --help)",
        "seconds": round(seconds, 3),
        "python_alone_seconds": round(baseline, 3),
        "target": f"<= {TARGET_SECONDS} s",
        "met": seconds <= TARGET_SECONDS,
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
