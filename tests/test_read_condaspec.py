"""Conda dependency strings in every form conda accepts, and the ones it rejects."""

from __future__ import annotations

from pathlib import Path

import pytest

from conda2docker.errors import InputError, SourceLocation
from conda2docker.read.condaspec import parse_conda_spec, python_version_of

AT = SourceLocation(Path("environment.yml"), 7, 5)


@pytest.mark.parametrize(
    ("text", "name", "version", "build", "channel"),
    [
        ("scipy", "scipy", "", None, None),
        ("scipy *", "scipy", "", None, None),
        ("python=3.11", "python", "3.11.*", None, None),
        ("python=3.11.*", "python", "3.11.*", None, None),
        ("numpy==1.24", "numpy", "==1.24", None, None),
        ("diffusers~=0.11", "diffusers", "~=0.11", None, None),
        ("numpy>=1.20,<2", "numpy", ">=1.20,<2", None, None),
        ("cmake>=3.26.4,!=3.30.0", "cmake", ">=3.26.4,!=3.30.0", None, None),
        ("python >= 3.8", "python", ">=3.8", None, None),
        ("gatk4 =4.6.1.0", "gatk4", "4.6.1.0.*", None, None),
        ("pyside6 >=6.5.0", "pyside6", ">=6.5.0", None, None),
        ("numpy=1.26.4=py311h64a7726_0", "numpy", "==1.26.4", "py311h64a7726_0", None),
        ("numpy 1.8 py27_0", "numpy", "==1.8", "py27_0", None),
        ("jpeg=9e=hcfcfb64_3", "jpeg", "==9e", "hcfcfb64_3", None),
        ("libblas=*=*mkl", "libblas", "", "*mkl", None),
        ("pytorch=2.0=*cuda*", "pytorch", "==2.0", "*cuda*", None),
        ("pytorch>=2.7.0=cuda12*", "pytorch", ">=2.7.0", "cuda12*", None),
        ("pytorch::pytorch 2.1.*", "pytorch", "2.1.*", None, "pytorch"),
        ("bioconda::hmmer==3.3.2", "hmmer", "==3.3.2", None, "bioconda"),
        ("conda-forge/label/dev::xyz >=1.0", "xyz", ">=1.0", None, "conda-forge/label/dev"),
        ("PyYAML==5.4.1", "pyyaml", "==5.4.1", None, None),
        ("pandoc=<2.0.0", "pandoc", "<=2.0.0", None, None),
        ("tool=>1.0", "tool", ">=1.0", None, None),
        ("python='3.10'", "python", "3.10.*", None, None),
        ("numpy[version='>=1.0',build=py3*]", "numpy", ">=1.0", "py3*", None),
        ("cuda-version>=12.9", "cuda-version", ">=12.9", None, None),
        ("_openmp_mutex=4.5=2_gnu", "_openmp_mutex", "==4.5", "2_gnu", None),
        (
            "https://conda.anaconda.org/conda-forge/linux-64/zlib-1.3.1-h4ab18f5_1.conda",
            "zlib",
            "==1.3.1",
            "h4ab18f5_1",
            "https://conda.anaconda.org/conda-forge",
        ),
    ],
)
def test_conda_spec_forms(
    text: str, name: str, version: str, build: str | None, channel: str | None
) -> None:
    dependency = parse_conda_spec(text, AT).dependency
    assert (dependency.name, dependency.version, dependency.build, dependency.channel) == (
        name,
        version,
        build,
        channel,
    )
    assert dependency.raw == text
    assert dependency.location == AT


def test_lenient_rewrites_are_reported() -> None:
    assert parse_conda_spec("pandoc=<2.0.0").rewrites == ("'=<' read as '<='",)
    assert parse_conda_spec("tool=>1.0").rewrites == ("'=>' read as '>='",)
    assert parse_conda_spec("python='3.10'").rewrites == ("quotes removed from the version",)
    assert parse_conda_spec("python=3.10").rewrites == ()


def test_a_channels_subdir_is_dropped_and_said_even_below_a_multi_part_channel() -> None:
    """conda reads the last part of ``channel/subdir::name`` as the subdir, however many parts
    the channel has (``pkgs/main``, a URL)."""
    for channel in ("conda-forge", "pkgs/main", "https://example.org/my/channel"):
        for text in (f"{channel}/linux-64::numpy", f"numpy[channel={channel}/linux-64]"):
            parsed = parse_conda_spec(text)
            assert parsed.dependency.channel == channel, text
            assert parsed.rewrites == (f"subdir 'linux-64' dropped from channel '{channel}/linux-64'",)
    assert parse_conda_spec("pkgs/main::numpy").dependency.channel == "pkgs/main"


def test_matchspec_round_trips_through_the_parser() -> None:
    for text in ("numpy=1.26.4=py311h_0", "pytorch::pytorch>=2.0", "libblas=*=*mkl", "scipy"):
        first = parse_conda_spec(text).dependency
        again = parse_conda_spec(first.matchspec).dependency
        assert (again.name, again.version, again.build, again.channel) == (
            first.name,
            first.version,
            first.build,
            first.channel,
        )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty conda dependency"),
        ("numpy>>1", "invalid version '>>1'"),
        ("numpy=", "operator '=' without a version"),
        ("numpy >=", "operator '>=' without a version"),
        (">=1.0", "no package name"),
        ("a::", "no package name"),
        ("$x", "invalid package name '$x'"),
        ("num/py", "invalid package name 'num/py'"),
        ("numpy[md5=abc]", "bracket key 'md5' is not supported"),
        ("numpy >=1.0 ,", "invalid version"),
        ("numpy=1.0=bad build", "invalid build string"),
        ("bad channel::numpy", "invalid channel"),
        ("https://example.org/not-a-package.txt", "must point to a package file"),
        ("https://example.org/x-1.0-0.conda", "must point to a package file"),  # no subdir
        ("https://example.org/c/linux-64/x-1.0-0.conda/", "must point to a package file"),
        ("https://example.org/c/linux-64/x-1..2-0.conda", "invalid version '1..2'"),
        ("numpy[version=1,bad,build=2]", "invalid bracket item 'bad'"),
        # a bracket section with one side missing, or in the middle, is said to be one
        ("numpy=1.26]", "brackets are only allowed at the end"),
        ("numpy >=1.0 [build=py3*", "brackets are only allowed at the end"),
        ("numpy [build=py3*] >=1.0", "brackets are only allowed at the end"),
        ("pytorch[version='>=2.0'][build=cuda*]", "invalid bracket item \"version='>=2.0']["),
        # rattler's reason, in its own words on the same line
        ("numpy 1.*.1", "invalid version '1.*.1' (regex constraints are not supported)"),
    ],
)
def test_unparsable_specs_are_input_errors_with_location(text: str, problem: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_conda_spec(text, AT)
    assert problem in caught.value.message
    assert caught.value.location == AT
    assert caught.value.fix
    assert caught.value.one_line().startswith("environment.yml:7:5: ")


@pytest.mark.parametrize(
    ("version", "python"),
    [
        ("3.10.*", "3.10"),
        ("==3.9.18", "3.9.18"),
        ("==3.11", "3.11"),
        (">=3.8", None),
        ("", None),
        (">=3.10.0,<3.11.0", None),
    ],
)
def test_python_version_of_a_pin(version: str, python: str | None) -> None:
    assert python_version_of(version) == python


@pytest.mark.parametrize(
    ("url", "channel"),
    [
        ("https://example.org/linux-64/x-1.0-0.conda", "https://example.org"),
        ("https://example.org/chan/linux-64/x-1.0-0.conda#a/b#c", "https://example.org/chan"),
        ("https://example.org/chan/linux-64/x-1.0-0.conda?token=a/b", "https://example.org/chan"),
        ("https://example.org/my%20chan/noarch/x-1.0-0.tar.bz2", "https://example.org/my%20chan"),
        ("file:///opt/chan/linux-64/x-1.0-0.conda", "file:///opt/chan"),
    ],
)
def test_a_package_urls_channel_is_the_path_above_its_subdir(url: str, channel: str) -> None:
    """A URL dependency installs from its own channel: what follows the file name (a query, a
    fragment with slashes) never moves the channel elsewhere."""
    dependency = parse_conda_spec(url).dependency
    assert (dependency.name, dependency.version, dependency.build) == ("x", "==1.0", "0")
    assert dependency.channel == channel


@pytest.mark.parametrize(
    "text",
    [
        "foo V0.9.24",
        "xorg-libx11 1.8.9 hb9d3cd8_1",
        "libblas 3.9.0 20_linux64_MKL",
        "tool 1.0 build_ABCDEFGHIJKLMNOPQRSTUVWXYZ_0",
        "numpy >=1.20,<2",
    ],
)
def test_a_spec_without_quotes_is_not_reported_as_rewritten(text: str) -> None:
    """Only quotes around a version are a rewrite ("quotes removed"): a version or build with
    capital letters (conda compares versions case-insensitively) is read as written, and
    `inspect` lists no change for it."""
    assert parse_conda_spec(text).rewrites == ()


def test_a_version_rattler_reads_as_any_is_no_pin() -> None:
    """``*.*`` is any version for rattler (the solver): the dependency is unpinned, written
    back as the bare name, the same as ``*`` and no version at all."""
    for text in ("numpy", "numpy *", "numpy *.*", "numpy[version='*.*']"):
        dependency = parse_conda_spec(text).dependency
        assert (dependency.version, dependency.matchspec) == ("", "numpy"), text


def test_a_channel_url_with_an_ipv6_host_keeps_its_colons() -> None:
    """The channel is everything before the last ``::`` (conda's ``rsplit``), so a local
    channel served on the IPv6 loopback address is read whole."""
    dependency = parse_conda_spec("http://[::1]:8000/local::numpy >=1.26", AT).dependency
    assert (dependency.channel, dependency.name, dependency.version) == (
        "http://[::1]:8000/local", "numpy", ">=1.26")


@pytest.mark.parametrize(
    ("text", "channel"),
    [
        ("/srv/chan/linux-64/zlib-1.3.1-h4ab18f5_1.conda", "file:///srv/chan"),
        ("/srv/my chan/noarch/zlib-1.3.1-h4ab18f5_1.tar.bz2", "file:///srv/my%20chan"),
    ],
)
def test_a_path_to_a_package_file_is_its_file_url(text: str, channel: str) -> None:
    """conda reads a dependency that is a path to a package file as its ``file://`` URL
    (conda ``tests/models/test_match_spec.py::test_matchspec_errors``:
    ``/some/file/on/disk/package-1.2.3-2.tar.bz2`` is ``url=file:///some/file/on/disk/…``),
    so the package comes from the local channel above its subdir, not from a channel named
    like the path on anaconda.org."""
    dependency = parse_conda_spec(text, AT).dependency
    assert (dependency.name, dependency.version, dependency.build, dependency.channel) == (
        "zlib", "==1.3.1", "h4ab18f5_1", channel)
    assert dependency.raw == text


def test_a_relative_path_to_a_package_file_is_taken_from_the_files_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Relative to the file that names it; with no file, to the working directory, and ``~``
    is the home directory (conda's ``expand``)."""
    spec = "channel/linux-64/zlib-1.3.1-h4ab18f5_1.conda"
    where = SourceLocation(tmp_path / "env" / "environment.yml", 4, 5)
    assert parse_conda_spec(spec, where).dependency.channel == (tmp_path / "env" / "channel").as_uri()
    monkeypatch.chdir(tmp_path)
    assert parse_conda_spec(spec).dependency.channel == (tmp_path / "channel").as_uri()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert parse_conda_spec(f"~/{spec}", where).dependency.channel == (
        tmp_path / "home" / "channel").as_uri()


@pytest.mark.parametrize(
    ("text", "version"),
    [
        ('python="3.10"', "3.10.*"),
        ("python='3.10'", "3.10.*"),
        ('numpy ">=1.20,<2"', ">=1.20,<2"),
        ('pandas="2.1.4"', "2.1.4.*"),
    ],
)
def test_double_quotes_around_a_version_are_read_like_single_ones(text: str, version: str) -> None:
    """Quotes around a version (``- python="3.10"`` is a plain YAML scalar, quotes included)
    are dropped whether single or double, as conda treats the two alike around a bracket
    value (conda ``conda/models/match_spec.py``, ``MatchSpec`` docstring: a value "may be
    wrapped in single or double quotes"; ``tests/models/test_match_spec.py::
    test_parse_spec_str_with_brackets`` reads ``version=\\">=1.8,<2|1.9\\"`` and
    ``channel='anaconda'`` alike)."""
    parsed = parse_conda_spec(text, AT)
    assert (parsed.dependency.name, parsed.dependency.version) == (text.split()[0].split("=")[0],
                                                                   version)
    assert parsed.rewrites == ("quotes removed from the version",)


@pytest.mark.parametrize(
    ("text", "without"),
    [
        ("numpy=1.8=*", "numpy==1.8"),  # with a build, =1.8 is exact (as conda)
        ("numpy 1.8 *", "numpy 1.8"),
        ("scipy=*=*", "scipy"),
        ("defaults::numpy=1.8.*=*", "defaults::numpy=1.8"),
    ],
)
def test_a_build_of_star_is_no_build(text: str, without: str) -> None:
    """A build ``*`` matches every build (conda ``conda/models/match_spec.py``:
    ``GlobStrMatch.matches_all`` is ``raw_value == "*"``; ``tests/models/
    test_match_spec.py::test_parse_spec_str_no_brackets`` reads ``* 1 *`` with build ``*``):
    the dependency is the same as the one written without it, no build at all."""
    dependency = parse_conda_spec(text, AT).dependency
    plain = parse_conda_spec(without, AT).dependency
    assert dependency.build is None
    assert (dependency.version, dependency.channel, dependency.matchspec) == (
        plain.version, plain.channel, plain.matchspec)
