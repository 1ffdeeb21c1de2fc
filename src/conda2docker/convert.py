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
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from conda2docker import image
from conda2docker.choices import (
    DEFAULT_GPU_MODE,
    DEFAULT_INSTALLER,
    DEFAULT_PRIORITY,
    DEFAULT_SOLVER,
    ActivationMode,
    Bootstrap,
    ChannelPriority,
    GpuMode,
    Installer,
    OutputFormat,
    Solver,
)
from conda2docker.errors import InputError, ResolveError, SourceLocation
from conda2docker.image import AUDIT_NAMES, DEFINITION_NAMES, DOCKERFILE_NAMES, LOCK_NAMES, Variant
from conda2docker.model import EnvSpec, Finding, Lock, PipOptions, Resolution
from conda2docker.values import frozen

if TYPE_CHECKING:
    from conda2docker.audit.gaps import BuildGaps
    from conda2docker.context import ContextOptions
    from conda2docker.plan import BuildPlan, PlanOptions
    from conda2docker.resolve import ResolveOptions

Echo = Callable[[str], None]


@frozen
class ConvertRequest:
    """Everything ``convert`` is asked: the input, the output directory and every option."""
    env_file: Path
    output: Path
    installer: Installer = DEFAULT_INSTALLER
    vendor: bool = False
    platforms: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    channel_alias: str | None = None
    default_channels: str = "conda-forge"
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
    apptainer_from_image: str | None = None
    """With ``apptainer``: reuse this built image (``Bootstrap: docker-daemon``), no rebuild."""
    activation: ActivationMode = "auto"
    """auto: with --vendor, measure the activation variables from the packages' scripts (in the
    env stage's container) when an engine with the base image answers; packages: must measure;
    table: the hand-kept table only."""
    check: bool = False
    force: bool = False
    allow_paths: tuple[Path, ...] = ()
    """Directories outside the environment file's own tree that local sources may come from."""
    categories: tuple[str, ...] = ()
    """Lock categories installed besides ``main`` (``--category``; conda-lock inputs)."""


@frozen
class SolvedVariant:
    """One solved variant: its resolution, the lock's bytes, the audit's findings, the plan."""

    name: Variant
    resolution: Resolution
    lock_bytes: bytes
    plan: BuildPlan
    findings: tuple[Finding, ...] = ()
    options: PlanOptions | None = None
    gaps: BuildGaps | None = None


@frozen
class ConvertResult:
    """What a ``convert`` made: the resolution, the files written or unchanged (or differing, with ``--check``), its variants and notes.
    """
    resolution: Resolution
    written: tuple[Path, ...] = ()
    unchanged: tuple[Path, ...] = ()
    differing: tuple[Path, ...] = ()
    variants: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    lock_digests: tuple[tuple[Variant, str], ...] = ()
    """Each variant's lock sha256 (as the image's ``io.conda2docker.lock.sha256`` label)."""
    platforms: tuple[str, ...] = ()
    """The platforms the Dockerfiles build for, the default first."""


def lock_bytes(lock: Lock) -> bytes:
    from conda2docker.lockfile import conda_lock_text

    return conda_lock_text(lock, LOCK_NAMES["cpu"]).encode("utf-8")


def _validate(request: ConvertRequest) -> None:
    if not request.formats:
        raise InputError("no --format", fix="use docker and/or apptainer")
    if request.activation == "packages" and not request.vendor:
        raise InputError("--activation packages measures the vendored packages' scripts",
                         fix="add --vendor (or use --activation auto)")
    if request.activation == "packages" and OutputFormat.docker not in request.formats:
        raise InputError("--activation packages measures in the env stage the Dockerfile builds",
                         fix="add --format docker (or use --activation auto)")
    if request.apptainer_from_image and OutputFormat.apptainer not in request.formats:
        raise InputError("--from-image writes an Apptainer definition",
                         fix="add --format apptainer (or leave out --from-image)")
    if request.apptainer_from_image:
        from conda2docker.plan.instructions import PlanError, check_image

        try:
            check_image(request.apptainer_from_image)
        except PlanError as error:
            raise InputError(f"--from-image: {error}", fix="name the image as docker images shows it") from None
    if image_platforms(request):
        from conda2docker.platforms import check_target

        for platform in request.platforms:
            check_target(platform)
        if OutputFormat.apptainer in request.formats:
            raise InputError("an Apptainer definition is built for one platform",
                             fix="convert --format apptainer with one --platform per output")
    if request.output.exists() and not request.output.is_dir():
        raise InputError(f"{request.output} exists and is not a directory", fix="choose another --output")
    from conda2docker.plan.instructions import check_image

    for reference in (request.runtime_image, request.build_image, request.micromamba_image,
                  request.python_image, *filter(None, [request.cuda_devel_image])):
        check_image(reference)


def _resolve_options(request: ConvertRequest, cuda: str | None, lock_path: Path) -> ResolveOptions:
    from conda2docker.pipeline import resolve_options

    return resolve_options(
        platforms=request.platforms, channels=request.channels,
        channel_alias=request.channel_alias, default_channels=request.default_channels,
        mirrors=request.mirrors, offline=request.offline,
        priority=request.priority, solver=request.solver, cuda=cuda, lock_path=lock_path,
    )


def _solve(spec: EnvSpec, options: ResolveOptions) -> Resolution:
    from conda2docker.resolve import require_complete, resolve

    return require_complete(resolve(spec, options))


def _audit(spec: EnvSpec, resolution: Resolution, platform: str, *,
           gpu: bool, offline: bool = False, others: Sequence[str] = ()) -> tuple[list[Finding], BuildGaps]:
    """The audit's findings (for ``platform`` and ``others``, the image's other platforms), and
    the gaps among them that become build stages.

    The lock's sdists are looked into (not run) so a pure-Python one gets no compiler.
    """
    from conda2docker.audit.gaps import plan_inputs
    from conda2docker.audit.local import scan_local_paths
    from conda2docker.audit.run import audit_targets
    from conda2docker.audit.sdists import SdistFacts, SdistScan

    local = scan_local_paths(spec)
    platforms = (platform, *(p for p in others if p != platform))
    found: dict[str, dict[str, SdistFacts]] = {p: {} for p in platforms}
    if any(pkg.artifact == "sdist" for p in platforms for pkg in resolution.lock.pip_packages(p)):
        from conda2docker.resolve.pypi import IndexClient  # the index client: 15 ms
        from conda2docker.sdist_check import inspect_locked

        client = IndexClient(offline=offline)
        found = {p: inspect_locked(resolution.lock, p, client) for p in platforms}
    scans = {p: SdistScan(facts) for p, facts in found.items()}
    findings = audit_targets(spec, resolution, platforms, gpu=gpu, local=local, sdists=scans)
    return findings, plan_inputs(findings, resolution.lock, platform, spec=spec, local=local,
                                 sdists=found[platform])


def local_channel_packages(lock: Lock, platform: str) -> list[str]:
    """The packages of ``platform`` whose files are local (``file://`` conda channels, local
    wheels and sdists): no ``docker build`` can fetch them, so they must be in the context.
    (Local source directories are always copied into ``sources/``.)"""
    conda = [p.name for p in lock.conda_packages(platform) if p.url.startswith("file:")]
    pip = [p.name for p in lock.pip_packages(platform)
           if p.url.startswith("file:") and p.artifact in ("wheel", "sdist")]
    return conda + pip


def _plan_options(request: ConvertRequest, variant: Variant, cuda: str | None, digest: str,
                  platform: str, source: str, *, vendor: bool) -> PlanOptions:
    from conda2docker.plan import PlanOptions

    return PlanOptions(
        installer=request.installer,
        vendor=vendor,
        variant=variant,
        platform=platform,
        platforms=image_platforms(request),
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
    local = local_channel_packages(lock, platform)
    options = _plan_options(request, name, cuda, lock_digest(serialized), platform, spec.source.name,
                            vendor=request.vendor or bool(local))
    if request.activation != "table":
        options = replace(options, activation=_measured_activation(request.output, options))
    findings, gaps = audited
    plan = make_plan(spec, lock, options, gaps)
    if options.multiarch:
        _check_one_dockerfile(spec, lock, options, gaps, plan)
    if local and not request.vendor:
        shown = ", ".join(local[:3]) + (f" and {len(local) - 3} more" if len(local) > 3 else "")
        plan = replace(plan, notes=(*plan.notes, (
            f"{name}: {shown} come from local file:// URLs (a local channel or local "
            "archives), which no docker build can reach: every package file is vendored into "
            "the context (hash-checked), as with --vendor")))
    return SolvedVariant(name, resolution, serialized, plan, tuple(findings), options, gaps)


def image_platforms(request: ConvertRequest) -> tuple[str, ...]:
    """Several ``--platform``: the platforms one Dockerfile builds for; else none (the
    Dockerfile of one platform, as before)."""
    chosen = tuple(dict.fromkeys(request.platforms))
    return chosen if len(chosen) > 1 else ()


def _check_one_dockerfile(spec: EnvSpec, lock: Lock, options: PlanOptions, gaps: BuildGaps | None,
                          plan: BuildPlan) -> None:
    """One Dockerfile serves every platform only if the plan made for each is the same (the
    runtime's Python, activation, entry point and support files follow the lock of one
    platform); the explicit locks are picked by architecture."""
    from conda2docker.plan import make_plan
    from conda2docker.render.dockerfile import render_dockerfile

    text = render_dockerfile(plan)
    for other in options.platforms:
        if other == options.platform:
            continue
        theirs = make_plan(spec, lock, replace(options, platform=other), gaps)
        other_text = render_dockerfile(theirs)
        if other_text == text and theirs.context_files == plan.context_files:
            continue
        pairs = zip(text.splitlines(), other_text.splitlines(), strict=False)
        first = next(((a.strip(), b.strip()) for a, b in pairs if a != b), None)
        shown = f": {first[0]!r} for {options.platform}, {first[1]!r} for {other}" if first else ""
        raise InputError(f"the locks of {options.platform} and {other} need different Dockerfiles{shown}",
                         fix="convert each --platform into its own output directory")


def _measured_activation(output: Path, options: PlanOptions) -> tuple[tuple[str, str], ...] | None:
    """The activation variables measured earlier for this very lock (``activation.env``)."""
    from conda2docker.image import ACTIVATION_FILE

    path = output / options.support_dir / ACTIVATION_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    from conda2docker.activation import read_activation_file

    return read_activation_file(text, options.lock_digest)


def solve_variants(request: ConvertRequest) -> tuple[list[SolvedVariant], list[str]]:
    """The CPU and/or GPU variants the request asks for, and notes for the user.

    GPU intent and the CUDA to solve for come from :func:`conda2docker.cuda.infer.from_spec`
    (``lock`` asks the same function); the CPU variant is solved from
    :func:`conda2docker.cuda.cpu.cpu_spec` (no CUDA pins, CPU builds preferred); the GPU
    variant's images follow the CUDA its lock contains.
    """
    from conda2docker.cuda.infer import from_lock, from_spec
    from conda2docker.cuda.infer import text as cuda_text
    from conda2docker.pipeline import read_spec
    from conda2docker.plan.gpu import check_cuda_version, image_cuda, wants_gpu
    from conda2docker.platforms import first_target

    # a lock input is read for the platform the Dockerfile installs (all image platforms for a
    # Dockerfile of several)
    spec = read_spec(request.env_file, first_target(request.platforms),
                     lock_platforms="targets" if image_platforms(request) else "target")
    if spec.lock is None and not spec.conda and not spec.pip:
        raise InputError("the environment lists no packages: the image would hold an empty "
                         "environment", fix="add the packages it needs under 'dependencies:'",
                         location=SourceLocation(spec.source))
    notes: list[str] = []
    spec = _chosen_categories(spec, request.categories, notes)
    from conda2docker.pipeline import platform_specs

    specs = platform_specs(request.env_file, image_platforms(request), spec)
    if specs:
        notes.append(f"selectors give {', '.join(specs)} other packages than {request.platforms[0]}: "
                     "each platform is locked from its own reading of the file, as conda-lock does")
    intent = from_spec(spec)
    solve_cuda = check_cuda_version(request.cuda) if request.cuda else intent.solve_version()
    variants: list[SolvedVariant] = []
    cpu: Resolution | None = None
    gpu_meant = wants_gpu(request.gpu, intent.reasons)
    if spec.lock is not None and intent.wants_gpu and gpu_meant:
        notes.append("no CPU variant: the lock given holds CUDA builds "
                     f"({'; '.join(intent.reasons[:3])}); lock the environment file for a CPU image")
    else:
        try:
            cpu_notes: list[str] = []

            def solve_cpu(one: EnvSpec, asked: ConvertRequest) -> Resolution:
                resolution, said = _solve_cpu(one, asked)
                cpu_notes.extend(n for n in said if n not in cpu_notes)
                return resolution

            cpu = _each_platform(solve_cpu, spec, request, specs)
            notes += cpu_notes
        except ResolveError as error:
            if not gpu_meant:
                raise
            notes.append(f"no CPU variant: the environment cannot be solved without a GPU ({error.message})")
    audit_gpu = False
    if cpu is not None:
        audited = _audit(cpu.spec, cpu, _target(cpu.lock, request), gpu=False,
                         offline=request.offline, others=image_platforms(request))
        audit_gpu = audited[1].needs_gpu
        variants.append(_variant(request, "cpu", cpu.spec, cpu, audited, None))
    reasons = intent.reasons + (("the audit found CUDA packages or CUDA extensions in the lock",)
                                if audit_gpu else ())
    if wants_gpu(request.gpu, reasons) or cpu is None:
        if not request.cuda and not intent.version and cpu is not None:
            # nothing names a version, but the CPU lock may hold CUDA packages that do
            in_cpu_lock = from_lock(cpu.lock, _target(cpu.lock, request)).exact_version
            solve_cuda = cuda_text(in_cpu_lock) if in_cpu_lock else solve_cuda
        defaulted = not request.cuda and not intent.version
        gpu = _each_platform(lambda one, asked: _solve_gpu(one, asked, solve_cuda, defaulted=defaulted),
                             spec, request, specs)
        target = _target(gpu.lock, request)
        cuda = image_cuda(gpu.lock, target, solve_cuda)
        audited = _audit(gpu.spec, gpu, target, gpu=True, offline=request.offline,
                         others=image_platforms(request))
        variants.append(_variant(request, "gpu", gpu.spec, gpu, audited, cuda))
        why = ("; ".join(reasons[:3]) + (f" (and {len(reasons) - 3} more)" if len(reasons) > 3 else "")
               if reasons else "--gpu yes")
        if cuda != solve_cuda:
            notes.append(f"GPU variant solved with __cuda={solve_cuda}; its lock holds CUDA "
                         f"{cuda}, which its images follow")
        notes.append(f"GPU variant for CUDA {cuda}: {why}")
    lock = variants[0].resolution.lock
    if image_platforms(request):
        notes.append(f"one Dockerfile for {', '.join(image_platforms(request))}: BuildKit's TARGETARCH "
                     f"picks the platform's explicit lock; the legacy builder installs "
                     f"{image_platforms(request)[0]} unless --build-arg TARGETARCH=…")
    elif len(lock.platforms) > 1:
        notes.append(f"the lock covers {', '.join(lock.platforms)}; the Dockerfile installs "
                     f"{_target(lock, request)}: convert with --platform P -o ANOTHER_DIR for an "
                     "image of another architecture, or with a --platform for each for one "
                     "Dockerfile of them all")
    return variants, notes


def _chosen_categories(spec: EnvSpec, categories: Sequence[str], notes: list[str]) -> EnvSpec:
    """A conda-lock input limited to ``main`` and ``categories``, as micromamba installs it;
    what was left out goes into ``notes``."""
    from conda2docker.lockfile import MAIN_CATEGORY, select_categories

    if spec.lock is None:
        if categories:
            raise InputError(
                "--category applies to a conda-lock.yml input; this input has no categories",
                fix="drop --category, or convert the conda-lock.yml made with conda-lock",
                location=SourceLocation(spec.source),
            )
        return spec
    chosen = (MAIN_CATEGORY, *categories)
    lock, left_out = select_categories(spec.lock, chosen)
    if left_out:
        listing = ", ".join(f"{n} package(s) of category {c}" for c, n in left_out.items())
        flags = " ".join(f"--category {c}" for c in left_out)
        notes.append(f"installs categories {', '.join(dict.fromkeys(chosen))} as micromamba does; "
                     f"left out {listing} (add them with {flags})")
    return replace(spec, lock=lock)


def _each_platform(solve: Callable[[EnvSpec, ConvertRequest], Resolution], spec: EnvSpec,
                   request: ConvertRequest, specs: dict[str, EnvSpec]) -> Resolution:
    """``solve`` for every image platform, each with its own reading of the file when the
    selectors differ (``specs``), merged into one lock; else one solve for all."""
    from conda2docker.pipeline import merge_platforms

    if not specs:
        return solve(spec, request)
    platforms = image_platforms(request)
    return merge_platforms([solve(specs.get(p, spec), replace(request, platforms=(p,))) for p in platforms],
                           platforms)


def _solve_gpu(spec: EnvSpec, request: ConvertRequest, cuda: str, *, defaulted: bool) -> Resolution:
    """The GPU variant, solved with ``__cuda=cuda``; a failure for want of another ``__cuda``
    says so (and which flag sets it) instead of blaming the pins."""
    from conda2docker.cuda.infer import cuda_solve_fix

    try:
        return _solve(spec, _resolve_options(request, cuda, request.output / LOCK_NAMES["gpu"]))
    except ResolveError as error:
        if "__cuda" not in error.message:
            raise
        why = "nothing in the environment names a CUDA version" if defaulted else "--cuda or the environment"
        raise ResolveError(error.message, fix=cuda_solve_fix(cuda, why), location=error.location) from error


def _solve_cpu(spec: EnvSpec, request: ConvertRequest) -> tuple[Resolution, list[str]]:
    """The CPU variant: without ``__cuda``, CUDA pins left out, CPU builds preferred; when the
    channels have no CPU build, solved without that preference and said so."""
    from conda2docker.cuda.infer import from_lock

    options = _resolve_options(request, None, request.output / LOCK_NAMES["cpu"])
    notes: list[str] = []
    if spec.lock is not None:  # a lock is its packages
        resolution = _solve(spec, options)
    else:
        from conda2docker.cuda.cpu import cpu_spec, relax_cpu_builds

        asked = cpu_spec(spec)
        notes += [f"{c.subject}: {c.reason}" for c in asked.changes]
        try:
            resolution = _solve(asked.spec, options)
        except ResolveError:
            if not asked.asked_cpu_builds:
                raise
            resolution = _solve(relax_cpu_builds(asked), options)
            notes.append(f"CPU variant: the channels have no CPU build of {', '.join(asked.asked_cpu_builds)}")
    locked = from_lock(resolution.lock, _target(resolution.lock, request))
    if locked.wants_gpu:
        notes.append("CPU variant: only CUDA builds exist for "
                     f"{', '.join(s.text for s in locked.signals[:5])}: the CPU image carries them")
    return resolution, notes


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
    from conda2docker.render.compose import render_compose, render_project_env
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
            from conda2docker.render.apptainer import render_apptainer, render_apptainer_from_image

            name = DEFINITION_NAMES["cpu" if only_gpu else variant.name]
            bootstrap = request.apptainer_bootstrap
            if request.apptainer_from_image and variant is variants[0]:
                text = render_apptainer_from_image(plan, request.apptainer_from_image)
            else:
                text = render_apptainer(plan, bootstrap)
            files[out / name] = text.encode()
        for context_file in plan.context_files:
            files[out / context_file.path] = context_file.content
    if OutputFormat.docker in request.formats:
        first = variants[0]
        files[out / ".dockerignore"] = render_dockerignore(first.plan).encode()
        work_dir = os.path.relpath(request.env_file.resolve().parent, out.resolve())
        compose = render_compose([v.plan for v in variants], name=first.resolution.spec.name,
                                 work_dir=work_dir)
        files[out / "compose.yaml"] = compose.encode()
        files[out / ".env"] = render_project_env([v.plan for v in variants],
                                                 first.resolution.spec.name).encode()
    return files


def context_options(request: ConvertRequest, pip_options: PipOptions) -> ContextOptions:
    """What the build context may copy and fetch: sources from the environment file's own
    tree (or ``--allow-path``), the network as ``--offline``/``--mirror`` allow, with the
    credentials of the input's own pip indexes."""
    from conda2docker.context import ContextOptions

    indexes = (pip_options.index_url, *pip_options.extra_index_urls)
    return ContextOptions(
        input_root=request.env_file.absolute().parent, allow_paths=request.allow_paths,
        force=request.force, offline=request.offline, channel_alias=request.channel_alias,
        mirrors=tuple(_parse_mirrors(request.mirrors)),
        index_urls=tuple(url for url in indexes if url),
    )


def _parse_mirrors(mirrors: Sequence[str]) -> list[tuple[str, str]]:
    from conda2docker.resolve.channels import parse_mirror

    return [parse_mirror(m) for m in mirrors]


def convert(request: ConvertRequest, echo: Echo = lambda _line: None) -> ConvertResult:
    from conda2docker.credentials import redact

    shown_echo = echo
    echo = lambda line: shown_echo(redact(line))  # noqa: E731 - notes never show a credential
    _validate(request)
    variants, notes = solve_variants(request)
    # loaded once there is something to write (a failed solve never loads them)
    from conda2docker.context import populate, preflight
    from conda2docker.outputs import differing, write_files

    first = variants[0].resolution
    for line in dict.fromkeys(f"note: {c.subject}: {c.reason}" for c in (*first.spec.changes, *first.changes)):
        echo(line)  # a change made for each platform of the lock is said once
    notes += [n for v in variants for n in v.plan.notes]
    for note in notes:
        echo(f"note: {note}")
    for variant in variants:
        echo(f"audit ({variant.name}): {_summary(variant.findings)}; "
             f"see {request.output / AUDIT_NAMES[variant.name]}")
    files = render_files(request, variants)
    names = tuple(v.name for v in variants)
    digests = tuple((v.name, v.options.lock_digest or "") for v in variants if v.options is not None)
    platforms = variants[0].plan.image_platforms
    if request.check:
        return ConvertResult(first, differing=tuple(differing(files, request.output)),
                             variants=names, notes=tuple(notes), lock_digests=digests,
                             platforms=platforms)
    trust = context_options(request, first.spec.pip_options)
    for variant in variants:
        preflight(variant.plan, variant.resolution.lock, trust)
    report = write_files(files, root=request.output, force=request.force)
    pip_options = first.spec.pip_options
    index_args: tuple[str, ...] = ()
    if pip_options.index_url or pip_options.extra_index_urls or pip_options.find_links:
        from conda2docker.resolve.pypi import pip_options_args  # the index client: 50 ms

        index_args = pip_options_args(pip_options)
    for variant in variants:
        vendored = populate(variant.plan, variant.resolution.lock, request.output,
                            rattler_version=plan_rattler_version(), index_args=index_args,
                            options=trust)
        if vendored.vendored_files:
            echo(f"{variant.name}: vendored {vendored.vendored_files} files "
                 f"({vendored.vendored_bytes / 1e6:.1f} MB), hashes checked")
    written = list(report.written)
    if request.vendor and request.activation != "table" and OutputFormat.docker in request.formats:
        measured = measure_activation(request, variants, echo)
        if measured != variants:
            again = {path: data for path, data in render_files(request, measured).items()
                     if files.get(path) != data}
            written += [p for p in write_files(again, root=request.output, force=True).written
                    if p not in written]
    return ConvertResult(first, written=tuple(written), unchanged=report.unchanged, variants=names,
                         notes=tuple(notes), lock_digests=digests, platforms=platforms)


def measure_activation(request: ConvertRequest, variants: Sequence[SolvedVariant],
                       echo: Echo) -> list[SolvedVariant]:
    """With the packages vendored: the activation variables of each variant measured from the
    packages' own activate.d scripts, evaluated in the env stage's container (never on the
    host), written to ``activation.env`` and put into the plan. Variants measured before (an
    ``activation.env`` for the same lock) are left as they are."""
    from conda2docker.activation import render_activation_file
    from conda2docker.engine.activation import engine_with_image, measure_in_env_stage
    from conda2docker.errors import EngineError
    from conda2docker.image import ACTIVATION_FILE, DOCKERFILE_NAMES, SYSTEM_PATH
    from conda2docker.plan import make_plan

    result: list[SolvedVariant] = []
    for variant in variants:
        options = variant.options
        env_stage = variant.plan.stage("env")
        if options is None or options.activation is not None or env_stage is None:
            result.append(variant)
            continue
        base = variant.plan.arg_default(env_stage.base[2:-1]) if env_stage.base.startswith("${") else env_stage.base
        client, why = engine_with_image(base or env_stage.base)
        if client is None:
            if request.activation == "packages":
                raise EngineError(f"cannot measure the activation scripts: {why}",
                                  fix="start an engine that has the base image, or use --activation table")
            echo(f"note: {variant.name}: activation variables from conda2docker's table ({why}); "
                 "`conda2docker verify` checks them against the packages' scripts")
            result.append(variant)
            continue
        try:
            activation = measure_in_env_stage(client, request.output, DOCKERFILE_NAMES[variant.name],
                                              options.prefix, SYSTEM_PATH)
        except EngineError as error:
            if request.activation == "packages":
                raise
            echo(f"note: {variant.name}: activation variables from conda2docker's table (measuring "
                 f"failed: {error.message}); `conda2docker verify` checks them")
            result.append(variant)
            continue
        finally:
            client.close()
        from conda2docker.outputs import write_files

        path = request.output / options.support_dir / ACTIVATION_FILE
        write_files({path: render_activation_file(activation, options.lock_digest or "").encode()},
                    root=request.output, force=True)
        names = ", ".join(name for name, _ in activation.set) or "none"
        echo(f"{variant.name}: activation measured from {len(activation.scripts)} activate.d script(s) "
             f"in the env stage: {names} (kept in {path})")
        measured = replace(options, activation=activation.set)
        plan = make_plan(variant.resolution.spec, variant.resolution.lock, measured, variant.gaps)
        result.append(replace(variant, plan=plan, options=measured))
    return result


def _summary(findings: Sequence[Finding]) -> str:
    if not findings:
        return "no findings"
    counts: dict[str, int] = {}
    for finding in findings:
        counts[finding.severity.value] = counts.get(finding.severity.value, 0) + 1
    return ", ".join(f"{counts[level]} {level}" for level in ("error", "warning", "info")
                     if level in counts)


def plan_rattler_version() -> str:
    """The py-rattler version the in-image installer uses: the one running here.

    Read from the loaded module, else from the name of its ``py_rattler-<version>.dist-info``
    directory (the installed-wheel layout); ``importlib.metadata`` (50 ms to import) only
    when neither says.
    """
    import sys

    loaded = getattr(sys.modules.get("rattler"), "__version__", None)
    if isinstance(loaded, str) and loaded:
        return loaded
    for entry in sys.path:
        found = sorted(Path(entry or ".").glob("py_rattler-*.dist-info"))
        if found:
            return found[0].name.removeprefix("py_rattler-").removesuffix(".dist-info")
    from importlib.metadata import version

    return version("py-rattler")


__all__ = ["ConvertRequest", "ConvertResult", "convert", "lock_bytes", "render_files", "solve_variants"]
