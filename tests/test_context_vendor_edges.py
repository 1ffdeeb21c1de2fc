"""Edges of ``--vendor``: a file already in the context with the lock's hash is reused, only git
sources can be vendored from a version-control URL, a pip file's URL is read as written, and the
installer's bootstrap python holds all that python depends on."""

from __future__ import annotations

import hashlib
import json
import tarfile
from dataclasses import replace
from pathlib import Path

import pytest

from conda2docker.context import ContextOptions, Fetcher, build_bootstrap, vendor_item
from conda2docker.errors import InputError, ResolveError
from conda2docker.model import CondaDependency, EnvSpec
from conda2docker.plan import VendorItem
from conda2docker.resolve import ResolveOptions, resolve
from support.channel import TestChannel

SDIST = b"attrs-23.1.0 sdist stand-in\n"
DEST = "vendor/pip/attrs-23.1.0.tar.gz"


def test_a_vendored_file_already_in_the_context_with_the_locks_hash_is_kept(tmp_path: Path) -> None:
    """Converting again reuses a vendored file that is already in the context with the lock's
    hash: it is not read from its source again (here the source is gone by then)."""
    root = tmp_path / "input"
    root.mkdir()
    source = root / "attrs-23.1.0.tar.gz"
    source.write_bytes(SDIST)
    item = VendorItem(source.as_uri(), DEST, sha256=hashlib.sha256(SDIST).hexdigest())
    context = tmp_path / "out"
    fetcher = Fetcher(ContextOptions(input_root=root))
    assert vendor_item(item, context, fetcher) == len(SDIST)
    source.unlink()

    assert vendor_item(item, context, fetcher) == len(SDIST)
    assert (context / DEST).read_bytes() == SDIST


@pytest.mark.parametrize("url", [
    "hg+https://hg.example.org/repo@" + "a" * 40,
    "svn+https://svn.example.org/repo@" + "a" * 40,
    "bzr+https://bzr.example.org/repo@" + "a" * 40,
])
def test_a_source_of_another_version_control_system_cannot_be_vendored(tmp_path: Path, url: str) -> None:
    """Only a git source pinned to a commit can be vendored: an hg, svn or bzr URL is refused
    with the way out, even when the lock gives it a hash, and nothing is written."""
    item = VendorItem(url, "vendor/src/repo.tar.gz", sha256="0" * 64)
    with pytest.raises(InputError) as caught:
        vendor_item(item, tmp_path / "out", Fetcher(ContextOptions(input_root=tmp_path, offline=True)))
    assert caught.value.message == (f"cannot vendor {url}: only git sources pinned to a commit "
                                    "can be vendored")
    assert caught.value.fix == "re-lock so the source is a git URL with @<full commit id>"
    assert not (tmp_path / "out").exists()


@pytest.mark.slow  # installs a python with py-rattler (20-40 s)
def test_the_bootstrap_python_holds_every_package_python_depends_on_through_others(
        tmp_path: Path, test_channel: TestChannel, monkeypatch: pytest.MonkeyPatch) -> None:
    """The installer's python gets all it depends on, also what two of its dependencies share
    (as a real python's readline and ncurses both need ncurses): python → ca-certificates,
    chello, hello-noarch, and hello-noarch → chello again. Nothing else of the lock."""
    monkeypatch.setenv("CONDA2DOCKER_CACHE", str(tmp_path / "cache"))
    env = EnvSpec(source=Path("/nonexistent/environment.yml"), channels=(test_channel.name,),
                  conda=tuple(CondaDependency(name=n, version="", raw=n)
                              for n in ("python", "hello-noarch", "ca-certificates", "packaging")))
    lock = resolve(env, ResolveOptions(channel_alias=test_channel.alias, offline=True)).lock
    depends = {"ca-certificates": "", "chello": ">=0.1", "hello-noarch": ">=1.0", "__glibc": ">=2.36"}
    lock = replace(lock, packages=tuple(replace(p, dependencies=depends) if p.name == "python" else p
                                        for p in lock.packages))
    options = ContextOptions(input_root=tmp_path, offline=True, channel_alias=test_channel.alias)
    earlier = tmp_path / "cache" / "bootstrap" / "0123456789abcdef01234567.tar.gz"
    earlier.parent.mkdir(parents=True)  # another environment's bootstrap, built before
    earlier.write_bytes(b"another environment's python")
    build_bootstrap(lock, "linux-64", tmp_path / "out", Fetcher(options))
    assert earlier.read_bytes() == b"another environment's python"
    assert len(list(earlier.parent.iterdir())) == 2

    with tarfile.open(tmp_path / "out" / "vendor" / "bootstrap-python.tar.gz") as tar:
        records = {m.name.split("/")[-1] for m in tar
                   if m.name.startswith("conda-meta/") and m.name.endswith(".json")}
    wanted = {"python", "ca-certificates", "chello", "hello-noarch"}
    assert records == {f"{p.file_name.removesuffix('.conda').removesuffix('.tar.bz2')}.json"
                       for p in lock.conda_packages("linux-64") if p.name in wanted}
    # each record names the package's channel and both of its hashes, as conda's own records do
    for package in lock.conda_packages("linux-64"):
        if package.name in wanted:
            with tarfile.open(tmp_path / "out" / "vendor" / "bootstrap-python.tar.gz") as tar:
                member = tar.extractfile(f"conda-meta/{package.file_name.removesuffix('.conda')}.json")
                assert member is not None
                record = json.loads(member.read())
            assert (record["channel"], record["md5"], record["sha256"]) == (
                package.channel, package.md5, package.sha256)


@pytest.mark.slow  # installs a python with py-rattler (20-40 s)
def test_a_bootstrap_built_for_other_package_bytes_is_never_reused(
        tmp_path: Path, test_channel: TestChannel, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cached bootstrap archive belongs to the package files' hashes, not only their URLs:
    a lock that carries only md5s (an explicit lock) and now expects other bytes for python is
    checked against the channel again (and refused here), never given the archive built before."""
    monkeypatch.setenv("CONDA2DOCKER_CACHE", str(tmp_path / "cache"))
    env = EnvSpec(source=Path("/nonexistent/environment.yml"), channels=(test_channel.name,),
                  conda=(CondaDependency(name="python", version="", raw="python"),))
    lock = resolve(env, ResolveOptions(channel_alias=test_channel.alias, offline=True)).lock
    lock = replace(lock, packages=tuple(replace(p, sha256=None) for p in lock.packages))
    options = ContextOptions(input_root=tmp_path, offline=True, channel_alias=test_channel.alias)
    build_bootstrap(lock, "linux-64", tmp_path / "one", Fetcher(options))

    other = replace(lock, packages=tuple(replace(p, md5="0" * 32) if p.name == "python" else p
                                         for p in lock.packages))
    with pytest.raises(ResolveError, match="does not match"):
        build_bootstrap(other, "linux-64", tmp_path / "two", Fetcher(options))
    assert not (tmp_path / "two" / "vendor" / "bootstrap-python.tar.gz").exists()


def test_a_dollar_in_a_pip_files_url_is_read_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``$NAME`` stands for a credential only in a conda channel's URL: a pip file whose URL has
    a ``$`` in it (here a local sdist in a directory named ``$RELEASES``) is read from that very
    path, never from wherever the variable of that name points."""
    root = tmp_path / "input"
    (root / "$RELEASES").mkdir(parents=True)
    (root / "$RELEASES" / "attrs-23.1.0.tar.gz").write_bytes(SDIST)
    monkeypatch.setenv("RELEASES", str(tmp_path / "elsewhere"))
    item = VendorItem(f"file://{root}/$RELEASES/attrs-23.1.0.tar.gz", DEST,
                      sha256=hashlib.sha256(SDIST).hexdigest())
    assert vendor_item(item, tmp_path / "out", Fetcher(ContextOptions(input_root=root))) == len(SDIST)
    assert (tmp_path / "out" / DEST).read_bytes() == SDIST


def test_files_are_vendored_when_the_temporary_folder_is_on_another_filesystem(
        tmp_path: Path, tempdir_on_another_filesystem: Path) -> None:
    """/tmp is often a tmpfs and the output a disk: a vendored file is written beside its place
    in the context and renamed there, never renamed across filesystems (which fails)."""
    source = tmp_path / "input" / "attrs-23.1.0.tar.gz"
    source.parent.mkdir()
    source.write_bytes(SDIST)
    item = VendorItem(source.as_uri(), DEST, sha256=hashlib.sha256(SDIST).hexdigest())
    context = tmp_path / "out"
    assert vendor_item(item, context, Fetcher(ContextOptions(input_root=source.parent))) == len(SDIST)
    assert [p.name for p in (context / DEST).parent.iterdir()] == ["attrs-23.1.0.tar.gz"]
    assert list(tempdir_on_another_filesystem.iterdir()) == []
