"""The URL character check, written as the complement of what a URL may hold, refuses exactly
controls, space, non-ASCII and ``"'<>\\^`{|}`` (every code point compared)."""

from __future__ import annotations

from conda2docker.validate import _UNSAFE_URL_CHAR

REFUSED_ASCII = set("\"'<>\\^`{|}")


def test_every_code_point_is_judged_as_the_rule_says() -> None:
    wrong = [code for code in range(0x110000)
             if (_UNSAFE_URL_CHAR.search(chr(code)) is not None)
             != (not 0x21 <= code <= 0x7E or chr(code) in REFUSED_ASCII)]
    assert wrong == []
