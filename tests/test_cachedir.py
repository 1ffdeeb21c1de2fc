"""Every cache conda2docker keeps is below one root, chosen as documented in the README."""

from __future__ import annotations

from pathlib import Path

import pytest

from conda2docker.cachedir import cache_root
from conda2docker.resolve import conda, pypi


@pytest.mark.parametrize(
    ("conda2docker_cache", "xdg_cache_home", "expected"),
    [
        ("/srv/c2d", "/xdg", "/srv/c2d"),
        (None, "/xdg", "/xdg/conda2docker"),
        (None, None, "/home/lab/.cache/conda2docker"),
        ("", "", "/home/lab/.cache/conda2docker"),  # empty is unset, as for XDG variables
    ],
)
def test_the_cache_root_is_chosen_from_the_environment(
        monkeypatch: pytest.MonkeyPatch, conda2docker_cache: str | None, xdg_cache_home: str | None,
        expected: str) -> None:
    monkeypatch.setenv("HOME", "/home/lab")
    for name, value in (("CONDA2DOCKER_CACHE", conda2docker_cache), ("XDG_CACHE_HOME", xdg_cache_home)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    assert cache_root() == Path(expected)
    assert conda.default_cache_dir() == Path(expected) / "rattler"
    assert pypi.default_cache_dir() == Path(expected) / "pypi"
