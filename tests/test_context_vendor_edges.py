"""Edges of ``--vendor``: a file already in the context with the lock's hash is reused, and only
git sources can be vendored from a version-control URL."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from conda2docker.context import ContextOptions, Fetcher, vendor_item
from conda2docker.errors import InputError
from conda2docker.plan import VendorItem

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
