"""Bytes to text: BOMs, UTF-16/32 and CRLF line endings, as Windows tools write them."""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path

from conda2docker.errors import InputError, SourceLocation
from conda2docker.model import ReaderChange

_BOMS = (
    # UTF-32 first: its little-endian BOM starts with UTF-16's.
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32 LE"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32 BE"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16 LE"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16 BE"),
)


@dataclass(frozen=True, slots=True)
class Decoded:
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
    """UTF-16 without a BOM: ASCII-heavy text has a NUL in every other byte."""
    sample = data[:400]
    if len(sample) < 4 or len(sample) % 2:
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
