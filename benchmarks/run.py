"""Run every benchmark in one process, print the figures side by side, write RESULTS.md.

    python benchmarks/run.py [--only NAME ...] [--no-write]

Each benchmark module has ``run() -> dict``: figures, the target, and whether it was met
(or ``{"skipped": reason}`` where a part it needs — the engine, ../shared — is absent).
No benchmark asserts; the test suite has no timed tests.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import sys
import time

from common import REPO, machine

BENCHMARKS = ("startup", "convert_lock", "solve", "scale", "big_env", "image_size", "rebuild")


def _summary(result: dict[str, object]) -> str:
    if "skipped" in result:
        return f"skipped: {result['skipped']}"
    keys = [k for k in result if k not in ("name", "target", "met", "per_environment", "per_size")]
    return ", ".join(f"{k}={result[k]}" for k in keys)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=list(BENCHMARKS))
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    results: dict[str, dict[str, object]] = {}
    for name in args.only:
        start = time.perf_counter()
        try:
            results[name] = importlib.import_module(name).run()
        except Exception as exc:  # a broken benchmark is reported, the others still run
            results[name] = {"skipped": f"failed: {type(exc).__name__}: {exc}"}
        results[name]["wall_seconds"] = round(time.perf_counter() - start, 1)
        met = results[name].get("met")
        mark = "skipped" if "skipped" in results[name] else ("met" if met else "MISSED")
        print(f"{name:<13} {mark:<8} {_summary(results[name])}", flush=True)
    if not args.no_write:
        write_results(results)
    return 0


def write_results(results: dict[str, dict[str, object]]) -> None:
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Benchmark results",
        "",
        f"Run {now} on {machine()}, by `python benchmarks/run.py`.",
        "",
        "| benchmark | target | met | figures |",
        "|---|---|---|---|",
    ]
    for name, result in results.items():
        if "skipped" in result:
            lines.append(f"| {name} | - | skipped | {result['skipped']} |")
            continue
        lines.append(
            f"| {result.get('name', name)} | {result.get('target', '')} | "
            f"{'yes' if result.get('met') else '**no**'} | {_summary(result)} |"
        )
    lines += ["", "## Raw figures", "", "```json", json.dumps(results, indent=2), "```", ""]
    (REPO / "benchmarks" / "RESULTS.md").write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
