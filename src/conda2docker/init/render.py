"""The files ``init`` writes, from the init plan, the resolved spec and its lock (pure)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from conda2docker.image import LOCK_NAMES
from conda2docker.init.compose import render_compose
from conda2docker.init.dockerignore import render_dockerignore
from conda2docker.init.plan import InitPlan
from conda2docker.init.stages import ImageOptions, extend_plan
from conda2docker.model import EnvSpec, Lock
from conda2docker.plan import BuildPlan, PlanOptions
from conda2docker.plan.make import assemble, checked_options, lock_parts


@dataclass(frozen=True, slots=True)
class Rendered:
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


def render_init(
    init: InitPlan, spec: EnvSpec, lock: Lock, lock_text: bytes, base: PlanOptions,
    image: ImageOptions, *, large: list[str], threshold: int,
) -> Rendered:
    """Every file, keyed by its path relative to the repository root."""
    from conda2docker.render.dockerfile import render_dockerfile

    options = checked_options(lock, plan_options(init, base))
    parts = lock_parts(lock, options)
    plan = assemble(spec, lock, options, parts)
    extended = extend_plan(spec, lock, options, parts, init, image)
    files: dict[Path, bytes] = {
        Path(init.dockerfile): render_dockerfile(extended).encode(),
        Path("compose.yaml"): render_compose(init, extended).encode(),
        Path(".dockerignore"): render_dockerignore(large, threshold).encode(),
        image.support / LOCK_NAMES["cpu"]: lock_text,
    }
    for context_file in plan.context_files:
        files[image.support / context_file.path] = context_file.content
    if init.inferred is not None:
        files[init.environment] = init.inferred.text.encode()
    return Rendered(files, plan, extended)
