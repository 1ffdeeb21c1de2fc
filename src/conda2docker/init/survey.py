"""Survey a repository: discover its files, read (or infer) its environment, decide the
:class:`InitPlan`. Reads files only: no solve, no network, nothing written."""

from __future__ import annotations

from pathlib import Path

from conda2docker.errors import InputError, SourceLocation
from conda2docker.init.configfiles import read_apt, read_runtime
from conda2docker.init.discover import Ignored, discover
from conda2docker.init.infer import infer_environment
from conda2docker.init.plan import InitPlan, make_init_plan, with_additions
from conda2docker.init.project import read_project
from conda2docker.model import EnvSpec
from conda2docker.platforms import DEFAULT_PLATFORM
from conda2docker.values import frozen

INFERRED_NAME = Path("conda2docker") / "environment.yml"
"""Where an inferred environment is written (under the support directory, never binder/)."""


@frozen
class Survey:
    """A repository's plan and the environment read from it."""
    plan: InitPlan
    spec: EnvSpec
    """The environment to resolve: as read (or inferred), plus what init adds."""


def survey(root: Path, *, env_file: Path | None = None, platform: str = DEFAULT_PLATFORM,
           jupyter: bool = True, default_python: str | None = None) -> Survey:
    """Everything ``init`` decides before solving."""
    from conda2docker.read import parse_environment, read_input

    files = discover(root, env_file)
    apt = read_apt(root / files.apt) if files.apt else ()
    runtime = read_runtime(root / files.runtime) if files.runtime else None
    ignored: list[Ignored] = []
    if files.runtime and runtime is None:
        ignored.append(Ignored(files.runtime, "not a python-X.Y runtime"))
    if runtime is not None and runtime.split(".")[0] == "2":
        raise InputError(
            f"python-{runtime}: Python 2 is out of scope (conda-forge no longer builds it)",
            fix="port the code to Python 3 and write python-3.X in runtime.txt",
            location=SourceLocation(root / files.runtime) if files.runtime else None,
        )
    inferred = None
    if files.environment is not None:
        environment = files.environment
        spec = read_input(root / environment, platform=platform)
    else:
        project = read_project(root, Path())
        environment = INFERRED_NAME
        inferred = infer_environment(root, files, project, runtime, _name(root), jupyter=jupyter,
                                     default_python=default_python)
        # Relative paths in requirements.txt resolve where repo2docker reads it.
        where = root / files.config_dir / "environment.yml"
        spec = parse_environment(inferred.text.encode(), where, platform=platform)
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
