"""Survey a repository: discover its files, read (or infer) its environment, decide the
:class:`InitPlan`. Reads files only: no solve, no network, nothing written."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from conda2docker.errors import InputError, SourceLocation
from conda2docker.init.configfiles import read_apt, read_runtime
from conda2docker.init.discover import EXACT_ENV_NAMES, Ignored, RepoFiles, discover
from conda2docker.init.infer import infer_environment
from conda2docker.init.plan import InitPlan, make_init_plan, with_additions
from conda2docker.init.project import read_project
from conda2docker.model import EnvSpec
from conda2docker.platforms import DEFAULT_PLATFORM

EXAMPLE_ENVIRONMENT = (
    "name: paper | channels: [conda-forge] | dependencies: [python=3.11, numpy, pip, "
    "{pip: [-e .]}]"
)


@dataclass(frozen=True, slots=True)
class Survey:
    plan: InitPlan
    spec: EnvSpec
    """The environment to resolve: as read (or inferred), plus what init adds."""


def _nothing_found(root: Path, files: RepoFiles) -> InputError:
    where = f"{files.config_dir}/" if files.config_dir != Path() else ""
    looked = ", ".join([*(where + n for n in EXACT_ENV_NAMES), where + "environment*.yml",
                        where + "requirements.txt", "pyproject.toml", "setup.py", "setup.cfg"])
    return InputError(
        f"no environment to build: looked for {looked}",
        fix=f"create {where}environment.yml, for example (one line per |): {EXAMPLE_ENVIRONMENT}",
        location=SourceLocation(root),
    )


def survey(root: Path, *, env_file: Path | None = None, platform: str = DEFAULT_PLATFORM) -> Survey:
    """Everything ``init`` decides before solving."""
    from conda2docker.read import parse_environment, read_input

    files = discover(root, env_file)
    apt = read_apt(root / files.apt) if files.apt else ()
    runtime = read_runtime(root / files.runtime) if files.runtime else None
    ignored: list[Ignored] = []
    if files.runtime and runtime is None:
        ignored.append(Ignored(files.runtime, "not a python-X.Y runtime"))
    inferred = None
    if files.environment is not None:
        environment = files.environment
        spec = read_input(root / environment, platform=platform)
    else:
        project = read_project(root, Path())
        if files.requirements is None and project is None:
            raise _nothing_found(root, files)
        environment = files.config_dir / "environment.yml"
        inferred = infer_environment(root, files, project, runtime, _name(root))
        spec = parse_environment(inferred.text.encode(), root / environment, platform=platform)
    if files.runtime and inferred is not None:
        runtime = None  # already in the inferred file
    plan = make_init_plan(root, files, spec, environment=environment, inferred=inferred, apt=apt,
                          runtime_python=runtime)
    if ignored:
        from dataclasses import replace

        plan = replace(plan, ignored=(*plan.ignored, *ignored))
    return Survey(plan, with_additions(spec, root, plan))


def _name(root: Path) -> str:
    return root.resolve().name or "paper"
