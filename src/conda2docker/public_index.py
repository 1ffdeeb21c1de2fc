"""Where the public Python package index lives, as pip itself knows it.

conda2docker names no index host of its own: the default index and the hosts that count as
"the public index" come from pip's own definition, or from the user's pip configuration
(``PIP_INDEX_URL``), so a site's mirror is honoured the way pip honours it.
"""

from __future__ import annotations

import os
from functools import cache
from urllib.parse import urlsplit


@cache
def _pip_public() -> tuple[str, tuple[str, ...]]:
    try:
        from pip._internal.models.index import PyPI
    except ImportError:  # pragma: no cover - pip ships with every venv we support
        return "", ()
    return PyPI.simple_url.rstrip("/") + "/", (PyPI.netloc, PyPI.file_storage_domain)


def default_index_url() -> str:
    """``PIP_INDEX_URL`` if set, else pip's own default index (with a trailing slash)."""
    configured = os.environ.get("PIP_INDEX_URL", "").strip()
    if configured:
        return configured.rstrip("/") + "/"
    return _pip_public()[0]


def public_index_hosts() -> frozenset[str]:
    """Hosts of the public index and its file storage."""
    return frozenset(_pip_public()[1])


def public_file_host() -> str:
    """The host the public index serves distribution files from."""
    return _pip_public()[1][1] if len(_pip_public()[1]) > 1 else ""


PUBLIC_INDEX_ALIASES = frozenset({"pypi.python.org", "pypi.io", "www.pypi.org"})
"""Older or alternative names of the public index that still serve it (redirects)."""


def is_public_index(url: str) -> bool:
    """True for the public index, its file host and its known aliases
    (``https://pypi.python.org/simple``)."""
    host = (urlsplit(url).hostname or "").lower()
    return host in public_index_hosts() or host in PUBLIC_INDEX_ALIASES
