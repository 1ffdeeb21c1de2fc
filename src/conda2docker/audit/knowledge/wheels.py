"""glibc floors from wheel platform tags and conda ``__glibc`` dependencies."""

from __future__ import annotations

import re

Glibc = tuple[int, int]

_LEGACY = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}
_PEP600 = re.compile(r"^manylinux_(\d+)_(\d+)_")
_LOWER_BOUND = re.compile(r">=?\s*(\d+)\.(\d+)")


def parse_glibc(text: str) -> Glibc:
    major, _, minor = text.strip().partition(".")
    return int(major), int(minor.split(".")[0] or 0)


def wheel_glibc(file_name: str) -> Glibc | None:
    """The oldest glibc a wheel runs on; None for pure, musl, macOS or Windows wheels.

    A compressed tag set (``manylinux_2_17_x86_64.manylinux2014_x86_64``) needs any one.
    """
    if not file_name.endswith(".whl"):
        return None
    parts = file_name[: -len(".whl")].split("-")
    if len(parts) < 5:
        return None
    floors: list[Glibc] = []
    for tag in parts[-1].split("."):
        legacy = tag.split("_", 1)[0]
        if legacy in _LEGACY:
            floors.append(_LEGACY[legacy])
        elif match := _PEP600.match(tag):
            floors.append((int(match[1]), int(match[2])))
    return min(floors) if floors else None


def conda_glibc(spec: str) -> Glibc | None:
    """The lower bound of a conda ``__glibc`` dependency spec (``>=2.17,<3.0.a0`` → 2.17)."""
    match = _LOWER_BOUND.search(spec)
    return (int(match[1]), int(match[2])) if match else None


def show(glibc: Glibc) -> str:
    return f"{glibc[0]}.{glibc[1]}"
