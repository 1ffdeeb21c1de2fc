"""The URL character check, written as the complement of what a URL may hold, refuses exactly
controls, space, non-ASCII and ``"'<>\\^`{|}`` (every code point compared); and the shortcut
for ordinary conda package URLs accepts only what the whole check accepts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conda2docker.errors import InputError
from conda2docker.validate import (
    _UNSAFE_URL_CHAR,
    check_conda_url,
    check_conda_url_fully,
    is_ordinary_conda_url,
)

REFUSED_ASCII = set("\"'<>\\^`{|}")


def test_every_code_point_is_judged_as_the_rule_says() -> None:
    wrong = [code for code in range(0x110000)
             if (_UNSAFE_URL_CHAR.search(chr(code)) is not None)
             != (not 0x21 <= code <= 0x7E or chr(code) in REFUSED_ASCII)]
    assert wrong == []


# ---------------------------------------------------------------- ordinary conda package URLs
# check_conda_url accepts an "ordinary" URL (the shape of nearly every locked package) without
# parsing it: everything it so accepts must pass the whole check, and anything the whole check
# refuses must never look ordinary.


REAL = [
    "https://conda.anaconda.org/conda-forge/linux-64/python-3.11.7-hab00c5b_1_cpython.conda",
    "https://conda.anaconda.org/conda-forge/noarch/tzdata-2024a-h0c530f3_0.conda",
    "https://repo.anaconda.com/pkgs/main/linux-64/openssl-1.1.1w-h7f8727e_0.tar.bz2",
    "https://conda.anaconda.org/pytorch/linux-64/pytorch-2.1.0-py3.11_cuda12.1_cudnn8.9.2_0.tar.bz2",
    "https://mirror.example.org:8443/conda/bioconda/linux-aarch64/samtools-1.19-h50ea8bc_0.conda",
    "s3://bucket/channel/osx-arm64/libcxx-16.0.6-h4653b0c_0.conda",
]
# Each is a real hazard the whole check refuses (or must look at): none is ordinary.
NOT_ORDINARY = [
    "https://user:secret@conda.example.org/channel/linux-64/a-1-0.conda",    # credentials
    "https://conda.example.org/t/tk-123/channel/linux-64/a-1-0.conda",      # a token
    "https://conda.example.org/t/${TOKEN}/channel/linux-64/a-1-0.conda",    # a placeholder
    "https://conda.example.org/channel/../linux-64/a-1-0.conda",            # '..'
    "https://conda.example.org/channel/./linux-64/a-1-0.conda",             # '.'
    "https://conda.example.org/channel/%2e%2e/linux-64/a-1-0.conda",        # an encoded '..'
    "https://conda.example.org/channel/linux-64/a-1-0.conda#md5",           # a fragment
    "https://conda.example.org/channel/linux-64/a-1-0.conda?x=1",           # a query
    "https://conda.example.org/channel/linux-64/.a-1-0.conda",              # a hidden file
    "https://conda.example.org/channel/linux-64/a-1.conda",                 # no build
    "https://conda.example.org/channel/Linux-64/a-1-0.conda",               # not a subdir
    "https://conda.example.org/linux-64/a-1-0.conda",                       # no channel
    "ftp://conda.example.org/channel/linux-64/a-1-0.conda",                 # a scheme not allowed
    "file:///srv/channel/linux-64/a-1-0.conda",                             # local: whole check
    "https://conda.example.org/channel/linux-64/a-1-0.conda\nRUN x",        # a line break
    "https://conda.example.org/channel/linux-64/" + "a" * 250 + "-1-0.conda",  # name too long
]


@pytest.mark.parametrize("url", REAL)
def test_real_package_urls_are_ordinary_and_pass_the_whole_check(url: str) -> None:
    assert is_ordinary_conda_url(url)
    assert check_conda_url_fully(url) == url == check_conda_url(url)


@pytest.mark.parametrize("url", NOT_ORDINARY, ids=range(len(NOT_ORDINARY)))
def test_urls_with_a_hazard_are_never_ordinary(url: str) -> None:
    assert not is_ordinary_conda_url(url)


def test_a_refused_url_is_refused_with_or_without_the_shortcut() -> None:
    for url in NOT_ORDINARY:
        try:
            check_conda_url_fully(url)
        except InputError as refused:
            with pytest.raises(InputError) as again:
                check_conda_url(url)
            assert again.value.message == refused.message


_PIECES = st.sampled_from([
    "conda-forge", "t", "tk", "..", ".", "%2e", "$X", "${X}", "user@", "u:p@", "a b", "#f", "?q",
    "linux-64", "noarch", "Linux-64", "x", "-", "_", "+", "!", "a.b", "", "\x00", "é", ":", "~",
])
_FILES = st.builds(lambda n, v, b, ext: f"{n}-{v}-{b}{ext}",
                   st.from_regex(r"[A-Za-z0-9_.!+\-]{0,6}", fullmatch=True),
                   st.from_regex(r"[A-Za-z0-9_.!+\-%]{0,5}", fullmatch=True),
                   st.from_regex(r"[A-Za-z0-9_.!+%]{0,5}", fullmatch=True),
                   st.sampled_from([".conda", ".tar.bz2", ".zip", ""]))


@given(scheme=st.sampled_from(["https", "http", "s3", "file", "ftp", "HTTPS", "git+https"]),
       host=st.sampled_from(["conda.anaconda.org", "h:8443", "u@h", "u:p@h", "", "h:", "-h", "h.", "[::1]"]),
       path=st.lists(_PIECES, max_size=5), name=_FILES)
def test_an_ordinary_url_always_passes_the_whole_check(scheme: str, host: str, path: list[str],
                                                       name: str) -> None:
    url = f"{scheme}://{host}/" + "/".join([*path, name])
    if is_ordinary_conda_url(url):
        assert check_conda_url_fully(url) == url


_WORD = st.from_regex(r"[A-Za-z0-9_.+!\-]{0,6}", fullmatch=True)


@given(scheme=st.sampled_from(["https", "http", "s3"]),
       host=st.from_regex(r"[a-z0-9.\-]{1,8}(:[0-9]{1,6})?", fullmatch=True),
       path=st.lists(_WORD, min_size=1, max_size=3),
       subdir=st.from_regex(r"[a-z0-9_\-]{1,9}", fullmatch=True),
       parts=st.lists(_WORD, min_size=3, max_size=4), ext=st.sampled_from([".conda", ".tar.bz2"]))
def test_near_ordinary_urls_agree_with_the_whole_check(scheme: str, host: str, path: list[str],
                                                       subdir: str, parts: list[str], ext: str) -> None:
    """URLs in the ordinary alphabet, with '.'/'..' segments, empty parts and odd dashes: the
    shortcut accepts only what the whole check accepts."""
    url = f"{scheme}://{host}/" + "/".join([*path, subdir, "-".join(parts) + ext])
    if is_ordinary_conda_url(url):
        assert check_conda_url_fully(url) == url
