"""S3xx: what the target system (Linux, the base image) lacks or the reader changed."""

from __future__ import annotations

import re
from collections.abc import Iterator

from conda2docker.audit.context import AuditContext
from conda2docker.audit.knowledge.services import clients_of
from conda2docker.audit.knowledge.syslibs import system_need
from conda2docker.audit.knowledge.wheels import conda_glibc, parse_glibc, show, wheel_glibc
from conda2docker.audit.registry import Rule, rule
from conda2docker.audit.rules._common import change_evidence, from_changes
from conda2docker.errors import SourceLocation
from conda2docker.model import Finding, Severity
from conda2docker.names import canonical

_NEEDS_GLIBC = re.compile(r"glibc >= ?([0-9.]+\d)")


def platform_only_dropped(ctx: AuditContext, rule: Rule) -> Iterator[Finding]:
    """Exports from macOS or Windows carry packages that exist only there (pywin32,
    vc, ucrt, libcxx, appnope); the reader leaves them out of the Linux environment."""
    yield from from_changes(ctx, rule)


rule(
    "S301",
    "platform-only-dropped",
    Severity.WARNING,
    message="{subject} was dropped: {reason}",
    fix="nothing to do if it was only needed on that platform; otherwise add the Linux "
    "package that provides the same feature",
    example="""
dependencies:
  - python=3.11
  - pywin32=306      # from a Windows export
""",
)(platform_only_dropped)


def mapped_to_linux(ctx: AuditContext, rule: Rule) -> Iterator[Finding]:
    """Some packages have a different name or build on Linux (``tensorflow-macos`` →
    ``tensorflow``, ``pytorch`` MPS builds → CPU/CUDA builds); the reader maps them, and
    the mapping may not be exactly what the project needs."""
    yield from from_changes(ctx, rule)


rule(
    "S302",
    "mapped-to-linux",
    Severity.WARNING,
    message="{subject} was replaced for Linux: {detail}",
    fix="check that the Linux package gives the same features; pin it explicitly to "
    "silence this",
    example="""
dependencies:
  - tensorflow-macos=2.9   # becomes tensorflow on Linux
""",
)(mapped_to_linux)


def system_libraries(ctx: AuditContext, rule: Rule) -> Iterator[Finding]:
    """Some wheels load shared libraries from the operating system instead of bundling
    them; on a slim base image the import fails with ``libGL.so.1: cannot open shared
    object file``."""
    names: dict[str, SourceLocation | None] = {name: ctx.lock_location for name in ctx.pip}
    if not ctx.packages and ctx.spec is not None:
        names = {canonical(r.name): r.location for r in ctx.spec.pip if r.name}
    for name in sorted(names):
        need = system_need(name)
        if need is None:
            continue
        missing = tuple(a for a in need.apt if a not in ctx.base_apt_packages)
        if not missing:
            continue
        yield rule.finding(
            name,
            evidence=(f"apt: {' '.join(missing)}",),
            location=names[name],
            libraries=need.libraries,
            alternative=f"{need.alternative}, or " if need.alternative else "",
            apt=" ".join(missing),
        )


rule(
    "S303",
    "system-libraries",
    Severity.WARNING,
    message="{subject} needs system libraries the base image lacks: {libraries}",
    fix="{alternative}add apt package(s) {apt} to the runtime stage",
    example="""
dependencies:
  - pip:
    - opencv-python==4.9.0.80   # needs libGL.so.1 and libgthread
""",
)(system_libraries)


def glibc_too_new(ctx: AuditContext, rule: Rule) -> Iterator[Finding]:
    """Binary wheels (manylinux tags) and conda packages (``__glibc``) declare the oldest
    glibc they run on; on an older base image they fail to install or to load. When the
    resolver had to pick an older version or an sdist for this reason, that is reported
    too."""
    base = parse_glibc(ctx.glibc)
    reported: set[str] = set()
    for change in ctx.changes_with(rule.code):
        reported.add(change.subject)
        needed = _NEEDS_GLIBC.search(change.reason)
        yield rule.finding(change.subject, evidence=change_evidence(change),
                           location=change.location,
                           needed=f"glibc >= {needed[1]}" if needed else f"a glibc newer than {ctx.glibc}",
                           glibc=ctx.glibc)
    for package in sorted(ctx.packages, key=lambda p: (p.manager, p.name)):
        if package.manager == "pip":
            floor = wheel_glibc(package.file_name)
            evidence = package.file_name
        else:
            spec = package.dependencies.get("__glibc")
            floor = conda_glibc(spec) if spec else None
            evidence = f"depends: __glibc {spec}"
        if floor is None or floor <= base or package.name in reported:
            continue
        yield rule.finding(package.name, evidence=(evidence,), location=ctx.lock_location,
                           platform=ctx.platform, needed=f"glibc >= {show(floor)}", glibc=ctx.glibc)


rule(
    "S304",
    "glibc-too-new",
    Severity.WARNING,
    message="{subject} needs {needed}, the base image has glibc {glibc}",
    fix="use a base image with {needed}, or pin an older {subject} built for glibc {glibc}",
    example="""
# a lock pins a wheel tagged manylinux_2_39_x86_64 while the base image is
# debian:bookworm-slim (glibc 2.36)
""",
)(glibc_too_new)


def excluded_by_selector(ctx: AuditContext, rule: Rule) -> Iterator[Finding]:
    """Lines guarded by a conda selector (``# [win]``) or a pip environment marker that
    does not match the target are skipped; the audit lists them so nothing disappears
    silently."""
    yield from from_changes(ctx, rule)


rule(
    "S305",
    "excluded-by-selector",
    Severity.INFO,
    message="{subject} was left out for this platform: {reason}",
    fix="nothing to do if the selector or marker is right; otherwise edit it",
    example="""
dependencies:
  - pywin32  # [win]
  - pip:
    - colorama; sys_platform == "win32"
""",
)(excluded_by_selector)


def platform_not_a_target(ctx: AuditContext, rule: Rule) -> Iterator[Finding]:
    """Containers run Linux: macOS and Windows entries of ``platforms:`` are skipped
    when locking for the image."""
    yield from from_changes(ctx, rule)


rule(
    "S306",
    "platform-not-a-target",
    Severity.INFO,
    message="platform {subject} is not a container target and was ignored",
    fix="nothing to do; pass --platform linux-64 (or linux-aarch64) to choose targets",
    example="""
platforms: [linux-64, osx-arm64, win-64]
dependencies:
  - python=3.11
""",
)(platform_not_a_target)


def service_client_missing(ctx: AuditContext, rule: Rule) -> Iterator[Finding]:
    """``init --service mongodb|postgres|redis`` starts a database beside Jupyter and gives
    the notebooks its URL, but they reach it only through a Python client library
    (``pymongo``/``motor``, ``psycopg``/``psycopg2``/``asyncpg``, ``redis``/``redis-py``): the
    first import in a notebook would fail. The services reach the audit as data (its context's
    ``services``): from ``init --service``, or ``audit --service``. Conda and pip names both
    count."""
    if not ctx.services:
        return
    if ctx.packages:
        have = {canonical(p.name) for p in ctx.packages}
        location = ctx.lock_location
    elif ctx.spec is not None:
        have = {canonical(d.name) for d in ctx.spec.conda}
        have |= {canonical(r.name) for r in ctx.spec.pip if r.name}
        location = SourceLocation(ctx.spec.source)
    else:
        return
    for service in ctx.services:
        clients = clients_of(service)
        if not clients or have & {canonical(c) for c in clients}:
            continue
        yield rule.finding(service, location=location, clients=", ".join(clients),
                           suggested=clients[0], evidence=(f"--service {service}",))


rule(
    "S307",
    "service-client-missing",
    Severity.WARNING,
    message="{subject} runs beside the environment, which has no client library for it "
    "({clients})",
    fix="add {suggested} to the environment (conda-forge and PyPI both have it)",
    example="""
# with `conda2docker init --service postgres` (Jupyter and PostgreSQL in compose.yaml),
# or `conda2docker audit environment.yml --service postgres`
dependencies:
  - python=3.11
  - jupyterlab
  - pandas
""",
)(service_client_missing)
