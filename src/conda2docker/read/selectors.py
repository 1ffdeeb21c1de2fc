"""``# [linux]``-style line selectors, evaluated for one target platform.

conda-lock understands only one bare word per selector and silently drops every line whose
selector it cannot read. This evaluator reads conda-build's expression language (the part of
it that means something for an environment file) with three-valued logic: a selector is
true, false, or unknown. Unknown selectors keep their line and are reported.

Names (as conda-build defines them for a platform): ``linux``, ``linux32``, ``linux64``,
``osx``, ``win``, ``win32``, ``win64``, ``unix``, ``x86``, ``x86_64``, ``arm64`` (osx-arm64),
``aarch64``, ``ppc64le``, ``s390x``, …, ``target_platform``/``subdir`` (the platform string),
``py`` (e.g. ``310``), ``py2k``, ``py3k``, ``pyXY`` (e.g. ``py38``). Operators: ``and``,
``or``, ``not``, parentheses, ``== != < <= > >=`` between numbers or quoted strings.
"""

from __future__ import annotations

import re
from pathlib import Path

from conda2docker.errors import SourceLocation
from conda2docker.model import ReaderChange
from conda2docker.platforms import PlatformFacts
from conda2docker.values import frozen

_SELECTOR = re.compile(r"#\s*\[([^\[\]]+)\]\s*(?:#.*)?$")
_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+)|(?P<str>'[^']*'|\"[^\"]*\")|(?P<op>==|!=|<=|>=|<|>|\(|\))"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*))"
)
_ARCHES = ("aarch64", "arm64", "armv6l", "armv7l", "ppc64", "ppc64le", "s390x", "riscv64")
_PY_EXACT = re.compile(r"^py(\d)(\d+)\Z")

Value = bool | int | str | None
"""A selector value; None is unknown."""


class _Unparsable(Exception):
    pass


@frozen
class SelectorContext:
    """What selectors see: the platform, and the python version when the file pins it."""

    facts: PlatformFacts
    python: tuple[int, int] | None = None

    def lookup(self, name: str) -> Value:
        facts = self.facts
        table: dict[str, Value] = {
            "linux": facts.os == "linux",
            "osx": facts.os == "osx",
            "win": facts.os == "win",
            "unix": facts.os in ("linux", "osx"),
            "linux32": facts.subdir == "linux-32",
            "linux64": facts.subdir == "linux-64",
            "osx64": facts.subdir == "osx-64",
            "win32": facts.subdir == "win-32",
            "win64": facts.subdir == "win-64",
            "x86": facts.arch in ("32", "64"),
            "x86_64": facts.arch == "64",
            "target_platform": facts.subdir,
            "subdir": facts.subdir,
        }
        if name in table:
            return table[name]
        if name in _ARCHES:
            return facts.arch == name
        if name in ("py", "py2k", "py3k") or _PY_EXACT.match(name):
            return self._python(name)
        return None

    def _python(self, name: str) -> Value:
        if self.python is None:
            return None
        major, minor = self.python
        if name == "py":
            return int(f"{major}{minor}")
        if name in ("py2k", "py3k"):
            return major == int(name[2])
        found = _PY_EXACT.match(name)
        if found is None:
            return None
        return (major, minor) == (int(found.group(1)), int(found.group(2)))


def evaluate(expression: str, context: SelectorContext) -> bool | None:
    """True or False, or None when the selector cannot be decided (unknown or unparsable)."""
    try:
        tokens = _tokens(expression)
        parser = _Parser(tokens, context)
        value = parser.expression()
        if parser.position != len(tokens):
            raise _Unparsable
    except (_Unparsable, RecursionError):
        return None
    if value is None or isinstance(value, bool):
        return value
    return bool(value)


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        found = _TOKEN.match(text, position)
        if found is None or found.end() == position:
            raise _Unparsable
        kind = found.lastgroup
        assert kind is not None
        tokens.append((kind, found.group(kind)))
        position = found.end()
    return tokens


class _Parser:
    """Recursive descent over ``or`` > ``and`` > ``not`` > comparison > atom."""

    def __init__(self, tokens: list[tuple[str, str]], context: SelectorContext) -> None:
        self.tokens = tokens
        self.position = 0
        self.context = context

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _take(self) -> tuple[str, str]:
        token = self._peek()
        if token is None:
            raise _Unparsable
        self.position += 1
        return token

    def _is_word(self, word: str) -> bool:
        return self._peek() == ("name", word)

    def expression(self) -> Value:
        value = self._and()
        while self._is_word("or"):
            self._take()
            right = self._and()
            value = _or(value, right)
        return value

    def _and(self) -> Value:
        value = self._not()
        while self._is_word("and"):
            self._take()
            right = self._not()
            value = _and(value, right)
        return value

    def _not(self) -> Value:
        if self._is_word("not"):
            self._take()
            value = self._not()
            return None if value is None else not value
        return self._comparison()

    def _comparison(self) -> Value:
        left = self._atom()
        token = self._peek()
        if token is None or token[0] != "op" or token[1] in "()":
            return left
        operator = self._take()[1]
        right = self._atom()
        if left is None or right is None:
            return None
        if isinstance(left, bool) or isinstance(right, bool) or type(left) is not type(right):
            raise _Unparsable
        return {
            "==": left == right,
            "!=": left != right,
            "<": left < right,  # type: ignore[operator]
            "<=": left <= right,  # type: ignore[operator]
            ">": left > right,  # type: ignore[operator]
            ">=": left >= right,  # type: ignore[operator]
        }[operator]

    def _atom(self) -> Value:
        kind, text = self._take()
        if kind == "op" and text == "(":
            value = self.expression()
            if self._take() != ("op", ")"):
                raise _Unparsable
            return value
        if kind == "num":
            return int(text)
        if kind == "str":
            return text[1:-1]
        if kind == "name" and text not in ("and", "or", "not"):
            return self.context.lookup(text)
        raise _Unparsable


def _truth(value: Value) -> bool | None:
    return None if value is None else bool(value)


def _and(left: Value, right: Value) -> Value:
    a, b = _truth(left), _truth(right)
    if a is False or b is False:
        return False
    if a is None or b is None:
        return None
    return True


def _or(left: Value, right: Value) -> Value:
    a, b = _truth(left), _truth(right)
    if a is True or b is True:
        return True
    if a is None or b is None:
        return None
    return False


def find_selector(line: str) -> str | None:
    """The selector expression at the end of a line (``# [not win]`` gives ``not win``)."""
    if "#" not in line:
        return None
    found = _SELECTOR.search(line)
    if found is None:
        return None
    before = line[: found.start()]
    if before.count('"') % 2 or before.count("'") % 2:
        return None  # the '#' is inside a quoted string
    return found.group(1).strip()


_PYTHON_PIN = re.compile(
    r"^\s*-\s*['\"]?(?:[^\s:'\"]+::)?python\s*(?:==?|\s)\s*['\"]?(\d+)\.(\d+)(?![\d])",
)


@frozen
class Filtered:
    """An environment file with the lines its selectors exclude blanked."""
    text: str
    """The text with excluded lines blanked (line numbers unchanged)."""
    changes: tuple[ReaderChange, ...]


def apply_selectors(text: str, facts: PlatformFacts, source: Path) -> Filtered:
    """Blank out the lines (and the blocks they open) whose selector is false on ``facts``."""
    lines = text.split("\n")
    selectors = {
        number: expr
        for number, line in enumerate(lines)
        if not line.lstrip().startswith("#") and (expr := find_selector(line))
    }
    if not selectors:
        return Filtered(text, ())
    changes: list[ReaderChange] = []
    excluded: set[int] = set()
    needs_python = {n for n, expr in selectors.items() if re.search(r"\bpy\d*k?\b", expr)}
    # Python-free selectors first, so that the python pin itself may carry a selector.
    context = SelectorContext(facts)
    undecided: dict[int, str] = {}
    for number, expression in selectors.items():
        if number in needs_python:
            continue
        _decide(number, expression, context, lines, excluded, undecided)
    if needs_python:
        python = _python_pin(lines, excluded)
        context = SelectorContext(facts, python)
        for number in sorted(needs_python):
            if number not in excluded:
                _decide(number, selectors[number], context, lines, excluded, undecided)
    for number, line in enumerate(lines):
        if number in excluded and number in selectors:
            changes.append(
                ReaderChange(
                    action="dropped",
                    subject=_content(line),
                    reason=f"selector [{selectors[number]}] is false on {facts.subdir}",
                    code="S305",
                    location=SourceLocation(source, number + 1, _indent(line) + 1),
                )
            )
    for number, expression in sorted(undecided.items()):
        if number in excluded:
            continue
        line = lines[number]
        changes.append(
            ReaderChange(
                action="ignored",
                subject=_content(line),
                reason=f"selector [{expression}] cannot be evaluated for {facts.subdir}; "
                "the line is kept",
                code="R511",
                detail="known names: linux, osx, win, unix, linux64, aarch64, x86_64, arm64, "
                "py (when python is pinned), with and/or/not and comparisons",
                location=SourceLocation(source, number + 1, _indent(line) + 1),
            )
        )
    kept = ["" if number in excluded else line for number, line in enumerate(lines)]
    return Filtered("\n".join(kept), tuple(changes))


def _decide(
    number: int,
    expression: str,
    context: SelectorContext,
    lines: list[str],
    excluded: set[int],
    undecided: dict[int, str],
) -> None:
    verdict = evaluate(expression, context)
    if verdict is None:
        undecided[number] = expression
    elif not verdict:
        excluded.update(_block(lines, number))


def _block(lines: list[str], start: int) -> list[int]:
    """The line and every line nested under it (a `- pip:` item takes its list along)."""
    head = lines[start]
    indent = _indent(head)
    stripped = head.strip()
    is_item = stripped.startswith("-")
    block = [start]
    for number in range(start + 1, len(lines)):
        line = lines[number]
        content = line.strip()
        if not content or content.startswith("#"):
            continue
        deeper = _indent(line) > indent
        unindented_list = not is_item and _indent(line) == indent and content.startswith("-")
        if not (deeper or unindented_list):
            break
        block.append(number)
    return block


def _python_pin(lines: list[str], excluded: set[int]) -> tuple[int, int] | None:
    for number, line in enumerate(lines):
        if number in excluded:
            continue
        found = _PYTHON_PIN.match(line)
        if found:
            return int(found.group(1)), int(found.group(2))
    return None


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _content(line: str) -> str:
    text = line.strip()
    if text.startswith("- "):
        text = text[2:]
    comment = re.search(r"\s#", text)
    text = text[: comment.start()].strip() if comment else text
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]
    return text
