"""Conda platforms (subdirs): which ones the reader targets and what each one is."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from conda2docker.errors import InputError
from conda2docker.model import DEFAULT_PLATFORM

TARGET_PLATFORMS = ("linux-64", "linux-aarch64", "linux-ppc64le")
"""Platforms an image can be built for; ``read_input`` accepts only these."""


@dataclass(frozen=True, slots=True)
class PlatformFacts:
    """What selectors and PEP 508 markers see on one conda platform."""

    subdir: str
    os: str
    """``linux``, ``osx`` or ``win``."""
    arch: str
    """conda-build's architecture name: ``64``, ``32``, ``aarch64``, ``arm64``, ``ppc64le``, …"""
    machine: str
    """``platform.machine()`` there: ``x86_64``, ``aarch64``, ``arm64``, ``AMD64``, …"""

    @property
    def sys_platform(self) -> str:
        return {"linux": "linux", "osx": "darwin", "win": "win32"}[self.os]

    @property
    def platform_system(self) -> str:
        return {"linux": "Linux", "osx": "Darwin", "win": "Windows"}[self.os]

    @property
    def os_name(self) -> str:
        return "nt" if self.os == "win" else "posix"


KNOWN_PLATFORMS: dict[str, PlatformFacts] = {
    facts.subdir: facts
    for facts in (
        PlatformFacts("linux-64", "linux", "64", "x86_64"),
        PlatformFacts("linux-32", "linux", "32", "i686"),
        PlatformFacts("linux-aarch64", "linux", "aarch64", "aarch64"),
        PlatformFacts("linux-armv6l", "linux", "armv6l", "armv6l"),
        PlatformFacts("linux-armv7l", "linux", "armv7l", "armv7l"),
        PlatformFacts("linux-ppc64le", "linux", "ppc64le", "ppc64le"),
        PlatformFacts("linux-ppc64", "linux", "ppc64", "ppc64"),
        PlatformFacts("linux-s390x", "linux", "s390x", "s390x"),
        PlatformFacts("linux-riscv64", "linux", "riscv64", "riscv64"),
        PlatformFacts("osx-64", "osx", "64", "x86_64"),
        PlatformFacts("osx-arm64", "osx", "arm64", "arm64"),
        PlatformFacts("win-64", "win", "64", "AMD64"),
        PlatformFacts("win-32", "win", "32", "x86"),
        PlatformFacts("win-arm64", "win", "arm64", "ARM64"),
    )
}
"""Every platform a ``platforms:`` key may name (``noarch`` is not a platform)."""


def platform_facts(platform: str) -> PlatformFacts:
    facts = KNOWN_PLATFORMS.get(platform)
    if facts is None:
        raise InputError(
            f"unknown platform {platform!r}",
            fix=f"use one of {', '.join(KNOWN_PLATFORMS)}",
        )
    return facts


def check_target(platform: str) -> PlatformFacts:
    """The facts of a platform an image can be built for, or an :class:`InputError`."""
    if platform not in TARGET_PLATFORMS:
        raise InputError(
            f"cannot target platform {platform!r}: images are Linux",
            fix=f"use --platform with one of {', '.join(TARGET_PLATFORMS)}",
        )
    return KNOWN_PLATFORMS[platform]


def image_platform(platforms: Sequence[str]) -> str:
    """The platform an image installs from a lock covering ``platforms`` when none is asked for.

    linux-64 when the lock covers it, else the first platform an image can be built for.
    """
    if DEFAULT_PLATFORM in platforms:
        return DEFAULT_PLATFORM
    return next((p for p in platforms if p in TARGET_PLATFORMS), DEFAULT_PLATFORM)
