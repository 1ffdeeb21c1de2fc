"""read_input: one entry point for environment files, locks, requirements and folders."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conda2docker.errors import InputError, SourceLocation
from conda2docker.read import read_input, read_requirements
from conda2docker.read.dispatch import detect_kind

FIXTURES = Path(__file__).parent / "fixtures" / "envs"


@pytest.mark.parametrize(
    ("name", "text", "kind"),
    [
        ("environment.yml", "dependencies: [a]\n", "environment"),
        ("anything.lock", "# platform: linux-64\n@EXPLICIT\nhttps://x/a-1-0.conda\n", "explicit"),
        ("conda-lock.yml", "version: 1\nmetadata: {}\npackage: []\n", "conda-lock"),
        ("lock.yaml", "metadata:\n  platforms: []\npackage:\n- name: x\n", "conda-lock"),
        ("requirements.txt", "numpy\n", "requirements"),
        ("requirements-dev.in", "numpy\n", "requirements"),
        ("requirements", "numpy\n", "requirements"),
        ("deps.in", "numpy\n", "requirements"),
        ("spec.txt", "# platform: linux-64\nmake=4.3=h1_0\n", "conda-specs"),
    ],
)
def test_detect_kind(name: str, text: str, kind: str) -> None:
    assert detect_kind(Path(name), text) == kind


def test_requirements_txt_becomes_a_pip_environment() -> None:
    spec = read_input(FIXTURES / "requirements.txt")
    assert spec.kind == "requirements"
    assert spec.channels == ("conda-forge",)
    assert [d.name for d in spec.conda] == ["python", "pip"]
    assert [(r.name, r.specifier) for r in spec.pip if r.kind == "registry"] == [
        ("numpy", ">=1.26"),
        ("torch", "==2.2.0+cpu"),
        ("packaging", ""),
    ]
    assert spec.pip_options.extra_index_urls == ("https://download.pytorch.org/whl/cpu",)
    added = [(c.code, c.action, c.subject) for c in spec.changes if c.code == "R510"]
    assert added == [
        ("R510", "added", "python"),
        ("R510", "added", "pip"),
        ("R510", "added", "conda-forge"),
    ]
    assert "pin it" in spec.changes[[c.subject for c in spec.changes].index("python")].reason
    dropped = [c for c in spec.changes if c.code == "S305"]
    assert [c.subject for c in dropped] == ["pywin32"]
    assert dropped[0].location == SourceLocation((FIXTURES / "requirements.txt").absolute(), 4, 1)


def test_requirements_duplicates_and_platform_table(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text("rich>=13\nrich<14\npywin32\n")
    spec = read_requirements(path)
    assert [(r.name, r.specifier) for r in spec.pip] == [("rich", "<14,>=13")]
    assert {c.code for c in spec.changes} >= {"S301"}


def test_requirements_errors_point_into_the_file(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text("numpy\n\n  what is this\n")
    with pytest.raises(InputError) as caught:
        read_input(path)
    assert caught.value.location == SourceLocation(path, 3, 3)


def test_conda_lock_file() -> None:
    spec = read_input(FIXTURES / "conda-lock.yml")
    assert spec.kind == "conda-lock"
    assert spec.lock is not None
    assert [p.name for p in spec.lock.for_platform("linux-64")] == ["zlib", "six"]
    assert spec.platforms == ("linux-64",)
    assert spec.channels == ("conda-forge",)
    assert spec.conda == () and spec.pip == ()


def test_explicit_lock() -> None:
    spec = read_input(FIXTURES / "explicit-linux-64.lock")
    assert spec.kind == "explicit"
    assert spec.lock is not None
    assert [p.name for p in spec.lock.packages] == ["_libgcc_mutex", "zlib"]
    assert spec.channels == ("https://conda.anaconda.org/conda-forge",)


def test_a_lock_without_the_target_platform_is_an_error() -> None:
    with pytest.raises(InputError) as caught:
        read_input(FIXTURES / "explicit-osx.lock")
    assert "no packages for linux-64 (it covers: osx-arm64)" in caught.value.message
    assert caught.value.fix is not None and "--platform" in caught.value.fix


def test_a_lock_listing_the_target_platform_without_its_packages_is_an_error(tmp_path: Path) -> None:
    text = (FIXTURES / "conda-lock.yml").read_text()
    path = tmp_path / "conda-lock.yml"
    path.write_text(text.replace("platform: linux-64", "platform: osx-64"))
    with pytest.raises(InputError) as caught:
        read_input(path)
    assert "lists linux-64 but has no packages for it" in caught.value.message
    assert caught.value.location is not None and caught.value.location.file == path


def test_a_folder_reads_its_environment_file(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "requirements.txt", tmp_path / "requirements.txt")
    (tmp_path / "reqs").mkdir()
    shutil.copy(FIXTURES / "reqs" / "extra.txt", tmp_path / "reqs" / "extra.txt")
    assert read_input(tmp_path).kind == "requirements"
    (tmp_path / "environment.yml").write_text("dependencies: [python]\n")
    spec = read_input(tmp_path)
    assert (spec.kind, spec.source) == ("environment", tmp_path / "environment.yml")


def test_an_empty_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="without an environment file"):
        read_input(tmp_path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        read_input(tmp_path / "nope.yml")
    assert "does not exist" in caught.value.message
    assert caught.value.location == SourceLocation(tmp_path / "nope.yml")


def test_pixi_lock_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "pixi.lock"
    path.write_text("version: 6\nenvironments:\n  default: {}\npackages:\n- conda: https://x\n")
    with pytest.raises(InputError, match=r"pixi\.lock files are not supported"):
        read_input(path)


@pytest.mark.parametrize("platform", ["osx-arm64", "win-64", "linux-65"])
def test_non_linux_targets_are_refused(platform: str) -> None:
    with pytest.raises(InputError, match="images are Linux") as caught:
        read_input(FIXTURES / "full.yml", platform=platform)
    assert caught.value.fix is not None and "linux-aarch64" in caught.value.fix


def test_utf16_environment_through_read_input() -> None:
    spec = read_input(FIXTURES / "utf16le_bom_crlf.yml", platform="linux-aarch64")
    assert spec.kind == "environment"
    assert spec.name == "encoded"
