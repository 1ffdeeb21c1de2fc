"""The wheel tags pip accepts for the target Python, written out from pip's rules.

pip asks ``packaging.tags.sys_tags()``, which computes the tags of the *running* interpreter
only; conda2docker needs them for the image's Python. The lists below are written out from
the documented rules (packaging's ``tags.py``: ``cpython_tags`` then ``compatible_tags``;
PEP 425, PEP 384 for ``abi3``, PEP 600 for ``manylinux_x_y``, PEP 703 for free-threading):

1. ``cpXY-<abi>-<plat>`` for the interpreter's ABI: ``cp27mu`` (CPython 2 with pymalloc and
   4-byte unicode, as conda and Linux distributions build it), ``cp36m``/``cp37m`` (pymalloc,
   before 3.8), ``cp38``, ``cp313t`` (free-threaded);
2. ``cpXY-abi3-<plat>`` (CPython >= 3.2, not free-threaded; ``abi3t`` instead for a
   free-threaded one, PEP 803), then ``cpXY-none-<plat>``;
3. ``cpXW-abi3-<plat>`` (or ``abi3t``) for every older minor W down to 3.2;
4. ``pyXY-none-<plat>``, ``pyX-none-<plat>``, ``pyXW-none-<plat>`` for W = Y-1 … 0;
5. ``cpXY-none-any``, then ``pyXY``, ``pyX``, ``pyXW`` (W = Y-1 … 0) with ``none-any``.

Platforms here: linux-aarch64 on glibc 2.17, which accepts ``manylinux_2_17_aarch64``, its
legacy alias ``manylinux2014_aarch64``, and ``linux_aarch64`` (aarch64 wheels start at 2.17).
"""

from __future__ import annotations

import pytest
from packaging.tags import Tag

from conda2docker.resolve.pip.target import (
    PipTarget,
    is_free_threaded,
    platform_tags,
    supported_tags,
    wheel_priority,
)

PLATS = ["manylinux_2_17_aarch64", "manylinux2014_aarch64", "linux_aarch64"]


def _each(interpreter: str, abi: str) -> list[str]:
    return [f"{interpreter}-{abi}-{plat}" for plat in PLATS]


def _any(*interpreters: str) -> list[str]:
    return [f"{interpreter}-none-any" for interpreter in interpreters]


EXPECTED: dict[str, list[str]] = {
    "2.7": [
        *_each("cp27", "cp27mu"),
        *_each("cp27", "none"),
        *_each("py27", "none"), *_each("py2", "none"), *_each("py26", "none"),
        *_each("py25", "none"), *_each("py24", "none"), *_each("py23", "none"),
        *_each("py22", "none"), *_each("py21", "none"), *_each("py20", "none"),
        *_any("cp27", "py27", "py2", "py26", "py25", "py24", "py23", "py22", "py21", "py20"),
    ],
    "3.6": [
        *_each("cp36", "cp36m"),
        *_each("cp36", "abi3"),
        *_each("cp36", "none"),
        *_each("cp35", "abi3"), *_each("cp34", "abi3"), *_each("cp33", "abi3"),
        *_each("cp32", "abi3"),
        *_each("py36", "none"), *_each("py3", "none"), *_each("py35", "none"),
        *_each("py34", "none"), *_each("py33", "none"), *_each("py32", "none"),
        *_each("py31", "none"), *_each("py30", "none"),
        *_any("cp36", "py36", "py3", "py35", "py34", "py33", "py32", "py31", "py30"),
    ],
    "3.7": [
        *_each("cp37", "cp37m"),
        *_each("cp37", "abi3"),
        *_each("cp37", "none"),
        *_each("cp36", "abi3"), *_each("cp35", "abi3"), *_each("cp34", "abi3"),
        *_each("cp33", "abi3"), *_each("cp32", "abi3"),
        *_each("py37", "none"), *_each("py3", "none"), *_each("py36", "none"),
        *_each("py35", "none"), *_each("py34", "none"), *_each("py33", "none"),
        *_each("py32", "none"), *_each("py31", "none"), *_each("py30", "none"),
        *_any("cp37", "py37", "py3", "py36", "py35", "py34", "py33", "py32", "py31", "py30"),
    ],
    "3.8": [
        *_each("cp38", "cp38"),
        *_each("cp38", "abi3"),
        *_each("cp38", "none"),
        *_each("cp37", "abi3"), *_each("cp36", "abi3"), *_each("cp35", "abi3"),
        *_each("cp34", "abi3"), *_each("cp33", "abi3"), *_each("cp32", "abi3"),
        *_each("py38", "none"), *_each("py3", "none"), *_each("py37", "none"),
        *_each("py36", "none"), *_each("py35", "none"), *_each("py34", "none"),
        *_each("py33", "none"), *_each("py32", "none"), *_each("py31", "none"),
        *_each("py30", "none"),
        *_any("cp38", "py38", "py3", "py37", "py36", "py35", "py34", "py33", "py32", "py31",
              "py30"),
    ],
    "3.12": [
        *_each("cp312", "cp312"),
        *_each("cp312", "abi3"),
        *_each("cp312", "none"),
        *_each("cp311", "abi3"), *_each("cp310", "abi3"), *_each("cp39", "abi3"),
        *_each("cp38", "abi3"), *_each("cp37", "abi3"), *_each("cp36", "abi3"),
        *_each("cp35", "abi3"), *_each("cp34", "abi3"), *_each("cp33", "abi3"),
        *_each("cp32", "abi3"),
        *_each("py312", "none"), *_each("py3", "none"), *_each("py311", "none"),
        *_each("py310", "none"), *_each("py39", "none"), *_each("py38", "none"),
        *_each("py37", "none"), *_each("py36", "none"), *_each("py35", "none"),
        *_each("py34", "none"), *_each("py33", "none"), *_each("py32", "none"),
        *_each("py31", "none"), *_each("py30", "none"),
        *_any("cp312", "py312", "py3", "py311", "py310", "py39", "py38", "py37", "py36",
              "py35", "py34", "py33", "py32", "py31", "py30"),
    ],
    # free-threaded: its own ABI and no abi3 (PEP 703); PEP 803's free-threaded stable ABI
    # `abi3t` in abi3's place (packaging >= 26 lists it back to cp32, as for abi3)
    "3.13t": [
        *_each("cp313", "cp313t"),
        *_each("cp313", "abi3t"),
        *_each("cp313", "none"),
        *_each("cp312", "abi3t"), *_each("cp311", "abi3t"), *_each("cp310", "abi3t"),
        *_each("cp39", "abi3t"), *_each("cp38", "abi3t"), *_each("cp37", "abi3t"),
        *_each("cp36", "abi3t"), *_each("cp35", "abi3t"), *_each("cp34", "abi3t"),
        *_each("cp33", "abi3t"), *_each("cp32", "abi3t"),
        *_each("py313", "none"), *_each("py3", "none"), *_each("py312", "none"),
        *_each("py311", "none"), *_each("py310", "none"), *_each("py39", "none"),
        *_each("py38", "none"), *_each("py37", "none"), *_each("py36", "none"),
        *_each("py35", "none"), *_each("py34", "none"), *_each("py33", "none"),
        *_each("py32", "none"), *_each("py31", "none"), *_each("py30", "none"),
        *_any("cp313", "py313", "py3", "py312", "py311", "py310", "py39", "py38", "py37",
              "py36", "py35", "py34", "py33", "py32", "py31", "py30"),
    ],
}

FULL = {"2.7": "2.7.18", "3.6": "3.6.15", "3.7": "3.7.12", "3.8": "3.8.20", "3.12": "3.12.7",
        "3.13t": "3.13.1"}


def _target(python: str) -> PipTarget:
    return PipTarget(platform="linux-aarch64", python_version=FULL[python], glibc="2.17",
                     free_threaded=python.endswith("t"))


@pytest.mark.parametrize("python", sorted(EXPECTED))
def test_tags_in_pips_order(python: str) -> None:
    tags = supported_tags(_target(python))
    in_order = [str(tag) for tag, _ in sorted(tags.items(), key=lambda item: item[1])]
    assert in_order == EXPECTED[python]


@pytest.mark.parametrize(
    ("python", "wheel", "accepted"),
    [
        # the case: numpy 1.19.5 publishes cp36m manylinux wheels
        ("3.6", "numpy-1.19.5-cp36-cp36m-manylinux2014_aarch64.whl", True),
        ("3.6", "numpy-1.19.5-cp36-cp36-manylinux2014_aarch64.whl", False),
        ("3.7", "numpy-1.21.6-cp37-cp37m-manylinux_2_17_aarch64.manylinux2014_aarch64.whl", True),
        ("2.7", "simplejson-3.17.6-cp27-cp27mu-manylinux2014_aarch64.whl", True),
        ("2.7", "simplejson-3.17.6-cp27-cp27m-manylinux2014_aarch64.whl", False),
        ("3.8", "numpy-1.24.4-cp38-cp38-manylinux_2_17_aarch64.whl", True),
        ("3.12", "cryptography-43.0.0-cp39-abi3-manylinux_2_17_aarch64.whl", True),
        ("3.13t", "cryptography-43.0.0-cp39-abi3-manylinux_2_17_aarch64.whl", False),
        ("3.13t", "numpy-2.2.0-cp313-cp313t-manylinux_2_17_aarch64.whl", True),
        ("3.13t", "numpy-2.2.0-cp313-cp313-manylinux_2_17_aarch64.whl", False),
        ("3.12", "numpy-2.2.0-cp313-cp313t-manylinux_2_17_aarch64.whl", False),
        ("3.12", "six-1.16.0-py2.py3-none-any.whl", True),
        ("2.7", "six-1.16.0-py2.py3-none-any.whl", True),
    ],
)
def test_wheels_accepted_as_pip_would(python: str, wheel: str, accepted: bool) -> None:
    assert (wheel_priority(wheel, _target(python)) is not None) is accepted


def test_x86_64_platforms_count_down_from_the_base_glibc() -> None:
    plats = platform_tags(PipTarget(platform="linux-64", glibc="2.36"))
    assert plats[:2] == ["manylinux_2_36_x86_64", "manylinux_2_35_x86_64"]
    assert plats[plats.index("manylinux_2_17_x86_64") + 1] == "manylinux2014_x86_64"
    assert plats[plats.index("manylinux_2_12_x86_64") + 1] == "manylinux2010_x86_64"
    assert plats[-3:] == ["manylinux_2_5_x86_64", "manylinux1_x86_64", "linux_x86_64"]


def test_free_threaded_python_is_recognised_by_its_build() -> None:
    assert is_free_threaded("h9a34b6e_5_cp313t")
    assert not is_free_threaded("h9a34b6e_5_cp313")
    assert not is_free_threaded(None)
    assert Tag("cp313", "cp313t", "linux_aarch64") in supported_tags(_target("3.13t"))


def test_a_target_is_named_with_its_interpreter_in_messages() -> None:
    """"no wheel for …" and "does not install on …" name the interpreter as wheel tags do, so a
    free-threaded target (whose wheels differ) is told apart from the ordinary one."""
    assert _target("3.13t").describe() == "linux-aarch64 cp313t glibc 2.17"
    assert _target("3.12").describe() == "linux-aarch64 cp312 glibc 2.17"
