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
              lock_platforms: Literal["all", "target", "targets"] = "all") -> EnvSpec:
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
    """Read the input; lock it unless ``solve`` is off (a lock input needs no solving).
    A lock input is read for the target platforms only (its other entries are never used)."""
    spec = read_spec(path, first_target(options.platforms), lock_platforms="targets")
    if spec.lock is None and not solve:
        return spec, None
    return spec, resolve_gpu_aware(spec, options)


def resolve_options(
    *,
    platforms: Sequence[str] = (),
    channels: Sequence[str] = (),
    channel_alias: str | None = None,
    default_channels: str = "conda-forge",
    mirrors: Sequence[str] = (),
    offline: bool = False,
    priority: ChannelPriority = DEFAULT_PRIORITY,
    solver: Solver = DEFAULT_SOLVER,
    cuda: str | None = None,
    update: Sequence[str] = (),
    lock_path: Path | None = None,
) -> ResolveOptions:
    """:class:`ResolveOptions` from what a user typed (``--mirror NAME=URL`` parsed here;
    ``-c`` channels validated exactly as ``channels:`` entries are)."""
    from conda2docker.resolve.channels import parse_default_channels, parse_mirror
    from conda2docker.validate import check_channel_name

    for name in channels:
        check_channel_name(name)
    if channel_alias is not None and "://" not in check_channel_name(channel_alias):
        raise InputError(f"--channel-alias {channel_alias!r} is not a URL",
                         fix="write a URL such as file:///srv/channels or https://host/conda")

    return ResolveOptions(
        platforms=tuple(platforms),
        channel_alias=channel_alias,
        mirrors=tuple(parse_mirror(m) for m in mirrors),
        extra_channels=tuple(channels),
        default_channels=parse_default_channels(default_channels),
        offline=offline,
        priority=priority,
        solver=solver,
        cuda=cuda,
        update=tuple(update),
        existing_path=lock_path,
    )


def resolve_as_convert(path: Path, options: ResolveOptions) -> Resolution:
    """Read ``path`` and resolve it as ``convert`` solves (:func:`resolve_gpu_aware`); with
    several platforms whose selectors give other requests, each from its own reading."""
    import dataclasses

    spec = read_spec(path, first_target(options.platforms))
    others = platform_specs(path, options.platforms, spec)
    if not others:
        return resolve_gpu_aware(spec, options)
    platforms = tuple(dict.fromkeys(options.platforms))
    parts = [resolve_gpu_aware(others.get(p, spec), dataclasses.replace(options, platforms=(p,)))
             for p in platforms]
    return merge_platforms(parts, platforms)


def platform_specs(path: Path, platforms: Sequence[str], spec: EnvSpec) -> dict[str, EnvSpec]:
    """The environment file read for each platform after the first whose selectors
    (``# [x86_64]``) give other requests than ``spec`` (the first's reading), as conda-lock reads
    a file once per platform; empty when every platform asks the same, or for a lock."""
    chosen = tuple(dict.fromkeys(platforms))
    if spec.lock is not None or len(chosen) < 2:
        return {}
    specs = {}
    for platform in chosen[1:]:
        other = read_spec(path, platform, lock_platforms="target")
        if (other.conda, other.pip) != (spec.conda, spec.pip):
            specs[platform] = other
    return specs


def merge_platforms(parts: Sequence[Resolution], platforms: Sequence[str]) -> Resolution:
    """One resolution of ``platforms`` from one per platform (in that order): the first's spec,
    every platform's packages, hashes, roots, gaps and changes (each once)."""
    import dataclasses

    first = parts[0]
    lock = dataclasses.replace(
        first.lock, platforms=tuple(platforms),
        packages=tuple(pkg for part in parts for pkg in part.lock.packages),
        content_hash={k: v for part in parts for k, v in part.lock.content_hash.items()},
        roots=tuple(dict.fromkeys(r for part in parts for r in part.lock.roots)),
    )
    return dataclasses.replace(first, lock=lock,
                               unavailable=tuple(u for part in parts for u in part.unavailable),
                               changes=tuple(dict.fromkeys(c for part in parts for c in part.changes)),
                               reused=all(part.reused for part in parts))


def resolve_gpu_aware(spec: EnvSpec, options: ResolveOptions) -> Resolution:
    """Resolve as ``convert`` solves its GPU variant: an environment that asks for CUDA (the one
    inference, :func:`conda2docker.cuda.infer.from_spec`) is solved with ``__cuda`` unless
    ``--cuda`` says which (a change records it); a solve that fails on ``__cuda`` names
    ``--cuda`` as the fix. ``lock`` and ``audit`` solve this way."""
    import dataclasses

    from conda2docker.cuda.infer import cuda_solve_fix, from_spec
    from conda2docker.errors import ResolveError
    from conda2docker.model import ReaderChange

    intent = from_spec(spec)
    why = "--cuda"
    change: ReaderChange | None = None
    if options.cuda is None and intent.wants_gpu and spec.lock is None:
        options = dataclasses.replace(options, cuda=intent.solve_version())
        why = "inferred from the environment" if intent.version else "no CUDA version is named"
        change = ReaderChange("added", "__cuda", f"solving with __cuda={options.cuda}, a GPU "
                              f"environment ({'; '.join(intent.reasons[:3])}); pass --cuda to choose")
    try:
        resolution = resolve(spec, options)
    except ResolveError as error:
        if "__cuda" not in error.message:
            raise
        raise ResolveError(error.message, fix=cuda_solve_fix(options.cuda, why),
                           location=error.location) from error
    if change is None:
        return resolution
    return dataclasses.replace(resolution, changes=(change, *resolution.changes))


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
    resolution = require_complete(resolve_as_convert(path, dataclasses.replace(options, existing=previous)))
    if not resolution.reused:
        from conda2docker.outputs import confine

        absolute = output.absolute()
        write_conda_lock(resolution.lock, confine(absolute.parent, absolute))
    return resolution
