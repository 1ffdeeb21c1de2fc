"""One platform table and one policy: every step asks ``conda2docker.platforms``."""

from __future__ import annotations

import pytest

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
