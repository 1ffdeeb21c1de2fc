"""resolve: ``EnvSpec`` → ``Resolution`` (a lock for every target platform).

The conda part is solved by py-rattler (``resolve.conda``) or by conda-lock proper
(``resolve.condalock``); the pip part by ``resolve.pip`` against a PyPI-compatible index,
consistent with the conda packages already chosen. The job is :func:`resolve` in
``resolve/run.py``; this face only hands names on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from conda2docker.faces import lazy_names

if TYPE_CHECKING:
    from conda2docker.resolve.run import ResolveOptions, input_hash, require_complete, resolve
    from conda2docker.resolve.virtual import VirtualTarget

_HOMES = {
    "ResolveOptions": "conda2docker.resolve.run",
    "VirtualTarget": "conda2docker.resolve.virtual",
    "input_hash": "conda2docker.resolve.run",
    "require_complete": "conda2docker.resolve.run",
    "resolve": "conda2docker.resolve.run",
}
"""Where each name lives; a module is imported the first time one of its names is used."""

__all__ = [
    "ResolveOptions",
    "VirtualTarget",
    "input_hash",
    "require_complete",
    "resolve",
]

__getattr__, __dir__ = lazy_names(__name__, _HOMES)
