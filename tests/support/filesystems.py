"""A temporary folder on another filesystem than the test's output, as when /tmp is a tmpfs."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def tempdir_on_another_filesystem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``tempfile``'s folder moved to /dev/shm (a tmpfs), away from ``tmp_path``: code that
    writes a temporary file there and renames it into the output fails (EXDEV)."""
    shm = Path("/dev/shm")
    if not shm.is_dir() or shm.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("needs /dev/shm on another filesystem than the test's folder")
    elsewhere = Path(tempfile.mkdtemp(dir=shm))
    monkeypatch.setattr(tempfile, "tempdir", str(elsewhere))
    try:
        yield elsewhere
    finally:
        shutil.rmtree(elsewhere)
