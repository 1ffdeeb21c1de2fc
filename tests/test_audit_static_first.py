"""The audit always answers: the file's findings first, the solve's added, a failed solve
as a finding with its true cause; ``lock`` stops with the same diagnosis."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conda2docker.cli import main
from conda2docker.errors import SourceLocation
from conda2docker.model import Unavailable
from conda2docker.resolve.conda import _explain, nearest_versions

OLD_PYTHON = """\
channels:
  - conda-forge
  - defaults
dependencies:
  - python=3.6
  - numpy
  - pip
  - pip:
    - requests==2.31.0
"""


def audit_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict[str, object]]]:
    code = main(["audit", *args, "--format", "json", "--solver", "rattler"])
    out, _ = capsys.readouterr()
    return code, json.loads(out)["findings"]


@pytest.fixture
def old_python(tmp_path: Path) -> Path:
    path = tmp_path / "environment.yml"
    path.write_text(OLD_PYTHON)
    return path


def test_missing_version_is_a_finding_with_the_nearest_versions(
    old_python: Path, snapshot_wide: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, findings = audit_json(capsys, str(old_python), "--channel-alias", snapshot_wide.as_uri())
    by_code = {f["code"]: f for f in findings}
    assert code == 1  # an error finding, --fail-on error
    missing = by_code["C108"]
    assert missing["subject"] == "python"
    assert missing["location"] == {"file": str(old_python.relative_to(Path.cwd()))
                                   if old_python.is_relative_to(Path.cwd()) else str(old_python),
                                   "line": 5, "column": 5}
    assert "3.6" in str(missing["message"]) and "3.8.15, 3.9" in str(missing["message"])
    assert "in no channel" not in str(missing["message"])
    assert "C101" not in by_code
    # the file's own findings are there next to the solve's: channels, lock, pins
    assert {"C103", "C104", "R504", "R501"} <= set(by_code)
    code, _ = audit_json(capsys, str(old_python), "--channel-alias", snapshot_wide.as_uri(),
                         "--fail-on", "never")
    assert code == 0


def test_lock_stops_with_the_same_diagnosis(
    old_python: Path, snapshot_wide: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main(["lock", str(old_python), "--channel-alias", snapshot_wide.as_uri(),
                 "--solver", "rattler", "-o", str(tmp_path / "out.lock.yml")])
    _, err = capsys.readouterr()
    assert code == 3
    assert "environment.yml:5:5" in err
    assert "python=3.6 (no such version for linux-64; the channels have 3.8.15, 3.9" in err
    assert "in no channel" not in err and "pip" not in err.split("fix:")[1]
    assert not (tmp_path / "out.lock.yml").exists()


def test_unsolvable_is_a_finding_and_the_static_ones_stay(
    tmp_path: Path, snapshot_wide: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "environment.yml"
    path.write_text("channels: [conda-forge]\ndependencies:\n  - python=3.8\n  - numpy=1.26\n"
                    "  - pywin32\n  - cudatoolkit=11.8\n")
    code, findings = audit_json(capsys, str(path), "--channel-alias", snapshot_wide.as_uri())
    codes = {f["code"] for f in findings}
    assert code == 1
    assert "C109" in codes  # numpy 1.26 has no build for Python 3.8
    assert {"S301", "G401", "R504"} <= codes  # static: platform-only, CUDA, no lock
    unsolvable = next(f for f in findings if f["code"] == "C109")
    assert "numpy" in str(unsolvable["message"]) and "numpy" in str(unsolvable["fix"])


def test_dropped_pin_is_blamed_before_the_conflict() -> None:
    where = SourceLocation(Path("/p/environment.yml"), 5, 5)
    dropped = Unavailable("python", "linux-64", "python=3.6", ("conda-forge",), where,
                          ("3.8.15", "3.9.7"))
    error = _explain(RuntimeError("Cannot solve the request because of: scipy 1.5.* cannot be "
                                  "installed because python >=3.6,<3.7 is missing"),
                     [], "linux-64", [dropped])
    text = error.one_line()
    assert text.startswith("/p/environment.yml:5:5: cannot solve for linux-64: 1 requested")
    assert "python=3.6 (no such version for linux-64; the channels have 3.8.15, 3.9.7)" in text
    assert "fix: first fix what the channels cannot meet: python=3.6" in text
    assert "relax or remove the pins of" not in text
    assert error.unavailable == (dropped,)


def test_nearest_versions_surround_the_request() -> None:
    have = ["3.8.12", "3.8.15", "3.9.7", "3.10.14", "3.11.9", "3.12.4", "3.13.1"]
    assert nearest_versions(have, "3.6") == ("3.8.15", "3.9.7", "3.10.14", "3.11.9")
    assert nearest_versions(have, "3.11.*") == ("3.9.7", "3.10.14", "3.11.9", "3.12.4")
    assert nearest_versions(have, "3.8.13") == ("3.8.12", "3.8.15", "3.9.7", "3.10.14")
    assert nearest_versions(have, ">=4") == ("3.13.1",)
    assert nearest_versions([], "1.0") == ()


def test_sarif_carries_the_same_findings(
    old_python: Path, snapshot_wide: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, findings = audit_json(capsys, str(old_python), "--channel-alias", snapshot_wide.as_uri())
    main(["audit", str(old_python), "--channel-alias", snapshot_wide.as_uri(), "--solver",
          "rattler", "--format", "sarif"])
    out, _ = capsys.readouterr()
    results = json.loads(out)["runs"][0]["results"]
    assert sorted(r["ruleId"] for r in results) == sorted(str(f["code"]) for f in findings)


def test_convert_stops_with_the_same_diagnosis(
    old_python: Path, snapshot_wide: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main(["convert", str(old_python), "--channel-alias", snapshot_wide.as_uri(),
                 "--solver", "rattler", "-o", str(tmp_path / "out")])
    _, err = capsys.readouterr()
    assert code == 3
    assert "python=3.6 (no such version for linux-64; the channels have 3.8" in err
    assert not (tmp_path / "out" / "Dockerfile").exists()
