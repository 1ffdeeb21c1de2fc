"""conda's own MatchSpec/VersionSpec tests as the oracle for conda2docker's spec reader.

conda cannot run here, so the expected results are taken from conda's test suite
(conda/conda, ``tests/models/test_match_spec.py`` and ``tests/models/test_version.py``)
and from conda's ``MatchSpec`` parser where a test states the rule only for one form.
Each case names the test it comes from. A spec is read by :func:`parse_conda_spec`, and the
result is matched against package records with rattler's ``MatchSpec`` (what the solver
uses), so a case fails if either the reading or the matching differs from conda.

Deliberate differences from conda are in ``CONDA_ONLY`` at the end, each with its reason.
"""

from __future__ import annotations

import pytest
from rattler import MatchSpec, PackageRecord
from rattler.package.build_string import BuildString

from conda2docker.errors import InputError
from conda2docker.read.condaspec import parse_conda_spec

MS = "conda tests/models/test_match_spec.py"
VS = "conda tests/models/test_version.py"
SANITIZE = "conda conda/models/match_spec.py::_sanitize_version_str"
VERSION_PY = "conda conda/models/version.py::VersionSpec.get_matcher"
MAMBA = "mamba libmamba/tests/src/specs/test_match_spec.cpp"


def _record(package: str, name: str) -> PackageRecord:
    version, _, build = package.partition("=")
    return PackageRecord(
        name=name, version=version, build=BuildString(build or "0"), build_number=0,
        subdir="linux-64",
    )


# (spec, versions it matches, versions it does not match, source); "1.7.1=py27_0" is a
# record with a build string, a bare version has build "0".
CASES: list[tuple[str, tuple[str, ...], tuple[str, ...], str]] = [
    # test_match_1: every case against numpy-1.7.1-py27_0
    ("numpy 1.7*", ("1.7.1=py27_0",), (), f"{MS}::test_match_1"),
    ("numpy 1.7.1", ("1.7.1=py27_0",), (), f"{MS}::test_match_1"),
    ("numpy 1.7", (), ("1.7.1=py27_0",), f"{MS}::test_match_1"),
    ("numpy 1.5*", (), ("1.7.1=py27_0",), f"{MS}::test_match_1"),
    ("numpy >=1.5", ("1.7.1=py27_0",), (), f"{MS}::test_match_1"),
    ("numpy >=1.5,<2", ("1.7.1=py27_0",), (), f"{MS}::test_match_1"),
    ("numpy >=1.8,<1.9", (), ("1.7.1=py27_0",), f"{MS}::test_match_1"),
    ("numpy >1.5,<2,!=1.7.1", (), ("1.7.1=py27_0",), f"{MS}::test_match_1"),
    ("numpy >1.8,<2|==1.7", (), ("1.7.1=py27_0",), f"{MS}::test_match_1"),
    ("numpy >1.8,<2|>=1.7.1", ("1.7.1=py27_0",), (), f"{MS}::test_match_1"),
    ("numpy >=1.8|1.7*", ("1.7.1=py27_0",), (), f"{MS}::test_match_1"),
    ("numpy ==1.7", (), ("1.7.1=py27_0",), f"{MS}::test_match_1"),
    ("numpy >=1.5,>1.6", ("1.7.1=py27_0",), (), f"{MS}::test_match_1"),
    ("numpy ==1.7.1", ("1.7.1=py27_0",), (), f"{MS}::test_match_1"),
    ("numpy ==1.7.1.0", ("1.7.1=py27_0",), (), f"{MS}::test_match_1"),
    ("numpy==1.7.1.0.0", ("1.7.1=py27_0",), (), f"{MS}::test_match_1"),
    ("numpy 1.6*|1.7*", ("1.7.1=py27_0",), (), f"{MS}::test_match_1"),
    ("numpy 1.6*|1.8*", (), ("1.7.1=py27_0",), f"{MS}::test_match_1"),
    ("numpy 1.6.2|1.7*", ("1.7.1=py27_0",), (), f"{MS}::test_match_1"),
    ("numpy 1.6.2|1.7.1", ("1.7.1=py27_0",), (), f"{MS}::test_match_1"),
    ("numpy 1.6.2|1.7.0", (), ("1.7.1=py27_0",), f"{MS}::test_match_1"),
    ("numpy 1.7.1 py27_0", ("1.7.1=py27_0",), (), f"{MS}::test_match_1"),
    ("numpy 1.7.1 py26_0", (), ("1.7.1=py27_0",), f"{MS}::test_match_1"),
    ("numpy >1.7.1a", ("1.7.1=py27_0",), (), f"{MS}::test_match_1"),
    ("numpy >=1.0.1", (), ("1.0.1a",), f"{MS}::test_match_1 (PEP 440 pre-release)"),
    ("numpy <1.0.1", ("1.0.1.vc11", "1.0.1a.vc11"), (), f"{MS}::test_match_1"),
    ("numpy >=1.0.1.vc11", (), ("1.0.1a",), f"{MS}::test_match_1"),
    ("numpy >=1.0.1a", ("1.0.1z",), (), f"{MS}::test_match_1"),
    ("numpy >=1.0.1a py27*", ("1.0.1z=py27_1",), ("1.0.1z=py36_1",), f"{MS}::test_match_1"),
    ("blas * openblas_0", ("1.0=openblas_0",), ("1.0=mkl",), f"{MS}::test_match_1"),
    # test_openssl_match, test_bracket_matches
    ("openssl>=1.0.1_", ("1.0.1_",), (), f"{MS}::test_openssl_match"),
    ("openssl>=1.0.1", (), ("1.0.1_",), f"{MS}::test_openssl_match"),
    ("numpy<2", ("1.11.0=py34_7",), (), f"{MS}::test_bracket_matches"),
    ("numpy[version=<2]", ("1.11.0=py34_7",), (), f"{MS}::test_bracket_matches"),
    ("numpy>2", (), ("1.11.0=py34_7",), f"{MS}::test_bracket_matches"),
    ("numpy[version='>2']", (), ("1.11.0=py34_7",), f"{MS}::test_bracket_matches"),
    ("numpy ~=1.10", ("1.11.0=py34_7",), (), f"{MS}::test_bracket_matches"),
    ("numpy~=1.10", ("1.11.0=py34_7",), (), f"{MS}::test_bracket_matches"),
    # test_parse_equal_equal and _sanitize_version_str: `==` exact, `=` a prefix
    ("numpy==1.7", ("1.7", "1.7.0"), ("1.7.1",), f"{MS}::test_parse_equal_equal"),
    ("numpy ==1.7", ("1.7",), ("1.7.1",), f"{MS}::test_parse_equal_equal"),
    ("numpy=1.7", ("1.7", "1.7.1"), ("1.8",), f"{MS}::test_parse_equal_equal"),
    ("numpy =1.7", ("1.7.1",), ("1.8",), f"{MS}::test_parse_equal_equal"),
    ("numpy !=1.7", ("1.7.1",), ("1.7", "1.7.0"), f"{MS}::test_parse_equal_equal"),
    ("numpy==1.26.*", ("1.26.0", "1.26.4"), ("1.27.0", "1.2"), f"{SANITIZE} ('==' dropped)"),
    ("numpy ==1.26.*", ("1.26.4",), ("1.25.2",), f"{SANITIZE} ('==' dropped)"),
    ("numpy==1.26.*=py*", ("1.26.4=py311_0",), ("1.26.4=h1_0",), f"{SANITIZE} (with build)"),
    ("numpy=1.7=py3*_2", ("1.7=py37_2",), ("1.7.1=py37_2", "1.7=py37_1"),
     f"{MS}::test_canonical_string_forms"),
    ("numpy=1.7.*=py3*_2", ("1.7.1=py37_2",), ("1.8=py37_2",),
     f"{MS}::test_canonical_string_forms"),
    ("numpy=1.10=py38_0", ("1.10=py38_0",), ("1.10.1=py38_0",),
     f"{MS}::test_canonical_string_forms"),
    ("numpy[version=1.10 build=py38_0]", ("1.10=py38_0",), ("1.10=py38_1",),
     f"{MS}::test_canonical_string_forms"),
    ("numpy!=1.10.*", ("1.11",), ("1.10.2",), f"{MS}::test_canonical_string_forms"),
    ("numpy=1.10.*,!=1.10.2", ("1.10.1",), ("1.10.2", "1.11"),
     f"{MS}::test_canonical_string_forms"),
    ("numpy ~=1.10.1 py38_0", ("1.10.4=py38_0",), ("1.11=py38_0", "1.10.4=py37_0"),
     f"{MS}::test_canonical_string_forms"),
    ("openssl=1.1.1_", ("1.1.1_",), ("1.1.1a",), f"{MS}::test_canonical_string_forms"),
    ("openssl>=1.1.1_,!=1.1.1c", ("1.1.1d",), ("1.1.1c",),
     f"{MS}::test_canonical_string_forms"),
    ("numpy[version='1.7|1.8']", ("1.7", "1.8"), ("1.9",), f"{MS}::test_canonical_string_forms"),
    ("python=2.6*", ("2.6.9",), ("2.7",), f"{MS}::test_simple"),
    ("foo=1.3.0=3", ("1.3.0=3",), ("1.3.0=4", "1.3.1=3"), f"{MS}::test_simple"),
    ("zope.int>=1.3,<3.0", ("2.0",), ("3.0",), f"{MS}::test_pip_style"),
    ("foo >=1.0 , < 2.0", ("1.5",), ("2.0",), f"{MS}::test_pip_style2 (spaces)"),
    ("foo >= 1.0", ("1.0",), ("0.9",), f"{MS}::test_pip_style2 (spaces)"),
    ("defaults::numpy 1.8 py27_0", ("1.8=py27_0",), ("1.8.1=py27_0",),
     f"{MS}::test_parse_spec_str_no_brackets"),
    # ',' binds tighter than '|': (>1.8,<2) | (==1.7,!=1.9,~=1.7.1)
    ("numpy >1.8,<2|==1.7,!=1.9,~=1.7.1 py34_0", ("1.9=py34_0",), ("1.7=py34_0", "2.0=py34_0"),
     f"{MS}::test_parse_hard"),
    ("numpy==1.21.0=py39h1234567_0", ("1.21.0=py39h1234567_0",), ("1.21.0=py39h0_0",),
     f"{MS}::test_conda_env_form"),
    # test_version.py: VersionSpec, here in a spec for numpy
    ("numpy 1.7.*", ("1.7.1",), ("1.8",), f"{VS}::test_match"),
    ("numpy 1.7.0", (), ("1.7.1",), f"{VS}::test_match"),
    ("numpy 1.5.*", (), ("1.7.1",), f"{VS}::test_match"),
    ("numpy !=1.5", ("1.7.1",), (), f"{VS}::test_match"),
    ("numpy !=1.7.1", (), ("1.7.1",), f"{VS}::test_match"),
    ("numpy ==1.7.2", (), ("1.7.1",), f"{VS}::test_match"),
    ("numpy 1.7.*|1.8.*", ("1.7.1",), (), f"{VS}::test_match"),
    ("numpy >1.7,<1.8", ("1.7.1",), (), f"{VS}::test_match"),
    ("numpy >1.7.1,<1.8", (), ("1.7.1",), f"{VS}::test_match"),
    ("numpy *", ("1.7.1",), (), f"{VS}::test_match"),
    ("numpy 1.5.*|>1.7,<1.8", ("1.7.1",), (), f"{VS}::test_match"),
    ("numpy 1.5.*|>1.7,<1.7.1", (), ("1.7.1",), f"{VS}::test_match"),
    ("numpy <=1.7", ("1.7.0",), (), f"{VS}::test_ver_eval"),
    ("numpy <1.7", (), ("1.7.0",), f"{VS}::test_ver_eval"),
    ("numpy >1.7", (), ("1.7.0",), f"{VS}::test_ver_eval"),
    ("numpy >=1.7", ("1.7.0",), ("1.6.7",), f"{VS}::test_ver_eval"),
    ("tzdata >2013b", ("2013k",), ("2013a", "3.0.0"), f"{VS}::test_ver_eval"),
    ("numpy >1.0.0a", ("1.0.0",), (), f"{VS}::test_ver_eval"),
    ("numpy >1.0.0*", ("1.0.0",), (), f"{VS}::test_ver_eval"),
    ("numpy 1.0*", ("1.0", "1.0.0"), (), f"{VS}::test_ver_eval"),
    ("numpy 1.0.0*", ("1.0",), ("1.0.1",), f"{VS}::test_ver_eval"),
    ("tzdata 2013a*", ("2013a",), ("2013b",), f"{VS}::test_ver_eval"),
    ("numpy 1.2.4*", (), ("1.3.4",), f"{VS}::test_ver_eval"),
    ("numpy 1.2.3*", ("1.2.3+4.5.6",), (), f"{VS}::test_ver_eval"),
    ("numpy 1.2.3+4*", ("1.2.3+4.5.6",), (), f"{VS}::test_ver_eval"),
    ("numpy 1.2.3+5*", (), ("1.2.3+4.5.6",), f"{VS}::test_ver_eval"),
    ("python =3.3", ("3.3.1", "3.3"), ("3.4",), f"{VS}::test_not_eq_star"),
    ("python 3.3.*", ("3.3.1", "3.3"), ("3.4",), f"{VS}::test_not_eq_star"),
    ("python =3.3.*", ("3.3.1", "3.3"), ("3.4",), f"{VS}::test_not_eq_star"),
    ("python !=3.3.*", ("3.4", "3.4.1"), ("3.3.1", "3.3.0.0"), f"{VS}::test_not_eq_star"),
    ("python !=3.3", ("3.3.1",), ("3.3.0.0",), f"{VS}::test_not_eq_star"),
    ("python >=2.7, !=3.0.*, !=3.1.*, !=3.2.*, !=3.3.*", ("2.7.2", "3.4", "3.4a"),
     ("2.6.8", "3.3", "3.3.4"), f"{VS}::test_compound_versions"),
    ("numpy ~=1.10.0", (), ("1.11.0",), f"{VS}::test_compatible_release_versions"),
    ("numpy ~=3.3.2", ("3.3.2.0", "3.3.3"), ("3.4.0", "3.3.1"),
     f"{VS}::test_compatible_release_versions"),
    ("numpy ~=3.3.2|==2.2", ("2.2.0", "3.3.3"), ("2.2.1",),
     f"{VS}::test_compatible_release_versions"),
    # conda/models/version.py (VersionSpec.get_matcher): '.*' after a relational operator is
    # ignored: conda warns that it is superfluous and reads `>=1.7.1`
    ("numpy >=1.7.1.*", ("1.7.1", "1.8"), ("1.7.0",), f"{VERSION_PY}"),
    ("numpy <2.0.*", ("1.26.4",), ("2.0", "2.0.1"), f"{VERSION_PY}"),
    ("numpy 1.7.0.post123+gabcdef9", ("1.7.0.post123+gabcdef9",), (),
     f"{VS}::test_local_identifier"),
    # mamba's parser tests: spacing, comments, `=` prefixes, brackets
    ("xtensor      >=       0.12.3", ("0.12.3",), ("0.12.2",), f"{MAMBA}"),
    ("python > 3.11", ("3.12",), ("3.11",), f"{MAMBA}"),
    ("pytorch-cpu = 1.13.0", ("1.13.0", "1.13.0.1"), ("1.13.1",), f"{MAMBA}"),
    ("scipy   >=    1.5.0,  < 2.0.0", ("1.9",), ("2.0.0", "1.4"), f"{MAMBA}"),
    ("kytea >=0.1.4, 0.2.0", ("0.2.0",), ("0.1.5",), f"{MAMBA}"),
    ("disperse=v0.9.24", ("v0.9.24",), ("v0.9.25",), f"{MAMBA}"),
    ("disperse v0.9.24", ("v0.9.24",), ("v0.9.24.1",), f"{MAMBA}"),
    ("importlib-metadata  # drop this when dropping Python 3.8", ("1.0", "8.4"), (),
     f"{MAMBA} (a comment; conda MatchSpec step 1)"),
    ("libblas=0.15*", ("0.15", "0.15.1"), ("0.16",), f"{MAMBA}"),
    ("python-graphviz  ~=      0.20", ("0.20.3",), ("1.0",), f"{MAMBA}"),
    ("python[version='~=3.11.0',build=*_cpython]", ("3.11.7=h4_0_cpython",),
     ("3.12.0=h4_0_cpython", "3.11.7=h4_0_pypy"), f"{MAMBA}"),
    ("_libgcc_mutex    0.1       conda_forge     ", ("0.1=conda_forge",), ("0.1=gnu",),
     f"{MAMBA}"),
    ("numpy=1.20", ("1.20.3",), ("1.21",), f"{MAMBA}"),
    ("libblas=*=*mkl", ("3.9=20_linux64_mkl",), ("3.9=20_linux64_openblas",), f"{MAMBA}"),
]


@pytest.mark.parametrize(("spec", "matches", "rejects", "source"), CASES,
                         ids=[case[0] for case in CASES])
def test_spec_matches_what_conda_matches(
    spec: str, matches: tuple[str, ...], rejects: tuple[str, ...], source: str
) -> None:
    dependency = parse_conda_spec(spec).dependency
    matcher = MatchSpec(dependency.matchspec, strict=False)
    for package in matches:
        assert matcher.matches(_record(package, dependency.name)), (spec, package, source)
    for package in rejects:
        assert not matcher.matches(_record(package, dependency.name)), (spec, package, source)


def test_the_table_is_large_enough() -> None:
    assert len(CASES) >= 60
    assert sum(len(m) + len(r) for _, m, r, _ in CASES) >= 150


# Which fields conda's parser gives (test_parse_spec_str_* and test_parse_channel_subdir).
FIELDS: list[tuple[str, str, str, str | None, str | None]] = [
    ("defaults::numpy=1.8", "numpy", "1.8.*", None, "defaults"),
    ("defaults::numpy =1.8", "numpy", "1.8.*", None, "defaults"),
    ("defaults::numpy=1.8=py27_0", "numpy", "==1.8", "py27_0", "defaults"),
    ("defaults::numpy[channel=anaconda]", "numpy", "", None, "anaconda"),
    ("defaults::numpy 1.8 py27_0[channel=anaconda]", "numpy", "==1.8", "py27_0", "anaconda"),
    ("defaults::numpy=1.8=py27_0 [channel=anaconda,version=1.9, build=3]",
     "numpy", "==1.9", "3", "anaconda"),
    ("defaults::numpy=1.8=py27_0 [channel='anaconda',version=\">=1.8,<2|1.9\", build='3']",
     "numpy", ">=1.8,<2|==1.9", "3", "anaconda"),
    ("https://repo.anaconda.com/pkgs/free::numpy", "numpy", "", None,
     "https://repo.anaconda.com/pkgs/free"),
    ("conda-forge::foo>=1.0", "foo", ">=1.0", None, "conda-forge"),
    ("conda-forge/linux-64::foo>=1.0", "foo", ">=1.0", None, "conda-forge"),
    ("conda-forge::foo[build=3]", "foo", "", "3", "conda-forge"),
    ("FOO-Bar >=1.0", "foo-bar", ">=1.0", None, None),
    ("numpy[version=1.7.*]", "numpy", "1.7.*", None, None),
    ("numpy[version='1.7*']", "numpy", "1.7.*", None, None),
    # test_comment, and MatchSpec step 1: everything from the first '#' is a comment
    ("foo # comment", "foo", "", None, None),
    ("foo ## comment", "foo", "", None, None),
    ("numpy >=1.20  # see #123", "numpy", ">=1.20", None, None),
    ("numpy=1.26.4=py311h64a7726_0#pinned, see #123", "numpy", "==1.26.4", "py311h64a7726_0",
     None),
]


@pytest.mark.parametrize(("spec", "name", "version", "build", "channel"), FIELDS,
                         ids=[case[0] for case in FIELDS])
def test_spec_fields_as_conda_reads_them(
    spec: str, name: str, version: str, build: str | None, channel: str | None
) -> None:
    dependency = parse_conda_spec(spec).dependency
    assert (dependency.name, dependency.version, dependency.build, dependency.channel) == (
        name, version, build, channel,
    )


# conda rejects these (test_ver_eval_errors, test_invalid_version_specs,
# test_compatible_release_versions, test_pep_440_arbitrary_equality_operator,
# test_invalid_match_spec, test_invalid_package_name_rejected); so does conda2docker.
REJECTED = [
    "numpy ><2.4.5", "numpy !!2.4.5", "numpy ~", "numpy 1.2+", "numpy +1.2", "numpy ++",
    "numpy ==", "numpy >=", "numpy <=", "numpy ~=3.3.2.*", "!xyz 1.3",
    "pack@ge", "numpy (1.5", "numpy 1.5||1.6",
]


@pytest.mark.parametrize("spec", REJECTED)
def test_specs_conda_rejects_are_input_errors(spec: str) -> None:
    with pytest.raises(InputError):
        parse_conda_spec(spec)


# Deliberate differences: conda accepts these, conda2docker says why it does not.
# - Regular-expression versions (`^1\.7\.1$`, `1.*.1`, `*.7.*`, `1.0.1*.vc11`): conda's
#   VersionSpec falls back to a regex; rattler (the solver conda2docker, pixi and mamba 2
#   use) has no regex specs, so the spec is refused with the reason rather than solved
#   differently. Seen in conda's tests only, in no corpus file.
# - `numpy=` (nothing after `=`): conda reads plain `numpy`, and its own test suite marks
#   that as a bug to fix (test_bare_equals_operator_raises, xfail); conda2docker refuses it.
# - Where conda and mamba disagree, conda wins: `foo=1.0=2` is exactly 1.0 for conda
#   (test_canonical_string_forms: `numpy=1.7=py3*_2` is `numpy==1.7[build=py3*_2]`) but the
#   prefix 1.0.* for mamba (`foo   =    1.0    =    2`); `foo V0.9.24` is refused by mamba
#   and read as v0.9.24 by conda (versions compare case-insensitively).
CONDA_ONLY = [
    ("numpy ^1.7.1$", "regex"),
    ("numpy 1.*.1", "regex"),
    ("numpy >=1,*.7.*", ""),
    ("numpy >=1.0.1*.vc11", "regex"),
    ("numpy=", "without a version"),
]


@pytest.mark.parametrize(("spec", "reason"), CONDA_ONLY)
def test_deliberate_differences_are_refused_with_the_reason(spec: str, reason: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_conda_spec(spec)
    assert reason in caught.value.message


def test_where_conda_and_mamba_disagree_conda_wins() -> None:
    spaced = parse_conda_spec("foo   =    1.0    =    2").dependency
    assert (spaced.version, spaced.build) == ("==1.0", "2")  # mamba: =1.0 (1.0.*)
    assert parse_conda_spec("foo V0.9.24").dependency.version == "==v0.9.24"  # mamba refuses
