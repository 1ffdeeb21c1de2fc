"""Where conda2docker keeps what a later run may read again: the solver's repodata, index
answers and downloads, bootstrap pythons, wheels.

One root for all of them: ``$CONDA2DOCKER_CACHE``, else ``$XDG_CACHE_HOME/conda2docker``,
else ``~/.cache/conda2docker``; each kind in a folder of its own below it.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """The cache root (see the module docstring), read from the environment on each call."""
    chosen = os.environ.get("CONDA2DOCKER_CACHE")
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "conda2docker"
