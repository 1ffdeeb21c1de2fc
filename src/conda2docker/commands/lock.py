"""``conda2docker lock``: environment file → conda-lock.yml."""

from pathlib import Path
from typing import Annotated, Optional

import typer

from conda2docker.choices import (
    DEFAULT_PRIORITY,
    DEFAULT_SOLVER,
)
from conda2docker.commands._options import (
    ChannelAliasOpt,
    ChannelOpt,
    CudaOpt,
    DefaultChannelsOpt,
    EnvArg,
    ForceOpt,
    MirrorOpt,
    OfflineOpt,
    PlatformOpt,
    PriorityOpt,
    SolverOpt,
)
from conda2docker.image import LOCK_NAMES


def register(app: typer.Typer) -> None:
    app.command("lock")(lock_command)


def lock_command(
    env_file: EnvArg,
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the lock.")] = Path(
        LOCK_NAMES["cpu"]
    ),
    platform: PlatformOpt = None,
    channel: ChannelOpt = None,
    channel_alias: ChannelAliasOpt = None,
    default_channels: DefaultChannelsOpt = "conda-forge",
    mirror: MirrorOpt = None,
    offline: OfflineOpt = False,
    channel_priority: PriorityOpt = DEFAULT_PRIORITY,
    solver: SolverOpt = DEFAULT_SOLVER,
    cuda: CudaOpt = None,
    update: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option("--update", help="Re-solve only this package (repeatable); keep the rest."),
    ] = None,
    force: ForceOpt = False,
) -> None:
    """Resolve ENV_FILE into a conda-lock.yml with the embedded solver (or conda-lock)."""
    from conda2docker.credentials import redact
    from conda2docker.pipeline import lock_environment, resolve_options

    options = resolve_options(
        platforms=platform or (), channels=channel or (), channel_alias=channel_alias,
        default_channels=default_channels, mirrors=mirror or (), offline=offline,
        priority=channel_priority, solver=solver, cuda=cuda,
        update=update or (),
    )
    resolution = lock_environment(env_file, output, options, force=force)
    lock = resolution.lock
    for change in (*resolution.spec.changes, *resolution.changes):
        typer.echo(redact(f"note: {change.subject}: {change.reason}"), err=True)
    if resolution.reused:
        typer.echo(f"{output}: up to date (inputs unchanged)")
        return
    for platform_name in lock.platforms:
        conda = len(lock.conda_packages(platform_name))
        pip = len(lock.pip_packages(platform_name))
        typer.echo(f"{platform_name}: {conda} conda + {pip} pip packages")
    typer.echo(f"wrote {output}")
