"""Making a plan from parts: check the options, build one part per needed stage, assemble.

:func:`make_plan` is the whole of it for ``convert``; ``init`` calls the three steps itself so
it can add its own parts (the repository, its packages) before the runtime is assembled.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from conda2docker.credentials import index_auth, literal_credentials, redact
from conda2docker.cuda.infer import DEFAULT_CUDA, has_cuda_runtime
from conda2docker.model import EnvSpec, Lock, LockedPackage
from conda2docker.names import canonical
from conda2docker.plan.env import env_part
from conda2docker.plan.gaps import apply_gaps
from conda2docker.plan.gpu import check_cuda_version, cuda_runtime_image
from conda2docker.plan.header import pin_lines, plan_header
from conda2docker.plan.instructions import Arg, PlanError, check_image
from conda2docker.plan.runtime import runtime_facts, runtime_stage
from conda2docker.plan.types import DEFAULT_RUNTIME_IMAGE, BuildPlan, Part, PlanOptions

if TYPE_CHECKING:
    from conda2docker.audit.gaps import BuildGaps

_PREFIX = re.compile(r"^/[A-Za-z0-9_.\-/]+\Z")
_USER_NAME = re.compile(r"^[a-z_][a-z0-9_\-]{0,31}\Z")
_SUPPORT_DIR = re.compile(r"^[a-z0-9_\-]+(/[a-z0-9_\-]+)*\Z")


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
        raise PlanError(f"invalid prefix {options.prefix!r}: expected an absolute plain path",
                        fix="use an absolute path of letters, digits and '_.-/' such as /opt/env")
    if not _USER_NAME.match(options.user_name):
        raise PlanError(f"invalid user name {options.user_name!r}",
                        fix="use a lowercase login name of at most 32 characters, such as app")
    if not _SUPPORT_DIR.match(options.support_dir):
        raise PlanError(f"invalid support directory {options.support_dir!r}",
                        fix="use a relative path of lowercase letters, digits, '_' and '-'")
    for number, what in ((options.uid, "UID"), (options.gid, "GID")):
        if not 1 <= number < 2**31:
            raise PlanError(f"invalid {what} {number}: expected 1 … 2147483647 (0 would be root)",
                            fix=f"pass --{what.lower()} with a number from 1 to 2147483647, e.g. 1000")
    if options.cuda_version:
        check_cuda_version(options.cuda_version)
    if not re.match(r"^[0-9.;+ A-Za-z]*\Z", options.cuda_arch_list):
        raise PlanError(f"invalid CUDA arch list {options.cuda_arch_list!r}",
                        fix="list architectures such as '7.5;8.0;8.6+PTX' (digits, '.', ';', '+', spaces)")


def checked_options(lock: Lock, options: PlanOptions, gaps: BuildGaps | None = None) -> PlanOptions:
    """``options`` with the audit's gaps applied, checked against each other and the lock."""
    options = apply_gaps(options, gaps)
    platform = options.platform
    if platform not in lock.platforms:
        raise PlanError(
            f"the lock has no packages for {platform} (it covers {', '.join(lock.platforms)})",
            fix=f"pass --platform {lock.platforms[0]}, or lock again with --platform {platform}"
            if lock.platforms else f"lock again with --platform {platform}",
        )
    _check_options(options)
    _check_platforms(lock, options)
    conda = lock.conda_packages(platform)
    pip = lock.pip_packages(platform)
    if pip and _python_version(conda) is None:
        raise PlanError("the lock has pip packages but no python conda package",
                        fix="add python (and pip) to the environment's conda dependencies, then "
                        "lock again")
    if pip and not any(p.name == "pip" for p in conda):
        raise PlanError("the lock has pip packages but no pip conda package",
                        fix="add pip to the environment's conda dependencies, then lock again")
    return _gpu_runtime(lock, options)


def _check_platforms(lock: Lock, options: PlanOptions) -> None:
    """Several platforms share one Dockerfile: each is an image platform the lock covers, and
    everything but the conda packages and the wheels (which the env and pip stages pick by
    architecture) is the same on each: the pip packages built from source."""
    if not options.multiarch:
        return
    from conda2docker.platforms import check_target

    if options.platform not in options.platforms or len(set(options.platforms)) != len(options.platforms):
        raise PlanError(f"platform {options.platform} is not one of {', '.join(options.platforms)}")
    for platform in options.platforms:
        check_target(platform)
        if platform not in lock.platforms:
            raise PlanError(f"the lock has no packages for {platform} (it covers {', '.join(lock.platforms)})")

    def built(platform: str) -> set[tuple[str, str, str]]:
        return {(p.name, p.url, p.sha256 or "") for p in lock.pip_packages(platform)
                if p.artifact != "wheel"}

    first = options.platforms[0]
    for other in options.platforms[1:]:
        differ = sorted({name for name, _, _ in built(first) ^ built(other)})
        if differ:
            raise PlanError(
                f"the pip packages built from source differ between {first} and {other} "
                f"({', '.join(differ[:5])}); one Dockerfile picks only the conda lock and the "
                "wheels by architecture", fix="convert each --platform into its own output directory")


def _gpu_runtime(lock: Lock, options: PlanOptions) -> PlanOptions:
    """What the GPU variant's cuda-ext stage links (libcudart) must be in the runtime: from the
    lock, else from NVIDIA's runtime image of the lock's CUDA (unless a runtime image was named)."""
    if options.variant != "gpu" or not _cuda_builds(lock, options):
        return options
    from conda2docker.plan.builds import conda_nvcc

    if (conda_nvcc(lock, options.platform)
            or has_cuda_runtime(lock, options.platform) or options.runtime_image != DEFAULT_RUNTIME_IMAGE):
        return options
    return replace(options, runtime_image=cuda_runtime_image(options.cuda_version or DEFAULT_CUDA))


def _cuda_builds(lock: Lock, options: PlanOptions) -> list[LockedPackage]:
    """The pip packages built from source that compile CUDA kernels (both variants build them
    in the cuda-ext stage: they import torch while they build)."""
    extensions = set(options.cuda_extensions)
    return [p for p in lock.pip_packages(options.platform)
            if p.artifact in ("sdist", "vcs", "path") and canonical(p.name) in extensions]


def lock_parts(lock: Lock, options: PlanOptions) -> list[Part]:
    """One part per stage the lock needs: ``env``, then ``wheels``, ``pip``, ``cuda-ext``."""
    platform = options.platform
    pip = lock.pip_packages(platform)
    to_build = [p for p in pip if p.artifact in ("sdist", "vcs", "path")]
    cuda_builds = _cuda_builds(lock, options)
    plain_builds = [p for p in to_build if p not in cuda_builds]
    registry = [p for p in pip if p.artifact == "wheel"]
    per_platform = {other: [p for p in lock.pip_packages(other) if p.artifact == "wheel"]
                    for other in options.platforms} if options.multiarch else {}
    # a GPU lock's only pip package may be a CUDA extension
    pip_layer = bool(registry or plain_builds or any(per_platform.values()))

    parts = [env_part(lock, options)]
    if plain_builds:
        from conda2docker.plan.builds import wheels_part  # the build stages load when needed

        parts.append(wheels_part(options, plain_builds))
    if pip_layer:
        from conda2docker.plan.pip import pip_part

        parts.append(pip_part(options, registry, bool(plain_builds), per_platform or None))
    if cuda_builds:
        from conda2docker.plan.builds import conda_nvcc, cuda_ext_part

        parts.append(cuda_ext_part(options, cuda_builds, nvcc_from_conda=conda_nvcc(lock, platform),
                                   has_pip_stage=pip_layer))
    return parts


def assemble(spec: EnvSpec | None, lock: Lock, options: PlanOptions, parts: Sequence[Part]) -> BuildPlan:
    """The plan of ``parts`` and the runtime stage built from them."""
    stages = (*(p.stage for p in parts), runtime_stage(spec, lock, options, parts))
    args: dict[str, Arg] = {"RUNTIME_IMAGE": Arg("RUNTIME_IMAGE", options.runtime_image)}
    for part in parts:
        for arg in part.args:
            args.setdefault(arg.name, arg)
    return BuildPlan(
        variant=options.variant,
        platform=options.platform,
        installer=options.installer,
        vendored=options.vendor,
        header=(*plan_header(spec, options, stages), *pin_lines(tuple(args.values()))),
        args=tuple(args.values()),
        stages=stages,
        context_files=tuple(sorted((f for p in parts for f in p.context), key=lambda f: f.path)),
        vendor_items=tuple(sorted({v for p in parts for v in p.vendor}, key=lambda v: v.dest)),
        needs_bootstrap=options.vendor and options.installer == "rattler",
        prefix=options.prefix,
        python_version=_python_version(lock.conda_packages(options.platform)),
        buildkit=options.buildkit,
        runtime=runtime_facts(lock, options),
        notes=tuple(n for p in parts for n in p.notes),
        platforms=options.platforms if options.multiarch else (),
    )


def make_plan(
    spec: EnvSpec | None, lock: Lock, options: PlanOptions, gaps: BuildGaps | None = None
) -> BuildPlan:
    """Turn a lock (and the audit's gaps) into the stages that build its image."""
    options = checked_options(lock, options, gaps)
    urls = [spec.pip_options.index_url, *spec.pip_options.extra_index_urls,
            *spec.pip_options.find_links] if spec is not None else []
    if not options.index_auth:
        options = replace(options, index_auth=index_auth(urls))
    plan = assemble(spec, lock, options, lock_parts(lock, options))
    written = [redact(u) for u in urls if u and literal_credentials(u)]
    if written and lock.pip_packages(options.platform):
        note = (f"credentials written out in {', '.join(written)} are not carried into the build "
                "(the lock and the generated files never hold them): write them as "
                "${USER}:${PASSWORD}@ so the build can take them as build args")
        plan = replace(plan, notes=(*plan.notes, note))
    return plan


__all__ = ["assemble", "checked_options", "lock_digest", "lock_parts", "make_plan"]
