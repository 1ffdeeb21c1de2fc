"""Conda platforms (subdirs): the one table of what each platform is, and the one policy of
which platforms an image is built, locked and audited for.

Read (selectors, markers, ``--platform``), resolve (virtual packages, wheel tags, which
platforms to lock), audit (which platforms to audit), convert (which platform the Dockerfile
installs), the context (bootstrap wheels) and verify (the image's architecture) all ask here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from conda2docker.errors import InputError
from conda2docker.values import frozen

DEFAULT_PLATFORM = "linux-64"
TARGET_PLATFORMS = ("linux-64", "linux-aarch64", "linux-ppc64le")
"""Platforms an image can be built for: ``--platform`` accepts only these, a lock is made and
audited only for these, and an env's other ``platforms:`` are ignored (``S306``)."""


@frozen
class PlatformFacts:
    """What selectors and PEP 508 markers see on one conda platform."""

    subdir: str
    os: str
    """``linux``, ``osx`` or ``win``."""
    arch: str
    """conda-build's architecture name: ``64``, ``32``, ``aarch64``, ``arm64``, ``ppc64le``, …"""
    machine: str
    """``platform.machine()`` there: ``x86_64``, ``aarch64``, ``arm64``, ``AMD64``, …; also the
    ``__archspec`` build string and the manylinux wheel tag's architecture on Linux."""
    docker_arch: str | None = None
    """The engine's ``Architecture`` of an image for this platform (Linux only)."""

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
        PlatformFacts("linux-64", "linux", "64", "x86_64", "amd64"),
        PlatformFacts("linux-32", "linux", "32", "i686"),
        PlatformFacts("linux-aarch64", "linux", "aarch64", "aarch64", "arm64"),
        PlatformFacts("linux-armv6l", "linux", "armv6l", "armv6l"),
        PlatformFacts("linux-armv7l", "linux", "armv7l", "armv7l"),
        PlatformFacts("linux-ppc64le", "linux", "ppc64le", "ppc64le", "ppc64le"),
        PlatformFacts("linux-ppc64", "linux", "ppc64", "ppc64"),
        PlatformFacts("linux-s390x", "linux", "s390x", "s390x", "s390x"),
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


def lock_targets(requested: Iterable[str], declared: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The platforms to lock or audit for, and the declared ones left out.

    ``--platform`` values when given; else the declared platforms (an env's ``platforms:``,
    a lock's platforms) an image can be built for; else the default platform.
    """
    chosen = tuple(dict.fromkeys(requested))
    if chosen:
        return chosen, ()
    targets = tuple(p for p in declared if p in TARGET_PLATFORMS)
    ignored = tuple(p for p in declared if p not in TARGET_PLATFORMS)
    return (targets or (DEFAULT_PLATFORM,)), ignored


def first_target(requested: Sequence[str]) -> str:
    """The platform a reader targets: the first ``--platform``, else the default."""
    return requested[0] if requested else DEFAULT_PLATFORM


def oci_platform(platform: str) -> str:
    """The OCI platform an engine or a bake file names (``linux/amd64`` for ``linux-64``)."""
    facts = check_target(platform)
    return f"{facts.os}/{facts.docker_arch}"


def platform_of_image(architecture: str) -> str:
    """The conda platform of an image the engine reports with ``Architecture``."""
    return next((f.subdir for f in KNOWN_PLATFORMS.values() if f.docker_arch == architecture),
                DEFAULT_PLATFORM)
