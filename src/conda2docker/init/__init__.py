"""``conda2docker init``: a paper's repository → Dockerfile, compose.yaml, .dockerignore and a
"Run with Docker" section, through the same lock and plan as ``convert``.

Modules, one job each: ``discover`` (which files, where repo2docker looks), ``configfiles``
(apt.txt, runtime.txt), ``project`` (the repository's own packages), ``infer`` (an
environment.yml when there is none), ``plan`` (the :class:`InitPlan`), ``survey`` (all of that,
without solving), ``stages`` (the repository added to the build plan), ``dockerignore``,
``compose``, ``readme``, ``render`` (the files), ``report`` (what is printed), ``run`` (the job).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from conda2docker.faces import lazy_names

if TYPE_CHECKING:
    from conda2docker.init.run import InitRequest, InitResult, init_repository

_HOMES = {
    "InitRequest": "conda2docker.init.run",
    "InitResult": "conda2docker.init.run",
    "init_repository": "conda2docker.init.run",
}
"""Where each name lives; a module is imported the first time one of its names is used."""

__all__ = [
    "InitRequest",
    "InitResult",
    "init_repository",
]

__getattr__, __dir__ = lazy_names(__name__, _HOMES)
