"""Bytes to text as Windows and Unix tools write environment files."""

from __future__ import annotations

import codecs
import os
from pathlib import Path

import pytest

from conda2docker.errors import InputError, SourceLocation
from conda2docker.read.decode import decode, read_limited, size_text

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
    """The change the report shows says exactly what was read, and points at the file."""
    decoded = decode(data, SRC)
    assert decoded.text == TEXT
    (change,) = decoded.changes
    assert (change.action, change.subject) == ("decoded", SRC.name)
    assert change.reason == f"read as {note}"
    assert change.location == SourceLocation(SRC)


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


@pytest.mark.parametrize("text", ["a\n", "name: x\n" * 60], ids=["two-characters", "longer-than-the-sample"])
@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_bom_is_recognised_from_two_characters_to_any_length(text: str, codec: str) -> None:
    """The guess needs two code units, and reads a long file (over the 400 bytes it looks at)
    as well as a short one."""
    decoded = decode(text.encode(codec), SRC)
    assert decoded.text == text
    (change,) = decoded.changes
    assert change.reason == f"read as UTF-16 {codec[-2:].upper()} without byte-order mark"


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_bom_tolerates_one_character_in_ten_outside_latin1(codec: str) -> None:
    """A comment in Chinese: U+4E00 (一) has a NUL where ASCII has its letter and a letter where
    ASCII has its NUL. One such character in ten still reads as UTF-16, not as bytes of UTF-8."""
    text = "# 一 numpy\n"
    assert len(text) == 10
    decoded = decode(text.encode(codec), SRC)
    assert decoded.text == text
    assert decoded.changes[0].reason == f"read as UTF-16 {codec[-2:].upper()} without byte-order mark"


@pytest.mark.parametrize("length", [21, 1001])
def test_a_utf16_file_cut_off_after_an_odd_byte_is_refused_as_truncated_at_any_length(length: int) -> None:
    """A file copied short by one byte is reported as broken UTF-16, short or long, never read
    as UTF-8 text full of NUL characters."""
    data = ("dependencies: [numpy]\n" * 50).encode("utf-16-le")[:length]
    with pytest.raises(InputError, match="not valid UTF-16-LE text"):
        decode(data, SRC)


@pytest.mark.parametrize("data", [
    b"name: demos\x00\ndependencies:\n  - numpy\n",  # one stray NUL, at an odd offset
    b"name: demo\x00\ndependencies:\n  - numpy\n",  # and at an even one
    b"\x00" * 64,  # a file of zeros, as a crash leaves one
], ids=["stray-nul-odd", "stray-nul-even", "zeros"])
def test_nul_bytes_alone_do_not_make_a_file_utf16(data: bytes) -> None:
    """UTF-16 is guessed from NULs in every other byte and letters in the rest: a stray NUL in
    UTF-8 text, or a file of zeros, is read as the bytes it holds (the YAML reader then names
    the NUL's place), never with a note that it was UTF-16."""
    decoded = decode(data, SRC)
    assert decoded.text == data.decode()
    assert decoded.changes == ()


# ------------------------------------------------ reading a file within its size limit


def _refusal(path: Path, limit: int) -> str:
    with pytest.raises(InputError) as caught:
        read_limited(path, limit=limit, what="lock file")
    return caught.value.message


def test_a_file_of_exactly_its_limit_is_read_whole_and_one_byte_more_is_refused(tmp_path: Path) -> None:
    """The limit is the largest size read: a file of exactly that many bytes (here more than
    one read's worth) comes back byte for byte; one byte more is refused before reading."""
    limit = (1 << 20) + 5
    data = bytes(range(256)) * (limit // 256) + b"x" * (limit % 256)
    exact = tmp_path / "exact.yml"
    exact.write_bytes(data)
    assert read_limited(exact, limit=limit, what="lock file") == data
    over = tmp_path / "over.yml"
    over.write_bytes(data + b"y")
    assert _refusal(over, limit) == f"lock file {over} is larger than the {limit} bytes limit"


def test_a_file_that_says_it_is_empty_is_still_held_to_its_limit() -> None:
    """Files under /proc report size 0 and hold more: the limit is kept while reading (as for a
    file that grows after it was checked), and such a file within its limit is read whole."""
    maps = Path("/proc/self/maps")
    if not maps.is_file() or maps.stat().st_size != 0:
        pytest.skip("needs Linux's /proc, whose files report size 0")
    assert _refusal(maps, 16) == f"lock file {maps} is larger than the 16 bytes limit"
    # smaps comes a page (about 4 KB) per read, 20 or more of them: the limit holds for the sum
    smaps = Path("/proc/self/smaps")
    if smaps.is_file():
        assert _refusal(smaps, 16 << 10) == f"lock file {smaps} is larger than the 16 KB limit"
    status = read_limited(Path("/proc/self/status"), limit=1 << 20, what="file")
    assert status.startswith(b"Name:") and b"\nPid:" in status


@pytest.mark.parametrize(("size", "text"), [
    (64 << 20, "64 MB"), (10 << 20, "10 MB"), (1 << 20, "1 MB"), (64 << 10, "64 KB"),
    (1 << 10, "1 KB"), ((1 << 20) + (1 << 10), "1025 KB"), ((1 << 20) + 5, "1048581 bytes"),
    (1023, "1023 bytes"), (0, "0 bytes"),
])
def test_a_size_limit_is_named_in_the_largest_whole_unit(size: int, text: str) -> None:
    """A 64 KB limit is said as such, never rounded down to "0 MB"."""
    assert size_text(size) == text


@pytest.mark.never_blocks
def test_a_terminal_given_as_an_input_never_becomes_the_controlling_terminal(tmp_path: Path) -> None:
    """A terminal device passed as a file is refused; opening it to find out must not make it
    the controlling terminal of a process that has none (a service, a CI runner), which then
    gets the terminal's hangups and signals. Checked in a child started in a session of its
    own, with no controlling terminal."""
    master, slave = os.openpty()
    name = Path(os.ttyname(slave))
    os.close(slave)
    with pytest.raises(InputError, match="not a regular file"):
        read_limited(name, limit=1 << 20, what="file")  # here too: mutmut maps no call made in a child
    pid = os.fork()
    if pid == 0:  # the child: report through the exit status only
        code = 3
        try:
            os.setsid()
            try:
                read_limited(name, limit=1 << 20, what="file")
                code = 2  # read as a file: wrong
            except InputError as exc:
                code = 4 if "not a regular file" not in exc.message else 0
            try:
                os.close(os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY))
                code = code or 1  # the terminal became the child's controlling terminal
            except OSError:
                pass
        finally:
            os._exit(code)
    try:
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(master)
    assert os.waitstatus_to_exitcode(status) == 0
