"""Stages that compile: ``wheels`` (sdists, git and local sources) and ``cuda-ext`` (nvcc).

Requirement files are split by what pip can check: sdists carry ``--hash`` and are built
with ``--require-hashes``; git and local sources have no hash to check and go in a second
file (pip refuses to mix them with hashed lines).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from conda2docker.credentials import placeholders, userinfo, with_userinfo
from conda2docker.cuda.infer import DEFAULT_CUDA
from conda2docker.image import (
    CUDA_EXT_PREFIX,
    PIP_CACHE,
    PIP_PREFIX,
    SOURCES_DIR,
    STAGING,
    VENDOR_DIR,
)
from conda2docker.image import CUDA_HOME as CUDA_HOME_IMAGE
from conda2docker.model import Lock, LockedPackage
from conda2docker.names import canonical
from conda2docker.plan.apt import apt_install_missing, require_commands
from conda2docker.plan.gpu import cuda_devel_image
from conda2docker.plan.instructions import (
    Arg,
    Copy,
    Env,
    Instruction,
    Run,
    Shell,
    check_pip_name,
    check_requirement_url,
    check_sha256,
)
from conda2docker.plan.types import ContextFile, Part, PlanOptions, Stage, VendorItem


def vendored_pip_path(package: LockedPackage) -> str:
    return f"{VENDOR_DIR}/pip/{package.file_name}"


def authed_source(url: str, options: PlanOptions) -> str:
    """``url`` with the ``${USER}:${PASSWORD}@`` of the index on its host, for pip in the
    build to expand from build args (pip expands ``${NAME}`` in requirement files)."""
    if userinfo(url):
        return url
    host = urlsplit(url).netloc
    auth = next((a for h, a in options.index_auth if h == host), None)
    return with_userinfo(url, auth) if auth else url


def credential_args(lines: Sequence[str]) -> tuple[Arg, ...]:
    """``ARG NAME`` for every ``${NAME}`` in the requirement lines' credentials."""
    names = dict.fromkeys(n for line in lines for n in placeholders(line.split(" @ ", 1)[-1]))
    return tuple(Arg(name) for name in names)


CREDENTIALS_NOTE = (
    "the {stage} stage reads index credentials from build args {names}: pass them with "
    "`conda2docker build --build-arg {first}` (taken from your environment) or `docker build "
    "--build-arg {first}`; build args are visible in that stage's build history (not in the "
    "runtime image, which copies only files from it), so build where that history stays private"
)


def requirement_line(package: LockedPackage, source: str) -> str:
    """``name @ source [--hash=sha256:…]``, with every part validated for a requirements file."""
    check_pip_name(package.name)
    check_requirement_url(source)
    if package.sha256:
        return f"{package.name} @ {source} --hash=sha256:{check_sha256(package.sha256)}"
    return f"{package.name} @ {source}"


@dataclass(slots=True)
class _Sources:
    """Requirement lines and context copies for packages built from source."""

    hashed: list[str] = field(default_factory=list)
    unhashed: list[str] = field(default_factory=list)
    local_dirs: list[str] = field(default_factory=list)
    vendor: list[VendorItem] = field(default_factory=list)


def _collect(packages: Sequence[LockedPackage], options: PlanOptions) -> _Sources:
    found = _Sources()
    for package in sorted(packages, key=lambda p: p.name.lower()):
        check_pip_name(package.name)
        if package.artifact == "path":
            local = f"{SOURCES_DIR}/{package.name}"
            found.local_dirs.append(local)
            found.unhashed.append(f"{package.name} @ file://{STAGING}/{local}")
        elif package.artifact == "sdist":
            source = package.url
            if options.vendor:
                dest = vendored_pip_path(package)
                found.vendor.append(VendorItem(package.url, dest, None, package.sha256))
                source = f"file://{STAGING}/{dest.removeprefix(VENDOR_DIR + '/')}"
            else:
                source = authed_source(source, options)
            line = requirement_line(package, source)
            (found.hashed if package.sha256 else found.unhashed).append(line)
        else:  # vcs
            source = package.url
            if options.vendor:
                dest = f"{VENDOR_DIR}/src/{package.name}.tar.gz"
                found.vendor.append(VendorItem(package.url, dest, None, None))
                source = f"file://{STAGING}/{dest.removeprefix(VENDOR_DIR + '/')}"
            found.unhashed.append(f"{package.name} @ {check_requirement_url(source)}")
    return found


def _requirement_steps(
    found: _Sources, options: PlanOptions, stem: str, pip_wheel: Sequence[str],
) -> tuple[list[Instruction], list[tuple[str, ...]], list[ContextFile]]:
    """COPY steps for the requirement files and sources, one ``pip wheel`` per file, and the
    requirement files."""
    steps: list[Instruction] = []
    commands: list[tuple[str, ...]] = []
    context: list[ContextFile] = []
    for suffix, lines, extra in (("", found.hashed, ("--require-hashes",)), ("-sources", found.unhashed, ())):
        if not lines:
            continue
        name = f"{stem}{suffix}.txt"
        context.append(ContextFile(f"{options.support_dir}/{name}", ("\n".join(lines) + "\n").encode()))
        steps.append(Copy((f"{options.support_dir}/{name}",), f"{STAGING}/"))
        commands.append((*pip_wheel, *extra, "-r", f"{STAGING}/{name}"))
    for local in found.local_dirs:
        steps.append(Copy((local,), f"{STAGING}/{local}"))
    if options.vendor:
        steps.append(Copy((f"{VENDOR_DIR}/pip",), f"{STAGING}/pip"))
        steps.append(Copy((f"{VENDOR_DIR}/src",), f"{STAGING}/src"))
    return steps, commands, context


def wheels_part(options: PlanOptions, packages: Sequence[LockedPackage]) -> Part:
    """Build sdist-only, git and local pip packages into wheels, with compilers and headers,
    or, when the audit found every one pure Python, on the ``env`` stage with no toolchain
    (the ``pip`` stage installs them; the runtime copies nothing from here)."""
    prefix = options.prefix
    compiles = needs_toolchain(packages, options)
    steps: list[Instruction] = []
    if compiles:
        steps.append(Copy((prefix,), prefix, from_stage="env"))
    if compiles and options.apt_build:
        steps.append(apt_install_missing(options.apt_build))
    pip_wheel = [f"{prefix}/bin/python", "-m", "pip", "wheel", "--no-deps", "--wheel-dir", f"{STAGING}/wheels"]
    if options.vendor:
        pip_wheel += ["--no-index", "--find-links", f"{STAGING}/pip"]
    found = _collect(packages, options)
    copies, commands, context = _requirement_steps(found, options, "build-requirements", pip_wheel)
    steps += copies
    secrets = credential_args([*found.hashed, *found.unhashed])
    steps += secrets
    steps.append(Run(tuple(commands), cache_mounts=(PIP_CACHE,)))
    names = ", ".join(sorted(p.name for p in packages))
    notes: tuple[str, ...] = ()
    if secrets:
        notes += (CREDENTIALS_NOTE.format(stage="wheels", names=", ".join(a.name for a in secrets),
                                          first=secrets[0].name),)
    if not compiles:
        purpose = f"builds wheels of pure-Python sources, without any compiler: {names}"
        stage = Stage("wheels", "env", purpose, tuple(steps), provides=(f"{STAGING}/wheels",))
        return Part(stage, context=tuple(context), vendor=tuple(found.vendor), notes=notes)
    purpose = f"builds wheels from sdists, git and local sources with compilers: {names}"
    stage = Stage("wheels", "${BUILD_IMAGE}", purpose, tuple(steps), provides=(f"{STAGING}/wheels",))
    return Part(stage, context=tuple(context), vendor=tuple(found.vendor), notes=notes,
                args=(Arg("BUILD_IMAGE", options.build_image),))


def needs_toolchain(packages: Sequence[LockedPackage], options: PlanOptions) -> bool:
    """Whether building ``packages`` needs a compile base: yes unless the audit found every
    one pure Python (an unknown source may hold a C extension)."""
    pure = set(options.pure_python_builds)
    return not packages or any(canonical(p.name) not in pure for p in packages)


def conda_nvcc(lock: Lock, platform: str) -> bool:
    """The environment brings nvcc itself (conda-forge ``cuda-nvcc``)."""
    return any(p.name == "cuda-nvcc" for p in lock.conda_packages(platform))


def cuda_ext_part(
    options: PlanOptions,
    packages: Sequence[LockedPackage],
    *,
    nvcc_from_conda: bool,
    has_pip_stage: bool,
) -> Part:
    """Compile CUDA extensions against the environment (torch etc. importable at build time:
    ``--no-build-isolation``) and install them into a layer of their own, which the runtime
    copies over the prefix. The GPU variant compiles with nvcc (the devel image's of the lock's
    CUDA, or conda's ``cuda-nvcc``); the CPU variant builds the same packages on the build
    image without nvcc (``FORCE_CUDA=0``), after the pip layer too."""
    prefix = options.prefix
    gpu = options.variant == "gpu"
    steps: list[Instruction] = [Arg("TORCH_CUDA_ARCH_LIST", options.cuda_arch_list)] if gpu else []
    steps += [Arg("MAX_JOBS", "2"), Copy((prefix,), prefix, from_stage="env")]
    if has_pip_stage:
        steps.append(Copy((f"{PIP_PREFIX}/",), f"{prefix}/", from_stage="pip"))
    if options.apt_cuda_build:
        steps.append(apt_install_missing(options.apt_cuda_build))
    if gpu:
        cuda_home = prefix if nvcc_from_conda else CUDA_HOME_IMAGE
        steps.append(Env((("CUDA_HOME", cuda_home), ("FORCE_CUDA", "1"))))
        if not nvcc_from_conda:  # judged by the tool, not by a package: any devel image will do
            steps.append(require_commands(
                ("nvcc",), "the CUDA_DEVEL_IMAGE of the cuda-ext stage",
                "use an nvidia/cuda devel image (--cuda-devel-image), or add cuda-nvcc to the "
                "environment"))
    else:
        steps.append(Env((("FORCE_CUDA", "0"),)))
    pip_wheel = [f"{prefix}/bin/python", "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                 "--wheel-dir", f"{STAGING}/cuda-wheels"]
    found = _collect(packages, options)
    copies, commands, context = _requirement_steps(found, options, "cuda-requirements", pip_wheel)
    steps += copies
    install = Shell(
        f"{prefix}/bin/python -m pip install --no-deps --no-index --disable-pip-version-check "
        f"--prefix {CUDA_EXT_PREFIX} --no-warn-script-location {STAGING}/cuda-wheels/*.whl"
    )
    steps.append(Run((*commands, install, ("rm", "-rf", STAGING)), cache_mounts=(PIP_CACHE,)))
    names = ", ".join(sorted(p.name for p in packages))
    notes: list[str] = []
    if not gpu:
        purpose = f"builds CUDA extensions without nvcc (CPU code paths) into a layer of their own: {names}"
        notes.append("the CPU variant builds the CUDA extensions without nvcc (FORCE_CUDA=0): "
                     "they provide their CPU code paths only")
    else:
        compiler = "conda's cuda-nvcc" if nvcc_from_conda else "nvcc of the CUDA devel image"
        purpose = f"compiles CUDA extensions with {compiler} into a layer of their own: {names}"
    if nvcc_from_conda or not gpu:
        base, arg = "${BUILD_IMAGE}", Arg("BUILD_IMAGE", options.build_image)
    else:
        version = options.cuda_version or DEFAULT_CUDA
        devel = options.cuda_devel_image or cuda_devel_image(version)
        base, arg = "${CUDA_DEVEL_IMAGE}", Arg("CUDA_DEVEL_IMAGE", devel)
        from conda2docker.cuda import images  # the tag table: GPU plans only

        choice = images.choose_image(version if "." in version else f"{version}.0", "devel")
        if options.cuda_devel_image is None and choice.reason:
            notes.append(f"cuda-ext stage: {choice.reason}")
        if options.runtime_image.startswith(f"{images.REPOSITORY}:"):
            notes.append(f"the GPU runtime is based on {options.runtime_image}: the lock has no CUDA "
                         "runtime (cuda-cudart/cudatoolkit) for what the cuda-ext stage links")
        if options.vendor:
            notes.append("the cuda-ext stage needs its CUDA devel base image; the rest builds offline")
    stage = Stage("cuda-ext", base, purpose, tuple(steps), provides=(CUDA_EXT_PREFIX,))
    copy = Copy((f"{CUDA_EXT_PREFIX}/",), f"{options.prefix}/", from_stage=stage.name)
    return Part(stage, runtime_copies=(copy,), context=tuple(context), vendor=tuple(found.vendor),
                notes=tuple(notes), args=(arg,))
