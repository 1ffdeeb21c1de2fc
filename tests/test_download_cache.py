"""The download cache of ``--vendor`` keeps a file under the hashes the lock expects.

A URL can serve other bytes than it did when it was cached: a local channel rebuilt, a
server started again on a port another one used, a mirror that changed. The lock's hash then
decides: a cached copy that does not match is dropped and the file fetched again, and a
download that does not match is reported and never cached (so a fixed upstream is read on
the next run, not the bad copy).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from conda2docker.context import ContextOptions, Fetcher, vendor_item
from conda2docker.errors import ResolveError
from conda2docker.plan.types import VendorItem


class Served:
    """One URL whose bytes a test can change, with a count of the requests for it."""

    def __init__(self) -> None:
        self.body = b"first build\n"
        self.requests = 0
        served = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: object) -> None:
                pass

            def do_GET(self) -> None:
                served.requests += 1
                self.send_response(200)
                self.send_header("Content-Length", str(len(served.body)))
                self.end_headers()
                self.wfile.write(served.body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/c2d-test/noarch/a-1.0-0.conda"


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    monkeypatch.setenv("CONDA2DOCKER_CACHE", str(tmp_path / "cache"))
    state = Served()
    thread = threading.Thread(target=state.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.server.shutdown()
        state.server.server_close()


def item(url: str, body: bytes, *, md5_only: bool = False) -> VendorItem:
    if md5_only:
        return VendorItem(url, "vendor/channel/noarch/a-1.0-0.conda", md5=hashlib.md5(body).hexdigest())
    return VendorItem(url, "vendor/channel/noarch/a-1.0-0.conda", sha256=hashlib.sha256(body).hexdigest())


def vendor(tmp_path: Path, wanted: VendorItem, name: str, *, offline: bool = False) -> bytes:
    context = tmp_path / name
    vendor_item(wanted, context, Fetcher(ContextOptions(input_root=tmp_path, offline=offline)))
    return (context / wanted.dest).read_bytes()


@pytest.mark.parametrize("md5_only", [False, True])
def test_a_url_that_serves_new_bytes_is_fetched_again_for_a_lock_that_expects_them(
        served: Served, tmp_path: Path, md5_only: bool) -> None:
    first = served.body
    assert vendor(tmp_path, item(served.url, first, md5_only=md5_only), "one") == first
    served.body = b"second build\n"
    assert vendor(tmp_path, item(served.url, served.body, md5_only=md5_only), "two") == served.body
    assert served.requests == 2
    # Both stay cached, each under its own hash: neither is downloaded again.
    assert vendor(tmp_path, item(served.url, first, md5_only=md5_only), "three", offline=True) == first
    assert vendor(tmp_path, item(served.url, served.body, md5_only=md5_only), "four", offline=True) == served.body
    assert served.requests == 2


def test_a_download_that_does_not_match_is_reported_and_never_cached(served: Served, tmp_path: Path) -> None:
    expected = b"what the lock says\n"
    with pytest.raises(ResolveError) as caught:
        vendor(tmp_path, item(served.url, expected), "one")
    assert "does not match the lock's" in str(caught.value)
    assert not (tmp_path / "one" / "vendor/channel/noarch/a-1.0-0.conda").exists()
    served.body = expected  # upstream fixed: the next run reads it, not a cached bad copy
    assert vendor(tmp_path, item(served.url, expected), "two") == expected
    assert served.requests == 2


def test_a_damaged_cached_copy_is_dropped_and_fetched_again(served: Served, tmp_path: Path) -> None:
    wanted = item(served.url, served.body)
    vendor(tmp_path, wanted, "one")
    (cached,) = [p for p in (tmp_path / "cache").rglob("*") if p.is_file() and p.read_bytes() == served.body]
    cached.write_bytes(b"damaged")
    assert vendor(tmp_path, wanted, "two") == served.body
    assert served.requests == 2
    assert cached.read_bytes() == served.body
