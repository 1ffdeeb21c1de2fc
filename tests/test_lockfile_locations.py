"""Where a problem of a conda-lock file is reported: ``file:line:col`` of the very value.

A broken lock is refused with every problem at once, one ``file:line:col: what; fix: how``
line each, so an editor jumps to the value. Both readers are checked: the line-based reader
of conda-lock's own layout (``fast_parse``, placed by scanning the lines) and the YAML reader
an unusual layout falls back to (placed by YAML's nodes), each reading every platform or one.
The expected places are computed from the text here: the line written, the value's column.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from conda2docker.errors import InputError
from conda2docker.lockfile import (
    conda_lock_text,
    fast_parse,
    lock_from_mapping,
    read_conda_lock,
    read_explicit,
)
from support.locks import base_conda, lock_with_pip_wheels
from support.shared import shared_path

READERS = ("layout", "yaml")
SCOPES = {"all": None, "linux-64": {"linux-64"}}


def _base() -> str:
    """conda-lock's own layout (as its writer lays it out), two platforms interleaved."""
    single = lock_with_pip_wheels()
    lock = replace(single, packages=(*base_conda("osx-arm64"), *single.packages),
                   platforms=("osx-arm64", "linux-64"), roots=("python",))
    return conda_lock_text(lock)


BASE = _base()


def _variant(text: str, variant: str) -> str:
    if variant == "version-last":  # older conda-lock wrote the version after the packages
        return text.replace("version: 1\n", "", 1) + "version: 1\n"
    if variant == "blank-first":
        return "\n" + text
    if variant == "spaced":  # whitespace-only lines inside entries (a hand-edited lock)
        return text.replace("\n  hash:\n", "\n  hash:\n  \n").replace("\n  url: ", "\n    \n  url: ")
    assert variant == "as-written"
    return text


def _as_read_by(text: str, reader: str) -> str:
    """The text, in a layout the line reader declines when ``reader`` is "yaml" (same lines)."""
    if reader == "yaml":
        text = text.replace("\npackage:\n", "\npackage:  # the entries\n", 1)
        assert fast_parse(text) is None
    else:
        assert fast_parse(text) is not None
    return text


def _region(lines: list[str], where: tuple[str, str] | None) -> range | list[int]:
    """The lines of the head (``None``: all but the package list) or of the entry of
    ``(name, platform)``."""
    starts = [i for i, line in enumerate(lines) if line.startswith("- ")]
    if where is None:
        return [i for i in range(len(lines)) if not lines.index("package:") <= i <= starts[-1]
                or (i > starts[-1] and lines[i][:1] not in (" ", ""))]
    for number, start in enumerate(starts):
        end = starts[number + 1] if number + 1 < len(starts) else len(lines)
        if lines[start] == f"- name: {where[0]}" and f"  platform: {where[1]}" in lines[start:end]:
            return range(start, end)
    raise AssertionError(where)


def _put(text: str, where: tuple[str, str] | None, prefix: str, kept: str,
         value: str) -> tuple[str, tuple[int, int]]:
    """``text`` with the first line of the region starting with ``prefix`` rewritten as
    ``kept + value`` (a block under it dropped), and the (line, column) of that value."""
    lines = text.split("\n")
    for i in _region(lines, where):
        line = lines[i] if not lines[i].startswith("- ") else "  " + lines[i][2:]
        if line.startswith(prefix):
            break
    else:
        raise AssertionError(prefix)
    indent = len(line) - len(line.lstrip(" "))
    lines[i] = kept + value
    block = line.rstrip().endswith(":")
    while block and i + 1 < len(lines) and lines[i + 1].strip() and (
            len(lines[i + 1]) - len(lines[i + 1].lstrip(" ")) > indent
            or lines[i + 1].startswith(" " * indent + "- ")):
        del lines[i + 1]
    return "\n".join(lines), (i + 1, len(kept) + 1)


def _problems(path: Path, text: str, platforms: Collection[str] | None) -> list[str]:
    path.write_text(text)
    with pytest.raises(InputError) as info:
        read_conda_lock(path, platforms=platforms)
    lines = info.value.lines() if hasattr(info.value, "lines") else [info.value.one_line()]
    assert all("; fix: " in line for line in lines), lines
    return lines


FIRST, NUMPY, OSX_NUMPY, SIX = (("libzlib", "linux-64"), ("numpy", "linux-64"), ("numpy", "osx-arm64"),
                                ("six", "linux-64"))
LONG = "9" * 1100

# (id, entry or None for the head, prefix of the line, the part kept, the new value, the
# message's start). A mapping is placed, as YAML places it, at its first key.
BREAKS: list[tuple[str, tuple[str, str] | None, str, str, str, str]] = [
    ("first-entry", FIRST, "    sha256: ", "    sha256: ", "zz", "package 'libzlib': invalid sha256 'zz'"),
    ("url", NUMPY, "  url: ", "  url: ", "ftp://h.example/c/linux-64/numpy-1-0.conda",
     "package 'numpy': conda package URL"),
    ("name", NUMPY, "  name: ", "- name: ", "numpy!", "package 'numpy!': invalid conda package name"),
    ("version", NUMPY, "  version: ", "  version: ", LONG, "package 'numpy': version is"),
    ("manager", NUMPY, "  manager: ", "  manager: ", "npm", "package 'numpy': unknown manager 'npm'"),
    ("platform", NUMPY, "  platform: ", "  platform: ", "../x", "package 'numpy': invalid platform '../x'"),
    ("dependency", NUMPY, "    python: ", "    python: ", LONG, "package 'numpy': dependency 'python' is"),
    ("dependencies", NUMPY, "  dependencies:", "  dependencies: ", "python",
     "package 'numpy': 'dependencies' must be a mapping, found str"),
    ("md5", NUMPY, "    md5: ", "    md5: ", "xyz", "package 'numpy': invalid md5 'xyz'"),
    ("sha256", NUMPY, "    sha256: ", "    sha256: ", "zz", "package 'numpy': invalid sha256 'zz'"),
    ("hash", NUMPY, "    md5: ", "    ", "md5: true", "package 'numpy': 'hash' must map md5/sha256"),
    ("build", NUMPY, "  build: ", "  build: ", LONG, "package 'numpy': build is"),
    ("category", NUMPY, "  category: ", "  category: ", LONG, "package 'numpy': category is"),
    # an empty value is YAML's null, placed just after its colon, by the line reader as by YAML
    ("empty-url", NUMPY, "  url: ", "  url:", "", "package 'numpy': 'url' must be a str, found NoneType"),
    ("empty-version", NUMPY, "  version: ", "  version:", "",
     "package 'numpy': 'version' must be a str or int or float, found NoneType"),
    ("empty-pip-url", SIX, "  url: ", "  url:", "", "package 'six': 'url' must be a str, found NoneType"),
    ("pip-url", SIX, "  url: ", "  url: ", "ftp://h.example/six-1.16.0-py3-none-any.whl",
     "package 'six': pip package URL"),
    ("pip-name", SIX, "  name: ", "- name: ", "six; rm -rf /", "package 'six; rm -rf /': invalid pip package name"),
    ("head-version", None, "version: ", "version: ", "2", "unsupported conda-lock file version 2"),
    ("head-platform-first", None, "  - osx-arm64", "  - ", "../x", "metadata.platforms: invalid platform '../x'"),
    ("head-platform-second", None, "  - linux-64", "  - ", "Linux", "metadata.platforms: invalid platform 'Linux'"),
    ("head-platforms", None, "  platforms:", "  platforms: ", "3", "metadata.platforms must be a list, found int"),
    ("head-channel", None, "  - url: ", "  - ", "url: ftp://h.example/c", "channel URL 'ftp://h.example/c'"),
    ("head-content-hash", None, "    linux-64: ", "    linux-64: ", "a" * 300, "metadata.content_hash is"),
    ("head-source", None, "  - environment.yml", "  - ", "s" * 5000, "metadata.sources is"),
    ("head-roots", None, "    conda2docker.roots: ", "    conda2docker.roots: ", "not json",
     "custom_metadata.conda2docker.roots is not a JSON list"),
]


def _placements() -> list[Any]:
    """Every break by each reader, for every platform and for linux-64 (a package of another
    platform would not be read), in the layouts conda-lock writes for a few fields."""
    found = []
    for case in BREAKS:
        for variant in ("as-written", "version-last", "blank-first", "spaced"):
            if variant != "as-written" and case[1] is not None and case[0] not in ("url", "md5", "hash"):
                continue
            for reader in READERS:
                for scope in SCOPES:
                    if case[0] == "platform" and scope != "all":
                        continue
                    found.append(pytest.param(case, reader, scope, variant,
                                              id=f"{case[0]}-{reader}-{scope}-{variant}"))
    return found


@pytest.mark.parametrize(("case", "reader", "scope", "variant"), _placements())
def test_a_broken_value_is_reported_where_it_is_written(
        tmp_path: Path, case: tuple[Any, ...], reader: str, scope: str, variant: str) -> None:
    _name, where, prefix, kept, value, start = case
    text, (line, column) = _put(_variant(BASE, variant), where, prefix, kept, value)
    path = tmp_path / "conda-lock.yml"
    problems = _problems(path, _as_read_by(text, reader), SCOPES[scope])
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{path}:{line}:{column}: {start}"), (problems[0][:200], line, column)


def test_a_problem_in_a_skipped_platform_is_not_reported(tmp_path: Path) -> None:
    text, _ = _put(BASE, OSX_NUMPY, "    md5: ", "    md5: ", "xyz")
    text, (line, column) = _put(text, NUMPY, "    sha256: ", "    sha256: ", "zz")
    for reader in READERS:
        path = tmp_path / f"{reader}.yml"
        read = _as_read_by(text, reader)
        assert [p.split(": package")[0] for p in _problems(path, read, {"linux-64"})] == [
            f"{path}:{line}:{column}"]
        assert len(_problems(path, read, None)) == 2
        assert len(_problems(path, read, {"osx-arm64"})) == 1


@pytest.mark.parametrize("comment", ["  # pinned by hand", "  #", "    # a note"])
def test_a_comment_in_a_skipped_platforms_entry_moves_no_place(tmp_path: Path, comment: str) -> None:
    """Reading linux-64, the line reader never reads the osx-arm64 entries; a comment written
    in one (before its platform) keeps it skipped, so the linux-64 problems are still placed
    at their values, and in file order."""
    lines = BASE.split("\n")
    osx = _region(lines, OSX_NUMPY)
    lines.insert(osx.start + 1, comment)
    text, (line, column) = _put("\n".join(lines), NUMPY, "    md5: ", "    md5: ", "xyz")
    text, (line2, column2) = _put(text, SIX, "  url: ", "  url: ", "ftp://h.example/six-1.16.0-py3-none-any.whl")
    assert fast_parse(text) is None and fast_parse(text, {"linux-64"}) is not None
    for reader in READERS:
        path = tmp_path / f"{reader}.yml"
        read = _as_read_by(text, "yaml") if reader == "yaml" else text
        found = _problems(path, read, {"linux-64"})
        assert [p.split(": package")[0] for p in found] == [f"{path}:{line}:{column}",
                                                            f"{path}:{line2}:{column2}"], found


def test_the_head_is_placed_by_the_line_reader_when_an_entry_is_no_yaml(tmp_path: Path) -> None:
    """The line reader reads a URL holding ``: `` (which YAML refuses) and reports it; the head's
    problems are still placed, the head being read without the entries' text."""
    text, (url_line, url_column) = _put(BASE, NUMPY, "  url: ", "  url: ",
                                        "https://conda.anaconda.org/conda-forge: linux-64/numpy-1.26.4-0.conda")
    text, (line, column) = _put(text, None, "  - linux-64", "  - ", "Linux")
    path = tmp_path / "conda-lock.yml"
    found = _problems(path, _as_read_by(text, "layout"), None)
    assert [p.split(": ", 1)[0] for p in found] == [f"{path}:{line}:{column}", f"{path}:{url_line}:{url_column}"]
    assert "metadata.platforms: invalid platform 'Linux'" in found[0] and "package 'numpy'" in found[1]


def test_every_broken_value_at_once_in_file_order(tmp_path: Path) -> None:
    picks = [b for b in BREAKS if b[0] in ("head-platform-first", "head-content-hash", "first-entry", "url",
                                           "md5", "pip-name")]
    text, places = BASE, []
    for _, where, prefix, kept, value, _start in picks:
        text, place = _put(text, where, prefix, kept, value)
        places.append(place)
    text, osx = _put(text, OSX_NUMPY, "  url: ", "  url: ", "ftp://h.example/c/osx-arm64/numpy-1-0.conda")
    for reader in READERS:
        path = tmp_path / f"{reader}.yml"
        read = _as_read_by(text, reader)
        every = sorted([*places, osx])
        found = _problems(path, read, None)
        assert [p.split(": ")[0] for p in found] == [f"{path}:{n}:{c}" for n, c in every]
        scoped = _problems(path, read, {"linux-64"})
        assert [p.split(": ")[0] for p in scoped] == [f"{path}:{n}:{c}" for n, c in sorted(places)]
        for problem, (_, _, _, _, _, start) in zip(scoped, sorted(picks, key=lambda b: places[picks.index(b)]),
                                                      strict=True):
            assert problem.split(": ", 1)[1].startswith(start), problem


def test_an_entry_without_a_name_is_placed_at_its_start_and_counted(tmp_path: Path) -> None:
    lines = BASE.split("\n")
    start = _region(lines, NUMPY).start
    del lines[start]
    lines[start] = "- " + lines[start][2:]
    text = "\n".join(lines)
    for reader in READERS:
        path = tmp_path / f"{reader}.yml"
        read = _as_read_by(text, reader)
        assert _problems(path, read, None) == [
            f"{path}:{start + 1}:3: package #3: 'name' must be a str, found NoneType; fix: "
            "regenerate the lock with `conda2docker lock`"]
        [scoped] = _problems(path, read, {"linux-64"})
        assert scoped.startswith(f"{path}:{start + 1}:3: package #")


def test_odd_entries_are_read_and_placed_when_one_platform_is_read(tmp_path: Path) -> None:
    """An entry that does not name its platform as text (none, a number, not a mapping) is
    not skipped as another platform's: it is read, reported at its place, and the entries
    after it keep theirs."""
    lines = BASE.split("\n")
    numpy = _region(lines, NUMPY)
    platform = next(i for i in numpy if lines[i].startswith("  platform: "))
    lines[platform] = "  platform: 64"
    first = _region(lines, FIRST)
    del lines[next(i for i in first if lines[i].startswith("  platform: "))]
    lines.insert(first.start, "- [a list]")
    text, (line, column) = _put("\n".join(lines), SIX, "    sha256: ", "    sha256: ", "zz")
    path = tmp_path / "conda-lock.yml"
    found = _problems(path, text, {"linux-64"})
    assert [p.split(": ", 1)[0] for p in found] == [
        f"{path}:{first.start + 1}:3", f"{path}:{first.start + 2}:3", f"{path}:{platform + 1}:13",
        f"{path}:{line}:{column}"], found
    assert "package #1 is not a mapping, found list;" in found[0] and "package 'libzlib': 'platform' must be" in found[1]
    assert "package 'numpy': 'platform' must be a str, found int" in found[2]


def test_a_lock_without_a_version_names_the_file_only(tmp_path: Path) -> None:
    text = BASE.replace("version: 1\n", "", 1)
    for reader in READERS:
        path = tmp_path / f"{reader}.yml"
        assert _problems(path, _as_read_by(text, reader), None) == [
            f"{path}: unsupported conda-lock file version None (supported: 1); fix: convert it with "
            "`conda-lock` (v1 format) or regenerate it"]


def test_a_duplicated_key_is_placed_at_the_one_read(tmp_path: Path) -> None:
    """YAML keeps the last of equal keys; the place is that one's, never the one ignored."""
    lines = BASE.split("\n")
    region = _region(lines, NUMPY)
    url = next(i for i in region if lines[i].startswith("  url: "))
    lines.insert(region.stop, "  url: ftp://h.example/c/linux-64/numpy-1-0.conda")
    # a second metadata after the packages: YAML reads it, not the first
    text = "\n".join(lines) + "metadata:\n  platforms:\n  - linux-64\n  - ../y\n"
    bad_platform = text.count("\n")
    for reader in READERS:
        path = tmp_path / f"{reader}.yml"
        found = _problems(path, _as_read_by(text, reader), None)
        assert [p.split(": ")[0] for p in found] == [f"{path}:{region.stop + 1}:8",
                                                     f"{path}:{bad_platform}:5"], (found, url)


def test_a_dependency_named_like_a_hash_key_does_not_take_its_place(tmp_path: Path) -> None:
    text = BASE
    for dep in ("md5", "sha256"):
        text, _ = _put(text, NUMPY, "    python: ", "    ", f"{dep}: '>=1'\n    python: '>=3.11'")
    text, (line, _) = _put(text, NUMPY, "  hash:", "  hash:", "\n    md5: xyz\n    sha256: zz")
    for reader in READERS:
        path = tmp_path / f"{reader}.yml"
        found = _problems(path, _as_read_by(text, reader), None)
        assert [p.split(": ")[0] for p in found] == [f"{path}:{line + 1}:10", f"{path}:{line + 2}:13"]


def test_trailing_top_level_keys_do_not_move_the_last_entrys_places(tmp_path: Path) -> None:
    """Keys after the package list (a tool's own) are not part of its last entry."""
    lines = BASE.rstrip("\n").split("\n")
    last = [i for i, line in enumerate(lines) if line.startswith("- ")][-1]
    name = lines[last].removeprefix("- name: ")
    url = next(i for i in range(last, len(lines)) if lines[i].startswith("  url: "))
    lines[url] = "  url: ftp://h.example/x.conda"
    text = "\n".join(lines) + "\nx-tool:\n  url: https://h.example/\n  name: other\n"
    for reader in READERS:
        path = tmp_path / f"{reader}.yml"
        found = _problems(path, _as_read_by(text, reader), None)
        assert [p.split(": ")[0] for p in found] == [f"{path}:{url + 1}:8"], found
        assert f"package '{name}'" in found[0]


@pytest.mark.parametrize("reader", READERS)
def test_an_entry_whose_name_is_not_the_one_read_is_not_placed(tmp_path: Path, reader: str) -> None:
    """The places come from the text; when an entry read is not the one written at its index,
    the problem names the file alone, never another entry's line."""
    from conda2docker.lockfile import _LayoutLocator, _Locator

    text, _ = _put(BASE, NUMPY, "    md5: ", "    md5: ", "xyz")
    text, (line, column) = _put(text, SIX, "    sha256: ", "    sha256: ", "zz")
    path = tmp_path / "conda-lock.yml"
    data = fast_parse(text)
    assert data is not None
    locator = _LayoutLocator if reader == "layout" else _Locator
    read = [dict(entry) for entry in data["package"]]
    numpy = next(i for i, entry in enumerate(read) if entry["name"] == "numpy")
    read[numpy]["name"] = "numpy-other"
    with pytest.raises(InputError) as info:
        lock_from_mapping({**data, "package": read}, path, locate=locator(path, text, None, read))
    assert [p.split(": ", 1)[0] for p in info.value.lines()] == [f"{path}", f"{path}:{line}:{column}"]
    assert info.value.lines()[0].startswith(f"{path}: package 'numpy-other': invalid md5")


def test_a_mapping_read_without_its_text_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "conda-lock.yml"
    data = yaml.load(BASE.replace("    md5: ", "    md5: x", 1), Loader=yaml.CSafeLoader)
    with pytest.raises(InputError) as info:
        lock_from_mapping(data, path)
    assert info.value.one_line().startswith(f"{path}: package 'libzlib': invalid md5 'x")


# --------------------------------------------------------------------------- text that is no YAML

_YAML_FIX = "; fix: restore the file from version control or regenerate it"


def _yaml_breaks() -> list[Any]:
    """Locks YAML cannot read, each with the place and the problem libyaml (PyYAML's C reader,
    which reads every lock) reports: a pasted URL holding ``: ``, a platform list whose ``]``
    was lost (libyaml stops at the next key's colon), a file cut inside a quoted value."""
    lines = BASE.split("\n")
    url = next(i for i in _region(lines, NUMPY) if lines[i].startswith("  url: "))
    lines[url] = "  url: https://conda.anaconda.org/conda-forge: linux-64/numpy-1.26.4-py311h64a7726_0.conda"
    colon = ("\n".join(lines), (url + 1, lines[url].index(": ", 8) + 1),
             "mapping values are not allowed in this context")
    listed = "  platforms:\n  - osx-arm64\n  - linux-64\n  sources:\n"
    assert BASE.count(listed) == 1
    text = BASE.replace(listed, "  platforms: [osx-arm64, linux-64\n  sources:\n")
    sources = text.split("\n").index("  sources:")
    unclosed = (text, (sources + 1, len("  sources") + 1), "did not find expected ',' or ']'")
    cut = BASE[:BASE.index("  url: ") + 20].replace("  url: ", "  url: '")
    truncated = (cut, (cut.count("\n") + 1, len(cut.split("\n")[-1]) + 1), "found unexpected end of stream")
    return [pytest.param(*case, id=name) for name, case in
            (("colon-in-url", colon), ("unclosed-list", unclosed), ("cut-in-a-quote", truncated))]


@pytest.mark.parametrize(("text", "where", "problem"), _yaml_breaks())
@pytest.mark.parametrize("scope", SCOPES)
def test_text_that_is_no_yaml_is_reported_at_the_place_yaml_stops(
        tmp_path: Path, text: str, where: tuple[int, int], problem: str, scope: str) -> None:
    path = tmp_path / "conda-lock.yml"
    assert _problems(path, _as_read_by(text, "yaml"), SCOPES[scope]) == [
        f"{path}:{where[0]}:{where[1]}: invalid YAML in lock file: {problem}{_YAML_FIX}"]


# a quote typed inside a quoted value: YAML's value ends at it and the rest is no YAML
QUOTE_INSIDE = [
    pytest.param(NUMPY, "  version: ", "  version: ", "'1.26.4'x'", id="single-quoted-version"),
    pytest.param(NUMPY, "  build: ", "  build: ", '"py311"h64a7726_0"', id="double-quoted-build"),
    pytest.param(NUMPY, "    python: ", "    python: ", "'>=3.11,<3.12.0a0'x'", id="single-quoted-dependency"),
    pytest.param(NUMPY, "    python: ", "    python: ", "'>=3.11'''x'", id="doubled-then-lone-quote"),
    pytest.param(None, "  - url: ", "  - url: ", '"conda"forge"', id="double-quoted-channel"),
    pytest.param(None, "  - linux-64", "  - ", "'linux'-64'", id="single-quoted-platform"),
]


@pytest.mark.parametrize(("where", "prefix", "kept", "value"), QUOTE_INSIDE)
@pytest.mark.parametrize("scope", SCOPES)
def test_a_quote_inside_a_quoted_value_is_refused_where_yaml_stops(
        tmp_path: Path, where: tuple[str, str] | None, prefix: str, kept: str, value: str,
        scope: str) -> None:
    """``version: '1.26.4'x'`` is no YAML (conda-lock refuses the file): the lock is refused at
    the place YAML stops, in conda-lock's own layout too, not read as the version ``1.26.4'x``."""
    text, _ = _put(BASE, where, prefix, kept, value)
    with pytest.raises(yaml.MarkedYAMLError) as info:
        yaml.load(text, Loader=yaml.CSafeLoader)
    mark, problem = info.value.problem_mark, info.value.problem
    assert mark is not None
    path = tmp_path / "conda-lock.yml"
    assert _problems(path, text, SCOPES[scope]) == [
        f"{path}:{mark.line + 1}:{mark.column + 1}: invalid YAML in lock file: {problem}{_YAML_FIX}"]


@pytest.mark.parametrize("scope", SCOPES)
def test_a_control_character_in_a_lock_names_the_character_and_the_file(tmp_path: Path, scope: str) -> None:
    """A terminal colour code pasted into a value: YAML refuses the character (with no line,
    which the message does not invent) and the message names it."""
    text, _ = _put(BASE, NUMPY, "  build: ", "  build: ", "py311\x1b[0m")
    path = tmp_path / "conda-lock.yml"
    assert _problems(path, _as_read_by(text, "yaml"), SCOPES[scope]) == [
        f"{path}: invalid YAML in lock file: unacceptable character #x001b: control characters "
        f"are not allowed{_YAML_FIX}"]


@pytest.mark.parametrize(("head", "problem"), [
    ("version: !!int one\n", "invalid literal for int() with base 10: 'one'"),
    ("x-created: 2024-13-45\n", "month must be in 1..12"),
    ("x-created: !!timestamp yesterday\n", None),  # PyYAML's own AttributeError: its text is not ours
])
@pytest.mark.parametrize("scope", SCOPES)
def test_a_value_yaml_cannot_build_is_an_input_error_not_a_crash(
        tmp_path: Path, head: str, problem: str | None, scope: str) -> None:
    """PyYAML raises plain ValueError/AttributeError for a tagged or date-like value it cannot
    build; the lock is refused with the file named, as any other broken YAML (the line
    reader, reading the head of one platform's lock with YAML, hands such a head over)."""
    text = BASE.replace("version: 1\n", "version: 1\n" + head if head.startswith("x-") else head, 1)
    path = tmp_path / "conda-lock.yml"
    found = _problems(path, text, SCOPES[scope])
    assert len(found) == 1 and found[0].endswith(_YAML_FIX), found
    assert found[0].startswith(f"{path}: invalid YAML in lock file: a value YAML cannot build ("), found
    if problem is not None:
        assert f"({problem}){_YAML_FIX}" in found[0], found


# --------------------------------------------------------------------------- explicit locks


def test_an_explicit_pip_line_with_a_bad_url_and_name_reports_both(tmp_path: Path) -> None:
    path = tmp_path / "env.lock"
    path.write_text("@EXPLICIT\n# pip bad_ @ ftp://h.example/bad-1.0.tar.gz\n")
    with pytest.raises(InputError) as info:
        read_explicit(path)
    lines = info.value.lines()
    assert [line.split(": ", 1)[0] for line in lines] == [f"{path}:2:1"] * 2, lines
    assert "pip package URL" in lines[0] and "invalid pip package name 'bad_'" in lines[1]


def test_an_explicit_packages_long_name_is_cut_in_its_message(tmp_path: Path) -> None:
    name = "a" * 100
    path = tmp_path / "env.lock"
    path.write_text(f"@EXPLICIT\nhttps://x/linux-64/{name}-1-0.conda#xyz\n")
    with pytest.raises(InputError) as info:
        read_explicit(path)
    assert info.value.one_line().startswith(f"{path}:2:1: package '{'a' * 80}': invalid md5 'xyz'")


def test_a_wheel_file_name_of_three_parts_still_gives_its_version(tmp_path: Path) -> None:
    path = tmp_path / "env.lock"
    path.write_text("@EXPLICIT\n# pip tri @ https://h.example/tri-2.5-any.whl\n")
    assert [p.version for p in read_explicit(path).packages] == ["2.5"]


# --------------------------------------------------------------------------- the fast reader


def _small_real_locks() -> list[Path]:
    locks = shared_path("locks")
    return sorted(locks.glob("*conda-lock*.yml"), key=lambda p: p.stat().st_size)[:3]


def test_the_fast_reader_reads_small_real_locks_as_yaml_does() -> None:
    """conda-lock's own layout is never handed to YAML (only unusual layouts are), and the
    line reader's document is YAML's, for every platform or one (the corpus-wide comparison
    is slower; this one is for every run)."""
    for path in _small_real_locks():
        text = path.read_text(encoding="utf-8")
        fast = fast_parse(text)
        assert fast is not None, path.name
        slow = yaml.load(text, Loader=yaml.CSafeLoader)
        assert fast == _plain(slow), path.name
        for platform in slow["metadata"]["platforms"]:
            scoped = fast_parse(text, {platform})
            assert scoped is not None
            assert scoped["package"] == [e for e in fast["package"] if e["platform"] == platform]
            assert {k: v for k, v in scoped.items() if k != "package"} == {
                k: v for k, v in fast.items() if k != "package"}


def _head(text: str) -> str:
    """A lock's text without its package section (the version may follow it)."""
    lines = text.split("\n")
    start = lines.index("package:")
    end = next((i for i in range(start + 1, len(lines)) if lines[i][:1] not in ("", " ", "-")), len(lines))
    return "\n".join(lines[:start] + lines[end:])


def test_the_heads_of_real_locks_are_read_without_yaml_as_yaml_reads_them() -> None:
    """The version and metadata of every real conda-lock file (either layout: version first or
    last) and of conda2docker's own are read by the line reader, not handed to YAML (which
    fast_parse would do silently), and read as YAML reads them."""
    from conda2docker.lockfile import _parse_head

    heads = [_head(path.read_text(encoding="utf-8"))
             for path in sorted(shared_path("locks").glob("*conda-lock*.yml"))]
    assert len(heads) >= 15
    for head in [*heads, _head(BASE), _head(_variant(BASE, "version-last"))]:
        assert _parse_head(head) == yaml.load(head, Loader=yaml.CSafeLoader), head


def _plain(document: Any) -> Any:
    """YAML's document with package values as text: the line reader keeps ``1.10`` as
    written (a version), where YAML would read a number."""
    packages = [{k: (v if isinstance(v, dict | bool | None) else str(v)) for k, v in entry.items()}
                for entry in document["package"]]
    return {**document, "package": packages}


def _reordered(text: str, key: str, where: str) -> str:
    """Every entry with its ``key`` line moved to the first or the last place of the entry."""
    entries = text.split("\n- ")
    out = [entries[0]]
    for entry in entries[1:]:
        lines = ("  " + entry).rstrip("\n").split("\n")
        moved = next(line for line in lines if line.startswith(f"  {key}: "))
        lines.remove(moved)
        lines = [moved, *lines] if where == "first" else [*lines, moved]
        out.append("\n".join(lines)[2:] + "\n")
    return "\n- ".join(out)


@pytest.mark.parametrize("where", ["first", "last"])
def test_entries_with_their_platform_first_or_last_are_read_line_by_line(where: str) -> None:
    """conda-lock writes ``platform`` fourth; another order is still its block layout, read
    by the line reader (one platform or all) as YAML reads it."""
    text = _reordered(BASE, "platform", where)
    slow = yaml.load(text, Loader=yaml.CSafeLoader)
    for platforms in (None, {"linux-64"}, {"osx-arm64"}):
        fast = fast_parse(text, platforms)
        assert fast is not None, platforms
        assert [e["name"] for e in fast["package"]] == [
            e["name"] for e in slow["package"] if platforms is None or e["platform"] in platforms]


def test_a_duplicated_platform_key_is_read_as_yaml_reads_it(tmp_path: Path) -> None:
    """YAML keeps the last of equal keys: an entry saying osx-arm64, then linux-64, is a
    linux-64 package, kept when linux-64 is read."""
    lines = BASE.split("\n")
    numpy = _region(lines, NUMPY)
    lines.insert(numpy.start + 1, "  platform: osx-arm64")
    path = tmp_path / "conda-lock.yml"
    path.write_text("\n".join(lines))
    read = read_conda_lock(path, platforms={"linux-64"})
    assert [p.name for p in read.packages] == [p.name for p in read_conda_lock(path).for_platform("linux-64")]
    assert "numpy" in [p.name for p in read.packages]


def test_a_file_without_the_explicit_marker_is_named_with_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "env.lock"
    path.write_text("https://x/linux-64/a-1-0.conda\n")
    with pytest.raises(InputError) as info:
        read_explicit(path)
    assert info.value.lines() == [
        f"{path}: no '@EXPLICIT' line: not an explicit lock; fix: write it with "
        "`conda list --explicit --md5` or `conda-lock render -k explicit`"]


def test_a_lock_that_does_not_list_its_platforms_is_read_whole(tmp_path: Path) -> None:
    """Only a lock that names its platforms may have packages left out: one that does not
    (an old or hand-written lock) is read whole for one platform too, so ``Lock.platforms``
    (taken from its packages then) still lists every platform it covers."""
    lines = BASE.split("\n")
    start = lines.index("  platforms:")
    del lines[start:start + 3]
    for reader in READERS:
        path = tmp_path / f"{reader}.yml"
        path.write_text(_as_read_by("\n".join(lines), reader))
        whole = read_conda_lock(path)
        scoped = read_conda_lock(path, platforms={"linux-64"})
        assert scoped.packages == whole.packages and scoped.platforms == ("linux-64", "osx-arm64")


def test_a_problem_in_a_lock_that_does_not_list_its_platforms_is_placed_for_one_platform_too(
        tmp_path: Path) -> None:
    """Read whole (above), such a lock's entries are counted whole too: a linux-64 problem
    after the osx-arm64 entries is still placed at its value when linux-64 is read."""
    lines = BASE.split("\n")
    start = lines.index("  platforms:")
    del lines[start:start + 3]
    text, (line, column) = _put("\n".join(lines), NUMPY, "    md5: ", "    md5: ", "xyz")
    for reader in READERS:
        path = tmp_path / f"{reader}.yml"
        for platforms in (None, {"linux-64"}):
            assert [p.split(": package")[0] for p in _problems(path, _as_read_by(text, reader), platforms)] == [
                f"{path}:{line}:{column}"], (reader, platforms)


@pytest.mark.parametrize(("text", "start"), [
    ("- a\n- b\n", ": not a conda-lock file (no 'package' list)"),
    ("version: 1\nmetadata:\n  platforms: [linux-64]\npackage: 3\n", ":4:10: lock: 'package' must be a list, found int"),
], ids=["list", "package-number"])
def test_a_document_that_is_no_lock_is_refused_for_one_platform_too(
        tmp_path: Path, text: str, start: str) -> None:
    path = tmp_path / "conda-lock.yml"
    for platforms in (None, {"linux-64"}):
        [problem] = _problems(path, text, platforms)
        assert problem.startswith(f"{path}{start}"), problem


_ENTRY = ("- name: x\n  version: '1'\n  manager: conda\n  platform: linux-64\n  dependencies:\n"
          "    python: '>=3'\n  url: https://h.example/c/linux-64/x-1-0.conda\n  hash:\n"
          "    md5: 0123456789abcdef0123456789abcdef\n  build: '0'\n")
_HEAD = "version: 1\nmetadata:\n  platforms:\n  - linux-64\n"

# (id, text, "same": the line reader reads it as YAML does; "yaml": it hands it to YAML;
# "no-yaml": it hands over what YAML then refuses)
ODD_LAYOUTS = [
    ("empty-single-quoted", _ENTRY.replace("  build: '0'", "  build: ''"), "same"),
    ("empty-double-quoted", _ENTRY.replace("  build: '0'", '  build: ""'), "same"),
    ("double-quoted", _ENTRY.replace("  build: '0'", '  build: "b0"'), "same"),
    ("quote-inside-plain", _ENTRY.replace("    python: '>=3'", "    python: a''b'"), "same"),
    ("quote-at-end-plain", _ENTRY.replace("    python: '>=3'", "    python: a'"), "same"),
    ("doubled-quote", _ENTRY.replace("    python: '>=3'", "    python: 'x''y'"), "same"),
    ("doubled-quote-last", _ENTRY.replace("    python: '>=3'", "    python: 'x'''"), "same"),
    ("doubled-quote-build", _ENTRY.replace("  build: '0'", "  build: 'b''0'''"), "same"),
    ("lone-quote-inside", _ENTRY.replace("    python: '>=3'", "    python: 'x'y'"), "no-yaml"),
    ("lone-quote-inside-build", _ENTRY.replace("  build: '0'", "  build: 'b'0'"), "no-yaml"),
    ("quote-inside-double", _ENTRY.replace("  build: '0'", '  build: "b"0"'), "no-yaml"),
    ("quote-first-inside-double", _ENTRY.replace("  build: '0'", '  build: ""b0"'), "no-yaml"),
    ("quote-last-inside-double", _ENTRY.replace("  build: '0'", '  build: "b0""'), "no-yaml"),
    ("quote-first-inside-single", _ENTRY.replace("  build: '0'", "  build: ''b0'"), "no-yaml"),
    ("lone-single-quote", _ENTRY.replace("  build: '0'", "  build: '"), "no-yaml"),
    ("lone-double-quote", _ENTRY.replace("  build: '0'", '  build: "'), "no-yaml"),
    ("lone-double-quote-nested", _ENTRY.replace("    python: '>=3'", '    python: "'), "no-yaml"),
    ("null", _ENTRY.replace("  build: '0'", "  build: null"), "same"),
    ("tilde", _ENTRY.replace("  build: '0'", "  build: ~"), "same"),
    ("null-nested", _ENTRY.replace("    python: '>=3'", "    python: null"), "same"),
    ("tilde-nested", _ENTRY.replace("    python: '>=3'", "    python: ~"), "same"),
    ("true", _ENTRY.replace("  build: '0'", "  build: '0'\n  optional: true"), "same"),
    ("false", _ENTRY.replace("  build: '0'", "  build: '0'\n  optional: false"), "same"),
    ("empty-mapping", _ENTRY.replace("  dependencies:\n    python: '>=3'\n", "  dependencies: {}\n"),
     "same"),
    ("doubled-quote-then-text-nested", _ENTRY.replace("    python: '>=3'", "    python: '''x"), "no-yaml"),
    ("text-after-doubled-quote-nested", _ENTRY.replace("    python: '>=3'", "    python: 'x''c"), "no-yaml"),
    ("single-quoted-key", _ENTRY.replace("  build: '0'", "  'build': '0'"), "same"),
    ("double-quoted-key", _ENTRY.replace("  build: '0'", '  "build": \'0\''), "same"),
    ("capitalised-name", _ENTRY.replace("- name: x", "- name: XlsxWriter"), "same"),
    ("escape", _ENTRY.replace("  build: '0'", '  build: "a\\"b"'), "yaml"),
    ("comment", _ENTRY.replace("  build: '0'", "  build: b0 # a comment"), "yaml"),
    ("unclosed-single", _ENTRY.replace("  build: '0'", "  build: 'b0"), "yaml"),
    ("unclosed-double", _ENTRY.replace("  build: '0'", '  build: "b0'), "yaml"),
    ("lone-quote-nested", _ENTRY.replace("    python: '>=3'", "    python: '"), "yaml"),
    ("unclosed-nested", _ENTRY.replace("    python: '>=3'", "    python: 'abc"), "yaml"),
    ("space-before-colon", _ENTRY.replace("  build: '0'", "  build : '0'"), "yaml"),
    ("space-before-colon-nested", _ENTRY.replace("    python: '>=3'", "    python : '>=3'"), "yaml"),
    ("tab-before-colon-nested", _ENTRY.replace("    python: '>=3'", "    python\t: '>=3'"), "yaml"),
    ("comment-in-key", _ENTRY.replace("  build: '0'", "  build #0: '0'"), "no-yaml"),
    ("comment-in-key-nested", _ENTRY.replace("    python: '>=3'", "    python #3: '>=3'"), "yaml"),
    ("no-space-after-colon", _ENTRY.replace("  build: '0'", "  build:b0"), "yaml"),
    ("no-space-nested", _ENTRY.replace("    python: '>=3'", "    python:x"), "yaml"),
    ("indented-under-scalar", _ENTRY.replace("  build: '0'", "  build: b0\n    more: x"), "yaml"),
    ("indent-five", _ENTRY.replace("    md5: ", "     md5: "), "yaml"),
    ("indent-three", _ENTRY.replace("  build: '0'", "   build: b0"), "yaml"),
    ("indent-one", _ENTRY.replace("  build: '0'", " build: b0"), "no-yaml"),
    ("dash-glued-to-key", _ENTRY.replace("  build: '0'", "-build: b0"), "yaml"),
]
ODD_HEADS = [
    ("version-float", "version: 1.0\nmetadata:\n  platforms:\n  - linux-64\n"),
    ("metadata-scalar", "version: 1\nmetadata: x\n"),
    ("unknown-key-first", "x-tool: {}\nversion: 1\nmetadata:\n  platforms:\n  - linux-64\n"),
    ("over-indented-metadata-key", "version: 1\nmetadata:\n    used_env_vars: []\n"),
    ("env-vars-flow", "version: 1\nmetadata:\n  channels:\n  - url: c\n    used_env_vars: [TOKEN]\n"),
]


@pytest.mark.parametrize(("text", "expected"), [pytest.param(t, e, id=i) for i, t, e in ODD_LAYOUTS])
def test_the_line_reader_reads_a_layout_as_yaml_or_hands_it_over(text: str, expected: str) -> None:
    """What the line reader reads, it reads as YAML does; what it cannot, it hands over."""
    text = _HEAD + "package:\n" + text
    fast = fast_parse(text)
    if expected != "same":
        assert fast is None
        if expected == "no-yaml":
            with pytest.raises(yaml.YAMLError):
                yaml.load(text, Loader=yaml.CSafeLoader)
    else:
        assert fast is not None
        assert fast == _plain(yaml.load(text, Loader=yaml.CSafeLoader))


@pytest.mark.parametrize("head", [pytest.param(h, id=i) for i, h in ODD_HEADS])
def test_an_unusual_head_is_read_as_yaml_reads_it(head: str) -> None:
    text = head + "package:\n" + _ENTRY
    fast = fast_parse(text)
    assert fast is not None
    assert fast == _plain(yaml.load(text, Loader=yaml.CSafeLoader))


def _quoted_head(content_hash: str, channel: str, platform: str, source: str) -> str:
    return (f"version: 1\nmetadata:\n  content_hash:\n    linux-64: {content_hash}\n  channels:\n"
            f"  - url: {channel}\n    used_env_vars: []\n  platforms:\n  - {platform}\n"
            f"  sources:\n  - {source}\n")


_HASH = "b8ba2ec7e90713c1043778164af3250820943c2165c9f19fa29987e016aae5dd"
# (id, head, "same": the line reader reads it as YAML does; "yaml": it hands it to YAML)
QUOTED_HEADS = [
    ("double-quoted", _quoted_head(f'"{_HASH}"', '"conda-forge"', '"linux-64"', '"environment.yml"'),
     "same"),
    ("single-quoted", _quoted_head(f"'{_HASH}'", "'conda-forge'", "'linux-64'", "'environment.yml'"),
     "same"),
    ("double-quoted-number", _quoted_head('"0123"', '"conda-forge"', '"linux-64"', '"2024"'), "same"),
    ("single-quoted-date", _quoted_head(_HASH, "conda-forge", "linux-64", "'2024-01-01'"), "same"),
    ("double-quoted-empty", _quoted_head(_HASH, "conda-forge", "linux-64", '""'), "same"),
    ("quoted-platform-keys", _quoted_head(_HASH, "conda-forge", "linux-64", "environment.yml").replace(
        f"    linux-64: {_HASH}", f"    'linux-64': {_HASH}\n    \"osx-64\": {_HASH}"), "same"),
    ("double-quoted-escape", _quoted_head(_HASH, "conda-forge", "linux-64", '"envir\\u00f6nment.yml"'),
     "yaml"),
]


@pytest.mark.parametrize(("head", "expected"), [pytest.param(h, e, id=i) for i, h, e in QUOTED_HEADS])
def test_quoted_values_of_a_head_are_read_by_the_line_reader_as_yaml_reads_them(
        head: str, expected: str) -> None:
    """A hand-edited head quotes its values either way (``url: "conda-forge"``): the line
    reader reads them itself, as YAML does (the quotes keep ``"2024"`` text), so the head of a
    large lock stays off PyYAML; only an escape is handed to YAML."""
    from conda2docker.lockfile import _parse_head, _Unexpected

    if expected == "same":
        assert _parse_head(head) == yaml.load(head, Loader=yaml.CSafeLoader)
    else:
        with pytest.raises(_Unexpected):
            _parse_head(head)
    text = head + "package:\n" + _ENTRY
    assert fast_parse(text) == _plain(yaml.load(text, Loader=yaml.CSafeLoader))


@pytest.mark.parametrize(("head", "where", "problem"), [
    pytest.param("version: 1\n  platforms:\n  - linux-64\n", "2:12",
                 "mapping values are not allowed in this context", id="under-the-version"),
    pytest.param("    used_env_vars: []\nversion: 1\nmetadata:\n  platforms:\n  - linux-64\n", "2:1",
                 "did not find expected <document start>", id="before-the-version"),
])
@pytest.mark.parametrize("scope", SCOPES)
def test_a_head_key_indented_where_no_mapping_holds_it_is_no_yaml_and_reported_where_yaml_stops(
        tmp_path: Path, head: str, where: str, problem: str, scope: str) -> None:
    """``platforms:`` pasted under ``version: 1`` (before any ``metadata:``), or a channel's
    ``used_env_vars`` pasted at the top, is no YAML: the lock is refused at the place YAML
    stops, one line, never read as metadata (nor a crash)."""
    path = tmp_path / "conda-lock.yml"
    text = head + "package:\n" + _ENTRY
    assert _problems(path, text, SCOPES[scope]) == [
        f"{path}:{where}: invalid YAML in lock file: {problem}{_YAML_FIX}"]


def test_a_lock_written_without_sources_has_its_head_read_by_the_line_reader() -> None:
    """A lock made from no environment file (``sources: []``) and with no input hash
    (``content_hash: {}``): its head is read without YAML, as YAML reads it."""
    from conda2docker.lockfile import _parse_head

    text = conda_lock_text(replace(lock_with_pip_wheels(), sources=(), content_hash={}))
    head = text[:text.index("package:\n")]
    assert "\n  sources: []\n" in head and "\n  content_hash: {}\n" in head
    assert _parse_head(head) == yaml.load(head, Loader=yaml.CSafeLoader)


@pytest.mark.parametrize(("written", "problem"), [
    ("  platforms: {}\n", "metadata.platforms must be a list, found dict"),
    ("  content_hash: []\n", "metadata.content_hash must be a dict, found list"),
])
def test_an_empty_head_value_of_the_wrong_kind_is_refused_as_yaml_reads_it(
        tmp_path: Path, written: str, problem: str) -> None:
    """``platforms: {}`` is an empty mapping, not an empty list (and ``content_hash: []`` an
    empty list): the lock is refused, at the value, as conda-lock would refuse it."""
    path = tmp_path / "conda-lock.yml"
    text = "version: 1\nmetadata:\n" + written + "package:\n" + _ENTRY
    assert _problems(path, text, None) == [
        f"{path}:3:{len(written.split(':')[0]) + 3}: {problem}; fix: regenerate the lock with `conda2docker lock`"]


def test_a_lock_with_its_version_after_the_packages_is_read_by_the_line_reader() -> None:
    """Older conda-lock wrote ``version: 1`` after the package list: the whole lock is read by
    the line reader (the packages end where the next top-level key starts), as YAML reads it."""
    text = _variant(conda_lock_text(replace(lock_with_pip_wheels(), platforms=("linux-64",))), "version-last")
    assert text.endswith("\nversion: 1\n")
    fast = fast_parse(text)
    assert fast is not None
    assert fast == _plain(yaml.load(text, Loader=yaml.CSafeLoader))


def test_custom_metadata_keys_quoted_to_stay_text_are_read_by_the_line_reader() -> None:
    """Another tool's custom metadata quotes a key that YAML would read otherwise ('2024', a
    number; "yes", a boolean in YAML 1.1): the line reader reads it as the text YAML gives."""
    from conda2docker.lockfile import _parse_head

    head = "version: 1\nmetadata:\n  custom_metadata:\n    '2024': a\n    \"yes\": b\n"
    assert _parse_head(head) == yaml.load(head, Loader=yaml.CSafeLoader)
    assert _parse_head(head)["metadata"]["custom_metadata"] == {"2024": "a", "yes": "b"}


def test_a_content_hash_with_an_empty_key_is_refused_where_yaml_stops(tmp_path: Path) -> None:
    """``: abc`` under content_hash (a platform name lost in an edit) is no YAML a block
    mapping holds: the lock is refused where YAML stops, one line (never a crash)."""
    path = tmp_path / "conda-lock.yml"
    text = "version: 1\nmetadata:\n  content_hash:\n    : " + "a" * 64 + "\npackage:\n" + _ENTRY
    assert _problems(path, text, None) == [
        f"{path}:4:5: invalid YAML in lock file: did not find expected key{_YAML_FIX}"]


def test_a_head_with_trailing_tabs_is_read_as_libyaml_reads_it() -> None:
    """A hand-edited head with a tab after its values (which PyYAML's pure-Python loader
    refuses, libyaml not) is read as the full reader, libyaml, reads it: on the fast path, not
    refused there and read again."""
    text = conda_lock_text(replace(lock_with_pip_wheels(), platforms=("linux-64",)))
    text = text.replace("  custom_metadata:\n", '  custom_metadata:\n    note: "tab\\there"\t\n', 1)
    text = text.replace("version: 1\n", "version: 1\t\n", 1)
    assert "\t\n" in text
    expected = _plain(yaml.load(text, Loader=yaml.CSafeLoader))
    assert expected["version"] == 1 and expected["metadata"]["custom_metadata"]["note"] == "tab\there"
    assert fast_parse(text) == expected


def test_a_head_yaml_reads_is_read_without_libyaml_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """A head the line reader hands to YAML (here an escape in another tool's metadata) is read
    by PyYAML's pure-Python loader where PyYAML was built without libyaml, as by the C one."""
    text = conda_lock_text(replace(lock_with_pip_wheels(), platforms=("linux-64",)))
    text = text.replace("  custom_metadata:\n", '  custom_metadata:\n    note: "tab\\there"\n', 1)
    expected = _plain(yaml.load(text, Loader=yaml.CSafeLoader))
    assert expected["metadata"]["custom_metadata"]["note"] == "tab\there"
    with_libyaml = fast_parse(text)
    monkeypatch.delattr(yaml, "CSafeLoader")
    assert with_libyaml is not None
    assert fast_parse(text) == with_libyaml == expected
