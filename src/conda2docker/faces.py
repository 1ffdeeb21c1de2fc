"""Light package faces: a package's ``__init__`` hands its names on and imports the module
holding a name only when the name is first used, so importing one module of a package never
loads its siblings (a renderer loads no audit rule, ``--help`` no solver).

A leaf module: it imports nothing of conda2docker.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module


def lazy_names(package: str, homes: Mapping[str, str]) -> tuple[Callable[[str], object],
                                                                  Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``: ``homes`` maps each name to its module."""

    def getattr_(name: str) -> object:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(import_module(home), name)

    def dir_() -> list[str]:
        return sorted(homes)

    return getattr_, dir_
