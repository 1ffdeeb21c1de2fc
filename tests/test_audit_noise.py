"""Signal over noise: one finding per cause, nothing about what the reader added, PyPI by
any of its names, and a file:line on every finding that comes from a line."""

from __future__ import annotations

from pathlib import Path

from conda2docker.audit import AuditContext, audit
from conda2docker.read import read_input

EXPORT = """\
name: exported
channels:
  - conda-forge
  - defaults
  - sleap-deps/label/dev
dependencies:
  - libzlib=1.2.13=hd590300_5
  - numpy=1.26.4=py311h64a7726_0
  - python=3.11.9=hb806964_0_cpython
  - pip:
    - requests==2.31.0
    - --index-url https://pypi.python.org/simple
    - --extra-index-url https://pypi.org/simple/
"""


def findings_of(tmp_path: Path, text: str) -> list:  # type: ignore[type-arg]
    path = tmp_path / "environment.yml"
    path.write_text(text)
    return audit(AuditContext.build(read_input(path)))


def test_one_finding_for_all_exported_build_strings(tmp_path: Path) -> None:
    [builds] = [f for f in findings_of(tmp_path, EXPORT) if f.code == "R503"]
    assert "3 package(s)" in builds.message
    assert builds.evidence == ("libzlib=1.2.13=hd590300_5", "numpy=1.26.4=py311h64a7726_0",
                               "python=3.11.9=hb806964_0_cpython")
    assert builds.location is not None and builds.location.line == 7


def test_nothing_about_what_the_reader_added(tmp_path: Path) -> None:
    findings = findings_of(tmp_path, EXPORT)
    assert not [f for f in findings if f.code == "R501" and f.subject == "pip"]
    assert [f.subject for f in findings if f.code == "R510"] == ["pip"]


def test_pypi_under_its_old_names_is_pypi(tmp_path: Path) -> None:
    assert not [f for f in findings_of(tmp_path, EXPORT) if f.code == "P206"]
    other = EXPORT.replace("https://pypi.org/simple/", "https://download.pytorch.org/whl/cu118")
    [custom] = [f for f in findings_of(tmp_path, other) if f.code == "P206"]
    assert custom.subject == "https://download.pytorch.org/whl/cu118"
    assert custom.location is not None and custom.location.line == 13


def test_channel_findings_point_at_the_channel_line(tmp_path: Path) -> None:
    findings = findings_of(tmp_path, EXPORT)
    lines = {f.code: f.location.line for f in findings if f.location is not None}
    assert lines["C102"] == 5  # sleap-deps/label/dev
    assert lines["C103"] == 4 and lines["C104"] == 4  # defaults
    from_lines = [f for f in findings if f.code not in ("R504",)]
    assert all(f.location is not None and f.location.line for f in from_lines), [
        f.code for f in from_lines if f.location is None]
