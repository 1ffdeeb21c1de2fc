"""G4xx: CUDA packages, the driver they need, kernels to compile, CPU builds by mistake."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

from conda2docker.audit.context import AuditContext
from conda2docker.audit.registry import Rule, rule
from conda2docker.audit.rules._common import listing, requirement_label
from conda2docker.cuda import facts as cuda
from conda2docker.cuda import infer
from conda2docker.cuda.infer import CudaIntent
from conda2docker.errors import SourceLocation
from conda2docker.model import Finding, Severity
from conda2docker.names import canonical


def _intent(ctx: AuditContext) -> CudaIntent:
    """The lock's CUDA when there is a lock, else what the environment file asks for."""
    return ctx.cuda


def cuda_packages(ctx: AuditContext) -> tuple[str, ...]:
    """The packages that make this a GPU environment (lock first, else the spec)."""
    return tuple(sorted({s.text for s in _intent(ctx).signals}))


def cuda_versions(ctx: AuditContext) -> tuple[cuda.CudaVersion, ...]:
    """Every CUDA version the environment names, the deciding one first."""
    intent = _intent(ctx)
    found = {cuda.CudaVersion(s.version, s.text) for s in intent.signals
             if s.version and not s.major_only}
    ordered = sorted(found, key=lambda v: (v.version == intent.authoritative, v.version, v.source),
                     reverse=True)
    if not ordered and intent.version:
        ordered = [cuda.CudaVersion(intent.version, "; ".join(intent.reasons))]
    return tuple(ordered)


def cuda_present(ctx: AuditContext, rule: Rule) -> Iterator[Finding]:
    """CUDA packages only work with an NVIDIA GPU and driver on the host; the Dockerfile
    gets a GPU variant so the same environment also builds as a CPU image."""
    packages = cuda_packages(ctx)
    if packages:
        yield rule.finding("cuda", evidence=listing(packages), count=len(packages))


rule(
    "G401",
    "cuda-present",
    Severity.INFO,
    message="{count} CUDA package(s): a GPU variant of the image will be generated",
    fix="run the GPU image with --gpus all on a host with the NVIDIA container toolkit; "
    "the CPU image leaves the CUDA packages out where it can",
    example="""
channels: [pytorch, nvidia, conda-forge]
dependencies:
  - pytorch=2.1
  - pytorch-cuda=11.8
""",
)(cuda_present)


def cuda_driver(ctx: AuditContext, rule: Rule) -> Iterator[Finding]:
    """The container brings the CUDA runtime, the host brings the kernel driver: a driver
    older than the CUDA release fails at the first GPU call (``CUDA driver version is
    insufficient``)."""
    versions = cuda_versions(ctx)
    if not versions:
        return
    top = versions[0]
    evidence = [f"CUDA {v.text} from {v.source}" for v in versions]
    if len({v.version for v in versions}) > 1:
        evidence.append("several CUDA versions are named; the lock's cuda-version, else the "
                        "highest, decides")
    yield rule.finding(
        top.text,
        evidence=listing(evidence),
        driver=cuda.min_driver(top.version),
        compat=_minor_compatibility(top.version[0]),
    )


def _minor_compatibility(major: int) -> str:
    """The fix's clause on minor-version compatibility, which CUDA has from release 11 on."""
    driver = cuda.MINOR_COMPAT_DRIVER.get(major)
    if driver is None:
        return ""
    return f" (>= {driver} works through CUDA minor-version compatibility for most libraries)"


rule(
    "G402",
    "cuda-driver",
    Severity.WARNING,
    message="CUDA {subject} needs an NVIDIA driver >= {driver} on the host",
    fix="use GPU hosts with driver >= {driver}{compat}, or pin an older CUDA",
    example="""
dependencies:
  - cudatoolkit=11.8
""",
)(cuda_driver)


def _is_extension_name(name: str) -> bool:
    key = canonical(name)
    return key in cuda.CUDA_EXTENSIONS or key.endswith("-cuda") or key.startswith("cuda-ext")


def _is_wheel_url(url: str | None) -> bool:
    return urlsplit(url or "").path.endswith(".whl")  # as pip tells a wheel: by its suffix


def cuda_extensions(ctx: AuditContext) -> dict[str, tuple[str, SourceLocation | None]]:
    """Packages that compile CUDA kernels when built: name → (evidence, location)."""
    found: dict[str, tuple[str, SourceLocation | None]] = {}
    for name, package in ctx.pip.items():
        if package.artifact != "wheel" and _is_extension_name(name):
            found[name] = (f"{package.artifact}: {package.url}", ctx.lock_location)
    options = ctx.spec.pip_options if ctx.spec else None
    may_find_wheels = bool(options and (options.find_links or options.extra_index_urls))
    for requirement in ctx.spec.pip if ctx.spec else ():
        label = requirement_label(requirement)
        key = canonical(label)
        if key in found:  # already reported: from the lock (with the file it installs) or a line above
            continue
        facts = ctx.local.get(str(requirement.path)) if requirement.path else None
        if requirement.kind == "path" and facts is not None and facts.cuda:
            hit = True
            why = "CUDA sources (.cu) or CUDAExtension in its source tree"
        elif requirement.kind == "registry":
            hit = _is_extension_name(label) and not may_find_wheels and not ctx.packages
            why = "PyPI has only its source distribution"
        else:  # a wheel named by its URL is installed as it is: nothing is compiled
            hit = _is_extension_name(label) and not _is_wheel_url(requirement.url)
            why = f"built from {requirement.kind}: {requirement.raw}"
        if hit:
            found[key] = (why, requirement.location)
    return found


def cuda_extension(ctx: AuditContext, rule: Rule) -> Iterator[Finding]:
    """PyTorch CUDA extensions (``torch.utils.cpp_extension``) compile ``.cu`` files with
    nvcc at install time; the runtime images have no nvcc, and without
    ``TORCH_CUDA_ARCH_LIST`` a build on a machine without a GPU targets no architecture."""
    for name, (why, location) in sorted(cuda_extensions(ctx).items()):
        yield rule.finding(name, evidence=(why,), location=location)


rule(
    "G403",
    "cuda-extension",
    Severity.WARNING,
    message="{subject} compiles CUDA kernels when it is built: the build needs nvcc",
    fix="the Dockerfile builds it in a CUDA devel stage (nvcc, no GPU needed) with "
    "TORCH_CUDA_ARCH_LIST set; set the architectures of your GPUs there",
    example="""
dependencies:
  - pip:
    - submodules/diff-gaussian-rasterization
    - flash-attn==2.5.6
""",
)(cuda_extension)


def cpu_build_selected(ctx: AuditContext, rule: Rule) -> Iterator[Finding]:
    """A solver without a ``__cuda`` virtual package, or an export from a machine without
    a GPU, silently picks CPU builds of pytorch or tensorflow: the GPU image then never
    uses the GPU."""
    gpu_meant = ctx.gpu or bool(cuda_packages(ctx))
    if not gpu_meant:
        return
    if ctx.packages:
        for package in sorted(ctx.packages, key=lambda p: (p.name, p.manager)):
            if cuda.is_cpu_build(package.name, package.build, package.version):
                yield rule.finding(package.name, evidence=(f"{package.version} {package.build or ''}".strip(),),
                                   location=ctx.lock_location, platform=ctx.platform)
        return
    for dep in ctx.spec.conda if ctx.spec else ():
        if cuda.is_cpu_build(dep.name, dep.build, dep.version):
            yield rule.finding(dep.name, evidence=(dep.raw or dep.matchspec,), location=dep.location)
    for requirement in ctx.spec.pip if ctx.spec else ():
        if requirement.name and cuda.is_cpu_build(requirement.name, None, requirement.specifier):
            yield rule.finding(requirement.name, evidence=(requirement.raw,),
                               location=requirement.location)


rule(
    "G404",
    "cpu-build-selected",
    Severity.ERROR,
    message="{subject} is a CPU-only build, but the environment asks for CUDA",
    fix="request the GPU build: pytorch-cuda=<version> (pytorch channel), "
    "pytorch=*=cuda* (conda-forge), or a +cuXXX wheel; solve with a __cuda virtual package",
    example="""
channels: [pytorch, nvidia]
dependencies:
  - pytorch=2.1=py3.10_cpu_0
  - pytorch-cuda=11.8
""",
)(cpu_build_selected)


def cuda_inferred(ctx: AuditContext, rule: Rule) -> Iterator[Finding]:
    """Which CUDA an environment means is spread over many forms (pins, metapackages such
    as ``cuda100``, build strings, ``+cu121`` wheels, index URLs); the finding says which
    one conda2docker read, so a wrong guess is seen before an image is built."""
    if ctx.spec is None:
        return
    intent = ctx.spec_cuda
    version = intent.version_text
    if intent.wants_gpu and version:
        first = next((s for s in intent.signals if s.version), intent.signals[0])
        yield rule.finding(version, evidence=tuple(s.reason for s in intent.signals),
                           location=first.location)


rule(
    "G405",
    "cuda-inferred",
    Severity.INFO,
    message="a GPU environment for CUDA {subject}",
    fix="the GPU variant is solved with __cuda={subject} and its images follow the CUDA its lock "
    "holds; pass --cuda to choose another",
    example="""
dependencies:
  - pip:
    - --extra-index-url https://download.pytorch.org/whl/cu121
    - torch==2.3.1+cu121
""",
)(cuda_inferred)


def cuda_unpinned(ctx: AuditContext, rule: Rule) -> Iterator[Finding]:
    """Without a CUDA version the solver picks one (or, without ``__cuda``, silently a CPU
    build): the image's CUDA then depends on the day it is built, not on the file."""
    if ctx.spec is None:
        return
    intent = ctx.spec_cuda
    if intent.wants_gpu and intent.version is None:
        first = intent.signals[0]
        yield rule.finding(first.text, evidence=intent.reasons, location=first.location,
                           default=infer.DEFAULT_CUDA, how=intent.fix())


rule(
    "G406",
    "cuda-unpinned",
    Severity.WARNING,
    message="{subject} means a GPU build, but no CUDA version is named: the GPU variant is "
    "solved for CUDA {default}",
    fix="{how}",
    example="""
channels: [pytorch, nvidia, conda-forge]
dependencies:
  - pytorch=2.1
""",
)(cuda_unpinned)


def cuda_image(ctx: AuditContext, rule: Rule) -> Iterator[Finding]:
    """The ``cuda-ext`` stage builds on NVIDIA's devel image of the lock's CUDA; a version
    NVIDIA never published (or removed) has no such tag, and a made-up tag fails the build."""
    intent = _intent(ctx)
    if not intent.wants_gpu or intent.version_text is None or not cuda_extensions(ctx):
        return
    from conda2docker.cuda import images  # the tag table: only when the audit asks of it

    choice = images.choose_image(intent.version_text, "devel")
    if not choice.exact:
        yield rule.finding(intent.version_text, evidence=(choice.image, images.table_source()),
                           reason=choice.reason or "")


rule(
    "G407",
    "cuda-image",
    Severity.WARNING,
    message="no nvidia/cuda image is published for CUDA {subject}: {reason}",
    fix="pin a CUDA that has a published image (cuda-version=…), or name an image with "
    "--cuda-devel-image",
    example="""
dependencies:
  - cuda-version=12.7
  - pip:
    - flash-attn==2.5.6
""",
)(cuda_image)
