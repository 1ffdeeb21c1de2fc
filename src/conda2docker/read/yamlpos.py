"""YAML loading that keeps the line and column of every item, for one-line errors."""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from conda2docker.errors import InputError, SourceLocation
from conda2docker.model import ReaderChange

_PY_TUPLE = re.compile(r"(:[ \t]+)!!python/tuple(?=[ \t]*(?:#|$))", re.MULTILINE)


def load_yaml(text: str, source: Path) -> tuple[Any, tuple[ReaderChange, ...]]:
    """Parse YAML text as ruamel's round-trip mode does (YAML 1.2, positions kept); errors
    become :class:`InputError`.

    A file of plain YAML (no tags, anchors or directives) whose scalars are all text, null,
    ``true``/``false`` or plain decimal numbers is composed by libyaml (C) with YAML 1.2's
    core resolution, giving what ruamel gives, positions included
    (``tests/test_yamlpos_core.py`` compares the two); anything else, or anything libyaml
    refuses, is read by ruamel (30 ms to import, pure Python), whose errors are reported.
    """
    changes: list[ReaderChange] = []
    # Old `conda env export` wrote `channels: !!python/tuple`; ruamel keeps no positions for
    # tagged sequences, so the tag is blanked out (same width, so columns stay right).
    for match in _PY_TUPLE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        column = match.end(1) - (text.rfind("\n", 0, match.start()) + 1) + 1
        changes.append(
            ReaderChange(
                action="ignored",
                subject="!!python/tuple",
                reason="YAML tag written by old `conda env export`; read as a plain list",
                location=SourceLocation(source, line, column),
            )
        )
    text = _PY_TUPLE.sub(lambda m: m.group(1) + " " * len("!!python/tuple"), text)
    plain = _check_size(text, source)
    if len(text) > ROUND_TRIP_LIMIT:
        return _load_fast(text, source), tuple(changes)
    if plain and CORE_FIRST:
        loaded = _load_core(text)
        if loaded is not _UNSURE:
            return loaded, tuple(changes)
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    yaml = YAML(typ="rt")
    try:
        return yaml.load(text), tuple(changes)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "malformed YAML"
        location = SourceLocation(source)
        if mark is not None:
            location = SourceLocation(source, mark.line + 1, mark.column + 1)
        raise InputError(
            f"invalid YAML: {_one_line(problem)}",
            fix=_yaml_fix(problem),
            location=location,
        ) from exc
    # ruamel's constructors raise plain ValueError/TypeError (e.g. `!!int x`, a bad date),
    # and deep nesting exhausts the recursion limit: all are the user's YAML, not our bug.
    except (YAMLError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise InputError(
            f"invalid YAML: {_one_line(str(exc)) or type(exc).__name__}",
            fix="check the file with a YAML linter; quote values that are not plain text",
            location=SourceLocation(source),
        ) from exc


#: The most YAML nodes an environment file may have (the largest real ones have about 2,000):
#: counted on libyaml's event stream before anything is built, so a hostile file is refused
#: in a fraction of a second instead of being parsed for minutes.
MAX_NODES = 10_000
#: Above this many characters the file is read by libyaml (C) instead of ruamel's round-trip
#: parser (pure Python, about 0.5 ms a node); positions are kept the same way.
ROUND_TRIP_LIMIT = 64 * 1024


def _check_size(text: str, source: Path) -> bool:
    """Refuse more than :data:`MAX_NODES` items (with the place); whether the stream is plain
    YAML: no tag, anchor, alias or ``%`` directive (False also when libyaml cannot parse it)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    nodes = 0
    plain = True
    try:
        for event in yaml.parse(text, Loader=loader):
            if isinstance(event, yaml.DocumentStartEvent) and (event.version or event.tags):
                plain = False
            if isinstance(event, (yaml.ScalarEvent, yaml.MappingStartEvent,
                                  yaml.SequenceStartEvent, yaml.AliasEvent)):
                if isinstance(event, yaml.AliasEvent) or event.anchor is not None or (
                        not isinstance(event, yaml.AliasEvent) and event.tag is not None):
                    plain = False
                nodes += 1
                if nodes > MAX_NODES:
                    mark = event.start_mark
                    raise InputError(
                        f"the file has more than {MAX_NODES:,} YAML items; conda2docker reads at "
                        "most that many",
                        fix="split the environment, or pass the lock it was generated from",
                        location=SourceLocation(source, mark.line + 1, mark.column + 1)
                        if mark else SourceLocation(source),
                    )
    except yaml.YAMLError:
        return False  # the full parse below reports it with its position
    return plain


#: Read plain files with libyaml first (tests turn it off to compare with ruamel).
CORE_FIRST = True


class _Unsure(Exception):
    """Something libyaml's reading might give differently from ruamel's: ruamel reads it."""


_UNSURE: Any = object()
_CORE_INT = re.compile(r"[-+]?[0-9]+")
_CORE_FLOAT = re.compile(r"[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)")
_CORE_TAGS = {
    # YAML 1.2's core schema as ruamel resolves it (tag, pattern, first characters); merge,
    # value and timestamp are resolved only to be recognised and left to ruamel.
    "bool": (r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    "float": (r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
                 |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
                 |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
                 |[-+]?\.(?:inf|Inf|INF)
                 |\.(?:nan|NaN|NAN))$""", "-+0123456789."),
    "int": (r"""^(?:[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?[0-9_]+|[-+]?0x[0-9a-fA-F_]+)$""",
            "-+0123456789"),
    "merge": (r"^(?:<<)$", "<"),
    "null": (r"^(?:~|null|Null|NULL|)$", "~nN"),
    "timestamp": (r"^[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?", "0123456789"),
    "value": (r"^(?:=)$", "="),
}


@cache
def _core_loader() -> Any:
    import yaml

    if not getattr(yaml, "__with_libyaml__", False):  # PyYAML without libyaml: ruamel reads
        return None
    from yaml import cyaml

    parser: Any = cyaml.CParser  # type: ignore[attr-defined]

    class CoreLoader(parser, yaml.resolver.BaseResolver):  # type: ignore[misc]
        def __init__(self, stream: str) -> None:
            parser.__init__(self, stream)
            yaml.resolver.BaseResolver.__init__(self)

    CoreLoader.yaml_implicit_resolvers = {}
    for name, (pattern, first) in _CORE_TAGS.items():
        CoreLoader.add_implicit_resolver(f"tag:yaml.org,2002:{name}", re.compile(pattern, re.X),
                                         [*first, ""] if name == "null" else list(first))
    return CoreLoader


def _load_core(text: str) -> Any:
    """What ruamel's round-trip reading gives for plain YAML, through libyaml; ``_UNSURE`` for
    anything this does not read exactly as ruamel does (ruamel then reads it)."""
    import yaml

    loader = _core_loader()
    if loader is None:
        return _UNSURE
    try:
        root = yaml.compose(text, Loader=loader)
        return _build_core(root) if root is not None else None
    except (_Unsure, yaml.YAMLError, ValueError, TypeError, RecursionError):
        return _UNSURE


def _build_core(node: Any) -> Any:
    import yaml

    if isinstance(node, yaml.MappingNode):
        mapping = PositionedMap()
        mapping.lc = _Positions()
        for key_node, value_node in node.value:
            key = _build_core(key_node)
            if not isinstance(key_node, yaml.ScalarNode) or key in mapping:
                raise _Unsure  # complex or duplicate keys: ruamel's own handling and messages
            mapping[key] = _build_core(value_node)
            mapping.lc.data[key] = [key_node.start_mark.line, key_node.start_mark.column,
                                    value_node.start_mark.line, value_node.start_mark.column]
        return mapping
    if isinstance(node, yaml.SequenceNode):
        sequence = PositionedList()
        sequence.lc = _Positions()
        for index, item in enumerate(node.value):
            sequence.append(_build_core(item))
            sequence.lc.data[index] = [item.start_mark.line, item.start_mark.column]
        return sequence
    tag, value = node.tag.rpartition(":")[2], node.value
    if tag == "str":
        return value
    if tag == "null" and value:
        return None  # an empty one: ruamel places it at the next token, libyaml where it is
    if tag == "bool":
        return value.lower() == "true"
    if tag == "int" and _CORE_INT.fullmatch(value):
        return int(value)  # ruamel reads 0777 as 777 in YAML 1.2, as int() does
    if tag == "float" and _CORE_FLOAT.fullmatch(value):
        return float(value)
    raise _Unsure  # 0x1F, 1_000, 1e3, .inf, dates, <<, =: as ruamel reads them


class _Positions:
    __slots__ = ("data",)

    def __init__(self) -> None:
        self.data: dict[Any, list[int]] = {}


class PositionedMap(dict[Any, Any]):
    """A mapping with ruamel's ``lc.data`` positions (``[key line, key col, value line,
    value col]``, 0-based), built from libyaml's nodes."""

    lc: _Positions


class PositionedList(list[Any]):
    """A sequence with ruamel's ``lc.data`` positions (``[line, col]`` per index)."""

    lc: _Positions


def _load_fast(text: str, source: Path) -> Any:
    import yaml

    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        root = yaml.compose(text, Loader=loader_class)
        return _build(root, loader_class(""), source) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "malformed YAML"
        raise InputError(
            f"invalid YAML: {_one_line(problem)}", fix=_yaml_fix(problem),
            location=SourceLocation(source, mark.line + 1, mark.column + 1) if mark else
            SourceLocation(source),
        ) from exc
    except (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise InputError(
            f"invalid YAML: {_one_line(str(exc)) or type(exc).__name__}",
            fix="check the file with a YAML linter; quote values that are not plain text",
            location=SourceLocation(source),
        ) from exc


def _build(node: Any, constructor: Any, source: Path) -> Any:
    import yaml

    if isinstance(node, yaml.MappingNode):
        mapping = PositionedMap()
        mapping.lc = _Positions()
        for key_node, value_node in node.value:
            key = _build(key_node, constructor, source)
            try:
                duplicate = key in mapping
            except TypeError:
                raise yaml.MarkedYAMLError(problem="found an unhashable key",
                                           problem_mark=key_node.start_mark) from None
            if duplicate:
                raise yaml.MarkedYAMLError(problem=f"found duplicate key {key!r}",
                                           problem_mark=key_node.start_mark)
            mapping[key] = _build(value_node, constructor, source)
            mapping.lc.data[key] = [key_node.start_mark.line, key_node.start_mark.column,
                                    value_node.start_mark.line, value_node.start_mark.column]
        return mapping
    if isinstance(node, yaml.SequenceNode):
        sequence = PositionedList()
        sequence.lc = _Positions()
        for index, item in enumerate(node.value):
            sequence.append(_build(item, constructor, source))
            sequence.lc.data[index] = [item.start_mark.line, item.start_mark.column]
        return sequence
    return constructor.construct_object(node, deep=True)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _yaml_fix(problem: str) -> str:
    if "duplicate key" in problem:
        return "keep one of the two keys (merge their contents)"
    if "tab" in problem:
        return "indent with spaces, not tabs"
    return "fix the YAML syntax at this position (check indentation, ':' and '-', and quotes)"


def _at(source: Path, pair: Any, fallback: SourceLocation) -> SourceLocation:
    if isinstance(pair, (list, tuple)) and len(pair) >= 2:
        line, column = pair[0], pair[1]
        if isinstance(line, int) and isinstance(column, int):
            return SourceLocation(source, line + 1, column + 1)
    return fallback


def item_location(
    seq: Sequence[Any], index: int, source: Path, fallback: SourceLocation
) -> SourceLocation:
    """Where item ``index`` of a loaded sequence starts (``fallback`` if unknown)."""
    lc = getattr(seq, "lc", None)
    data = getattr(lc, "data", None)
    return _at(source, data.get(index) if isinstance(data, dict) else None, fallback)


def key_location(
    mapping: Mapping[Any, Any], key: Any, source: Path, fallback: SourceLocation
) -> SourceLocation:
    """Where ``key`` of a loaded mapping is written."""
    lc = getattr(mapping, "lc", None)
    data = getattr(lc, "data", None)
    try:
        pair = data.get(key) if isinstance(data, dict) else None
    except TypeError:  # an unhashable key never has a position
        pair = None
    return _at(source, pair, fallback)


def value_location(
    mapping: Mapping[Any, Any], key: Any, source: Path, fallback: SourceLocation
) -> SourceLocation:
    """Where the value of ``key`` starts."""
    lc = getattr(mapping, "lc", None)
    data = getattr(lc, "data", None)
    try:
        pair = data.get(key) if isinstance(data, dict) else None
    except TypeError:
        pair = None
    if isinstance(pair, (list, tuple)) and len(pair) >= 4:
        return _at(source, pair[2:4], fallback)
    return fallback


def scalar_text(value: Any) -> str | None:
    """The text of a YAML scalar (tagged scalars included), or None for other nodes."""
    comments = sys.modules.get("ruamel.yaml.comments")  # none unless ruamel read the file
    if comments is not None and isinstance(value, comments.TaggedScalar):
        value = value.value
    if isinstance(value, str):
        return str(value)
    return None


def type_name(value: Any) -> str:
    """How a YAML user would name the type of a loaded value."""
    if value is None:
        return "empty (null)"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple, set)):
        return "a list"
    return "a " + type(value).__name__
