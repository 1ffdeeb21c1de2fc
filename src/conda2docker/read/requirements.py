"""A bare requirements.txt as an environment: python and pip from conda-forge, the rest pip."""

from __future__ import annotations

from pathlib import Path

from conda2docker.errors import SourceLocation
from conda2docker.model import CondaDependency, EnvSpec, ReaderChange
from conda2docker.platforms import DEFAULT_PLATFORM, check_target
from conda2docker.read.merge import merge_pip
from conda2docker.read.piplines import PipReader
from conda2docker.read.platform_only import adapt_pip

CHANNEL = "conda-forge"


def read_requirements(path: Path, *, platform: str = DEFAULT_PLATFORM) -> EnvSpec:
    """Read a pip requirements file (``-r`` includes too) into a ``requirements`` EnvSpec."""
    check_target(platform)
    reader = PipReader(path.parent, platform)
    reader.read_file(path, SourceLocation(path))
    changes = list(reader.changes)
    requirements = []
    for requirement in reader.requirements:
        adapted, change = adapt_pip(requirement, platform)
        if change is not None:
            changes.append(change)
        if adapted is not None:
            requirements.append(adapted)
    requirements, merged = merge_pip(requirements)
    changes += merged
    where = SourceLocation(path)
    changes += [
        ReaderChange(
            action="added",
            subject="python",
            reason="a requirements file needs a Python to install into; the latest one the "
            "requirements allow is used (pin it by converting to an environment.yml)",
            code="R510",
            location=where,
        ),
        ReaderChange(
            action="added",
            subject="pip",
            reason="pip installs the requirements",
            code="R510",
            location=where,
        ),
        ReaderChange(
            action="added",
            subject=CHANNEL,
            reason="python and pip come from conda-forge",
            code="R510",
            location=where,
        ),
    ]
    return EnvSpec(
        source=path,
        kind="requirements",
        channels=(CHANNEL,),
        conda=(CondaDependency(name="python"), CondaDependency(name="pip")),
        pip=tuple(requirements),
        pip_options=reader.options,
        changes=tuple(changes),
    )
