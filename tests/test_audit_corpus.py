"""The audit over real files: ../shared/corpus/envs (spec only) and ../shared/locks.

Prints a findings summary per file (run with -s to see it) and checks findings that the
files are known for.
"""

from __future__ import annotations

import importlib.util
import time
from collections import Counter
from pathlib import Path

import pytest

from conda2docker.audit import AuditContext, audit, plan_inputs
from conda2docker.errors import InputError
from conda2docker.graph import build_graph, why

EXPECTED_ENV = {
    "graphdeco-inria__gaussian-splatting__environment.yml": {"G401", "G402", "G403", "P203", "S303"},
    "CompVis__stable-diffusion__environment.yaml": {"R502", "R509", "P203", "C104"},
    "talmolab__sleap__environment_mac.yml": {"C102", "C103"},
    "IDEA-Research__GroundingDINO__environment.yaml": {"S301", "R503", "R506", "P205"},
    "aqlaboratory__openfold__environment.yml": {"P202"},
    "gcorso__DiffDock__environment.yml": {"P206", "C102"},
    "konstantinjdobler__nlp-research-template__environment.yml": {"S305"},
}
EXPECTED_LOCK = {
    "01-ai__Yi__conda-lock.yml": {"G403", "P201", "G402"},
    "Astroite__3DGS-AncientBuilding__conda-lock.yml": {"S303", "P205", "G402"},
    "Dpbm__ghz__conda-lock.yml": {"C104", "P201"},
}


def _summary(name: str, counts: Counter[str]) -> str:
    return f"{name[:70]:<70} " + " ".join(f"{c}:{n}" for c, n in sorted(counts.items()))


def test_corpus_environments(corpus_envs: Path) -> None:
    if importlib.util.find_spec("conda2docker.read") is None:
        pytest.skip("conda2docker.read is not there yet: environment files cannot be read")
    from conda2docker.audit.local import scan_local_paths
    from conda2docker.read import read_input

    total: Counter[str] = Counter()
    unreadable = []
    lines = []
    for path in sorted(corpus_envs.iterdir()):
        try:
            spec = read_input(path)
        except InputError as error:
            unreadable.append(f"{path.name}: {error.one_line()}")
            continue
        findings = audit(AuditContext.build(spec, local=scan_local_paths(spec)))
        counts = Counter(f.code for f in findings)
        total.update(counts)
        lines.append(_summary(path.name, counts))
        assert "R504" in counts, path.name  # none of them comes with a lock
        expected = EXPECTED_ENV.get(path.name, set())
        assert expected <= set(counts), f"{path.name}: missing {expected - set(counts)}"
    print("\n".join(["", "corpus environments:", *lines, _summary("TOTAL", total),
                     f"unreadable: {len(unreadable)}", *unreadable]))
    assert len(lines) >= 25


def test_shared_locks(shared_locks: Path) -> None:
    from conda2docker.lockfile import read_conda_lock

    total: Counter[str] = Counter()
    lines = []
    for path in sorted(shared_locks.glob("*.yml")):
        locked = read_conda_lock(path)
        platform = "linux-64" if "linux-64" in locked.platforms else locked.platforms[0]
        start = time.perf_counter()
        context = AuditContext.build(lock=locked, platform=platform)
        findings = audit(context)
        elapsed = time.perf_counter() - start
        assert elapsed < 2.0, f"{path.name}: audit took {elapsed:.2f}s"
        counts = Counter(f.code for f in findings)
        total.update(counts)
        lines.append(_summary(f"{path.name} ({len(context.packages)} pkgs)", counts))
        expected = EXPECTED_LOCK.get(path.name, set())
        assert expected <= set(counts), f"{path.name}: missing {expected - set(counts)}"
        gaps = plan_inputs(findings, locked, platform)
        assert {b.name for b in gaps.sdist_packages} == {f.subject for f in findings if f.code == "P201"}
        graph = build_graph(locked, platform)
        assert len(graph) == len(context.packages)
        python = graph.find("python")
        if python and graph.roots:
            assert why(graph, python[0], limit=3).paths
    print("\n".join(["", "shared locks:", *lines, _summary("TOTAL", total)]))
    assert len(lines) >= 10
