"""Pick the reader for an input: environment file, conda-lock.yml, explicit lock, requirements."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from conda2docker.errors import InputError, SourceLocation
from conda2docker.model import EnvSpec, InputKind, Lock
from conda2docker.platforms import DEFAULT_PLATFORM, TARGET_PLATFORMS, check_target
from conda2docker.read.decode import decode

FOLDER_CANDIDATES = (
    "environment.yml",
    "environment.yaml",
    "conda-lock.yml",
    "requirements.txt",
)
_EXPLICIT = re.compile(r"^[ \t]*@EXPLICIT[ \t]*$", re.MULTILINE)
_CONDA_LOCK = (re.compile(r"^package:", re.MULTILINE), re.compile(r"^metadata:", re.MULTILINE))
_PIXI_LOCK = (re.compile(r"^environments:", re.MULTILINE), re.compile(r"^packages:", re.MULTILINE))


Detected = Literal[InputKind, "conda-specs"]


def detect_kind(path: Path, text: str) -> Detected:
    """What an input is, from its content first and its name second.

    A ``.txt``/``.in`` file (or one named ``requirements…``) is a conda spec file or a pip
    requirements file by the forms it uses (:mod:`conda2docker.read.specfile`); one whose
    lines read the same to both is taken by its name, or refused with the hint.
    """
    if "@EXPLICIT" in text and _EXPLICIT.search(text):
        return "explicit"
    if "package:" in text and all(pattern.search(text) for pattern in _CONDA_LOCK):
        return "conda-lock"
    name = path.name.lower()
    if path.suffix.lower() in (".txt", ".in") or name.startswith("requirements"):
        from conda2docker.read.specfile import spec_file_kind

        return "conda-specs" if spec_file_kind(path, text) == "conda" else "requirements"
    return "environment"


def read_input(path: Path, *, platform: str = DEFAULT_PLATFORM,
               lock_platforms: Literal["all", "target", "targets"] = "all") -> EnvSpec:
    """Read any supported input for one Linux target platform.

    ``path`` may be an environment file (``.yml``/``.yaml``, exports, templates), a
    ``conda-lock.yml``, an explicit lock (``@EXPLICIT``), a requirements file, a conda spec
    file (``conda create --file``, ``conda list --export``), or a folder
    holding one of ``environment.yml``, ``environment.yaml``, ``conda-lock.yml``,
    ``requirements.txt`` (first found wins). Problems raise :class:`InputError`.
    With ``lock_platforms="target"`` a lock input keeps only ``platform``'s packages (its
    ``platforms`` still lists all it covers): for callers that use no other platform;
    ``"targets"`` keeps those of every platform an image can be built for (``audit``,
    ``graph``: the macOS and Windows entries of a lock are never read).
    """
    check_target(platform)
    if path.is_dir():
        path = _from_folder(path)
    from conda2docker.read.decode import MAX_ENV_FILE, MAX_LOCK_FILE, read_limited, too_large

    data = read_limited(path, limit=MAX_LOCK_FILE, what="file")
    text = decode(data, path).text
    if "environments:" in text and all(pattern.search(text) for pattern in _PIXI_LOCK):
        raise InputError(
            "pixi.lock files are not supported",
            fix="pass the pixi project's environment as an environment.yml "
            "(`pixi project export conda-environment`)",
            location=SourceLocation(path),
        )
    kind = detect_kind(path, text)
    if kind in ("environment", "requirements") and len(data) > MAX_ENV_FILE:
        raise too_large("file", path, MAX_ENV_FILE, SourceLocation(path))
    # each reader is imported when its kind is read (a lock needs none of the others')
    if kind == "requirements":
        from conda2docker.read.requirements import read_requirements

        return read_requirements(path, platform=platform)
    if kind == "conda-specs":
        from conda2docker.read.specfile import read_conda_spec_file

        return read_conda_spec_file(path, text, platform=platform)
    if kind == "environment":
        from conda2docker.read.environment import parse_environment

        return parse_environment(data, path, platform=platform)
    from conda2docker.lockfile import read_conda_lock, read_explicit

    if kind == "explicit":
        lock = read_explicit(path, text)
    else:
        wanted = {"all": None, "target": {platform}, "targets": {platform, *TARGET_PLATFORMS}}
        lock = read_conda_lock(path, text, platforms=wanted[lock_platforms])
    _check_lock_platform(lock, path, platform)
    return EnvSpec(
        source=path,
        kind=kind,
        channels=lock.channels,
        platforms=lock.platforms,
        lock=lock,
    )


def _from_folder(folder: Path) -> Path:
    for candidate in FOLDER_CANDIDATES:
        if (folder / candidate).is_file():
            return folder / candidate
    raise InputError(
        f"{folder} is a folder without an environment file",
        fix="pass the file itself, or add one of " + ", ".join(FOLDER_CANDIDATES),
        location=SourceLocation(folder),
    )


def _check_lock_platform(lock: Lock, path: Path, platform: str) -> None:
    if platform not in lock.platforms:
        have = ", ".join(lock.platforms) or "none"
        raise InputError(
            f"the lock has no packages for {platform} (it covers: {have})",
            fix=f"lock the environment for {platform} (e.g. `conda2docker lock --platform "
            f"{platform}`), or pass --platform with one of the lock's platforms",
            location=SourceLocation(path),
        )
    if not lock.for_platform(platform):
        raise InputError(
            f"the lock lists {platform} but has no packages for it (cut short or edited?)",
            fix=f"regenerate the lock for {platform} (conda-lock, or `conda2docker lock "
            f"--platform {platform}`)",
            location=SourceLocation(path),
        )
