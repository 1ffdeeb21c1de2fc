"""Writing generated files safely: never outside the output root, never clobber a user's file
without ``--force``.

:func:`confine` is the one function that decides where the tool may write: every path a
command writes, copies to or deletes (generated files, the build context, vendored packages,
copied sources) goes through it. It resolves symbolic links and refuses anything that lands
outside the output root.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

from conda2docker.errors import InputError, OutputConflict, SourceLocation
from conda2docker.validate import has_control, shown
from conda2docker.values import frozen


class UnsafePath(InputError):
    """A path the tool was asked to write lies (or resolves) outside its output root."""


class Unwritable(InputError):
    """The output directory cannot be written (``/proc``, read-only, not a directory)."""


def _unwritable(path: Path, exc: OSError) -> Unwritable:
    return Unwritable(f"cannot write {path}: {exc.strerror or exc}",
                      fix="choose another --output (a writable directory)",
                      location=SourceLocation(path))


@frozen
class WriteReport:
    """The generated files written, and those already up to date."""
    written: tuple[Path, ...]
    unchanged: tuple[Path, ...]


def _relative_parts(root: Path, path: Path | str) -> tuple[str, ...]:
    """The components of ``path`` below ``root``, each one checked.

    A ``str`` is relative to ``root`` (``vendor/pip/x.whl``, as a plan names context files); a
    ``Path`` is as the user sees it (absolute, or relative to the working directory) and must
    lie lexically under ``root``.
    """
    text = path if isinstance(path, str) else str(path)
    if "\\" in text or has_control(text):
        raise UnsafePath(f"refusing to write {shown(text)}: the path holds '\\' or control "
                         "characters", fix="regenerate the input; file names may not hold them",
                         location=SourceLocation(root))
    if isinstance(path, str):
        if path.startswith("/"):
            raise UnsafePath(f"refusing to write {shown(path)}: an absolute path where a path "
                             "inside the output directory belongs",
                             fix="this is a bug or a hostile input", location=SourceLocation(root))
        parts = tuple(path.split("/"))
    else:
        absolute = path.absolute()
        parts = ()
        for base in (root.absolute(), Path(os.path.realpath(root))):
            try:
                parts = absolute.relative_to(base).parts
                break
            except ValueError:
                continue
        else:
            raise UnsafePath(f"refusing to write {path}: outside the output directory {root}",
                             fix="this is a bug or a hostile input", location=SourceLocation(root))
    for part in parts:
        if part in ("", ".", ".."):
            raise UnsafePath(f"refusing to write {shown(text)}: the path component "
                             f"{shown(part)} could leave the output directory",
                             fix="regenerate the lock; file names may not be empty, '.' or '..'",
                             location=SourceLocation(root))
    if not parts:
        raise UnsafePath(f"refusing to write the output directory itself as a file: {root}",
                         location=SourceLocation(root))
    return parts


def confine(root: Path, path: Path | str) -> Path:
    """``path`` as a real path inside ``root``, symbolic links resolved; refuses with
    :class:`UnsafePath` otherwise.

    ``path`` is a ``str`` relative to ``root`` (as plans name context files) or a ``Path``
    lexically under ``root``. Every write, copy and delete of the tool goes through here. A
    symlink anywhere on the way (``OUT/vendor`` → ``/etc``) or at the end (``OUT/Dockerfile``
    → ``~/.bashrc``) that leads outside ``root`` is refused, never followed.
    """
    parts = _relative_parts(root, path)
    real_root = Path(os.path.realpath(root))
    target = Path(os.path.realpath(real_root.joinpath(*parts)))
    if target == real_root or not target.is_relative_to(real_root):
        raise UnsafePath(
            f"refusing to write {root.joinpath(*parts)}: it resolves to {target}, outside the "
            f"output directory {real_root}",
            fix="remove the symbolic link from the output directory, or choose another --output",
            location=SourceLocation(root.joinpath(*parts)),
        )
    return target


def make_dirs(root: Path, path: Path | str) -> Path:
    """``mkdir -p`` of a directory inside ``root`` (confined), returning its real path."""
    target = confine(root, path)
    if target.exists() and not target.is_dir():
        raise OutputConflict(f"{target} exists and is not a directory",
                             fix="move it away, or choose another --output",
                             location=SourceLocation(target))
    target.mkdir(parents=True, exist_ok=True)
    return confine(root, path)


def remove_tree(root: Path, path: Path | str) -> None:
    """Delete a file or directory the tool wrote inside ``root`` (confined; a symlink is
    unlinked, never followed)."""
    parts = _relative_parts(root, path)
    real_root = Path(os.path.realpath(root))
    parent = confine(root, "/".join(parts[:-1])) if len(parts) > 1 else real_root
    target = parent / parts[-1]
    if target.is_symlink():
        target.unlink()
    elif target.is_dir():
        shutil.rmtree(target)
    elif target.exists():
        target.unlink()


def _regular_bytes(path: Path) -> bytes | None:
    """The bytes of a regular file, or None when ``path`` is missing or not a regular file
    (a FIFO or device in the output is never opened: reading it could block)."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            return None
        return path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise _unwritable(path, exc) from exc


def differing(files: Mapping[Path, bytes], root: Path | None = None) -> list[Path]:
    """The paths whose content on disk is missing or differs from ``files``."""
    out = []
    for path, content in files.items():
        real = confine(root, path) if root is not None else path
        if _regular_bytes(real) == content:
            continue
        out.append(path)
    return out


def write_files(files: Mapping[Path, bytes], *, root: Path, force: bool = False) -> WriteReport:
    """Write every file (each confined to ``root``) atomically; refuse, before writing anything,
    if one exists and differs, unless ``force``."""
    targets = {path: confine(root, path) for path in files}
    conflicts = [p for p in differing(files, root) if os.path.lexists(targets[p]) and not force]
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
        target = targets[path]
        if _regular_bytes(target) == content:
            unchanged.append(path)
            continue
        try:
            if target.parent != Path(os.path.realpath(root)):
                make_dirs(root, target.parent)
            atomic_write(confine(root, path), content)
        except OSError as exc:
            raise _unwritable(path, exc) from exc
        written.append(path)
    return WriteReport(tuple(written), tuple(unchanged))


def write_output_file(path: Path, content: bytes) -> None:
    """Write a single file the user named (``-o report.md``): confined to its own folder, so a
    symlink in its place is never followed elsewhere; one line when it cannot be written."""
    absolute = path.absolute()
    target = confine(absolute.parent, absolute)
    try:
        atomic_write(target, content)
    except OSError as exc:
        raise _unwritable(path, exc) from exc


def atomic_write(path: Path, content: bytes) -> None:
    """Write ``path`` through a temporary file beside it. A file being replaced keeps its
    permission bits (``--force`` never makes a read-only file writable); a new one is 0644."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = 0o644
    try:
        existing = path.lstat()
        if stat.S_ISREG(existing.st_mode):
            mode = stat.S_IMODE(existing.st_mode)
    except FileNotFoundError:
        pass
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
