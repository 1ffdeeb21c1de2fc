"""The multi-platform Dockerfile built with the local engine (one amd64 dockerd 20.10, legacy
builder, no emulation): the amd64 image installs the linux-64 lock (the package ``c2d-arch`` is
data naming its platform); the legacy builder's documented fallback ``--build-arg
TARGETARCH=arm64`` picks the linux-aarch64 lock from the same Dockerfile and context, which the
env stage refuses to install on an amd64 machine, with the fix.

Stand-ins (tests/support/multiarch.py): a channel with ``c2d-arch`` for both platforms, and a
``micromamba`` image whose installer is conda2docker's own py-rattler one (Docker Hub, which
has ``mambaorg/micromamba``, is unreachable here). A whole arm64 image needs buildx or
emulation, neither available: BuildKit's own ``TARGETARCH`` is checked on the generated lines
that pick the lock (the second test).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conda2docker.cli import main
from support.bake import parse_bake, parse_every_bake_file
from support.channel import TestChannel
from support.engine import run_in_image
from support.multiarch import ARCH_FILE, arch_channel, micromamba_standin


@pytest.fixture(autouse=True)
def _every_bake_file_written_parses(tmp_path: Path) -> Iterator[None]:
    """Every bake file a test here writes is read back by python-hcl2 against bake's attributes."""
    yield
    parse_every_bake_file(tmp_path)


def test_one_dockerfile_builds_amd64_and_selects_the_arm64_lock_by_build_arg(
        tmp_path: Path, test_channel: TestChannel, docker_client: Any, base_image: str,
        image_tag_factory: Callable[[str], str], capsys: pytest.CaptureFixture[str]) -> None:
    standin = micromamba_standin(docker_client, test_channel, tmp_path, image_tag_factory("micromamba-standin"))
    channel = arch_channel(tmp_path / "channels")
    env = tmp_path / "environment.yml"
    env.write_text(f"name: arch\nchannels: [{channel.name}]\ndependencies: [c2d-arch]\n")
    out = tmp_path / "out"
    assert main(["convert", str(env), "-o", str(out), "--channel-alias", channel.alias,
                 "--default-channels", "none", "--activation", "table", "--micromamba-image", standin,
                 "--platform", "linux-64", "--platform", "linux-aarch64"]) == 0
    arm_lock = (out / "conda2docker" / "conda-arm64.lock").read_text()
    assert "# platform: linux-aarch64" in arm_lock
    assert "/linux-aarch64/c2d-arch-1.0-h0_0.conda#" in arm_lock
    assert (out / "vendor" / "channel" / "linux-aarch64" / "c2d-arch-1.0-h0_0.conda").is_file()
    target = parse_bake((out / "docker-bake.hcl").read_text())["target"]["arch-cpu"]
    assert target["platforms"] == ["linux/amd64", "linux/arm64"]

    amd64 = image_tag_factory("multiarch-amd64")
    assert main(["build", str(out), "--tag", amd64, "--network", "none", "--quiet"]) == 0
    code, output = run_in_image(docker_client, amd64, ["cat", f"/opt/env/{ARCH_FILE}"])
    assert (code, output.strip()) == (0, "linux-64")
    inspected = docker_client.images.get(amd64).attrs
    assert inspected["Architecture"] == "amd64"

    # the legacy builder's fallback picks the arm64 lock, which the env stage then refuses to
    # install on this amd64 machine (instead of installing another architecture's files)
    arm64_lock = image_tag_factory("multiarch-arm64-lock")
    capsys.readouterr()
    assert main(["build", str(out), "--tag", arm64_lock, "--network", "none", "--quiet",
                 "--build-arg", "TARGETARCH=arm64"]) == 4
    err = capsys.readouterr().err
    assert "/tmp/c2d/conda.lock is not for this machine (linux-64): give the legacy builder " \
           "--build-arg TARGETARCH=<its architecture>" in err, err


def buildkit_pick(context: Path, picking: list[str], platform: str, dest: Path) -> None:
    """Build ``FROM scratch`` + the generated lines ``picking`` in ``context`` with the engine's
    BuildKit for ``platform``, exported to ``dest`` (no base image, no emulation needed).
    Debian's docker 20.10 client drives BuildKit without buildx."""
    import os
    import shutil
    import subprocess

    client = shutil.which("docker", path="/usr/bin")
    if client is None:
        pytest.skip("needs Debian's docker client (/usr/bin/docker) to drive BuildKit without buildx")
    (context / "Dockerfile.pick").write_text("\n".join(["FROM scratch", *picking]) + "\n")
    (context / ".dockerignore").unlink(missing_ok=True)  # the probe's Dockerfile must reach the builder
    done = subprocess.run(
        [client, "build", "-f", "Dockerfile.pick", "--platform", platform, "--network", "none",
         "--output", f"type=local,dest={dest}", "."],
        cwd=context, env={"DOCKER_BUILDKIT": "1", "PATH": "/usr/bin:/bin",
                          **{k: v for k, v in os.environ.items() if k == "DOCKER_HOST"}},
        capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]


def test_buildkit_picks_the_lock_of_each_target_platform(
        tmp_path: Path, test_channel: TestChannel, docker_client: Any) -> None:
    """The generated lines that pick the lock, run by the engine's BuildKit for linux/amd64 and
    linux/arm64."""
    channel = arch_channel(tmp_path / "channels")
    env = tmp_path / "environment.yml"
    env.write_text(f"name: arch\nchannels: [{channel.name}]\ndependencies: [c2d-arch]\n")
    out = tmp_path / "out"
    assert main(["convert", str(env), "-o", str(out), "--channel-alias", channel.alias,
                 "--default-channels", "none", "--activation", "table",
                 "--platform", "linux-64", "--platform", "linux-aarch64"]) == 0
    lines = (out / "Dockerfile").read_text().splitlines()
    start = lines.index("ARG TARGETARCH")
    picking = lines[start:start + 2]
    assert picking[1] == "COPY conda2docker/conda-${TARGETARCH:-amd64}.lock /tmp/c2d/conda.lock"
    for platform, expected in (("linux/amd64", "linux-64"), ("linux/arm64", "linux-aarch64")):
        dest = tmp_path / platform.replace("/", "-")
        buildkit_pick(out, picking, platform, dest)
        assert f"# platform: {expected}" in (dest / "tmp" / "c2d" / "conda.lock").read_text()


def test_buildkit_picks_the_wheels_of_each_target_platform(tmp_path: Path, docker_client: Any) -> None:
    """The pip stage's lines that pick the requirement file of the architecture (wheels that
    differ per platform), run by BuildKit for both platforms."""
    from conda2docker.outputs import write_files
    from conda2docker.plan import PlanOptions, make_plan
    from conda2docker.render.dockerfile import render_dockerfile
    from support.locks import BOTH, two_platform_lock

    plan = make_plan(None, two_platform_lock(pip_differs=True), PlanOptions(platform="linux-64", platforms=BOTH))
    out = tmp_path / "out"
    out.mkdir()
    write_files({out / f.path: f.content for f in plan.context_files}, root=out)
    lines = render_dockerfile(plan).splitlines()
    start = lines.index("FROM env AS pip") + 1
    picking = lines[start:start + 2]
    assert picking == ["ARG TARGETARCH",
                       "COPY conda2docker/requirements.pip-${TARGETARCH:-amd64}.txt /tmp/c2d/requirements.pip.txt"]
    for platform, arch in (("linux/amd64", "x86_64"), ("linux/arm64", "aarch64")):
        dest = tmp_path / platform.replace("/", "-")
        buildkit_pick(out, picking, platform, dest)
        assert f"manylinux_2_17_{arch}.whl" in (dest / "tmp" / "c2d" / "requirements.pip.txt").read_text()

