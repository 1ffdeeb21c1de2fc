"""``conda2docker audit``: what the conda channels cannot provide for the image, and fixes."""

from pathlib import Path
from typing import Annotated, Optional

import typer

from conda2docker.choices import (
    DEFAULT_PRIORITY,
    DEFAULT_SOLVER,
    FailOn,
    ReportFormat,
)
from conda2docker.commands._options import (
    ChannelAliasOpt,
    ChannelOpt,
    CudaOpt,
    DefaultChannelsOpt,
    EnvArg,
    MirrorOpt,
    OfflineOpt,
    PlatformOpt,
    PriorityOpt,
    SolverOpt,
)
from conda2docker.image import LOCK_NAMES, RUNTIME_GLIBC

SelectOpt = Annotated[
    Optional[list[str]],  # noqa: UP045 - typer needs Optional here
    typer.Option("--select", help="Only these rules: codes or prefixes, comma-separated or "
                 "repeated (C101, P2, G)."),
]
IgnoreOpt = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option("--ignore", help="Skip these rules: codes or prefixes (the more specific of "
                 "--select/--ignore wins)."),
]


def register(app: typer.Typer) -> None:
    app.command("audit")(audit_command)


def audit_command(
    env_file: EnvArg,
    fmt: Annotated[ReportFormat, typer.Option("--format", "-f", help="table, json, markdown or sarif.")] = "table",
    select: SelectOpt = None,
    ignore: IgnoreOpt = None,
    fail_on: Annotated[FailOn, typer.Option("--fail-on", help="Exit 1 when a finding at or above "
                                            "this severity remains: error, warning, info or never.")] = "error",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write the report here "  # noqa: UP045
                                                   "instead of stdout.")] = None,
    no_lock: Annotated[bool, typer.Option("--no-lock", help="Audit the file as written, without "
                                          "solving (only the findings the file alone shows; a "
                                          "solve adds to them, and a failed solve is a finding)."
                                          )] = False,
    gpu: Annotated[bool, typer.Option("--gpu", help="A GPU image is meant (G404 checks CPU builds).")] = False,
    glibc: Annotated[Optional[str], typer.Option("--glibc", help="glibc of the runtime base image "  # noqa: UP045
                                                 f"(default: Debian bookworm's {RUNTIME_GLIBC}).")] = None,
    platform: PlatformOpt = None,
    channel: ChannelOpt = None,
    channel_alias: ChannelAliasOpt = None,
    default_channels: DefaultChannelsOpt = "conda-forge",
    mirror: MirrorOpt = None,
    offline: OfflineOpt = False,
    channel_priority: PriorityOpt = DEFAULT_PRIORITY,
    solver: SolverOpt = DEFAULT_SOLVER,
    cuda: CudaOpt = None,
    service: Annotated[Optional[list[str]], typer.Option(  # noqa: UP045
        "--service", help="A database run beside the environment (mongodb, postgres or redis, "
        "repeatable, as init --service): S307 names a missing client library.")] = None,
) -> None:
    """Audit ENV_FILE: what conda cannot provide for a Linux container, why, and the fix."""
    from conda2docker.audit.run import AuditFailed, AuditRequest, run_audit
    from conda2docker.pipeline import resolve_options

    request = AuditRequest(
        env_file=env_file, fmt=fmt, select=tuple(select or ()), ignore=tuple(ignore or ()),
        fail_on=fail_on, solve=not no_lock, gpu=gpu, glibc=glibc, services=tuple(service or ()),
        resolve=resolve_options(
            platforms=platform or (), channels=channel or (), channel_alias=channel_alias,
            default_channels=default_channels, mirrors=mirror or (), offline=offline,
            priority=channel_priority, solver=solver,
            cuda=cuda, lock_path=env_file.parent / LOCK_NAMES["cpu"],
        ),
    )
    result = run_audit(request)
    if output is None:
        typer.echo(result.report, nl=False)
    else:
        from conda2docker.outputs import write_output_file

        write_output_file(output, result.report.encode())
    if result.failed:
        raise AuditFailed(result.findings, fail_on)
