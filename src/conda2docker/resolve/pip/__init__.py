"""Resolve an environment's ``pip:`` section to exact, hashed files for one target.

:func:`resolve_pip` runs resolvelib's backtracking resolver over candidates listed by
:class:`~conda2docker.resolve.pypi.IndexClient` (the env's ``--index-url``,
``--extra-index-url`` and ``--find-links``). Markers, wheel tags and ``requires-python``
are evaluated for the *target* (platform, Python, the base image's glibc), never for
this host. Distributions the conda packages already provide are fixed to the conda
version and not installed again. Git, URL and local-path requirements are pinned to a
commit, a hash or an absolute path. The result is conda-lock's pip entries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from conda2docker.faces import lazy_names

if TYPE_CHECKING:
    from conda2docker.resolve.pip.provided import CondaProvided, conda_provides
    from conda2docker.resolve.pip.resolver import PipResolution, resolve_pip
    from conda2docker.resolve.pip.target import (
        PipTarget,
        glibc_needed,
        platform_tags,
        supported_tags,
        wheel_priority,
    )

_HOMES = {
    "CondaProvided": "conda2docker.resolve.pip.provided",
    "PipResolution": "conda2docker.resolve.pip.resolver",
    "PipTarget": "conda2docker.resolve.pip.target",
    "conda_provides": "conda2docker.resolve.pip.provided",
    "glibc_needed": "conda2docker.resolve.pip.target",
    "platform_tags": "conda2docker.resolve.pip.target",
    "resolve_pip": "conda2docker.resolve.pip.resolver",
    "supported_tags": "conda2docker.resolve.pip.target",
    "wheel_priority": "conda2docker.resolve.pip.target",
}
"""Where each name lives; a module is imported the first time one of its names is used."""

__all__ = [
    "CondaProvided",
    "PipResolution",
    "PipTarget",
    "conda_provides",
    "glibc_needed",
    "platform_tags",
    "resolve_pip",
    "supported_tags",
    "wheel_priority",
]

__getattr__, __dir__ = lazy_names(__name__, _HOMES)
