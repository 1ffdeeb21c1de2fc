"""Find what a repository holds, where repo2docker looks for it.

Configuration files (the environment, ``requirements.txt``, ``apt.txt``, ``postBuild``,
``start``, ``runtime.txt``) are read from ``binder/`` when it exists, else ``.binder/``, else
the repository root, exactly as repo2docker does; the repository's own package files
(``pyproject.toml``, ``setup.py``, ``setup.cfg``) are always read from the root.

Which environment file is used, when several exist in the configuration directory:

1. ``environment.yml``, then ``environment.yaml`` (repo2docker's names);
2. then ``conda.yaml``, then ``conda.yml`` (MLflow projects);
3. then any other ``environment*.yml``/``environment*.yaml``: the shortest name, then the
   alphabetically first (``environment-cpu.yml`` before ``environment-gpu.yml``).

Every other candidate is reported as ignored, with the reason; ``--env FILE`` overrides.
"""

from __future__ import annotations

import re
from pathlib import Path

from conda2docker.errors import InputError, SourceLocation
from conda2docker.values import frozen

CONFIG_DIRS = ("binder", ".binder")
EXACT_ENV_NAMES = ("environment.yml", "environment.yaml", "conda.yaml", "conda.yml")
_ENV_VARIANT = re.compile(r"^environment[-_.][\w.\-]*\.ya?ml\Z")
CONFIG_FILES = ("requirements.txt", "apt.txt", "postBuild", "start", "runtime.txt")
PACKAGE_FILES = ("pyproject.toml", "setup.py", "setup.cfg")


@frozen
class Ignored:
    """A file that was found but not used, and why (paths relative to the repository)."""

    path: Path
    reason: str


@frozen
class RepoFiles:
    """What ``init`` found in a repository; every path is relative to ``root``."""

    root: Path
    config_dir: Path
    environment: Path | None = None
    requirements: Path | None = None
    apt: Path | None = None
    post_build: Path | None = None
    start: Path | None = None
    runtime: Path | None = None
    pyproject: Path | None = None
    setup_py: Path | None = None
    setup_cfg: Path | None = None
    ignored: tuple[Ignored, ...] = ()

    def found(self) -> list[tuple[str, Path]]:
        """``(role, path)`` for every file that is used, in a stable order."""
        roles = (
            ("environment", self.environment), ("requirements", self.requirements),
            ("apt packages", self.apt), ("postBuild", self.post_build), ("start", self.start),
            ("runtime", self.runtime), ("pyproject", self.pyproject), ("setup.py", self.setup_py),
            ("setup.cfg", self.setup_cfg),
        )
        return [(role, path) for role, path in roles if path is not None]


def config_dir(root: Path) -> tuple[Path, list[Ignored]]:
    """repo2docker's rule: ``binder/`` if present, else ``.binder/``, else the root."""
    present = [Path(name) for name in CONFIG_DIRS if (root / name).is_dir()]
    if not present:
        return Path(), []
    ignored = [Ignored(other, f"{present[0]}/ is used (repo2docker reads one configuration "
                       "directory)") for other in present[1:]]
    return present[0], ignored


def environment_candidates(directory: Path) -> list[str]:
    """Environment file names in ``directory``, best first (see the module's rule)."""
    names = sorted(p.name for p in directory.iterdir() if p.is_file()) if directory.is_dir() else []
    exact = [n for n in EXACT_ENV_NAMES if n in names]
    variants = sorted((n for n in names if _ENV_VARIANT.match(n) and n not in exact),
                      key=lambda n: (len(n), n))
    return exact + variants


def inside(root: Path, relative: Path) -> None:
    """Refuse a file that is a link to somewhere outside the repository: init reads only the
    repository (a link to ``/etc/shadow`` must not reach a message or the image)."""
    path = root / relative
    if path.is_symlink() and not path.resolve().is_relative_to(root.resolve()):
        raise InputError("is a symbolic link to a file outside the repository",
                         fix="replace the link with the file itself",
                         location=SourceLocation(path))


def _existing(root: Path, relative: Path) -> Path | None:
    inside(root, relative)
    return relative if (root / relative).is_file() else None


def discover(root: Path, env_file: Path | None = None) -> RepoFiles:
    """What the repository at ``root`` holds (``env_file``, if given, is the environment)."""
    if not root.is_dir():
        raise InputError("not a directory", fix="pass the repository's directory",
                         location=SourceLocation(root))
    config, ignored = config_dir(root)
    names = environment_candidates(root / config)
    environment: Path | None = None
    if env_file is not None:
        chosen = env_file if env_file.is_absolute() else (Path.cwd() / env_file)
        if not chosen.is_file():
            raise InputError("no such file", fix="check the --env path",
                             location=SourceLocation(env_file))
        try:
            environment = chosen.resolve().relative_to(root.resolve())
        except ValueError as exc:
            raise InputError("the environment file is outside the repository",
                             fix="pass a file inside the repository (it is the build context)",
                             location=SourceLocation(env_file)) from exc
        reason = "--env chose another file"
    elif names:
        environment = config / names[0]
        inside(root, environment)
        reason = f"{environment} is used (rule: environment.yml, environment.yaml, conda.yaml, " \
                 "conda.yml, then the shortest environment*.yml); pass --env FILE to choose"
    ignored += [Ignored(config / n, reason) for n in names if config / n != environment]
    if config != Path():
        ignored += [
            Ignored(Path(name), f"repo2docker reads only {config}/ when it exists")
            for name in (*CONFIG_FILES, *environment_candidates(root))
            if (root / name).is_file()
        ]
    found = {name: _existing(root, config / name) for name in CONFIG_FILES}
    return RepoFiles(
        root=root,
        config_dir=config,
        environment=environment,
        requirements=found["requirements.txt"],
        apt=found["apt.txt"],
        post_build=found["postBuild"],
        start=found["start"],
        runtime=found["runtime.txt"],
        pyproject=_existing(root, Path("pyproject.toml")),
        setup_py=_existing(root, Path("setup.py")),
        setup_cfg=_existing(root, Path("setup.cfg")),
        ignored=tuple(ignored),
    )
