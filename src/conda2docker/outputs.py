"""Writing generated files safely: never clobber a user's file without ``--force``."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from conda2docker.errors import OutputConflict, SourceLocation


@dataclass(frozen=True, slots=True)
class WriteReport:
    written: tuple[Path, ...]
    unchanged: tuple[Path, ...]


def differing(files: Mapping[Path, bytes]) -> list[Path]:
    """The paths whose content on disk is missing or differs from ``files``."""
    out = []
    for path, content in files.items():
        try:
            if path.read_bytes() == content:
                continue
        except FileNotFoundError:
            pass
        out.append(path)
    return out


def write_files(files: Mapping[Path, bytes], *, force: bool = False) -> WriteReport:
    """Write every file atomically; refuse (before writing anything) if one exists and differs."""
    conflicts = [p for p in differing(files) if p.exists() and not force]
    if conflicts:
        first = conflicts[0]
        others = f" (and {len(conflicts) - 1} more)" if len(conflicts) > 1 else ""
        raise OutputConflict(
            f"exists with different content{others}; not overwritten",
            fix="pass --force to overwrite, or choose another output directory",
            location=SourceLocation(first),
        )
    written, unchanged = [], []
    for path, content in files.items():
        if path.exists() and path.read_bytes() == content:
            unchanged.append(path)
            continue
        atomic_write(path, content)
        written.append(path)
    return WriteReport(tuple(written), tuple(unchanged))


def atomic_write(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
