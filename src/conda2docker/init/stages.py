"""The parts ``init`` adds to the lock's parts before the plan is assembled (data in, data out).

* a ``repo`` part: the repository's files, without conda2docker's support files, with
  ``postBuild``/``start`` made executable; the runtime copies them (as the non-root user)
  last, runs ``postBuild`` once as that user after ``WORKDIR`` (an argv: the script is a file
  in the image, never pasted into the Dockerfile) and has ``start`` as the exec-form
  ``ENTRYPOINT`` wrapping ``CMD``;
* a ``project`` part: the repository's own packages built into wheels after every
  dependency is installed, then installed into a prefix of their own that the runtime copies
  over the environment, so that a change to the code rebuilds only this stage and one small
  layer of the runtime;
* the lock's parts relocated under ``--output`` when it is not the repository root.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from conda2docker import __version__, image
from conda2docker.image import (
    PIP_CACHE,
    PIP_PREFIX,
    PROJECT_PREFIX,
    SOURCES_DIR,
    STAGING,
    SUPPORT_DIR,
    VENDOR_DIR,
)
from conda2docker.init.plan import InitPlan
from conda2docker.model import EnvSpec, Lock
from conda2docker.plan.instructions import (
    AddArchive,
    Arg,
    Copy,
    Env,
    Instruction,
    Run,
    Shell,
)
from conda2docker.plan.make import assemble
from conda2docker.plan.types import DEFAULT_CUDA_ARCH_LIST, BuildPlan, Part, PlanOptions, Stage

REPO_STAGING = f"{STAGING}/repo"


@dataclass(frozen=True, slots=True)
class ImageOptions:
    """How the init plan meets the build plan: where support files are, the runtime user."""

    support: Path = Path()
    """The directory (relative to the repository) holding the lock, conda2docker/ and vendor/."""
    uid: int = image.UID
    gid: int = image.GID
    build_image: str = image.BUILD_IMAGE


def _posix(path: Path) -> str:
    return PurePosixPath(path).as_posix()


def relocate(parts: Sequence[Part], support: Path) -> list[Part]:
    """The parts with their context paths (``conda2docker/…``, ``vendor/…``) under ``support``."""
    if support == Path():
        return list(parts)
    prefix = _posix(support) + "/"
    roots = (f"{SUPPORT_DIR}/", f"{VENDOR_DIR}/", f"{SOURCES_DIR}/")

    def move(instruction: Instruction) -> Instruction:
        if isinstance(instruction, Copy) and instruction.from_stage is None:
            return replace(instruction, sources=tuple(
                prefix + s if s.startswith(roots) else s for s in instruction.sources))
        if isinstance(instruction, AddArchive) and instruction.source.startswith(roots):
            return replace(instruction, source=prefix + instruction.source)
        return instruction

    return [replace(p, stage=replace(p.stage, instructions=tuple(move(i) for i in p.stage.instructions)))
            for p in parts]


def repo_part(init: InitPlan, options: ImageOptions, workdir: str) -> Part:
    support = PurePosixPath(_posix(options.support))
    strip = [f"{REPO_STAGING}/{support / SUPPORT_DIR}", f"{REPO_STAGING}/{support / VENDOR_DIR}"]
    commands: list[tuple[str, ...] | Shell] = [("rm", "-rf", *strip)]
    scripts = [p for p in (init.post_build, init.start) if p is not None]
    if scripts:
        commands.append(("chmod", "0755", *(f"{REPO_STAGING}/{_posix(p)}" for p in scripts)))
    steps: tuple[Instruction, ...] = (Copy((".",), REPO_STAGING), Run(tuple(commands)))
    purpose = "the repository's files (data excluded by .dockerignore), without the build's support files"
    stage = Stage("repo", "${RUNTIME_IMAGE}", purpose, steps)
    copy = Copy((f"{REPO_STAGING}/",), f"{workdir}/", from_stage=stage.name,
                chown=f"{options.uid}:{options.gid}")
    post_build = (Run(((f"{workdir}/{_posix(init.post_build)}",),)),) if init.post_build else ()
    start = (f"{workdir}/{_posix(init.start)}",) if init.start is not None else None
    return Part(stage, runtime_copies=(copy,), copy_rank=2, runtime_steps=post_build,
                entrypoint=start)


def project_part(init: InitPlan, plan_options: PlanOptions, options: ImageOptions, *,
                 has_pip: bool) -> Part:
    prefix = plan_options.prefix
    python = f"{prefix}/bin/python"
    steps: list[Instruction] = [Copy((prefix,), prefix, from_stage="env")]
    if has_pip:
        steps.append(Copy((f"{PIP_PREFIX}/",), f"{prefix}/", from_stage="pip"))
    index: tuple[str, ...] = ()
    if plan_options.vendor:
        support = "" if options.support == Path() else _posix(options.support) + "/"
        steps.append(Copy((f"{support}{VENDOR_DIR}/pip",), f"{STAGING}/pip"))
        index = ("--no-index", "--find-links", f"{STAGING}/pip")
    if any(p.cuda for p in init.projects):
        steps.append(Env((("TORCH_CUDA_ARCH_LIST", DEFAULT_CUDA_ARCH_LIST), ("FORCE_CUDA", "1"),
                          ("CUDA_HOME", prefix))))
    for project in init.projects:
        source = f"{STAGING}/src/{project.name}"
        if project.is_root:
            steps.append(Copy((REPO_STAGING,), source, from_stage="repo"))
        else:
            steps.append(Copy((_posix(project.path),), source))
        isolation = ("--no-build-isolation",) if project.needs_environment else ()
        steps.append(Run(((python, "-m", "pip", "wheel", "--no-deps", *isolation, *index,
                           "--wheel-dir", f"{STAGING}/wheels", source),),
                         cache_mounts=(PIP_CACHE,)))
    install = " ".join((python, "-m", "pip", "install", "--no-deps", "--disable-pip-version-check", "--prefix",
                        PROJECT_PREFIX, "--no-warn-script-location", "--no-index",
                        f"{STAGING}/wheels/*.whl"))
    steps.append(Run((Shell(install), ("rm", "-rf", STAGING))))
    names = ", ".join(p.name for p in init.projects)
    purpose = (f"builds and installs the repository's own packages after their dependencies: {names}")
    stage = Stage("project", "${BUILD_IMAGE}", purpose, tuple(steps))
    copy = Copy((f"{PROJECT_PREFIX}/",), f"{prefix}/", from_stage=stage.name)
    return Part(stage, runtime_copies=(copy,), copy_rank=1,
                args=(Arg("BUILD_IMAGE", options.build_image),))


def header(init: InitPlan, plan: BuildPlan) -> tuple[str, ...]:
    """The plan's header, told from init's side (the renderer adds the build lines)."""
    lines = [
        f"Generated by conda2docker {__version__} `init` from {_posix(init.environment)} "
        f"({plan.platform}, {plan.variant.upper()} variant).",
        "This file is yours: edit it freely, or regenerate it with `conda2docker init --force`.",
        "The build context is the repository: run the commands below from its root.",
        "",
        "Stages:",
    ]
    width = max(len(s.name) for s in plan.stages)
    lines += [f"  {s.name.ljust(width)}  {s.purpose}" for s in plan.stages]
    return tuple(lines)


def init_parts(init: InitPlan, lock_parts: Sequence[Part], plan_options: PlanOptions,
               options: ImageOptions) -> list[Part]:
    """The lock's parts (relocated under the support directory), the repository and its packages."""
    parts = relocate(lock_parts, options.support)
    parts.append(repo_part(init, options, image.work_dir(plan_options.user_name)))
    if init.projects:
        has_pip = any(p.stage.name == "pip" for p in lock_parts)
        parts.append(project_part(init, plan_options, options, has_pip=has_pip))
    return parts


def extend_plan(spec: EnvSpec | None, lock: Lock, plan_options: PlanOptions, lock_parts: Sequence[Part],
                init: InitPlan, options: ImageOptions) -> BuildPlan:
    """The build plan with the repository, its packages and its scripts added."""
    plan = assemble(spec, lock, plan_options, init_parts(init, lock_parts, plan_options, options))
    return replace(plan, header=header(init, plan))
