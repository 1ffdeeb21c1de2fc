"""Conda spec files (``conda create --file``) told from pip requirements files by content.

The forms come from conda's own docs and tests: ``conda list --export`` writes a
``# platform:`` header and ``name=version=build`` lines (``conda/cli/main_list.py``), and
``conda create --file`` reads ``name=1.2``, ``name 1.2 build`` and ``channel::name`` lines with
MatchSpec (``conda/misc.py``/``conda/cli/common.py``: ``specs_from_url``); ``@EXPLICIT``
files are explicit locks. pip's requirement-file format (options, ``name @ url``, extras,
markers) is pip's own.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rattler import Version

from conda2docker.errors import InputError
from conda2docker.read import read_input
from conda2docker.read.dispatch import detect_kind
from conda2docker.read.specfile import text_kind

EXPORT = """\
# This file may be used to create an environment using:
# $ conda create --name <env> --file <this file>
# platform: linux-64
_libgcc_mutex=0.1=conda_forge
make=4.3=hd18ef5c_1
python=3.11.7=hab00c5b_1_cpython
numpy=1.26.4=py311h64a7726_0
requests=2.31.0=pypi_0
"""


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (EXPORT, "conda"),
        ("# platform: linux-64\nmake\n", "conda"),
        ("make=4.3\nnumpy=1.26\n", "conda"),
        ("numpy 1.26.* py311*\n", "conda"),
        ("conda-forge::make\n", "conda"),
        ("numpy >=1.2\nnumpy=1.26\n", "conda"),
        ("-r base.txt\nnumpy\n", "pip"),
        ("--index-url https://example.org/simple\nnumpy\n", "pip"),
        ("black[jupyter]==24.1.0\n", "pip"),
        ("pywin32; sys_platform == 'win32'\n", "pip"),
        ("mypkg @ https://example.org/mypkg-1.0.tar.gz\n", "pip"),
        ("git+https://github.com/psf/requests@v2.31.0\n", "pip"),
        ("make\nnumpy\n", "either"),
        ("numpy==1.26.4\nscipy>=1.11\n", "either"),
    ],
)
def test_which_tool_reads_the_text(text: str, kind: str) -> None:
    assert text_kind(text) == kind


@pytest.mark.parametrize(
    ("name", "text", "kind"),
    [
        ("spec.txt", EXPORT, "conda-specs"),
        ("requirements.txt", "make\nnumpy\n", "requirements"),
        ("requirements-dev.txt", "pytest\n", "requirements"),
        ("dev-requirements.txt", "pytest\n", "requirements"),
        ("requirements.in", "numpy\n", "requirements"),
        ("constraints.txt", "numpy<2\n", "requirements"),
        ("deps.txt", "-r base.txt\n", "requirements"),
        ("deps.txt", "numpy=1.26\n", "conda-specs"),
        ("requirements.txt", "numpy=1.26\nmake=4.3\n", "conda-specs"),
    ],
)
def test_detect_kind_by_content_then_name(name: str, text: str, kind: str) -> None:
    assert detect_kind(Path(name), text) == kind


@pytest.mark.parametrize("text", ["make\nnumpy\n", "numpy==1.26\n"])
def test_bare_names_in_another_file_name_are_an_error_with_the_hint(text: str) -> None:
    with pytest.raises(InputError) as caught:
        detect_kind(Path("packages.txt"), text)
    assert "requirements.txt" in (caught.value.fix or "")
    assert "# platform: linux-64" in (caught.value.fix or "")


def test_mixing_conda_and_pip_forms_names_the_lines(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        detect_kind(tmp_path / "deps.txt", "numpy=1.26\n-r other.txt\n")
    assert "'numpy=1.26'" in caught.value.message and "'-r other.txt'" in caught.value.message
    assert caught.value.one_line().startswith(f"{tmp_path / 'deps.txt'}:2:1: ")


def test_a_conda_export_is_read_as_conda_specs(tmp_path: Path) -> None:
    path = tmp_path / "spec.txt"
    path.write_text(EXPORT)
    spec = read_input(path)
    assert spec.kind == "environment"
    got = {d.name: (d.version, d.build) for d in spec.conda}
    assert got["make"] == ("==4.3", "hd18ef5c_1")  # conda's make, not PyPI's
    assert got["numpy"] == ("==1.26.4", "py311h64a7726_0")
    assert "requests" not in got and "pip" in got
    assert [(r.name, r.specifier) for r in spec.pip] == [("requests", "==2.31.0")]
    assert spec.platforms == ("linux-64",)
    assert spec.conda[1].location is not None and spec.conda[1].location.line == 5


def test_a_windows_export_drops_its_windows_only_packages(tmp_path: Path) -> None:
    path = tmp_path / "spec.txt"
    path.write_text("# platform: win-64\npython=3.11.7=h4de0772_0_cpython\n"
                    "vc=14.3=hcf57466_18\nucrt=10.0.22621.0=h57928b3_0\n")
    spec = read_input(path)
    assert [d.name for d in spec.conda] == ["python"]
    assert {c.subject for c in spec.changes if c.code == "S301"} == {"vc", "ucrt"}


def test_a_requirements_named_file_of_conda_pins_says_how_it_was_read(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text("make=4.3\nnumpy=1.26\n")
    spec = read_input(path)
    assert [d.name for d in spec.conda] == ["make", "numpy"] and spec.pip == ()
    assert "read as a conda spec file" in spec.changes[0].reason
    assert "'make=4.3'" in spec.changes[0].reason


def test_bad_lines_are_input_errors_with_their_place(tmp_path: Path) -> None:
    path = tmp_path / "spec.txt"
    path.write_text("# platform: linux-64\nmake=4.3\nnumpy>>1\nscipy=\n")
    with pytest.raises(InputError) as caught:
        read_input(path)
    assert caught.value.one_line().startswith(f"{path}:3:1: ")
    assert "1 more problem" in caught.value.message


NAMES = st.from_regex(r"[a-z][a-z0-9_\-]{0,12}", fullmatch=True)
VERSIONS = st.from_regex(r"[0-9]{1,3}(\.[0-9]{1,3}){0,3}", fullmatch=True)
BUILDS = st.from_regex(r"[a-z]{1,4}[0-9a-f]{0,8}_[0-9]", fullmatch=True)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(NAMES, VERSIONS, BUILDS), min_size=1, max_size=8,
                unique_by=lambda t: t[0]))
def test_any_export_reads_back_as_its_pins(entries: list[tuple[str, str, str]]) -> None:
    text = "# platform: linux-64\n" + "".join(f"{n}={v}={b}\n" for n, v, b in entries)
    assert text_kind(text) == "conda"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "spec.txt"
        path.write_text(text)
        spec = read_input(path)
    got = {d.name: (d.version.removeprefix("=="), d.build) for d in spec.conda}
    for name, version, build in entries:
        if name in got:  # a platform-only name may be mapped; it is reported then
            assert (Version(got[name][0]), got[name][1]) == (Version(version), build)
        else:
            assert any(c.subject == name for c in spec.changes)
