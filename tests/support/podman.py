"""Podman's Docker-compatible API for tests: ``podman system service`` on a socket of its own.

Fixture (session-scoped):

``podman_engine``
    A :class:`PodmanService`: Debian's ``podman`` run rootful with its own storage under a
    temporary directory (never the machine's ``/var/lib/containers``), its API on
    ``unix://<tmp>/podman.sock``, started with ``CONTAINERS_CONF`` holding
    ``[containers] default_ulimits = []`` (without it, containers fail here with "error
    setting rlimit type 7: operation not permitted"), and the local stand-in base image
    ``debian:bookworm-slim`` copied in from the Docker engine (``podman pull
    docker-daemon:…``: Docker Hub is unreachable). Stopped by its pid at session end; its
    storage is removed. Skips with the precise reason when podman is missing, when not root,
    or when the service does not answer (``C2D_REQUIRE_ENGINE=1`` makes that a failure).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from support.engine import BASE_IMAGE, _unavailable

CONTAINERS_CONF = "[containers]\ndefault_ulimits = []\n"
START_TIMEOUT = 30.0


@dataclass(frozen=True)
class PodmanService:
    address: str
    """``unix://…/podman.sock``"""
    command: tuple[str, ...]
    """``podman --root … --runroot …``: the CLI on the same storage as the service."""
    env: dict[str, str]
    """The environment the CLI needs (``CONTAINERS_CONF``)."""

    def run(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.command, *args], env=self.env, capture_output=True, text=True,
                              timeout=timeout, check=False)


def _answers(address: str) -> bool:
    import docker

    try:
        client = docker.DockerClient(base_url=address, timeout=5)
    except Exception:
        return False
    try:
        return bool(client.ping())
    except Exception:
        return False
    finally:
        client.close()


def _stop(process: subprocess.Popen[Any]) -> None:
    if process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def podman_engine(docker_client: Any, base_image: str) -> Iterator[PodmanService]:
    podman = shutil.which("podman")
    if podman is None:
        _unavailable("podman is not installed: apt-get install -y podman (.ci/run installs it)")
    if os.getuid() != 0:
        _unavailable(f"the Podman test runs a rootful service with its own storage; uid {os.getuid()} "
                     "would need rootless Podman (subuid/subgid ranges), which is not set up here")
    # podman refuses a --runroot longer than 50 characters (pytest's temporary paths under
    # xdist are longer): a short directory of its own, removed at the end.
    root = Path(tempfile.mkdtemp(prefix="c2d-podman-", dir="/tmp"))
    conf = root / "containers.conf"
    conf.write_text(CONTAINERS_CONF)
    env = {**os.environ, "CONTAINERS_CONF": str(conf)}
    command = (podman, "--root", str(root / "storage"), "--runroot", str(root / "run"))
    address = f"unix://{root / 'podman.sock'}"
    log_path = root / "service.log"
    with log_path.open("w") as log:
        process = subprocess.Popen([*command, "system", "service", "--time=0", address], env=env,
                                   stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    service = PodmanService(address, command, env)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _answers(address):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = " | ".join(log_path.read_text(errors="replace").splitlines()[-5:])
                state = (f"exited with {process.returncode}" if process.poll() is not None
                         else f"did not answer within {START_TIMEOUT:.0f} s")
                _unavailable(f"podman system service (pid {process.pid}) {state}: {tail}")
            time.sleep(0.2)
        pulled = service.run("pull", "-q", f"docker-daemon:{BASE_IMAGE}")
        if pulled.returncode != 0:
            _unavailable(f"podman could not copy {base_image} from the Docker engine: "
                         f"{pulled.stderr.strip()[-300:]}")
        yield service
    finally:
        _stop(process)
        with contextlib.suppress(Exception):  # its own storage only (no `system reset`:
            service.run("rm", "--all", "--force", timeout=120)  # that also resets host-wide config)
            service.run("rmi", "--all", "--force", timeout=120)
        shutil.rmtree(root, ignore_errors=True)
