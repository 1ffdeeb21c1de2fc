"""init's small parts: discovery rules, apt.txt/runtime.txt, project reading, inference,
the README section, the .dockerignore scan, and the CLI's dry run / refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from conda2docker.cli import main
from conda2docker.errors import InputError
from conda2docker.init.configfiles import read_apt, read_runtime
from conda2docker.init.discover import discover
from conda2docker.init.dockerignore import ContextRule, large_files, render_dockerignore
from conda2docker.init.infer import as_conda, conda_version
from conda2docker.init.project import read_project
from conda2docker.init.readme import BEGIN, END, upsert
from conda2docker.init.survey import survey


def touch(root: Path, *names: str, text: str = "x\n") -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_environment_choice_rule_and_ignored_files(tmp_path: Path) -> None:
    touch(tmp_path, "environment-gpu.yml", "environment-cpu.yml", "conda.yaml")
    files = discover(tmp_path)
    assert files.environment == Path("conda.yaml")
    assert sorted(str(i.path) for i in files.ignored) == ["environment-cpu.yml", "environment-gpu.yml"]
    (tmp_path / "conda.yaml").unlink()
    files = discover(tmp_path)
    assert files.environment == Path("environment-cpu.yml")  # shortest, then alphabetical
    assert "--env FILE" in files.ignored[0].reason
    touch(tmp_path, "environment.yaml")
    assert discover(tmp_path).environment == Path("environment.yaml")
    assert discover(tmp_path, tmp_path / "environment-gpu.yml").environment == Path("environment-gpu.yml")


def test_binder_directory_wins_over_dot_binder_and_root(tmp_path: Path) -> None:
    touch(tmp_path, "environment.yml", "apt.txt", ".binder/environment.yml", "binder/environment.yml",
          "setup.py")
    files = discover(tmp_path)
    assert files.config_dir == Path("binder")
    assert files.environment == Path("binder/environment.yml")
    assert files.apt is None and files.setup_py == Path("setup.py")
    assert {str(i.path) for i in files.ignored} == {".binder", "apt.txt", "environment.yml"}


def test_env_file_outside_the_repository_is_refused(tmp_path: Path) -> None:
    (tmp_path / "repo").mkdir()
    touch(tmp_path, "environment.yml")
    with pytest.raises(InputError, match="outside the repository"):
        discover(tmp_path / "repo", tmp_path / "environment.yml")


def test_apt_txt_comments_and_invalid_names(tmp_path: Path) -> None:
    apt = tmp_path / "apt.txt"
    apt.write_text("# tools\nlibgl1  # GL\n\nffmpeg git\nlibgl1\n")
    assert read_apt(apt) == ("libgl1", "ffmpeg", "git")
    apt.write_text("curl\nlibfoo=1.2\n")
    with pytest.raises(InputError) as caught:
        read_apt(apt)
    assert caught.value.location is not None and caught.value.location.line == 2
    assert "not a Debian package name" in caught.value.one_line()


def test_runtime_txt(tmp_path: Path) -> None:
    runtime = tmp_path / "runtime.txt"
    runtime.write_text("python-3.10\n")
    assert read_runtime(runtime) == "3.10"
    runtime.write_text("r-2023-01-01\n")
    assert read_runtime(runtime) is None
    runtime.write_text("python3.10\n")
    with pytest.raises(InputError, match="not a Python runtime") as caught:
        read_runtime(runtime)
    assert caught.value.fix is not None and "python-3.X" in caught.value.fix


def test_project_reading(tmp_path: Path) -> None:
    touch(tmp_path, "pyproject.toml", text="[tool.black]\nline-length = 88\n")
    assert read_project(tmp_path, Path()) is None  # tool settings only: not a package
    touch(tmp_path, "setup.py", text="from setuptools import setup\nsetup(name='paper-code')\n")
    project = read_project(tmp_path, Path())
    assert project is not None and project.name == "paper-code" and not project.needs_environment
    touch(tmp_path, "setup.cfg", text="[metadata]\nname = other\n[options]\ninstall_requires =\n"
          "    numpy>=1.2\n    six; python_version<'3'\npython_requires = >=3.9\n")
    project = read_project(tmp_path, Path())
    assert project is not None
    assert (project.name, project.dependencies, project.requires_python) == (
        "other", ("numpy>=1.2", "six; python_version<'3'"), ">=3.9")


def test_requirement_to_conda() -> None:
    from packaging.requirements import Requirement

    assert as_conda(Requirement("torch>=2.0,<3")) == "pytorch<3,>=2.0"
    assert as_conda(Requirement("numpy")) == "numpy"
    assert as_conda(Requirement("numpy[dev]")) is None
    assert as_conda(Requirement("numpy; sys_platform == 'linux'")) is None
    assert as_conda(Requirement("surely-not-a-conda-package-c2d")) is None
    assert conda_version("==1.2.*") == "1.2.*"
    assert conda_version("===1.0") is None


def test_nothing_to_build_gets_repo2docker_default_environment(tmp_path: Path) -> None:
    touch(tmp_path, "README.md")
    found = survey(tmp_path)
    assert found.plan.inferred is not None
    assert found.plan.environment == Path("conda2docker/environment.yml")
    asked = {d.name: d.version for d in found.spec.conda}
    assert asked["python"] == "3.10.*" and "jupyterlab" in asked
    touch(tmp_path, "runtime.txt", text="python-3.12\n")
    assert {d.name: d.version for d in survey(tmp_path, jupyter=False).spec.conda} == {
        "python": "3.12.*"}
    touch(tmp_path, "runtime.txt", text="python-2.7\n")
    with pytest.raises(InputError, match="Python 2 is out of scope"):
        survey(tmp_path)


def test_readme_upsert_is_idempotent() -> None:
    once = upsert("# Paper\n\nText.\n", "## Run with Docker\nA\n")
    assert once.startswith("# Paper\n\nText.\n\n" + BEGIN)
    assert upsert(once, "## Run with Docker\nA\n") == once
    changed = upsert(once + "\nAfter.\n", "## Run with Docker\nB\n")
    assert changed.count(BEGIN) == 1 and "\nB\n" + END in changed and changed.endswith("After.\n")


def test_large_files_are_listed_unless_already_excluded(tmp_path: Path) -> None:
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "big[1].bin").write_bytes(b"0" * 2048)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "huge.bin").write_bytes(b"0" * 4096)
    (tmp_path / "model.pt").write_bytes(b"0" * 4096)
    (tmp_path / "small.txt").write_bytes(b"0" * 10)
    assert large_files(tmp_path, 1024) == ["results/big[1].bin"]
    rule = ContextRule(None, ("results/big[1].bin",), 1024 * 1024)
    assert "results/big?1].bin" in render_dockerignore(rule)


def test_dry_run_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    touch(tmp_path, "environment.yml", text="channels: [conda-forge]\ndependencies: [python=3.11]\n")
    touch(tmp_path, "apt.txt", text="libgl1\n")
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(["init", str(tmp_path), "--dry-run", "--readme"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    err = capsys.readouterr().err
    assert "found apt.txt (apt packages)" in err and "apt: libgl1" in err
    assert "nothing solved, nothing written" in err


def test_cli_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    touch(tmp_path, "environment.yml", text="dependencies: [python]\n")
    assert main(["init", str(tmp_path), "--output", str(tmp_path.parent)]) == 2
    assert "--output must be inside the repository" in capsys.readouterr().err
    touch(tmp_path, "apt.txt", text="bad_name\n")
    assert main(["init", str(tmp_path), "--dry-run"]) == 2
    assert "apt.txt:1:1: 'bad_name' is not a Debian package name" in capsys.readouterr().err


def test_default_python_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    touch(tmp_path, "start", text="#!/bin/sh\nexec \"$@\"\n")
    asked = {d.name: d.version for d in survey(tmp_path, default_python="3.12").spec.conda}
    assert asked["python"] == "3.12.*"
    touch(tmp_path, "runtime.txt", text="python-3.9\n")  # the repository's own choice wins
    assert {d.name: d.version for d in survey(tmp_path, default_python="3.12").spec.conda}[
        "python"] == "3.9.*"
    assert main(["init", str(tmp_path), "--dry-run", "--default-python", "2.7"]) == 2
    assert "is not a Python 3 version" in capsys.readouterr().err
