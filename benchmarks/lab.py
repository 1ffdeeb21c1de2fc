"""`convert` of a synthetic 50-environment lab in one invocation, against one environment's
`convert` (target: every solvable environment in one run costs at most 10x one environment).

The lab is generated from ../shared/corpus/envs and the snapshot: 50 environments, each a
Python and 3 to 12 of the package names the corpus environments ask for (pins dropped) that
the snapshot's conda-forge has, drawn with a fixed seed (the corpus files themselves pin
versions the snapshot mostly lacks: 2 of 33 solve). Everything is solved offline against
../shared/channels/snapshot, read through `--mirror` (the snapshot is metadata only, so the
lock keeps the canonical URLs, as with a real mirror). A first, untimed run of the whole lab
finds the solvable ones; the timed lab holds only those.

Measured, alternating round after round (one untimed round first): the lab in one process, and
one environment's `convert` (the median-sized solvable one, by locked packages). Beside them:
the lab converted inside this process with the solves sharing their gateway and with a gateway
per solve (what reading the repodata once saves), and, once, every solvable environment
converted in its own process, whose sum shows what one process per environment would cost. CPU time (user + system of the child) is given with wall
time, and the load average before and after: the machine is shared.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import (
    BIN,
    SHARED,
    Run,
    installed_environment,
    median_cpu,
    median_seconds,
    skipped,
    spread,
)

SIZE = 50
ROUNDS = 3
TARGET = 10.0


def mirrors(snapshot: Path) -> list[str]:
    """``--mirror NAME=file://…`` for every channel of the snapshot (a folder with ``noarch/``)."""
    names = sorted(str(p.parent.relative_to(snapshot)) for p in snapshot.rglob("noarch") if p.is_dir())
    return [arg for name in names for arg in ("--mirror", f"{name}={(snapshot / name).as_uri()}")]


def name_pool(corpus: Path, snapshot: Path) -> list[str]:
    """Package names the corpus environments ask for (pins dropped) that conda-forge's part of
    the snapshot has for linux-64 or noarch."""
    import yaml

    from conda2docker.errors import UserError
    from conda2docker.read.decode import read_text

    available: set[str] = set()
    for subdir in ("linux-64", "noarch"):
        repodata = json.loads((snapshot / "conda-forge" / subdir / "repodata.json").read_text())
        for records in (repodata.get("packages", {}), repodata.get("packages.conda", {})):
            available.update(record["name"] for record in records.values())
    asked: set[str] = set()
    for source in sorted(corpus.iterdir()):
        try:
            data = yaml.safe_load(read_text(source))
        except (UserError, yaml.YAMLError):
            continue
        dependencies = data.get("dependencies") if isinstance(data, dict) else None
        for item in dependencies if isinstance(dependencies, list) else []:
            found = re.match(r"[A-Za-z0-9_.\-]+", item.split("::")[-1]) if isinstance(item, str) else None
            if found:
                asked.add(found.group(0).lower())
    return sorted(asked & available - {"python", "pip", "nodefaults"})


def generate_lab(corpus: Path, snapshot: Path, lab: Path, size: int = SIZE) -> list[Path]:
    """``size`` environment files in ``lab``: ``lab-NN`` asks for a Python (3.10 to 3.12) and
    3 to 12 names of :func:`name_pool`, drawn with a generator seeded by NN (the same lab on
    every run); some combinations cannot be solved, as in a real lab."""
    import random

    pool = name_pool(corpus, snapshot)
    lab.mkdir(parents=True)
    written = []
    for number in range(size):
        chosen = random.Random(number).sample(pool, 3 + number % 10)
        lines = [f"name: lab-{number:02d}", "channels: [conda-forge]", "dependencies:",
                 f"  - python=3.{10 + number % 3}", *(f"  - {name}" for name in chosen)]
        path = lab / f"lab-{number:02d}.yml"
        path.write_text("\n".join(lines) + "\n")
        written.append(path)
    return written


def _process(argv: list[str], *, accept: tuple[int, ...] = (0,)) -> tuple[Run, str]:
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             env=installed_environment())
    assert child.stderr is not None
    stderr = child.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(child.pid, 0)
    child.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code not in accept:
        raise RuntimeError(f"{' '.join(argv[:4])}… failed ({code}): {stderr[-500:]}")
    return (time.perf_counter() - start, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime), stderr


def in_process_seconds(lab: Path, out: Path, options: list[str], *, shared: bool) -> tuple[float, float]:
    """Wall and CPU seconds of converting ``lab`` inside this process, with the solves sharing
    their gateway (as ``convert`` does) or each solve reading the channels afresh (the gateway
    sharing replaced by a no-op): what sharing the repodata saves, start-up left aside."""
    import contextlib
    from unittest import mock

    from typer.main import get_command

    from conda2docker.cli import app

    shutil.rmtree(out, ignore_errors=True)
    command = get_command(app)
    patch = contextlib.nullcontext() if shared else mock.patch(
        "conda2docker.resolve.conda.shared_gateways", contextlib.nullcontext)
    start, cpu = time.perf_counter(), time.process_time()
    with open(os.devnull, "w") as sink, patch, contextlib.redirect_stderr(sink), \
            contextlib.redirect_stdout(sink):
        command.main(["convert", str(lab), "-o", str(out), *options], standalone_mode=False)
    return time.perf_counter() - start, time.process_time() - cpu


def run(rounds: int = ROUNDS) -> dict[str, object]:
    corpus = SHARED / "corpus" / "envs"
    snapshot = SHARED / "channels" / "snapshot"
    if not corpus.is_dir() or not snapshot.is_dir():
        return skipped("../shared corpus or channel snapshot is absent")
    options = [*mirrors(snapshot), "--offline", "--activation", "table", "--force"]
    tool = str(BIN / "conda2docker")
    load_before = round(os.getloadavg()[0], 1)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        generate_lab(corpus, snapshot, work / "lab")
        # untimed: which environments convert at all (offline, from the snapshot)
        _, stderr = _process([tool, "convert", str(work / "lab"), "-o", str(work / "probe"), *options],
                             accept=(0, 1, 2, 3))
        failed = re.search(r"^converted (\d+) of (\d+) environment\(s\)(?:; failed: (.*))?$", stderr, re.M)
        if failed is None:
            return skipped(f"the lab run gave no summary: {stderr[-300:]}")
        converted, total = int(failed.group(1)), int(failed.group(2))
        solvable = sorted(p for p in (work / "probe").iterdir() if (p / "conda-lock.yml").is_file())
        sizes = {p.name: (p / "conda-lock.yml").read_text().count("\n- name: ") for p in solvable}
        sources = {line.split(": converting ", 1)[0]: line.split(": converting ", 1)[1]
                   for line in stderr.splitlines() if ": converting " in line}
        solvable_lab = work / "solvable"
        solvable_lab.mkdir()
        for p in solvable:
            shutil.copyfile(sources[p.name], solvable_lab / Path(sources[p.name]).name)
        by_size = sorted(sizes, key=lambda n: (sizes[n], n))
        median_env = Path(sources[by_size[len(by_size) // 2]])

        lab_runs: list[Run] = []
        one_runs: list[Run] = []
        for attempt in range(rounds + 1):
            shutil.rmtree(work / "out", ignore_errors=True)
            lab_run, _ = _process([tool, "convert", str(solvable_lab), "-o", str(work / "out"), *options])
            shutil.rmtree(work / "one", ignore_errors=True)
            one_run, _ = _process([tool, "convert", str(median_env), "-o", str(work / "one"), *options])
            if attempt:
                lab_runs.append(lab_run)
                one_runs.append(one_run)
        in_process: dict[str, list[tuple[float, float]]] = {"shared": [], "unshared": []}
        for attempt in range(rounds + 1):
            for mode in ("shared", "unshared"):
                figures = in_process_seconds(solvable_lab, work / "inproc", options, shared=mode == "shared")
                if attempt:
                    in_process[mode].append(figures)
        separate: list[Run] = []
        for name in by_size:
            shutil.rmtree(work / "one", ignore_errors=True)
            separate.append(_process([tool, "convert", sources[name], "-o", str(work / "one"), *options])[0])
    lab_s, one_s = median_seconds(lab_runs), median_seconds(one_runs)
    lab_cpu, one_cpu = median_cpu(lab_runs), median_cpu(one_runs)
    ratio = lab_s / one_s
    return {
        "name": "convert of a 50-environment lab in one run vs one environment's convert",
        "environments": total,
        "solvable": converted,
        "one_environment": f"{median_env.name} ({sizes[by_size[len(by_size) // 2]]} packages)",
        "rounds": rounds,
        "lab_seconds": round(lab_s, 2),
        "one_seconds": round(one_s, 3),
        "ratio": round(ratio, 2),
        "lab_cpu_seconds": round(lab_cpu, 2),
        "one_cpu_seconds": round(one_cpu, 3),
        "cpu_ratio": round(lab_cpu / one_cpu, 2),
        "in_process_shared_gateway_seconds": round(statistics.median(r[0] for r in in_process["shared"]), 2),
        "in_process_gateway_per_solve_seconds": round(statistics.median(r[0] for r in in_process["unshared"]), 2),
        "in_process_shared_gateway_cpu_seconds": round(statistics.median(r[1] for r in in_process["shared"]), 2),
        "in_process_gateway_per_solve_cpu_seconds": round(statistics.median(r[1] for r in in_process["unshared"]), 2),
        "separate_processes_seconds": round(sum(r[0] for r in separate), 2),
        "separate_processes_cpu_seconds": round(sum(r[2] for r in separate), 2),
        "lab_mib": round(max(r[1] for r in lab_runs), 1),
        "load_average_after": round(os.getloadavg()[0], 1),
        "load_average_before": load_before,
        "spread_seconds": {"lab": spread(lab_runs), "one": spread(one_runs)},
        "target": f"lab <= {TARGET:g}x one environment (medians of {rounds} alternating runs)",
        "met": ratio <= TARGET,
    }


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else ROUNDS), indent=2))
