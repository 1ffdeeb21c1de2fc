"""``--vendor`` without an engine: a pinned git source becomes a reproducible source tarball of
exactly that commit, only from where the user allowed, and build requirements come from the
cache alone when ``--offline`` is set. (The engine tests build images from these files; these
tests check the files themselves.)"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import select
import shutil
import subprocess
import sys
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from functools import partial
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from conda2docker.context import (
    DEFAULT_BUILD_REQUIRES,
    MAX_PYPROJECT,
    ContextOptions,
    ContextReport,
    Fetcher,
    _write_tar_gz,
    build_bootstrap,
    build_requires,
    copy_local_sources,
    populate,
    vendor_build_requirements,
    vendor_ca_bundle,
    vendor_item,
    vendor_py_rattler,
)
from conda2docker.errors import InputError, OutputConflict, ResolveError, UserError
from conda2docker.model import CondaDependency, EnvSpec, Lock
from conda2docker.plan import PlanOptions, VendorItem, make_plan
from conda2docker.resolve import ResolveOptions, resolve
from support.channel import TestChannel

_GIT_ENV = {
    "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
    "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org",
    "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
}


def _git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                            check=True, env={**os.environ, **_GIT_ENV})
    return result.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, str]:
    """A git repository under the input root with two commits; returns (repo, first commit)."""
    root = tmp_path / "input" / "mypkg"
    root.mkdir(parents=True)
    _git(root, "init", "-q")
    (root / "pyproject.toml").write_text("[project]\nname = 'mypkg'\n")
    (root / "pkg").mkdir()
    (root / "pkg" / "__init__.py").write_text("VERSION = 1\n")
    (root / "link").symlink_to("pkg/__init__.py")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "one")
    first = _git(root, "rev-parse", "HEAD")
    (root / "pkg" / "__init__.py").write_text("VERSION = 2\n")
    (root / "later.txt").write_text("added after the pinned commit\n")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "two")
    return root, first


def _members(archive: Path) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(archive) as tar:
        return {m.name: m for m in tar.getmembers()}


def _read(archive: Path, name: str) -> bytes:
    with tarfile.open(archive) as tar:
        handle = tar.extractfile(name)
        assert handle is not None
        return handle.read()


def _item(repo: Path, commit: str) -> VendorItem:
    return VendorItem(f"git+{repo.as_uri()}@{commit}", "vendor/src/mypkg-src.tar.gz")


def test_a_git_source_is_vendored_as_a_tarball_of_the_pinned_commit(
        tmp_path: Path, repo: tuple[Path, str]) -> None:
    root, first = repo
    context = tmp_path / "out"
    fetcher = Fetcher(ContextOptions(input_root=tmp_path / "input"))
    size = vendor_item(_item(root, first), context, fetcher)
    archive = context / "vendor" / "src" / "mypkg-src.tar.gz"
    assert size == archive.stat().st_size > 0
    members = _members(archive)
    # the pinned commit, not the branch head; the repository's .git is not shipped
    assert _read(archive, "mypkg-src/pkg/__init__.py") == b"VERSION = 1\n"
    assert "mypkg-src/later.txt" not in members
    assert not any("/.git" in name or name.startswith(".git") for name in members)
    assert set(members) == {"mypkg-src/link", "mypkg-src/pkg", "mypkg-src/pkg/__init__.py",
                            "mypkg-src/pyproject.toml"}
    # a symbolic link stays a link (never followed), pointing where it pointed
    assert members["mypkg-src/link"].issym()
    assert members["mypkg-src/link"].linkname == "pkg/__init__.py"
    assert members["mypkg-src/pkg"].isdir()


def test_a_vendored_git_tarball_is_the_same_bytes_every_time(
        tmp_path: Path, repo: tuple[Path, str]) -> None:
    root, first = repo
    fetcher = Fetcher(ContextOptions(input_root=tmp_path / "input"))
    vendor_item(_item(root, first), tmp_path / "a", fetcher)
    os.utime(root / "pyproject.toml", (1, 1))  # checkout times differ between runs anyway
    vendor_item(_item(root, first), tmp_path / "b", fetcher)
    a = (tmp_path / "a" / "vendor" / "src" / "mypkg-src.tar.gz").read_bytes()
    b = (tmp_path / "b" / "vendor" / "src" / "mypkg-src.tar.gz").read_bytes()
    assert a == b  # same image layers from one conversion to the next


def test_a_git_repository_outside_the_input_tree_is_not_read(
        tmp_path: Path, repo: tuple[Path, str]) -> None:
    root, first = repo
    context = tmp_path / "out"
    fetcher = Fetcher(ContextOptions(input_root=tmp_path / "elsewhere"))
    with pytest.raises(InputError, match="lies outside"):
        vendor_item(_item(root, first), context, fetcher)
    assert not (context / "vendor" / "src" / "mypkg-src.tar.gz").exists()
    allowed = Fetcher(ContextOptions(input_root=tmp_path / "elsewhere", allow_paths=(root,)))
    vendor_item(_item(root, first), context, allowed)  # --allow-path opens it
    assert (context / "vendor" / "src" / "mypkg-src.tar.gz").is_file()


def test_an_offline_vendor_refuses_a_remote_git_source_before_cloning(tmp_path: Path) -> None:
    commit = "0123456789abcdef0123456789abcdef01234567"
    item = VendorItem(f"git+https://example.org/x/mypkg.git@{commit}", "vendor/src/mypkg.tar.gz")
    fetcher = Fetcher(ContextOptions(input_root=tmp_path, offline=True))
    with pytest.raises(ResolveError, match="--offline"):
        vendor_item(item, tmp_path / "out", fetcher)
    assert not (tmp_path / "out" / "vendor").exists()


def test_a_commit_the_repository_lacks_fails_clearly_and_leaves_no_file(
        tmp_path: Path, repo: tuple[Path, str]) -> None:
    root, _ = repo
    context = tmp_path / "out"
    fetcher = Fetcher(ContextOptions(input_root=tmp_path / "input"))
    with pytest.raises(ResolveError, match="cannot vendor") as caught:
        vendor_item(_item(root, "f" * 40), context, fetcher)
    assert caught.value.fix and "commit" in caught.value.fix
    # git's own reason is passed on (its last line), not a generic one
    assert "git failed" not in caught.value.message
    assert "not a tree" in caught.value.message or "did not match" in caught.value.message
    assert list((context / "vendor" / "src").iterdir()) == []


def test_an_offline_vendor_clones_a_local_git_source(tmp_path: Path, repo: tuple[Path, str]) -> None:
    root, first = repo
    fetcher = Fetcher(ContextOptions(input_root=tmp_path / "input", offline=True))
    vendor_item(_item(root, first), tmp_path / "out", fetcher)
    assert _read(tmp_path / "out" / "vendor" / "src" / "mypkg-src.tar.gz",
                 "mypkg-src/pkg/__init__.py") == b"VERSION = 1\n"


def test_two_git_sources_share_the_vendor_directory(tmp_path: Path, repo: tuple[Path, str]) -> None:
    root, first = repo
    fetcher = Fetcher(ContextOptions(input_root=tmp_path / "input"))
    vendor_item(_item(root, first), tmp_path / "out", fetcher)
    other = VendorItem(f"git+{root.as_uri()}@{first}#egg=other", "vendor/src/other-src.tar.gz")
    vendor_item(other, tmp_path / "out", fetcher)  # a fragment (#egg=) is not part of the commit
    assert sorted(p.name for p in (tmp_path / "out" / "vendor" / "src").iterdir()) == [
        "mypkg-src.tar.gz", "other-src.tar.gz"]
    assert "other-src/pkg/__init__.py" in _members(tmp_path / "out" / "vendor" / "src" / "other-src.tar.gz")


def test_a_git_url_with_a_user_is_read_as_repository_and_commit(tmp_path: Path) -> None:
    """``git+ssh://git@host/repo.git@<commit>``: the first ``@`` belongs to the host part; the
    commit is the last one (offline, the clone is then refused for needing the network)."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    item = VendorItem(f"git+ssh://git@example.org/x/mypkg.git@{commit}#egg=mypkg",
                      "vendor/src/mypkg.tar.gz")
    with pytest.raises(ResolveError, match="--offline"):
        vendor_item(item, tmp_path / "out", Fetcher(ContextOptions(input_root=tmp_path, offline=True)))


def test_a_git_transport_that_runs_commands_is_never_used(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``ext::`` makes git run a command. Even when the user's git configuration allows it, a
    source named in a lock never gets to: the clone refuses the transport."""
    config = tmp_path / "gitconfig"
    config.write_text('[protocol "ext"]\n\tallow = always\n')
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    marker = tmp_path / "ran"
    item = VendorItem(f"git+ext::sh -c touch% {marker}@{'a' * 40}", "vendor/src/x.tar.gz")
    with pytest.raises(ResolveError, match="cannot vendor"):
        vendor_item(item, tmp_path / "out", Fetcher(ContextOptions(input_root=tmp_path)))
    assert not marker.exists()


class _LoginRequired(BaseHTTPRequestHandler):
    """A git server over HTTP that wants a login for everything (401, Basic)."""

    def do_GET(self) -> None:
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="git"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def login_repo() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _LoginRequired)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/x/mypkg.git"
    finally:
        server.shutdown()
        server.server_close()


def test_a_git_source_that_wants_a_login_fails_without_prompting_on_the_terminal(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, login_repo: str) -> None:
    """A conversion run from a terminal never stops to ask for a git login (it would hang a
    script, or take a password typed for something else): the clone fails at once with git's
    reason. git is run here with a terminal of its own as its controlling terminal (the user's
    terminal); a stand-in for the user answers any prompt, so a prompt cannot hang the test."""
    master, slave = os.openpty()
    real_git = shutil.which("git")
    assert real_git
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "git").write_text(
        f"#!{sys.executable}\n"
        "import fcntl, os, sys, termios\n"
        "if os.getsid(0) != os.getpid():\n"  # already a session leader when run in a session of its own
        "    os.setsid()\n"
        f"fd = os.open({os.ttyname(slave)!r}, os.O_RDWR)\n"
        "fcntl.ioctl(fd, termios.TIOCSCTTY, 0)\n"
        "os.close(fd)\n"
        f"os.execv({real_git!r}, [{real_git!r}, *sys.argv[1:]])\n")
    (bin_dir / "git").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    for name in ("GIT_ASKPASS", "SSH_ASKPASS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)  # no credential helper, no askpass
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    shown: list[bytes] = []
    done = threading.Event()

    def user_at_the_terminal() -> None:
        while not done.is_set():
            if select.select([master], [], [], 0.1)[0]:
                data = os.read(master, 4096)
                shown.append(data)
                if data.rstrip().endswith(b":"):
                    os.write(master, b"someone\n")

    thread = threading.Thread(target=user_at_the_terminal, daemon=True)
    thread.start()
    item = VendorItem(f"git+{login_repo}@{'a' * 40}", "vendor/src/mypkg.tar.gz")
    try:
        with pytest.raises(ResolveError, match="cannot vendor") as caught:
            vendor_item(item, tmp_path / "out", Fetcher(ContextOptions(input_root=tmp_path)))
    finally:
        done.set()
        thread.join()
        os.close(master)
        os.close(slave)
    assert shown == []
    # git's own reason is passed on: the repository wants a login
    assert "could not read Username" in caught.value.message
    assert "terminal prompts disabled" in caught.value.message
    assert not (tmp_path / "out" / "vendor" / "src" / "mypkg.tar.gz").exists()


def test_a_git_clone_that_hangs_is_stopped_and_leaves_no_file(
        tmp_path: Path, repo: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """A git that never finishes (a server that stalls mid-clone) is stopped after GIT_TIMEOUT
    seconds (10 minutes; one here), with the helper it runs (git-remote-https): the source
    cannot be vendored, said with git's time."""
    import conda2docker.context
    from support.processes import gone, stalling_program, wait_for

    root, first = repo
    monkeypatch.setattr(conda2docker.context, "GIT_TIMEOUT", 1)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    helper_pid = tmp_path / "git-remote-https.pid"
    program = stalling_program(helper_pid)
    (bin_dir / "git").write_text(f"#!{program[0]}\n{program[2]}")
    (bin_dir / "git").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    context = tmp_path / "out"
    with pytest.raises(ResolveError) as caught:
        vendor_item(_item(root, first), context, Fetcher(ContextOptions(input_root=tmp_path / "input")))
    assert caught.value.message == (f"cannot vendor git+{root.as_uri()}@{first}: git did not "
                                    "finish within 1 s")
    assert caught.value.fix == "check that the repository and commit are reachable"
    assert list((context / "vendor" / "src").iterdir()) == []
    assert gone(wait_for(helper_pid))


def test_a_git_source_without_a_full_commit_cannot_be_vendored(
        tmp_path: Path, repo: tuple[Path, str]) -> None:
    root, first = repo
    fetcher = Fetcher(ContextOptions(input_root=tmp_path / "input"))
    for url in (f"git+{root.as_uri()}", f"git+{root.as_uri()}@main", f"git+{root.as_uri()}@{first[:7]}"):
        with pytest.raises(InputError):
            vendor_item(VendorItem(url, "vendor/src/mypkg-src.tar.gz"), tmp_path / "out", fetcher)


@pytest.mark.never_blocks
def test_the_archive_of_a_tree_is_reproducible_and_leaves_special_files_out(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "bin").mkdir(parents=True)
    (tree / "bin" / "tool").write_text("#!/bin/sh\n")
    (tree / "bin" / "tool").chmod(0o755)
    (tree / "skip" / "x").mkdir(parents=True)
    (tree / "lib").symlink_to("bin")
    os.mkfifo(tree / "fifo")  # a FIFO in a tree must neither block the archive nor be stored
    os.utime(tree / "bin" / "tool", (1_700_000_000, 1_700_000_000))
    dest = tmp_path / "a.tar.gz"
    _write_tar_gz(tree, dest, arcname="", exclude={"skip"})
    members = _members(dest)
    assert set(members) == {"bin", "bin/tool", "lib"}
    for member in members.values():
        assert (member.mtime, member.uid, member.gid) == (0, 0, 0)
        assert (member.uname, member.gname) == ("root", "root")
    assert members["bin/tool"].mode & 0o777 == 0o755  # executables stay executable
    assert members["lib"].issym() and members["lib"].linkname == "bin"
    with gzip.open(dest) as gz:
        gz.read()
    raw = dest.read_bytes()
    assert raw[4:8] == b"\0\0\0\0"  # gzip header: no timestamp
    again = tmp_path / "b.tar.gz"
    os.utime(tree / "bin" / "tool", (1, 1))
    _write_tar_gz(tree, again, arcname="", exclude={"skip"})
    assert again.read_bytes() == raw


def _wheel(directory: Path, name: str, version: str) -> Path:
    """A minimal, valid pure-Python wheel (pip reads its METADATA to select it)."""
    path = directory / f"{name}-{version}-py3-none-any.whl"
    dist_info = f"{name}-{version}.dist-info"
    with zipfile.ZipFile(path, "w") as whl:
        whl.writestr(f"{name}/__init__.py", "")
        whl.writestr(f"{dist_info}/METADATA",
                     f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        whl.writestr(f"{dist_info}/WHEEL",
                     "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        whl.writestr(f"{dist_info}/RECORD", "")
    return path


def test_offline_build_requirements_come_from_the_cache_only(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONDA2DOCKER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    context = tmp_path / "out"
    options = ContextOptions(input_root=tmp_path, offline=True)
    # an empty cache: the fix says to fill it once online
    with pytest.raises(ResolveError, match="cannot download the build requirements flit-core") as caught:
        vendor_build_requirements(["flit-core"], "linux-64", "3.11", context, options=options)
    assert caught.value.fix and "without --offline" in caught.value.fix
    (cache,) = (tmp_path / "cache" / "build-requires").iterdir()
    _wheel(cache, "flit_core", "3.9.0")
    vendor_build_requirements(["flit-core", "flit-core"], "linux-64", "3.11", context,
                              options=options)
    assert [p.name for p in (context / "vendor" / "pip").iterdir()] == [
        "flit_core-3.9.0-py3-none-any.whl"]
    # another target (platform, python, index options) is another cache entry
    with pytest.raises(ResolveError):
        vendor_build_requirements(["flit-core"], "linux-aarch64", "3.11", tmp_path / "o2",
                                  options=options)
    with pytest.raises(ResolveError):
        vendor_build_requirements(["flit-core"], "linux-64", "3.12", tmp_path / "o3",
                                  options=options)


def _index_of(links: Path, *files: str) -> Path:
    """A --find-links directory standing in for the package index, holding these wheels."""
    links.mkdir(parents=True, exist_ok=True)
    for file_name in files:
        name, version = file_name.split("-")[:2]
        _wheel(links, name, version).rename(links / file_name)
    return links


_BACKENDS = ("cython-3.0.0-cp311-cp311-manylinux2014_x86_64.whl",
             "cython-3.0.0-cp311-cp311-manylinux2014_aarch64.whl",
             "cython-3.0.0-cp312-cp312-manylinux2014_x86_64.whl",
             "flit_core-3.9.0-py3-none-any.whl")


def _simple_index(root: Path, *files: str) -> str:
    """A PEP 503 index on disk holding these wheels; returns its file:// URL."""
    _index_of(root / "files", *files)
    for file_name in files:
        project = root / "simple" / file_name.split("-")[0].replace("_", "-")
        project.mkdir(parents=True, exist_ok=True)
        with (project / "index.html").open("a") as page:
            page.write(f'<a href="../../files/{file_name}">{file_name}</a>\n')
    return (root / "simple").as_uri()


def test_build_requirements_are_downloaded_for_the_target_from_the_environments_index_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Online, the wheels come from the environment's own index (its --index-url), for the
    target's CPython version and architecture (a compiled backend such as Cython has one wheel
    per version and machine), into the cache; the next conversion of the same target copies
    them from the cache without the index. A patch release of python is the same target."""
    monkeypatch.setenv("CONDA2DOCKER_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("PIP_NO_INDEX", raising=False)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_INDEX_URL", (tmp_path / "no-index").as_uri())  # pip's own default
    index_args = ("--index-url", _simple_index(tmp_path / "index", *_BACKENDS))
    options = ContextOptions(input_root=tmp_path)
    vendor_build_requirements(["flit-core", "cython"], "linux-64", "3.11.4", tmp_path / "a",
                              index_args, options)
    expected = ["cython-3.0.0-cp311-cp311-manylinux2014_x86_64.whl", "flit_core-3.9.0-py3-none-any.whl"]
    assert sorted(p.name for p in (tmp_path / "a" / "vendor" / "pip").iterdir()) == expected
    shutil.rmtree(tmp_path / "index")  # the index is gone: the cache alone serves the same target
    vendor_build_requirements(["cython", "flit-core"], "linux-64", "3.11.9", tmp_path / "b",
                              index_args, options)
    assert sorted(p.name for p in (tmp_path / "b" / "vendor" / "pip").iterdir()) == expected
    _simple_index(tmp_path / "index", *_BACKENDS)
    vendor_build_requirements(["cython"], "linux-aarch64", "3.11", tmp_path / "c", index_args, options)
    assert [p.name for p in (tmp_path / "c" / "vendor" / "pip").iterdir()] == [
        "cython-3.0.0-cp311-cp311-manylinux2014_aarch64.whl"]


def test_an_index_that_wants_a_login_leaves_the_users_input_unread(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, login_repo: str) -> None:
    """pip asks for a user name when an index answers 401: a conversion run in a
    ``while read`` loop must not hand it the loop's next line (nor wait on a terminal)."""
    monkeypatch.setenv("CONDA2DOCKER_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("PIP_NO_INDEX", raising=False)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    index = login_repo.replace("/x/mypkg.git", "/simple")
    read_end, write_end = os.pipe()
    os.write(write_end, b"next line\n")
    os.close(write_end)
    saved = os.dup(0)
    os.dup2(read_end, 0)
    os.close(read_end)
    try:
        with pytest.raises(ResolveError, match="cannot download the build requirements hatchling"):
            vendor_build_requirements(["hatchling"], "linux-64", "3.11", tmp_path / "out",
                                      ("--index-url", index), ContextOptions(input_root=tmp_path))
        left = os.read(0, 100)
    finally:
        os.dup2(saved, 0)
        os.close(saved)
    assert left == b"next line\n"


def test_offline_build_requirements_ignore_the_environments_index(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--offline takes the wheels from the cache alone, never from the index options the
    environment names (a --find-links may be a URL: no connection is opened)."""
    monkeypatch.setenv("CONDA2DOCKER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    links = _index_of(tmp_path / "links", *_BACKENDS)
    with pytest.raises(ResolveError, match="cannot download the build requirements flit-core"):
        vendor_build_requirements(["flit-core"], "linux-64", "3.11", tmp_path / "out",
                                  ("--find-links", str(links)),
                                  ContextOptions(input_root=tmp_path, offline=True))
    assert not (tmp_path / "out" / "vendor" / "pip").exists()


def test_a_build_requirement_missing_from_the_index_is_named_with_the_way_out(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONDA2DOCKER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    # a stale find-links in the user's pip settings: pip warns about it before its error
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "gone"))
    for offline, fix in ((False, "check access to the package index"),
                         (True, "run once without --offline to fill the cache, or "
                                "check access to the package index")):
        with pytest.raises(ResolveError) as caught:
            vendor_build_requirements(["wheel", "hatchling", "wheel"], "linux-64", "3.11",
                                      tmp_path / "out",
                                      options=ContextOptions(input_root=tmp_path, offline=offline))
        # what is missing, and pip's own reason (its last line)
        assert caught.value.message == ("cannot download the build requirements hatchling, wheel: "
                                        "ERROR: No matching distribution found for hatchling")
        assert caught.value.fix == fix


def _stand_in_pip(directory: Path, body: str) -> Path:
    """A ``pip`` package that ``python -m pip`` runs instead of the real one (put first on
    PYTHONPATH), doing ``body``; returns the directory to put there."""
    (directory / "pip").mkdir(parents=True)
    (directory / "pip" / "__init__.py").write_text("")
    (directory / "pip" / "__main__.py").write_text(body)
    return directory


def test_a_pip_that_dies_without_a_word_still_fails_the_download_clearly(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pip killed from outside (the out-of-memory killer sends SIGKILL) writes no error: the
    download fails all the same, naming what was being downloaded and the way out."""
    monkeypatch.setenv("CONDA2DOCKER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PYTHONPATH", str(_stand_in_pip(
        tmp_path / "stand-in", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")))
    options = ContextOptions(input_root=tmp_path)
    with pytest.raises(ResolveError) as caught:
        vendor_build_requirements(["hatchling"], "linux-64", "3.11", tmp_path / "out", options=options)
    assert caught.value.message == "cannot download the build requirements hatchling: pip failed"
    assert caught.value.fix == "check access to the package index"
    with pytest.raises(ResolveError) as caught:
        vendor_py_rattler("0.9.0", "linux-64", "3.12", tmp_path / "out", options)
    assert caught.value.message == "cannot download the py-rattler 0.9.0 wheel for linux-64: pip failed"
    assert caught.value.fix == "check access to PyPI, or use --installer micromamba"
    assert not (tmp_path / "out" / "vendor").exists()


def test_a_pip_that_hangs_is_stopped_and_the_download_fails_clearly(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A pip that never finishes (an index that stalls mid-answer) is stopped after
    PIP_TIMEOUT seconds (30 minutes; one here), with the build backend it runs, and the
    conversion fails as a download does, with the way out, never as an internal error."""
    import conda2docker.context
    from support.processes import gone, stalling_program, wait_for

    monkeypatch.setattr(conda2docker.context, "PIP_TIMEOUT", 1)
    monkeypatch.setenv("CONDA2DOCKER_CACHE", str(tmp_path / "cache"))
    backend_pid = tmp_path / "backend.pid"
    monkeypatch.setenv("PYTHONPATH", str(_stand_in_pip(tmp_path / "stand-in",
                                                       stalling_program(backend_pid)[2])))
    options = ContextOptions(input_root=tmp_path)
    with pytest.raises(ResolveError) as caught:
        vendor_build_requirements(["hatchling"], "linux-64", "3.11", tmp_path / "out", options=options)
    assert caught.value.message == ("cannot download the build requirements hatchling: pip did "
                                    "not finish within 1 s")
    assert caught.value.fix == "check access to the package index"
    assert not (tmp_path / "out" / "vendor").exists()
    assert gone(wait_for(backend_pid))


def test_no_build_requirements_means_no_download_and_no_directory(tmp_path: Path) -> None:
    vendor_build_requirements([], "linux-64", "3.11", tmp_path / "out",
                              options=ContextOptions(input_root=tmp_path, offline=True))
    assert not (tmp_path / "out").exists()


def test_a_build_requirement_is_never_read_as_a_pip_option(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A requirement from an untrusted sdist that looks like an option stays a requirement."""
    monkeypatch.setenv("CONDA2DOCKER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    marker = tmp_path / "written-by-pip"
    with pytest.raises(ResolveError):
        vendor_build_requirements([f"--log={marker}"], "linux-64", "3.11", tmp_path / "out",
                                  options=ContextOptions(input_root=tmp_path, offline=True))
    assert not marker.exists()


def test_gzip_of_the_archive_names_no_file(tmp_path: Path) -> None:
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "f").write_text("x")
    _write_tar_gz(tmp_path / "t", tmp_path / "x.tar.gz", arcname="top")
    raw = (tmp_path / "x.tar.gz").read_bytes()
    assert raw[3] & 0x08 == 0  # no FNAME field: the temporary file's name is not recorded
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(raw))) as tar:
        assert tar.getnames() == ["top/f"]


# ------------------------------------------------------------ the rattler installer's python


def _lock_of(channel: TestChannel, *names: str) -> Lock:
    env = EnvSpec(source=tmp_env(), channels=(channel.name,),
                  conda=tuple(CondaDependency(name=n, version="", raw=n) for n in names))
    return resolve(env, ResolveOptions(channel_alias=channel.alias, offline=True)).lock


def tmp_env() -> Path:
    return Path("/nonexistent/environment.yml")


def _bootstrap(tmp_path: Path, channel: TestChannel, lock: Lock, context: Path) -> Path:
    options = ContextOptions(input_root=tmp_path, offline=True, channel_alias=channel.alias)
    build_bootstrap(lock, "linux-64", context, Fetcher(options))
    return context / "vendor" / "bootstrap-python.tar.gz"


@pytest.mark.slow  # installs a python with py-rattler (20-40 s)
def test_the_bootstrap_python_is_the_locks_own_python_installed_for_its_prefix(
        tmp_path: Path, test_channel: TestChannel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONDA2DOCKER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("RATTLER_CACHE_DIR", str(tmp_path / "rattler-cache"))
    lock = _lock_of(test_channel, "python", "hello-noarch")
    archive = _bootstrap(tmp_path, test_channel, lock, tmp_path / "out")
    # installed from the files just checked against the lock, never through (or into) the
    # user's own package cache, which other tools write
    assert not (tmp_path / "rattler-cache").exists()
    members = _members(archive)
    python = next(p for p in lock.packages if p.name == "python")
    # python and what it depends on, installed (conda-meta records), nothing else of the lock
    records = {n.split("/")[-1] for n in members if n.startswith("conda-meta/") and n.endswith(".json")}
    assert f"{python.file_name.removesuffix('.conda')}.json" in records
    assert not any(r.startswith(("hello-noarch-", "chello-")) for r in records)
    assert any(n.startswith("bin/python3") for n in members)
    assert all((m.mtime, m.uid, m.gid) == (0, 0, 0) for m in members.values())
    # installed for /opt/c2d-bootstrap, where the image unpacks it, not for a temporary directory
    record = json.loads(_read(archive, f"conda-meta/{python.file_name.removesuffix('.conda')}.json"))
    assert record["url"].endswith(python.file_name)
    assert record["sha256"] == python.sha256
    # the record of the package file as conda writes it: its size and its channel
    assert record["size"] == Path(unquote(urlsplit(python.url).path)).stat().st_size
    assert record["channel"] == python.channel
    with tarfile.open(archive) as tar:
        leaked = [m.name for m in tar if m.isfile() and str(tmp_path).encode() in
                  (tar.extractfile(m) or io.BytesIO()).read()]
    assert leaked == []
    assert "/opt/c2d-bootstrap" in _read(archive, "lib/pkgconfig/python3.pc").decode()
    # built once per package set: the next conversion copies the cached archive
    (cached,) = (tmp_path / "cache" / "bootstrap").iterdir()
    assert cached.read_bytes() == archive.read_bytes()
    cached.write_bytes(b"cached")
    assert _bootstrap(tmp_path, test_channel, lock, tmp_path / "again").read_bytes() == b"cached"


def test_a_bootstrap_package_that_does_not_match_its_hash_is_refused(
        tmp_path: Path, test_channel: TestChannel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONDA2DOCKER_CACHE", str(tmp_path / "cache"))
    lock = _lock_of(test_channel, "python")
    bad = tuple(replace(p, sha256="0" * 64) if p.name == "python" else p for p in lock.packages)
    with pytest.raises(ResolveError, match="does not match"):
        _bootstrap(tmp_path, test_channel, replace(lock, packages=bad), tmp_path / "out")
    assert not (tmp_path / "out" / "vendor" / "bootstrap-python.tar.gz").exists()
    assert not list((tmp_path / "cache").rglob("*.tar.gz"))


@pytest.mark.slow  # installs a python with py-rattler (20-40 s)
def test_without_python_in_the_lock_the_bootstrap_python_is_solved_from_its_channels(
        tmp_path: Path, test_channel: TestChannel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONDA2DOCKER_CACHE", str(tmp_path / "cache"))
    lock = _lock_of(test_channel, "hello-noarch")
    assert "python" not in {p.name for p in lock.packages}
    archive = _bootstrap(tmp_path, test_channel, lock, tmp_path / "out")
    names = _members(archive)
    assert any(n.startswith("conda-meta/python-3.") for n in names)
    assert not any(n.startswith("conda-meta/hello-noarch-") for n in names)
    # the whole context: the bootstrap python just built (from the cache) and the installer's
    # wheel, for the default python since the lock names none (py-rattler's wheels are abi3)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(_index_of(
        tmp_path / "links", "py_rattler-0.9.0-cp38-abi3-manylinux2014_x86_64.whl")))
    plan = make_plan(EnvSpec(source=tmp_path / "environment.yml", name="demo"), lock,
                     PlanOptions(vendor=True, installer="rattler"))
    assert plan.python_version is None
    context = tmp_path / "context"
    populate(plan, lock, context, rattler_version="0.9.0", options=ContextOptions(input_root=tmp_path))
    assert (context / "vendor" / "bootstrap-python.tar.gz").read_bytes() == archive.read_bytes()
    assert [p.name for p in (context / "vendor" / "py-rattler").iterdir()] == [
        "py_rattler-0.9.0-cp38-abi3-manylinux2014_x86_64.whl"]
    # a lock that names no channel has nowhere to take python from: the fix names the way out
    with pytest.raises(UserError, match="no channel") as caught:
        _bootstrap(tmp_path, test_channel, replace(lock, channels=()), tmp_path / "o2")
    assert caught.value.fix and "--installer micromamba" in caught.value.fix


def _index_only_channel(root: Path, name: str, *records: tuple[str, str, str, int]) -> Path:
    """A local channel ``root/name`` that holds only its index (repodata.json, no package
    files), listing these linux-64 packages (name, version, build, build number); returns
    ``root``."""
    for subdir, listed in (("linux-64", records), ("noarch", ())):
        (root / name / subdir).mkdir(parents=True, exist_ok=True)
        packages = {f"{n}-{v}-{b}.conda": {
            "name": n, "version": v, "build": b, "build_number": number, "depends": [],
            "subdir": subdir, "md5": "0" * 32, "sha256": "0" * 64, "size": 1,
        } for n, v, b, number in listed}
        (root / name / subdir / "repodata.json").write_text(json.dumps(
            {"info": {"subdir": subdir}, "packages": {}, "packages.conda": packages}))
    return root


#: conda-forge's last python 3.7 (py-rattler, the rattler installer, needs python 3.8 or later)
_OLD_PYTHON = ("python", "3.7.12", "hb7a2778_100_cpython", 100)


def test_a_lock_whose_channel_has_no_python_for_the_installer_is_refused_with_the_reason(
        tmp_path: Path, small_channel: TestChannel, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without python in the lock, the rattler installer's python is solved from the lock's
    channel, read where --channel-alias or --mirror point (a conda-lock file names its
    channels, e.g. ``conda-forge``). A channel whose python is older than the installer
    needs, or that has none, is said so before anything is built (never an empty python)."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # the solver's index cache
    monkeypatch.setenv("CONDA2DOCKER_CACHE", str(tmp_path / "cache"))
    root = _index_only_channel(tmp_path / "mirror", "c2d-old", _OLD_PYTHON, ("chello", "0.1.0", "h0_0", 0))
    _index_only_channel(tmp_path / "mirror", "c2d-none", ("chello", "0.1.0", "h0_0", 0))
    for channel, reason in (
            ("c2d-old", "1 requested version(s) are not in the channels: python >=3.8 (no such "
                        "version for linux-64; the channels have 3.7.12)"),
            ("c2d-none", "1 requested package(s) are in no channel: python >=3.8 (in no channel "
                         "for linux-64, channels: c2d-none)")):
        lock = replace(_lock_of(small_channel, "hello-noarch"), channels=(channel,))
        for options in (ContextOptions(input_root=tmp_path, offline=True, channel_alias=root.as_uri()),
                        ContextOptions(input_root=tmp_path, offline=True,
                                       mirrors=((channel, (root / channel).as_uri()),))):
            context = tmp_path / "out"
            with pytest.raises(UserError) as caught:
                build_bootstrap(lock, "linux-64", context, Fetcher(options))
            assert caught.value.message == ("no python for the rattler installer in the lock's "
                                            f"channels: {reason}")
            assert caught.value.fix == "use --installer micromamba, or add python to the environment"
            assert not (context / "vendor" / "bootstrap-python.tar.gz").exists()


class _Files(SimpleHTTPRequestHandler):
    """Serves a directory over HTTP (a channel mirror) and records every path asked for."""

    asked: list[str]

    def do_GET(self) -> None:
        self.asked.append(self.path)
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_an_offline_conversion_takes_the_installers_python_from_no_server(
        tmp_path: Path, small_channel: TestChannel, monkeypatch: pytest.MonkeyPatch) -> None:
    """--offline: solving the rattler installer's python reads the channel's index from the
    cache alone; a channel served over HTTP is never asked (online, the same lock reads it)."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # the solver's index cache: empty
    monkeypatch.setenv("CONDA2DOCKER_CACHE", str(tmp_path / "cache"))
    for variable in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(variable, raising=False)
    root = _index_only_channel(tmp_path / "mirror", "c2d-old", _OLD_PYTHON)
    asked: list[str] = []
    handler = type("Handler", (_Files,), {"asked": asked})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    lock = replace(_lock_of(small_channel, "hello-noarch"), channels=("c2d-old",))
    alias = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with pytest.raises(UserError) as caught:
            build_bootstrap(lock, "linux-64", tmp_path / "out", Fetcher(ContextOptions(
                input_root=tmp_path, offline=True, channel_alias=alias)))
        assert asked == []
        assert caught.value.message.startswith(
            "no python for the rattler installer in the lock's channels: cannot read channel "
            f"repodata from {alias}/c2d-old")
        with pytest.raises(UserError, match=r"the channels have 3\.7\.12"):
            build_bootstrap(lock, "linux-64", tmp_path / "out", Fetcher(ContextOptions(
                input_root=tmp_path, channel_alias=alias)))
        assert "/c2d-old/linux-64/repodata.json" in asked
    finally:
        server.shutdown()
        server.server_close()


# ----------------------------------------------- the build backends an sdist asks for

_PYPROJECT = b'[build-system]\nrequires = ["flit_core >=3.2,<4", "wheel"]\n'


def _sdist_tar(path: Path, files: dict[str, bytes], mode: str = "w:gz") -> Path:
    with tarfile.open(path, mode) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _sdist_zip(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


@pytest.mark.parametrize("name", ["pkg-1.0.tar.gz", "pkg-1.0.tgz"])
def test_an_sdists_build_requirements_are_read_from_its_top_pyproject(tmp_path: Path, name: str) -> None:
    sdist = _sdist_tar(tmp_path / name, {"pkg-1.0/pkg/pyproject.toml": b"[build-system]\nrequires = ['no']\n",
                                          "pkg-1.0/pyproject.toml": _PYPROJECT})
    assert build_requires(sdist) == ("flit_core >=3.2,<4", "wheel")


def test_a_zip_sdists_build_requirements_are_read_from_its_top_pyproject(tmp_path: Path) -> None:
    sdist = _sdist_zip(tmp_path / "pkg-1.0.zip", {"pkg-1.0/sub/pyproject.toml": b"x = 1\n",
                                                   "pkg-1.0/pyproject.toml": _PYPROJECT})
    assert build_requires(sdist) == ("flit_core >=3.2,<4", "wheel")


def test_a_source_directorys_build_requirements_are_read(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_bytes(_PYPROJECT)
    assert build_requires(tmp_path) == ("flit_core >=3.2,<4", "wheel")
    (tmp_path / "pyproject.toml").write_bytes(b"[build-system]\nrequires = []\n")
    assert build_requires(tmp_path) == ()  # a backend that needs nothing installs nothing


@pytest.mark.parametrize("files", [
    {"pkg-1.0/setup.py": b""},                                # no pyproject: setuptools' default
    {"pkg-1.0/sub/pyproject.toml": _PYPROJECT},                # not the project's own
    {"pyproject.toml": _PYPROJECT},                            # not inside the sdist's top directory
    {"pkg-1.0/pyproject.toml": b"[project]\nname = 'x'\n"},     # no [build-system]
    {"pkg-1.0/pyproject.toml": b"[build-system]\nbuild-backend = 'x'\n"},  # no requires
])
def test_without_a_top_level_build_system_the_default_is_setuptools(tmp_path: Path,
                                                                    files: dict[str, bytes]) -> None:
    assert build_requires(_sdist_tar(tmp_path / "pkg-1.0.tar.gz", files)) == DEFAULT_BUILD_REQUIRES
    assert build_requires(_sdist_zip(tmp_path / "pkg-1.0.zip", files)) == DEFAULT_BUILD_REQUIRES


def test_a_huge_pyproject_is_not_read(tmp_path: Path) -> None:
    """An untrusted sdist cannot make the conversion read an unbounded file: past 1 MiB the
    default applies; a pyproject of exactly 1 MiB is still read."""
    padding = b"#" * (MAX_PYPROJECT - len(_PYPROJECT) - 1) + b"\n"
    exact = _PYPROJECT + padding
    assert len(exact) == MAX_PYPROJECT
    for data, expected in ((exact, ("flit_core >=3.2,<4", "wheel")),
                           (exact + b"\n", DEFAULT_BUILD_REQUIRES)):
        files = {"pkg-1.0/pyproject.toml": data}
        assert build_requires(_sdist_tar(tmp_path / "pkg-1.0.tar.gz", files)) == expected
        assert build_requires(_sdist_zip(tmp_path / "pkg-1.0.zip", files)) == expected
        (tmp_path / "pyproject.toml").write_bytes(data)
        assert build_requires(tmp_path) == expected


def test_a_pyproject_that_is_a_link_or_no_file_is_not_followed(tmp_path: Path) -> None:
    secret = tmp_path / "secret.toml"
    secret.write_bytes(_PYPROJECT)
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "pyproject.toml").symlink_to(secret)
    assert build_requires(tree) == DEFAULT_BUILD_REQUIRES
    (tree / "pyproject.toml").unlink()
    (tree / "pyproject.toml").mkdir()
    assert build_requires(tree) == DEFAULT_BUILD_REQUIRES
    sdist = tmp_path / "pkg-1.0.tar.gz"
    with tarfile.open(sdist, "w:gz") as tar:
        link = tarfile.TarInfo("pkg-1.0/pyproject.toml")
        link.type = tarfile.SYMTYPE
        link.linkname = str(secret)
        tar.addfile(link)
    assert build_requires(sdist) == DEFAULT_BUILD_REQUIRES


def test_a_file_that_is_no_sdist_gives_the_default(tmp_path: Path) -> None:
    for name in ("pkg-1.0.whl", "pkg-1.0.tar.bz2", "pkg"):
        (tmp_path / name).write_bytes(_PYPROJECT)
        assert build_requires(tmp_path / name) == DEFAULT_BUILD_REQUIRES


def test_build_requirements_keep_what_pip_would_install_and_drop_options(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["hatchling", " --index-url=https://evil.example", '
        '"-e .", "x\\u0007y", "numpy>=2; python_version >= \'3.9\'"]\n')
    assert build_requires(tmp_path) == ("hatchling", "numpy>=2; python_version >= '3.9'")


def test_an_undecodable_pyproject_is_read_with_replacement(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_bytes(b'# caf\xe9\n' + _PYPROJECT)
    assert build_requires(tmp_path) == ("flit_core >=3.2,<4", "wheel")


# --------------------------------------------------------------- local source directories


def _local_lock(source: Path) -> Lock:
    from support.locks import lock_with_builds

    return lock_with_builds(source)


def _tree(root: Path) -> dict[str, bytes | None]:
    return {p.relative_to(root).as_posix(): (p.read_bytes() if p.is_file() else None)
            for p in sorted(root.rglob("*"))}


@pytest.mark.never_blocks
def test_a_local_source_is_copied_without_build_debris_links_out_or_special_files(
        tmp_path: Path) -> None:
    src = tmp_path / "input" / "mytool"
    for directory in (".git", "build", "dist", "__pycache__", "mytool.egg-info", "a_dir",
                      "src/mytool", "z_dir/deep/er"):
        (src / directory).mkdir(parents=True)
        (src / directory / "f.txt").write_text(directory)
    (src / "pyproject.toml").write_text("[project]\nname = 'mytool'\n")
    (tmp_path / "outside.txt").write_text("secret")
    (src / "a_link_out").symlink_to(tmp_path / "outside.txt")  # sorts before the regular files
    (src / "b_link_in").symlink_to(src / "pyproject.toml")
    (src / "a_dir_link").symlink_to(src / "src")
    (src / "a_dangling").symlink_to(src / "gone")  # inside the tree, pointing at nothing
    os.mkfifo(src / "a_fifo")
    context = tmp_path / "out"
    copy_local_sources(_local_lock(src), "linux-64", context, ContextOptions(input_root=tmp_path / "input"))
    assert _tree(context / "sources" / "mytool") == {
        "a_dir": None, "a_dir/f.txt": b"a_dir",
        "b_link_in": b"[project]\nname = 'mytool'\n",     # a link inside the tree: its content
        "pyproject.toml": b"[project]\nname = 'mytool'\n",
        "src": None, "src/mytool": None, "src/mytool/f.txt": b"src/mytool",
        "z_dir": None, "z_dir/deep": None, "z_dir/deep/er": None, "z_dir/deep/er/f.txt": b"z_dir/deep/er",
    }


def test_a_local_source_that_changed_is_replaced_only_with_force(tmp_path: Path) -> None:
    src = tmp_path / "input" / "mytool"
    src.mkdir(parents=True)
    (src / "setup.py").write_text("v1")
    context = tmp_path / "out"
    options = ContextOptions(input_root=tmp_path / "input")
    copy_local_sources(_local_lock(src), "linux-64", context, options)
    copy_local_sources(_local_lock(src), "linux-64", context, options)  # unchanged: kept
    (src / "setup.py").write_text("v2")  # same names, new content
    with pytest.raises(OutputConflict, match="differs from the local package"):
        copy_local_sources(_local_lock(src), "linux-64", context, options)
    assert (context / "sources" / "mytool" / "setup.py").read_text() == "v1"
    forced = ContextOptions(input_root=tmp_path / "input", force=True)
    copy_local_sources(_local_lock(src), "linux-64", context, forced)
    assert (context / "sources" / "mytool" / "setup.py").read_text() == "v2"
    # a link where the copy had a file is a difference too
    (context / "sources" / "mytool" / "setup.py").unlink()
    (context / "sources" / "mytool" / "setup.py").symlink_to(src / "setup.py")
    with pytest.raises(OutputConflict):
        copy_local_sources(_local_lock(src), "linux-64", context, options)


def test_the_py_rattler_wheel_is_taken_from_the_cache_for_the_target(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--installer rattler --vendor: the installer's wheel for the target's architecture comes
    from the cache when it is there (offline: only from there), and replaces what an earlier
    conversion left in the context."""
    monkeypatch.setenv("CONDA2DOCKER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    options = ContextOptions(input_root=tmp_path, offline=True)
    context = tmp_path / "out"
    with pytest.raises(ResolveError, match=r"py-rattler 0\.9\.0 wheel for linux-aarch64") as caught:
        vendor_py_rattler("0.9.0", "linux-aarch64", "3.12", context, options)
    assert caught.value.fix == ("run once without --offline to fill the cache, or "
                                "check access to PyPI, or use --installer micromamba")
    cache = tmp_path / "cache" / "wheels" / "py-rattler-0.9.0-linux-aarch64"
    wheel = _wheel(cache, "py_rattler", "0.9.0")
    tagged = wheel.with_name("py_rattler-0.9.0-cp38-abi3-manylinux2014_aarch64.whl")
    wheel.rename(tagged)
    (context / "vendor" / "py-rattler").mkdir(parents=True)
    (context / "vendor" / "py-rattler" / "stale.whl").write_bytes(b"old")
    vendor_py_rattler("0.9.0", "linux-aarch64", "3.12", context, options)
    assert sorted(p.name for p in (context / "vendor" / "py-rattler").iterdir()) == [tagged.name]
    assert (context / "vendor" / "py-rattler" / tagged.name).read_bytes() == tagged.read_bytes()


def test_the_py_rattler_wheel_is_downloaded_for_the_targets_architecture_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Online, pip fetches the wheel for the target (here from a local --find-links, standing
    in for PyPI) into the cache; the next conversion copies it from there without pip."""
    links = tmp_path / "links"
    links.mkdir()
    for arch in ("aarch64", "x86_64"):
        wheel = _wheel(links, "py_rattler", "0.9.0")
        wheel.rename(links / f"py_rattler-0.9.0-cp38-abi3-manylinux2014_{arch}.whl")
    monkeypatch.setenv("CONDA2DOCKER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(links))
    options = ContextOptions(input_root=tmp_path)
    vendor_py_rattler("0.9.0", "linux-aarch64", "3.12", tmp_path / "a", options)
    expected = ["py_rattler-0.9.0-cp38-abi3-manylinux2014_aarch64.whl"]
    assert sorted(p.name for p in (tmp_path / "a" / "vendor" / "py-rattler").iterdir()) == expected
    for wheel in links.iterdir():  # the index is gone: the cache alone serves the next one
        wheel.unlink()
    vendor_py_rattler("0.9.0", "linux-aarch64", "3.12", tmp_path / "b", options)
    assert sorted(p.name for p in (tmp_path / "b" / "vendor" / "py-rattler").iterdir()) == expected


def test_the_py_rattler_installer_is_never_built_from_an_sdist(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An index that offers only an sdist of py-rattler for the target gets no build on this
    machine (building runs the sdist's own backend code): the download fails, no file is
    vendored."""
    links = tmp_path / "links"
    links.mkdir()
    ran = tmp_path / "backend-ran"
    backend = f"import pathlib\npathlib.Path({str(ran)!r}).touch()\n".encode()
    pyproject = (b'[build-system]\nrequires = []\nbuild-backend = "backend"\n'
                 b'backend-path = ["."]\n')
    _sdist_tar(links / "py-rattler-0.9.0.tar.gz", {
        "py-rattler-0.9.0/pyproject.toml": pyproject, "py-rattler-0.9.0/backend.py": backend,
        "py-rattler-0.9.0/PKG-INFO": b"Metadata-Version: 2.1\nName: py-rattler\nVersion: 0.9.0\n"})
    monkeypatch.setenv("CONDA2DOCKER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(links))
    with pytest.raises(ResolveError, match=r"cannot download the py-rattler 0\.9\.0 wheel"):
        vendor_py_rattler("0.9.0", "linux-64", "3.12", tmp_path / "out", ContextOptions(input_root=tmp_path))
    assert not ran.exists()
    assert not (tmp_path / "out" / "vendor" / "py-rattler").exists()


def test_an_offline_py_rattler_miss_fails_the_same_way_every_time(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONDA2DOCKER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    options = ContextOptions(input_root=tmp_path, offline=True)
    for _ in range(2):  # the (empty) cache directory left by the first attempt changes nothing
        with pytest.raises(ResolveError, match="cannot download the py-rattler"):
            vendor_py_rattler("0.9.0", "linux-64", "3.12", tmp_path / "out", options)


def test_the_ca_bundle_is_vendored_for_the_installer(tmp_path: Path) -> None:
    import certifi

    (tmp_path / "vendor").mkdir()
    vendor_ca_bundle(tmp_path)
    assert (tmp_path / "vendor" / "cacert.pem").read_bytes() == Path(certifi.where()).read_bytes()


# ------------------------------------------------------------ the whole vendored context


def _lock_with_sources(tmp_path: Path, channel: TestChannel) -> Lock:
    """python and pip from the test channel, an sdist (a local file, hashed) that builds with
    flit_core and a local source directory that builds with hatchling; the lock file is in
    tmp_path/input, beside both."""
    from support.locks import pip

    local = tmp_path / "input" / "mytool"
    local.mkdir(parents=True)
    sdist = _sdist_tar(tmp_path / "input" / "docopt-0.6.2.tar.gz", {
        "docopt-0.6.2/pyproject.toml": b'[build-system]\nrequires = ["flit_core"]\n'})
    (local / "pyproject.toml").write_text('[build-system]\nrequires = ["hatchling"]\n')
    lock = _lock_of(channel, "python", "pip")
    packages = (*lock.packages,
                replace(pip("docopt", "0.6.2", sdist.as_uri()),
                        sha256=hashlib.sha256(sdist.read_bytes()).hexdigest()),
                pip("mytool", "0.1.0", local.as_uri(), sha256=False))
    return replace(lock, packages=packages, path=tmp_path / "input" / "conda-lock.yml")


def test_a_vendored_context_holds_every_file_and_every_build_backend_the_image_needs(
        tmp_path: Path, test_channel: TestChannel, monkeypatch: pytest.MonkeyPatch) -> None:
    """--vendor: the conda packages and the sdist are copied (and counted, bytes included, for
    the summary the conversion prints), the local source is copied, and the build backends of
    both the sdist and the local source are there for the offline ``pip wheel``."""
    monkeypatch.setenv("CONDA2DOCKER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    links = _index_of(tmp_path / "links", "flit_core-3.9.0-py3-none-any.whl",
                      "hatchling-1.21.0-cp311-cp311-manylinux2014_x86_64.whl",
                      "hatchling-1.21.0-cp312-cp312-manylinux2014_x86_64.whl")
    lock = _lock_with_sources(tmp_path, test_channel)
    # the target's python is 3.12: its build backends are the cp312 wheels
    lock = replace(lock, packages=tuple(replace(p, version="3.12.1") if p.name == "python" else p
                                        for p in lock.packages))
    plan = make_plan(EnvSpec(source=tmp_path / "input" / "environment.yml", name="demo"), lock,
                     PlanOptions(vendor=True))
    context = tmp_path / "out"
    index_args = ("--find-links", str(links))
    # --offline: the build backends come from the cache alone (empty here), not the index
    with pytest.raises(ResolveError, match="build requirements flit_core, hatchling"):
        populate(plan, lock, context, rattler_version="0.9.0", index_args=index_args,
                 options=ContextOptions(input_root=tmp_path / "input", offline=True))
    report = populate(plan, lock, context, rattler_version="0.9.0", index_args=index_args,
                      options=ContextOptions(input_root=tmp_path / "input"))
    vendored = [context / item.dest for item in plan.vendor_items]
    assert [p.name for p in vendored if p.suffix == ".conda"] != []
    assert report == ContextReport(len(vendored), sum(p.stat().st_size for p in vendored))
    assert sorted(p.name for p in (context / "vendor" / "pip").iterdir()) == [
        "docopt-0.6.2.tar.gz", "flit_core-3.9.0-py3-none-any.whl",
        "hatchling-1.21.0-cp312-cp312-manylinux2014_x86_64.whl"]
    assert (context / "sources" / "mytool" / "pyproject.toml").is_file()
    # the Dockerfile copies vendor/src whether or not the lock has git sources
    assert (context / "vendor" / "src").is_dir()
    assert list((context / "vendor" / "src").iterdir()) == []


def test_a_context_without_vendoring_reports_nothing_vendored(
        tmp_path: Path, test_channel: TestChannel) -> None:
    lock = _lock_with_sources(tmp_path, test_channel)
    plan = make_plan(EnvSpec(source=tmp_path / "input" / "environment.yml", name="demo"), lock,
                     PlanOptions(vendor=False))
    report = populate(plan, lock, tmp_path / "out", rattler_version="0.9.0")
    assert report == ContextReport(0, 0)
    assert not (tmp_path / "out" / "vendor").exists()
    # by default the lock's own directory is the tree local sources may come from
    assert (tmp_path / "out" / "sources" / "mytool" / "pyproject.toml").is_file()
    with pytest.raises(InputError, match="lies outside"):
        populate(plan, replace(lock, path=tmp_path / "elsewhere" / "conda-lock.yml"),
                 tmp_path / "o2", rattler_version="0.9.0")
    # a lock that was never read from a file: the output directory is that tree
    unread = replace(lock, path=None, packages=tuple(p for p in lock.packages if p.name != "mytool"))
    plan = make_plan(EnvSpec(source=tmp_path / "input" / "environment.yml", name="demo"), unread,
                     PlanOptions(vendor=False))
    assert populate(plan, unread, tmp_path / "o3", rattler_version="0.9.0") == ContextReport(0, 0)


def test_a_vendored_context_has_both_directories_the_dockerfile_copies(
        tmp_path: Path, test_channel: TestChannel) -> None:
    """The Dockerfile of a lock with builds copies vendor/pip and vendor/src: both exist even
    when nothing is downloaded into them (a local source whose backend needs nothing)."""
    lock = _lock_with_sources(tmp_path, test_channel)
    (tmp_path / "input" / "mytool" / "pyproject.toml").write_text("[build-system]\nrequires = []\n")
    lock = replace(lock, packages=tuple(p for p in lock.packages if p.name != "docopt"))
    plan = make_plan(EnvSpec(source=tmp_path / "input" / "environment.yml", name="demo"), lock,
                     PlanOptions(vendor=True))
    populate(plan, lock, tmp_path / "out", rattler_version="0.9.0",
             options=ContextOptions(input_root=tmp_path / "input", offline=True))
    for needed in ("pip", "src"):
        assert list((tmp_path / "out" / "vendor" / needed).iterdir()) == []


def test_sources_an_earlier_conversion_left_ask_for_no_build_backends(
        tmp_path: Path, test_channel: TestChannel, monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment dropped its local package (and with it pip and python): converting it
    again into the same output, offline, vendors its conda packages; the copy of the old local
    source still in sources/ is not built, so its build backend is not asked for."""
    monkeypatch.setenv("CONDA2DOCKER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    context = tmp_path / "out"
    earlier = _lock_with_sources(tmp_path, test_channel)
    options = ContextOptions(input_root=tmp_path / "input", offline=True)
    copy_local_sources(earlier, "linux-64", context, options)
    assert (context / "sources" / "mytool" / "pyproject.toml").is_file()
    lock = replace(_lock_of(test_channel, "hello-noarch"), path=tmp_path / "input" / "conda-lock.yml")
    plan = make_plan(EnvSpec(source=tmp_path / "input" / "environment.yml", name="demo"), lock,
                     PlanOptions(vendor=True))
    report = populate(plan, lock, context, rattler_version="0.9.0", options=options)
    assert report.vendored_files == len(plan.vendor_items) > 0
    assert list((context / "vendor" / "pip").iterdir()) == []


@pytest.mark.slow  # installs a python with py-rattler (10-40 s)
def test_a_context_for_the_rattler_installer_holds_its_python_wheel_and_certificates(
        tmp_path: Path, test_channel: TestChannel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONDA2DOCKER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    links = _index_of(tmp_path / "links", "py_rattler-0.9.0-cp38-abi3-manylinux2014_x86_64.whl")
    monkeypatch.setenv("PIP_FIND_LINKS", str(links))  # standing in for PyPI
    lock = _lock_of(test_channel, "python")
    plan = make_plan(EnvSpec(source=tmp_path / "environment.yml", name="demo"), lock,
                     PlanOptions(vendor=True, installer="rattler"))
    assert plan.needs_bootstrap
    context = tmp_path / "out"
    populate(plan, lock, context, rattler_version="0.9.0", options=ContextOptions(input_root=tmp_path))
    assert any(n.startswith("bin/python3") for n in _members(context / "vendor" / "bootstrap-python.tar.gz"))
    assert [p.name for p in (context / "vendor" / "py-rattler").iterdir()] == [
        "py_rattler-0.9.0-cp38-abi3-manylinux2014_x86_64.whl"]
    assert (context / "vendor" / "cacert.pem").stat().st_size > 0


def test_a_local_file_outside_the_input_tree_is_refused_by_name_before_anything_is_written(
        tmp_path: Path, test_channel: TestChannel) -> None:
    lock = _lock_with_sources(tmp_path, test_channel)
    spec_ = EnvSpec(source=tmp_path / "input" / "environment.yml", name="demo")
    elsewhere = ContextOptions(input_root=tmp_path / "elsewhere")
    for packages, named in ((lock.packages, "mytool"),
                            (tuple(p for p in lock.packages if p.name != "mytool"),
                             "docopt-0.6.2.tar.gz")):
        narrowed = replace(lock, packages=packages)
        plan = make_plan(spec_, narrowed, PlanOptions(vendor=True))
        with pytest.raises(InputError) as caught:
            populate(plan, narrowed, tmp_path / "out", rattler_version="0.9.0", options=elsewhere)
        assert caught.value.message.startswith(f"local package '{named}' at {tmp_path / 'input'}")
        assert not (tmp_path / "out").exists()
    with pytest.raises(InputError, match=r"^local package 'mytool' at "):
        copy_local_sources(lock, "linux-64", tmp_path / "out", elsewhere)


def test_a_local_source_is_copied_when_the_temporary_directory_is_elsewhere(
        tmp_path: Path, tempdir_on_another_filesystem: Path) -> None:
    src = tmp_path / "input" / "mytool"
    src.mkdir(parents=True)
    (src / "setup.py").write_text("v1")
    copy_local_sources(_local_lock(src), "linux-64", tmp_path / "out",
                       ContextOptions(input_root=tmp_path / "input"))
    assert (tmp_path / "out" / "sources" / "mytool" / "setup.py").read_text() == "v1"
    assert list(tempdir_on_another_filesystem.iterdir()) == []


def test_every_local_source_is_brought_up_to_date_not_only_the_first(tmp_path: Path) -> None:
    """A second conversion into the same output: a copy that is unchanged is kept, and the
    ones after it are still checked (a deleted copy is copied again)."""
    from support.locks import pip

    names = ("atool", "btool", "ctool")
    for name in names:
        (tmp_path / "input" / name).mkdir(parents=True)
        (tmp_path / "input" / name / "setup.py").write_text(name)
    base = _local_lock(tmp_path / "input" / "atool")
    lock = replace(base, packages=(*(p for p in base.packages if p.artifact != "path"),
                                   *(pip(n, "0.1.0", (tmp_path / "input" / n).as_uri(), sha256=False)
                                     for n in names)))
    options = ContextOptions(input_root=tmp_path / "input")
    copy_local_sources(lock, "linux-64", tmp_path / "out", options)
    shutil.rmtree(tmp_path / "out" / "sources" / "btool")
    copy_local_sources(lock, "linux-64", tmp_path / "out", options)
    for name in names:
        assert (tmp_path / "out" / "sources" / name / "setup.py").read_text() == name
