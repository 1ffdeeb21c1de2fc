"""The build context reaches the network only through resolve's clients, which honour
``--offline`` and ``--mirror``: an offline ``--vendor`` conversion opens no socket at all."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conda2docker.cli import main
from support.channel import TestChannel


class SocketOpened(AssertionError):
    pass


@pytest.fixture
def no_sockets(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Fail the test if anything in this process connects or resolves a name; subprocesses
    get a proxy that refuses, so a child reaching for the network fails too."""
    attempts: list[str] = []

    def refuse(*args: Any, **_kwargs: Any) -> Any:
        attempts.append(repr(args[:2]))
        raise SocketOpened(f"a socket was opened: {args[:2]!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    for variable in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"):
        monkeypatch.setenv(variable, "http://127.0.0.1:9")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    yield attempts


def test_offline_vendor_opens_no_socket(tmp_path: Path, small_channel: TestChannel, no_sockets: list[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONDA2DOCKER_CACHE", str(tmp_path / "cache"))
    env = tmp_path / "environment.yml"
    env.write_text(f"name: offline\nchannels: [{small_channel.name}]\ndependencies:\n  - hello-noarch\n")
    out = tmp_path / "out"
    # --activation table: measuring activation talks to the local engine (a unix socket, not
    # the network), which this test leaves out so that any socket at all fails it
    code = main(["convert", str(env), "-o", str(out), "--vendor", "--offline", "--solver", "rattler",
                 "--channel-alias", small_channel.alias, "--activation", "table"])
    assert code == 0
    assert no_sockets == []
    vendored = sorted(p.name for p in (out / "vendor" / "channel").rglob("*.conda"))
    assert any(name.startswith("hello-noarch-") for name in vendored)


def test_offline_vendor_of_a_remote_file_fails_with_the_fix_instead_of_downloading(
        tmp_path: Path, no_sockets: list[str], capsys: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    lock = tmp_path / "conda-lock.yml"
    md5 = hashlib.md5(b"x").hexdigest()
    lock.write_text(
        "version: 1\nmetadata:\n  platforms: [linux-64]\n  channels: [conda-forge]\n"
        "  content_hash: {linux-64: x}\n  sources: [environment.yml]\npackage:\n"
        "- name: zlib\n  version: '1'\n  manager: conda\n  platform: linux-64\n  dependencies: {}\n"
        "  url: https://conda.anaconda.org/conda-forge/linux-64/zlib-1.3.1-h0_0.conda\n"
        f"  hash: {{md5: '{md5}'}}\n  category: main\n  optional: false\n")
    code = main(["convert", str(lock), "-o", str(tmp_path / "out"), "--vendor", "--offline"])
    err = capsys.readouterr().err
    assert code == 3, err
    assert "--offline forbids the network" in err and "without --offline" in err
    assert no_sockets == []


def test_a_mirror_is_where_vendored_files_are_read_from(tmp_path: Path, small_channel: TestChannel,
                                                       no_sockets: list[str], capsys: Any) -> None:
    """The lock names the canonical channel; --mirror points vendoring at a local copy."""
    import shutil

    from conda2docker.lockfile import read_conda_lock

    env = tmp_path / "environment.yml"
    env.write_text(f"name: m\nchannels: [{small_channel.name}]\ndependencies:\n  - hello-noarch\n")
    lock_path = tmp_path / "conda-lock.yml"
    mirror = tmp_path / "mirror"
    shutil.copytree(small_channel.path, mirror)
    assert main(["lock", str(env), "-o", str(lock_path), "--solver", "rattler", "--offline",
                 "--mirror", f"{small_channel.name}={mirror.as_uri()}"]) == 0
    lock = read_conda_lock(lock_path)
    assert all(p.url.startswith("https://conda.anaconda.org/") for p in lock.packages)
    out = tmp_path / "out"
    code = main(["convert", str(lock_path), "-o", str(out), "--vendor", "--offline",
                 "--mirror", f"{small_channel.name}={mirror.as_uri()}", "--activation", "table"])
    assert code == 0, capsys.readouterr().err
    assert no_sockets == []
    assert any((out / "vendor" / "channel").rglob("hello-noarch-*.conda"))


def test_a_local_channel_of_metadata_only_is_refused_before_anything_is_written(
        tmp_path: Path, small_channel: TestChannel, capsys: Any) -> None:
    """Package files of a local channel are vendored (no build could reach them): a channel
    that holds only repodata cannot give them, which convert says before writing a file."""
    import shutil

    channels = tmp_path / "channels"
    shutil.copytree(small_channel.path, channels / small_channel.name)
    for package in (channels / small_channel.name).rglob("*.conda"):
        package.unlink()
    env = tmp_path / "environment.yml"
    env.write_text(f"name: m\nchannels: [{small_channel.name}]\ndependencies:\n  - hello-noarch\n")
    out = tmp_path / "out"
    code = main(["convert", str(env), "-o", str(out), "--channel-alias", channels.as_uri(),
                 "--activation", "table"])
    err = capsys.readouterr().err
    assert code == 3, err
    errors = [line for line in err.splitlines() if line.startswith("conda2docker: error:")]
    assert len(errors) == 1 and "--mirror" in errors[0] and "metadata only" in errors[0]
    assert not out.exists() or not any(out.iterdir())
