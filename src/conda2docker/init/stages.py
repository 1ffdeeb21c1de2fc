"""The parts ``init`` adds to the lock's parts before the plan is assembled (data in, data out).

* a ``repo`` part: the repository's files, without conda2docker's support files, with
  ``postBuild``/``start`` made executable; the runtime copies them (owned by the image user,
  ``${APP_UID}:${APP_GID}``) last, runs ``postBuild`` once as that user after ``WORKDIR`` (an
  argv: the script is a file in the image, never pasted into the Dockerfile) and has ``start``
  (copied outside the work directory, so a repository mounted there by compose neither hides
  nor replaces it) as the exec-form ``ENTRYPOINT`` wrapping ``CMD``;
* a ``project`` part: the repository's own packages built into wheels after every
  dependency is installed, then installed into a prefix of their own that the runtime copies
  over the environment, so that a change to the code rebuilds only this stage and one small
  layer of the runtime. Statically read dependencies are in the lock (``--no-deps``); a
  package whose dependencies only its build can tell lets pip resolve them there, inside the
  build. CUDA extensions compile on the CUDA devel image unless the lock has ``cuda-nvcc``;
* when postBuild calls ``mamba``/``conda``/``micromamba``, those names on its PATH (only
  while it runs) are a check that the packages its install lines name are in the environment,
  where init locked them (:mod:`conda2docker.init.postbuild`);
* with a ``postBuild``, every copy into the environment owned by the image user (as in
  repo2docker: ``pip install`` or ``jupyter ... --sys-prefix`` in postBuild work); without one
  it stays root's;
* repo2docker's ``REPO_DIR``, and ``~/.local/bin`` and ``$REPO_DIR/.local/bin`` first on PATH;
* the lock's parts relocated under ``--output`` when it is not the repository root.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path, PurePosixPath

from conda2docker import __version__, image
from conda2docker.cuda.infer import DEFAULT_CUDA
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
from conda2docker.plan.gpu import cuda_devel_image
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
from conda2docker.plan.types import (
    DEFAULT_CUDA_ARCH_LIST,
    BuildPlan,
    ContextFile,
    Part,
    PlanOptions,
    Stage,
)
from conda2docker.values import frozen

REPO_STAGING = f"{STAGING}/repo"
CHECK_STAGING = f"{STAGING}/postbuild-bin"
POSTBUILD_BIN = "/usr/local/lib/conda2docker/postbuild-bin"
"""Where ``mamba``/``conda``/``micromamba`` are while postBuild runs (on its PATH only): the
check that the packages postBuild's install lines name are locked in the environment."""
CHECK_SCRIPT = "postbuild_conda.sh"
START_SCRIPT = "/usr/local/bin/repo-start"
"""Where the repository's ``start`` script is run from (outside the mounted work directory)."""
OWNER = "${APP_UID}:${APP_GID}"
"""The image user, as the runtime stage's build arguments name it (compose passes the host's)."""


@frozen
class ImageOptions:
    """How the init plan meets the build plan: where support files are, the runtime user."""

    support: Path = Path()
    """The directory (relative to the repository) holding the lock, conda2docker/ and vendor/."""
    uid: int = image.UID
    gid: int = image.GID
    build_image: str = image.BUILD_IMAGE
    nvcc_from_conda: bool = False
    """The lock has conda's ``cuda-nvcc``: CUDA extensions compile on the build image with it;
    otherwise on the CUDA devel image (as ``convert``'s ``cuda-ext`` stage)."""


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


def _check_script() -> bytes:
    from importlib.resources import files

    return files("conda2docker").joinpath(f"data/{CHECK_SCRIPT}").read_bytes()


def repo_part(init: InitPlan, options: ImageOptions, workdir: str) -> Part:
    support = PurePosixPath(_posix(options.support))
    strip = [f"{REPO_STAGING}/{support / SUPPORT_DIR}", f"{REPO_STAGING}/{support / VENDOR_DIR}"]
    commands: list[tuple[str, ...] | Shell] = [("rm", "-rf", *strip)]
    scripts = [p for p in (init.post_build, init.start) if p is not None]
    if scripts:
        commands.append(("chmod", "0755", *(f"{REPO_STAGING}/{_posix(p)}" for p in scripts)))
    steps: list[Instruction] = [Copy((".",), REPO_STAGING)]
    context: tuple[ContextFile, ...] = ()
    check = init.post_build is not None and bool(init.post_build_needs.installers)
    if check:
        # The part's context file is relative to the support directory, as the lock's parts are.
        context = (ContextFile(f"{SUPPORT_DIR}/{CHECK_SCRIPT}", _check_script()),)
        steps.append(Copy(((support / SUPPORT_DIR / CHECK_SCRIPT).as_posix(),),
                          f"{CHECK_STAGING}/mamba"))
        commands += [("chmod", "0755", f"{CHECK_STAGING}/mamba"),
                     ("ln", "-s", "mamba", f"{CHECK_STAGING}/conda"),
                     ("ln", "-s", "mamba", f"{CHECK_STAGING}/micromamba")]
    steps.append(Run(tuple(commands)))
    purpose = "the repository's files (data excluded by .dockerignore), without the build's support files"
    stage = Stage("repo", "${RUNTIME_IMAGE}", purpose, tuple(steps))
    copies = [Copy((f"{REPO_STAGING}/",), f"{workdir}/", from_stage=stage.name, chown=OWNER)]
    post_build: tuple[Instruction, ...] = ()
    if init.post_build is not None:
        script = f"{workdir}/{_posix(init.post_build)}"
        post_build = (Run(((script,),)),)
        if check:
            copies.append(Copy((f"{CHECK_STAGING}/",), f"{POSTBUILD_BIN}/", from_stage=stage.name))
            post_build = (Run((("sh", "-c", f'PATH={POSTBUILD_BIN}:"$PATH" exec "$0"', script),)),)
    start = None
    if init.start is not None:
        copies.append(Copy((f"{REPO_STAGING}/{_posix(init.start)}",), START_SCRIPT,
                           from_stage=stage.name))
        start = (START_SCRIPT,)
    return Part(stage, runtime_copies=tuple(copies), copy_rank=2, runtime_steps=post_build,
                entrypoint=start, context=context)


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
    cuda = compiles_cuda(init, plan_options)
    if cuda:
        cuda_home = prefix if options.nvcc_from_conda else image.CUDA_HOME
        steps.append(Env((("TORCH_CUDA_ARCH_LIST", DEFAULT_CUDA_ARCH_LIST), ("FORCE_CUDA", "1"),
                          ("CUDA_HOME", cuda_home))))
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
    # Statically read dependencies are in the lock (installed above): --no-deps. A package whose
    # dependencies only its build can tell (init reports it) lets pip resolve them here.
    resolve_here = any(p.dynamic for p in init.projects)
    deps: tuple[str, ...] = index if resolve_here else ("--no-deps", "--no-index")
    install = " ".join((python, "-m", "pip", "install", *deps, "--disable-pip-version-check",
                        "--prefix", PROJECT_PREFIX, "--no-warn-script-location",
                        f"{STAGING}/wheels/*.whl"))
    steps.append(Run((Shell(install), ("rm", "-rf", STAGING))))
    names = ", ".join(p.name for p in init.projects)
    purpose = (f"builds and installs the repository's own packages after their dependencies: {names}")
    if cuda and not options.nvcc_from_conda:
        devel = plan_options.cuda_devel_image or cuda_devel_image(
            plan_options.cuda_version or init.cuda or DEFAULT_CUDA)
        base, arg = "${CUDA_DEVEL_IMAGE}", Arg("CUDA_DEVEL_IMAGE", devel)
    else:
        base, arg = "${BUILD_IMAGE}", Arg("BUILD_IMAGE", options.build_image)
    stage = Stage("project", base, purpose, tuple(steps))
    copy = Copy((f"{PROJECT_PREFIX}/",), f"{prefix}/", from_stage=stage.name)
    return Part(stage, runtime_copies=(copy,), copy_rank=1, args=(arg,))


def compiles_cuda(init: InitPlan, plan_options: PlanOptions) -> bool:
    """The GPU variant builds a package with a CUDA extension (nvcc in the project stage)."""
    return plan_options.variant == "gpu" and any(p.cuda for p in init.projects)


def owned_by_user(part: Part, prefix: str) -> Part:
    """The part with what it copies into the environment owned by the image user (postBuild)."""
    copies = tuple(replace(c, chown=c.chown or OWNER) if c.dest.rstrip("/") == prefix else c
                   for c in part.runtime_copies)
    return replace(part, runtime_copies=copies)


def repo2docker_variables(spec: EnvSpec | None, plan_options: PlanOptions) -> EnvSpec | None:
    """``REPO_DIR``, and the user's ``.local/bin`` directories first on ``PATH``, as repo2docker
    sets them; the environment file's own ``variables:`` still win."""
    if spec is None:
        return None
    workdir = image.work_dir(plan_options.user_name)
    home = image.home_dir(plan_options.user_name)
    path = f"{home}/.local/bin:{workdir}/.local/bin:{plan_options.prefix}/bin:{image.SYSTEM_PATH}"
    ours = (("PATH", path), ("REPO_DIR", workdir))
    return replace(spec, variables=(*ours, *spec.variables))


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
    if init.post_build is not None:
        parts = [owned_by_user(p, plan_options.prefix) for p in parts]
    return parts


def extend_plan(spec: EnvSpec | None, lock: Lock, plan_options: PlanOptions, lock_parts: Sequence[Part],
                init: InitPlan, options: ImageOptions) -> BuildPlan:
    """The build plan with the repository, its packages and its scripts added."""
    plan = assemble(repo2docker_variables(spec, plan_options), lock, plan_options,
                    init_parts(init, lock_parts, plan_options, options))
    return replace(plan, header=header(init, plan))
