"""Packages that exist only for Windows or macOS, and what a Linux image does with them.

`conda env export` on Windows or macOS lists the runtime of that OS (``vc``, ``ucrt``,
``libcxx``, …) next to the real requests; on Linux they do not exist (or mean something
else), so a lock of the file as written is unsolvable. Each rule drops the package (audit
``S301``) or maps it to the Linux package that does the same job (``S302``).

The table, first match wins (``*`` is a glob over the conda package name):

====================================  ======  =====================================================
name                                  action  why
====================================  ======  =====================================================
vc, vc14_runtime, vs20*_runtime, ucrt  drop   MSVC / Universal C runtime; Linux builds use glibc
m2w64-* (incl. m2w64-toolchain),       drop   MinGW-w64 / MSYS2 toolchains and runtimes for Windows;
m2-*, msys2-*, libwinpthread,                 Linux gets gcc from ``*-compiler`` packages
pthreads-win32, libpython
pywin32, pywinpty, winpty, wincertstore drop  Windows APIs or Windows-only helpers
win_inet_pton, console_shortcut,
powershell_shortcut, vswhere
vs20*_win-*                            map    → ``cxx-compiler`` (the MSVC activation package)
clang_win-*, clang_osx-*               map    → ``c-compiler``
clangxx_osx-*                          map    → ``cxx-compiler``
gfortran_osx-*                         map    → ``fortran-compiler``
other *_win-*, *_osx-*                 drop   activation packages of another OS's toolchain
appnope, pyobjc, pyobjc-*, python.app  drop   macOS-only (App Nap, Objective-C bridge, framework
                                              python)
libcxx, libcxxabi, llvm-openmp,        drop   only in files written on macOS (a ``/Users/`` prefix,
cctools, ld64, tapi                           a macOS-only package, ``mac``/``osx`` in the file
                                              name): the C++ runtime, OpenMP runtime and linker
                                              of macOS builds. They exist on Linux too, where
                                              nothing needs them as requests; ``llvm-openmp`` is
                                              not mapped to ``_openmp_mutex`` because packages
                                              that use OpenMP pull that in themselves.
*_linux-<arch> for another arch        map    → ``*_<target>`` (``gcc_linux-64`` →
                                              ``gcc_linux-aarch64``)
====================================  ======  =====================================================

``intel-openmp``, ``mkl``, ``tbb`` and ``clang`` exist on Linux and are kept. pip requirements
get a shorter table: ``pywin32``, ``pypiwin32``, ``pywinpty``, ``windows-curses``, ``pyobjc*``
and ``tensorflow-metal`` are dropped and ``tensorflow-macos`` maps to ``tensorflow``.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
import re
from fnmatch import fnmatchcase
from typing import Literal

from conda2docker.model import CondaDependency, PipRequirement, ReaderChange
from conda2docker.platforms import KNOWN_PLATFORMS
from conda2docker.values import frozen

Origin = Literal["win", "osx"]

_WIN_RUNTIME = "the Windows C/C++ runtime; on Linux packages use glibc and libstdc++"
_WIN_TOOLS = "a Windows (MinGW-w64/MSYS2) toolchain or runtime; Linux gets gcc from *-compiler"
_WIN_API = "a Windows-only package"
_OSX_ONLY = "a macOS-only package"
_OSX_RUNTIME = (
    "part of the macOS build toolchain/runtime (this file was written on macOS); "
    "Linux packages bring their own runtime"
)
_COMPILER = "the compiler activation package of another OS; this is its Linux counterpart"


@frozen
class Rule:
    """A package that exists only for another OS: what matches it, why, and what Linux takes instead."""
    pattern: str
    origin: Origin
    reason: str
    target: str | None = None
    """The Linux package for a mapping rule; None drops the package."""
    needs_evidence: bool = False
    """Apply only when the file shows it was written on ``origin``."""


CONDA_RULES: tuple[Rule, ...] = (
    *(Rule(p, "win", _WIN_RUNTIME) for p in ("vc", "vc14_runtime", "vs20*_runtime", "ucrt")),
    *(
        Rule(p, "win", _WIN_TOOLS)
        for p in ("m2w64-*", "m2-*", "msys2-*", "libwinpthread", "pthreads-win32", "libpython")
    ),
    *(
        Rule(p, "win", _WIN_API)
        for p in (
            "pywin32",
            "pywinpty",
            "winpty",
            "wincertstore",
            "win_inet_pton",
            "console_shortcut",
            "powershell_shortcut",
            "vswhere",
        )
    ),
    Rule("vs20*_win-*", "win", _COMPILER, "cxx-compiler"),
    Rule("clang_win-*", "win", _COMPILER, "c-compiler"),
    Rule("clang_osx-*", "osx", _COMPILER, "c-compiler"),
    Rule("clangxx_osx-*", "osx", _COMPILER, "cxx-compiler"),
    Rule("gfortran_osx-*", "osx", _COMPILER, "fortran-compiler"),
    Rule("*_win-*", "win", "built for Windows only (the name ends in a Windows platform)"),
    Rule("*_osx-*", "osx", "built for macOS only (the name ends in a macOS platform)"),
    *(Rule(p, "osx", _OSX_ONLY) for p in ("appnope", "pyobjc", "pyobjc-*", "python.app")),
    *(
        Rule(p, "osx", _OSX_RUNTIME, needs_evidence=True)
        for p in ("libcxx", "libcxxabi", "llvm-openmp", "cctools", "ld64", "tapi")
    ),
)

PIP_RULES: tuple[Rule, ...] = (
    *(Rule(p, "win", _WIN_API) for p in ("pywin32", "pypiwin32", "pywinpty", "windows-curses")),
    Rule("pyobjc", "osx", _OSX_ONLY),
    Rule("pyobjc-*", "osx", _OSX_ONLY),
    Rule("tensorflow-metal", "osx", "Apple's Metal plugin for TensorFlow (macOS only)"),
    Rule(
        "tensorflow-macos",
        "osx",
        "Apple's macOS build of TensorFlow; Linux uses the regular package",
        "tensorflow",
    ),
)

EVIDENCE_PACKAGES: dict[Origin, tuple[str, ...]] = {
    "osx": ("appnope", "pyobjc-*", "python.app", "*_osx-*"),
    "win": ("vc", "ucrt", "m2w64-*", "msys2-*", "pywin32", "*_win-*", "vs20*_runtime"),
}


def origin_evidence(names: list[str], prefix: str | None, file_name: str) -> frozenset[Origin]:
    """Which non-Linux OS the file looks written on (from packages, ``prefix:``, name)."""
    found: set[Origin] = set()
    for origin, patterns in EVIDENCE_PACKAGES.items():
        if any(fnmatchcase(n, p) for n in names for p in patterns):
            found.add(origin)
    if prefix:
        if prefix.startswith(("/Users/", "/Applications/", "/opt/homebrew/")):
            found.add("osx")
        if (len(prefix) > 2 and prefix[1] == ":") or prefix.startswith("\\\\"):
            found.add("win")
    words = set(re.split(r"[^a-z0-9]+", file_name.lower()))
    if words & {"mac", "macos", "osx", "darwin", "apple"}:
        found.add("osx")
    if words & {"win", "windows", "win64", "win32"}:
        found.add("win")
    return frozenset(found)


@functools.cache
def _any_rule(rules: tuple[Rule, ...]) -> re.Pattern[str]:
    """One pattern matching the names some rule covers: most names match none, and one
    regular expression rejects them faster than a glob per rule."""
    return re.compile("|".join(f"(?:{fnmatch.translate(rule.pattern)})" for rule in rules))


def _rule_for(name: str, rules: tuple[Rule, ...], evidence: frozenset[Origin]) -> Rule | None:
    if not _any_rule(rules).match(name):
        return None
    for rule in rules:
        if fnmatchcase(name, rule.pattern):
            if rule.needs_evidence and rule.origin not in evidence:
                return None
            return rule
    return None


def _other_linux_arch(name: str, target: str) -> str | None:
    base, sep, suffix = name.rpartition("_linux-")
    if not sep or not base or f"linux-{suffix}" == target:
        return None
    if f"linux-{suffix}" not in KNOWN_PLATFORMS:
        return None
    return f"{base}_{target}"


def adapt_conda(
    dependency: CondaDependency, target: str, evidence: frozenset[Origin]
) -> tuple[CondaDependency | None, ReaderChange | None]:
    """The dependency as the Linux image needs it (None when dropped), and the change made."""
    mapped_name = _other_linux_arch(dependency.name, target)
    if mapped_name is not None:
        mapped = dataclasses.replace(dependency, name=mapped_name)
        return mapped, ReaderChange(
            action="mapped",
            subject=dependency.name,
            reason=f"built for another Linux architecture; the {target} counterpart is "
            f"{mapped_name}",
            code="S302",
            detail=mapped.matchspec,
            location=dependency.location,
        )
    rule = _rule_for(dependency.name, CONDA_RULES, evidence)
    if rule is None:
        return dependency, None
    if rule.target is None:
        return None, ReaderChange(
            action="dropped",
            subject=dependency.name,
            reason=f"{rule.reason}; not installable on {target}",
            code="S301",
            detail=dependency.raw.strip(),
            location=dependency.location,
        )
    mapped = CondaDependency(
        name=rule.target,
        channel=dependency.channel,
        raw=dependency.raw,
        location=dependency.location,
    )
    return mapped, ReaderChange(
        action="mapped",
        subject=dependency.name,
        reason=f"{rule.reason}: {rule.target} (version and build of the original dropped)",
        code="S302",
        detail=mapped.matchspec,
        location=dependency.location,
    )


def adapt_pip(
    requirement: PipRequirement, target: str
) -> tuple[PipRequirement | None, ReaderChange | None]:
    """Same as :func:`adapt_conda` for a pip requirement from a package index."""
    if requirement.kind != "registry" or requirement.name is None or requirement.marker:
        return requirement, None
    rule = _rule_for(requirement.name, PIP_RULES, frozenset())
    if rule is None:
        return requirement, None
    if rule.target is None:
        return None, ReaderChange(
            action="dropped",
            subject=requirement.name,
            reason=f"{rule.reason}; not installable on {target}",
            code="S301",
            detail=requirement.raw.strip(),
            location=requirement.location,
        )
    mapped = dataclasses.replace(requirement, name=rule.target)
    return mapped, ReaderChange(
        action="mapped",
        subject=requirement.name,
        reason=f"{rule.reason}: {rule.target}",
        code="S302",
        detail=f"{rule.target}{requirement.specifier}",
        location=requirement.location,
    )
