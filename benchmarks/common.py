"""Shared helpers for the benchmarks: timing of whole commands, machine facts, paths."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WRITE = True
"""Whether benchmarks write their files (``scale_lock.svg``); ``run.py --no-write`` clears it."""
SHARED = Path(os.environ.get("CONDA2DOCKER_SHARED", REPO.parent / "shared"))
TESTS = REPO / "tests"
BIN = Path(sys.executable).parent

if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))


def installed_environment() -> dict[str, str]:
    """This environment as an installed package runs in: bytecode cached.

    pip compiles a package's modules when it installs it; an editable checkout gets them on
    its first run unless PYTHONDONTWRITEBYTECODE forbids it, and then every run recompiles.
    """
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def command_seconds(argv: Sequence[str], *, repeat: int = 5, cwd: Path | None = None) -> float:
    """Median wall time of ``argv`` (a whole process, interpreter start-up included).

    One untimed run first, so both sides of a comparison start with their bytecode cached.
    """
    times = []
    for attempt in range(repeat + 1):
        start = time.perf_counter()
        result = subprocess.run(list(argv), cwd=cwd, capture_output=True, text=True, check=False,
                                env=installed_environment())
        if attempt:
            times.append(time.perf_counter() - start)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed: {result.stderr.strip()[-500:]}")
    return statistics.median(times)


Run = tuple[float, float, float]
"""One whole process: wall seconds, peak resident MiB, CPU seconds (user + system)."""


def timed_process(argv: Sequence[str], *, cwd: Path | None = None) -> Run:
    """Wall seconds, peak resident MiB (the kernel's ``ru_maxrss`` of the child) and CPU
    seconds of one whole process; raises with its stderr when it fails."""
    start = time.perf_counter()
    child = subprocess.Popen(list(argv), cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             env=installed_environment())
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    stderr = child.stderr.read().decode(errors="replace") if child.stderr else ""
    if child.stderr:
        child.stderr.close()
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({child.returncode}): {stderr[-500:]}")
    return elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def alternate(commands: dict[str, Callable[[], Sequence[str]]], rounds: int,
              cwd: Path | None = None) -> dict[str, list[Run]]:
    """Each command once per round, in turn (so a busy neighbour slows all alike); one
    untimed round first, so every side starts with its bytecode and files cached.
    ``commands`` map a name to a function giving the argv (it may clean up first)."""
    runs: dict[str, list[Run]] = {name: [] for name in commands}
    for attempt in range(rounds + 1):
        for name, argv in commands.items():
            result = timed_process(argv(), cwd=cwd)
            if attempt:
                runs[name].append(result)
    return runs


def median_seconds(runs: Sequence[Run]) -> float:
    return statistics.median(r[0] for r in runs)


def median_mib(runs: Sequence[Run]) -> float:
    return statistics.median(r[1] for r in runs)


def median_cpu(runs: Sequence[Run]) -> float:
    """CPU seconds: what the process itself spent, whatever else the machine was doing."""
    return statistics.median(r[2] for r in runs)


def fastest_seconds(runs: Sequence[Run]) -> float:
    """The least disturbed run: on a loaded machine, the closest to the command's own cost."""
    return min(r[0] for r in runs)


def spread(runs: Sequence[Run]) -> str:
    """``fastest-slowest`` wall seconds: how noisy the machine was."""
    return f"{min(r[0] for r in runs):.2f}-{max(r[0] for r in runs):.2f}"


def call_seconds(function: Callable[[], object], *, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def machine() -> str:
    cores = os.cpu_count()
    memory = ""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            kib = int(handle.readline().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    return f"{platform.platform()}, Python {platform.python_version()}, {cores} cores{memory}"


def skipped(reason: str) -> dict[str, object]:
    return {"skipped": reason}
