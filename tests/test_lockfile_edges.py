"""Reading and writing conda-lock files at their edges: what a user sees when a lock is not
quite what conda2docker writes (another tool's lock, an old or hand-edited one, a hostile one),
and what a lock written and read back keeps."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

import conda2docker
from conda2docker.errors import InputError
from conda2docker.lockfile import conda_lock_text, read_conda_lock, read_lock, write_conda_lock
from support.locks import lock_pure_conda, lock_with_builds, lock_with_pip_wheels
from support.shared import shared_path

BASE = conda_lock_text(lock_pure_conda())
"""A lock as conda2docker writes it: libzlib, numpy, pip, python for linux-64, one channel
(conda-forge), sources [environment.yml], roots ["python", "numpy"]."""


def _problems(path: Path, text: str) -> list[str]:
    path.write_text(text)
    with pytest.raises(InputError) as info:
        read_conda_lock(path)
    return info.value.lines()


def _line_of(text: str, needle: str) -> int:
    return text[:text.index(needle)].count("\n") + 1


# ------------------------------------------------------------------- not a conda-lock file


def test_a_pixi_lock_is_named_with_its_version_and_the_way_out() -> None:
    path = shared_path("locks", "prefix-dev__pixi__examples__pypi__pixi.lock")
    version = yaml.safe_load(path.read_text())["version"]
    with pytest.raises(InputError) as info:
        read_lock(path)
    assert info.value.one_line() == (
        f"{path}: this is a pixi.lock (version {version}), not a conda-lock file; fix: export an "
        "environment file with `pixi workspace export conda-environment` and convert that")


@pytest.mark.parametrize("text", ["packages:\n- numpy\n- python\n", "- packages\n- environments\n"],
                         ids=["packages-key", "a-list"])
def test_a_document_with_packages_but_no_environments_is_no_pixi_lock(tmp_path: Path, text: str) -> None:
    """A pixi.lock has both ``environments`` and ``packages``; a document with only one is
    just not a conda-lock file."""
    path = tmp_path / "conda-lock.yml"
    assert _problems(path, text) == [
        f"{path}: not a conda-lock file (no 'package' list); fix: pass an environment.yml, or a "
        "lock written by conda-lock or conda2docker"]


def test_metadata_that_is_not_a_mapping_is_placed_and_says_how_to_fix_it(tmp_path: Path) -> None:
    text = BASE.replace(BASE[BASE.index("metadata:\n"):BASE.index("package:\n")],
                        "metadata:\n- linux-64\n")
    path = tmp_path / "conda-lock.yml"
    assert _problems(path, text) == [
        f"{path}:{_line_of(text, 'metadata:') + 1}:1: 'metadata' must be a mapping, found list; fix: regenerate the lock with "
        "`conda2docker lock`"]


def test_a_lock_file_that_cannot_be_read_is_called_a_lock_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        read_lock(tmp_path)
    assert info.value.one_line() == (f"{tmp_path}: lock file {tmp_path} is a folder; "
                                     "fix: pass the file itself")
    with pytest.raises(InputError) as info:
        read_conda_lock(tmp_path / "conda-lock.yml")
    assert f": lock file {tmp_path / 'conda-lock.yml'} does not exist;" in info.value.one_line()


# ------------------------------------------------------------------- a hostile lock's head


def test_written_out_credentials_are_refused_even_where_the_environment_holds_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whether a lock carries a secret is a property of the file, not of the machine that
    reads it: a password written out is refused though CHANNEL_PASSWORD holds the same value
    here (conda-lock would have written it as ${CHANNEL_PASSWORD})."""
    monkeypatch.setenv("CHANNEL_PASSWORD", "s3cret")
    url = "https://ana:s3cret@conda.example.org/private"
    text = BASE.replace("  - url: conda-forge\n", f"  - url: {url}\n")
    path = tmp_path / "conda-lock.yml"
    [problem] = _problems(path, text)
    assert problem.startswith(f"{path}:{_line_of(text, url)}:5: metadata.channels: "
                              "'https://****@conda.example.org/private' holds its credentials written out")
    assert "s3cret" not in problem
    placeholder = text.replace(url, "https://ana:${CHANNEL_PASSWORD}@conda.example.org/private")
    path.write_text(placeholder)
    assert read_conda_lock(path).channels == ("https://ana:${CHANNEL_PASSWORD}@conda.example.org/private",)


@pytest.mark.parametrize(("old", "new", "start"), [
    ("  - url: conda-forge\n", "  - url: 'https://ana:pw@[oops/private'\n",
     "channel URL 'https://****@[oops/private' is not a URL (Invalid IPv6 URL)"),
    ("https://conda.anaconda.org/conda-forge/linux-64/numpy", "https://[oops/conda-forge/linux-64/numpy",
     "package 'numpy': conda package URL 'https://[oops/conda-forge/linux-64/numpy-1.26.4-py311h64a7726_0"
     ".conda' is not a URL (Invalid IPv6 URL)"),
    # with a ${NAME} credential: the placeholders are taken out by splitting the URL first
    ("  - url: conda-forge\n", "  - url: 'https://ana:${CHANNEL_PASSWORD}@[oops/private'\n",
     "channel URL 'https://****@[oops/private' is not a URL (Invalid IPv6 URL)"),
    ("https://conda.anaconda.org/conda-forge/linux-64/numpy",
     "https://ana:${CHANNEL_PASSWORD}@[oops/conda-forge/linux-64/numpy",
     "package 'numpy': conda package URL 'https://****@[oops/conda-forge/linux-64/numpy-1.26.4-"
     "py311h64a7726_0.conda' is not a URL (Invalid IPv6 URL)"),
    ("https://conda.anaconda.org/conda-forge/linux-64/numpy",
     "https://[conda.example.org]/t/${CONDA_TOKEN}/conda-forge/linux-64/numpy",
     "package 'numpy': conda package URL 'https://[conda.example.org]/t/***/conda-forge/linux-64/"
     "numpy-1.26.4-py311h64a772…' is not a URL ('conda.example.org' does not appear to be an IPv4 "
     "or IPv6 address)"),
], ids=["channel", "package", "channel-with-a-password", "package-with-a-password",
        "package-with-a-token-and-a-bracketed-name"])
def test_a_url_with_an_unclosed_ipv6_bracket_is_a_problem_at_its_line(
        tmp_path: Path, old: str, new: str, start: str) -> None:
    """Python cannot split such a URL at all (ValueError), nor one whose bracketed host is no
    IP address: it was an internal error."""
    text = BASE.replace(old, new)
    path = tmp_path / "conda-lock.yml"
    [problem] = _problems(path, text)
    assert problem.startswith(f"{path}:{_line_of(text, new.strip().removeprefix('- url: '))}:"), problem
    assert problem.split(": ", 1)[1].startswith(start), problem


def test_roots_nested_deeper_than_json_reads_are_a_problem_not_a_crash(tmp_path: Path) -> None:
    text = BASE.replace("""'["python", "numpy"]'""", "'" + "[" * 100_000 + "'")
    path = tmp_path / "conda-lock.yml"
    [problem] = _problems(path, text)
    assert problem.startswith(f"{path}:{_line_of(text, '[[[')}:")
    assert "custom_metadata.conda2docker.roots is not a JSON list; fix: regenerate the lock" in problem


@pytest.mark.parametrize(("value", "limit", "what"), [
    ("a" * 256, 256, "content_hash"), ("environment.yml".rjust(4096, "e"), 4096, "sources"),
], ids=["content_hash", "sources"])
def test_metadata_text_at_its_length_limit_is_read_and_one_more_is_refused(
        tmp_path: Path, value: str, limit: int, what: str) -> None:
    written = {"content_hash": BASE[BASE.index("    linux-64: ") + 14:].split("\n")[0],
               "sources": "  - environment.yml"}[what]
    path = tmp_path / "conda-lock.yml"
    prefix = "  - " if what == "sources" else ""
    path.write_text(BASE.replace(written, prefix + value, 1))
    lock = read_conda_lock(path)
    assert (lock.content_hash["linux-64"] if what == "content_hash" else lock.sources[0]) == value
    longer = BASE.replace(written, prefix + "e" + value, 1)
    [problem] = _problems(path, longer)
    assert problem.startswith(f"{path}:{_line_of(longer, prefix + 'e' + value)}:")
    assert f"metadata.{what} is {limit + 1} characters long (the limit is {limit})" in problem


# ------------------------------------------------------------------- entries


def test_a_long_package_name_is_cut_at_80_characters_in_every_message(tmp_path: Path) -> None:
    name = "r-" + "bioconductor-" * 7 + "annotationhub"  # 106 characters, a valid conda name
    assert len(name) > 80
    text = BASE.replace("- name: numpy\n", f"- name: {name}\n")
    path = tmp_path / "conda-lock.yml"
    bad_hash = text.replace("    md5: 0e09be56bfb2ab85b213e5edf9af10df\n", "    md5: xyz\n")
    [problem] = _problems(path, bad_hash)
    assert problem.split(": ", 1)[1].startswith(f"package '{name[:80]}': invalid md5 'xyz'"), problem
    no_url = "\n".join(line for line in text.split("\n")
                       if not line.startswith("  url: https://conda.anaconda.org/conda-forge/linux-64/numpy"))
    [problem] = _problems(path, no_url)
    assert problem.split(": ", 1)[1].startswith(f"package '{name[:80]}': 'url' must be a str, "
                                                "found NoneType"), problem


def test_an_entry_without_a_manager_is_a_conda_package(tmp_path: Path) -> None:
    """conda-lock's models require ``manager``; conda2docker reads an entry written without it
    (by hand, or by a tool that left it out) as what an entry is unless it says pip: conda's."""
    path = tmp_path / "conda-lock.yml"
    path.write_text(BASE.replace("  manager: conda\n", ""))
    lock = read_conda_lock(path)
    assert [(p.name, p.manager) for p in lock.packages] == [
        ("libzlib", "conda"), ("numpy", "conda"), ("pip", "conda"), ("python", "conda")]
    assert [p.name for p in lock.conda_packages("linux-64")] == ["libzlib", "numpy", "pip", "python"]


_NUMPY = "https://conda.anaconda.org/conda-forge/linux-64/numpy-1.26.4-py311h64a7726_0.conda"


@pytest.mark.parametrize("url", [
    _NUMPY, _NUMPY + "?token=abc", _NUMPY + "?from=/mirror/numpy.conda",
    _NUMPY.replace("numpy-1.26.4-py311h64a7726_0", "numpy%2D1.26.4%2Dpy311h64a7726_0"),
], ids=["plain", "query", "query-with-a-path", "percent-encoded"])
def test_an_entry_without_a_build_takes_it_from_the_file_its_url_names(tmp_path: Path, url: str) -> None:
    """conda-lock writes no ``build`` (none of the shared real locks has one): it is the file
    name's, the file the URL downloads (its path, decoded; a query is no part of it), as the
    URL check and every other reader of the URL take it (lock reuse prefers that build)."""
    text = BASE.replace(_NUMPY, url).replace("  build: py311h64a7726_0\n", "")
    path = tmp_path / "conda-lock.yml"
    path.write_text(text)
    [numpy] = [p for p in read_conda_lock(path).packages if p.name == "numpy"]
    assert (numpy.build, numpy.file_name) == ("py311h64a7726_0", "numpy-1.26.4-py311h64a7726_0.conda")


@pytest.mark.parametrize("url", ["https://conda.anaconda.org", "numpy-1.26.4-py311h64a7726_0.conda"],
                         ids=["host-only", "file-name-only"])
def test_a_conda_url_without_a_path_is_a_problem_at_its_line(tmp_path: Path, url: str) -> None:
    """Nothing to take a build from: the entry is refused as the URL check says, not a crash."""
    text = BASE.replace(_NUMPY, url).replace("  build: py311h64a7726_0\n", "")
    path = tmp_path / "conda-lock.yml"
    [problem] = _problems(path, text)
    assert problem.startswith(f"{path}:{_line_of(text, '  url: ' + url + chr(10))}:8: package 'numpy': "), problem
    assert f"'{url}'" in problem


def test_a_dependency_without_a_constraint_is_any_version_and_written_back_so(tmp_path: Path) -> None:
    path = tmp_path / "conda-lock.yml"
    path.write_text(BASE.replace("    python: '>=3.8'\n", "    python:\n"))
    lock = read_conda_lock(path)
    assert next(p for p in lock.packages if p.name == "pip").dependencies == {"python": ""}
    again = tmp_path / "again" / "conda-lock.yml"
    write_conda_lock(lock, again)
    assert again.read_text() == BASE.replace("    python: '>=3.8'\n", "    python: ''\n")


def test_channels_written_as_plain_names_are_read_as_channels(tmp_path: Path) -> None:
    """conda-lock writes ``- url: conda-forge``; a lock that lists the names alone (as an
    environment file does) names the same channels, and is written back in conda-lock's form."""
    text = BASE.replace("  - url: conda-forge\n    used_env_vars: []\n", "  - conda-forge\n  - bioconda\n")
    path = tmp_path / "conda-lock.yml"
    path.write_text(text)
    lock = read_conda_lock(path)
    assert lock.channels == ("conda-forge", "bioconda")
    write_conda_lock(lock, path)
    assert "  channels:\n  - url: conda-forge\n    used_env_vars: []\n  - url: bioconda\n" in path.read_text()


def test_an_entry_with_a_bad_url_and_a_bad_name_reports_both(tmp_path: Path) -> None:
    """A conda-lock entry writes its name: it is checked beside its URL (only an explicit
    lock's name is cut from the URL, where a bad URL is its one problem)."""
    text = BASE.replace("- name: numpy\n", "- name: numpy!\n").replace(
        _NUMPY, "ftp://h.example/conda-forge/linux-64/numpy-1.26.4-py311h64a7726_0.conda")
    path = tmp_path / "conda-lock.yml"
    problems = _problems(path, text)
    assert [p.split(": ")[0] for p in problems] == [
        f"{path}:{_line_of(text, 'numpy!')}:9", f"{path}:{_line_of(text, 'ftp://')}:8"], problems
    assert problems[0].split(": ", 1)[1].startswith("package 'numpy!': invalid conda package name 'numpy!'")
    assert problems[1].split(": ", 1)[1].startswith(
        "package 'numpy!': conda package URL 'ftp://h.example/conda-forge/linux-64/numpy-1.26.4-"
        "py311h64a7726_0.conda' has scheme 'ftp'")


_NUMPY_MD5 = "0e09be56bfb2ab85b213e5edf9af10df"
_NUMPY_SHA256 = "470f748cbf9145e6520491ee8e9adcd350f251d1ad16dadb1f0f3718dfa584f2"


@pytest.mark.parametrize("capitals", [("md5",), ("sha256",), ("md5", "sha256")],
                         ids=["md5", "sha256", "both"])
def test_hashes_written_in_capitals_are_read_and_written_back_in_lowercase(
        tmp_path: Path, capitals: tuple[str, ...]) -> None:
    """A hand-edited lock (or another tool's) may write a digest in capitals: the same digest,
    read and written back in lowercase, as conda-lock writes it."""
    text = BASE
    for kind, digest in (("md5", _NUMPY_MD5), ("sha256", _NUMPY_SHA256)):
        if kind in capitals:
            text = text.replace(digest, digest.upper())
    path = tmp_path / "conda-lock.yml"
    path.write_text(text)
    lock = read_conda_lock(path)
    [numpy] = [p for p in lock.packages if p.name == "numpy"]
    assert (numpy.md5, numpy.sha256) == (_NUMPY_MD5, _NUMPY_SHA256)
    again = tmp_path / "again" / "conda-lock.yml"
    write_conda_lock(lock, again)
    assert again.read_text() == BASE



# ------------------------------------------------------------------- values at their limits


_PIP_DEPENDENCY = "    python: '>=3.8'\n"
_LONG_NAME = "r-" + "bioconductor-" * 7 + "annotationhub"  # 106 characters, a valid conda name


def _constraint(length: int) -> str:
    return (">=3.8" + ",!=3.9.*" * 200)[:length]


@pytest.mark.parametrize("name", ["python", _LONG_NAME], ids=["short-name", "long-name"])
def test_a_dependency_constraint_at_1024_characters_is_read_and_one_more_is_refused(
        tmp_path: Path, name: str) -> None:
    """The message names the dependency, cut at 80 characters as a package's name is."""
    path = tmp_path / "conda-lock.yml"
    path.write_text(BASE.replace(_PIP_DEPENDENCY, f"    {name}: '{_constraint(1024)}'\n"))
    [pip] = [p for p in read_conda_lock(path).packages if p.name == "pip"]
    assert pip.dependencies == {name: _constraint(1024)}
    longer = BASE.replace(_PIP_DEPENDENCY, f"    {name}: '{_constraint(1025)}'\n")
    [problem] = _problems(path, longer)
    assert problem.startswith(f"{path}:{_line_of(longer, _constraint(1025))}:"), problem[:200]
    assert problem.split(": ", 1)[1] == (f"package 'pip': dependency '{name[:80]}' is 1025 characters "
                                         "long (the limit is 1024); fix: shorten it")


def test_a_dependency_name_at_1024_characters_is_read_and_one_more_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "conda-lock.yml"
    path.write_text(BASE.replace(_PIP_DEPENDENCY, f"    {'p' * 1024}: '>=3.8'\n"))
    [pip] = [p for p in read_conda_lock(path).packages if p.name == "pip"]
    assert pip.dependencies == {"p" * 1024: ">=3.8"}
    longer = BASE.replace(_PIP_DEPENDENCY, f"    {'p' * 1025}: '>=3.8'\n")
    [problem] = _problems(path, longer)
    assert problem.startswith(f"{path}:{_line_of(longer, 'p' * 1025)}:"), problem[:200]
    assert problem.split(": ", 1)[1] == ("package 'pip': dependency is 1025 characters long "
                                         "(the limit is 1024); fix: shorten it")


_NUMPY_FIELDS = {  # the line of numpy's entry that holds the field, as a template
    "version": ("  version: 1.26.4\n", "  version: {}\n"),
    "build": ("  build: py311h64a7726_0\n", "  build: {}\n"),
    "category": ("  build: py311h64a7726_0\n  category: main\n", "  build: py311h64a7726_0\n  category: {}\n"),
}


@pytest.mark.parametrize("field", list(_NUMPY_FIELDS))
def test_an_entrys_text_at_1024_characters_is_read_and_one_more_is_refused(
        tmp_path: Path, field: str) -> None:
    """version, build and category reach messages and generated files: one line each, 1024
    characters at most."""
    written, template = _NUMPY_FIELDS[field]
    start = {"version": "1.26.4+", "build": "py311h64a7726_0_", "category": "main-"}[field]
    path = tmp_path / "conda-lock.yml"
    value = start.ljust(1024, "x")
    path.write_text(BASE.replace(written, template.format(value)))
    [numpy] = [p for p in read_conda_lock(path).packages if p.name == "numpy"]
    assert getattr(numpy, field) == value
    value = start.ljust(1025, "x")
    longer = BASE.replace(written, template.format(value))
    [problem] = _problems(path, longer)
    assert problem.startswith(f"{path}:{_line_of(longer, value)}:"), problem[:200]
    assert problem.split(": ", 1)[1] == (f"package 'numpy': {field} is 1025 characters long "
                                         "(the limit is 1024); fix: shorten it")


# ------------------------------------------------------------------- writing


@pytest.mark.parametrize("make", [lock_pure_conda, lock_with_pip_wheels, lock_with_builds])
def test_a_lock_read_back_and_written_again_is_the_same_file(tmp_path: Path, make) -> None:  # type: ignore[no-untyped-def]
    """What ``lock`` reuses and ``convert --check`` compares: reading a lock conda2docker wrote
    loses nothing it writes (sources, channels, hashes, roots)."""
    first, second = tmp_path / "conda-lock.yml", tmp_path / "again" / "conda-lock.yml"
    write_conda_lock(make(), first)
    write_conda_lock(read_conda_lock(first), second)
    assert second.read_text() == first.read_text()
    assert read_conda_lock(second).sources == make().sources == ("environment.yml",)


def test_a_lock_names_its_own_file_in_its_instructions(tmp_path: Path) -> None:
    """The header's conda-lock commands name the file they are in (``convert`` writes
    conda-lock.gpu.yml beside conda-lock.yml)."""
    path = tmp_path / "conda-lock.gpu.yml"
    write_conda_lock(lock_pure_conda(), path)
    text = path.read_text()
    assert "conda-lock install -n YOURENV conda-lock.gpu.yml\n" in text
    assert "conda-lock -f environment.yml --lockfile conda-lock.gpu.yml\n" in text
    assert "conda-lock.yml" not in text


_WRITE = """
import sys
from dataclasses import replace
from pathlib import Path
from conda2docker.lockfile import write_conda_lock
from support.locks import lock_pure_conda
write_conda_lock(replace(lock_pure_conda(), sources=("umgebung-f\\u00fcr-kurs.yml",)), Path(sys.argv[1]))
"""


def test_a_lock_is_written_as_utf8_whatever_the_locale(tmp_path: Path) -> None:
    """Under the C locale (an image or CI runner without locales, Python's UTF-8 mode off) a
    lock naming a non-ASCII source file is still written, in UTF-8, and read back."""
    package_root = Path(conda2docker.__file__).resolve().parents[1]
    tests = Path(__file__).resolve().parent
    env = {**os.environ, "LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0",
           "PYTHONPATH": os.pathsep.join([str(package_root), str(tests)])}
    probe = subprocess.run([sys.executable, "-c", "import locale; print(locale.getpreferredencoding(False))"],
                           env=env, capture_output=True, text=True, check=True, timeout=60)
    if probe.stdout.strip().lower().replace("-", "") == "utf8":
        pytest.skip(f"this Python's C locale encoding is {probe.stdout.strip()}: no other locale to write in")
    path = tmp_path / "conda-lock.yml"
    done = subprocess.run([sys.executable, "-c", _WRITE, str(path)], env=env, capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr[-2000:]
    header = "#     conda-lock -f umgebung-f\u00fcr-kurs.yml --lockfile conda-lock.yml\n"  # sources: escaped
    assert header.encode() in path.read_bytes()
    assert read_conda_lock(path).sources == ("umgebung-f\u00fcr-kurs.yml",)
    here = tmp_path / "here" / "conda-lock.yml"  # the same lock written in this process's locale
    write_conda_lock(replace(lock_pure_conda(), sources=("umgebung-f\u00fcr-kurs.yml",)), here)
    assert path.read_bytes() == here.read_bytes()


def test_an_earlier_lock_is_reused_only_when_there_is_one_that_reads(tmp_path: Path) -> None:
    """`lock` and `convert` reuse the lock already written when its inputs match: a lock that
    reads is offered for reuse; no path, a missing file, a folder or a broken lock is not
    (the environment is solved again, never a crash)."""
    from conda2docker.lockfile import read_reusable_lock

    path = tmp_path / "conda-lock.yml"
    write_conda_lock(lock_pure_conda(), path)
    reused = read_reusable_lock(path)
    assert reused is not None and reused.packages == read_conda_lock(path).packages
    broken = tmp_path / "broken.yml"
    broken.write_text("version: 1\npackage: 3\n", encoding="utf-8")
    for nothing in (None, tmp_path / "missing.yml", tmp_path, broken):
        assert read_reusable_lock(nothing) is None, nothing
