"""Virtual packages of the container the environment will run in (not of this host)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conda2docker.errors import InputError

LINUX_ARCHSPEC = {
    "linux-64": "x86_64",
    "linux-aarch64": "aarch64",
    "linux-ppc64le": "ppc64le",
    "linux-s390x": "s390x",
}
DEBIAN_BOOKWORM_GLIBC = "2.36"
CONTAINER_KERNEL = "5.15"


@dataclass(frozen=True, slots=True)
class VirtualTarget:
    """What a target container offers: its platform, glibc, and CUDA (GPU variant only)."""

    platform: str
    glibc: str = DEBIAN_BOOKWORM_GLIBC
    cuda: str | None = None

    def packages(self) -> list[tuple[str, str]]:
        """``(name, version)`` pairs, e.g. ``("__glibc", "2.36")``."""
        if self.platform not in LINUX_ARCHSPEC:
            raise InputError(
                f"unsupported target platform {self.platform!r}: containers run Linux",
                fix="use --platform " + " or --platform ".join(LINUX_ARCHSPEC),
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
            build = LINUX_ARCHSPEC[self.platform] if name == "__archspec" else "0"
            out.append(GenericVirtualPackage(PackageName(name), Version(version), BuildString(build)))
        return out
