"""``conda2docker graph``: export formats, --why, --sizes, svg through Graphviz."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conda2docker.cli import main
from fixtures.audit.cases import cpkg, lock, ppkg


@pytest.fixture
def lock_file(tmp_path: Path) -> Path:
    from conda2docker.lockfile import write_conda_lock

    locked = lock(
        cpkg("python", "3.11.9", deps={"pip": "", "libzlib": ""}),
        cpkg("pip", "24.0", deps={"python": ""}),
        cpkg("libzlib", "1.3.1"),
        cpkg("numpy", "1.26.4", deps={"python": ""}),
        cpkg("app", "1.0", deps={"numpy": "", "python": ""}),
        ppkg("tool", "1.0", deps={"numpy": ">=1"}),
    )
    path = tmp_path / "conda-lock.yml"
    write_conda_lock(locked, path)
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["graph", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_export(lock_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(lock_file), "--format", "json")
    assert code == 0
    document = json.loads(out)
    assert document["roots"] == ["conda:app", "pip:tool"]
    assert {"source": "pip:tool", "target": "conda:numpy", "spec": ">=1"} in document["edges"]


def test_dot_to_file(lock_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "g.dot"
    assert run(capsys, str(lock_file), "-o", str(target))[0] == 0
    assert target.read_text().startswith("digraph")


def test_why_prints_every_path_and_bounds_them(lock_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(lock_file), "--why", "libzlib")
    assert code == 0
    assert out.splitlines() == [
        "conda:libzlib is required through:",
        "  conda:app -> conda:python -> conda:libzlib",
        "  conda:app -> conda:numpy -> conda:python -> conda:libzlib",
        "  pip:tool -> conda:numpy -> conda:python -> conda:libzlib",
    ]
    code, out, _ = run(capsys, str(lock_file), "--why", "libzlib", "--limit", "1")
    assert "… and 2 more path(s)" in out


def test_why_unknown_package(lock_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, str(lock_file), "--why", "nope")
    assert code == 2 and "nope is not in the lock for linux-64" in err


def test_sizes(lock_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(lock_file), "--sizes")
    assert code == 0
    assert out.splitlines()[0].split() == ["root", "alone", "packages"]
    assert "no size in the lock" in out


def test_platform_missing_from_lock(lock_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, str(lock_file), "--platform", "linux-aarch64")
    assert code == 2 and "linux-64" in err


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")
def test_svg_through_graphviz(lock_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(lock_file), "--format", "svg")
    assert code == 0 and "<svg" in out and "conda:numpy" in out


def test_svg_without_graphviz_is_one_clear_line(
    lock_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    code, out, err = run(capsys, str(lock_file), "--format", "svg")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "Graphviz 'dot' is not installed" in err
