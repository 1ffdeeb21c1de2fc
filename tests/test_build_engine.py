"""Failing builds through the engine: the one-line error names the stage and the package."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conda2docker.cli import main
from support.channel import TestChannel
from support.pypi_index import LocalIndex

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("engine")]


def convert(tmp_path: Path, channel: TestChannel, pip: list[str]) -> Path:
    env = tmp_path / "environment.yml"
    env.write_text(
        "name: failing\nchannels:\n  - c2d-test\ndependencies:\n  - python=3.11\n  - pip\n  - pip:\n"
        + "".join(f"    - {item}\n" for item in pip)
    )
    out = tmp_path / "out"
    assert main(["convert", str(env), "-o", str(out), "--installer", "rattler", "--vendor",
                 "--channel-alias", channel.alias]) == 0
    return out


def build_error(out: Path, tag: str, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert main(["build", str(out), "--tag", tag, "--network", "none", "--quiet"]) == 4
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_wrong_pip_hash_names_the_pip_stage_and_the_package(
    tmp_path: Path, test_channel: TestChannel, local_pypi: LocalIndex, docker_client: Any,
    base_image: str, image_tag_factory: Callable[[str], str], capsys: pytest.CaptureFixture[str],
) -> None:
    out = convert(tmp_path, test_channel, [f"--index-url {local_pypi.url}", "c2d-pure==1.0"])
    requirements = next((out / "conda2docker").glob("requirements.pip*.txt"))
    text = requirements.read_text()
    assert "--hash=sha256:" in text
    good = text.split("--hash=sha256:", 1)[1][:64]
    requirements.write_text(text.replace(good, "0" * 64))
    line = build_error(out, image_tag_factory("bad-hash"), capsys)
    assert line.startswith("conda2docker: error: stage 'pip', step ")
    assert "failed (package c2d-pure): RUN exited with code 1" in line
    assert "Expected sha256 " + "0" * 64 in line
    assert f"fix: read the full log in {out / 'build.log'}" in line
    assert "DO NOT MATCH THE HASHES" in (out / "build.log").read_text()


def test_failing_setup_py_names_the_wheels_stage_and_the_package(
    tmp_path: Path, test_channel: TestChannel, docker_client: Any, base_image: str,
    build_image: str, image_tag_factory: Callable[[str], str], capsys: pytest.CaptureFixture[str],
) -> None:
    pkg = tmp_path / "broken"
    pkg.mkdir()
    (pkg / "setup.py").write_text(
        "import sys\nfrom setuptools import setup\n"
        "if 'bdist_wheel' in sys.argv:\n"  # metadata (at lock time) works; the wheel build fails
        "    raise SystemExit('c2d-broken: this build fails on purpose')\n"
        "setup(name='c2d-broken', version='0.1', py_modules=['c2d_broken'])\n"
    )
    (pkg / "c2d_broken.py").write_text("")
    out = convert(tmp_path, test_channel, ["./broken"])
    line = build_error(out, image_tag_factory("broken"), capsys)
    assert line.startswith("conda2docker: error: stage 'wheels', step ")
    assert "(package c2d-broken)" in line or "(package c2d_broken)" in line
    assert "this build fails on purpose" in (out / "build.log").read_text()


def test_build_progress_and_stage_summary(
    tmp_path: Path, docker_client: Any, base_image: str, image_tag_factory: Callable[[str], str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "Dockerfile").write_text(
        f"FROM {base_image} AS one\nRUN echo building one > /one\n"
        f"FROM {base_image} AS two\nCOPY --from=one /one /one\nCMD [\"cat\", \"/one\"]\n"
    )
    shutil.copy(tmp_path / "Dockerfile", tmp_path / "Dockerfile.gpu")
    tag = image_tag_factory("progress")
    capsys.readouterr()
    assert main(["build", str(tmp_path), "--tag", tag, "--network", "none", "--variant", "gpu"]) == 0
    captured = capsys.readouterr()
    err = captured.err.splitlines()
    assert "[one] Step 1/5 : FROM debian:bookworm-slim AS one" in err
    assert "[two] Step 4/5 : COPY --from=one /one /one" in err
    assert any(line.startswith("  one ") and "2 steps" in line for line in err)
    assert captured.out.startswith(f"built {tag} (sha256:")
    log = (tmp_path / "build.log").read_text()
    assert "building one" in log and "# stage two: 3 steps" in log
    # Built again: every step but FROM comes from the cache.
    assert main(["build", str(tmp_path), "--tag", tag, "--network", "none", "--variant", "gpu"]) == 0
    assert "    (cached)" in capsys.readouterr().err
