"""PyPI ↔ conda names from conda-pypi's grayskull table."""

from __future__ import annotations

import json
from importlib import resources

import pytest
from hypothesis import given
from hypothesis import strategies as st
from packaging.utils import canonicalize_name

from conda2docker.names import (
    canonical,
    conda_to_pypi,
    import_names,
    is_mapped_conda_name,
    pypi_to_conda,
)


@pytest.mark.parametrize(
    ("pypi", "conda"),
    [
        ("torch", "pytorch"),
        ("typing_extensions", "typing_extensions"),
        ("Typing-Extensions", "typing_extensions"),
        ("matplotlib", "matplotlib-base"),
        ("ruamel.yaml", "ruamel.yaml"),
        ("tzdata", "python-tzdata"),
        ("pyyaml", "pyyaml"),  # absent from the table: identity
        ("Some_Unknown_Pkg", "some-unknown-pkg"),
        ("Jaraco.Tidelift", "jaraco.tidelift"),  # unmapped dots are kept, as conda-forge spells it
    ],
)
def test_pypi_to_conda(pypi: str, conda: str) -> None:
    assert pypi_to_conda(pypi) == conda


@pytest.mark.parametrize(
    ("conda", "pypi"),
    [
        ("pytorch", "torch"),
        ("typing_extensions", "typing-extensions"),
        ("matplotlib-base", "matplotlib"),
        ("msgpack-python", "msgpack"),
        ("opencv", "opencv-python"),  # n:1 in the table: the first entry wins
        ("python-tzdata", "tzdata"),
        ("some_unknown.pkg", "some-unknown-pkg"),  # canonicalised
    ],
)
def test_conda_to_pypi(conda: str, pypi: str) -> None:
    assert conda_to_pypi(conda) == pypi


def test_import_names() -> None:
    assert import_names("python-dateutil") == ("dateutil",)
    assert import_names("PyYAML") == ("pyyaml",)  # unmapped: canonical name, '-' → '_'
    assert import_names("my-thing") == ("my_thing",)
    assert import_names("psycopg2-binary") == ("psycopg2",)


def test_is_mapped_conda_name() -> None:
    assert is_mapped_conda_name("pytorch")
    assert is_mapped_conda_name("numpy")
    assert not is_mapped_conda_name("libzlib")


def test_round_trip_over_the_whole_table() -> None:
    """Every 1:1 entry maps there and back; the n:1 conda names are the only exceptions."""
    text = (resources.files("conda_pypi") / "grayskull_pypi_mapping.json").read_text("utf-8")
    table = json.loads(text)
    conda_count: dict[str, int] = {}
    for entry in table.values():
        conda_count[entry["conda_name"]] = conda_count.get(entry["conda_name"], 0) + 1
    checked = 0
    for key, entry in table.items():
        assert pypi_to_conda(key) == entry["conda_name"]
        if conda_count[entry["conda_name"]] == 1:
            assert conda_to_pypi(entry["conda_name"]) == canonicalize_name(entry["pypi_name"])
            checked += 1
    assert checked > 12_000


@given(st.text(alphabet="aZz09-_.Ä ", max_size=12))
def test_canonical_agrees_with_packaging(name: str) -> None:
    assert canonical(name) == canonicalize_name(name)


@given(st.text(alphabet="aAbZz09-_.~ ", max_size=16))
def test_canonical_is_packaging_s_canonicalize_name(name: str) -> None:
    assert canonical(name) == canonicalize_name(name)
