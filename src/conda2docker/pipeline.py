"""The pipeline's composition: read → resolve, shared by every command."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from conda2docker.errors import InputError, SourceLocation
from conda2docker.model import EnvSpec, Resolution
from conda2docker.platforms import DEFAULT_PLATFORM, first_target
from conda2docker.resolve import ResolveOptions, resolve


def read_spec(path: Path, platform: str = DEFAULT_PLATFORM, *,
              lock_platforms: Literal["all", "target"] = "all") -> EnvSpec:
    """Read any supported input (environment.yml, conda-lock.yml, explicit lock, requirements).

    ``lock_platforms``: see :func:`conda2docker.read.read_input`.
    """
    if not path.exists():
        raise InputError("no such file", fix="check the path", location=SourceLocation(path))
    if path.is_dir():
        raise InputError(
            "is a directory, not an environment file",
            fix="pass the environment.yml inside it (or use `conda2docker init` for a repository)",
            location=SourceLocation(path),
        )
    from conda2docker.read import read_input

    return read_input(path, platform=platform, lock_platforms=lock_platforms)


def resolve_input(path: Path, options: ResolveOptions) -> Resolution:
    """Read ``path`` and resolve it (reusing an earlier lock when its inputs match)."""
    spec = read_spec(path, first_target(options.platforms))
    return resolve(spec, options)
