from __future__ import annotations

from pathlib import Path

import pytest

from conda2docker.errors import InputError
from conda2docker.lockfile import (
    read_conda_lock,
    read_explicit,
    read_lock,
    render_explicit,
    split_conda_file_name,
    topological_order,
    write_conda_lock,
)
from conda2docker.model import Lock, LockedPackage
from support.locks import lock_pure_conda, lock_with_builds, lock_with_pip_wheels
from support.shared import shared_path


def _key(p: LockedPackage) -> tuple[object, ...]:
    return (p.name, p.version, p.manager, p.platform, p.url, p.md5, p.sha256, p.build,
            dict(p.dependencies))


@pytest.mark.parametrize("make", [lock_pure_conda, lock_with_pip_wheels, lock_with_builds])
def test_written_lock_is_read_back_by_conda_lock_and_by_us(tmp_path: Path, make) -> None:  # type: ignore[no-untyped-def]
    from conda_lock.lockfile import parse_conda_lock_file

    lock = make()
    path = tmp_path / "conda-lock.yml"
    write_conda_lock(lock, path)
    assert "version: 1" in path.read_text()
    theirs = parse_conda_lock_file(path)
    assert sorted((p.name, p.version, p.manager, p.url) for p in theirs.package) == sorted(
        (p.name, p.version, p.manager, p.url) for p in lock.packages
    )
    ours = read_conda_lock(path)
    assert sorted(map(_key, ours.packages)) == sorted(map(_key, lock.packages))
    assert ours.roots == lock.roots
    assert ours.content_hash == lock.content_hash
    assert ours.platforms == lock.platforms


def test_writing_twice_gives_identical_bytes(tmp_path: Path) -> None:
    first, second = tmp_path / "a" / "conda-lock.yml", tmp_path / "b" / "conda-lock.yml"
    write_conda_lock(lock_with_builds(), first)
    write_conda_lock(lock_with_builds(), second)
    assert first.read_bytes() == second.read_bytes()


def test_old_lock_without_category_or_optional_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "conda-lock.yml"
    path.write_text(
        "package:\n"
        "- name: six\n  version: 1.16.0\n  manager: pip\n  platform: linux-64\n"
        "  dependencies: {}\n  url: https://x.invalid/six-1.16.0-py2.py3-none-any.whl\n"
        "  hash: {sha256: abababababababababababababababababababababababababababababababab}\n"
        "- name: zlib\n  version: 1.3.1\n  manager: conda\n  platform: linux-64\n"
        "  dependencies: {}\n  url: https://conda.anaconda.org/conda-forge/linux-64/zlib-1.3.1-h4ab18f5_1.conda\n"
        "  hash: {md5: d41d8cd98f00b204e9800998ecf8427e}\n"
        "version: 1\n"
    )
    lock = read_conda_lock(path)
    zlib = next(p for p in lock.packages if p.name == "zlib")
    assert zlib.build == "h4ab18f5_1"
    assert zlib.subdir == "linux-64"
    assert zlib.channel == "https://conda.anaconda.org/conda-forge"
    six = next(p for p in lock.packages if p.name == "six")
    assert six.artifact == "wheel"
    assert six.category == "main" and six.optional is False


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("package: [\n", "invalid YAML"),
        ("version: 1\n", "not a conda-lock file"),
        ("version: 2\npackage: []\n", "unsupported conda-lock file version"),
        ("version: 1\npackage:\n- name: x\n  version: '1'\n  manager: npm\n  platform: linux-64\n  url: u\n", "unknown manager"),
        ("version: 1\npackage:\n- version: '1'\n", "'name' must be a str"),
    ],
)
def test_broken_locks_give_one_line_errors(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "conda-lock.yml"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        read_conda_lock(path)
    assert needle in info.value.one_line()
    assert str(path) in info.value.one_line()
    assert "\n" not in info.value.one_line()


def test_explicit_round_trip(tmp_path: Path) -> None:
    lock = lock_with_pip_wheels()
    assert "six" not in render_explicit(lock, "linux-64")
    text = render_explicit(lock, "linux-64", include_pip=True)
    assert text.index("libzlib") < text.index("/python-3.11.9")
    assert "# pip six @ " in text
    path = tmp_path / "conda-linux-64.lock"
    path.write_text(text)
    back = read_explicit(path)
    assert {(p.name, p.version, p.build, p.md5) for p in back.conda_packages("linux-64")} == {
        (p.name, p.version, p.build, p.md5) for p in lock.conda_packages("linux-64")
    }
    assert [p.name for p in back.pip_packages("linux-64")] == ["six"]
    assert read_lock(path).platforms == ("linux-64",)


def test_an_explicit_lock_with_pip_names_each_pip_file_by_name_and_its_input_hash() -> None:
    """The image's explicit lock holds the conda packages alone (its layer stays cached when
    pip changes); with pip, the lines come sorted by name, each with its sha256 where the lock
    has one (a git or local source has none), and the lock's input hash is named."""
    from support.locks import lock_with_builds

    lock = lock_with_builds()
    conda_only = render_explicit(lock, "linux-64")
    assert "# pip " not in conda_only and "# input_hash" not in conda_only
    lines = render_explicit(lock, "linux-64", include_pip=True).splitlines()
    assert lines[:4] == ["# Generated by conda2docker; do not edit.", "# platform: linux-64",
                         f"# input_hash: {lock.content_hash['linux-64']}", "@EXPLICIT"]
    pip = {p.name: p for p in lock.pip_packages("linux-64")}
    expected = [f"# pip {name} @ {pip[name].url}" + (f"#sha256={pip[name].sha256}" if pip[name].sha256 else "")
                for name in ("docopt", "mytool", "requests", "six")]
    assert [line for line in lines if line.startswith("# pip ")] == expected
    assert not pip["requests"].sha256 and not pip["mytool"].sha256 and pip["six"].sha256


def test_an_explicit_lock_keeps_the_hash_each_conda_package_has(tmp_path: Path) -> None:
    """A package with an md5 is written with it; one with only a sha256 (a pixi lock, an
    explicit input) as ``#sha256:``; one with neither as its bare URL; read back, each has
    the hash it had."""
    from dataclasses import replace

    lock = lock_pure_conda()
    first, second, third, *rest = lock.conda_packages("linux-64")
    changed = (first, replace(second, md5=None, sha256="ab" * 32), replace(third, md5=None, sha256=None))
    lock = replace(lock, packages=(*changed, *rest))
    lines = render_explicit(lock, "linux-64").splitlines()
    assert f"{first.url}#{first.md5}" in lines
    assert f"{second.url}#sha256:{'ab' * 32}" in lines
    assert third.url in lines
    path = tmp_path / "conda-linux-64.lock"
    path.write_text("\n".join(lines) + "\n")
    back = {p.name: (p.md5, p.sha256) for p in read_explicit(path).packages}
    assert [back[p.name] for p in changed] == [(first.md5, None), (None, "ab" * 32), (None, None)]


def test_explicit_errors_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "env.lock"
    path.write_text("# platform: linux-64\nhttps://x/linux-64/a-1-0.conda\n@EXPLICIT\n")
    with pytest.raises(InputError) as info:
        read_explicit(path)
    assert f"{path}:2:1" in info.value.one_line()
    path.write_text("@EXPLICIT\nhttps://x/linux-64/not-a-conda-file.txt\n")
    with pytest.raises(InputError, match="not a conda package URL"):
        read_explicit(path)


def test_topological_order_puts_dependencies_first_and_survives_cycles() -> None:
    from support.locks import conda

    a = conda("a", "1", deps={"b": ""})
    b = conda("b", "1", deps={"c": "", "a": ""})  # cycle a <-> b
    c = conda("c", "1")
    order = [p.name for p in topological_order([a, b, c])]
    assert sorted(order) == ["a", "b", "c"]
    assert order.index("c") < order.index("b")


def test_split_conda_file_name() -> None:
    assert split_conda_file_name("numpy-1.26.4-py311h64a7726_0.conda") == ("numpy", "1.26.4", "py311h64a7726_0")
    assert split_conda_file_name("_libgcc_mutex-0.1-conda_forge.tar.bz2") == ("_libgcc_mutex", "0.1", "conda_forge")
    assert split_conda_file_name("README.md") is None


def test_every_shared_lock_reads_or_fails_clearly() -> None:
    locks = shared_path("locks")
    read = failed = 0
    for path in sorted(locks.iterdir()):
        if path.suffix not in (".yml", ".lock"):
            continue
        try:
            lock = read_lock(path)
        except InputError as error:
            assert path.name.endswith("pixi.lock"), error.one_line()
            assert "pixi" in error.one_line()
            failed += 1
            continue
        assert lock.packages, path
        assert all(p.manager == "pip" or p.md5 or p.sha256 for p in lock.packages)
        read += 1
    assert read >= 20


def test_fast_reader_agrees_with_yaml_on_every_real_lock_and_platform() -> None:
    import yaml

    from conda2docker.lockfile import fast_parse, lock_from_mapping

    compared = declined = 0
    for path in sorted(shared_path("locks").glob("*conda-lock*.yml")):
        text = path.read_text(encoding="utf-8")
        fast = fast_parse(text)
        if fast is None:  # e.g. a folded multi-line scalar: YAML reads that file
            declined += 1
            assert read_conda_lock(path).packages
            continue
        slow = lock_from_mapping(yaml.load(text, Loader=yaml.CSafeLoader), path)
        quick = lock_from_mapping(fast, path)
        assert [_key(p) for p in quick.packages] == [_key(p) for p in slow.packages], path.name
        assert quick.platforms == slow.platforms and quick.content_hash == slow.content_hash
        for platform in quick.platforms:
            scoped = lock_from_mapping(fast_parse(text, {platform}), path)
            assert scoped.packages == quick.for_platform(platform), (path.name, platform)
        compared += 1
    assert compared >= 15 and declined <= 3


def _head_both_ways(text: str) -> tuple[object, object]:
    """A lock's head (everything but the package list) as the fast reader and as YAML read it."""
    import yaml

    from conda2docker.lockfile import fast_parse

    fast = fast_parse(text)
    assert fast is not None
    slow = yaml.load(text, Loader=yaml.CSafeLoader)
    return ({k: v for k, v in fast.items() if k != "package"},
            {k: v for k, v in slow.items() if k != "package"})


def test_lock_heads_read_without_yaml_as_yaml_reads_them(tmp_path: Path) -> None:
    from conda2docker import lockfile

    read = 0
    for path in sorted(shared_path("locks").glob("*conda-lock*.yml")):
        text = path.read_text(encoding="utf-8")
        if lockfile.fast_parse(text) is None:
            continue
        fast, slow = _head_both_ways(text)
        assert fast == slow, path.name
        read += 1
    assert read >= 15
    written = tmp_path / "conda-lock.yml"
    write_conda_lock(lock_with_builds(), written)  # conda2docker's custom metadata
    fast, slow = _head_both_ways(written.read_text())
    assert fast == slow


@pytest.mark.parametrize("head", [
    "version: 1\nmetadata:\n  platforms:\n  - linux-64\n  sources:\n  - 2024\n",
    "version: 1\nmetadata:\n  content_hash:\n    linux-64: 0123\n",
    "version: 1\nmetadata:\n  channels:\n  - url: conda-forge\n    used_env_vars:\n    - TOKEN\n",
    "version: 1\nmetadata:\n  time_metadata:\n    created_at: x\n",
    "version: 1\nmetadata:\n  platforms: [linux-64, osx-64]\n",
    "version: 1\nmetadata:\n  sources:\n  - - x\n",
    "version: 1\nmetadata:\n  sources:\n  - a: b\n",
    "version: 1\nmetadata:\n  channels:\n  - url:\n    - x\n",
    "version: 1\nmetadata:\n  content_hash:\n    yes: abc\n",
    "version: 1\nmetadata:\n  sources:\n  - 'a\tb'\n",
    "version: 1\nmetadata:\n  sources:\n  - 'envir\u00f6nment.yml'\n",
])
def test_unusual_lock_heads_are_read_by_yaml(head: str) -> None:
    """Numbers and dates YAML types, lists it writes otherwise, keys conda2docker does not
    know: the head goes to YAML, whose reading is the reference."""
    from conda2docker import lockfile

    with pytest.raises(lockfile._Unexpected):
        lockfile._parse_head(head)
    fast, slow = _head_both_ways(head + "package:\n")
    assert fast == slow


def _two_platform_lock(tmp_path: Path) -> tuple[Path, Lock]:
    from dataclasses import replace

    from support.locks import base_conda

    single = lock_with_pip_wheels()
    lock = replace(single, packages=(*base_conda("osx-arm64"), *single.packages,
                                     *base_conda("linux-aarch64")),
                   platforms=("osx-arm64", "linux-64", "linux-aarch64"))
    path = tmp_path / "conda-lock.yml"
    write_conda_lock(lock, path)
    return path, read_conda_lock(path)


@pytest.mark.parametrize("platform", ["linux-64", "linux-aarch64", "osx-arm64", "win-64"])
def test_reading_one_platform_keeps_its_packages_and_every_platform_name(
    tmp_path: Path, platform: str
) -> None:
    path, full = _two_platform_lock(tmp_path)
    scoped = read_conda_lock(path, platforms={platform})
    assert scoped.packages == full.for_platform(platform)
    assert scoped.platforms == full.platforms and scoped.content_hash == full.content_hash


def test_reading_one_platform_through_yaml_keeps_the_same_packages(tmp_path: Path) -> None:
    from conda2docker.lockfile import fast_parse

    path, full = _two_platform_lock(tmp_path)
    folded = path.read_text().replace("  category: main\n", "  category: >-\n    main\n", 1)
    path.write_text(folded)
    assert fast_parse(folded) is None
    assert read_conda_lock(path, platforms={"linux-64"}).packages == full.for_platform("linux-64")


@pytest.mark.parametrize(
    "odd",
    [
        "package:\n- name: x\n  version: [1]\n",
        "package:\n- name: x\n  dependencies: {a: b}\n",
        "package:\n   - name: x\n",
        "package:\n- name: x\n  url: |\n    https://x\n",
    ],
)
def test_fast_reader_hands_unusual_layouts_to_yaml(odd: str) -> None:
    from conda2docker.lockfile import fast_parse

    assert fast_parse(odd) is None


def test_fast_reader_keeps_version_strings_exact(tmp_path: Path) -> None:
    path = tmp_path / "conda-lock.yml"
    path.write_text(
        "version: 1\nmetadata:\n  platforms: [linux-64]\npackage:\n"
        "- name: x\n  version: 1.10\n  manager: conda\n  platform: linux-64\n"
        "  dependencies:\n    '__glibc': '>=2.17'\n    b: ''\n"
        "  url: https://c/linux-64/x-1.10-h_0.conda\n  hash:\n    md5: 'abababababababababababababababab'\n    sha256: cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd\n"
        "  category: main\n  optional: false\n"
    )
    [package] = read_conda_lock(path).packages
    assert package.version == "1.10"
    assert dict(package.dependencies) == {"__glibc": ">=2.17", "b": ""}
    assert (package.md5, package.sha256, package.build) == ("ab" * 16, "cd" * 32, "h_0")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-8-sig"])
def test_locks_saved_by_windows_tools_read_like_environment_files(tmp_path: Path, encoding: str) -> None:
    lock = lock_with_pip_wheels()
    written = tmp_path / "conda-lock.yml"
    write_conda_lock(lock, written)
    bom = {"utf-16-be": b"\xfe\xff"}.get(encoding, b"")
    converted = tmp_path / "windows" / "conda-lock.yml"
    converted.parent.mkdir()
    converted.write_bytes(bom + written.read_text().replace("\n", "\r\n").encode(encoding))
    assert sorted(map(_key, read_conda_lock(converted).packages)) == sorted(map(_key, lock.packages))
    explicit = tmp_path / "windows" / "conda-linux-64.lock"
    explicit.write_bytes(bom + render_explicit(lock, "linux-64").encode(encoding))
    assert len(read_explicit(explicit).packages) == len(lock.conda_packages("linux-64"))


def test_an_explicit_lock_is_its_own_input_hash(tmp_path: Path) -> None:
    path = tmp_path / "conda-linux-64.lock"
    path.write_text(render_explicit(lock_pure_conda(), "linux-64"))
    first = read_explicit(path).content_hash["linux-64"]
    path.write_text(path.read_text() + "\n")
    assert read_explicit(path).content_hash["linux-64"] != first and len(first) == 64


def test_an_explicit_locks_pip_lines_carry_the_version_in_their_file_name(tmp_path: Path) -> None:
    """conda-lock's explicit render writes ``# pip NAME @ URL``: the version is read from the
    wheel's or sdist's file name (every sdist suffix pip accepts), ``0`` when it has none."""
    digest = "a" * 64
    path = tmp_path / "conda-linux-64.lock"
    path.write_text(
        "@EXPLICIT\n"
        f"https://conda.anaconda.org/conda-forge/linux-64/python-3.11.9-hb806964_0_cpython.conda#{'b' * 32}\n"
        f"# pip six @ https://files.example/ab/six-1.16.0-py2.py3-none-any.whl#sha256={digest}\n"
        "# pip foo @ https://h.example/foo-2.0.tar.gz\n"
        "# pip bar @ https://h.example/bar-1.2.zip\n"
        "# pip baz @ https://h.example/baz-0.9.tar.bz2\n"
        "# pip qux @ https://h.example/qux-3.1.tgz\n"
        "# pip my-pkg @ https://h.example/my-pkg-1.0rc1.tar.gz\n"
        "# pip nover @ https://h.example/nover.tar.gz\n"
        "# pip odd @ https://h.example/odd.whl\n"
        "# pip odd2 @ https://h.example/odd2-thing.whl\n"
        # dashes before the file name (host, directories) are not the file name's
        "# pip dashed @ https://files-host.example/a-b/dashed-4.5-py3-none-any.whl\n"
        "# pip plain @ https://files-host.example/a-b/plain.tar.gz\n"
    )
    pip = {p.name: p for p in read_explicit(path).pip_packages("linux-64")}
    assert {name: p.version for name, p in pip.items()} == {
        "six": "1.16.0", "foo": "2.0", "bar": "1.2", "baz": "0.9", "qux": "3.1",
        "my-pkg": "1.0rc1", "nover": "0", "odd": "0", "odd2": "0", "dashed": "4.5", "plain": "0"}
    assert pip["six"].sha256 == digest and pip["foo"].sha256 is None


def test_every_problem_of_an_explicit_lock_at_once(tmp_path: Path) -> None:
    from conda2docker.errors import InputErrors

    path = tmp_path / "env.lock"
    path.write_text("# platform: linux-64\n@EXPLICIT\n"
                    "https://x/linux-64/a-1-0.conda#xyz\n"
                    "https://x/linux-64/b-1-0.conda#" + "0" * 32 + "\n"
                    "https://x/linux-64/not-a-conda-file.txt\n"
                    "# platform: ../x\n"
                    "# pip six @ https://x/six-1.whl#md5=0\n"
                    "ftp://x/linux-64/c-1-0.conda\n")
    with pytest.raises(InputErrors) as info:
        read_explicit(path)
    lines = info.value.lines()
    assert [line.split(": ", 1)[0] for line in lines] == [
        f"{path}:{n}:1" for n in (3, 5, 6, 7, 8)]
    assert all("; fix: " in line for line in lines)
    assert "package 'a': invalid md5" in lines[0] and "scheme 'ftp'" in lines[4]


def test_a_problem_in_a_skipped_platform_is_not_read(tmp_path: Path) -> None:
    """Reading one platform of a lock leaves the others unread, so their problems are not
    reported, and the positions of the read platform's problems stay right."""
    from support.hostile import conda_entry

    url = "https://conda.anaconda.org/conda-forge/{}/{}-1-0.conda"
    path = tmp_path / "conda-lock.yml"
    path.write_text("version: 1\nmetadata:\n  platforms: [linux-64, osx-arm64]\npackage:\n"
                    + conda_entry("a", url.format("osx-arm64", "a"), md5="bad", platform="osx-arm64")
                    + conda_entry("b", url.format("linux-64", "b"), md5="0" * 32)
                    + conda_entry("c", url.format("linux-64", "c"), md5="bad2"))
    with pytest.raises(InputError) as info:
        read_conda_lock(path, platforms={"linux-64"})
    assert info.value.lines() == [
        f"{path}:29:15: package 'c': invalid md5 'bad2'; fix: an md5 is 32 hexadecimal digits"]
    with pytest.raises(InputError) as info:
        read_conda_lock(path)
    assert [line.split(": ", 1)[0] for line in info.value.lines()] == [f"{path}:11:15", f"{path}:29:15"]


def test_problems_in_conda_locks_own_layout_are_placed_as_the_yaml_nodes_place_them(tmp_path: Path) -> None:
    """A lock in conda-lock's layout is read line by line and its problems placed by scanning
    its lines (composing YAML nodes would take seconds for a large lock): the places are the
    ones the YAML nodes give, for every platform or one."""
    from conda2docker.errors import InputErrors
    from conda2docker.lockfile import _Locator, fast_parse, lock_from_mapping

    path = tmp_path / "conda-lock.yml"
    write_conda_lock(lock_with_builds(), path)
    text = path.read_text()
    md5s = [line for line in text.splitlines() if line.startswith("    md5: ")]
    urls = [line for line in text.splitlines() if line.startswith("  url: ")]
    text = text.replace(md5s[1], "    md5: xyz").replace(urls[-1], urls[-1].replace("https:", "ftp:"))
    text = text.replace(md5s[0], "    md5: " + "0" * 31)
    path.write_text(text)
    for platforms in (None, {"linux-64"}):
        assert fast_parse(text, platforms) is not None  # the layout path is the one read
        with pytest.raises(InputErrors) as fast:
            read_conda_lock(path, platforms=platforms)
        data = fast_parse(text, platforms)
        assert data is not None
        with pytest.raises(InputErrors) as composed:
            lock_from_mapping(data, path, locate=_Locator(path, text, platforms, data["package"]))
        assert fast.value.lines() == composed.value.lines()
        assert len(fast.value.lines()) == 3 and all(f"{path}:" in line for line in fast.value.lines())
        assert [line.split(": ", 1)[0] for line in fast.value.lines()] == [
            f"{path}:{text.splitlines().index(written) + 1}:{len(written) - len(written.split(': ', 1)[1]) + 1}"
            for written in ("    md5: " + "0" * 31, "    md5: xyz", urls[-1].replace("https:", "ftp:"))]


def test_either_lock_format_is_read_by_content_and_keeps_its_path(tmp_path: Path) -> None:
    conda_lock = tmp_path / "whatever.lock"
    write_conda_lock(lock_pure_conda(), conda_lock)
    explicit = tmp_path / "conda-lock.yml"  # names do not decide: the content does
    explicit.write_text(render_explicit(lock_pure_conda(), "linux-64"))
    for path in (conda_lock, explicit):
        lock = read_lock(path)
        assert lock.path == path
        assert {p.name for p in lock.packages} == {p.name for p in lock_pure_conda().packages}
    # a broken lock of either format is placed in its own file
    conda_lock.write_text(conda_lock.read_text().replace("md5: ", "md5: x", 1))
    explicit.write_text(explicit.read_text().replace(".conda#", ".conda#x", 1))
    for path in (conda_lock, explicit):
        with pytest.raises(InputError) as info:
            read_lock(path)
        assert info.value.one_line().startswith(f"{path}:")


def test_the_explicit_marker_is_looked_for_in_the_first_64_kib(tmp_path: Path) -> None:
    """An explicit lock says ``@EXPLICIT`` near its top; a file that says it only further down
    (where a reader would not look) is not taken for one."""
    urls = [line for line in render_explicit(lock_pure_conda(), "linux-64").splitlines()
            if line.startswith("https://")]
    path = tmp_path / "env.lock"
    for end, explicit in ((65536, True), (65537, False)):
        padding = "#" + " " * (end - len("@EXPLICIT") - 2) + "\n"
        path.write_text(padding + "@EXPLICIT\n" + "\n".join(urls) + "\n")
        assert path.read_text().index("@EXPLICIT") + len("@EXPLICIT") == end
        if explicit:
            assert len(read_lock(path).packages) == len(urls)
        else:
            with pytest.raises(InputError):
                read_lock(path)  # read as a conda-lock file, which it is not


@pytest.mark.parametrize(("text", "line"), [
    ("# platform: linux-64\nhttps://x/linux-64/a-1-0.conda#" + "0" * 32 + "\n",
     "no '@EXPLICIT' line: not an explicit lock"),
    ("https://x/linux-64/a-1-0.conda#" + "0" * 32 + "\n@EXPLICIT\n",
     ":1:1: package line before '@EXPLICIT'"),
    ("# platform: linux:64\n@EXPLICIT\n", ":1:1: invalid platform 'linux:64'"),
    ("@EXPLICIT\n# pip six @ https://h.example/six-1.16.0-py3-none-any.whl#md5=" + "0" * 32 + "\n",
     ":2:1: pip line: unexpected fragment '#md5="),
])
def test_an_explicit_lock_that_is_not_one_says_why_where(tmp_path: Path, text: str, line: str) -> None:
    path = tmp_path / "env.lock"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        read_explicit(path)
    assert info.value.one_line().startswith(str(path))
    assert line in info.value.one_line()


def test_an_explicit_package_without_a_hash_has_none(tmp_path: Path) -> None:
    """conda writes explicit files without hashes too; the package then carries no hash (and
    --vendor refuses it for that), never an empty one."""
    path = tmp_path / "env.lock"
    path.write_text("@EXPLICIT\nhttps://x/linux-64/a-1-0.conda\n")
    (package,) = read_explicit(path).packages
    assert (package.md5, package.sha256) == (None, None)


def test_dependencies_are_placed_in_the_order_the_packages_were_given_not_by_name() -> None:
    """python depends on bzip2 and libzlib, and the packages list libzlib before bzip2: both
    are placed before python in the packages' own order, not by name, so an explicit lock as
    conda wrote it keeps its order."""
    def conda(name: str, depends: dict[str, str]) -> LockedPackage:
        return LockedPackage(name, "1.0", "conda", "linux-64",
                             f"https://conda.anaconda.org/conda-forge/linux-64/{name}-1.0-0.conda",
                             md5="0" * 32, build="0", dependencies=depends)

    python = conda("python", {"bzip2": "", "libzlib": ""})
    packages = [python, conda("libzlib", {}), conda("bzip2", {})]
    assert [p.name for p in topological_order(packages)] == ["libzlib", "bzip2", "python"]
