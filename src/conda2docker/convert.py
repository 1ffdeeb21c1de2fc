"""The ``convert`` job: read → resolve (CPU, and GPU with ``__cuda``) → audit → plan → render
→ write the context.

One environment gives up to two variants, each with its own lock and Dockerfile:
``conda-lock.yml`` + ``Dockerfile`` (CPU) and ``conda-lock.gpu.yml`` + ``Dockerfile.gpu``
(GPU); when the CPU solve is impossible (``pytorch=*=cuda*`` needs ``__cuda``) only the GPU
variant is written, with a note. Around them: ``compose.yaml``, ``.dockerignore`` and, with
``--format apptainer``, Apptainer definitions rendered from the same plans.

Kept apart from the CLI so ``init`` and the tests drive the same path.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from conda2docker import image
from conda2docker.choices import (
    DEFAULT_GPU_MODE,
    DEFAULT_INSTALLER,
    DEFAULT_PRIORITY,
    DEFAULT_SOLVER,
    Bootstrap,
    ChannelPriority,
    GpuMode,
    Installer,
    OutputFormat,
    Solver,
)
from conda2docker.errors import InputError, ResolveError
from conda2docker.image import AUDIT_NAMES, DEFINITION_NAMES, DOCKERFILE_NAMES, LOCK_NAMES, Variant
from conda2docker.model import EnvSpec, Finding, Lock, Resolution

if TYPE_CHECKING:
    from conda2docker.audit.gaps import BuildGaps
    from conda2docker.plan import BuildPlan, PlanOptions
    from conda2docker.resolve import ResolveOptions

Echo = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class ConvertRequest:
    env_file: Path
    output: Path
    installer: Installer = DEFAULT_INSTALLER
    vendor: bool = False
    platforms: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    channel_alias: str | None = None
    mirrors: tuple[str, ...] = ()
    offline: bool = False
    priority: ChannelPriority = DEFAULT_PRIORITY
    solver: Solver = DEFAULT_SOLVER
    gpu: GpuMode = DEFAULT_GPU_MODE
    cuda: str | None = None
    runtime_image: str = image.RUNTIME_IMAGE
    build_image: str = image.BUILD_IMAGE
    micromamba_image: str = image.MICROMAMBA_IMAGE
    python_image: str = image.PYTHON_IMAGE
    cuda_devel_image: str | None = None
    uid: int = image.UID
    gid: int = image.GID
    buildkit: bool = False
    formats: tuple[OutputFormat, ...] = (OutputFormat.docker,)
    apptainer_bootstrap: Bootstrap = "docker"
    check: bool = False
    force: bool = False


@dataclass(frozen=True, slots=True)
class SolvedVariant:
    """One solved variant: its resolution, the lock's bytes, the audit's findings, the plan."""

    name: Variant
    resolution: Resolution
    lock_bytes: bytes
    plan: BuildPlan
    findings: tuple[Finding, ...] = ()


@dataclass(frozen=True, slots=True)
class ConvertResult:
    resolution: Resolution
    written: tuple[Path, ...] = ()
    unchanged: tuple[Path, ...] = ()
    differing: tuple[Path, ...] = ()
    variants: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def lock_bytes(lock: Lock) -> bytes:
    from conda2docker.lockfile import write_conda_lock

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / LOCK_NAMES["cpu"]
        write_conda_lock(lock, path)
        return path.read_bytes()


def _validate(request: ConvertRequest) -> None:
    if not request.formats:
        raise InputError("no --format", fix="use docker and/or apptainer")
    if request.output.exists() and not request.output.is_dir():
        raise InputError(f"{request.output} exists and is not a directory", fix="choose another --output")


def _resolve_options(request: ConvertRequest, cuda: str | None, lock_path: Path) -> ResolveOptions:
    from conda2docker.pipeline import resolve_options

    return resolve_options(
        platforms=request.platforms, channels=request.channels,
        channel_alias=request.channel_alias, mirrors=request.mirrors, offline=request.offline,
        priority=request.priority, solver=request.solver, cuda=cuda, lock_path=lock_path,
    )


def _solve(spec: EnvSpec, options: ResolveOptions) -> Resolution:
    from conda2docker.resolve import require_complete, resolve

    return require_complete(resolve(spec, options))


def _audit(spec: EnvSpec, resolution: Resolution, platform: str, *,
           gpu: bool, offline: bool = False) -> tuple[list[Finding], BuildGaps]:
    """The audit's findings, and the gaps among them that become build stages.

    The lock's sdists are looked into (not run) so a pure-Python one gets no compiler.
    """
    from conda2docker.audit.gaps import plan_inputs
    from conda2docker.audit.local import scan_local_paths
    from conda2docker.audit.run import audit_targets
    from conda2docker.audit.sdists import SdistScan
    from conda2docker.resolve.pypi import IndexClient
    from conda2docker.sdist_check import inspect_locked

    local = scan_local_paths(spec)
    sdists = inspect_locked(resolution.lock, platform, IndexClient(offline=offline))
    findings = audit_targets(spec, resolution, (platform,), gpu=gpu, local=local,
                             sdists={platform: SdistScan(sdists)})
    return findings, plan_inputs(findings, resolution.lock, platform, spec=spec, local=local,
                                 sdists=sdists)


def _plan_options(request: ConvertRequest, variant: Variant, cuda: str | None, digest: str,
                  platform: str, source: str) -> PlanOptions:
    from conda2docker.plan import PlanOptions

    return PlanOptions(
        installer=request.installer,
        vendor=request.vendor,
        variant=variant,
        platform=platform,
        runtime_image=request.runtime_image,
        micromamba_image=request.micromamba_image,
        python_image=request.python_image,
        build_image=request.build_image,
        cuda_devel_image=request.cuda_devel_image,
        uid=request.uid,
        gid=request.gid,
        buildkit=request.buildkit,
        rattler_version=plan_rattler_version(),
        source_label=source,
        lock_digest=digest,
        cuda_version=cuda if variant == "gpu" else None,
        support_dir=image.support_dir(variant),
    )


def _variant(request: ConvertRequest, name: Variant, spec: EnvSpec, resolution: Resolution,
             audited: tuple[list[Finding], BuildGaps], cuda: str | None) -> SolvedVariant:
    from conda2docker.plan import lock_digest, make_plan

    lock = resolution.lock
    serialized = _lock_output(spec, lock)
    platform = _target(lock, request)
    options = _plan_options(request, name, cuda, lock_digest(serialized), platform, spec.source.name)
    findings, gaps = audited
    return SolvedVariant(name, resolution, serialized, make_plan(spec, lock, options, gaps),
                         tuple(findings))


def solve_variants(request: ConvertRequest) -> tuple[list[SolvedVariant], list[str]]:
    """The CPU and/or GPU variants the request asks for, and notes for the user."""
    from conda2docker.pipeline import read_spec
    from conda2docker.plan.gpu import (
        check_cuda_version,
        default_cuda_version,
        gpu_reasons,
        wants_gpu,
    )
    from conda2docker.platforms import first_target

    spec = read_spec(request.env_file, first_target(request.platforms), lock_platforms="target")
    cuda = check_cuda_version(request.cuda) if request.cuda else default_cuda_version(spec)
    notes: list[str] = []
    variants: list[SolvedVariant] = []
    cpu: Resolution | None = None
    try:
        cpu = _solve(spec, _resolve_options(request, None, request.output / LOCK_NAMES["cpu"]))
    except ResolveError as error:
        if not wants_gpu(request.gpu, gpu_reasons(spec)):
            raise
        notes.append(f"no CPU variant: the environment cannot be solved without a GPU ({error.message})")
    audit_gpu = False
    if cpu is not None:
        audited = _audit(cpu.spec, cpu, _target(cpu.lock, request), gpu=False,
                         offline=request.offline)
        audit_gpu = audited[1].needs_gpu
        variants.append(_variant(request, "cpu", cpu.spec, cpu, audited, None))
    reasons = gpu_reasons(spec, audit_needs_gpu=audit_gpu)
    if wants_gpu(request.gpu, reasons) or cpu is None:
        gpu = _solve(spec, _resolve_options(request, cuda, request.output / LOCK_NAMES["gpu"]))
        audited = _audit(gpu.spec, gpu, _target(gpu.lock, request), gpu=True,
                         offline=request.offline)
        variants.append(_variant(request, "gpu", gpu.spec, gpu, audited, cuda))
        why = "; ".join(reasons) if reasons else "--gpu yes"
        notes.append(f"GPU variant for CUDA {cuda}: {why}")
    lock = variants[0].resolution.lock
    if len(lock.platforms) > 1:
        notes.append(f"the lock covers {', '.join(lock.platforms)}; the Dockerfile installs "
                     f"{_target(lock, request)}: convert with --platform P -o ANOTHER_DIR for an "
                     "image of another architecture")
    return variants, notes


def _lock_output(spec: EnvSpec, lock: Lock) -> bytes:
    """The conda-lock.yml to write: a conda-lock input as given (in UTF-8), else the lock made."""
    if spec.kind == "conda-lock":
        from conda2docker.lockfile import read_lock_text

        return read_lock_text(spec.source).encode()
    return lock_bytes(lock)


def _target(lock: Lock, request: ConvertRequest) -> str:
    from conda2docker.platforms import image_platform

    return request.platforms[0] if request.platforms else image_platform(lock.platforms)


def render_files(request: ConvertRequest, variants: Sequence[SolvedVariant]) -> dict[Path, bytes]:
    """Every generated file of the output directory, by path."""
    from conda2docker.audit import render_report
    from conda2docker.render.apptainer import render_apptainer
    from conda2docker.render.compose import render_compose
    from conda2docker.render.dockerfile import render_dockerfile, render_dockerignore

    out = request.output
    files: dict[Path, bytes] = {}
    only_gpu = [v.name for v in variants] == ["gpu"]
    for variant in variants:
        plan = variant.plan
        files[out / LOCK_NAMES[variant.name]] = variant.lock_bytes
        root = variant.resolution.spec.source.parent
        files[out / AUDIT_NAMES[variant.name]] = render_report(
            variant.findings, "markdown", root=root).encode()
        if OutputFormat.docker in request.formats:
            files[out / DOCKERFILE_NAMES[variant.name]] = render_dockerfile(plan).encode()
        if OutputFormat.apptainer in request.formats:
            name = DEFINITION_NAMES["cpu" if only_gpu else variant.name]
            bootstrap = request.apptainer_bootstrap
            files[out / name] = render_apptainer(plan, bootstrap).encode()
        for context_file in plan.context_files:
            files[out / context_file.path] = context_file.content
    if OutputFormat.docker in request.formats:
        first = variants[0]
        files[out / ".dockerignore"] = render_dockerignore(first.plan).encode()
        work_dir = os.path.relpath(request.env_file.resolve().parent, out.resolve())
        compose = render_compose([v.plan for v in variants], name=first.resolution.spec.name,
                                 work_dir=work_dir)
        files[out / "compose.yaml"] = compose.encode()
    return files


def convert(request: ConvertRequest, echo: Echo = lambda _line: None) -> ConvertResult:
    from conda2docker.context import populate
    from conda2docker.outputs import differing, write_files

    _validate(request)
    variants, notes = solve_variants(request)
    first = variants[0].resolution
    for change in (*first.spec.changes, *first.changes):
        echo(f"note: {change.subject}: {change.reason}")
    notes += [n for v in variants for n in v.plan.notes]
    for note in notes:
        echo(f"note: {note}")
    for variant in variants:
        echo(f"audit ({variant.name}): {_summary(variant.findings)}; "
             f"see {request.output / AUDIT_NAMES[variant.name]}")
    files = render_files(request, variants)
    names = tuple(v.name for v in variants)
    if request.check:
        return ConvertResult(first, differing=tuple(differing(files)), variants=names, notes=tuple(notes))
    report = write_files(files, force=request.force)
    from conda2docker.resolve.pypi import pip_options_args

    index_args = pip_options_args(first.spec.pip_options)
    for variant in variants:
        vendored = populate(variant.plan, variant.resolution.lock, request.output,
                            rattler_version=plan_rattler_version(), index_args=index_args)
        if vendored.vendored_files:
            echo(f"{variant.name}: vendored {vendored.vendored_files} files "
                 f"({vendored.vendored_bytes / 1e6:.1f} MB), hashes checked")
    return ConvertResult(first, written=report.written, unchanged=report.unchanged, variants=names,
                         notes=tuple(notes))


def _summary(findings: Sequence[Finding]) -> str:
    if not findings:
        return "no findings"
    counts: dict[str, int] = {}
    for finding in findings:
        counts[finding.severity.value] = counts.get(finding.severity.value, 0) + 1
    return ", ".join(f"{counts[level]} {level}" for level in ("error", "warning", "info")
                     if level in counts)


def plan_rattler_version() -> str:
    """The py-rattler version the in-image installer uses: the one running here."""
    from importlib.metadata import version

    return version("py-rattler")


__all__ = ["ConvertRequest", "ConvertResult", "convert", "lock_bytes", "render_files", "solve_variants"]
