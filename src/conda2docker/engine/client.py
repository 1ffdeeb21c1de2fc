"""Connecting to the engine, with an actionable error when it is not there.

Two engines speak the Docker Engine API that the docker SDK uses: dockerd and Podman's
``podman system service``. Which one answers is chosen, in order, by
:func:`engine_at` (``--engine podman``: Podman's socket, found by :func:`podman_address`),
``DOCKER_HOST``, and the local Docker socket.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from conda2docker.choices import Engine
from conda2docker.errors import EngineError

DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"
START_HINT = (
    "start the engine (e.g. `sudo systemctl start docker`, or `dockerd &`), "
    "or point DOCKER_HOST at a running one"
)
ROOTFUL_PODMAN_SOCKET = "/run/podman/podman.sock"
PODMAN_START = (
    "start Podman's API service: `podman system service --time=0 unix://{socket} &` "
    "(or `systemctl {user}start podman.socket`), then run again; or point DOCKER_HOST "
    "(or CONTAINER_HOST) at a running one"
)

_chosen: str | None = None
"""The engine address chosen for this command (:func:`engine_at`), else None."""


def _is_socket(path: str) -> bool:
    try:
        return stat.S_ISSOCK(os.stat(path).st_mode)
    except OSError:
        return False


def podman_sockets() -> list[str]:
    """Where Podman's API socket is looked for, in order: ``$CONTAINER_HOST`` (Podman's own
    variable for a remote or non-default service, when it is a ``unix://`` address), the
    rootless socket under ``$XDG_RUNTIME_DIR`` (or ``/run/user/<uid>``), the rootful one."""
    found: list[str] = []
    container_host = os.environ.get("CONTAINER_HOST", "")
    if container_host.startswith("unix://"):
        found.append(container_host.removeprefix("unix://"))
    if os.getuid() != 0:
        runtime = os.environ.get("XDG_RUNTIME_DIR") or f"/run/user/{os.getuid()}"
        found.append(f"{runtime}/podman/podman.sock")
    found.append(ROOTFUL_PODMAN_SOCKET)
    return list(dict.fromkeys(found))


def podman_address() -> str:
    """``unix://…`` of the first Podman API socket that exists, or an :class:`EngineError`
    saying where it looked and exactly how to start the service."""
    candidates = podman_sockets()
    for path in candidates:
        if _is_socket(path):
            return f"unix://{path}"
    rootless = os.getuid() != 0
    socket = candidates[-2] if rootless and len(candidates) > 1 else ROOTFUL_PODMAN_SOCKET
    fix = PODMAN_START.format(socket=socket, user="--user " if rootless else "")
    if shutil.which("podman") is None:
        fix = "install Podman (e.g. `apt-get install podman`), then " + fix
    raise EngineError(f"no Podman API socket at {', '.join(candidates)}", fix=fix)


def address_for(engine: Engine | None) -> str | None:
    """The address ``--engine`` selects: Podman's socket for ``podman``; None (the SDK's own
    choice: ``DOCKER_HOST``, else the local socket) for ``docker`` or no choice."""
    return podman_address() if engine == "podman" else None


@contextmanager
def engine_at(address: str | None) -> Iterator[None]:
    """Within the block, :func:`connect` talks to ``address`` (None: ``DOCKER_HOST`` or the
    local socket). The command layer wraps its job in this for ``--engine``."""
    global _chosen
    before, _chosen = _chosen, address
    try:
        yield
    finally:
        _chosen = before


def current_address() -> str:
    """Where :func:`connect` will look."""
    return _chosen or os.environ.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST


def connect() -> Any:
    """A docker SDK client for the chosen engine (see the module's docstring)."""
    import docker
    from docker.errors import DockerException

    where = current_address()
    try:
        if _chosen is not None:
            client = docker.DockerClient(base_url=_chosen, timeout=600)
        else:
            client = docker.from_env(timeout=600)
        client.ping()
    except DockerException as exc:
        if _chosen is not None and _chosen.endswith("podman.sock"):
            raise EngineError(f"no Podman engine answers at {where}", fix=PODMAN_START.format(
                socket=where.removeprefix("unix://"), user="")) from exc
        raise EngineError(f"no Docker engine answers at {where}", fix=START_HINT) from exc
    return client


def is_podman(client: Any) -> bool:
    """True when the engine behind ``client`` is Podman (its version names a Podman component)."""
    try:
        components = client.version().get("Components") or []
    except Exception:  # an engine that does not answer version: not known to be Podman
        return False
    return any("podman" in str(c.get("Name", "")).lower() for c in components)


def socket_path(address: str) -> Path | None:
    """The file of a ``unix://`` address, else None."""
    return Path(address.removeprefix("unix://")) if address.startswith("unix://") else None
