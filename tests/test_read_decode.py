"""Bytes to text as Windows and Unix tools write environment files."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from conda2docker.errors import InputError
from conda2docker.read.decode import decode

SRC = Path("env.yml")
TEXT = "name: é\ndependencies:\n  - numpy  # ✓\n"


@pytest.mark.parametrize(
    ("data", "note"),
    [
        (codecs.BOM_UTF8 + TEXT.encode(), "UTF-8 with byte-order mark"),
        (codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"), "UTF-16 LE with byte-order mark"),
        (codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), "UTF-16 BE with byte-order mark"),
        (codecs.BOM_UTF32_LE + TEXT.encode("utf-32-le"), "UTF-32 LE with byte-order mark"),
        (TEXT.encode("utf-16-le"), "UTF-16 LE without byte-order mark"),
        (TEXT.encode("utf-16-be"), "UTF-16 BE without byte-order mark"),
        (TEXT.replace("\n", "\r\n").encode(), "CRLF line endings"),
        (TEXT.replace("\n", "\r").encode(), "CR line endings"),
    ],
)
def test_encodings_decode_to_the_same_text_with_a_change(data: bytes, note: str) -> None:
    decoded = decode(data, SRC)
    assert decoded.text == TEXT
    (change,) = decoded.changes
    assert change.action == "decoded"
    assert note in change.reason


def test_utf16_with_bom_and_crlf_names_both() -> None:
    data = codecs.BOM_UTF16_LE + TEXT.replace("\n", "\r\n").encode("utf-16-le")
    (change,) = decode(data, SRC).changes
    assert change.reason == "read as UTF-16 LE with byte-order mark, CRLF line endings"


def test_plain_utf8_has_no_change() -> None:
    decoded = decode(TEXT.encode(), SRC)
    assert (decoded.text, decoded.changes) == (TEXT, ())


def test_invalid_utf8_names_the_line_and_column() -> None:
    data = b"name: x\ndependencies:\n  - caf\xe9\n"
    with pytest.raises(InputError) as caught:
        decode(data, SRC)
    error = caught.value
    assert error.location is not None
    assert (error.location.line, error.location.column) == (3, 8)
    assert "0xe9" in error.message
    assert error.fix is not None and "UTF-8" in error.fix


def test_truncated_utf16_is_an_input_error() -> None:
    with pytest.raises(InputError, match="UTF-16"):
        decode(codecs.BOM_UTF16_LE + "ab".encode("utf-16-le") + b"\x00", SRC)
