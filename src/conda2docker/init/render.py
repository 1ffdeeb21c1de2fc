"""The files ``init`` writes, from the init plan, the resolved spec and its lock (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from conda2docker.cuda.infer import DEFAULT_CUDA, has_cuda_runtime
from conda2docker.image import LOCK_NAMES, SUPPORT_DIR, VENDOR_DIR
from conda2docker.init.compose import render_compose
from conda2docker.init.dockerignore import ContextRule, render_dockerignore
from conda2docker.init.plan import InitPlan
from conda2docker.init.services import Service
from conda2docker.init.stages import ImageOptions, extend_plan
from conda2docker.init.targets import Targets
from conda2docker.model import EnvSpec, Lock
from conda2docker.plan import BuildPlan, PlanOptions
from conda2docker.plan.builds import conda_nvcc
from conda2docker.plan.gpu import cuda_runtime_image
from conda2docker.plan.make import assemble, checked_options, lock_parts
from conda2docker.plan.types import DEFAULT_RUNTIME_IMAGE
from conda2docker.values import frozen


@frozen
class Rendered:
    """The files ``init`` writes, from its plan."""
    files: dict[Path, bytes]
    """Relative to the repository root."""
    plan: BuildPlan
    """The plan as ``make_plan`` made it (its paths are relative to the support directory)."""
    extended: BuildPlan
    """The plan with the repository added, as the Dockerfile shows it."""


def project_free(lock: Lock, root: Path, init: InitPlan) -> Lock:
    """The lock without the repository's own packages: they are built from the checkout,
    and their absolute ``file://`` URLs would tie the lock to this machine."""
    own = {(root / p.path).resolve().as_uri() for p in init.projects}
    packages = tuple(p for p in lock.packages if not (p.artifact == "path" and p.url in own))
    return replace(lock, packages=packages)


def plan_options(init: InitPlan, base: PlanOptions) -> PlanOptions:
    return replace(
        base,
        apt_runtime=init.apt,
        variant=init.variant,
        cuda_version=init.cuda,
        source_label=init.environment.as_posix(),
    )


def project_cuda_runtime(init: InitPlan, lock: Lock, options: PlanOptions, *, nvcc: bool) -> PlanOptions:
    """As ``convert`` does for its ``cuda-ext`` stage: a GPU project stage that links the CUDA
    runtime (nvcc of the devel image) needs it in the runtime image. Unless the lock has its
    own CUDA runtime or nvcc, or a runtime image was named, the runtime is NVIDIA's image of the
    same CUDA."""
    if (options.variant != "gpu" or nvcc or not any(p.cuda for p in init.projects)
            or has_cuda_runtime(lock, options.platform)
            or options.runtime_image != DEFAULT_RUNTIME_IMAGE):
        return options
    return replace(options, runtime_image=cuda_runtime_image(options.cuda_version or init.cuda
                                                             or DEFAULT_CUDA))


def support_files(init: InitPlan, image: ImageOptions) -> tuple[str, ...]:
    """conda2docker's own files the context must hold even before git tracks them."""
    support = "" if image.support == Path() else image.support.as_posix() + "/"
    return (f"{support}{SUPPORT_DIR}", f"{support}{VENDOR_DIR}")


def render_init(
    init: InitPlan, spec: EnvSpec, lock: Lock, lock_text: bytes, base: PlanOptions,
    image: ImageOptions, *, context: ContextRule, targets: Targets | None = None,
    databases: Sequence[Service] = (),
) -> Rendered:
    """Every file, keyed by its path relative to the repository root."""
    from conda2docker.render.dockerfile import render_dockerfile

    targets = targets or Targets(Path(init.dockerfile), Path("compose.yaml"), Path(".dockerignore"))
    options = checked_options(lock, plan_options(init, base))
    nvcc = conda_nvcc(lock, options.platform)
    options = project_cuda_runtime(init, lock, options, nvcc=nvcc)
    parts = lock_parts(lock, options)
    plan = assemble(spec, lock, options, parts)
    extended = extend_plan(spec, lock, options, parts, init, replace(image, nvcc_from_conda=nvcc))
    dockerfile = targets.dockerfile.as_posix()
    files: dict[Path, bytes] = {
        targets.dockerfile: render_dockerfile(extended).encode(),
        targets.compose: render_compose(init, extended, dockerfile, databases,
                                        targets.compose.as_posix()).encode(),
        targets.dockerignore: render_dockerignore(
            replace(context, always=support_files(init, image))).encode(),
        image.support / LOCK_NAMES["cpu"]: lock_text,
    }
    for context_file in extended.context_files:  # the lock's and init's (relative to support)
        files[image.support / context_file.path] = context_file.content
    if init.inferred is not None:
        files[image.support / init.environment] = init.inferred.text.encode()
    return Rendered(files, plan, extended)
