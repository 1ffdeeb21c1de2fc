"""repo2docker's small configuration files: ``apt.txt`` and ``runtime.txt``."""

from __future__ import annotations

import re
from pathlib import Path

from conda2docker.errors import InputError, SourceLocation
from conda2docker.read.decode import read_text

# Debian policy: lowercase letters, digits, + - . ; at least two characters, alphanumeric first.
_DEBIAN_NAME = re.compile(r"^[a-z0-9][a-z0-9+.\-]+\Z")
_RUNTIME = re.compile(r"^python-(\d{1,2})(?:\.(\d{1,3}))?(?:\.(\d{1,3}))?\Z")


def _lines(path: Path) -> list[tuple[int, str]]:
    text = read_text(path)
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        content = line.split("#", 1)[0].strip()
        if content:
            out.append((number, content))
    return out


def read_apt(path: Path) -> tuple[str, ...]:
    """Debian package names from ``apt.txt``: one or more per line, ``#`` comments allowed.

    Names are checked against Debian policy; anything else (a version, an option, a URL)
    is an :class:`InputError` pointing at the line.
    """
    names: list[str] = []
    for number, content in _lines(path):
        for word in content.split():
            if not _DEBIAN_NAME.match(word):
                raise InputError(
                    f"{word!r} is not a Debian package name",
                    fix="list plain package names (e.g. libgl1), one per line; versions and "
                    "options are not supported",
                    location=SourceLocation(path, number, content.index(word) + 1),
                )
            names.append(word)
    return tuple(dict.fromkeys(names))


def read_runtime(path: Path) -> str | None:
    """The Python version ``runtime.txt`` asks for (``python-3.10`` → ``3.10``), else None.

    repo2docker also accepts ``r-<date>`` and ``julia-…`` lines; they do not choose a
    Python, so they return None (the caller reports the file as ignored).
    """
    lines = _lines(path)
    if not lines:
        return None
    number, content = lines[0]
    found = _RUNTIME.match(content)
    if found is None:
        if content.startswith("python"):
            raise InputError(
                f"{content!r} is not a Python runtime",
                fix="write python-3.X (e.g. python-3.11)",
                location=SourceLocation(path, number, 1),
            )
        return None
    return ".".join(part for part in found.groups() if part is not None)
