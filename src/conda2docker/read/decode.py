"""Bytes to text: BOMs, UTF-16/32 and CRLF line endings, as Windows tools write them."""

from __future__ import annotations

import codecs
import os
import stat
from pathlib import Path

from conda2docker.errors import InputError, SourceLocation
from conda2docker.model import ReaderChange
from conda2docker.values import frozen

_BOMS = (
    # UTF-32 first: its little-endian BOM starts with UTF-16's.
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32 LE"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32 BE"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16 LE"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16 BE"),
)


#: The largest input of each kind the tool reads (a clear error above: no hang, no memory blow-up).
MAX_ENV_FILE = 10 * 1024 * 1024
MAX_REQUIREMENTS_FILE = 10 * 1024 * 1024
MAX_LOCK_FILE = 64 * 1024 * 1024
#: How deep ``-r``/``-c`` files may include one another.
MAX_INCLUDE_DEPTH = 32


def read_limited(path: Path, *, limit: int, what: str,
                 location: SourceLocation | None = None) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes.

    Only regular files are read: a FIFO, socket or device (``/dev/zero``, a named pipe) is
    refused with one line instead of blocking or reading forever. The file is opened without
    blocking and checked on the open descriptor, so a swap between check and read cannot slip
    a FIFO in. Errors are :class:`InputError` located at ``location`` (default: the file).
    """
    where = location or SourceLocation(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError as exc:
        raise InputError(f"{what} {path} does not exist", fix="check the path",
                         location=where) from exc
    except IsADirectoryError as exc:
        raise InputError(f"{what} {path} is a folder", fix="pass the file itself",
                         location=where) from exc
    except OSError as exc:
        raise InputError(f"cannot read {what} {path}: {exc.strerror or exc}",
                         fix="check the path and the file's permissions", location=where) from exc
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise InputError(f"{what} {path} is a folder", fix="pass the file itself",
                             location=where)
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"{what} {path} is not a regular file (a pipe, socket or device)",
                             fix="save the content to a file and pass that", location=where)
        if info.st_size > limit:
            raise too_large(what, path, limit, where)
        chunks: list[bytes] = []
        size = 0
        while True:  # to the end: a file can grow after fstat, and /proc files say size 0
            try:
                chunk = os.read(fd, 1 << 20)
            except OSError as exc:
                raise InputError(f"cannot read {what} {path}: {exc.strerror or exc}",
                                 fix="check the file", location=where) from exc
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > limit:
                raise too_large(what, path, limit, where)
            chunks.append(chunk)
    finally:
        os.close(fd)


def read_text(path: Path, *, limit: int = MAX_REQUIREMENTS_FILE, what: str = "file") -> str:
    """A small text file of a repository or input, as the reader reads one: a regular file
    within ``limit``, BOM-aware, CRLF folded; anything else is one :class:`InputError`."""
    return decode(read_limited(path, limit=limit, what=what), path).text


def too_large(what: str, path: Path, limit: int, where: SourceLocation) -> InputError:
    """The one message for an input over its size limit."""
    return InputError(f"{what} {path} is larger than the {size_text(limit)} limit",
                      fix="split it, or pass the file it was generated from", location=where)


def size_text(size: int) -> str:
    """``64 MB``, ``64 KB`` (units of 1024) when the size is a whole number of them, else bytes."""
    for unit, scale in (("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} bytes"


@frozen
class Decoded:
    """An input file's bytes as text, and what decoding changed."""
    text: str
    """The file's text with ``\\n`` line endings and no BOM."""
    changes: tuple[ReaderChange, ...] = ()


def decode(data: bytes, source: Path) -> Decoded:
    """Decode a text file the way a user expects: BOM-aware, UTF-8 otherwise."""
    notes: list[str] = []
    codec = "utf-8"
    body = data
    for bom, name, label in _BOMS:
        if data.startswith(bom):
            codec, body = name, data[len(bom) :]
            notes.append(f"{label} with byte-order mark")
            break
    else:
        guessed = _bomless_utf16(data)
        if guessed is not None:
            codec, label = guessed
            notes.append(f"{label} without byte-order mark")
    try:
        text = body.decode(codec)
    except UnicodeDecodeError as exc:
        raise _not_text(body, exc, codec, source) from exc
    if "\r" in text:
        notes.append("CRLF line endings" if "\r\n" in text else "CR line endings")
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    changes: tuple[ReaderChange, ...] = ()
    if notes:
        changes = (
            ReaderChange(
                action="decoded",
                subject=source.name,
                reason="read as " + ", ".join(notes),
                location=SourceLocation(source),
            ),
        )
    return Decoded(text, changes)


def _bomless_utf16(data: bytes) -> tuple[str, str] | None:
    """UTF-16 without a BOM: ASCII-heavy text has a NUL in every other byte. A file cut off
    after an odd byte is recognised too (and then refused as truncated UTF-16)."""
    sample = data[:400]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    half = len(odd)
    if odd.count(0) >= 0.9 * half and even.count(0) <= 0.1 * half:
        return "utf-16-le", "UTF-16 LE"
    if even.count(0) >= 0.9 * half and odd.count(0) <= 0.1 * half:
        return "utf-16-be", "UTF-16 BE"
    return None


def _not_text(body: bytes, exc: UnicodeDecodeError, codec: str, source: Path) -> InputError:
    before = body[: exc.start].decode(codec, "replace")
    line = before.count("\n") + 1
    column = len(before) - (before.rfind("\n") + 1) + 1
    byte = body[exc.start : exc.start + 1].hex()
    return InputError(
        f"file is not valid {codec.upper()} text (byte 0x{byte})",
        fix="save the file as UTF-8 (most editors: 'Save with encoding')",
        location=SourceLocation(source, line, column),
    )
