"""The pipeline's composition: read → resolve, shared by every job (``convert``, ``init``,
``audit``, ``graph``, ``lock``), and the one translation of the resolve options they take."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from conda2docker.choices import DEFAULT_PRIORITY, DEFAULT_SOLVER, ChannelPriority, Solver
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


def load_input(path: Path, options: ResolveOptions, *,
               solve: bool = True) -> tuple[EnvSpec, Resolution | None]:
    """Read the input; lock it unless ``solve`` is off (a lock input needs no solving)."""
    spec = read_spec(path, first_target(options.platforms))
    if spec.lock is None and not solve:
        return spec, None
    return spec, resolve(spec, options)


def resolve_options(
    *,
    platforms: Sequence[str] = (),
    channels: Sequence[str] = (),
    channel_alias: str | None = None,
    mirrors: Sequence[str] = (),
    offline: bool = False,
    priority: ChannelPriority = DEFAULT_PRIORITY,
    solver: Solver = DEFAULT_SOLVER,
    cuda: str | None = None,
    update: Sequence[str] = (),
    lock_path: Path | None = None,
) -> ResolveOptions:
    """:class:`ResolveOptions` from what a user typed (``--mirror NAME=URL`` parsed here)."""
    from conda2docker.resolve.channels import parse_mirror

    return ResolveOptions(
        platforms=tuple(platforms),
        channel_alias=channel_alias,
        mirrors=tuple(parse_mirror(m) for m in mirrors),
        extra_channels=tuple(channels),
        offline=offline,
        priority=priority,
        solver=solver,
        cuda=cuda,
        update=tuple(update),
        existing_path=lock_path,
    )


def lock_environment(path: Path, output: Path, options: ResolveOptions, *,
                     force: bool = False) -> Resolution:
    """The ``lock`` job: resolve ``path`` (reusing ``output`` when its inputs still match) and
    write ``output`` unless it is up to date (``resolution.reused``)."""
    import dataclasses

    from conda2docker.errors import OutputConflict
    from conda2docker.lockfile import read_reusable_lock, write_conda_lock
    from conda2docker.resolve import require_complete

    previous = read_reusable_lock(output)
    if output.exists() and previous is None and not force:
        raise OutputConflict(
            "exists and is not a conda-lock file; not overwritten",
            fix="pass --force, or choose another --output",
            location=SourceLocation(output),
        )
    resolution = require_complete(resolve_input(path, dataclasses.replace(options, existing=previous)))
    if not resolution.reused:
        write_conda_lock(resolution.lock, output)
    return resolution
