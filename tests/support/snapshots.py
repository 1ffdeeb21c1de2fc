"""Snapshot files for generated outputs; refresh with C2D_UPDATE_SNAPSHOTS=1."""

from __future__ import annotations

import difflib
import os
from pathlib import Path

SNAPSHOTS = Path(__file__).resolve().parents[1] / "snapshots"


def assert_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("C2D_UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    if not path.exists():  # locally as in CI: a test that writes its own expectation cannot fail
        raise AssertionError(f"snapshot {path} is missing; create it with C2D_UPDATE_SNAPSHOTS=1 "
                             "and review it")
    expected = path.read_text(encoding="utf-8")
    if expected != text:
        diff = "".join(difflib.unified_diff(
            expected.splitlines(True), text.splitlines(True), str(path), "generated"))
        raise AssertionError(f"generated output differs from {path}:\n{diff}")
