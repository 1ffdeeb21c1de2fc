"""Add what ``init`` needs to the build plan ``make_plan`` returned (data in, data out).

* a ``repo`` stage: the repository's files, without conda2docker's support files, with
  ``postBuild``/``start`` made executable;
* a ``project`` stage: the repository's own packages built into wheels after every
  dependency is installed, then installed into a prefix of their own, so that a change to
  the code rebuilds only this stage and one small layer of the runtime;
* in the runtime stage: the project prefix and the repository (as the non-root user)
  copied in, ``WORKDIR`` the repository, ``postBuild`` run once as that user (an argv: the
  script is a file in the image, never pasted into the Dockerfile), ``start`` as the
  exec-form ``ENTRYPOINT`` wrapping ``CMD``;
* support paths relocated under ``--output`` when it is not the repository root.
"""

from __future__ import annotations

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
from conda2docker.plan import BuildPlan, Stage
from conda2docker.plan.instructions import (
    AddArchive,
    Arg,
    Cmd,
    Copy,
    Entrypoint,
    Env,
    Instruction,
    Run,
    Shell,
    Workdir,
)
from conda2docker.plan.types import DEFAULT_CUDA_ARCH_LIST

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


def relocate(plan: BuildPlan, support: Path) -> BuildPlan:
    """Prefix the plan's context paths (``conda2docker/…``, ``vendor/…``) with ``support``."""
    if support == Path():
        return plan
    prefix = _posix(support) + "/"
    roots = (f"{SUPPORT_DIR}/", f"{VENDOR_DIR}/", f"{SOURCES_DIR}/")

    def move(instruction: Instruction) -> Instruction:
        if isinstance(instruction, Copy) and instruction.from_stage is None:
            return replace(instruction, sources=tuple(
                prefix + s if s.startswith(roots) else s for s in instruction.sources))
        if isinstance(instruction, AddArchive) and instruction.source.startswith(roots):
            return replace(instruction, source=prefix + instruction.source)
        return instruction

    stages = tuple(replace(s, instructions=tuple(move(i) for i in s.instructions))
                   for s in plan.stages)
    return replace(plan, stages=stages)


def repo_stage(init: InitPlan, options: ImageOptions) -> Stage:
    support = PurePosixPath(_posix(options.support))
    strip = [f"{REPO_STAGING}/{support / SUPPORT_DIR}", f"{REPO_STAGING}/{support / VENDOR_DIR}"]
    commands: list[tuple[str, ...] | Shell] = [("rm", "-rf", *strip)]
    scripts = [p for p in (init.post_build, init.start) if p is not None]
    if scripts:
        commands.append(("chmod", "0755", *(f"{REPO_STAGING}/{_posix(p)}" for p in scripts)))
    steps: tuple[Instruction, ...] = (Copy((".",), REPO_STAGING), Run(tuple(commands)))
    purpose = "the repository's files (data excluded by .dockerignore), without the build's support files"
    return Stage("repo", "${RUNTIME_IMAGE}", purpose, steps)


def project_stage(init: InitPlan, plan: BuildPlan, options: ImageOptions) -> Stage:
    prefix = plan.prefix
    python = f"{prefix}/bin/python"
    steps: list[Instruction] = [Copy((prefix,), prefix, from_stage="env")]
    if plan.stage("pip") is not None:
        steps.append(Copy((f"{PIP_PREFIX}/",), f"{prefix}/", from_stage="pip"))
    index: tuple[str, ...] = ()
    if plan.vendored:
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
    return Stage("project", "${BUILD_IMAGE}", purpose, tuple(steps))


def runtime_additions(runtime: Stage, init: InitPlan, plan: BuildPlan, options: ImageOptions) -> Stage:
    """The runtime stage with the project prefix, the repository, postBuild and start."""
    workdir = plan.runtime.workdir
    owner = f"{options.uid}:{options.gid}"
    copies: list[Instruction] = []
    if init.projects:
        copies.append(Copy((f"{PROJECT_PREFIX}/",), f"{plan.prefix}/", from_stage="project"))
    copies.append(Copy((f"{REPO_STAGING}/",), f"{workdir}/", from_stage="repo", chown=owner))
    steps: list[Instruction] = []
    for instruction in runtime.instructions:
        if isinstance(instruction, Env):
            steps += copies
        if isinstance(instruction, Cmd) and init.start is not None:
            steps.append(Entrypoint((f"{workdir}/{_posix(init.start)}",)))
        steps.append(instruction)
        if isinstance(instruction, Workdir) and init.post_build is not None:
            steps.append(Run(((f"{workdir}/{_posix(init.post_build)}",),)))
    if init.start is not None and not any(isinstance(i, Entrypoint) for i in steps):
        steps.append(Entrypoint((f"{workdir}/{_posix(init.start)}",)))
    return replace(runtime, instructions=tuple(steps))


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


def extend_plan(plan: BuildPlan, init: InitPlan, options: ImageOptions) -> BuildPlan:
    """The build plan with the repository, its packages and its scripts added."""
    plan = relocate(plan, options.support)
    stages = [s for s in plan.stages if s.name != "runtime"]
    runtime = plan.stage("runtime")
    assert runtime is not None, "make_plan always ends with a runtime stage"
    stages.append(repo_stage(init, options))
    args = list(plan.args)
    if init.projects:
        stages.append(project_stage(init, plan, options))
        if not any(a.name == "BUILD_IMAGE" for a in args):
            args.append(Arg("BUILD_IMAGE", options.build_image))
    stages.append(runtime_additions(runtime, init, plan, options))
    plan = replace(plan, stages=tuple(stages), args=tuple(args))
    return replace(plan, header=header(init, plan))
