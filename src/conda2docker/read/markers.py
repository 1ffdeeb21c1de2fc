"""PEP 508 environment markers (``; sys_platform == "win32"``) evaluated for a conda platform."""

from __future__ import annotations

from functools import lru_cache

from conda2docker.platforms import platform_facts

# When the python version is unknown, a marker applies if it holds for any of these.
_PYTHONS = ("2.7", *(f"3.{minor}" for minor in range(0, 20)))


def marker_applies(marker: str, platform: str, python_version: str | None = None) -> bool:
    """Whether a requirement with this marker is installed on ``platform`` (e.g. ``linux-64``).

    ``python_version`` is ``"3.11"`` or ``"3.11.4"``; when None, the marker applies if it holds
    for some CPython version. Raises ``ValueError`` (``InvalidMarker``) for a malformed marker
    and :class:`~conda2docker.errors.InputError` for an unknown platform.
    """
    return _applies(marker.strip(), platform, python_version)


@lru_cache(maxsize=1024)
def _applies(marker: str, platform: str, python_version: str | None) -> bool:
    from packaging.markers import Marker

    if not marker:
        return True
    parsed = Marker(marker)
    facts = platform_facts(platform)
    base = {
        "os_name": facts.os_name,
        "sys_platform": facts.sys_platform,
        "platform_system": facts.platform_system,
        "platform_machine": facts.machine,
        "platform_release": "",
        "platform_version": "",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "extra": "",
    }
    versions = (python_version,) if python_version else _PYTHONS
    for version in versions:
        parts = version.split(".")
        short = ".".join(parts[:2])
        full = version if len(parts) >= 3 else f"{short}.0"
        environment = {
            **base,
            "python_version": short,
            "python_full_version": full,
            "implementation_version": full,
        }
        if parsed.evaluate(environment):
            return True
    return False
