"""Light package faces: a package's ``__init__`` hands its names on and imports the module
holding a name only when the name is first used, so importing one module of a package never
loads its siblings (a renderer loads no audit rule, ``--help`` no solver). And
:func:`prefetching`: modules imported ahead of use, while the process waits on the solver.

A leaf module: it imports nothing of conda2docker.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
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


_PENDING: ContextVar[tuple[str, ...]] = ContextVar("prefetch_pending", default=())


@contextmanager
def prefetching(modules: Sequence[str]) -> Iterator[None]:
    """Within this block, :func:`start_prefetch` imports ``modules`` (what the caller needs
    next) in a background thread."""
    token = _PENDING.set(tuple(modules))
    try:
        yield
    finally:
        _PENDING.reset(token)


def start_prefetch() -> None:
    """Called just before this thread waits on native code that releases the GIL (the solver,
    in its own threads): the modules of the enclosing :func:`prefetching` block are imported
    meanwhile, at no cost in wall time."""
    pending = _PENDING.get()
    if pending:
        prefetch(pending)


def prefetch(modules: Iterable[str]) -> None:
    """Import ``modules`` in a background thread, in order. Only a head start: a module that
    fails to import is left for its real importer to report, and the thread is a daemon, so
    it never holds the process up."""
    import threading

    names = tuple(modules)

    def run() -> None:
        for name in names:
            try:
                import_module(name)
            except Exception:  # the importer that needs it says why
                return

    threading.Thread(target=run, name="conda2docker-prefetch", daemon=True).start()
