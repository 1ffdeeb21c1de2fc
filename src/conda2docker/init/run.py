"""The ``init`` job: survey → resolve → plan → render → write (+ vendor, + README)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import field
from pathlib import Path

from conda2docker import image as contract
from conda2docker.choices import DEFAULT_INSTALLER, Installer
from conda2docker.errors import InputError, SourceLocation
from conda2docker.init.dockerignore import DEFAULT_THRESHOLD, ContextRule, allow_list, large_files
from conda2docker.init.plan import InitPlan
from conda2docker.init.readme import render_section, upsert
from conda2docker.init.report import found_lines, plan_lines
from conda2docker.init.services import Service, services
from conda2docker.init.stages import ImageOptions
from conda2docker.init.survey import survey
from conda2docker.init.targets import (
    RECORD,
    SUFFIX,
    Targets,
    back_up,
    choose_targets,
    ours,
    read_record,
    render_record,
)
from conda2docker.init.tracked import tracked_files
from conda2docker.model import EnvSpec, Finding, Lock, Resolution, Severity
from conda2docker.plan import BuildPlan
from conda2docker.platforms import DEFAULT_PLATFORM
from conda2docker.values import frozen

Echo = Callable[[str], None]


@frozen
class InitRequest:
    """Everything ``init`` is asked."""
    repo: Path
    env_file: Path | None = None
    output: Path | None = None
    dry_run: bool = False
    force: bool = False
    readme: bool = False
    installer: Installer = DEFAULT_INSTALLER
    vendor: bool = False
    platform: str = DEFAULT_PLATFORM
    channels: tuple[str, ...] = ()
    channel_alias: str | None = None
    default_channels: str = "conda-forge"
    mirrors: tuple[str, ...] = ()
    offline: bool = False
    cuda: str | None = None
    runtime_image: str = contract.RUNTIME_IMAGE
    build_image: str = contract.BUILD_IMAGE
    micromamba_image: str = contract.MICROMAMBA_IMAGE
    python_image: str = contract.PYTHON_IMAGE
    uid: int = contract.UID
    gid: int = contract.GID
    large_file_bytes: int = DEFAULT_THRESHOLD
    services: tuple[str, ...] = ()
    """Databases beside Jupyter in compose.yaml (mongodb, postgres, redis)."""
    jupyter: bool = True
    """Add JupyterLab to an inferred environment, as repo2docker does."""
    default_python: str | None = None
    """The Python of an inferred environment when nothing names one (repo2docker's 3.10)."""


@frozen
class InitResult:
    """What ``init`` wrote or would write."""
    plan: InitPlan
    section: str
    written: tuple[Path, ...] = ()
    unchanged: tuple[Path, ...] = ()
    files: tuple[Path, ...] = field(default=())


def support_dir(root: Path, output: Path | None) -> Path:
    """``--output`` relative to the repository (which must contain it: it is the context)."""
    if output is None:
        return Path()
    absolute = output if output.is_absolute() else Path.cwd() / output
    try:
        return absolute.resolve().relative_to(root.resolve())
    except ValueError as exc:
        raise InputError("--output must be inside the repository, which is the build context",
                         fix="choose a directory inside the repository (e.g. docker/)",
                         location=SourceLocation(output)) from exc


def context_rule(root: Path, support: Path, threshold: int, echo: Echo) -> ContextRule:
    """The allow-list (git) or deny-list context of the repository, told to the user."""
    skip = [support / contract.SUPPORT_DIR, support / contract.VENDOR_DIR]
    large = large_files(root, threshold, skip=skip)
    tracked, why = tracked_files(root)
    for path in large:
        echo(f"excluded from the build context (over the size threshold): {path}")
    if tracked is None:
        echo(f"build context: everything but secrets, VCS, virtualenvs, caches and data ({why})")
        return ContextRule(None, tuple(large), threshold)
    entries, unstatable = allow_list(root, tracked, large)
    echo(f"build context: the {len(tracked)} files git tracks, minus secrets and data "
         "(untracked files stay out: commit them to add them)")
    for path in unstatable:
        echo(f"excluded from the build context (a .dockerignore line cannot name it): {path!r}")
    return ContextRule(tuple(entries), tuple(large), threshold, unstatable=tuple(unstatable))


def _targets(root: Path, init: InitPlan, force: bool, support: Path, echo: Echo) -> Targets:
    record = read_record(root / support / contract.SUPPORT_DIR / RECORD)
    targets = choose_targets(root, init.dockerfile, force=force,
                             lock=support / contract.LOCK_NAMES["cpu"], record=record)
    for kept in targets.kept:
        echo(f"kept {kept}: it is yours; init writes its own beside it")
    for item in targets.backups:
        echo(f"--force: {item.original} is yours (or edited since init wrote it); it is kept as "
             f"{item.backup} and replaced")
    if force:
        beside = (f"{init.dockerfile}.{SUFFIX}", f"compose.{SUFFIX}.yaml",
                  f"{init.dockerfile}.{SUFFIX}.dockerignore")
        for name in beside:
            if ours(root / name):
                echo(f"--force: {name} (init's, from a run beside your files) is no longer "
                     "used; delete it")
    return targets


def init_repository(request: InitRequest, echo: Echo = lambda _line: None) -> InitResult:
    root = request.repo
    databases = services(request.services)
    if request.default_python is not None and not re.fullmatch(r"3\.\d{1,2}", request.default_python):
        raise InputError(f"--default-python {request.default_python!r} is not a Python 3 version",
                         fix="write 3.X, e.g. --default-python 3.12")
    found = survey(root, env_file=request.env_file, platform=request.platform,
                   jupyter=request.jupyter, default_python=request.default_python)
    init = found.plan
    support = support_dir(root, request.output)
    for line in found_lines(init):
        echo(line)
    targets = _targets(root, init, request.force, support, echo)
    section = render_section(init, targets, databases)
    if request.dry_run:
        planned = [targets.dockerfile, targets.compose, targets.dockerignore,
                   support / contract.LOCK_NAMES["cpu"], support / contract.SUPPORT_DIR]
        if init.inferred is not None:
            planned.append(support / init.environment)
        if request.vendor:
            planned.append(support / contract.VENDOR_DIR)
        if request.readme:
            planned.append(Path("README.md"))
        for line in plan_lines(init):
            echo(line)
        if databases:
            echo("services: " + ", ".join(f"{d.name} ({d.image}, ${d.url_variable})"
                                          for d in databases))
        audit_lines(found.spec, None, request.platform, databases, echo, gpu=init.gpu)
        echo("files:")
        known = {support / init.environment: init.inferred.text.encode()} if init.inferred else {}
        for path in planned:
            echo(f"  {_fate(root / path, request.force, known.get(path))} {path}")
        for kept in targets.kept:
            echo(f"  skip {kept} (yours, kept)")
        for item in targets.backups:
            echo(f"  back up {item.original} as {item.backup} (yours, kept) before replacing it")
        context_rule(root, support, request.large_file_bytes, echo)
        echo("dry run: nothing solved, nothing written")
        return InitResult(init, section, files=tuple(planned))
    return _generate(request, init, found.spec, support, section, targets, databases, echo)


def audit_lines(spec: EnvSpec, resolution: Resolution | None, platform: str,
                databases: tuple[Service, ...], echo: Echo, *, gpu: bool = False) -> list[Finding]:
    """The audit of the environment (of the file alone on a dry run), with the services init
    puts beside it: a summary, then one line per error or warning (``conda2docker audit``
    shows them all)."""
    from conda2docker.audit.report import summary
    from conda2docker.audit.run import audit_targets

    findings = audit_targets(spec, resolution, (platform,), gpu=gpu,
                             services=tuple(d.name for d in databases))
    echo(f"audit: {summary(findings)}")
    for finding in findings:
        if finding.severity in (Severity.ERROR, Severity.WARNING):
            echo(f"audit: {finding.code} [{finding.severity.value}] {finding.message}; "
                 f"fix: {finding.fix}")
    return findings


def _fate(path: Path, force: bool, content: bytes | None = None) -> str:
    """What writing ``path`` would do: ``write`` (new), ``update``, ``refuse`` (edited);
    ``keep`` when its ``content``, known before the solve, is already there."""
    if not path.exists():
        return "write  "
    if path.is_dir():
        return "update "
    if (content is not None and not path.is_symlink() and path.is_file()  # never a FIFO
            and path.stat().st_size == len(content) and path.read_bytes() == content):
        return "keep    (up to date)"
    if ours(path):
        return "regenerate" if force else "regenerate (generated by init; --force if edited)"
    return "replace" if force else "refuse (exists; --force to replace)"


def _generate(request: InitRequest, init: InitPlan, spec: EnvSpec, support: Path, section: str,
              targets: Targets, databases: tuple[Service, ...], echo: Echo) -> InitResult:
    from conda2docker.convert import lock_bytes, plan_rattler_version
    from conda2docker.init.render import project_free, render_init
    from conda2docker.outputs import atomic_write, write_files
    from conda2docker.pipeline import resolve_options
    from conda2docker.plan import PlanOptions, lock_digest
    from conda2docker.resolve import require_complete, resolve

    root = request.repo
    options = resolve_options(
        platforms=(request.platform,), channels=request.channels,
        channel_alias=request.channel_alias, default_channels=request.default_channels,
        mirrors=request.mirrors, offline=request.offline,
        cuda=request.cuda or (init.cuda if init.gpu else None),
        lock_path=root / support / contract.LOCK_NAMES["cpu"],
    )
    resolution = require_complete(resolve(spec, options))
    for change in (*resolution.spec.changes, *resolution.changes):
        echo(f"note: {change.subject}: {change.reason}")
    lock = project_free(resolution.lock, root, init)
    audit_lines(resolution.spec, resolution, request.platform, databases, echo, gpu=init.gpu)
    serialized = lock_bytes(lock)
    image = ImageOptions(support=support, uid=request.uid, gid=request.gid,
                         build_image=request.build_image)
    base = PlanOptions(
        installer=request.installer,
        vendor=request.vendor, platform=request.platform, runtime_image=request.runtime_image,
        micromamba_image=request.micromamba_image, python_image=request.python_image,
        build_image=request.build_image, uid=request.uid, gid=request.gid,
        rattler_version=plan_rattler_version(), lock_digest=lock_digest(serialized),
    )
    rule = context_rule(root, support, request.large_file_bytes, echo)
    rendered = render_init(init, resolution.spec, lock, serialized, base, image, context=rule,
                           targets=targets, databases=databases)
    for item in back_up(root, targets.backups):
        echo(f"kept your {item.original} as {item.backup}")
    files = {root / p: b for p, b in rendered.files.items()}
    written_here = (targets.dockerfile, targets.compose, targets.dockerignore)
    files[root / support / contract.SUPPORT_DIR / RECORD] = render_record(
        {p: rendered.files[p] for p in written_here})
    report = write_files(files, root=root, force=request.force)
    if request.vendor:
        _vendor(rendered.plan, lock, init, root / support, spec, echo, request)
        for project in init.projects:
            if project.dynamic:
                echo(f"note: {project.label}: its dependencies are resolved during the build, so "
                     "--vendor cannot include them: the project stage needs the package index "
                     "(declare them in pyproject.toml to build offline)")
    written = list(report.written)
    if request.readme:
        from conda2docker.outputs import confine
        from conda2docker.read.decode import MAX_ENV_FILE, read_limited

        readme = confine(root, "README.md")  # a README linking outside is neither read nor written
        old = read_limited(readme, limit=MAX_ENV_FILE, what="README").decode("utf-8", "replace") \
            if readme.is_file() else ""
        new = upsert(old, section)
        if new != old:
            atomic_write(readme, new.encode())
            written.append(readme)
    return InitResult(init, section, tuple(written), report.unchanged,
                      files=tuple(rendered.files))


def _vendor(plan: BuildPlan, lock: Lock, init: InitPlan, context: Path, spec: EnvSpec,
            echo: Echo, request: InitRequest) -> None:
    """Every file the build needs into the support directory, so it builds with no network."""
    from conda2docker.context import build_requires, populate, vendor_build_requirements
    from conda2docker.convert import plan_rattler_version
    from conda2docker.resolve.pypi import pip_options_args

    index_args = pip_options_args(spec.pip_options)
    from conda2docker.context import ContextOptions
    from conda2docker.resolve.channels import parse_mirror

    trust = ContextOptions(input_root=init.root, offline=request.offline,
                           channel_alias=request.channel_alias, force=request.force,
                           mirrors=tuple(parse_mirror(m) for m in request.mirrors))
    report = populate(plan, lock, context, rattler_version=plan_rattler_version(),
                      index_args=index_args, options=trust)
    (context / contract.VENDOR_DIR / "pip").mkdir(parents=True, exist_ok=True)
    requires = {r for p in init.projects if not p.needs_environment
                for r in build_requires(init.root / p.path)}
    if requires:
        vendor_build_requirements(requires, plan.platform, plan.python_version or "3.11", context,
                                  index_args, trust)
    echo(f"vendored {report.vendored_files} files ({report.vendored_bytes / 1e6:.1f} MB), "
         "hashes checked")
