"""Read what the user has (environment files, locks, requirements) into an :class:`EnvSpec`.

``read_input`` picks the reader by content and name; ``read_environment`` reads an
environment.yml; ``marker_applies`` (in ``conda2docker.read.markers``) evaluates PEP 508
markers for a conda platform. Every problem is an :class:`~conda2docker.errors.InputError`
with a location and a fix; everything the reader changed is a ``ReaderChange`` on the spec.
"""

from __future__ import annotations

from conda2docker.read.dispatch import read_input
from conda2docker.read.environment import parse_environment, read_environment
from conda2docker.read.requirements import read_requirements

__all__ = ["parse_environment", "read_environment", "read_input", "read_requirements"]
