"""apt steps: Debian packages a stage adds (validated names, one cleaned-up layer)."""

from __future__ import annotations

import shlex
from collections.abc import Iterable

from conda2docker.plan.instructions import Run, Shell, check_debian_package

CLEAN_LISTS = "rm -rf /var/lib/apt/lists/*"

PROVIDED_COMMANDS: dict[str, tuple[str, ...]] = {
    "build-essential": ("gcc", "g++", "make"),
    "cargo": ("cargo",),
    "cmake": ("cmake",),
    "gfortran": ("gfortran",),
    "git": ("git",),
    "pkg-config": ("pkg-config",),
    "rustc": ("rustc",),
}
"""Tools an apt package brings, by the commands that must be on PATH. A base image is judged
by these commands, not by the package name: the public ``buildpack-deps`` has gcc, g++ and make
without the ``build-essential`` metapackage, a CUDA devel image has its own compilers."""


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


def present_test(names: Iterable[str]) -> str:
    """A shell test that holds when the base image already provides every package of
    ``names``: their commands on PATH for tools (:data:`PROVIDED_COMMANDS`), an installed
    package for headers and libraries (``dpkg -s``)."""
    commands = sorted({c for n in names for c in PROVIDED_COMMANDS.get(n, ())})
    packages = [n for n in names if n not in PROVIDED_COMMANDS]
    tests = [f"command -v {shlex.quote(c)}" for c in commands]
    if packages:
        tests.append("dpkg -s " + " ".join(shlex.quote(p) for p in packages))
    return "{ " + " && ".join(tests) + "; } >/dev/null 2>&1"


def apt_install_missing(packages: Iterable[str]) -> Run:
    """Install only what the base image lacks: a build image that already has the compilers
    and headers (``buildpack-deps``) needs no network, so vendored builds stay offline."""
    names = _names(packages)
    words = " ".join(shlex.quote(n) for n in names)
    return Run(
        (
            Shell(
                f"if ! {present_test(names)}; then apt-get update && "
                f"apt-get install --yes --no-install-recommends {words} && {CLEAN_LISTS}; fi"
            ),
        )
    )


def require_commands(commands: Iterable[str], where: str, fix: str) -> Run:
    """Fail the step with one clear line when a tool the stage needs is not on PATH (e.g.
    ``nvcc`` in a CUDA devel base): tools no apt package of ours provides."""
    names = sorted(set(commands))
    for name in names:
        check_debian_package(name)  # the same plain-word rule: nothing a shell would expand
    tests = " && ".join(f"command -v {shlex.quote(n)} >/dev/null 2>&1" for n in names)
    message = shlex.quote(f"conda2docker: {', '.join(names)} not found on PATH in {where}; fix: {fix}")
    return Run((Shell(f"if ! {{ {tests}; }}; then echo {message} >&2; exit 1; fi"),))
