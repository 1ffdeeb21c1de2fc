"""PyPI ↔ conda package names, from the grayskull mapping that conda-pypi ships.

The table (``conda_pypi/grayskull_pypi_mapping.json``, about 12,000 entries) is keyed by
canonical PyPI name; each entry gives the conda-forge name and the top-level import name.
Names missing from it map to themselves: PyPI → conda lowercases and turns ``_`` into
``-`` (dots kept, as conda-forge spells ``jaraco.tidelift``); conda → PyPI canonicalises.
The table is loaded lazily, once per process.
"""

from __future__ import annotations

import json
import re
from functools import cache

from conda2docker.values import frozen

MAPPING_PACKAGE = "conda_pypi"
MAPPING_FILE = "grayskull_pypi_mapping.json"
_SEPARATORS = re.compile(r"[-_.]+")


@frozen
class _Entry:
    """One package known under its PyPI, conda and import names."""
    pypi_name: str
    conda_name: str
    import_name: str


@frozen
class _Mapping:
    """The table of names, by PyPI and by conda name."""
    by_pypi: dict[str, _Entry]
    by_conda: dict[str, _Entry]


def canonical(name: str) -> str:
    """The PEP 503 form of a distribution name (``Foo_Bar.baz`` → ``foo-bar-baz``).

    packaging's ``canonicalize_name`` (runs of ``-_.`` become one ``-``, lowercased), without
    importing ``packaging.utils`` (it loads ``packaging.tags`` and ``sysconfig``: 30 ms) and
    without a regular expression for names already canonical (most of them).
    """
    if name.islower() and "_" not in name and "." not in name and "--" not in name:
        return name
    return _SEPARATORS.sub("-", name).lower()


@cache
def _mapping() -> _Mapping:
    from importlib import resources  # 2 ms with what it loads: only once a name is looked up

    try:
        text = (resources.files(MAPPING_PACKAGE) / MAPPING_FILE).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):  # pragma: no cover - a declared dependency
        return _Mapping({}, {})
    by_pypi: dict[str, _Entry] = {}
    by_conda: dict[str, _Entry] = {}
    for key, raw in json.loads(text).items():
        entry = _Entry(
            pypi_name=canonical(str(raw.get("pypi_name") or key)),
            conda_name=str(raw.get("conda_name") or key),
            import_name=str(raw.get("import_name") or ""),
        )
        by_pypi[canonical(key)] = entry
        known = by_conda.get(entry.conda_name)
        # conda → PyPI is n:1 (opencv ← opencv-python, opencv-python-headless): keep the
        # first entry unless a later one spells the conda name itself.
        if known is None or (
            known.pypi_name != canonical(entry.conda_name)
            and entry.pypi_name == canonical(entry.conda_name)
        ):
            by_conda[entry.conda_name] = entry
    return _Mapping(by_pypi, by_conda)


def pypi_to_conda(name: str) -> str:
    """The conda-forge name of PyPI distribution ``name`` (``torch`` → ``pytorch``)."""
    entry = _mapping().by_pypi.get(canonical(name))
    if entry is not None:
        return entry.conda_name
    return name.strip().lower().replace("_", "-")


def conda_to_pypi(name: str) -> str:
    """The canonical PyPI name a conda package provides (``pytorch`` → ``torch``)."""
    entry = _mapping().by_conda.get(name.strip().lower())
    if entry is not None:
        return entry.pypi_name
    return canonical(name)


def is_mapped_conda_name(name: str) -> bool:
    """Whether the table lists conda package ``name`` as the build of a PyPI distribution."""
    return name.strip().lower() in _mapping().by_conda


def import_names(pypi_name: str) -> tuple[str, ...]:
    """The top-level module(s) PyPI distribution ``pypi_name`` installs, best guess first.

    From the table's ``import_name``; otherwise the canonical name with ``-`` → ``_``.
    """
    entry = _mapping().by_pypi.get(canonical(pypi_name))
    if entry is not None and entry.import_name:
        return tuple(dict.fromkeys(p.strip() for p in entry.import_name.split(",") if p.strip()))
    return (canonical(pypi_name).replace("-", "_"),)
