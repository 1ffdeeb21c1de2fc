"""``conda2docker init``: a paper's repository → Dockerfile, compose.yaml, .dockerignore and a
"Run with Docker" section, through the same lock and plan as ``convert``.

Modules, one job each: ``discover`` (which files, where repo2docker looks), ``configfiles``
(apt.txt, runtime.txt), ``project`` (the repository's own packages), ``infer`` (an
environment.yml when there is none), ``plan`` (the :class:`InitPlan`), ``survey`` (all of that,
without solving), ``stages`` (the repository added to the build plan), ``dockerignore``,
``compose``, ``readme``, ``render`` (the files), ``report`` (what is printed), ``run`` (the job).
"""

from __future__ import annotations

from conda2docker.init.run import InitRequest, InitResult, init_repository

__all__ = ["InitRequest", "InitResult", "init_repository"]
