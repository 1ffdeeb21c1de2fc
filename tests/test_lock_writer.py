"""The fast conda-lock v1 writer against conda-lock's own writer and reader.

conda-lock is the oracle: the same Lock written by ``conda2docker.lock_writer`` and by
conda-lock's models + ``write_conda_lock_file`` (tests/support/condalock_writer.py) must give
files conda-lock's reader turns into equal models, and, for the values the fast path writes,
the same bytes.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conda2docker.lock_writer import channel_entry, render_conda_lock
from conda2docker.lockfile import (
    conda_lock_text,
    lock_custom_metadata,
    read_conda_lock,
    write_conda_lock,
)
from conda2docker.model import Lock, LockedPackage
from support.condalock_writer import write_with_conda_lock
from support.locks import lock_pure_conda, lock_with_builds, lock_with_pip_wheels
from support.shared import shared_path


@pytest.fixture
def libyaml_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    """conda-lock's reader with libyaml's parser under ``yaml.safe_load`` (the same YAML,
    read several times faster), so a 3,000-package lock takes seconds, not tens."""
    import yaml

    if hasattr(yaml, "CSafeLoader"):
        monkeypatch.setattr(yaml, "safe_load", lambda stream: yaml.load(stream, Loader=yaml.CSafeLoader))


def _both(lock: Lock, directory: Path, name: str = "conda-lock.yml") -> tuple[Path, Path]:
    ours, theirs = directory / "ours" / name, directory / "theirs" / name
    write_conda_lock(lock, ours)
    write_with_conda_lock(lock, theirs)
    return ours, theirs


def _shared_v1_locks() -> list[Path]:
    from support.shared import SHARED

    locks = SHARED / "locks"
    if not locks.is_dir():
        return []
    return sorted(p for p in locks.iterdir()
                  if p.suffix in (".yml", ".yaml") and "version: 1" in p.read_text(errors="replace"))


@pytest.mark.parametrize("path", _shared_v1_locks() or [None], ids=lambda p: p.name if p else "absent")
def test_a_shared_conda_lock_file_is_written_as_conda_lock_writes_it(
    path: Path | None, tmp_path: Path, libyaml_reader: None
) -> None:
    """A shared v1 lock, read by conda2docker and written by both writers: conda-lock's
    reader gives equal models and the bytes are equal; when conda-lock's reader accepts the
    original, the written packages are the original's."""
    from conda_lock.lockfile import parse_conda_lock_file

    if path is None:
        shared_path("locks", "pangeo-data__pangeo-docker-images__pangeo-notebook__conda-lock.yml")
        pytest.fail("../shared/locks holds no conda-lock v1 file")
    lock = read_conda_lock(path)
    ours, theirs = _both(lock, tmp_path, path.name)
    written = parse_conda_lock_file(ours)
    assert written == parse_conda_lock_file(theirs)
    assert ours.read_bytes() == theirs.read_bytes()
    try:
        original = parse_conda_lock_file(path)
    except Exception:  # conda-lock's own reader rejects the original (pip entries without
        return  # 'optional'); what both writers make of it agrees, checked above

    def key(d):  # type: ignore[no-untyped-def]
        # an empty digest (`sha256: ''` in old locks) is no digest: the reader keeps it as none;
        # conda-lock stores a git source's commit as its "sha256": the reader keeps the commit
        # in the URL only (it is no digest of a file; docs/semantics.md)
        sha256 = d.hash.sha256 or None
        if sha256 and d.manager == "pip" and d.url.startswith("git+") and d.url.endswith(sha256):
            sha256 = None
        digests = (d.hash.md5 or None, sha256)
        return (d.manager, d.name, d.platform, sorted(d.categories), d.version, d.url, digests,
                d.dependencies)

    assert sorted(map(key, written.package), key=repr) == sorted(
        (key(d) for d in original.package if not (d.manager == "conda" and d.name.startswith("__"))),
        key=repr)
    assert written.metadata.content_hash == original.metadata.content_hash
    assert written.metadata.platforms == original.metadata.platforms


@pytest.mark.parametrize("make", [lock_pure_conda, lock_with_pip_wheels, lock_with_builds])
def test_hand_made_locks_give_conda_lock_s_bytes(tmp_path: Path, make) -> None:  # type: ignore[no-untyped-def]
    ours, theirs = _both(make(), tmp_path)
    assert ours.read_bytes() == theirs.read_bytes()


def test_a_lock_text_without_a_file_name_is_conda_locks_default_file(tmp_path: Path) -> None:
    """``conda_lock_text`` without a file name gives the file conda-lock itself writes under
    its default name (conda-lock.yml): the header's commands name that file, byte for byte."""
    from conda_lock.conda_lock import DEFAULT_LOCKFILE_NAME

    theirs = tmp_path / DEFAULT_LOCKFILE_NAME
    write_with_conda_lock(lock_pure_conda(), theirs)
    text = conda_lock_text(lock_pure_conda())
    assert text == theirs.read_text(encoding="utf-8")
    assert f"conda-lock install -n YOURENV {DEFAULT_LOCKFILE_NAME}\n" in text


def _package(name: str, **fields: object) -> LockedPackage:
    values: dict[str, object] = {
        "version": "1.0", "manager": "conda", "platform": "linux-64",
        "url": f"https://conda.anaconda.org/conda-forge/linux-64/{name}-1.0-h0_0.conda",
        "md5": "0" * 32, "build": "h0_0",
    }
    values.update(fields)
    return LockedPackage(name=name, **values)  # type: ignore[arg-type]


def test_categories_virtual_packages_and_sort_order_follow_conda_lock(tmp_path: Path) -> None:
    lock = Lock(
        packages=(
            _package("zlib", category="dev"),
            _package("__glibc", version="2.36"),
            _package("six", manager="pip", url="https://files.example/six-1.0-py3-none-any.whl",
                     md5=None, sha256=None, build=None, category="docs"),
            _package("abc", platform="linux-aarch64", dependencies={"z": "", "a": ">=1"}),
            _package("abc", dependencies={"zz": "1.*", "aa": ""}),
        ),
        platforms=("linux-64", "linux-aarch64"), channels=("conda-forge",),
        sources=("environment.yml", "extra env.yml"),
    )
    ours, theirs = _both(lock, tmp_path)
    text = ours.read_text()
    assert ours.read_bytes() == theirs.read_bytes()
    assert "__glibc" not in text and "--dev-dependencies" in text and "-e docs" in text


def test_values_past_the_line_width_are_folded_where_pyyaml_folds_them(tmp_path: Path) -> None:
    words = " ".join(f"word{i}" for i in range(40))
    lock = Lock(
        packages=(_package("a", dependencies={"dep": f"'{words}' x", "other": words}),
                  _package("b", version=f"{words}: colon")),
        platforms=("linux-64",), channels=("conda-forge",), roots=tuple(f"r{i}" for i in range(60)),
        content_hash={"linux-64": words + "  double  spaces"},
    )
    ours, theirs = _both(lock, tmp_path)
    assert ours.read_bytes() == theirs.read_bytes()
    assert max(len(line) for line in ours.read_text().splitlines()) > 80


def test_values_outside_printable_ascii_still_give_conda_lock_s_document(tmp_path: Path) -> None:
    lock = Lock(
        packages=(_package("a", dependencies={"dep": "caf\u00e9", "tab": "a\tb"}),
                  _package("b", version="line\nbreak")),
        platforms=("linux-64",), channels=("conda-forge",),
    )
    ours, theirs = _both(lock, tmp_path)
    assert ours.read_bytes() == theirs.read_bytes()


def test_a_file_name_with_a_line_break_stays_inside_the_comment(tmp_path: Path) -> None:
    """conda-lock would put the rest of such a name into the YAML; we keep the file valid."""
    import yaml

    lock = Lock(packages=(_package("a"),), platforms=("linux-64",),
                sources=("env.yml\npackage: []",))
    text = render_conda_lock(lock, "conda-lock.yml", lock_custom_metadata(lock))
    assert yaml.safe_load(text)["package"][0]["name"] == "a"


_SCALAR = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=120),
    st.sampled_from(["", "true", "No", "~", "null", "1.0", "0x1f", "12:30", "2024-01-01", "=",
                     "<<", "- x", "-x", "? x", ":x", "a: b", "a #b", "a#b", "'q'", '"d"', "---x",
                     "...", "@x", "%x", "*", "&a", "!t", "|", ">=1", "[x]", "{x}", ",x", "x:",
                     " lead", "trail ", "caf\u00e9", "a\nb"]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(alphabet="abcdef-_.", min_size=1, max_size=20), version=_SCALAR,
       dependencies=st.dictionaries(_SCALAR.filter(lambda k: 0 < len(k) < 100), _SCALAR, max_size=4),
       build=st.one_of(st.none(), _SCALAR), source=_SCALAR.filter(lambda s: "\n" not in s),
       url=_SCALAR.filter(bool))
def test_any_values_give_conda_lock_s_bytes(name: str, version: str, dependencies: dict[str, str],
                                            build: str | None, source: str, url: str) -> None:
    lock = Lock(
        packages=(_package(name, version=version, dependencies=dependencies, build=build, url=url),),
        platforms=("linux-64",), channels=("conda-forge",), sources=(source,),
        content_hash={"linux-64": version}, roots=(source,),
    )
    with tempfile.TemporaryDirectory() as tmp:
        ours, theirs = _both(lock, Path(tmp))
        assert ours.read_bytes() == theirs.read_bytes()


@pytest.mark.parametrize("url", [
    "conda-forge",
    "https://conda.anaconda.org/conda-forge",
    "file:///srv/channels/conda-forge",
    "https://host.example/t/$MY_REPO_TOKEN/channel",
    "https://host.example/t/tk-123-456/channel",
    "https://${MY_USER}:${MY_PASSWORD}@host.example/channel",
    "https://someone:pass%40word@Host.Example:8443/channel",
])
def test_channels_are_recorded_as_conda_lock_records_them(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from conda_lock.models.channel import Channel

    monkeypatch.setenv("SOME_REPO_TOKEN", "tk-123-456")
    monkeypatch.setenv("SOME_USERNAME", "someone")
    monkeypatch.setenv("SOME_PASSWORD", "pass@word")
    expected = Channel.from_string(url)
    assert channel_entry(url) == (expected.url, tuple(expected.used_env_vars))


_NUMBERISH = st.text(alphabet="0123456789+-._:eExXbBoO~<=nNuUlLtTrRfFaAsSyYiI \t", max_size=24)


@settings(max_examples=3000, deadline=None)
@given(text=st.one_of(_NUMBERISH, st.sampled_from([
    "2024-01-01", "2024-1-1 10:20:30", "2024-01-01T10:20:30.5Z", "2024-01-01 10:20:30 +01:00",
    "1_000", "0b101", "0o17", "017", "0x1F", "1:20", "1:20.5", ".inf", "-.Inf", ".NaN", "1e5",
    "1.0e+5", "1.", "+.5", "<<", "=", "~", "null", "NULL", "Yes", "off", "y", "n", "1.26.4"])))
def test_implicit_types_are_pyyaml_s(text: str) -> None:
    """``reads_as_text`` decides quoting; it must agree with PyYAML's resolver exactly."""
    from yaml.nodes import ScalarNode
    from yaml.resolver import Resolver

    from conda2docker.lock_writer import reads_as_text

    if "\n" in text:
        return
    tag = Resolver().resolve(ScalarNode, text, (True, False))
    assert reads_as_text(text) == (tag == "tag:yaml.org,2002:str" and text != "")


@settings(max_examples=2000, deadline=None)
@given(text=st.one_of(_NUMBERISH, _SCALAR, st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_./:+=!~\-]{0,30}", fullmatch=True),
                      st.sampled_from(["a:", "a::", "https://x/y:", "1.26.4", "2024-01-01", "0x1F", "1_000",
                                       "https://conda.anaconda.org/conda-forge/noarch/a-1-0.conda",
                                       "py311h64a7726_0", "=", "~", "Null", "yes"])))
def test_a_value_taken_as_plain_at_once_is_written_plain_by_pyyaml(text: str) -> None:
    """The one-match shortcut of the writer says "plain" only where PyYAML writes the value
    unquoted (a package's name, version, URL, hashes and build go through it)."""
    import yaml

    from conda2docker.lock_writer import _SIMPLE_PLAIN

    if _SIMPLE_PLAIN.match(text):
        assert yaml.dump({"k": text}, width=4096) == f"k: {text}\n"
