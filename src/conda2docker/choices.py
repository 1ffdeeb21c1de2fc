"""The choices a user makes on the command line, as types: one home for each set of values.

The CLI declares its options with these types (typer validates them and lists them in
``--help``); the jobs and steps take the same types, so a value is checked once, at the door.
A leaf module: it imports nothing of conda2docker.
"""

from __future__ import annotations

from enum import Enum
from typing import Literal

Installer = Literal["micromamba", "rattler"]
"""What installs the lock in the ``env`` stage."""
GpuMode = Literal["auto", "yes", "no"]
ChannelPriority = Literal["strict", "flexible", "disabled"]
Solver = Literal["auto", "rattler", "conda-lock"]
ReportFormat = Literal["table", "json", "markdown", "sarif"]
FailOn = Literal["error", "warning", "info", "never"]
GraphFormat = Literal["dot", "json", "graphml", "svg"]
Bootstrap = Literal["docker", "docker-daemon"]
"""Where Apptainer takes the built image from: a registry, or the local engine."""
VerifyFormat = Literal["table", "json"]
Engine = Literal["docker", "podman"]
"""Which engine ``build`` and ``verify`` talk to: dockerd, or Podman's Docker-compatible API."""
ActivationMode = Literal["auto", "packages", "table"]
"""Where the runtime's activation variables come from: measured from the packages' scripts
(``packages``; ``auto`` when it can), or conda2docker's table."""
CacheMode = Literal["none", "local", "registry"]
"""The BuildKit cache a bake target names: none, a directory under the output, or the
registry beside the images (``convert --cache``)."""


DEFAULT_INSTALLER: Installer = "micromamba"
DEFAULT_GPU_MODE: GpuMode = "auto"
DEFAULT_PRIORITY: ChannelPriority = "strict"
DEFAULT_SOLVER: Solver = "auto"
DEFAULT_CACHE: CacheMode = "none"


class OutputFormat(str, Enum):
    """What ``convert --format`` writes (repeatable, so an Enum: typer lists only classes)."""

    docker = "docker"
    apptainer = "apptainer"
