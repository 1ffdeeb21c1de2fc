"""Virtual packages of the container the environment will run in (not of this host)."""

from __future__ import annotations

from typing import Any

from conda2docker.errors import InputError
from conda2docker.image import RUNTIME_GLIBC
from conda2docker.platforms import KNOWN_PLATFORMS, TARGET_PLATFORMS
from conda2docker.values import frozen

CONTAINER_KERNEL = "5.15"


@frozen
class VirtualTarget:
    """What a target container offers: its platform, glibc, and CUDA (GPU variant only)."""

    platform: str
    glibc: str = RUNTIME_GLIBC
    cuda: str | None = None

    def packages(self) -> list[tuple[str, str]]:
        """``(name, version)`` pairs, e.g. ``("__glibc", "2.36")``."""
        if self.platform not in TARGET_PLATFORMS:
            raise InputError(
                f"unsupported target platform {self.platform!r}: containers run Linux",
                fix="use --platform " + " or --platform ".join(TARGET_PLATFORMS),
            )
        items = [
            ("__unix", "0"),
            ("__linux", CONTAINER_KERNEL),
            ("__glibc", self.glibc),
            ("__archspec", "1"),
        ]
        if self.cuda:
            items.append(("__cuda", self.cuda))
        return items

    def rattler_packages(self) -> list[Any]:
        from rattler import BuildString, GenericVirtualPackage, PackageName, Version

        out: list[Any] = []
        for name, version in self.packages():
            build = KNOWN_PLATFORMS[self.platform].machine if name == "__archspec" else "0"
            out.append(GenericVirtualPackage(PackageName(name), Version(version), BuildString(build)))
        return out
