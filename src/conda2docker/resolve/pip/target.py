"""The pip target: platform, Python and glibc, and the wheel tags they accept."""

from __future__ import annotations

import re
from functools import cache

from packaging.tags import Tag, compatible_tags, cpython_tags, mac_platforms
from packaging.utils import parse_wheel_filename

from conda2docker.image import RUNTIME_GLIBC
from conda2docker.platforms import DEFAULT_PLATFORM, KNOWN_PLATFORMS, PlatformFacts
from conda2docker.values import frozen

MACOS_VERSION = {"osx-64": (10, 13), "osx-arm64": (11, 0)}
LEGACY_MANYLINUX = {"manylinux2014": (2, 17), "manylinux2010": (2, 12), "manylinux1": (2, 5)}
MAX_ROUNDS = 2000
GIT_TIMEOUT = 120.0


# -- the target -----------------------------------------------------------------------


@frozen
class PipTarget:
    """Where the pip packages will run: conda platform, CPython version, base image glibc."""

    platform: str = DEFAULT_PLATFORM
    python_version: str = "3.11.7"
    glibc: str = RUNTIME_GLIBC
    implementation: str = "cp"
    free_threaded: bool = False
    """A free-threaded CPython (3.13t and later; conda-forge builds ``*_cp313t``)."""

    @property
    def python(self) -> tuple[int, int]:
        major, minor = self.python_version.split(".")[:2]
        return int(major), int(minor)

    @property
    def facts(self) -> PlatformFacts:
        """The platform table's row (the default platform's for a name it does not know)."""
        return KNOWN_PLATFORMS.get(self.platform) or KNOWN_PLATFORMS[DEFAULT_PLATFORM]

    @property
    def arch(self) -> str:
        return self.facts.machine

    def describe(self) -> str:
        threading = "t" if self.free_threaded else ""
        return (f"{self.platform} {self.implementation}{self.python[0]}{self.python[1]}"
                f"{threading} glibc {self.glibc}")

    @property
    def abi(self) -> str:
        """The interpreter's own ABI tag, as pip's tag logic (``packaging.tags``) derives it.

        CPython before 3.8 is built with pymalloc (``m``), and CPython 2 for Linux with
        4-byte unicode (``u``; conda's and the distributions' builds): ``cp27mu``,
        ``cp36m``; from 3.8 on ``cp38``; a free-threaded 3.13+ is ``cp313t``.
        """
        major, minor = self.python
        nodot = f"{major}{minor}"
        if self.implementation != "cp":
            return "none"
        if self.free_threaded and (major, minor) >= (3, 13):
            return f"cp{nodot}t"
        if (major, minor) < (3, 3):
            return f"cp{nodot}mu"
        if (major, minor) < (3, 8):
            return f"cp{nodot}m"
        return f"cp{nodot}"

    def marker_environment(self) -> dict[str, str]:
        """PEP 508 marker values of the target interpreter."""
        facts = self.facts
        return {
            "implementation_name": "cpython" if self.implementation == "cp" else "pypy",
            "implementation_version": self.python_version,
            "os_name": facts.os_name,
            "platform_machine": facts.machine,
            "platform_release": "",
            "platform_system": facts.platform_system,
            "platform_version": "",
            "python_full_version": self.python_version,
            "platform_python_implementation": "CPython" if self.implementation == "cp" else "PyPy",
            "python_version": f"{self.python[0]}.{self.python[1]}",
            "sys_platform": facts.sys_platform,
        }


def is_free_threaded(python_build: str | None) -> bool:
    """True for a free-threaded CPython package (conda-forge build ``…_cp313t``)."""
    return bool(python_build) and re.search(r"_cp3\d+t\Z", python_build or "") is not None


def glibc_tuple(version: str) -> tuple[int, int]:
    major, minor = ([*version.split("."), "0"])[:2]
    return int(major), int(minor)


def platform_tags(target: PipTarget, glibc: str | None = None) -> list[str]:
    """Wheel platform tags the target accepts, most specific first."""
    if target.platform.startswith("osx"):
        return list(mac_platforms(MACOS_VERSION.get(target.platform, (11, 0)), target.arch))
    if target.platform.startswith("win"):
        return ["win_amd64"]
    arch = target.arch
    major, minor = glibc_tuple(glibc or target.glibc)
    lowest = 5 if arch in ("x86_64", "i686") else 17
    tags = []
    for m in range(minor, lowest - 1, -1):
        tags.append(f"manylinux_{major}_{m}_{arch}")
        tags += [f"{alias}_{arch}" for alias, ver in LEGACY_MANYLINUX.items() if ver == (major, m)]
    return [*tags, f"linux_{arch}"]


@cache
def supported_tags(target: PipTarget, glibc: str | None = None) -> dict[Tag, int]:
    """Every wheel tag the target accepts, mapped to its priority (0 = best)."""
    plats = platform_tags(target, glibc)
    nodot = f"{target.python[0]}{target.python[1]}"
    tags: list[Tag] = []
    if target.implementation == "cp":
        tags += cpython_tags(target.python, [target.abi], plats)
    tags += compatible_tags(target.python, f"{target.implementation}{nodot}", plats)
    return {tag: i for i, tag in reversed(list(enumerate(tags)))}


def wheel_priority(filename: str, target: PipTarget) -> int | None:
    """The wheel's best tag priority for the target, or None if it cannot be installed."""
    _, _, _, tags = parse_wheel_filename(filename)
    supported = supported_tags(target)
    ranks = [supported[t] for t in tags if t in supported]
    return min(ranks) if ranks else None


def glibc_needed(filename: str, target: PipTarget) -> str | None:
    """The glibc a wheel needs when that is the only reason the target rejects it."""
    if not target.platform.startswith("linux") or wheel_priority(filename, target) is not None:
        return None
    relaxed = supported_tags(target, "2.99")
    _, _, _, tags = parse_wheel_filename(filename)
    needs = []
    for tag in sorted(tags, key=str):  # in one order whatever the hash seed
        if tag not in relaxed:
            continue
        legacy = [v for alias, v in LEGACY_MANYLINUX.items() if tag.platform.startswith(alias + "_")]
        if legacy:
            needs += legacy
        elif (m := re.match(r"manylinux_(\d+)_(\d+)_", tag.platform)) is not None:
            needs.append((int(m[1]), int(m[2])))
    if not needs:
        return None
    low = min(needs)
    return f"{low[0]}.{low[1]}"


