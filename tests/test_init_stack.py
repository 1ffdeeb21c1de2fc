"""A database beside the notebooks, brought up for real: ``init --service redis`` on a repository
of the local test channel → image built with no network → ``docker-compose`` (Debian's 1.29)
starts Redis from a local stand-in image (Debian's ``redis-server`` on the local base image,
tagged as the image the compose file names, built once and cached by the engine) → the
repository's service, started only once Redis is healthy, reaches it at ``$REDIS_URL``.

The stack runs as a host user that is not the image's default (``APP_UID``/``APP_GID`` = 4321,
as the README's command passes ``$(id -u)``/``$(id -g)``): a file saved into the mounted
repository belongs to that user on the host, and ``$HOME`` is writable.

Skips, with the reason, without an engine or without docker-compose.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from conda2docker.cli import main
from conda2docker.init.services import SERVICES
from support.channel import TestChannel

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("engine")]

STANDIN_LABEL = "io.conda2docker.test-standin"
REDIS_STANDIN = """\
FROM debian:bookworm-slim
RUN apt-get update && apt-get install --yes --no-install-recommends redis-server \\
    && rm -rf /var/lib/apt/lists/* && install -d -o redis -g redis /data
LABEL io.conda2docker.test-standin="redis-server from Debian bookworm"
USER redis
WORKDIR /data
EXPOSE 6379
CMD ["redis-server", "--bind", "0.0.0.0", "--protected-mode", "no", "--dir", "/data"]
"""
HOST_ID = 4321
PING = (
    "import os, socket, urllib.parse; url = urllib.parse.urlsplit(os.environ['REDIS_URL']); "
    "s = socket.create_connection((url.hostname, url.port), timeout=10); "
    "s.sendall(b'PING\\r\\n'); print(s.recv(64).decode().strip()); "
    "open('saved-by-notebook.txt', 'w').write('kept'); "
    "open(os.path.expanduser('~/home-writable'), 'w').write('ok'); print(os.getuid(), os.getgid())"
)


@pytest.fixture(scope="session")
def redis_standin(docker_client: object, base_image: str) -> str:
    """``redis:7.2-bookworm`` in the engine: the stand-in, built once (a real one is reused)."""
    import docker

    client: docker.DockerClient = docker_client  # type: ignore[assignment]
    tag = SERVICES["redis"].image
    try:
        client.images.get(tag)
        return tag
    except docker.errors.ImageNotFound:
        pass
    try:
        client.images.build(fileobj=io.BytesIO(REDIS_STANDIN.encode()), tag=tag, rm=True,
                            labels={STANDIN_LABEL: "redis"})
    except docker.errors.BuildError as exc:
        pytest.skip(f"cannot build the redis stand-in (Debian mirror unreachable?): {exc}")
    return tag


@pytest.fixture()
def compose_tool() -> str:
    tool = shutil.which("docker-compose")
    if tool is None:
        pytest.skip("docker-compose (Debian's 1.29 package) is not installed; .ci/run installs it")
    return tool


@pytest.fixture()
def stack_repo(tmp_path: Path, test_channel: TestChannel) -> Iterator[Path]:
    repo = tmp_path / f"stack-{uuid.uuid4().hex[:8]}"
    repo.mkdir(mode=0o755)
    repo.chmod(0o755)  # the container's user reads the bind mount
    (repo / "environment.yml").write_text(
        f"name: stack\nchannels:\n  - {test_channel.name}\ndependencies:\n  - python=3.11\n")
    (repo / "analysis.py").write_text("print('analysis')\n")
    yield repo


def test_notebook_service_reaches_its_database(
    stack_repo: Path, test_channel: TestChannel, docker_client: object, redis_standin: str,
    compose_tool: str,
) -> None:
    import docker

    client: docker.DockerClient = docker_client  # type: ignore[assignment]
    argv = ["init", str(stack_repo), "--installer", "rattler", "--vendor",
            "--channel-alias", test_channel.alias, "--service", "redis"]
    assert main(argv) == 0
    service = stack_repo.name
    image = f"{service}:latest"  # the compose file's image: built here, removed at the end
    project = f"c2dtest{uuid.uuid4().hex[:8]}"
    os.chown(stack_repo, HOST_ID, HOST_ID)  # the checkout belongs to the (unprivileged) host user
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
           "DOCKER_HOST": os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock"),
           "APP_UID": str(HOST_ID), "APP_GID": str(HOST_ID)}
    compose = [compose_tool, "--project-name", project, "--file", str(stack_repo / "compose.yaml")]
    try:
        assert main(["build", str(stack_repo), "--tag", image, "--network", "none", "--quiet",
                     "--build-arg", f"APP_UID={HOST_ID}", "--build-arg", f"APP_GID={HOST_ID}"]) == 0
        done = subprocess.run([*compose, "config", "-q"], capture_output=True, text=True, env=env,
                              cwd=stack_repo, check=False, timeout=120)
        assert done.returncode == 0, done.stderr
        done = subprocess.run(
            [*compose, "run", "--rm", "-T", service, "python", "-c", PING],
            capture_output=True, text=True, env=env, cwd=stack_repo, check=False, timeout=300)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip().splitlines()[-2:] == ["+PONG", f"{HOST_ID} {HOST_ID}"], \
            done.stdout + done.stderr
        saved = stack_repo / "saved-by-notebook.txt"
        assert saved.read_text() == "kept"
        assert (saved.stat().st_uid, saved.stat().st_gid) == (HOST_ID, HOST_ID)
        inspect = subprocess.run(
            ["docker", "inspect", "--format", "{{.State.Health.Status}}", f"{project}_redis_1"],
            capture_output=True, text=True, env=env, check=False, timeout=60)
        assert inspect.stdout.strip() == "healthy", inspect.stdout + inspect.stderr
        volumes = {v.name for v in client.volumes.list(filters={"name": project})}
        assert f"{project}_redis-data" in volumes
    finally:
        subprocess.run([*compose, "down", "--volumes", "--remove-orphans"], capture_output=True,
                       env=env, cwd=stack_repo, check=False, timeout=300)
        with contextlib.suppress(docker.errors.ImageNotFound):
            client.images.remove(image, noprune=False)
