"""A tiny deterministic YAML writer for generated files: every string double-quoted and
escaped, keys in the order given, two-space indentation. No library round trip, so the
bytes depend on the data only."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

Value = str | int | bool | Sequence["Value"] | Mapping[str, "Value"]

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r", "\0": "\\0"}


def quoted(text: str) -> str:
    """A YAML double-quoted scalar holding exactly ``text`` (printable ASCII kept, the rest
    escaped), so no value can end its line, start a new key or be read as another type."""
    out = []
    for char in text:
        code = ord(char)
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif 0x20 <= code < 0x7F:
            out.append(char)
        elif code <= 0xFF:
            out.append(f"\\x{code:02x}")
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


_KEY_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


def _key(key: str) -> str:
    return key if key and set(key) <= _KEY_SAFE and key[0] not in "-." else quoted(key)


def _scalar(value: str | int | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return quoted(value)


def _lines(value: Value, indent: int) -> list[str]:
    pad = "  " * indent
    if isinstance(value, Mapping):
        out: list[str] = []
        for key, item in value.items():
            if isinstance(item, (Mapping, list, tuple)) and item:
                out.append(f"{pad}{_key(key)}:")
                out += _lines(item, indent + 1)
            else:
                out.append(f"{pad}{_key(key)}: {_inline(item)}")
        return out
    if isinstance(value, (list, tuple)):
        out = []
        for item in value:
            if isinstance(item, Mapping) and item:
                nested = _lines(item, indent + 1)
                out.append(f"{pad}- {nested[0].lstrip()}")
                out += nested[1:]
            else:
                out.append(f"{pad}- {_inline(item)}")
        return out
    return [pad + _scalar(value)]  # type: ignore[arg-type]


def _inline(value: Value) -> str:
    if isinstance(value, Mapping):
        return "{}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_inline(v) for v in value) + "]"
    return _scalar(value)  # type: ignore[arg-type]


def dump(document: Mapping[str, Value], comments: Sequence[str] = ()) -> str:
    """The YAML text; each comment stays one ``#`` line (line breaks and control characters
    in it become spaces, so no comment can start a key)."""
    from conda2docker.validate import comment_text

    head = [f"# {comment_text(line)}".rstrip() for line in comments]
    return "\n".join([*head, *_lines(document, 0)]) + "\n"
