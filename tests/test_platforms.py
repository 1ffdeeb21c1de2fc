"""One platform table and one policy: every step asks ``conda2docker.platforms``."""

from __future__ import annotations

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement

from conda2docker.platforms import (
    DEFAULT_PLATFORM,
    KNOWN_PLATFORMS,
    TARGET_PLATFORMS,
    first_target,
    image_platform,
    lock_targets,
    platform_of_image,
)
from conda2docker.resolve.pip.target import PipTarget
from conda2docker.resolve.virtual import VirtualTarget


def test_targets_are_linux_platforms_of_the_table() -> None:
    assert DEFAULT_PLATFORM in TARGET_PLATFORMS
    for platform in TARGET_PLATFORMS:
        facts = KNOWN_PLATFORMS[platform]
        assert facts.os == "linux" and facts.docker_arch is not None
        assert platform_of_image(facts.docker_arch) == platform


@pytest.mark.parametrize("platform", TARGET_PLATFORMS)
def test_resolve_and_pip_take_the_machine_from_the_table(platform: str) -> None:
    machine = KNOWN_PLATFORMS[platform].machine
    archspec = [p for p in VirtualTarget(platform).rattler_packages() if str(p.name.normalized) == "__archspec"]
    assert str(archspec[0].build_string) == machine
    assert PipTarget(platform=platform).arch == machine
    assert PipTarget(platform=platform).marker_environment()["platform_machine"] == machine


def test_lock_targets_policy() -> None:
    # --platform wins, deduplicated, in order
    assert lock_targets(["linux-aarch64", "linux-64", "linux-aarch64"], ["osx-64"]) == (
        ("linux-aarch64", "linux-64"), ())
    # else the declared platforms an image can be built for; the rest are reported
    assert lock_targets([], ["osx-arm64", "linux-aarch64", "win-64", "linux-s390x"]) == (
        ("linux-aarch64",), ("osx-arm64", "win-64", "linux-s390x"))
    # else the default
    assert lock_targets([], ["osx-arm64"]) == ((DEFAULT_PLATFORM,), ("osx-arm64",))
    assert lock_targets([], []) == ((DEFAULT_PLATFORM,), ())


def test_image_platform_and_first_target() -> None:
    assert image_platform(["osx-arm64", "linux-aarch64", "linux-64"]) == "linux-64"
    assert image_platform(["osx-arm64", "linux-aarch64"]) == "linux-aarch64"
    assert image_platform(["osx-arm64"]) == DEFAULT_PLATFORM
    assert first_target(()) == DEFAULT_PLATFORM
    assert first_target(("linux-ppc64le", "linux-64")) == "linux-ppc64le"
    assert platform_of_image("riscv") == DEFAULT_PLATFORM


@pytest.mark.parametrize("platform", sorted(KNOWN_PLATFORMS))
def test_pip_markers_are_the_table_s(platform: str) -> None:
    facts = KNOWN_PLATFORMS[platform]
    markers = PipTarget(platform=platform).marker_environment()
    assert (markers["sys_platform"], markers["platform_system"], markers["os_name"],
            markers["platform_machine"]) == (facts.sys_platform, facts.platform_system,
                                             facts.os_name, facts.machine)


def _interpreter(os_name: str, sys_platform: str, system: str, machine: str, python: str) -> dict[str, str]:
    """PEP 508's variables for CPython ``python`` on that system, as the interpreter itself
    reports them (``packaging.markers.default_environment()`` run there), but for the two that
    describe the running kernel, which an image does not fix: empty."""
    return {"implementation_name": "cpython", "implementation_version": python, "os_name": os_name,
            "platform_machine": machine, "platform_release": "", "platform_system": system,
            "platform_version": "", "python_full_version": python,
            "platform_python_implementation": "CPython", "python_version": python.rsplit(".", 1)[0],
            "sys_platform": sys_platform}


@pytest.mark.parametrize(("platform", "python", "expected"), [
    ("linux-aarch64", "3.12.4", _interpreter("posix", "linux", "Linux", "aarch64", "3.12.4")),
    ("linux-64", "3.10.14", _interpreter("posix", "linux", "Linux", "x86_64", "3.10.14")),
    ("osx-arm64", "3.13.1", _interpreter("posix", "darwin", "Darwin", "arm64", "3.13.1")),
    ("win-64", "3.9.19", _interpreter("nt", "win32", "Windows", "AMD64", "3.9.19")),
], ids=["linux-aarch64", "linux-64", "osx-arm64", "win-64"])
def test_pip_markers_are_every_pep_508_variable_of_the_target_not_of_this_machine(
        platform: str, python: str, expected: dict[str, str]) -> None:
    """pip's marker evaluation falls back to the running interpreter for a variable it is not
    given: the target names every variable, so a marker never reads this machine's Python,
    kernel or CPU (``implementation_version < "3.11"`` on a 3.12 target, whatever runs us)."""
    markers = PipTarget(platform=platform, python_version=python).marker_environment()
    assert markers == expected
    assert markers.keys() == default_environment().keys()


# cryptography 42 (its Requires-Dist) and textile (its install_requires): what only CPython needs
CPYTHON_ONLY = ('cffi>=1.12; platform_python_implementation != "PyPy"', 'regex>1.0; implementation_name != "pypy"')


@pytest.mark.parametrize(("implementation", "named"), [("cp", ("cpython", "CPython")), ("pp", ("pypy", "PyPy"))],
                         ids=["cpython", "pypy"])
def test_a_cpython_only_dependency_is_taken_for_a_cpython_target_only(implementation: str,
                                                                      named: tuple[str, str]) -> None:
    markers = PipTarget(python_version="3.10.14", implementation=implementation).marker_environment()
    assert (markers["implementation_name"], markers["platform_python_implementation"]) == named
    for requirement in CPYTHON_ONLY:
        marker = Requirement(requirement).marker
        assert marker is not None and marker.evaluate(markers) is (implementation == "cp"), requirement
