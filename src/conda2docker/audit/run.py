"""The ``audit`` job: read (and lock) an input, audit it for every target platform, report.

``convert`` audits its one target platform through :func:`audit_targets` too, so the
command and the Dockerfile see the same findings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from conda2docker.choices import FailOn, ReportFormat
from conda2docker.errors import ResolveError, UserError
from conda2docker.model import EnvSpec, Finding, Resolution

if TYPE_CHECKING:
    from conda2docker.audit.context import LocalFacts
    from conda2docker.resolve import ResolveOptions


@dataclass(frozen=True, slots=True)
class AuditRequest:
    env_file: Path
    resolve: ResolveOptions
    fmt: ReportFormat = "table"
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    fail_on: FailOn = "error"
    solve: bool = True
    """Lock the input first (a lock input needs no solving); off: rules that need a lock stay silent."""
    gpu: bool = False
    glibc: str | None = None


@dataclass(frozen=True, slots=True)
class AuditResult:
    findings: tuple[Finding, ...]
    report: str
    failed: bool
    """A finding at or above ``fail_on`` remains."""


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


def audit_targets(spec: EnvSpec, resolution: Resolution | None, platforms: Sequence[str], *,
                  glibc: str | None = None, gpu: bool = False, select: Sequence[str] = (),
                  ignore: Sequence[str] = (), local: Mapping[str, LocalFacts] | None = None) -> list[Finding]:
    """The findings for every platform of ``platforms``, sorted, each once. ``local``: what
    :func:`~conda2docker.audit.local.scan_local_paths` found (scanned here when not given)."""
    from conda2docker.audit.context import DEFAULT_GLIBC, AuditContext
    from conda2docker.audit.engine import audit, sort_key
    from conda2docker.audit.local import scan_local_paths

    local = scan_local_paths(spec) if local is None else local
    findings: set[Finding] = set()
    for target in platforms:
        ctx = AuditContext.build(spec, resolution, platform=target, glibc=glibc or DEFAULT_GLIBC,
                                 gpu=gpu, local=local)
        findings.update(audit(ctx, select=select, ignore=ignore))
    return sorted(findings, key=sort_key)


def run_audit(request: AuditRequest, *, root: Path | None = None) -> AuditResult:
    """Read, lock unless told not to, audit each target platform and render the report."""
    from conda2docker.audit.registry import all_rules
    from conda2docker.audit.report import render_report
    from conda2docker.audit.select import enabled_codes, fails, parse_selectors
    from conda2docker.pipeline import load_input
    from conda2docker.platforms import lock_targets

    selected, ignored = parse_selectors(request.select), parse_selectors(request.ignore)
    enabled_codes(all_rules(), selected, ignored)  # reject typos before solving
    try:
        spec, resolution = load_input(request.env_file, request.resolve, solve=request.solve)
    except ResolveError as error:
        raise ResolveError(error.message, location=error.location,
                           fix=f"{error.fix + '; or ' if error.fix else ''}audit the file as "
                           "written, without solving: --no-lock") from error
    lock = resolution.lock if resolution else spec.lock
    platforms, _ = lock_targets(request.resolve.platforms, lock.platforms if lock else ())
    findings = audit_targets(spec, resolution, platforms, glibc=request.glibc,
                             gpu=request.gpu or request.resolve.cuda is not None,
                             select=selected, ignore=ignored)
    report = render_report(findings, request.fmt, root=root or Path.cwd())
    return AuditResult(tuple(findings), report, fails(findings, request.fail_on))
