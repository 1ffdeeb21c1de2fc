"""``conda2docker lock``: environment file → conda-lock.yml."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

if TYPE_CHECKING:
    from conda2docker.model import Resolution
    from conda2docker.resolve import ResolveOptions

from conda2docker.commands._options import (
    ChannelAliasOpt,
    ChannelOpt,
    CudaOpt,
    EnvArg,
    ForceOpt,
    MirrorOpt,
    OfflineOpt,
    PlatformOpt,
    PriorityOpt,
    SolverOpt,
    resolve_options_from_cli,
)


def register(app: typer.Typer) -> None:
    app.command("lock")(lock_command)


def lock_command(
    env_file: EnvArg,
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the lock.")] = Path(
        "conda-lock.yml"
    ),
    platform: PlatformOpt = None,
    channel: ChannelOpt = None,
    channel_alias: ChannelAliasOpt = None,
    mirror: MirrorOpt = None,
    offline: OfflineOpt = False,
    channel_priority: PriorityOpt = "strict",
    solver: SolverOpt = "auto",
    cuda: CudaOpt = None,
    update: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option("--update", help="Re-solve only this package (repeatable); keep the rest."),
    ] = None,
    force: ForceOpt = False,
) -> None:
    """Resolve ENV_FILE into a conda-lock.yml with the embedded solver (or conda-lock)."""
    from conda2docker.errors import OutputConflict, SourceLocation
    from conda2docker.lockfile import read_reusable_lock, write_conda_lock
    from conda2docker.resolve import require_complete

    previous = read_reusable_lock(output)
    if output.exists() and previous is None and not force:
        raise OutputConflict(
            "exists and is not a conda-lock file; not overwritten",
            fix="pass --force, or choose another --output",
            location=SourceLocation(output),
        )
    options = resolve_options_from_cli(
        platforms=platform, channels=channel, channel_alias=channel_alias, mirrors=mirror,
        offline=offline, priority=channel_priority, solver=solver, cuda=cuda, update=update,
    )
    options = dataclasses.replace(options, existing=previous)
    resolution = require_complete(_resolve_with_cuda(env_file, options))
    lock = resolution.lock
    for change in (*resolution.spec.changes, *resolution.changes):
        typer.echo(f"note: {change.subject}: {change.reason}", err=True)
    if resolution.reused:
        typer.echo(f"{output}: up to date (inputs unchanged)")
        return
    write_conda_lock(lock, output)
    for platform_name in lock.platforms:
        conda = len(lock.conda_packages(platform_name))
        pip = len(lock.pip_packages(platform_name))
        typer.echo(f"{platform_name}: {conda} conda + {pip} pip packages")
    typer.echo(f"wrote {output}")


def _resolve_with_cuda(env_file: Path, options: ResolveOptions) -> Resolution:
    """Resolve as ``convert`` solves: an environment that asks for CUDA (the same inference,
    :func:`conda2docker.cuda.infer.from_spec`) is solved with ``__cuda`` unless ``--cuda``
    says which; a solve that fails for want of ``__cuda`` says to pass ``--cuda``."""
    from conda2docker.cuda.infer import cuda_solve_fix, from_spec
    from conda2docker.errors import ResolveError
    from conda2docker.pipeline import read_spec
    from conda2docker.platforms import first_target
    from conda2docker.resolve import resolve

    spec = read_spec(env_file, first_target(options.platforms))
    intent = from_spec(spec)
    why = "--cuda"
    if options.cuda is None and intent.wants_gpu and spec.lock is None:
        options = dataclasses.replace(options, cuda=intent.solve_version())
        why = "inferred from the environment" if intent.version else "no CUDA version is named"
        typer.echo(f"note: solving with __cuda={options.cuda} (a GPU environment: "
                   f"{'; '.join(intent.reasons[:3])}); pass --cuda to choose", err=True)
    try:
        return resolve(spec, options)
    except ResolveError as error:
        if "__cuda" not in error.message:
            raise
        raise ResolveError(error.message, fix=cuda_solve_fix(options.cuda, why),
                           location=error.location) from error
