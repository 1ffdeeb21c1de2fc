"""``conda2docker init``: a starting Dockerfile, compose.yaml and .dockerignore for a repository."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from conda2docker import image
from conda2docker.choices import DEFAULT_INSTALLER, Installer
from conda2docker.commands._options import (
    ChannelAliasOpt,
    ChannelOpt,
    CudaOpt,
    DefaultChannelsOpt,
    MirrorOpt,
    OfflineOpt,
)
from conda2docker.platforms import DEFAULT_PLATFORM

InitForceOpt = Annotated[bool, typer.Option(
    "--force", help="Overwrite files that differ; take the standard names from your own "
    "Dockerfile, compose.yaml and .dockerignore after keeping each as <name>.orig.")]


def register(app: typer.Typer) -> None:
    app.command("init")(init_command)


def init_command(
    repo: Annotated[Path, typer.Argument(help="The repository (default: the current directory).")] = Path("."),
    env: Annotated[
        Optional[Path],  # noqa: UP045 - typer needs Optional here
        typer.Option("--env", help="The environment file to use, when the repository has several."),
    ] = None,
    output: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--output", "-o", help="Directory inside the repository for the lock and the "
                     "support files (default: the root). Dockerfile, compose.yaml and .dockerignore "
                     "always go to the root: the repository is the build context."),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print what was found and the plan; "
                                          "solve and write nothing.")] = False,
    readme: Annotated[bool, typer.Option("--readme", help="Add the 'Run with Docker' section to "
                                         "README.md (between marker comments; idempotent).")] = False,
    installer: Annotated[Installer, typer.Option("--installer", help="micromamba (default) or rattler.")] = DEFAULT_INSTALLER,
    vendor: Annotated[bool, typer.Option("--vendor", help="Copy every package file into the "
                                         "context (hash-checked): builds offline.")] = False,
    platform: Annotated[str, typer.Option("--platform", "-p", help="Target platform.")] = DEFAULT_PLATFORM,
    channel: ChannelOpt = None,
    channel_alias: ChannelAliasOpt = None,
    default_channels: DefaultChannelsOpt = "conda-forge",
    mirror: MirrorOpt = None,
    offline: OfflineOpt = False,
    cuda: CudaOpt = None,
    runtime_image: Annotated[str, typer.Option("--runtime-image", help="Base of the runtime stage.")] = image.RUNTIME_IMAGE,
    build_image: Annotated[str, typer.Option("--build-image", help="Base of the compile stages.")] = image.BUILD_IMAGE,
    uid: Annotated[int, typer.Option("--uid", help="UID of the runtime user.")] = image.UID,
    gid: Annotated[int, typer.Option("--gid", help="GID of the runtime user.")] = image.GID,
    large_file_mb: Annotated[int, typer.Option("--large-file-mb", help="Files larger than this "
                                               "are left out of the build context.")] = 50,
    service: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option("--service", help="A database beside Jupyter in compose.yaml: mongodb, "
                     "postgres or redis (repeatable)."),
    ] = None,
    jupyter: Annotated[bool, typer.Option("--jupyter/--no-jupyter", help="Add JupyterLab to an "
                                          "inferred environment, as repo2docker does.")] = True,
    default_python: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--default-python", help="Python X.Y for a repository that names none "
                     "(no environment file, runtime.txt or requires-python); default 3.10, "
                     "repo2docker's."),
    ] = None,
    force: InitForceOpt = False,
) -> None:
    """Turn a paper's repository into an image a reader runs with one command."""
    from conda2docker.errors import InputError
    from conda2docker.init import InitRequest, init_repository

    if large_file_mb < 1:
        raise InputError("--large-file-mb must be at least 1", fix="pass a size in MB, e.g. 50")
    request = InitRequest(
        repo=repo, env_file=env, output=output, dry_run=dry_run, force=force, readme=readme,
        installer=installer, vendor=vendor, platform=platform, channels=tuple(channel or ()),
        channel_alias=channel_alias, default_channels=default_channels,
        mirrors=tuple(mirror or ()), offline=offline, cuda=cuda,
        runtime_image=runtime_image, build_image=build_image, uid=uid, gid=gid,
        large_file_bytes=large_file_mb * 1024 * 1024, services=tuple(service or ()),
        jupyter=jupyter, default_python=default_python,
    )
    from conda2docker.credentials import redact

    result = init_repository(request, echo=lambda line: typer.echo(redact(line), err=True))
    if dry_run:
        return
    for path in result.written:
        typer.echo(f"wrote {path}")
    if result.unchanged:
        typer.echo(f"{len(result.unchanged)} file(s) already up to date")
    if not readme:
        typer.echo("")
        typer.echo(result.section, nl=False)
