"""``conda2docker audit``: what the conda channels cannot provide for the image, and fixes."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from conda2docker.commands._options import (
    ChannelAliasOpt,
    ChannelOpt,
    CudaOpt,
    EnvArg,
    MirrorOpt,
    OfflineOpt,
    PlatformOpt,
    PriorityOpt,
    SolverOpt,
)
from conda2docker.errors import UserError

if TYPE_CHECKING:
    from conda2docker.audit.sdists import SdistScan
    from conda2docker.model import EnvSpec, Finding, Resolution
    from conda2docker.resolve import ResolveOptions

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


class AuditFailed(UserError):
    """Findings at or above ``--fail-on`` remain: exit 1 with a one-line summary on stderr."""

    def __init__(self, findings: Sequence[Finding], fail_on: str) -> None:
        from conda2docker.audit.report import summary
        from conda2docker.model import Severity

        threshold = Severity(fail_on).rank
        worse = sum(1 for f in findings if f.severity.rank >= threshold)
        super().__init__(
            f"audit failed: {worse} finding(s) at or above {fail_on} ({summary(findings)})",
            fix="apply the fixes above, or choose what fails with --ignore/--fail-on",
        )


def register(app: typer.Typer) -> None:
    app.command("audit")(audit_command)


def load(
    env_file: Path, options: ResolveOptions, *, solve: bool = True
) -> tuple[EnvSpec, Resolution | None]:
    """Read the input; lock it unless ``solve`` is off (a lock input needs no solving)."""
    from conda2docker.pipeline import read_spec
    from conda2docker.platforms import first_target
    from conda2docker.resolve import resolve

    spec = read_spec(env_file, first_target(options.platforms))
    if spec.lock is None and not solve:
        return spec, None
    return spec, resolve(spec, options)


def load_for_audit(
    env_file: Path, options: ResolveOptions, *, solve: bool = True
) -> tuple[EnvSpec, Resolution | None, UserError | None]:
    """Read the input, then lock it unless ``solve`` is off (a lock input needs no solving).

    Reading errors raise (bad input); a solve that fails, fully or for one platform or for
    the pip part, does not: the error comes back (or is recorded in the resolution as a
    change) so the audit can report it next to everything else it found.
    """
    from dataclasses import replace

    from conda2docker.pipeline import read_spec
    from conda2docker.resolve import resolve

    platform = options.platforms[0] if options.platforms else "linux-64"
    spec = read_spec(env_file, platform)
    if spec.lock is None and not solve:
        return spec, None, None
    try:
        return spec, resolve(spec, replace(options, keep_going=True)), None
    except UserError as error:
        return spec, None, error


def check_wheels(spec: EnvSpec, resolution: Resolution | None, options: ResolveOptions,
                 platform: str, glibc: str) -> SdistScan:
    """Exact pip pins without a wheel for ``platform`` (through the index, cached on disk)."""
    from conda2docker.audit.sdists import SdistScan, exact_version, scan_sdist_pins, target_python
    from conda2docker.resolve.pypi import IndexClient

    if spec.lock is not None or not any(exact_version(r) for r in spec.pip):
        return SdistScan({})
    solved = resolution.lock.conda_packages(platform) if resolution else ()
    python = next((p.version for p in solved if p.name == "python"), None)
    index = IndexClient(cache_dir=options.cache_dir / "pypi" if options.cache_dir else None,
                        offline=options.offline)
    return scan_sdist_pins(spec, index, platform=platform, glibc=glibc,
                           python=target_python(spec, python))


def solve_failure(error: UserError, platform: str) -> Finding:
    """A solve that failed as a whole (no channel readable, invalid request): rule C108."""
    from conda2docker.audit.registry import get_rule

    return get_rule("C108").finding(
        "the environment", location=error.location, platform=platform, reason=error.message,
        detail=error.fix or "fix the cause above",
    )


def target_platforms(requested: list[str] | None, spec: EnvSpec,
                     resolution: Resolution | None) -> tuple[str, ...]:
    """``--platform`` values, else the lock's target platforms, else linux-64."""
    from conda2docker.platforms import lock_targets

    lock = resolution.lock if resolution else spec.lock
    return lock_targets(requested or (), lock.platforms if lock else ())[0]


def audit_command(
    env_file: EnvArg,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, json, markdown or sarif.")] = "table",
    select: SelectOpt = None,
    ignore: IgnoreOpt = None,
    fail_on: Annotated[str, typer.Option("--fail-on", help="Exit 1 when a finding at or above "
                                         "this severity remains: error, warning, info or never.")] = "error",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write the report here "  # noqa: UP045
                                                   "instead of stdout.")] = None,
    no_lock: Annotated[bool, typer.Option("--no-lock", help="Audit the file as written, without "
                                          "solving (only the findings the file alone shows; a "
                                          "solve adds to them, and a failed solve is a finding)."
                                          )] = False,
    gpu: Annotated[bool, typer.Option("--gpu", help="A GPU image is meant (G404 checks CPU builds).")] = False,
    glibc: Annotated[Optional[str], typer.Option("--glibc", help="glibc of the runtime base image "  # noqa: UP045
                                                 "(default: Debian bookworm's 2.36).")] = None,
    platform: PlatformOpt = None,
    channel: ChannelOpt = None,
    channel_alias: ChannelAliasOpt = None,
    mirror: MirrorOpt = None,
    offline: OfflineOpt = False,
    channel_priority: PriorityOpt = "strict",
    solver: SolverOpt = "auto",
    cuda: CudaOpt = None,
) -> None:
    """Audit ENV_FILE: what conda cannot provide for a Linux container, why, and the fix."""
    from conda2docker.audit import DEFAULT_GLIBC, AuditContext, all_rules, audit, render_report
    from conda2docker.audit.engine import enrich, sort_key
    from conda2docker.audit.local import scan_local_paths
    from conda2docker.audit.report import FORMATS
    from conda2docker.audit.select import FAIL_LEVELS, enabled_codes, fails, parse_selectors
    from conda2docker.commands._options import resolve_options_from_cli
    from conda2docker.errors import InputError

    if fmt not in FORMATS:
        raise InputError(f"unknown --format {fmt!r}", fix=f"use {', '.join(FORMATS)}")
    if fail_on not in FAIL_LEVELS:
        raise InputError(f"unknown --fail-on level {fail_on!r}", fix="use error, warning, info or never")
    selected, ignored = parse_selectors(select or ()), parse_selectors(ignore or ())
    codes = enabled_codes(all_rules(), selected, ignored)  # rejects typos before solving
    options = resolve_options_from_cli(
        platforms=platform, channels=channel, channel_alias=channel_alias, mirrors=mirror,
        offline=offline, priority=channel_priority, solver=solver, cuda=cuda,
        lock_path=env_file.parent / "conda-lock.yml",
    )
    spec, resolution, failure = load_for_audit(env_file, options, solve=not no_lock)
    local = scan_local_paths(spec)
    findings: set[Finding] = set()
    for target in target_platforms(platform, spec, resolution):
        sdists = check_wheels(spec, resolution, options, target, glibc or DEFAULT_GLIBC)

        def context(solved: Resolution | None, target: str = target,
                    sdists: SdistScan = sdists) -> AuditContext:
            return AuditContext.build(spec, solved, platform=target,
                                      glibc=glibc or DEFAULT_GLIBC, gpu=gpu or cuda is not None,
                                      local=local, sdists=sdists.facts, unchecked=sdists.unchecked)

        static = audit(context(None), select=selected, ignore=ignored)
        solved = audit(context(resolution), select=selected, ignore=ignored) if resolution else []
        findings.update(enrich(static, solved))
        if failure is not None and "C108" in codes:
            findings.add(solve_failure(failure, target))
    ordered = sorted(findings, key=sort_key)
    report = render_report(ordered, fmt, root=Path.cwd())
    if output is None:
        typer.echo(report, nl=False)
    else:
        output.write_text(report, encoding="utf-8")
    if fails(ordered, fail_on):
        raise AuditFailed(ordered, fail_on)
