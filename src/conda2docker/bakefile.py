"""Reading a ``docker-bake.hcl`` (BuildKit's bake file) as untrusted input: HCL parsed by
python-hcl2, checked against the attributes bake documents, every value validated.

A bake file tells ``docker buildx bake`` what to build, and much of what it may say reaches
the host: ``output`` may write files, ``secret`` and ``ssh`` hand over credentials, ``contexts``
and ``context`` read any directory, ``cache-to`` with ``type=local`` writes anywhere,
``entitlements`` and ``network = "host"`` lift the sandbox. The file may have been edited by
hand or come with a repository, so before anything runs it is read here, and only what stays
inside the output directory ``OUT`` and the registries is accepted; everything else is one
``file:line:col: what; fix: how`` problem, all of them at once.

What is read (bake's documented HCL, docs/bake-reference.md of docker/buildx): ``target``,
``group`` and ``variable`` blocks and top-level attributes (variables); values that are
literals (strings, numbers, booleans, null, lists, maps), heredocs, and ``${NAME}``
interpolations of variables (a variable's default is overridden by the environment variable of
the same name, as bake does). Functions, conditionals, references to other blocks, ``matrix``
and ``function`` blocks are refused: their values cannot be checked without evaluating bake's
whole language. ``inherits`` is resolved as bake does (the parents in order, then the target).

The job that builds (``engine/bake.py``) takes the typed :class:`BakeFile`; this module touches
neither the engine nor the network. python-hcl2 is imported only when a bake file is read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from conda2docker.errors import InputError, InputErrors, Problems, SourceLocation
from conda2docker.validate import UnsafeValue, check_image_reference, check_text, has_control, shown
from conda2docker.values import frozen

MAX_BAKE_FILE = 1 << 20
"""Bytes a bake file may have (a lab's file of hundreds of targets is tens of kilobytes)."""
MAX_NESTING = 64
"""How deep brackets may nest (bake's attributes are at most a list of maps, three deep); the
tree is walked recursively, so deeper input is refused before it is parsed."""

#: Every attribute bake documents for a target (docs/bake-reference.md, "Target"), plus
#: ``network``, which bake's Target reads (bake/bake.go) and its ``--set`` documents.
TARGET_ATTRIBUTES = frozenset({
    "args", "annotations", "attest", "cache-from", "cache-to", "call", "context", "contexts",
    "description", "dockerfile-inline", "dockerfile", "entitlements", "extra-hosts", "inherits",
    "labels", "matrix", "name", "network", "no-cache-filter", "no-cache", "output", "policy",
    "platforms", "pull", "resources", "secret", "shm-size", "ssh", "tags", "target", "ulimits",
})
GROUP_ATTRIBUTES = frozenset({"targets", "description"})
VARIABLE_ATTRIBUTES = frozenset({"default", "description", "type", "validation"})
BLOCK_TYPES = ("target", "group", "variable", "function")

#: Target attributes refused, with why and what to do instead.
REFUSED: dict[str, tuple[str, str]] = {
    "secret": ("hands host files or variables to the build", "remove it: conda2docker's Dockerfiles "
               "take credentials as build args (`build --build-arg NAME`)"),
    "ssh": ("forwards the host's SSH agent or keys into the build", "remove it"),
    "entitlements": ("lifts the build's sandbox (network.host, security.insecure)", "remove it"),
    "contexts": ("adds build contexts that may read any host directory", "remove it: the "
                 "context of a conda2docker target is its own directory under OUT"),
    "dockerfile-inline": ("replaces the Dockerfile written beside the lock", "remove it and edit "
                          "the target's Dockerfile instead"),
    "call": ("runs a frontend method (check, outline) instead of a build", "remove it; run "
             "`docker buildx bake --call check` yourself"),
    "matrix": ("forks targets from values that are only known once bake evaluates them",
               "write one target per environment and variant"),
    "name": ("names the targets of a matrix", "write one target per environment and variant"),
}
#: Attributes accepted and passed to buildx, which the Engine API fallback cannot honour.
BUILDX_ONLY = ("cache-from", "cache-to", "output", "attest", "annotations", "shm-size", "ulimits",
               "extra-hosts", "no-cache-filter", "resources", "policy")
#: ``output`` types that write nothing on the host (``local``, ``tar``, ``oci`` and any
#: ``dest=`` write files there and are refused).
OUTPUT_TYPES = frozenset({"image", "registry", "docker", "cacheonly"})

CACHE_TYPES = frozenset({"registry", "local", "inline", "gha", "s3", "azblob"})
NETWORKS = frozenset({"default", "none"})
TARGET_NAME = re.compile(r"^[A-Za-z0-9_-]+\Z")
"""bake's own rule for target and group names (``validateTargetName``)."""
_ARG_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")
_STAGE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\Z")
_PLATFORM = re.compile(r"^[a-z0-9]+/[a-z0-9_]+(?:/[a-z0-9]+)?\Z")
_URL_LIKE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://|^git@|^[A-Za-z]+:(?!/)")
_ESCAPE = re.compile(r"\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)", re.S)
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


@frozen
class BakeTarget:
    """One ``target`` block, inherited attributes applied, every value checked."""

    name: str
    location: SourceLocation
    context: str = "."
    """Relative to OUT (bake resolves it from its working directory, which is OUT)."""
    dockerfile: str = "Dockerfile"
    """Relative to the context."""
    tags: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    args: Mapping[str, str] = field(default_factory=dict)
    platforms: tuple[str, ...] = ()
    cache_from: tuple[str, ...] = ()
    cache_to: tuple[str, ...] = ()
    target: str | None = None
    no_cache: bool = False
    pull: bool = False
    network: str | None = None
    description: str = ""
    buildx_only: tuple[str, ...] = ()
    """Attributes it sets that only buildx honours (the Engine API fallback ignores them)."""
    places: Mapping[str, SourceLocation] = field(default_factory=dict)
    """Where each attribute was written (for messages about its value)."""


@frozen
class BakeFile:
    """A docker-bake.hcl as read: its targets and groups."""
    path: Path
    targets: Mapping[str, BakeTarget]
    groups: Mapping[str, tuple[str, ...]]

    def selected(self, names: Sequence[str] = ()) -> tuple[BakeTarget, ...]:
        """The targets bake builds for ``names`` (groups expanded, each once, in order);
        without names, the ``default`` group, else the ``default`` target — as bake."""
        wanted = list(names) or ["default"]
        chosen: list[str] = []

        def expand(name: str, seen: tuple[str, ...]) -> None:
            if name in self.groups and name not in seen:
                for member in self.groups[name]:
                    expand(member, (*seen, name))
            elif name in self.targets:
                if name not in chosen:
                    chosen.append(name)
            elif name not in self.groups:
                known = ", ".join([*self.groups, *self.targets]) or "none"
                raise InputError(f"no target or group {name!r} in {self.path.name}",
                                 fix=f"name one of: {known}", location=SourceLocation(self.path))

        for name in wanted:
            expand(name, ())
        return tuple(self.targets[n] for n in chosen)


class _Problems(Problems):
    """Problems of one bake file, each reported once (an inherited attribute's value is
    checked in every target that inherits it, but its place is one)."""

    def add(self, error: InputError) -> None:
        seen = {p.one_line() for p in self.found}
        for problem in error.problems if isinstance(error, InputErrors) else (error,):
            if problem.one_line() not in seen:
                super().add(problem)
                seen.add(problem.one_line())


class _Unsupported(Exception):
    def __init__(self, what: str, node: Any) -> None:
        super().__init__(what)
        self.what = what
        self.node = node


def _position(node: Any) -> tuple[int | None, int | None]:
    line = getattr(node, "line", None)
    if line is not None:
        return line, getattr(node, "column", None)
    meta = getattr(node, "meta", None)
    if meta is not None and not getattr(meta, "empty", True):
        return meta.line, meta.column
    for child in getattr(node, "children", ()):
        found = _position(child)
        if found[0] is not None:
            return found
    return None, None


def _kind(node: Any) -> str:
    return str(getattr(node, "data", getattr(node, "type", "")))


def _trees(node: Any) -> list[Any]:
    """The children that are rules (tokens and comments left out)."""
    return [c for c in node.children if hasattr(c, "data") and c.data != "new_line_or_comment"]


def _unescape(text: str) -> str:
    def one(match: re.Match[str]) -> str:
        code = match[1]
        if code[0] in "uU" and len(code) > 1:
            return chr(int(code[1:], 16))
        return _SIMPLE_ESCAPES.get(code, "\\" + code)

    return _ESCAPE.sub(one, text)


def _name_of(node: Any) -> str:
    """An identifier, keyword or literal used as a name (attribute or block type)."""
    token = node.children[0]
    return str(token)


class _Evaluator:
    """Literal values and ``${VARIABLE}`` interpolation; anything else is unsupported."""

    def __init__(self, variables: Mapping[str, Any], environ: Mapping[str, str]) -> None:
        self.raw = variables
        self.environ = environ
        self.values: dict[str, Any] = {}
        self.stack: list[str] = []

    def variable(self, name: str, node: Any) -> Any:
        if name in self.values:
            return self.values[name]
        if name not in self.raw:
            raise _Unsupported(f"unknown variable {name!r}", node)
        if name in self.environ:  # bake: the environment overrides a variable's default
            value: Any = self.environ[name]
        else:
            if name in self.stack:
                raise _Unsupported(f"variable {name!r} refers to itself", node)
            self.stack.append(name)
            try:
                default = self.raw[name]
                value = None if default is None else self.value(default)
            finally:
                self.stack.pop()
        self.values[name] = value
        return value

    def value(self, node: Any) -> Any:
        kind = _kind(node)
        if kind == "expr_term":
            inner = _trees(node)
            if len(inner) != 1:
                raise _Unsupported("an expression", node)
            return self.value(inner[0])
        if kind == "string":
            return self.string(node)
        if kind == "int_lit":
            return int(str(node.children[0]))
        if kind == "float_lit":
            return float(str(node.children[0]))
        if kind == "literal_value":
            return {"true": True, "false": False, "null": None}[str(node.children[0])]
        if kind == "tuple":
            return [self.value(item) for item in _trees(node)]
        if kind == "object":
            result: dict[str, Any] = {}
            for element in _trees(node):
                key_node, value_node = _trees(element)
                result[self.key(key_node)] = self.value(value_node)
            return result
        if kind in ("heredoc_template", "heredoc_template_trim"):
            return self.heredoc(node, trim=kind.endswith("trim"))
        if kind == "identifier":
            return self.variable(str(node.children[0]), node)
        described = {"function_call": "a function call", "conditional": "a conditional",
                     "binary_op": "an operator", "unary_op": "an operator",
                     "get_attr_expr_term": "a reference to another block's attribute",
                     "index_expr_term": "an index", "for_tuple_expr": "a for expression",
                     "for_object_expr": "a for expression"}.get(kind, f"a {kind.replace('_', ' ')}")
        raise _Unsupported(described, node)

    def key(self, node: Any) -> str:
        """An object key: a bare name is the name itself (``FOO = "x"``), a string is its text."""
        inner = _trees(node)
        target = inner[0] if inner else node
        while _kind(target) == "expr_term" and len(_trees(target)) == 1:
            target = _trees(target)[0]
        if _kind(target) in ("identifier", "keyword"):
            return str(target.children[0])
        value = self.value(target)
        if not isinstance(value, str):
            raise _Unsupported("a key that is not a string", node)
        return value

    def string(self, node: Any) -> str:
        pieces: list[str] = []
        for part in node.children:
            if _kind(part) != "string_part":
                continue  # the quotes
            (inner,) = part.children
            kind = _kind(inner)
            if kind == "STRING_CHARS":
                pieces.append(_unescape(str(inner)))
            elif kind == "ESCAPED_INTERPOLATION":
                pieces.append(str(inner)[1:])  # $${X} is the text ${X}
            elif kind == "ESCAPED_DIRECTIVE":
                pieces.append(str(inner)[1:])
            elif kind == "interpolation":
                expression = _trees(inner)[0]
                value = self.value(expression)
                if isinstance(value, (list, dict)):
                    raise _Unsupported("a list or map inside a string", inner)
                pieces.append("" if value is None else _scalar_text(value))
            else:
                raise _Unsupported("a template directive (%{ … })", inner)
        return "".join(pieces)

    def heredoc(self, node: Any, *, trim: bool) -> str:
        text = str(node.children[0])
        body = text.split("\n", 1)[1] if "\n" in text else ""
        body = body.rstrip("\n").rsplit("\n", 1)[0] + "\n" if "\n" in body.rstrip("\n") else ""
        if "${" in body.replace("$${", "") or "%{" in body.replace("%%{", ""):
            raise _Unsupported("an interpolation inside a heredoc", node)
        lines = body.splitlines(keepends=True)
        if trim and lines:
            indent = min((len(x) - len(x.lstrip(" \t")) for x in lines if x.strip()), default=0)
            lines = [x[indent:] for x in lines]
        return "".join(lines).replace("$${", "${").replace("%%{", "%{")


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass
class _Block:
    """One block of a bake file, with where it starts."""
    kind: str
    label: str
    location: SourceLocation
    attributes: dict[str, tuple[Any, SourceLocation]]


def _nesting(text: str) -> int:
    """The deepest nesting of ``[``, ``{`` and ``(`` (an over-estimate: brackets inside
    strings count too, which only matters for absurd files)."""
    depth = deepest = 0
    for char in text:
        if char in "[{(":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]})":
            depth = max(0, depth - 1)
    return deepest


def _parse_tree(path: Path, text: str) -> Any:
    import hcl2
    from lark.exceptions import LarkError, UnexpectedInput

    try:
        return hcl2.parses_to_tree(text)
    except UnexpectedInput as exc:
        line, column = getattr(exc, "line", None), getattr(exc, "column", None)
        where = SourceLocation(path, line if line and line > 0 else None,
                               column if column and column > 0 else None)
        found = getattr(exc, "token", None) or getattr(exc, "char", None)
        detail = f" near {shown(str(found), 20)}" if found else ""
        raise InputError(f"not valid HCL{detail}", fix="fix the syntax (bake's file is HCL: "
                         "blocks `target \"name\" { … }`, attributes `key = value`)",
                         location=where) from exc
    except (LarkError, RecursionError, ValueError) as exc:
        raise InputError(f"not valid HCL: {str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__}",
                         fix="fix the syntax", location=SourceLocation(path)) from exc


def _blocks(path: Path, tree: Any, problems: Problems) -> tuple[list[_Block], dict[str, tuple[Any, SourceLocation]]]:
    """The top-level blocks and top-level attributes (variables) of the file."""
    blocks: list[_Block] = []
    top: dict[str, tuple[Any, SourceLocation]] = {}
    (body,) = _trees(tree)
    for item in _trees(body):
        line, column = _position(item)
        where = SourceLocation(path, line, column)
        if item.data == "attribute":
            name_node, value_node = _trees(item)[0], _trees(item)[-1]
            top[_name_of(name_node)] = (value_node, where)
            continue
        parts = _trees(item)
        kind = _name_of(parts[0])
        labels = [p for p in parts[1:] if p.data in ("string", "identifier")]
        inner = next(p for p in parts if p.data == "body")
        if kind not in BLOCK_TYPES:
            problems.add(InputError(f"unknown block {kind!r}",
                                    fix=f"bake's blocks are {', '.join(BLOCK_TYPES)}", location=where))
            continue
        if len(labels) != 1:
            problems.add(InputError(f"a {kind} block takes one name", fix=f'write {kind} "name" {{ … }}',
                                    location=where))
            continue
        label_node = labels[0]
        label = (_name_of(label_node) if label_node.data == "identifier"
                 else "".join(str(p.children[0]) for p in label_node.children if _kind(p) == "string_part"))
        attributes: dict[str, tuple[Any, SourceLocation]] = {}
        for entry in _trees(inner):
            entry_line, entry_column = _position(entry)
            entry_where = SourceLocation(path, entry_line, entry_column)
            if entry.data != "attribute":
                problems.add(InputError(f"a nested block in {kind} {label!r}",
                                        fix="bake's targets and groups hold attributes only",
                                        location=entry_where))
                continue
            name = _name_of(_trees(entry)[0])
            if name in attributes:
                problems.add(InputError(f"attribute {name!r} set twice in {kind} {label!r}",
                                        fix="keep one", location=entry_where))
            attributes[name] = (_trees(entry)[-1], entry_where)
        blocks.append(_Block(kind, label, where, attributes))
    return blocks, top


def read_bake_file(path: Path, environ: Mapping[str, str] | None = None) -> BakeFile:
    """Parse and check the bake file at ``path``; every problem at once as :class:`InputErrors`.

    ``environ`` overrides variables as the environment does for bake (default: none)."""
    from conda2docker.read.decode import read_limited

    raw = read_limited(path, limit=MAX_BAKE_FILE, what="bake file")
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise InputError("the bake file is not UTF-8", fix="save it as UTF-8",
                         location=SourceLocation(path)) from exc
    if "\x00" in text:
        raise InputError("the bake file holds a NUL byte", fix="save it as text",
                         location=SourceLocation(path))
    depth = _nesting(text)
    if depth > MAX_NESTING:
        raise InputError(f"the bake file nests brackets {depth} deep (the limit is {MAX_NESTING})",
                         fix="write flat lists and maps, as bake's attributes are",
                         location=SourceLocation(path))
    tree = _parse_tree(path, text)
    problems = _Problems()
    blocks, top = _blocks(path, tree, problems)
    variables: dict[str, Any] = {name: node for name, (node, _) in top.items()}
    for block in blocks:
        if block.kind == "variable":
            for name in block.attributes:
                if name not in VARIABLE_ATTRIBUTES:
                    problems.add(InputError(f"unknown attribute {name!r} of variable {block.label!r}",
                                            fix=f"a variable holds {', '.join(sorted(VARIABLE_ATTRIBUTES))}",
                                            location=block.attributes[name][1]))
            if "validation" in block.attributes:
                problems.add(InputError(f"variable {block.label!r} has a validation rule",
                                        fix="remove it (its conditions cannot be checked here)",
                                        location=block.attributes["validation"][1]))
            default = block.attributes.get("default")
            variables[block.label] = default[0] if default else None
        elif block.kind == "function":
            problems.add(InputError(f"user-defined function {block.label!r}",
                                    fix="write the values literally (functions are not evaluated here)",
                                    location=block.location))
    evaluator = _Evaluator(variables, dict(environ or {}))

    def evaluate(node: Any, where: SourceLocation) -> tuple[bool, Any]:
        try:
            return True, evaluator.value(node)
        except _Unsupported as exc:
            line, column = _position(exc.node)
            problems.add(InputError(
                f"{exc.what} is not supported here",
                fix="write a literal value or a ${VARIABLE} (checked values only: functions, "
                    "conditionals and references are not evaluated)",
                location=SourceLocation(path, line or where.line, column or where.column)))
            return False, None

    groups: dict[str, tuple[str, ...]] = {}
    raw_targets: dict[str, _Block] = {}
    for block in blocks:
        if block.kind not in ("target", "group"):
            continue
        if not TARGET_NAME.match(block.label):
            problems.add(InputError(f"invalid {block.kind} name {shown(block.label)}",
                                    fix="use letters, digits, '-' and '_' only (bake's rule)",
                                    location=block.location))
            continue
        if block.label in groups or block.label in raw_targets:
            problems.add(InputError(f"{block.kind} {block.label!r} is defined twice (bake would merge them)",
                                    fix="keep one block per name", location=block.location))
            continue
        if block.kind == "group":
            for name, (_, where) in block.attributes.items():
                if name not in GROUP_ATTRIBUTES:
                    problems.add(InputError(f"unknown attribute {name!r} of group {block.label!r}",
                                            fix="a group holds targets (and a description)", location=where))
            members: list[str] = []
            if "targets" in block.attributes:
                node, where = block.attributes["targets"]
                ok, value = evaluate(node, where)
                if ok and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                    problems.add(InputError(f"targets of group {block.label!r} must be a list of names",
                                            fix='write targets = ["name", …]', location=where))
                elif ok:
                    members = value
            groups[block.label] = tuple(members)
        else:
            raw_targets[block.label] = block

    targets: dict[str, BakeTarget] = {}
    for name, block in raw_targets.items():
        merged = _inherited(block, raw_targets, problems)
        values: dict[str, tuple[Any, SourceLocation]] = {}
        for attribute, (node, where) in merged.items():
            if attribute not in TARGET_ATTRIBUTES:
                problems.add(InputError(f"unknown attribute {attribute!r} of target {name!r}",
                                        fix=f"bake's target attributes are {', '.join(sorted(TARGET_ATTRIBUTES))}",
                                        location=where))
                continue
            if attribute in REFUSED:
                why, fix = REFUSED[attribute]
                problems.add(InputError(f"target {name!r} sets {attribute!r}, which {why}",
                                        fix=fix, location=where))
                continue
            ok, value = evaluate(node, where)
            if ok:
                values[attribute] = (value, where)
        with problems.collect():
            targets[name] = _target(name, block.location, values)
    for group, names in groups.items():
        for member in names:
            if member not in targets and member not in groups and member not in raw_targets:
                problems.add(InputError(f"group {group!r} names {member!r}, which is no target or group",
                                        fix="define the target or remove the name",
                                        location=next(b.location for b in blocks if b.label == group)))
    problems.raise_all()
    return BakeFile(path, targets, groups)


def _inherited(block: _Block, blocks: Mapping[str, _Block], problems: Problems,
               seen: tuple[str, ...] = ()) -> dict[str, tuple[Any, SourceLocation]]:
    """The attributes of ``block`` with its ``inherits`` applied (parents in order, then its own)."""
    own = dict(block.attributes)
    inherits = own.pop("inherits", None)
    if inherits is None:
        return own
    node, where = inherits
    parents: list[str] = []
    try:
        value = _Evaluator({}, {}).value(node)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            parents = value
        else:
            raise _Unsupported("inherits that is not a list of names", node)
    except _Unsupported as exc:
        problems.add(InputError(f"{exc.what} is not supported here", fix='write inherits = ["target", …]',
                                location=where))
    merged: dict[str, tuple[Any, SourceLocation]] = {}
    for parent in parents:
        if parent in seen or parent == block.label:
            problems.add(InputError(f"target {block.label!r} inherits from itself (through {parent!r})",
                                    fix="break the cycle", location=where))
            continue
        if parent not in blocks:
            problems.add(InputError(f"target {block.label!r} inherits {parent!r}, which is no target",
                                    fix="define it or remove it from inherits", location=where))
            continue
        merged.update(_inherited(blocks[parent], blocks, problems, (*seen, block.label)))
    merged.update(own)
    return merged


def _fail(message: str, fix: str, where: SourceLocation) -> InputError:
    return InputError(message, fix=fix, location=where)


def _strings(value: Any, what: str, where: SourceLocation) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(f"{what} must be a list of strings", f'write {what} = ["…"]', where)
    for item in value:
        if has_control(item):
            raise _fail(f"{what} holds a line break or control character: {shown(item)}",
                        "remove it", where)
    return tuple(value)


def _string_map(value: Any, what: str, where: SourceLocation, key: re.Pattern[str] | None) -> dict[str, str]:
    if not isinstance(value, dict):
        raise _fail(f"{what} must be a map", f'write {what} = {{ KEY = "value" }}', where)
    result: dict[str, str] = {}
    for name, item in value.items():
        if key is not None and not key.match(name):
            raise _fail(f"invalid {what} name {shown(name)}", "use letters, digits and '_'", where)
        if not name or has_control(name):
            raise _fail(f"invalid {what} name {shown(name)}", "remove the control characters", where)
        if item is None:
            continue  # bake: null keeps the Dockerfile's own value
        if isinstance(item, (list, dict)):
            raise _fail(f"{what} {name!r} must be a string", "write a string", where)
        result[name] = check_text(_scalar_text(item), f"{what} {name!r}", location=where)
    return result


def _boolean(value: Any, what: str, where: SourceLocation) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "always"):
        return value.lower() in ("true", "1", "always")
    raise _fail(f"{what} must be true or false", f"write {what} = true", where)


def _relative(value: Any, what: str, where: SourceLocation, fix: str) -> str:
    """A relative path that stays inside where it is resolved from (checked lexically here;
    the job resolves symbolic links before it builds)."""
    if not isinstance(value, str) or not value:
        raise _fail(f"{what} must be a non-empty string", fix, where)
    if has_control(value) or "\\" in value:
        raise _fail(f"{what} {shown(value)} holds a control character or a backslash", fix, where)
    if _URL_LIKE.match(value):
        raise _fail(f"{what} {shown(value)} is a URL or a named source, not a directory of OUT", fix, where)
    path = PurePosixPath(value)
    if path.is_absolute() or value.startswith("~"):
        raise _fail(f"{what} {shown(value)} is a host path", fix, where)
    if ".." in path.parts:
        raise _fail(f"{what} {shown(value)} leaves its directory ('..')", fix, where)
    return path.as_posix()


def _cache(value: Any, what: str, where: SourceLocation) -> tuple[str, ...]:
    """``cache-from``/``cache-to`` entries, as CSV strings (bake also takes maps)."""
    if not isinstance(value, list):
        raise _fail(f"{what} must be a list", f'write {what} = ["type=registry,ref=…"]', where)
    entries: list[str] = []
    for item in value:
        if isinstance(item, dict):
            fields = {str(k): _scalar_text(v) for k, v in item.items() if v is not None}
        elif isinstance(item, str):
            fields = dict(part.partition("=")[::2] if "=" in part else ("ref", part)
                          for part in item.split(",") if part)
        else:
            raise _fail(f"{what} entries must be strings or maps", "write type=registry,ref=…", where)
        for key, text in fields.items():
            if has_control(key) or has_control(text):
                raise _fail(f"{what} holds a line break or control character: {shown(text)}",
                            "remove it", where)
            if "," in text and isinstance(item, dict):
                raise _fail(f"{what} value {shown(text)} holds a ','", "write one value per key", where)
        kind = fields.get("type", "registry")
        if kind not in CACHE_TYPES:
            raise _fail(f"{what} type {shown(kind)} is unknown",
                        f"use one of {', '.join(sorted(CACHE_TYPES))}", where)
        if kind == "local":
            for key in ("src", "dest"):
                if key in fields:
                    _relative(fields[key], f"{what} {key}", where,
                              "a local cache lives in a directory under OUT: write a relative path "
                              "such as .cache/buildx, or use type=registry")
        if kind == "registry" and "ref" in fields:
            check_image_reference(fields["ref"], f"{what} reference")
        entries.append(item if isinstance(item, str) else ",".join(f"{k}={v}" for k, v in fields.items()))
    return tuple(entries)


def _target(name: str, location: SourceLocation, values: Mapping[str, tuple[Any, SourceLocation]]) -> BakeTarget:
    """A :class:`BakeTarget` from evaluated attributes; every problem of the target at once."""
    problems = Problems()
    fields: dict[str, Any] = {}
    places = {attribute: where for attribute, (_, where) in values.items()}

    def check(attribute: str, convert: Any) -> None:
        if attribute not in values:
            return
        value, where = values[attribute]
        try:
            fields[attribute] = convert(value, where)
        except UnsafeValue as exc:
            problems.add(InputError(exc.message, fix=exc.fix, location=where))
        except InputError as exc:
            problems.add(exc)

    context_fix = "write the target's directory under OUT, e.g. context = \"myenv\""
    check("context", lambda v, w: _relative(v, "context", w, context_fix))
    check("dockerfile", lambda v, w: _relative(v, "dockerfile", w, "write the Dockerfile's name in the "
                                               "context, e.g. dockerfile = \"Dockerfile.gpu\""))
    check("tags", lambda v, w: tuple(check_image_reference(t, "tag") for t in _strings(v, "tags", w)))
    check("labels", lambda v, w: _string_map(v, "label", w, None))
    check("args", lambda v, w: _build_args(_string_map(v, "build arg", w, _ARG_NAME), w))
    check("platforms", lambda v, w: _platforms(_strings(v, "platforms", w), w))
    check("output", lambda v, w: _output(v, w))
    check("cache-from", lambda v, w: _cache(v, "cache-from", w))
    check("cache-to", lambda v, w: _cache(v, "cache-to", w))
    check("target", lambda v, w: _stage(v, w))
    check("no-cache", lambda v, w: _boolean(v, "no-cache", w))
    check("pull", lambda v, w: _boolean(v, "pull", w))
    check("network", lambda v, w: _network(v, w))
    check("description", lambda v, w: check_text(" ".join(str(v).split()), "description", location=w))
    for attribute in ("attest", "annotations", "ulimits", "no-cache-filter"):
        check(attribute, lambda v, w, a=attribute: _strings(v if isinstance(v, list) else [v], a, w))
    for attribute in ("shm-size", "extra-hosts", "resources", "policy"):
        check(attribute, lambda v, w, a=attribute: _no_control(v, a, w))
    problems.raise_all()
    return BakeTarget(
        name=name, location=location,
        context=fields.get("context", "."), dockerfile=fields.get("dockerfile", "Dockerfile"),
        tags=fields.get("tags", ()), labels=fields.get("labels", {}), args=fields.get("args", {}),
        platforms=fields.get("platforms", ()), cache_from=fields.get("cache-from", ()),
        cache_to=fields.get("cache-to", ()), target=fields.get("target"),
        no_cache=fields.get("no-cache", False), pull=fields.get("pull", False),
        network=fields.get("network"), description=fields.get("description", ""),
        buildx_only=tuple(a for a in BUILDX_ONLY if a in values), places=places,
    )


def _output(value: Any, where: SourceLocation) -> tuple[str, ...]:
    """``output`` entries that keep the result in an engine or a registry, never on the host."""
    entries = _strings(value if isinstance(value, list) else [value], "output", where)
    for entry in entries:
        fields = dict(part.partition("=")[::2] for part in entry.split(",") if part)
        kind = fields.get("type", "")
        if kind not in OUTPUT_TYPES or "dest" in fields:
            raise _fail(f"output {shown(entry)} writes the build's result on the host",
                        "remove it, or use type=image, type=registry or type=docker without dest "
                        "(`conda2docker build OUT --bake --load` or `--push` chooses one)", where)
    return entries


def _build_args(args: dict[str, str], where: SourceLocation) -> dict[str, str]:
    if "BUILDKIT_SYNTAX" in args:
        raise _fail("build arg BUILDKIT_SYNTAX would replace the Dockerfile frontend with an image "
                    "of the file's choosing", "remove it: the Dockerfiles need no frontend image", where)
    return args


def registries(refs: Iterable[str]) -> tuple[str, ...]:
    """The registry hosts of image references (``docker.io`` for short names), each once."""
    found: list[str] = []
    for ref in refs:
        first = ref.split("/", 1)[0]
        host = first if "/" in ref and ("." in first or ":" in first or first == "localhost") else "docker.io"
        if host not in found:
            found.append(host)
    return tuple(found)


def _platforms(items: Iterable[str], where: SourceLocation) -> tuple[str, ...]:
    for item in items:
        if not _PLATFORM.match(item):
            raise _fail(f"invalid platform {shown(item)}", "write os/arch, e.g. linux/amd64 or linux/arm64", where)
    return tuple(items)


def _stage(value: Any, where: SourceLocation) -> str:
    if not isinstance(value, str) or not _STAGE.match(value):
        raise _fail(f"invalid target stage {shown(str(value))}", "name a stage of the Dockerfile, e.g. runtime", where)
    return value


def _network(value: Any, where: SourceLocation) -> str:
    if value not in NETWORKS:
        raise _fail(f"network {shown(str(value))} is not allowed",
                    "use \"default\" or \"none\" (the host's network needs an entitlement; conda2docker "
                    "does not grant it)", where)
    return str(value)


def _no_control(value: Any, what: str, where: SourceLocation) -> Any:
    def walk(item: Any) -> None:
        if isinstance(item, str) and has_control(item):
            raise _fail(f"{what} holds a line break or control character", "remove it", where)
        if isinstance(item, list):
            for x in item:
                walk(x)
        if isinstance(item, dict):
            for k, x in item.items():
                walk(k)
                walk(x)

    walk(value)
    return value
