"""Connecting to the Docker Engine, with an actionable error when it is not there."""

from __future__ import annotations

import os
from typing import Any

from conda2docker.errors import EngineError

START_HINT = (
    "start the engine (e.g. `sudo systemctl start docker`, or `dockerd &`), "
    "or point DOCKER_HOST at a running one"
)


def connect() -> Any:
    """A docker SDK client for the engine at DOCKER_HOST (default: the local socket)."""
    import docker
    from docker.errors import DockerException

    where = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    try:
        client = docker.from_env(timeout=600)
        client.ping()
    except DockerException as exc:
        raise EngineError(f"no Docker engine answers at {where}", fix=START_HINT) from exc
    return client
