"""conda-lock's v1 file format, written without conda-lock.

conda-lock writes a lock by validating pydantic models and dumping them with PyYAML's
pure-Python emitter; for a 800-package environment that is most of ``conda2docker lock``'s
time. This module writes the same document straight from a :class:`~conda2docker.model.Lock`:
the same header comment, keys in the same order, packages sorted the same way (manager, name,
platform; dependencies by name; virtual packages left out), and every scalar in the style
PyYAML would choose, folded at the same column. The bytes are conda-lock's for every value
made of printable ASCII; a document holding any other value (a line break, a non-ASCII
character, a key of 128 characters or more) goes through PyYAML's own emitter instead, as
conda-lock's does, so it is still the same file. ``tests/test_lock_writer.py`` proves the
equality against conda-lock's writer and reader over the shared real locks.

Channel URLs are recorded as conda-lock records them: credentials and ``/t/<token>/``
parts that match an environment variable (or are written as ``$VAR``) become ``${VAR}``
and the variable's name is listed in ``used_env_vars``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from textwrap import dedent
from typing import Any
from urllib.parse import unquote, urlparse, urlunparse

from conda2docker.model import Lock, LockedPackage

WIDTH = 80
"""PyYAML's default line width: a plain or single-quoted value breaks at a space past it."""

_PLAIN_TEXT = re.compile(r"[\x20-\x7e]*")
_LEADING_INDICATORS = frozenset("#,[]{}&*!|>'\"%@`")


class _NeedsFullEmitter(Exception):
    """A value this writer does not reproduce byte for byte (PyYAML writes the document)."""


_IMPLICIT_TYPES = re.compile(
    r"""(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)
    |(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
       |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
       |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
       |[-+]?\.(?:inf|Inf|INF)
       |\.(?:nan|NaN|NAN))
    |(?:[-+]?0b[0-1_]+
       |[-+]?0[0-7_]+
       |[-+]?(?:0|[1-9][0-9_]*)
       |[-+]?0x[0-9a-fA-F_]+
       |[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)
    |<<
    |~|null|Null|NULL
    |[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
    |[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?
       (?:[Tt]|[\ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?
       (?:[\ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?
    |=""",
    re.VERBOSE,
)
"""The YAML 1.1 implicit types a plain scalar would be read as (bool, float, int, merge,
null, timestamp, value), as PyYAML's resolver knows them: text matching one is quoted.
``tests/test_lock_writer.py`` checks this agrees with ``yaml.resolver``."""


_SIMPLE_PLAIN = re.compile(
    r"(?!(?:" + _IMPLICIT_TYPES.pattern + r")\Z)[A-Za-z0-9_][A-Za-z0-9_./:+=!~\-]*(?<!:)\Z",
    re.VERBOSE,
)
"""A word PyYAML writes unquoted whatever its context: starting with a letter, digit or
``_``, no space, quote, ``#`` or trailing ``:``, and not read as another type (most names,
versions, URLs and hashes of a lock). One match decides it; anything else goes through
:func:`_is_plain`'s rules (``tests/test_lock_writer.py`` checks the two agree)."""


def reads_as_text(text: str) -> bool:
    """Whether ``text``, written unquoted, reads back as the same string."""
    return bool(text) and _IMPLICIT_TYPES.fullmatch(text) is None


class _Styles:
    """The scalar style PyYAML's emitter picks for a one-line printable-ASCII string."""

    def __init__(self) -> None:
        self._plain: dict[str, bool] = {}

    def plain(self, text: str) -> bool:
        """Whether ``text`` is written unquoted (else single-quoted)."""
        known = self._plain.get(text)
        if known is None:
            known = self._plain[text] = _is_plain(text)
        return known


def _is_plain(text: str) -> bool:
    if _SIMPLE_PLAIN.match(text) is not None:
        return True
    if _PLAIN_TEXT.fullmatch(text) is None:
        raise _NeedsFullEmitter(text)
    if not text:
        return False  # '' would read back as null
    if not reads_as_text(text):
        return False  # would read back as a bool, number, null…
    if text[0] == " " or text[-1] == " " or text.startswith(("---", "...")):
        return False
    first = text[0]
    followed_by_space = len(text) == 1 or text[1] == " "
    if first in _LEADING_INDICATORS or (first in "?:-" and followed_by_space):
        return False
    return ": " not in text and " #" not in text and not text.endswith(":")


def reads_back_plain(text: str) -> bool:
    """Whether ``text`` is what PyYAML writes unquoted: one line of printable ASCII that,
    read as a plain scalar, is this very string (no indicator, no implicit type)."""
    try:
        return _is_plain(text)
    except _NeedsFullEmitter:
        return False


class _Writer:
    """Appends YAML lines, tracking the column as PyYAML's emitter does for folding."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.styles = _Styles()
        self.lines: dict[tuple[str, str, str], str] = {}

    def line(self, text: str) -> None:
        self.parts.append(text + "\n")

    def key(self, indent: str, key: str) -> str:
        """``key:`` at ``indent``; keys are never folded."""
        if not key or len(key) >= 128:
            raise _NeedsFullEmitter(key)  # PyYAML writes it as a complex ('? ') key
        if self.styles.plain(key):
            return f"{indent}{key}:"
        return f"{indent}'{key.replace(chr(39), chr(39) * 2)}':"

    def pair(self, indent: str, key: str, value: str) -> None:
        """``key: value`` at ``indent``."""
        line = self.lines.get((indent, key, value))
        self.parts.append(line if line is not None else self.pair_line(indent, key, value))

    def pair_line(self, indent: str, key: str, value: str) -> str:
        """The line ``key: value`` at ``indent``: a function of these three, so memoised
        (lock files repeat most of theirs: ``manager: conda``, ``python: '>=3.10'``…)."""
        head = self.key(indent, key)
        line = self.lines[(indent, key, value)] = (
            head + self.value(value, len(head), len(indent) + 2) + "\n")
        return line

    def item(self, indent: str, value: str) -> None:
        """A scalar sequence entry: ``- value``."""
        head = f"{indent}-"
        self.parts.append(head + self.value(value, len(head), len(indent) + 2) + "\n")

    def value(self, text: str, column: int, indent: int) -> str:
        """`` value`` written after ``column``, continued at ``indent`` when folded."""
        if self.styles.plain(text):
            return _fold(text, column + 1, indent, quote=False, prefix=" ")
        return _fold(text, column + 2, indent, quote=True, prefix=" '") + "'"


def _fold(text: str, column: int, indent: int, *, quote: bool, prefix: str) -> str:
    """``text`` with a single space past :data:`WIDTH` turned into a line break, as PyYAML
    does (a quoted value never breaks at its first or last character; quotes are doubled)."""
    whole = text.replace("'", "''") if quote else text
    if " " not in text or column + len(whole) <= WIDTH:
        return prefix + whole
    out = [prefix]
    words = text.split(" ")
    position = 0
    for index, word in enumerate(words):
        if index:
            at_single_space = word != "" and words[index - 1] != ""
            inside = not quote or (position > 1 and position < len(text))
            if at_single_space and column > WIDTH and inside:
                out.append("\n" + " " * indent)
                column = indent
            else:
                out.append(" ")
                column += 1
        written = word.replace("'", "''") if quote else word
        out.append(written)
        column += len(written)
        position += len(word) + 1
    return "".join(out)


# --------------------------------------------------------------------------- the document


def _help_text(file_name: str, sources: Sequence[str], categories: set[str]) -> list[str]:
    """conda-lock's header comment for a lock named ``file_name``."""
    lines: list[str] = []
    file_name = _one_line(file_name)
    sources = [_one_line(source) for source in sources]

    def section(text: str) -> None:
        body = dedent(text).split("\n")
        for index, line in enumerate(body):
            if index in (0, len(body) - 1) and not line:
                continue
            lines.append(("# " + line).rstrip())

    section(f"""
        This lock file was generated by conda-lock (https://github.com/conda/conda-lock). DO NOT EDIT!

        A "lock file" contains a concrete list of package versions (with checksums) to be installed. Unlike
        e.g. `conda env create`, the resulting environment will not change as new package versions become
        available, unless you explicitly update the lock file.

        Install this environment as "YOURENV" with:
            conda-lock install -n YOURENV {file_name}
        """)
    if "dev" in categories:
        section(f"""
            This lock contains optional development dependencies. Include them in the installed environment with:
                conda-lock install --dev-dependencies -n YOURENV {file_name}
            """)
    extras = sorted(categories - {"main", "dev"})
    if extras:
        section(f"""
            This lock contains optional dependency categories {", ".join(extras)}. Include them in the installed environment with:
                conda-lock install {" ".join("-e " + extra for extra in extras)} -n YOURENV {file_name}
            """)
    files = " ".join("-f " + source for source in sources)
    section(f"""
        To update a single package to the latest version compatible with the version constraints in the source:
            conda-lock lock  --lockfile {file_name} --update PACKAGE
        To re-solve the entire environment, e.g. after changing a version constraint in the source file:
            conda-lock {files} --lockfile {file_name}
        """)
    return lines


def _one_line(text: str) -> str:
    """A comment line cannot hold a line break (a file name with one would end the comment
    and put the rest into the YAML): such characters are shown as ``?``. conda-lock writes
    them as they are, which breaks its own file."""
    return re.sub(r"[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]", "?", text)


def written_packages(packages: Iterable[LockedPackage]) -> list[LockedPackage]:
    """The packages conda-lock writes, in its order: virtual packages left out, sorted by
    manager, name and platform (stable, so equal keys keep their order)."""
    kept = [p for p in packages if not (p.manager == "conda" and p.name.startswith("__"))]
    return sorted(kept, key=lambda p: (p.manager, p.name, p.platform))


def channel_entry(value: str, environ: Mapping[str, str] | None = None) -> tuple[str, tuple[str, ...]]:
    """A channel as conda-lock records it: ``(url, used_env_vars)``."""
    if "://" not in value:
        return value, ()
    environ = os.environ if environ is None else environ
    parts = urlparse(value)
    replaced = parts
    used: set[str] = set()

    def netloc(user: str | None, password: str | None) -> str:
        host = f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)
        if not user:
            return host
        return f"{user}:{password}@{host}" if password else f"{user}@{host}"

    if parts.username:
        variable = _env_var_for(parts.username, ("USERNAME", "USER"), environ)
        if variable:
            used.add(variable)
            replaced = replaced._replace(netloc=netloc(f"${{{variable}}}", replaced.password))
    if parts.password:
        variable = _env_var_for(parts.password, ("PASSWORD", "PASS", "TOKEN", "KEY"), environ)
        if variable:
            used.add(variable)
            replaced = replaced._replace(netloc=netloc(replaced.username, f"${{{variable}}}"))
    token = _TOKEN.search(parts.path)
    secret = token.group(2)[3:] if token else None
    if secret:
        variable = _env_var_for(secret, ("TOKEN", "CRED", "PASSWORD", "PASS", "KEY"), environ)
        if variable:
            used.add(variable)
            replaced = replaced._replace(
                path=_TOKEN.sub(lambda m: f"{m.group(1)}/t/${{{variable}}}{m.group(3)}", replaced.path))
    return urlunparse(replaced), tuple(sorted(used))


_TOKEN = re.compile(r"(.*)(/t/\$?\{?[a-zA-Z0-9-_]*\}?)(/.*)")


def _env_var_for(value: str, suffixes: Sequence[str], environ: Mapping[str, str]) -> str | None:
    """The environment variable holding ``value`` (``$NAME`` names one itself)."""
    if value.startswith("$"):
        return value.lstrip("$").strip("{}")
    for suffix in (*suffixes, ""):
        candidates = {v: k for k, v in environ.items() if k.upper().endswith(suffix)}
        found = candidates.get(value) or candidates.get(unquote(value))
        if found:
            return found
    return None


def render_conda_lock(lock: Lock, file_name: str, custom_metadata: Mapping[str, str]) -> str:
    """The text of ``lock`` as the conda-lock v1 file ``file_name`` (the name appears in the
    header's instructions)."""
    packages = written_packages(lock.packages)
    categories = {p.category for p in packages}
    header = _help_text(file_name, lock.sources, categories)
    try:
        body = _fast_body(lock, packages, custom_metadata)
    except _NeedsFullEmitter:
        body = _full_body(lock, packages, custom_metadata)
    return "\n".join(header) + "\n" + body


def _fast_body(lock: Lock, packages: Sequence[LockedPackage], custom: Mapping[str, str]) -> str:
    w = _Writer()
    w.line("version: 1")
    w.line("metadata:")
    _mapping(w, "  ", "content_hash", lock.content_hash)
    if lock.channels:
        w.line("  channels:")
        for channel in lock.channels:
            url, used = channel_entry(channel)
            w.pair("  - ", "url", url)
            _sequence(w, "    ", "used_env_vars", used)
    else:
        w.line("  channels: []")
    _sequence(w, "  ", "platforms", lock.platforms)
    _sequence(w, "  ", "sources", lock.sources)
    _mapping(w, "  ", "custom_metadata", custom)
    if not packages:
        w.line("package: []")
        return "".join(w.parts)
    w.line("package:")
    memo = w.lines
    parts = w.parts
    append = parts.append
    simple = _SIMPLE_PLAIN.match

    def pair(indent: str, key: str, value: str) -> None:
        line = memo.get((indent, key, value))
        if line is None:
            line = w.pair_line(indent, key, value)
        append(line)

    def field(indent: str, key: str, value: str) -> None:
        """A package's own field (its name, URL, hashes…: rarely repeated, so not looked up
        in the memo): a plain word as it is, anything else as :meth:`_Writer.pair_line` writes it."""
        append(f"{indent}{key}: {value}\n" if simple(value) is not None
               else w.pair_line(indent, key, value))

    for p in packages:
        field("- ", "name", p.name)
        field("  ", "version", p.version)
        pair("  ", "manager", p.manager)
        pair("  ", "platform", p.platform)
        if p.dependencies:
            append("  dependencies:\n")
            for name, spec in sorted(p.dependencies.items()):
                pair("    ", name, spec)
        else:
            append("  dependencies: {}\n")
        field("  ", "url", p.url)
        if p.md5 is None and p.sha256 is None:
            append("  hash: {}\n")
        else:
            append("  hash:\n")
            if p.md5 is not None:
                field("    ", "md5", p.md5)
            if p.sha256 is not None:
                field("    ", "sha256", p.sha256)
        if p.build is not None:
            field("  ", "build", p.build)
        pair("  ", "category", p.category)
        append("  optional: false\n" if p.category == "main" else "  optional: true\n")
    return "".join(parts)


def _mapping(w: _Writer, indent: str, key: str, values: Mapping[str, str]) -> None:
    if not values:
        w.line(w.key(indent, key) + " {}")
        return
    w.line(w.key(indent, key))
    inner = indent.replace("-", " ") + "  "
    for name, value in values.items():
        w.pair(inner, name, value)


def _sequence(w: _Writer, indent: str, key: str, values: Sequence[str]) -> None:
    if not values:
        w.line(w.key(indent, key) + " []")
        return
    w.line(w.key(indent, key))
    for value in values:
        w.item(indent, value)


def _full_body(lock: Lock, packages: Sequence[LockedPackage], custom: Mapping[str, str]) -> str:
    """The document through PyYAML's own emitter, the one conda-lock writes with."""
    import yaml

    channels = []
    for channel in lock.channels:
        url, used = channel_entry(channel)
        channels.append({"url": url, "used_env_vars": list(used)})
    entries: list[dict[str, Any]] = []
    for p in packages:
        entry: dict[str, Any] = {
            "name": p.name, "version": p.version, "manager": p.manager, "platform": p.platform,
            "dependencies": dict(sorted(p.dependencies.items())), "url": p.url,
            "hash": {k: v for k, v in (("md5", p.md5), ("sha256", p.sha256)) if v is not None},
        }
        if p.build is not None:
            entry["build"] = p.build
        entry["category"] = p.category
        entry["optional"] = p.category != "main"
        entries.append(entry)
    document = {
        "version": 1,
        "metadata": {
            "content_hash": dict(lock.content_hash), "channels": channels,
            "platforms": list(lock.platforms), "sources": list(lock.sources),
            "custom_metadata": dict(custom),
        },
        "package": entries,
    }
    return str(yaml.dump(document, sort_keys=False))


__all__ = ["channel_entry", "render_conda_lock", "written_packages"]
