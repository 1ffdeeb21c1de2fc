"""PEP 508 markers evaluated per target platform, for the reader and the resolver."""

from __future__ import annotations

import pytest

from conda2docker.errors import InputError
from conda2docker.read.markers import marker_applies


@pytest.mark.parametrize(
    ("marker", "platform", "python", "expected"),
    [
        ('sys_platform == "win32"', "linux-64", None, False),
        ('sys_platform == "win32"', "win-64", None, True),
        ('sys_platform != "win32"', "linux-64", None, True),
        ('platform_system == "Darwin"', "osx-arm64", None, True),
        ('platform_system == "Darwin"', "linux-64", None, False),
        ('platform_system == "Linux"', "linux-aarch64", None, True),
        ('os_name == "nt"', "win-64", None, True),
        ('os_name == "posix"', "linux-ppc64le", None, True),
        ('platform_machine == "x86_64"', "linux-64", None, True),
        ('platform_machine == "x86_64"', "linux-aarch64", None, False),
        ('platform_machine == "aarch64"', "linux-aarch64", None, True),
        ('platform_machine == "arm64"', "osx-arm64", None, True),
        ('platform_machine == "ppc64le"', "linux-ppc64le", None, True),
        ('python_version < "3.11"', "linux-64", "3.11", False),
        ('python_version < "3.11"', "linux-64", "3.10.4", True),
        ('python_full_version >= "3.10.4"', "linux-64", "3.10.4", True),
        ('python_full_version >= "3.10.5"', "linux-64", "3.10.4", False),
        ('python_version < "3.11"', "linux-64", None, True),
        ('python_version < "2.0"', "linux-64", None, False),
        ('sys_platform == "linux" and python_version >= "3.8"', "linux-64", "3.7", False),
        ('implementation_name == "cpython"', "linux-64", None, True),
        ('extra == "test"', "linux-64", None, False),
        ("", "linux-64", None, True),
    ],
)
def test_marker_applies(marker: str, platform: str, python: str | None, expected: bool) -> None:
    assert marker_applies(marker, platform, python) is expected


def test_a_malformed_marker_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="Expected"):
        marker_applies("sys_platform ==", "linux-64", None)


def test_an_unknown_platform_is_an_input_error() -> None:
    with pytest.raises(InputError, match="unknown platform"):
        marker_applies('sys_platform == "linux"', "beos-64", None)
