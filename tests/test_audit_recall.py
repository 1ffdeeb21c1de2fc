"""Recall of the audit on real environment files, per category, against what an expert
expects (tests/fixtures/corpus/expected.py). Run with -s to see the table.

Static findings are measured offline on every file; solve-enriched findings on the files
that solve against ../shared/channels/snapshot-wide; source builds (P201) against pip's own
verdicts (sdist_oracle*.tsv), with the public index reachable (marker ``network``).
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import pytest

from conda2docker.audit import AuditContext, audit
from conda2docker.audit.engine import SOLVED_VALUE, enrich
from conda2docker.audit.local import scan_local_paths
from conda2docker.model import EnvSpec, Finding
from conda2docker.read import read_input
from fixtures.corpus.expected import CATEGORIES, EXPECTED, UNREADABLE

HERE = Path(__file__).parent / "fixtures" / "corpus"
STATIC = [c for c in CATEGORIES if c != "sdist-only"]
# Floors: the recall measured when this test was written; a change may only raise them.
FLOOR = {"platform-only": 1.0, "channel": 1.0, "git": 1.0, "local": 1.0,
         "export-builds": 1.0, "cuda-version": 0.9, "cuda-extension": 0.5}


def _key(text: str) -> str:
    return re.sub(r"[-_.]+", "-", text.lower()).removesuffix("-git")


def matches(expected: str, finding: Finding) -> bool:
    tokens = re.split(r"[\s/@#=:,()]+", f"{finding.subject} {finding.message}")
    wanted = _key(expected) if expected != "." else "."
    return finding.subject.lower() == expected.lower() or any(
        (t == "." if wanted == "." else _key(t) == wanted) for t in tokens)


def files(corpus: Path) -> list[Path]:
    found = [p for p in sorted(corpus.iterdir()) if p.name not in UNREADABLE]
    return found + sorted((HERE / "envs").iterdir())


def score(findings_by_file: dict[str, list[Finding]], categories: Iterable[str]
          ) -> tuple[Counter[str], Counter[str], list[str]]:
    hit: Counter[str] = Counter()
    total: Counter[str] = Counter()
    missed: list[str] = []
    for name, findings in findings_by_file.items():
        for category in categories:
            codes = CATEGORIES[category]
            relevant = [f for f in findings if f.code in codes]
            for subject in EXPECTED[name].get(category, set()):
                total[category] += 1
                if any(matches(subject, f) for f in relevant):
                    hit[category] += 1
                else:
                    missed.append(f"{name[:48]}: {category} {subject}")
    return hit, total, missed


def table(title: str, hit: Counter[str], total: Counter[str], missed: list[str]) -> str:
    lines = [f"\n{title}", f"  {'category':<16} {'found':>5} / {'expected':<8} recall"]
    for category in sorted(total):
        lines.append(f"  {category:<16} {hit[category]:>5} / {total[category]:<8} "
                     f"{hit[category] / total[category]:.2f}")
    return "\n".join([*lines, *(f"  missed: {m}" for m in missed)])


def static_findings(path: Path) -> tuple[EnvSpec, list[Finding]]:
    spec = read_input(path)
    return spec, audit(AuditContext.build(spec, local=scan_local_paths(spec)))


def test_every_file_has_expectations(corpus_envs: Path) -> None:
    assert {p.name for p in files(corpus_envs)} == set(EXPECTED)


def test_static_recall_per_category(corpus_envs: Path) -> None:
    found = {p.name: static_findings(p)[1] for p in files(corpus_envs)}
    hit, total, missed = score(found, STATIC)
    print(table(f"static findings, offline, {len(found)} files", hit, total, missed))
    for category, floor in FLOOR.items():
        assert hit[category] / total[category] >= floor, (category, missed)


def test_solve_adds_and_loses_nothing(corpus_envs: Path, snapshot_wide: Path,
                                      tmp_path: Path) -> None:
    from conda2docker.resolve import ResolveOptions, resolve

    options = ResolveOptions(channel_alias=snapshot_wide.as_uri(), solver="rattler",
                             offline=True, keep_going=True, cache_dir=tmp_path)
    merged: dict[str, list[Finding]] = {}
    solved_fully = []
    unanswered = []
    added: Counter[str] = Counter()
    for path in files(corpus_envs):
        spec, static = static_findings(path)
        local = scan_local_paths(spec)
        try:
            resolution = resolve(spec, options)
        except Exception as error:  # a channel the snapshot lacks entirely, etc.
            print(f"  not solved: {path.name[:48]}: {error}")
            continue
        solved = audit(AuditContext.build(spec, resolution, local=local))
        complete = not resolution.unavailable and not any(
            c.code in ("C109", "P207") for c in resolution.changes)
        combined = enrich(static, solved, complete=complete)
        merged[path.name] = combined
        kept = {(f.code, f.subject) for f in static
                if not (complete and f.code in SOLVED_VALUE)}
        assert kept <= {(f.code, f.subject) for f in combined}
        causes = [f for f in combined if f.code in {"C101", "C108", "C109", "P207"}]
        if not causes and resolution.lock.packages:
            solved_fully.append(path.name)
        elif not any(f.location is not None and f.location.line for f in causes):
            unanswered.append(path.name)
        before = {(f.code, f.subject) for f in static}
        added.update(f.code for f in combined if (f.code, f.subject) not in before)
    hit, total, missed = score({n: merged[n] for n in solved_fully}, STATIC)
    print(table(f"static + solve, {len(solved_fully)} of {len(merged)} files solve fully "
                "against snapshot-wide", hit, total, missed))
    print("  solved fully:", ", ".join(n[:40] for n in solved_fully))
    print(f"  failed solves that name their cause at a line: "
          f"{len(merged) - len(solved_fully) - len(unanswered)} of "
          f"{len(merged) - len(solved_fully)}", *unanswered, sep="\n  ")
    print("  findings the solve added (all files), by code:", dict(sorted(added.items())))
    assert solved_fully, "no corpus file solves against snapshot-wide"
    assert not unanswered


def oracle() -> dict[str, set[str]]:
    expected: dict[str, set[str]] = {}
    for name in ("sdist_oracle.tsv", "sdist_oracle_fixtures.tsv"):
        path = HERE / name
        if not path.exists():
            continue
        with path.open() as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                if row["verdict"] == "sdist-only":
                    expected.setdefault(row["file"], set()).add(row["pin"].split("==")[0])
    return expected


@pytest.mark.network
def test_sdist_only_recall_against_pip(corpus_envs: Path) -> None:
    from conda2docker.audit.sdists import target_python
    from conda2docker.resolve.pypi import FetchError, IndexClient
    from conda2docker.sdist_check import scan_sdist_pins

    try:
        IndexClient().project_files("https://pypi.org/simple/", "pip")
    except FetchError as error:
        pytest.skip(f"the public index is unreachable: {error}")
    truth = oracle()
    assert truth, "run tests/fixtures/corpus/sdist_oracle.py first"
    found: dict[str, list[Finding]] = {}
    wrong: list[str] = []
    for path in files(corpus_envs):
        spec = read_input(path)
        scan = scan_sdist_pins(spec, IndexClient(), platform="linux-64", glibc="2.36",
                               python=target_python(spec))
        findings = audit(AuditContext.build(spec, sdists=scan.facts), select=["P201"])
        found[path.name] = findings
        EXPECTED[path.name]["sdist-only"] = truth.get(path.name, set())
        wrong += [f"{path.name[:48]}: {f.subject}" for f in findings
                  if f.subject not in truth.get(path.name, set())]
    hit, total, missed = score(found, ["sdist-only"])
    print(table("sdist-only pins (P201) against pip's verdicts", hit, total, missed))
    print(f"  reported but pip finds a wheel: {len(wrong)}", *wrong, sep="\n  ")
    assert hit["sdist-only"] / total["sdist-only"] >= 0.9
