"""Run every benchmark in one process, print the figures side by side, write RESULTS.md.

    python benchmarks/run.py [--only NAME|GROUP ...] [--no-write]

``--only issue21`` re-takes every figure of issue 21 (lock and convert vs a bare solve,
convert and audit of the largest lock vs conda-lock render, the lock scale curve).

Each benchmark module has ``run() -> dict``: figures, the target, and whether it was met
(or ``{"skipped": reason}`` where a part it needs — the engine, ../shared — is absent).
No benchmark asserts; the test suite has no timed tests.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import os
import re
import sys
import time

from common import REPO, machine

BENCHMARKS = ("startup", "lock_speed", "convert_lock", "solve", "lab", "scale", "scale_lock", "big_env",
              "image_size", "rebuild")
GROUPS = {"issue21": ("lock_speed", "convert_lock", "scale_lock")}
"""Names that stand for several benchmarks in ``--only``."""


def _summary(result: dict[str, object]) -> str:
    if "skipped" in result:
        return f"skipped: {result['skipped']}"
    keys = [k for k in result if k not in ("name", "target", "met", "per_environment", "per_size",
                                           "spread_seconds", "measured", "load_average")]
    return ", ".join(f"{k}={result[k]}" for k in keys)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=list(BENCHMARKS))
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    names = list(dict.fromkeys(n for name in args.only for n in GROUPS.get(name, (name,))))
    results: dict[str, dict[str, object]] = {}
    for name in names:
        start = time.perf_counter()
        load = round(os.getloadavg()[0], 1)
        try:
            results[name] = importlib.import_module(name).run()
        except Exception as exc:  # a broken benchmark is reported, the others still run
            results[name] = {"skipped": f"failed: {type(exc).__name__}: {exc}"}
        results[name]["wall_seconds"] = round(time.perf_counter() - start, 1)
        results[name]["measured"] = _now()
        results[name]["load_average"] = load  # of the last minute, when it started
        met = results[name].get("met")
        mark = "skipped" if "skipped" in results[name] else ("met" if met else "MISSED")
        print(f"{name:<13} {mark:<8} {_summary(results[name])}", flush=True)
    if not args.no_write:
        write_results(results)
    return 0


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


RESULTS = REPO / "benchmarks" / "RESULTS.md"
LOAD_AT_START = " / ".join(f"{v:.1f}" for v in os.getloadavg()) + " (1, 5, 15 min) at the start"


def _when(result: dict[str, object]) -> str:
    load = result.get("load_average")
    return f"{result.get('measured', '')}{f' ({load})' if load is not None else ''}"


def previous_results() -> dict[str, dict[str, object]]:
    """The raw figures of the last RESULTS.md (kept for benchmarks not run this time)."""
    try:
        text = RESULTS.read_text(encoding="utf-8")
    except OSError:
        return {}
    start, end = text.find("```json\n"), text.rfind("\n```")
    if start < 0 or end < start:
        return {}
    try:
        loaded = json.loads(text[start + len("```json\n"):end])
    except ValueError:
        return {}
    if not isinstance(loaded, dict):
        return {}
    header = re.search(r"^(?:Run|Written) (\d{4}-\d\d-\d\d \d\d:\d\d UTC)", text, re.MULTILINE)
    for result in loaded.values():
        if isinstance(result, dict) and header:
            result.setdefault("measured", header.group(1))
    return loaded


def write_results(results: dict[str, dict[str, object]]) -> None:
    """RESULTS.md: this run's figures, and the last ones of the benchmarks not run now (each
    result says when it was measured)."""
    merged = {**previous_results(), **results}
    merged = {name: merged[name] for name in (*BENCHMARKS, *merged) if name in merged}
    lines = [
        "# Benchmark results",
        "",
        f"Written {_now()} on {machine()}, by `python benchmarks/run.py"
        f"{' --only ' + ' '.join(results) if set(results) != set(BENCHMARKS) else ''}`;"
        f" load average {LOAD_AT_START}.",
        "The machine is shared (2 cores, up to eight developers): `spread_seconds` gives the",
        "fastest and slowest run of each command, a measure of the noise of that run, and the",
        "CPU figures what each command itself spent.",
        "",
        "| benchmark | measured (load average) | target | met | figures |",
        "|---|---|---|---|---|",
    ]
    for name, result in merged.items():
        if "skipped" in result:
            lines.append(f"| {name} | {_when(result)} | - | skipped | {result['skipped']} |")
            continue
        lines.append(
            f"| {result.get('name', name)} | {_when(result)} | {result.get('target', '')} | "
            f"{'yes' if result.get('met') else '**no**'} | {_summary(result)} |"
        )
    plots = [str(r["plot"]) for r in merged.values() if isinstance(r.get("plot"), str)]
    for plot in plots:
        lines += ["", f"![{plot}]({plot})"]
    lines += ["", "## Raw figures", "", "```json", json.dumps(merged, indent=2), "```", ""]
    RESULTS.write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
