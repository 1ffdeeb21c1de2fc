"""The runtime user in a custom base image that already has the UID and GID asked for.

ubuntu:24.04 ships the login account ``ubuntu`` (UID and GID 1000), and ``APP_UID=$(id -u)``
is 1000 for most people: the generated Dockerfile adopts that account as ``app`` (renamed,
moved to /home/app, its group renamed with it) instead of failing in ``groupadd``. The stand-in
base is ``debian:bookworm-slim`` with such an account (Docker Hub is unreachable here).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conda2docker.cli import main
from support.channel import TestChannel
from support.engine import run_in_image

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("engine")]

UBUNTU_LIKE = (
    "FROM {base}\n"
    "RUN groupadd --gid 1000 ubuntu && "
    "useradd --uid 1000 --gid 1000 --create-home --shell /bin/bash ubuntu\n"
)


def test_a_base_image_with_uid_and_gid_1000_taken_runs_as_app_with_them(
    tmp_path: Path, test_channel: TestChannel, docker_client: Any, base_image: str,
    image_tag_factory: Callable[[str], str], capsys: pytest.CaptureFixture[str],
) -> None:
    standin = image_tag_factory("ubuntu-like-base")
    docker_client.images.build(fileobj=io.BytesIO(UBUNTU_LIKE.format(base=base_image).encode()),
                               tag=standin, network_mode="none", rm=True)
    code, output = run_in_image(docker_client, standin, ["id", "ubuntu"])
    assert output.strip() == "uid=1000(ubuntu) gid=1000(ubuntu) groups=1000(ubuntu)", output

    env = tmp_path / "environment.yml"
    env.write_text(f"name: taken\nchannels:\n  - {test_channel.name}\ndependencies:\n  - hello-noarch\n")
    out = tmp_path / "out"
    assert main(["convert", str(env), "-o", str(out), "--installer", "rattler", "--vendor",
                 "--channel-alias", test_channel.alias]) == 0

    tag = image_tag_factory("uid-1000-taken")
    base_arg = ["--build-arg", f"RUNTIME_IMAGE={standin}"]
    assert main(["build", str(out), "--tag", tag, "--network", "none", "--quiet", *base_arg,
                 "--build-arg", "APP_UID=1000", "--build-arg", "APP_GID=1000"]) == 0

    probe = ('id; echo "HOME=$HOME"; pwd; touch "$HOME/home-probe" work-probe && echo written; '
             'touch /opt/env/probe 2>/dev/null || echo "prefix read-only"; ls /home; hello-noarch')
    code, output = run_in_image(docker_client, tag, ["sh", "-c", probe])
    assert code == 0, output
    lines = output.strip().splitlines()
    assert lines[:6] == ["uid=1000(app) gid=1000(app) groups=1000(app)", "HOME=/home/app", "/home/app/work",
                         "written", "prefix read-only", "app"], output  # /home/ubuntu moved, not left
    assert "hello from chello" in output

    # 0 (root) is still refused, in the build, with the reason in the log.
    capsys.readouterr()
    assert main(["build", str(out), "--tag", image_tag_factory("uid-0"), "--network", "none", "--quiet",
                 *base_arg, "--build-arg", "APP_UID=0", "--build-arg", "APP_GID=1000"]) == 4
    assert "stage 'runtime'" in capsys.readouterr().err
    assert "APP_UID and APP_GID must be numbers above 0 (0 is root)" in (out / "build.log").read_text()
