"""``conda2docker audit``: formats, --select/--ignore, --fail-on exit codes, --no-lock."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conda2docker.cli import main
from fixtures.audit.cases import BASE, cpkg, lock, ppkg

SDIST = "https://files.example.org/p/orjson-3.6.8.tar.gz"


@pytest.fixture
def lock_file(tmp_path: Path) -> Path:
    """A conda-lock.yml with one error (G404), two warnings (P201, S303) and an info (G401)."""
    from conda2docker.lockfile import write_conda_lock

    locked = lock(*BASE, cpkg("pytorch", "2.1.0", "cpu_mkl_py311h6c8e3f4_100"),
                  cpkg("cudatoolkit", "11.8.0"), ppkg("opencv-python", "4.9.0.80"),
                  ppkg("orjson", "3.6.8", SDIST))
    path = tmp_path / "conda-lock.yml"
    write_conda_lock(locked, path)
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["audit", *args])
    out, err = capsys.readouterr()
    return code, out, err


def codes_in(out: str) -> set[str]:
    return {f["code"] for f in json.loads(out)["findings"]}


def test_default_fails_on_error(lock_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(lock_file), "--format", "json")
    assert code == 1
    assert {"G404", "P201", "S303", "G401", "G402"} <= codes_in(out)


def test_ignore_the_error_passes(lock_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(lock_file), "--ignore", "G404")
    assert code == 0
    assert "G404" not in out and "S303 [warning]" in out


def test_fail_on_warning(lock_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, str(lock_file), "--ignore", "G404", "--fail-on", "warning")[0] == 1
    assert run(capsys, str(lock_file), "--select", "G401", "--fail-on", "warning")[0] == 0
    assert run(capsys, str(lock_file), "--select", "G401", "--fail-on", "info")[0] == 1
    assert run(capsys, str(lock_file), "--fail-on", "never")[0] == 0


def test_select_by_prefix_comma_and_repeat(lock_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(lock_file), "-f", "json", "--select", "S3,P201",
                       "--select", "G401")
    assert codes_in(out) == {"S303", "P201", "G401"} and code == 0
    code, out, _ = run(capsys, str(lock_file), "-f", "json", "--select", "G",
                       "--ignore", "G40", "--select", "G404")
    assert codes_in(out) == {"G404"} and code == 1


def test_unknown_selector_and_level_are_usage_errors(
    lock_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, str(lock_file), "--select", "Q1")
    assert code == 2 and "unknown rule selector 'Q1'" in err and len(err.splitlines()) == 1
    code, _, err = run(capsys, str(lock_file), "--fail-on", "fatal")
    assert code == 2 and "--fail-on" in err
    code, _, err = run(capsys, str(lock_file), "--format", "xml")
    assert code == 2 and "--format" in err


def test_sarif_and_output_file(lock_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "audit.sarif"
    code, out, _ = run(capsys, str(lock_file), "-f", "sarif", "-o", str(target), "--fail-on", "never")
    assert code == 0 and out == ""
    document = json.loads(target.read_text())
    assert {r["ruleId"] for r in document["runs"][0]["results"]} >= {"G404", "S303"}


def test_environment_file_without_solving(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = tmp_path / "environment.yml"
    env.write_text(
        "name: demo\nchannels: [conda-forge, defaults]\ndependencies:\n  - python=3.11\n"
        "  - numpy\n  - pip\n  - pip:\n    - opencv-python==4.9.0.80\n    - -e .\n"
        "    - git+https://github.com/x/y.git@main#egg=y\n",
        encoding="utf-8",
    )
    (tmp_path / "setup.py").write_text("from setuptools import setup\nsetup(name='demo')\n")
    code, out, _ = run(capsys, str(env), "--no-lock", "-f", "json")
    assert code == 0
    found = json.loads(out)["findings"]
    assert {"C103", "C104", "R501", "R502", "R504", "R509", "P203", "S303"} <= {f["code"] for f in found}
    r501 = next(f for f in found if f["code"] == "R501" and f["subject"] == "numpy")
    assert r501["location"]["line"] == 5


def test_solved_environment_reports_missing_packages(
    small_channel: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Solving against a local channel: a package no channel has becomes C101 (an error)."""
    env = tmp_path / "environment.yml"
    env.write_text(
        f"channels: [{small_channel.name}]\n"  # type: ignore[attr-defined]
        "dependencies:\n  - chello\n  - no-such-package-anywhere\n",
        encoding="utf-8",
    )
    code, out, err = run(capsys, str(env), "--offline", "--channel-alias",
                         small_channel.alias, "-f", "json")  # type: ignore[attr-defined]
    assert code == 1, err
    findings = json.loads(out)["findings"]
    missing = [f for f in findings if f["code"] == "C101"]
    assert [f["subject"] for f in missing] == ["no-such-package-anywhere"]
    assert missing[0]["location"]["line"] == 4
    assert "audit failed: 1 finding(s) at or above error" in err


def test_service_beside_the_lock_without_its_client(lock_file: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(lock_file), "--format", "json", "--select", "S307",
                       "--service", "redis", "--service", "Mongo")
    findings = json.loads(out)["findings"]
    assert code == 0 and [f["subject"] for f in findings] == ["mongodb", "redis"]
    assert findings[0]["evidence"] == ["--service mongodb"]
    code, out, err = run(capsys, str(lock_file), "--service", "mysql")
    assert code == 2 and "unknown --service 'mysql'; fix: choose from mongodb, postgres, redis" in err
