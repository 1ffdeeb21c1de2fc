"""apt steps: Debian packages a stage adds (validated names, one cleaned-up layer)."""

from __future__ import annotations

import shlex
from collections.abc import Iterable

from conda2docker.plan.instructions import Run, Shell, check_debian_package

CLEAN_LISTS = "rm -rf /var/lib/apt/lists/*"


def _names(packages: Iterable[str]) -> list[str]:
    return sorted({check_debian_package(name) for name in packages})


def apt_install(packages: Iterable[str]) -> Run:
    """``apt-get install`` of ``packages`` in one layer, lists removed afterwards."""
    names = _names(packages)
    return Run(
        (
            ("apt-get", "update"),
            ("apt-get", "install", "--yes", "--no-install-recommends", *names),
            Shell(CLEAN_LISTS),
        )
    )


def apt_install_missing(packages: Iterable[str]) -> Run:
    """Install only what the base image lacks: a build image that already has the compilers
    and headers (``buildpack-deps``) needs no network, so vendored builds stay offline."""
    names = " ".join(shlex.quote(n) for n in _names(packages))
    return Run(
        (
            Shell(
                f"if ! dpkg -s {names} >/dev/null 2>&1; then apt-get update && "
                f"apt-get install --yes --no-install-recommends {names} && {CLEAN_LISTS}; fi"
            ),
        )
    )
