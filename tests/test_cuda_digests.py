"""Last known digests of the ``nvidia/cuda`` tags: the recorded sightings, their merge into the
tag table by ``scripts/update_cuda_tags.py`` (deterministic bytes), the harvest of a clone's
history, and the generated file's header naming the digest without pinning it."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from conda2docker.cuda import images
from conda2docker.plan import make_plan
from conda2docker.plan.header import pin_lines
from conda2docker.plan.instructions import Arg
from conda2docker.plan.types import PlanOptions
from conda2docker.render.dockerfile import render_dockerfile

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "update_cuda_tags.py"
RECORD = ROOT / "scripts" / "nvidia_cuda_digests.json"
A, B, C = ("sha256:" + c * 64 for c in "abc")


def sighting(tag: str, digest: str, date: str | None, kind: str = "index", **extra: Any) -> dict[str, Any]:
    return {"tag": tag, "digest": digest, "kind": kind, "basis": "test", "repository": "o/r",
            "path": "Dockerfile", "commit": "1" * 40, "date": date, **extra}


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True)


@pytest.fixture
def table(tmp_path: Path) -> Path:
    path = tmp_path / "table.json"
    path.write_text(json.dumps({"repository": "nvidia/cuda", "source": "test", "updated": "2026-01-01", "tags": {
        "12.4.1-devel-ubuntu22.04": {"digest": None, "status": "supported"},
        "12.4.1-runtime-ubuntu22.04": {"digest": None, "status": "supported"},
        "11.8.0-devel-ubuntu22.04": {"digest": C, "kind": "index", "seen": "earlier", "status": "supported"},
        "11.3.1-devel-ubuntu20.04": {"digest": None, "status": "unsupported"}}}))
    return path


def record(tmp_path: Path, *sightings: dict[str, Any]) -> Path:
    path = tmp_path / "sightings.json"
    path.write_text(json.dumps({"sightings": list(sightings)}))
    return path


def test_the_newest_index_sighting_of_a_tag_is_its_last_known_digest(tmp_path: Path, table: Path) -> None:
    sightings = record(
        tmp_path,
        sighting("12.4.1-devel-ubuntu22.04", A, "2024-05-01"),
        sighting("12.4.1-devel-ubuntu22.04", B, "2025-02-01", commit="2" * 40),  # rebuilt by NVIDIA
        sighting("12.4.1-devel-ubuntu22.04", C, "2025-06-01", kind="manifest"),  # one platform's: never
        sighting("12.4.1-runtime-ubuntu22.04", A, None, kind="unknown"),
        sighting("12.4.1-runtime-ubuntu22.04", B, None),  # undated: an index beats an unstated kind
        sighting("99.9.9-devel-ubuntu22.04", A, "2026-01-01"),  # not a published tag: left out
    )
    done = run("--sightings", sightings, "-o", table, "--date", "2026-12-05")
    assert done.returncode == 0, done.stderr
    tags = json.loads(table.read_text())["tags"]
    assert tags["12.4.1-devel-ubuntu22.04"] == {
        "digest": B, "kind": "index", "seen": "o/r@222222222222 Dockerfile (2025-02-01)", "status": "supported"}
    assert tags["12.4.1-runtime-ubuntu22.04"]["digest"] == B
    assert tags["11.8.0-devel-ubuntu22.04"]["digest"] == C  # no sighting: the table's own is kept
    assert tags["11.3.1-devel-ubuntu20.04"] == {"digest": None, "status": "unsupported"}
    assert "99.9.9-devel-ubuntu22.04" not in tags
    assert "4 tags (3 supported), 3 with a last known digest" in done.stdout


def test_the_table_is_the_same_bytes_for_the_same_inputs(tmp_path: Path, table: Path) -> None:
    sightings = record(tmp_path, sighting("12.4.1-devel-ubuntu22.04", A, "2024-05-01"))
    assert run("--sightings", sightings, "-o", table, "--date", "2026-12-05").returncode == 0
    first = table.read_bytes()
    assert json.loads(first)["updated"] == "2026-12-05"  # the content changed: a new date
    assert run("--sightings", sightings, "-o", table, "--date", "2027-01-01").returncode == 0
    assert table.read_bytes() == first  # nothing changed: not even the date


def test_order_of_the_record_does_not_matter(tmp_path: Path, table: Path) -> None:
    same_day = [sighting("12.4.1-devel-ubuntu22.04", d, "2025-01-01") for d in (A, B)]
    outputs = []
    for order in (same_day, same_day[::-1]):
        out = tmp_path / f"out{len(outputs)}.json"
        out.write_bytes(table.read_bytes())
        assert run("--sightings", record(tmp_path, *order), "-o", out, "--date", "2026-12-05").returncode == 0
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]


def test_a_broken_record_is_refused_with_every_problem(tmp_path: Path, table: Path) -> None:
    before = table.read_bytes()
    bad = record(tmp_path, sighting("12.4.1-devel-ubuntu22.04", "sha256:xyz", "2025-01-01"),
                 sighting("12.4.1-devel-ubuntu22.04", A, "yesterday", repository="no slash", commit="abc"),
                 "not an object")  # type: ignore[arg-type]
    done = run("--sightings", bad, "-o", table)
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert [line.split(": ", 1)[1].split(":")[0] for line in lines] == [
        "sightings[0].digest", "sightings[1].repository", "sightings[1].commit", "sightings[1].date",
        "sightings[2]"]
    assert table.read_bytes() == before


def test_harvest_reads_the_pins_a_clone_added_and_who_added_them(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()

    def commit(text: str, subject: str, date: str) -> None:
        (repo / "Dockerfile").write_text(text)
        env = {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date, "PATH": "/usr/bin:/bin",
               "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t",
               "GIT_COMMITTER_EMAIL": "t@e", "HOME": str(tmp_path)}
        subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True, env=env)
        subprocess.run(["git", "-C", str(repo), "commit", "-qm", subject], check=True, env=env)

    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    commit(f"FROM nvidia/cuda:12.4.1-devel-ubuntu22.04@{A}\n"
           f"FROM nvcr.io/nvidia/cuda:12.4.1-runtime-ubuntu22.04@{B}\n", "pin by hand", "2024-01-02T00:00:00Z")
    commit(f"FROM docker.io/nvidia/cuda:12.4.1-devel-ubuntu22.04@{C} AS build\n",
           "build(deps): Bump nvidia/cuda in /", "2024-03-04T00:00:00Z")
    done = run("--harvest", repo, "--repository", "o/r")
    assert done.returncode == 0, done.stderr
    found = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(s["digest"], s["kind"], s["date"]) for s in found] == [
        (A, "unknown", "2024-01-02"), (C, "index", "2024-03-04")]  # the nvcr.io pin is another registry
    assert all(s["repository"] == "o/r" and s["path"] == "Dockerfile" and len(s["commit"]) == 40 for s in found)


def test_the_shipped_record_is_valid_and_every_digest_of_the_table_is_traced() -> None:
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import update_cuda_tags as script
    finally:
        sys.path.remove(str(SCRIPT.parent))
    sightings, problems = script.read_sightings(RECORD)
    assert problems == []
    recorded = {(s["tag"], s["digest"]) for s in sightings}
    with_digest = [t for t in images.published_tags() if t.digest]
    assert with_digest, "the table has no last known digest"
    for tag in with_digest:
        assert (tag.tag, tag.digest) in recorded, tag.tag
        assert tag.seen and tag.kind in ("index", "unknown")
    rejected = json.loads(RECORD.read_text())["rejected"]
    assert all(r["reason"] for r in rejected)


# --- the generated file: the digest named in the header, the image still by tag ---------------

FAKE = (images.PublishedTag((11, 8, 0), "devel", "ubuntu22.04", True, A, "o/r@1111 Dockerfile (2025-01-01)",
                            "index"),
        images.PublishedTag((11, 8, 0), "runtime", "ubuntu22.04", True, None))


def test_a_build_arg_naming_a_tag_with_a_known_digest_gets_a_pin_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(images, "published_tags", lambda: FAKE)
    lines = pin_lines((Arg("CUDA_DEVEL_IMAGE", "nvidia/cuda:11.8.0-devel-ubuntu22.04"),
                       Arg("RUNTIME_IMAGE", "nvidia/cuda:11.8.0-runtime-ubuntu22.04"),  # no digest known
                       Arg("OTHER", "docker.io/nvidia/cuda:11.8.0-devel-ubuntu22.04@" + B),  # pinned already
                       Arg("BUILD_IMAGE", "buildpack-deps:bookworm")))
    assert f"  CUDA_DEVEL_IMAGE: nvidia/cuda:11.8.0-devel-ubuntu22.04@{A}" in lines
    assert "    (seen in o/r@1111 Dockerfile (2025-01-01))" in lines
    assert sum(1 for line in lines if line.startswith("  ") and "@sha256:" in line) == 1
    assert pin_lines((Arg("BUILD_IMAGE", "buildpack-deps:bookworm"),)) == ()


def test_the_gpu_dockerfile_names_the_digest_but_builds_from_the_tag(monkeypatch: pytest.MonkeyPatch) -> None:
    """CI builds stand-ins tagged like NVIDIA's images: a ``FROM …@sha256`` would not find them,
    so the file keeps the tag and only its header names the digest."""
    from support.locks import conda, lock_with_builds, pip

    monkeypatch.setattr(images, "published_tags", lambda: FAKE)
    base = lock_with_builds()
    lock = replace(base, packages=(*base.packages, pip("flash-attn", "2.6.3",
                                                       "https://files.example.org/flash_attn-2.6.3.tar.gz"),
                                   conda("cuda-version", "11.8", "h70ddcb2_3", subdir="noarch"),
                                   conda("cuda-cudart", "11.8.89", "h0_0")))
    options = PlanOptions(variant="gpu", cuda_version="11.8", cuda_extensions=("flash-attn",))
    text = render_dockerfile(make_plan(None, lock, options))
    assert f"#   CUDA_DEVEL_IMAGE: nvidia/cuda:11.8.0-devel-ubuntu22.04@{A}" in text
    assert 'ARG CUDA_DEVEL_IMAGE="nvidia/cuda:11.8.0-devel-ubuntu22.04"\n' in text
    assert "FROM ${CUDA_DEVEL_IMAGE} AS cuda-ext" in text
    pinned = replace(options, cuda_devel_image=f"nvidia/cuda:11.8.0-devel-ubuntu22.04@{B}")
    assert "Last known digests" not in render_dockerfile(make_plan(None, lock, pinned))
    assert "Last known digests" not in render_dockerfile(make_plan(None, lock, PlanOptions()))
