"""The walking skeleton end to end: environment.yml → lock → convert → build → run.

Real parts only: a local channel of packages built by py-rattler-build (tests/recipes), the
embedded solver, conda-lock's writer, the rattler installer inside the image, a real engine.
The build runs with no network (the vendored, air-gapped mode).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from conda2docker.cli import main
from support.channel import TestChannel
from support.engine import run_in_image

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("engine")]


def write_env(tmp_path: Path, channel: TestChannel) -> Path:
    env = tmp_path / "environment.yml"
    env.write_text(
        "name: hello\n"
        f"channels:\n  - {channel.name}\n"
        "dependencies:\n"
        "  - python=3.11\n"
        "  - hello-noarch\n"
        "variables:\n"
        "  GREETING: 'from $(the) \"env\"'\n"
    )
    return env


def test_lock_is_written_in_conda_lock_format(tmp_path: Path, test_channel: TestChannel) -> None:
    from conda_lock.lockfile import parse_conda_lock_file

    env = write_env(tmp_path, test_channel)
    lock_path = tmp_path / "conda-lock.yml"
    alias = test_channel.root.as_uri()
    assert main(["lock", str(env), "-o", str(lock_path), "--channel-alias", alias]) == 0
    parsed = parse_conda_lock_file(lock_path)
    names = {p.name for p in parsed.package}
    assert {"python", "hello-noarch", "chello"} <= names
    assert all(p.url.startswith(alias) for p in parsed.package)
    assert main(["lock", str(env), "-o", str(lock_path), "--channel-alias", alias]) == 0


def test_environment_to_running_image(
    tmp_path: Path,
    test_channel: TestChannel,
    docker_client: object,
    base_image: str,
    image_tag_factory: Callable[[str], str],
) -> None:
    env = write_env(tmp_path, test_channel)
    out = tmp_path / "out"
    alias = test_channel.root.as_uri()
    assert main(["convert", str(env), "-o", str(out), "--installer", "rattler", "--vendor",
                 "--channel-alias", alias]) == 0
    for name in ("conda-lock.yml", "Dockerfile", ".dockerignore", "conda2docker/conda-linux-64.lock"):
        assert (out / name).is_file(), name
    assert any((out / "vendor" / "channel").rglob("chello-*.conda"))

    tag = image_tag_factory("skeleton")
    assert main(["build", str(out), "--tag", tag, "--network", "none", "--quiet"]) == 0
    assert (out / "build.log").read_text().count("Step ") >= 5

    code, output = run_in_image(docker_client, tag, ["hello-noarch"])  # type: ignore[arg-type]
    assert code == 0, output
    assert "hello from chello 0.1.0" in output
    code, output = run_in_image(docker_client, tag, ["id", "-u"])  # type: ignore[arg-type]
    assert output.strip() == "10001"
    code, output = run_in_image(  # type: ignore[arg-type]
        docker_client, tag, ["python", "-c", "import os, sys; print(sys.prefix, os.environ['GREETING'])"]
    )
    assert code == 0, output
    assert output.strip() == '/opt/env from $(the) "env"'

    # Unchanged inputs: converting again rewrites nothing; a hand edit is never clobbered.
    assert main(["convert", str(env), "-o", str(out), "--installer", "rattler", "--vendor",
                 "--channel-alias", alias, "--check"]) == 0
    dockerfile = out / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text() + "# my edit\n")
    assert main(["convert", str(env), "-o", str(out), "--installer", "rattler",
                 "--channel-alias", alias]) == 1
    assert dockerfile.read_text().endswith("# my edit\n")
