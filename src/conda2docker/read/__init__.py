"""Read what the user has (environment files, locks, requirements) into an :class:`EnvSpec`.

``read_input`` picks the reader by content and name; ``read_environment`` reads an
environment.yml; ``marker_applies`` (in ``conda2docker.read.markers``) evaluates PEP 508
markers for a conda platform. Every problem is an :class:`~conda2docker.errors.InputError`
with a location and a fix; everything the reader changed is a ``ReaderChange`` on the spec.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from conda2docker.faces import lazy_names

if TYPE_CHECKING:
    from conda2docker.read.dispatch import read_input
    from conda2docker.read.environment import parse_environment, read_environment
    from conda2docker.read.requirements import read_requirements

_HOMES = {
    "parse_environment": "conda2docker.read.environment",
    "read_environment": "conda2docker.read.environment",
    "read_input": "conda2docker.read.dispatch",
    "read_requirements": "conda2docker.read.requirements",
}
"""Where each name lives; a module is imported the first time one of its names is used."""

__all__ = [
    "parse_environment",
    "read_environment",
    "read_input",
    "read_requirements",
]

__getattr__, __dir__ = lazy_names(__name__, _HOMES)
