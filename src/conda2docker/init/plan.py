"""``InitPlan``: what ``init`` will do with a repository, decided before anything is solved.

It holds what :class:`~conda2docker.plan.PlanOptions` cannot yet express (the repository's
own packages built last, ``postBuild``, ``start``, the repository copied into the image) next
to what it can (apt packages, the command, the GPU variant), so ``--dry-run`` can print it
and :mod:`conda2docker.init.stages` can add it to the build plan.
"""

from __future__ import annotations

import re
from dataclasses import field, replace
from pathlib import Path
from typing import Literal

from conda2docker.cuda.infer import from_spec
from conda2docker.errors import InputError
from conda2docker.image import DOCKERFILE_NAMES
from conda2docker.init.discover import Ignored, RepoFiles
from conda2docker.init.infer import Inferred
from conda2docker.init.postbuild import NODEJS, PostBuildNeeds, read_post_build
from conda2docker.init.postbuild import notes as post_build_notes
from conda2docker.init.project import Project, read_project
from conda2docker.model import CondaDependency, EnvSpec
from conda2docker.values import frozen

JUPYTER_PACKAGES = frozenset({"jupyterlab", "notebook", "jupyter"})


@frozen
class InitPlan:
    """What ``init`` found in a repository and will write."""
    root: Path
    files: RepoFiles
    environment: Path
    """The environment file used (relative to the root), or the one ``init`` will write."""
    inferred: Inferred | None = None
    projects: tuple[Project, ...] = ()
    apt: tuple[str, ...] = ()
    runtime_python: str | None = None
    gpu: bool = False
    cuda: str | None = None
    jupyter: bool = False
    """The environment asks for Jupyter (the lock decides; this is for --dry-run)."""
    notes: tuple[str, ...] = ()
    ignored: tuple[Ignored, ...] = ()
    post_build_needs: PostBuildNeeds = field(default_factory=PostBuildNeeds)
    """What postBuild's install lines and node calls add to the environment (read, never run)."""

    @property
    def post_build(self) -> Path | None:
        return self.files.post_build

    @property
    def start(self) -> Path | None:
        return self.files.start

    @property
    def variant(self) -> Literal["cpu", "gpu"]:
        return "gpu" if self.gpu else "cpu"

    @property
    def dockerfile(self) -> str:
        """``Dockerfile``, or ``Dockerfile.gpu`` for the GPU variant (the project's convention)."""
        return DOCKERFILE_NAMES[self.variant]

    @property
    def name(self) -> str:
        """A Docker image name for the repository (lowercase, safe characters)."""
        slug = re.sub(r"[^a-z0-9]+", "-", self.root.resolve().name.lower()).strip("-")
        return slug or "paper"


def _inside(root: Path, path: Path) -> Path | None:
    try:
        return path.resolve().relative_to(root.resolve())
    except ValueError:
        return None


def own_projects(root: Path, spec: EnvSpec) -> tuple[list[Project], list[str]]:
    """Local path pip requirements that point into the repository: its own packages."""
    projects: list[Project] = []
    notes: list[str] = []
    for requirement in spec.pip:
        if requirement.kind != "path" or requirement.path is None:
            continue
        relative = _inside(root, requirement.path)
        if relative is None:
            raise InputError(
                f"pip: {requirement.raw.strip()} is outside the repository, which is the build "
                "context",
                fix="move the package into the repository (e.g. a git submodule) or install it "
                "from an index",
                location=requirement.location,
            )
        project = read_project(root, relative) if requirement.path.is_dir() else None
        if project is None:
            continue  # an archive: pip installs it like any other file in the lock
        projects.append(project)
        if requirement.editable:
            notes.append(f"{requirement.raw.strip()}: installed as a regular package, built in "
                         "the image's project stage")
        notes += _metadata_notes(project)
    return projects, notes


def cuda_version(spec: EnvSpec) -> str | None:
    """The CUDA version the environment names (``pytorch-cuda=11.8`` → ``11.8``), as
    :func:`conda2docker.cuda.infer.from_spec` reads it for ``convert``."""
    return from_spec(spec).version_text


def with_additions(spec: EnvSpec, root: Path, plan: InitPlan) -> EnvSpec:
    """The spec to resolve, with nothing of the repository's own code in it.

    Pip path requirements pointing into the repository (``-e .``, ``./sub``) are the
    repository's own packages: they are built in the image's project stage, never prepared on
    the host, so they leave the spec and their statically read dependencies take their place
    (a dynamic package's dependencies are resolved inside the build instead). pip is added
    whenever pip installs something, ``postBuild`` may call it, or ``requirements.txt`` is
    installed; runtime.txt's python when the environment names none; the packages postBuild's
    ``mamba``/``conda install`` lines name, and nodejs when it calls npm (repo2docker's image
    has both), unless the environment names them itself.
    """
    from conda2docker.read.piplines import parse_requirement

    conda = list(spec.conda)
    names = {d.name for d in conda}
    own = {(root / p.path).resolve() for p in plan.projects}
    pip = [r for r in spec.pip
           if not (r.kind == "path" and r.path is not None and r.path.resolve() in own)]
    listed = {(r.name or "").lower() for r in pip}
    for project in plan.projects:
        for line in project.dependencies:
            try:
                requirement = parse_requirement(line, None, root / project.path)
            except InputError as exc:
                raise InputError(
                    f"{project.label}: dependency {line!r} is not a valid requirement "
                    f"({exc.message})", fix="correct it in the package's metadata (PEP 508)",
                ) from exc
            if requirement.kind == "path":
                continue  # a path between the repository's own packages: built from the checkout
            key = (requirement.name or requirement.raw).lower()
            if key in listed:
                continue
            listed.add(key)
            pip.append(requirement)
    # the project stage builds with pip; postBuild may call it
    wants_pip = bool(pip) or bool(plan.projects) or plan.files.post_build is not None
    if wants_pip and "pip" not in names:
        conda.append(CondaDependency("pip", raw="pip"))
    if plan.runtime_python and "python" not in names:
        conda.append(CondaDependency("python", f"{plan.runtime_python}.*", raw="python"))
    needs = plan.post_build_needs
    for dependency in needs.conda:
        if dependency.name not in names:
            conda.append(dependency)
            names.add(dependency.name)
    if needs.node and NODEJS not in names:
        conda.append(CondaDependency(NODEJS, raw=NODEJS))
    return replace(spec, conda=tuple(conda), pip=tuple(pip))


def make_init_plan(
    root: Path, files: RepoFiles, spec: EnvSpec, *, environment: Path,
    inferred: Inferred | None = None, apt: tuple[str, ...] = (), runtime_python: str | None = None,
) -> InitPlan:
    """Decide what to build from the files found and the environment read."""
    projects, notes = own_projects(root, spec)
    ignored = list(files.ignored)
    if not any(p.is_root for p in projects):
        root_project = read_project(root, Path())
        if root_project is not None:
            projects.append(root_project)
            notes.append(f"{root_project.name}: the repository's package is installed last "
                         "(add `- -e .` under pip: to say so in the environment)")
            notes += _metadata_notes(root_project)
    elif files.pyproject and read_project(root, Path()) is None:
        ignored.append(Ignored(files.pyproject, "no [project] or [build-system]: not a package"))
    if files.requirements is not None and inferred is None and not _included(root, files, spec):
        ignored.append(Ignored(files.requirements,
                               f"{environment} is used; list these under its pip: section "
                               "(or add `- -r requirements.txt` there)"))
    names = {d.name for d in spec.conda}
    if runtime_python and "python" in names:
        ignored.append(Ignored(files.runtime or Path("runtime.txt"),
                               f"{environment} pins python itself"))
        runtime_python = None
    elif runtime_python:
        notes.append(f"python={runtime_python} from {files.runtime} ({environment} names no python)")
    needs = read_post_build(root, files.post_build) if files.post_build else PostBuildNeeds()
    if files.post_build is not None:
        notes += post_build_notes(files.post_build, needs)
    gpu = from_spec(spec).wants_gpu or any(p.cuda for p in projects)
    # Dependencies first, the repository's root package last (its code changes most often).
    projects.sort(key=lambda p: p.is_root)
    return InitPlan(
        root=root, files=files, environment=environment, inferred=inferred,
        projects=tuple(projects), apt=apt, runtime_python=runtime_python, gpu=gpu,
        cuda=cuda_version(spec), jupyter=bool(names & JUPYTER_PACKAGES) or _pip_jupyter(spec),
        notes=tuple(notes), ignored=tuple(ignored), post_build_needs=needs,
    )


def _metadata_notes(project: Project) -> list[str]:
    """How the package's dependencies are known: read statically, or resolved in the build."""
    if project.dynamic:
        return [f"{project.label}: {project.dynamic}; its dependencies are resolved by pip "
                "inside the image build (project stage), not locked. Declare them in "
                "pyproject.toml [project] dependencies to lock them"]
    if project.dependencies:
        return [f"{project.label}: dependencies read from its metadata (nothing run): "
                + ", ".join(project.dependencies)]
    return []


def _pip_jupyter(spec: EnvSpec) -> bool:
    return any((r.name or "") in JUPYTER_PACKAGES for r in spec.pip)


def _included(root: Path, files: RepoFiles, spec: EnvSpec) -> bool:
    """Whether the environment's pip section includes requirements.txt (``-r``)."""
    assert files.requirements is not None
    target = (root / files.requirements).resolve()
    return any(r.location is not None and r.location.file.resolve() == target for r in spec.pip)
