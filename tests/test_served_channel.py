"""A local channel served by Python's own ``http.server``, the usual way a lab serves one.

Its ``304 Not Modified`` answers carry none of the validators (``Last-Modified``) of the copy
they confirm, and py-rattler 0.28 then fails a stale cached shard index with "received
unexpected status code (304 Not Modified)". A second solve after the cache went stale must
still work: the solver fetches the index afresh.
"""

from __future__ import annotations

import functools
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from conda2docker.errors import ResolveError
from conda2docker.model import CondaDependency, EnvSpec
from conda2docker.resolve import ResolveOptions, resolve
from support.channel import TestChannel


@pytest.fixture
def served(small_channel: TestChannel, tmp_path: Path) -> Iterator[tuple[str, list[tuple[str, int]]]]:
    """The small channel, copied with every file modified two seconds ago (so a cached index
    is fresh for a fifth of a second), behind a plain ``SimpleHTTPRequestHandler``; the
    answers (path, status) are recorded."""
    root = tmp_path / "served"
    shutil.copytree(small_channel.root, root)
    past = time.time() - 2
    for path in root.rglob("*"):
        os.utime(path, (past, past))
    answers: list[tuple[str, int]] = []

    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, *_args: Any) -> None:
            pass

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            answers.append((self.path, int(code)))

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/{small_channel.name}", answers
    finally:
        server.shutdown()
        server.server_close()


def env(*channels: str) -> EnvSpec:
    return EnvSpec(source=Path("/work/environment.yml"), channels=channels,
                   conda=(CondaDependency(name="hello-noarch", raw="hello-noarch"),))


def test_a_second_solve_after_the_cache_went_stale_still_reads_the_channel(
        served: tuple[str, list[tuple[str, int]]], tmp_path: Path) -> None:
    url, answers = served
    options = ResolveOptions(default_channels=(), cache_dir=tmp_path / "cache")
    first = resolve(env(url), options)
    time.sleep(0.5)
    second = resolve(env(url), options)
    assert {p.name for p in second.lock.packages} == {p.name for p in first.lock.packages} == {
        "hello-noarch", "chello"}
    assert any(status == 304 for _, status in answers), "the stale index was not revalidated"


def test_offline_does_not_fetch_afresh(served: tuple[str, list[tuple[str, int]]], tmp_path: Path) -> None:
    url, answers = served
    options = ResolveOptions(default_channels=(), cache_dir=tmp_path / "cache")
    resolve(env(url), options)
    seen = len(answers)
    offline = resolve(env(url), ResolveOptions(default_channels=(), cache_dir=tmp_path / "cache",
                                               offline=True))
    assert {p.name for p in offline.lock.packages} == {"hello-noarch", "chello"}
    assert len(answers) == seen


def test_a_channel_that_is_gone_is_still_reported(
        served: tuple[str, list[tuple[str, int]]], tmp_path: Path) -> None:
    url, _ = served
    with pytest.raises(ResolveError) as caught:
        resolve(env(url + "-gone"), ResolveOptions(default_channels=(), cache_dir=tmp_path / "cache"))
    assert "cannot read channel repodata" in str(caught.value)


def closed_port() -> int:
    """A local port nothing listens on: connecting to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_a_stale_cache_does_not_drop_the_served_channel_when_another_cannot_be_read(
        served: tuple[str, list[tuple[str, int]]], tmp_path: Path) -> None:
    """The solve fails on the channel that cannot be reached; the channels are then probed
    one by one, and the served one, whose cached index is stale by then, is read afresh
    instead of being left out as unreadable (C106) with its packages."""
    url, answers = served
    gone = f"http://127.0.0.1:{closed_port()}/gone"
    options = ResolveOptions(default_channels=(), cache_dir=tmp_path / "cache")
    resolve(env(url), options)
    time.sleep(0.5)
    resolution = resolve(env(url, gone), options)
    assert [(c.code, c.subject) for c in resolution.changes if c.code in {"C106", "C107"}] == [
        ("C106", gone)]
    assert {p.name for p in resolution.lock.packages} == {"hello-noarch", "chello"}
    assert any(status == 304 for _, status in answers), "the stale index was not revalidated"
