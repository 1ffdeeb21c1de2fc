"""`conda2docker inspect`: the normalised spec and every change, as JSON or a table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conda2docker.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "envs"

TOP_KEYS = [
    "format",
    "version",
    "source",
    "kind",
    "platform",
    "name",
    "channels",
    "platforms",
    "conda",
    "pip",
    "pip_options",
    "variables",
    "changes",
    "lock",
]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["inspect", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_shape_is_documented_and_stable(capsys: pytest.CaptureFixture[str]) -> None:
    path = FIXTURES / "export_windows.yml"
    code, out, err = run(capsys, str(path), "--format", "json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert list(data) == TOP_KEYS
    assert (data["format"], data["version"], data["kind"], data["platform"]) == (
        "conda2docker-inspect",
        1,
        "environment",
        "linux-64",
    )
    assert data["source"] == str(path)
    numpy = next(d for d in data["conda"] if d["name"] == "numpy")
    assert numpy == {
        "name": "numpy",
        "version": "==1.26.0",
        "build": "py311h0b4df5a_0",
        "channel": None,
        "matchspec": "numpy ==1.26.0 py311h0b4df5a_0",
        "raw": "numpy=1.26.0=py311h0b4df5a_0",
        "location": f"{path}:11:5",
    }
    assert list(data["pip"][0]) == [
        "kind", "name", "specifier", "extras", "marker", "url", "vcs", "ref", "path", "editable",
        "raw", "location",
    ]  # fmt: skip
    vc = next(c for c in data["changes"] if c["subject"] == "vc")
    assert vc["code"] == "S301" and vc["action"] == "dropped" and vc["location"] == f"{path}:16:5"
    assert list(vc) == ["code", "action", "subject", "reason", "detail", "location"]
    assert data["lock"] is None
    code, again, _ = run(capsys, str(path), "--format", "json")
    assert again == out


def test_json_a_mapped_package_keeps_what_was_written_and_where(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # a macOS export's compiler activation becomes Linux's c-compiler; the request still shows
    # the line the user wrote and where, so the table's AT column and every finding about
    # c-compiler point into the file
    path = FIXTURES / "export_macos.yml"
    code, out, err = run(capsys, str(path), "--format", "json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    compiler = next(d for d in data["conda"] if d["name"] == "c-compiler")
    assert compiler == {
        "name": "c-compiler",
        "version": "",
        "build": None,
        "channel": None,
        "matchspec": "c-compiler",
        "raw": "clang_osx-64=16.0.6=hb91bd55_5",
        "location": f"{path}:6:5",
    }
    mapped = next(c for c in data["changes"] if c["subject"] == "clang_osx-64")
    assert (mapped["code"], mapped["detail"], mapped["location"]) == (
        "S302",
        "c-compiler",
        f"{path}:6:5",
    )


def test_json_for_a_lock(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(FIXTURES / "conda-lock.yml"), "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["kind"] == "conda-lock"
    assert data["lock"] == {
        "platforms": ["linux-64"],
        "channels": ["conda-forge"],
        "packages": {"linux-64": {"conda": 1, "pip": 1}},
    }


def test_table_lists_requests_and_changes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(FIXTURES / "selectors.yml"), "--platform", "linux-aarch64")
    assert code == 0
    assert out.startswith(
        f"source     {FIXTURES / 'selectors.yml'} (environment, read for linux-aarch64)\n"
    )
    assert "conda (7)" in out
    assert "gcc_linux-aarch64" in out
    lines = out.splitlines()
    header = lines.index("changes (8)")
    assert lines[header + 1].split() == ["CODE", "ACTION", "SUBJECT", "AT", "REASON"]
    assert any(
        line.split()[:3] == ["S305", "dropped", "cudatoolkit=11.8"] for line in lines[header:]
    )
    assert any(line.split()[:3] == ["R511", "ignored", "mystery"] for line in lines[header:])


def test_table_for_an_unchanged_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    env = tmp_path / "environment.yml"
    env.write_text("name: plain\nchannels: [conda-forge]\ndependencies:\n  - python=3.12\n")
    code, out, _ = run(capsys, str(env))
    assert code == 0
    assert "  python  3.12.*" in out
    assert out.endswith("changes (0)\n  none: the file is read as written\n")


def test_errors_exit_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, str(FIXTURES / "template_dependency.yml"), "--format", "json")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert f"{FIXTURES / 'template_dependency.yml'}:8:7:" in err


def test_bad_platform_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, str(FIXTURES / "full.yml"), "--platform", "osx-arm64")
    assert code == 2
    assert "images are Linux" in err


def test_json_a_star_build_and_a_double_quoted_version_as_written_in_yaml(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``- python="3.11"`` keeps its quotes in YAML (a plain scalar) and reads as
    ``python=3.11``, with the rewrite said; ``scipy=*=*`` has no version and no build (a build
    ``*`` matches every build, as in conda), so it is shown as the bare name, unpinned."""
    env = tmp_path / "environment.yml"
    env.write_text('name: q\nchannels: [conda-forge]\ndependencies:\n'
                   '  - python="3.11"\n  - scipy=*=*\n')
    code, out, err = run(capsys, str(env), "--format", "json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    shown = {d["name"]: (d["version"], d["build"], d["matchspec"]) for d in data["conda"]}
    assert shown["python"] == ("3.11.*", None, "python 3.11.*")
    assert shown["scipy"] == ("", None, "scipy")
    quoted = [c for c in data["changes"] if c["location"] == f"{env}:4:5"]
    assert [c["reason"] for c in quoted] == [
        "lenient spec 'python=\"3.11\"': quotes removed from the version"]
