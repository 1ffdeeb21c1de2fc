"""The ``audit`` job: read (and lock) an input, audit it for every target platform, report.

``convert`` audits its one target platform through :func:`audit_targets` too, so the
command and the Dockerfile see the same findings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from conda2docker.choices import FailOn, ReportFormat
from conda2docker.errors import InputError, UserError
from conda2docker.model import EnvSpec, Finding, Resolution
from conda2docker.values import frozen

if TYPE_CHECKING:
    from conda2docker.audit.context import LocalFacts
    from conda2docker.audit.sdists import SdistScan
    from conda2docker.resolve import ResolveOptions


@frozen
class AuditRequest:
    """Everything ``audit`` is asked: the input, the solve options, the report and its threshold."""
    env_file: Path
    resolve: ResolveOptions
    fmt: ReportFormat = "table"
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    fail_on: FailOn = "error"
    solve: bool = True
    """Lock the input too (a lock input needs no solving): the solve adds findings to the
    file's own; off, only the findings the file alone shows."""
    gpu: bool = False
    glibc: str | None = None
    services: tuple[str, ...] = ()
    """Databases run beside the environment (``--service``, as ``init --service``): S307."""


@frozen
class AuditResult:
    """The audit's findings and its report."""
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
                  ignore: Sequence[str] = (), local: Mapping[str, LocalFacts] | None = None,
                  sdists: Mapping[str, SdistScan] | None = None,
                  static_first: bool = False, services: tuple[str, ...] = ()) -> list[Finding]:
    """The findings for every platform of ``platforms``, sorted, each once. ``local``: what
    :func:`~conda2docker.audit.local.scan_local_paths` found (scanned here when not given);
    ``sdists``: per platform, the exact pip pins without a fitting wheel
    (:func:`~conda2docker.audit.sdists.scan_sdist_pins`). With ``static_first`` the findings
    of the file alone come first and the resolution's are added to them
    (:func:`~conda2docker.audit.engine.enrich`), so a partial lock hides nothing. ``services``:
    the databases ``init --service`` puts beside the environment (rule S307)."""
    from conda2docker.audit.context import DEFAULT_GLIBC, AuditContext
    from conda2docker.audit.engine import audit, enrich, sort_key
    from conda2docker.audit.local import scan_local_paths

    local = scan_local_paths(spec) if local is None else local
    findings: set[Finding] = set()
    for target in platforms:
        scan = (sdists or {}).get(target)

        def context(solved: Resolution | None, target: str = target,
                    scan: SdistScan | None = scan) -> AuditContext:
            return AuditContext.build(spec, solved, platform=target,
                                      glibc=glibc or DEFAULT_GLIBC, gpu=gpu, local=local,
                                      sdists=scan.facts if scan else None,
                                      unchecked=scan.unchecked if scan else (),
                                      services=services)

        solved = audit(context(resolution), select=select, ignore=ignore)
        if static_first and resolution is not None:
            complete = not resolution.unavailable and not any(
                c.code in ("C109", "P207") for c in resolution.changes)
            # A lock given as input is its own resolution: the file alone is the same context
            # (rules are pure functions of it), so its findings are those just made.
            same = (resolution.lock is spec.lock and not resolution.changes
                    and not resolution.unavailable)
            static = solved if same else audit(context(None), select=select, ignore=ignore)
            solved = enrich(static, solved, complete=complete)
        findings.update(solved)
    return sorted(findings, key=sort_key)


def load_for_audit(request: AuditRequest) -> tuple[EnvSpec, Resolution | None, UserError | None]:
    """Read the input (bad input raises), then lock it unless ``request.solve`` is off.

    A solve that fails — fully, for one platform, or for the pip part — does not raise: the
    error comes back, or is recorded in the resolution as a change (``keep_going``), so the
    audit reports it next to everything else it found.
    """
    from dataclasses import replace

    from conda2docker.pipeline import read_spec
    from conda2docker.platforms import first_target
    from conda2docker.resolve import resolve

    # a lock given is read for the target platforms only: the audit reads no other entries
    spec = read_spec(request.env_file, first_target(request.resolve.platforms),
                     lock_platforms="targets")
    if spec.lock is None and not request.solve:
        return spec, None, None
    try:
        return spec, resolve(spec, replace(request.resolve, keep_going=True)), None
    except UserError as error:
        return spec, None, error


def check_wheels(spec: EnvSpec, resolution: Resolution | None, options: ResolveOptions,
                 platform: str, glibc: str) -> SdistScan:
    """Exact pip pins without a wheel for ``platform`` (through the index, cached on disk)."""
    from conda2docker.audit.sdists import SdistScan, exact_version, target_python

    if spec.lock is not None or not any(exact_version(r) for r in spec.pip):
        return SdistScan({})
    from conda2docker.resolve.pypi import IndexClient  # the index client: 15 ms
    from conda2docker.sdist_check import scan_sdist_pins

    solved = resolution.lock.conda_packages(platform) if resolution else ()
    python = next((p.version for p in solved if p.name == "python"), None)
    index = IndexClient(cache_dir=options.cache_dir / "pypi" if options.cache_dir else None,
                        offline=options.offline)
    return scan_sdist_pins(spec, index, platform=platform, glibc=glibc,
                           python=target_python(spec, python))


def solve_failure(error: UserError, platform: str) -> Finding:
    """A solve that failed as a whole (no channel readable, an invalid request): rule C109."""
    from conda2docker.audit.registry import get_rule

    return get_rule("C109").finding(
        "the environment", location=error.location, platform=platform, reason=error.message,
        detail=error.fix or "fix the cause above",
    )


def check_services(names: Sequence[str]) -> tuple[str, ...]:
    """Each ``--service`` in its one name (``pg`` → ``postgres``); one the audit does not know
    is one line naming the choices."""
    from conda2docker.audit.knowledge.services import SERVICE_CLIENTS, service_name

    chosen = tuple(dict.fromkeys(service_name(n) for n in names))
    unknown = [n for n in chosen if n not in SERVICE_CLIENTS]
    if unknown:
        raise InputError(f"unknown --service {unknown[0]!r}",
                         fix="choose from " + ", ".join(sorted(SERVICE_CLIENTS)))
    return chosen


def run_audit(request: AuditRequest, *, root: Path | None = None) -> AuditResult:
    """Read; audit what the file alone shows; lock unless told not to and add what the solve
    shows (a failed solve is a finding); check exact pip pins for wheels; render the report."""
    from conda2docker.audit.context import DEFAULT_GLIBC
    from conda2docker.audit.engine import sort_key
    from conda2docker.audit.registry import all_rules
    from conda2docker.audit.report import render_report
    from conda2docker.audit.select import enabled_codes, fails, parse_selectors
    from conda2docker.platforms import lock_targets

    selected, ignored = parse_selectors(request.select), parse_selectors(request.ignore)
    codes = enabled_codes(all_rules(), selected, ignored)  # rejects typos before solving
    services = check_services(request.services)
    spec, resolution, failure = load_for_audit(request)
    lock = resolution.lock if resolution else spec.lock
    platforms, _ = lock_targets(request.resolve.platforms, lock.platforms if lock else ())
    glibc = request.glibc or DEFAULT_GLIBC
    sdists = {target: check_wheels(spec, resolution, request.resolve, target, glibc)
              for target in platforms}
    findings = audit_targets(spec, resolution, platforms, glibc=glibc,
                             gpu=request.gpu or request.resolve.cuda is not None,
                             select=selected, ignore=ignored, sdists=sdists, static_first=True,
                             services=services)
    if failure is not None and "C109" in codes:
        findings = sorted({*findings, *(solve_failure(failure, t) for t in platforms)},
                          key=sort_key)
    report = render_report(findings, request.fmt, root=root or Path.cwd())
    return AuditResult(tuple(findings), report, fails(findings, request.fail_on))
