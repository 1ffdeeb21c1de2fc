"""`conda2docker lock` and `convert` of an environment file against a bare py-rattler solve
of the same specs (`bare_solve.py`), whole processes, in one run.

The environment is the largest the shared channel snapshot can solve
(pangeo-notebook's environment.yml, about 800 packages). The three commands run in turn,
round after round (alternating, so a busy neighbour slows all three alike), after one
untimed round; the median wall time of each and its peak memory (maximum resident set
size, from the kernel's accounting of the child) are reported with their ratios to the
bare solve. Targets: both ratios within 1.5x, for time and for memory. The CPU time of
each process (user + system) is reported too: on a machine shared with other work it
says what the process itself cost, where wall time also measures the neighbours.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
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

ENVIRONMENT = "pangeo-data__pangeo-docker-images__pangeo-notebook__environment.yml"
ROUNDS = 7
TARGET = 1.5


def run(rounds: int = ROUNDS) -> dict[str, object]:
    env_file = SHARED / "corpus" / "envs" / ENVIRONMENT
    channels = SHARED / "channels" / "snapshot"
    if not env_file.is_file() or not channels.is_dir():
        return skipped("../shared corpus or channel snapshot is absent")
    alias = channels.as_uri()
    # The snapshot holds repodata only: read through --mirror, the lock keeps conda-forge's
    # canonical URLs, which a build downloads (a --channel-alias lock would have to vendor
    # package files the snapshot does not hold). The environment's one channel is conda-forge.
    mirror = ["--mirror", f"conda-forge={alias}/conda-forge"]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)

        def lock() -> list[str]:
            (work / "conda-lock.yml").unlink(missing_ok=True)  # no reuse: a full lock each time
            return [str(BIN / "conda2docker"), "lock", str(env_file), *mirror,
                    "-o", str(work / "conda-lock.yml")]

        def convert() -> list[str]:
            shutil.rmtree(work / "context", ignore_errors=True)
            return [str(BIN / "conda2docker"), "convert", str(env_file), *mirror,
                    "-o", str(work / "context")]

        commands: dict[str, Callable[[], Sequence[str]]] = {
            "bare_solve": lambda: [sys.executable, str(Path(__file__).with_name("bare_solve.py")),
                                   str(env_file), alias],
            "lock": lock,
            "convert": convert,
        }
        runs = alternate(commands, rounds, work)
        packages = (work / "conda-lock.yml").read_text().count("\n- name: ")
    seconds = {name: median_seconds(r) for name, r in runs.items()}
    memory = {name: median_mib(r) for name, r in runs.items()}
    cpu = {name: median_cpu(r) for name, r in runs.items()}
    ratios = {f"{name}_ratio": round(seconds[name] / seconds["bare_solve"], 2)
              for name in ("lock", "convert")}
    memory_ratios = {f"{name}_memory_ratio": round(memory[name] / memory["bare_solve"], 2)
                     for name in ("lock", "convert")}
    return {
        "name": "lock and convert of the largest solvable env vs a bare py-rattler solve",
        "environment": ENVIRONMENT,
        "packages": packages,
        "rounds": rounds,
        **{f"{name}_seconds": round(value, 3) for name, value in seconds.items()},
        **ratios,
        **{f"{name}_mib": round(value, 1) for name, value in memory.items()},
        **memory_ratios,
        **{f"{name}_cpu_seconds": round(value, 3) for name, value in cpu.items()},
        **{f"{name}_cpu_ratio": round(cpu[name] / cpu["bare_solve"], 2) for name in ("lock", "convert")},
        **{f"{name}_fastest_ratio": round(fastest_seconds(runs[name]) / fastest_seconds(runs["bare_solve"]), 2)
           for name in ("lock", "convert")},
        "spread_seconds": {name: spread(r) for name, r in runs.items()},
        "target": f"time and peak memory <= {TARGET}x the bare solve (median of {rounds} alternating runs)",
        "met": all(v <= TARGET for v in (*ratios.values(), *memory_ratios.values())),
    }


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else ROUNDS), indent=2))
