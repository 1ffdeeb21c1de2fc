"""plan: ``Lock`` + audit gaps + options → ``BuildPlan`` (stages of typed instructions; no text,
no I/O). Renderers (``conda2docker.render``) turn one plan into a Dockerfile, an Apptainer
definition and the files around them.

Stages, each only when needed:

* ``env``       installs exactly the locked conda packages into the prefix (micromamba or
                py-rattler), hashes verified, caches removed;
* ``wheels``    builds sdist-only, ``git+`` and local pip packages into wheels, with the
                compilers and headers the audit names;
* ``pip``       installs the locked pip packages (hash-checked) into a separate prefix layer,
                so a change to one pip package never reinstalls the conda world;
* ``cuda-ext``  (GPU variant) compiles CUDA extensions with nvcc, from a CUDA devel image or
                conda's ``cuda-nvcc``, into a layer of its own;
* ``runtime``   slim base, non-root user, only the prefix (+ the pip and cuda-ext layers).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from conda2docker.audit.gaps import BuildGaps
from conda2docker.image import (
    CUDA_EXT_PREFIX,
    PIP_PREFIX,
    SOURCES_DIR,
    STAGING,
    SUPPORT_DIR,
    SYSTEM_PATH,
    VENDOR_DIR,
    Variant,
)
from conda2docker.model import EnvSpec, Lock, LockedPackage
from conda2docker.names import canonical
from conda2docker.plan.builds import conda_nvcc, cuda_ext_stage, vendored_pip_path, wheels_stage
from conda2docker.plan.env import (
    env_stage,
    explicit_lock_name,
    vendored_package_path,
    with_local_urls,
)
from conda2docker.plan.gaps import apply_gaps
from conda2docker.plan.gpu import DEFAULT_CUDA, check_cuda_version, cuda_devel_image
from conda2docker.plan.header import plan_header
from conda2docker.plan.instructions import Arg, Comment, PlanError, check_image
from conda2docker.plan.pip import pip_stage
from conda2docker.plan.runtime import (
    ACTIVATION_VARIABLES,
    activation_environment,
    runtime_facts,
    runtime_stage,
)
from conda2docker.plan.types import (
    DEFAULT_BUILD_IMAGE,
    DEFAULT_MICROMAMBA_IMAGE,
    DEFAULT_PYTHON_IMAGE,
    DEFAULT_RATTLER_VERSION,
    DEFAULT_RUNTIME_IMAGE,
    BuildPlan,
    ContextFile,
    Installer,
    PlanOptions,
    RuntimeFacts,
    Stage,
    VendorItem,
)

_PREFIX = re.compile(r"^/[A-Za-z0-9_.\-/]+$")
_USER_NAME = re.compile(r"^[a-z_][a-z0-9_\-]{0,31}$")
_SUPPORT_DIR = re.compile(r"^[a-z0-9_\-]+(/[a-z0-9_\-]+)*$")


def lock_digest(lock_bytes: bytes) -> str:
    return hashlib.sha256(lock_bytes).hexdigest()


def _python_version(conda: Sequence[LockedPackage]) -> str | None:
    python = next((p for p in conda if p.name == "python"), None)
    return python.version if python else None


def _check_options(options: PlanOptions) -> None:
    for image in (options.runtime_image, options.micromamba_image, options.python_image,
                  options.build_image, *([options.cuda_devel_image] if options.cuda_devel_image else [])):
        check_image(image)
    if not _PREFIX.match(options.prefix) or ".." in options.prefix.split("/"):
        raise PlanError(f"invalid prefix {options.prefix!r}: expected an absolute plain path")
    if not _USER_NAME.match(options.user_name):
        raise PlanError(f"invalid user name {options.user_name!r}")
    if not _SUPPORT_DIR.match(options.support_dir):
        raise PlanError(f"invalid support directory {options.support_dir!r}")
    for number, what in ((options.uid, "UID"), (options.gid, "GID")):
        if not 1 <= number < 2**31:
            raise PlanError(f"invalid {what} {number}: expected 1 … 2147483647 (0 would be root)")
    if options.cuda_version:
        check_cuda_version(options.cuda_version)
    if not re.match(r"^[0-9.;+ A-Za-z]*$", options.cuda_arch_list):
        raise PlanError(f"invalid CUDA arch list {options.cuda_arch_list!r}")


def make_plan(
    spec: EnvSpec | None, lock: Lock, options: PlanOptions, gaps: BuildGaps | None = None
) -> BuildPlan:
    """Turn a lock (and the audit's gaps) into the stages that build its image."""
    options = apply_gaps(options, gaps)
    platform = options.platform
    if platform not in lock.platforms:
        raise PlanError(
            f"the lock has no packages for {platform} (it covers {', '.join(lock.platforms)})"
        )
    _check_options(options)
    conda = lock.conda_packages(platform)
    pip = lock.pip_packages(platform)
    python_version = _python_version(conda)
    if pip and python_version is None:
        raise PlanError("the lock has pip packages but no python conda package")
    if pip and not any(p.name == "pip" for p in conda):
        raise PlanError("the lock has pip packages but no pip conda package: add pip to the environment")

    registry = [p for p in pip if p.artifact == "wheel"]
    to_build = [p for p in pip if p.artifact in ("sdist", "vcs", "path")]
    extensions = set(options.cuda_extensions)
    gpu = options.variant == "gpu"
    cuda_builds = [p for p in to_build if gpu and canonical(p.name) in extensions]
    plain_builds = [p for p in to_build if p not in cuda_builds]
    nvcc_from_conda = conda_nvcc(lock, platform)

    context: list[ContextFile] = []
    vendor: list[VendorItem] = []
    notes: list[str] = []

    from conda2docker.lockfile import render_explicit

    explicit = render_explicit(with_local_urls(lock, platform) if options.vendor else lock, platform)
    lock_name = explicit_lock_name(platform)
    context.append(ContextFile(f"{options.support_dir}/{lock_name}", explicit.encode()))
    if options.vendor:
        vendor += [VendorItem(p.url, vendored_package_path(p), p.md5, p.sha256) for p in conda]

    stages: list[Stage] = [env_stage(options, lock_name, context)]
    if plain_builds:
        cpu_cuda = not gpu and any(canonical(p.name) in extensions for p in plain_builds)
        stages.append(wheels_stage(options, plain_builds, context, vendor, cpu_only_cuda=cpu_cuda))
        if cpu_cuda:
            notes.append("the CPU variant builds the CUDA extensions without nvcc (FORCE_CUDA=0): "
                         "they provide their CPU code paths only")
    if pip:
        stages.append(pip_stage(options, registry, bool(plain_builds), context, vendor))
    if cuda_builds:
        if options.vendor:
            notes.append("the cuda-ext stage needs its CUDA devel base image; the rest builds offline")
        stages.append(cuda_ext_stage(options, cuda_builds, context, vendor,
                                     nvcc_from_conda=nvcc_from_conda, has_pip_stage=bool(pip)))
    stages.append(runtime_stage(spec, lock, options, has_pip=bool(pip), has_cuda_ext=bool(cuda_builds)))

    return BuildPlan(
        variant=options.variant,
        platform=platform,
        installer=options.installer,
        vendored=options.vendor,
        header=plan_header(spec, options, stages),
        args=_global_args(options, plain_builds=bool(plain_builds), cuda_builds=bool(cuda_builds),
                          nvcc_from_conda=nvcc_from_conda),
        stages=tuple(stages),
        context_files=tuple(sorted(context, key=lambda f: f.path)),
        vendor_items=tuple(sorted(set(vendor), key=lambda v: v.dest)),
        needs_bootstrap=options.vendor and options.installer == "rattler",
        prefix=options.prefix,
        python_version=python_version,
        buildkit=options.buildkit,
        runtime=runtime_facts(lock, options),
        notes=tuple(notes),
    )


def _global_args(options: PlanOptions, *, plain_builds: bool, cuda_builds: bool,
                 nvcc_from_conda: bool) -> tuple[Arg, ...]:
    """The base images, as build args (override with ``--build-arg``; pin with ``@sha256:``)."""
    args: list[Arg] = [Arg("RUNTIME_IMAGE", options.runtime_image)]
    if options.installer == "micromamba":
        args.append(Arg("MICROMAMBA_IMAGE", options.micromamba_image))
    elif not options.vendor:
        args.append(Arg("PYTHON_IMAGE", options.python_image))
    if plain_builds or (cuda_builds and nvcc_from_conda):
        args.append(Arg("BUILD_IMAGE", options.build_image))
    if cuda_builds and not nvcc_from_conda:
        devel = options.cuda_devel_image or cuda_devel_image(options.cuda_version or DEFAULT_CUDA)
        args.append(Arg("CUDA_DEVEL_IMAGE", devel))
    return tuple(args)


__all__ = [
    "ACTIVATION_VARIABLES",
    "CUDA_EXT_PREFIX",
    "DEFAULT_BUILD_IMAGE",
    "DEFAULT_MICROMAMBA_IMAGE",
    "DEFAULT_PYTHON_IMAGE",
    "DEFAULT_RATTLER_VERSION",
    "DEFAULT_RUNTIME_IMAGE",
    "PIP_PREFIX",
    "SOURCES_DIR",
    "STAGING",
    "SUPPORT_DIR",
    "SYSTEM_PATH",
    "VENDOR_DIR",
    "BuildPlan",
    "Comment",
    "ContextFile",
    "Installer",
    "PlanError",
    "PlanOptions",
    "RuntimeFacts",
    "Stage",
    "Variant",
    "VendorItem",
    "activation_environment",
    "explicit_lock_name",
    "lock_digest",
    "make_plan",
    "vendored_package_path",
    "vendored_pip_path",
]
