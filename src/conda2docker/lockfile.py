"""Lock files on disk: conda-lock.yml (v1) and explicit (``@EXPLICIT``) locks.

Writing produces the file conda-lock's own writer would (``conda2docker.lock_writer``,
proved against conda-lock's writer and reader in the tests), so conda-lock and micromamba
read what we write. Reading uses a small direct parser: it accepts old locks that
conda-lock's models reject (pip entries without ``category``/``optional``), reports
problems as one-line errors, and is several times faster than the pydantic models.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from conda2docker.errors import InputError, InputErrors, Problems, SourceLocation
from conda2docker.model import Lock, LockedPackage
from conda2docker.vcs import is_full_commit

GENERATOR = "conda2docker"
ROOTS_KEY = "conda2docker.roots"
INPUT_HASH_KEY = "conda2docker.input_hash"

_CONDA_FILE = re.compile(r"^(?P<name>.+)-(?P<version>[^-]+)-(?P<build>[^-]+)\.(?:conda|tar\.bz2)\Z")


def split_conda_file_name(file_name: str) -> tuple[str, str, str] | None:
    """``numpy-1.26.4-py311h64a7726_0.conda`` → ``("numpy", "1.26.4", "py311h64a7726_0")``."""
    match = _CONDA_FILE.match(file_name)
    if match is None:
        return None
    return match["name"], match["version"], match["build"]


# --------------------------------------------------------------------------- reading


def read_lock_text(path: Path) -> str:
    """A lock file's text, decoded as environment files are (BOMs, UTF-16, CRLF)."""
    from conda2docker.read.decode import MAX_LOCK_FILE, decode, read_limited

    return decode(read_limited(path, limit=MAX_LOCK_FILE, what="lock file"), path).text


def _load_yaml(path: Path, text: str) -> Any:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        location = SourceLocation(
            path, mark.line + 1 if mark else None, mark.column + 1 if mark else None
        )
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(
            f"invalid YAML in lock file: {problem}",
            fix="restore the file from version control or regenerate it",
            location=location,
        ) from exc
    except _UNBUILDABLE as exc:
        raise InputError(
            f"invalid YAML in lock file: a value YAML cannot build ({exc})",
            fix="restore the file from version control or regenerate it",
            location=SourceLocation(path),
        ) from exc


_UNBUILDABLE = (ValueError, TypeError, AttributeError, OverflowError)
"""What PyYAML's constructors raise for a value they cannot build, not as a ``YAMLError``:
``!!int nope``, a date such as ``2024-13-45`` (``!!timestamp nope``: an ``AttributeError``)."""

_REGENERATE = "regenerate the lock with `conda2docker lock`"

Keys = tuple[str | int, ...]
"""Where a value sits in a lock document: ``("package", 3, "hash", "md5")``."""

Locate = Callable[[Keys], SourceLocation | None]
"""The line and column of a value of the document, when its text is known (``None`` else)."""


def _problems_of(error: InputError) -> tuple[InputError, ...]:
    return error.problems if isinstance(error, InputErrors) else (error,)


def _placed(problem: InputError, location: SourceLocation | None, about: str) -> InputError:
    """``problem`` at ``location`` (unless it knows its line) and about ``about``."""
    message = problem.message
    if about and not message.startswith(about):
        message = about + message
    if (problem.location is not None and problem.location.line is not None) or location is None:
        location = problem.location
    if (message, location) == (problem.message, problem.location):
        return problem
    return type(problem)(message, fix=problem.fix, location=location)


class _Findings:
    """Every problem of one lock, each placed at the value it is about (``locate``), so a
    broken or hostile lock is refused with all its problems at once, one line each."""

    def __init__(self, path: Path, locate: Locate | None) -> None:
        self.path = path
        self.locate = locate
        self.problems = Problems()

    def at(self, keys: Keys, about: str = "") -> _At:
        """``with findings.at(keys):`` adds an :class:`InputError` raised inside, about the
        value at ``keys``."""
        return _At(self, keys, about)

    def add(self, error: InputError, keys: Keys, about: str = "") -> None:
        located = self.locate(keys) if self.locate is not None else None
        for problem in _problems_of(error):
            self.problems.add(_placed(problem, located or SourceLocation(self.path), about))


class _At:
    """The context of :meth:`_Findings.at` (a class: one is made per value read)."""

    __slots__ = ("about", "findings", "keys")

    def __init__(self, findings: _Findings, keys: Keys, about: str) -> None:
        self.findings = findings
        self.keys = keys
        self.about = about

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, error: BaseException | None, trace: object) -> bool:
        if isinstance(error, InputError):
            self.findings.add(error, self.keys, self.about)
            return True
        return False


def _require(mapping: Mapping[str, Any], key: str, kind: type | tuple[type, ...], path: Path,
             where: str) -> Any:
    value = mapping.get(key)
    if not isinstance(value, kind):
        kinds = kind if isinstance(kind, tuple) else (kind,)
        raise InputError(
            f"{where}: '{key}' must be a {' or '.join(k.__name__ for k in kinds)}, "
            f"found {type(value).__name__}",
            fix=_REGENERATE,
            location=SourceLocation(path),
        )
    return value


def lock_from_mapping(data: Any, path: Path, *, locate: Locate | None = None) -> Lock:
    """Build a :class:`Lock` from the parsed YAML of a conda-lock v1 file.

    A document that is not a conda-lock v1 file is refused at once; otherwise every problem
    of the metadata and of every package entry is reported together (:class:`InputErrors`),
    each placed by ``locate`` when the caller knows the text.
    """
    if isinstance(data, dict) and "environments" in data and "packages" in data:
        raise InputError(
            f"this is a pixi.lock (version {data.get('version')}), not a conda-lock file",
            fix="export an environment file with `pixi workspace export conda-environment` "
            "and convert that",
            location=SourceLocation(path),
        )
    if not isinstance(data, dict) or "package" not in data:
        raise InputError(
            "not a conda-lock file (no 'package' list)",
            fix="pass an environment.yml, or a lock written by conda-lock or conda2docker",
            location=SourceLocation(path),
        )
    version = data.get("version")
    if type(version) is not int or version != 1:
        raise InputError(
            f"unsupported conda-lock file version {version!r} (supported: 1)",
            fix="convert it with `conda-lock` (v1 format) or regenerate it",
            location=(locate(("version",)) if locate else None) or SourceLocation(path),
        )
    findings = _Findings(path, locate)
    meta = data.get("metadata") or {}
    if not isinstance(meta, dict):
        findings.add(InputError(f"'metadata' must be a mapping, found {type(meta).__name__}",
                                fix=_REGENERATE), ("metadata",))
        meta = {}
    raw_packages: list[Any] = []
    with findings.at(("package",)):
        raw_packages = _require(data, "package", list, path, "lock")
    packages = [package for index, entry in enumerate(raw_packages)
                if (package := _entry(entry, index, findings)) is not None]
    _check_metadata(meta, findings)
    roots: tuple[str, ...] = ()
    custom = meta.get("custom_metadata") or {}
    if isinstance(custom, dict) and isinstance(custom.get(ROOTS_KEY), str):
        with findings.at(("metadata", "custom_metadata", ROOTS_KEY)):
            roots = _roots(custom[ROOTS_KEY])
    findings.problems.raise_all()
    platforms = tuple(str(p) for p in meta.get("platforms") or sorted({p.platform for p in packages}))
    channels = tuple(_channel_url(c) for c in meta.get("channels") or ())
    content_hash = meta.get("content_hash") or {}
    return Lock(
        packages=tuple(packages),
        platforms=platforms,
        channels=channels,
        content_hash={str(k): str(v) for k, v in content_hash.items()},
        sources=tuple(str(s) for s in meta.get("sources") or ()),
        roots=roots,
        path=path,
    )


def _entry(entry: Any, index: int, findings: _Findings) -> LockedPackage | None:
    """Package entry ``index`` checked, or None with its problems added to ``findings``."""
    keys: Keys = ("package", index)
    if not isinstance(entry, dict):
        findings.add(InputError(f"package #{index + 1} is not a mapping, found "
                                f"{type(entry).__name__}", fix=_REGENERATE), keys)
        return None
    package = _package_from_mapping(entry, findings, index)
    if package is None:
        return None
    checked, problems = _package_problems(package, SourceLocation(findings.path))
    about = f"package '{package.name[:80]}': "
    for field, problem in problems:
        findings.add(problem, (*keys, *field), about)
    return checked if not problems else None


_PLATFORM = re.compile(r"^[a-z0-9][a-z0-9_\-]*\Z")
_META_TYPES: dict[str, tuple[type, ...]] = {
    "platforms": (list,), "channels": (list,), "content_hash": (dict,), "sources": (list,),
    "custom_metadata": (dict,),
}


def _bad_lock(message: str) -> InputError:
    """A problem of a lock's value (placed by :class:`_Findings` at the value)."""
    return InputError(message, fix=_REGENERATE)


def _check_metadata(meta: Mapping[str, Any], findings: _Findings) -> None:
    """The metadata's types and values (a hostile lock may put anything there)."""
    from conda2docker.credentials import channel_lock_form
    from conda2docker.validate import check_channel_name, check_text, shown

    for key, kinds in _META_TYPES.items():
        value = meta.get(key)
        if value is not None and not isinstance(value, kinds):
            findings.add(_bad_lock(f"metadata.{key} must be a {kinds[0].__name__}, found "
                                   f"{type(value).__name__}"), ("metadata", key))

    def items(key: str) -> Iterable[tuple[Any, Any]]:
        """The entries of a value of the right type (a wrong type is reported above)."""
        value = meta.get(key)
        if isinstance(value, dict) and dict in _META_TYPES[key]:
            return value.items()
        return enumerate(value) if isinstance(value, list) and list in _META_TYPES[key] else ()

    for index, platform in items("platforms"):
        if not isinstance(platform, str) or not _PLATFORM.match(platform):
            findings.add(_bad_lock(f"metadata.platforms: invalid platform {shown(str(platform))}"),
                         ("metadata", "platforms", index))
    for index, channel in items("channels"):
        url = channel.get("url") if isinstance(channel, dict) else channel
        with findings.at(("metadata", "channels", index)):
            if not isinstance(url, str):
                raise _bad_lock(f"metadata.channels: a channel must be a string or have a 'url', "
                                f"found {type(url).__name__}")
            check_channel_name(url)
            if channel_lock_form(url, {}).written_out:
                raise _bad_lock(f"metadata.channels: {shown(url)} holds its credentials written out "
                                "(lock again with them as ${NAME} placeholders, which the lock keeps)")
    for key, value in items("content_hash"):
        with findings.at(("metadata", "content_hash", key)):
            if not isinstance(key, str) or type(value) not in (str, int):
                raise _bad_lock("metadata.content_hash must map platforms to digests")
            check_text(str(value), "metadata.content_hash", limit=256)
    for index, source in items("sources"):
        with findings.at(("metadata", "sources", index)):
            if not isinstance(source, str):
                raise _bad_lock("metadata.sources must be a list of file names")
            check_text(source, "metadata.sources", limit=4096)


def _roots(text: str) -> tuple[str, ...]:
    try:
        roots = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than json reads
        raise _bad_lock(f"custom_metadata.{ROOTS_KEY} is not a JSON list") from None
    if not isinstance(roots, list) or not all(isinstance(r, str) for r in roots):
        raise _bad_lock(f"custom_metadata.{ROOTS_KEY} must be a JSON list of names")
    return tuple(roots)


def check_locked_package(package: LockedPackage, location: SourceLocation, *,
                         name_from_url: bool = False) -> LockedPackage:
    """Every value of a locked package that later reaches a path, a command or a generated
    file: name, URL (scheme, characters, file name), hashes, platform. Returns the package
    with its hashes normalised; raises every problem found (:class:`InputErrors`)."""
    checked, problems = _package_problems(package, location, name_from_url=name_from_url)
    if problems:
        about = f"package '{package.name[:80]}': "
        raise InputErrors([_placed(problem, location, about) for _, problem in problems])
    return checked


class _Field:
    """``with _Field(problems, keys):`` adds an :class:`InputError` raised inside to
    ``problems``, about the field at ``keys`` (a class: one is made per checked value)."""

    __slots__ = ("keys", "problems")

    def __init__(self, problems: list[tuple[Keys, InputError]], keys: Keys) -> None:
        self.problems = problems
        self.keys = keys

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, error: BaseException | None, trace: object) -> bool:
        if isinstance(error, InputError):
            self.problems.extend((self.keys, problem) for problem in _problems_of(error))
            return True
        return False


def _package_problems(package: LockedPackage, location: SourceLocation, *,
                      name_from_url: bool = False,
                      ) -> tuple[LockedPackage, list[tuple[Keys, InputError]]]:
    """The package with its hashes normalised, and each problem with the field it is about
    (``name_from_url``: the name was cut from the URL's file name, as an explicit lock's)."""
    from conda2docker.validate import (
        check_conda_name,
        check_conda_url,
        check_md5,
        check_pip_name,
        check_pip_url,
        check_sha256,
        check_text,
        has_control,
        shown,
    )

    problems: list[tuple[Keys, InputError]] = []

    def field(*keys: str | int) -> _Field:
        return _Field(problems, keys)

    with field("url"):
        (check_conda_url if package.manager == "conda" else check_pip_url)(
            package.url, location=location)
    if not (problems and name_from_url):  # a name cut from a bad URL is the URL's problem
        with field("name"):
            (check_conda_name if package.manager == "conda" else check_pip_name)(
                package.name, location=location)
    md5, sha256 = package.md5, package.sha256 or None
    if sha256 and package.artifact == "vcs" and is_full_commit(sha256):
        sha256 = None  # conda-lock records a git source's commit there; the URL pins it
    with field("hash", "md5"):
        md5 = check_md5(md5, location=location) if md5 else None
    with field("hash", "sha256"):
        sha256 = check_sha256(sha256, location=location) if sha256 else None
    with field("platform"):
        if not _PLATFORM.match(package.platform):
            raise InputError(f"invalid platform {shown(package.platform)}",
                             fix="write a conda platform such as linux-64; regenerate the lock",
                             location=location)
    for key, text in (("version", package.version), ("build", package.build or ""),
                      ("category", package.category)):
        with field(key):
            check_text(text, key, location=location, limit=1024)
    dependencies = package.dependencies
    if dependencies and (has_control("".join(dependencies)) or has_control(
            "".join(dependencies.values())) or max(map(len, dependencies)) > 1024
            or max(map(len, dependencies.values())) > 1024):  # else no check below fails
        for dep, constraint in dependencies.items():
            with field("dependencies", dep):
                check_text(dep, "dependency", location=location, limit=1024)
                check_text(constraint, f"dependency '{dep[:80]}'", location=location, limit=1024)
    if problems:
        return package, problems
    if (md5, sha256) != (package.md5, package.sha256):  # '' (old locks) → None; hex lowercased
        package = replace(package, md5=md5, sha256=sha256)
    return package, problems


def _channel_url(channel: Any) -> str:
    if isinstance(channel, dict):
        return str(channel.get("url", ""))
    return str(channel)


def _package_from_mapping(entry: Mapping[str, Any], findings: _Findings,
                          index: int) -> LockedPackage | None:
    """Package entry ``index``'s fields as a :class:`LockedPackage`, or None with each field
    of the wrong type added to ``findings``."""
    path = findings.path
    keys: Keys = ("package", index)
    before = findings.problems.total
    name = entry.get("name")
    where = f"package '{name[:80]}'" if isinstance(name, str) else f"package #{index + 1}"

    def required(key: str, kind: type | tuple[type, ...]) -> Any:
        with findings.at((*keys, key)):
            return _require(entry, key, kind, path, where)
        return None

    name = required("name", str)
    manager = entry.get("manager", "conda")
    if manager not in ("conda", "pip"):
        findings.add(InputError(f"{where}: unknown manager {manager!r} (expected conda or pip)",
                                fix="write 'manager: conda' or 'manager: pip'; " + _REGENERATE),
                     (*keys, "manager"))
    url = required("url", str)
    version = required("version", (str, int, float))
    platform = required("platform", str)
    hashes = entry.get("hash") or {}
    if not isinstance(hashes, dict) or not all(
            v is None or isinstance(v, str) for v in hashes.values()):
        findings.add(_bad_lock(f"{where}: 'hash' must map md5/sha256 to hex digests"),
                     (*keys, "hash"))
        hashes = {}
    dependencies = entry.get("dependencies") or {}
    if not isinstance(dependencies, dict):
        findings.add(_bad_lock(f"{where}: 'dependencies' must be a mapping, found "
                               f"{type(dependencies).__name__}"), (*keys, "dependencies"))
    if findings.problems.total > before:
        return None
    build = entry.get("build")
    if manager == "conda" and not build:  # the file the URL names (LockedPackage.file_name)
        parts = split_conda_file_name(unquote(urlsplit(url).path.rsplit("/", 1)[-1]))
        build = parts[2] if parts else None
    category = str(entry.get("category", "main"))
    return LockedPackage(
        name=name,
        version=str(version),
        manager=manager,
        platform=platform,
        url=url,
        md5=hashes.get("md5"),
        sha256=hashes.get("sha256"),
        build=str(build) if build else None,
        dependencies={str(k): "" if v is None else str(v) for k, v in dependencies.items()},
        category=category,
        optional=bool(entry.get("optional", category != "main")),
    )


def read_reusable_lock(path: Path | None) -> Lock | None:
    """An earlier lock at ``path`` to reuse, or None (a broken one is re-solved, not fatal)."""
    if path is None or not path.is_file():
        return None
    try:
        return read_conda_lock(path)
    except InputError:
        return None


def read_conda_lock(path: Path, text: str | None = None, *,
                    platforms: Collection[str] | None = None) -> Lock:
    """Read a conda-lock v1 file (``conda-lock.yml``).

    conda-lock writes a fixed block layout; :func:`fast_parse` reads it line by line, several
    times faster than building YAML objects, and hands anything unexpected to the YAML parser.
    ``text`` is the file's decoded text when the caller has already read it. With
    ``platforms``, only those platforms' packages are read (``Lock.platforms`` still lists
    every platform the lock covers).
    """
    text = read_lock_text(path) if text is None else text
    data = fast_parse(text, platforms)
    layout = data is not None
    if data is None:
        data = _only_platforms(_load_yaml(path, text), platforms)
    scoped = platforms is not None and isinstance(data, dict) and _lists_platforms(data)
    read = data.get("package") if isinstance(data, dict) else None
    locator = _LayoutLocator if layout else _Locator
    locate = locator(path, text, platforms if scoped else None, read if isinstance(read, list) else [])
    return lock_from_mapping(data, path, locate=locate)


class _LayoutLocator:
    """Where a value of a lock in conda-lock's own layout is written, found by scanning the
    entries' lines as :func:`fast_parse` read them (composing YAML nodes for a large lock
    takes seconds): only the package section's lines are looked at, and the rest (version,
    metadata) is composed alone, its lines kept. The places are the ones YAML's nodes give. An
    entry whose name is not the one read is not located."""

    def __init__(self, path: Path, text: str, platforms: Collection[str] | None,
                 read: list[Any]) -> None:
        self.path, self.text, self.platforms, self.read = path, text, platforms, read
        self._entries: list[tuple[int, list[str]]] | None = None
        self._head: _Locator | None = None

    def __call__(self, keys: Keys) -> SourceLocation | None:
        if keys[:1] != ("package",) or len(keys) < 2 or not isinstance(keys[1], int):
            if self._head is None:
                self._head = _Locator(self.path, _without_packages(self.text), None, [])
            return self._head(keys)
        if self._entries is None:
            self._entries = self._scan()
        index = keys[1]
        if not 0 <= index < len(self._entries) or index >= len(self.read):
            return None
        first, lines = self._entries[index]
        entry = self.read[index]
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            written = self._find(lines, ("name",))
            try:  # the name as fast_parse read it from this entry's text
                same = written is not None and _scalar(lines[written[0]][written[1]:]) == entry["name"]
            except _Unexpected:
                same = False
            if not same:
                return None
        found = self._find(lines, keys[2:]) or (0, 2)
        return SourceLocation(self.path, first + found[0], found[1] + 1)

    def _scan(self) -> list[tuple[int, list[str]]]:
        """The package entries fast_parse kept: (line number of '- ', the entry's lines)."""
        header = _PACKAGE_KEY.search(self.text)
        if header is None:
            return []
        following = _TOP_LEVEL_LINE.search(self.text, header.end())
        end = following.start() if following else len(self.text)
        number = self.text.count("\n", 0, header.end()) + 1
        entries: list[tuple[int, list[str]]] = []
        for line in self.text[header.end():end].splitlines():
            if line.startswith("- "):
                entries.append((number, ["  " + line[2:]]))
            elif entries:
                entries[-1][1].append(line)
            number += 1
        return [e for e in entries if self._kept(e[1])]

    def _kept(self, lines: list[str]) -> bool:
        if self.platforms is None:
            return True
        found = self._find(lines, ("platform",))
        if found is None:
            return True
        value = lines[found[0]][found[1]:]
        try:
            platform = _scalar(value)
        except _Unexpected:
            return True
        return not isinstance(platform, str) or platform in self.platforms

    @staticmethod
    def _find(lines: list[str], keys: Keys) -> tuple[int, int] | None:
        """(line offset, column) of the value at ``keys`` (a field, or a field and its key) in
        an entry's lines, where YAML's nodes place it: the last of equal keys (the one read), a
        block mapping at its first key; the nearest written ancestor when the last key is not
        there."""
        if not keys:
            return None
        found: tuple[int, int] | None = None
        inside = first = False  # in the block of keys[0]; before its first key
        for offset, line in enumerate(lines):
            indent = len(line) - len(line.lstrip(" "))
            if indent not in (2, 4) or not line.strip():
                continue
            try:
                key, value = _split(line[indent:])
            except _Unexpected:
                continue
            column = indent + len(line[indent:]) - len(value.lstrip())
            if indent == 2:
                inside = key == keys[0]
                if inside:
                    first = not value.strip()
                    found = (offset, column)  # an empty value: YAML's null, after the colon
            elif inside:
                if len(keys) > 1 and key == str(keys[1]):
                    found = (offset, column)
                elif first:
                    found = (offset, indent)
                first = False
        return found


class _Locator:
    """Where a value of a lock document is written (line and column), found by composing the
    text's YAML nodes on the first question, which only a lock with a problem asks.

    Package entries count as the reader counted them: with ``platforms``, the entries of
    other platforms are skipped. An entry whose name is not the one read is not located (the
    file alone is named), so a position is never a wrong one.
    """

    def __init__(self, path: Path, text: str, platforms: Collection[str] | None,
                 read: list[Any]) -> None:
        self.path, self.text, self.platforms, self.read = path, text, platforms, read
        self._root: Any = None
        self._entries: list[Any] | None = None

    def __call__(self, keys: Keys) -> SourceLocation | None:
        import yaml

        if self._entries is None:
            try:
                self._root = yaml.compose(self.text, Loader=getattr(yaml, "CSafeLoader",
                                                                     yaml.SafeLoader))
            except yaml.YAMLError:
                self._root = None
            self._entries = self._package_entries()
        node = self._root
        found = node
        for depth, key in enumerate(keys):
            if depth == 1 and keys[0] == "package" and isinstance(key, int):
                node = self._entry(key)
                if node is None:  # not the entry read: the file alone, never another place
                    return None
            else:
                node = _child(node, key)
            if node is None:
                break
            found = node
        if found is None or found is self._root:
            return None
        mark = found.start_mark
        return SourceLocation(self.path, mark.line + 1, mark.column + 1)

    def _entry(self, index: int) -> Any:
        """Entry ``index`` as the reader counted them, when its name is the one read."""
        import yaml

        entries = self._entries or []
        if not 0 <= index < len(entries) or index >= len(self.read):
            return None
        name, node = self.read[index], entries[index]
        written = _child(node, "name")
        name = name.get("name") if isinstance(name, dict) else None
        if isinstance(name, str) and not (isinstance(written, yaml.ScalarNode)
                                          and written.value == name):
            return None
        return node

    def _package_entries(self) -> list[Any]:
        import yaml

        sequence = _child(self._root, "package")
        if not isinstance(sequence, yaml.SequenceNode):
            return []
        entries = []
        for item in sequence.value:
            platform = _child(item, "platform")
            if (self.platforms is None or not isinstance(platform, yaml.ScalarNode)
                    or platform.tag != "tag:yaml.org,2002:str" or platform.value in self.platforms):
                entries.append(item)
        return entries


def _child(node: Any, key: str | int) -> Any:
    """The node under ``key`` (the last of equal keys, as the loader keeps), or None."""
    import yaml

    if isinstance(node, yaml.SequenceNode) and isinstance(key, int):
        return node.value[key] if 0 <= key < len(node.value) else None
    if isinstance(node, yaml.MappingNode):
        found = None
        for name, value in node.value:
            if isinstance(name, yaml.ScalarNode) and name.value == str(key):
                found = value
        return found
    return None


def _without_packages(text: str) -> str:
    """``text`` with its package section (the key and the entries) blanked, lines kept: the
    head, wherever its keys are written (old conda-lock writes ``version`` last)."""
    header = _PACKAGE_KEY.search(text)
    if header is None:
        return text
    following = _TOP_LEVEL_LINE.search(text, header.end())
    end = following.start() if following else len(text)
    return text[:header.start()] + "\n" * text.count("\n", header.start(), end) + text[end:]


def _only_platforms(data: Any, platforms: Collection[str] | None) -> Any:
    """``data`` with the packages of other platforms left out, when it names its platforms."""
    if (platforms is None or not isinstance(data, dict) or not isinstance(data.get("package"), list)
            or not _lists_platforms(data)):
        return data
    kept = [e for e in data["package"] if not isinstance(e, dict)
            or not isinstance(e.get("platform"), str) or e.get("platform") in platforms]
    return {**data, "package": kept}


def _lists_platforms(data: Mapping[str, Any]) -> bool:
    """Whether a lock's metadata names its platforms: only then may packages be left out."""
    meta = data.get("metadata")
    return isinstance(meta, dict) and bool(meta.get("platforms"))


class _Unexpected(Exception):
    """The fast path met something outside conda-lock's own layout."""


def _single_quoted(inner: str) -> str:
    """The value of ``'inner'`` where ``inner`` has a quote: each ``''`` is one quote; a lone
    quote would end the value before the closing one, which YAML refuses (``'1.2'x'``), so
    the text is left to YAML."""
    value = inner.replace("''", "'")
    if inner.count("'") != 2 * value.count("'"):
        raise _Unexpected(inner)
    return value


def _scalar(text: str) -> Any:
    text = text.strip()
    if not text:
        return None
    if text[0] == "'":
        if len(text) < 2 or text[-1] != "'":
            raise _Unexpected(text)
        inner = text[1:-1]
        return inner if "'" not in inner else _single_quoted(inner)
    if text[0] == '"':
        if len(text) < 2 or text[-1] != '"' or "\\" in text or '"' in text[1:-1]:
            raise _Unexpected(text)  # an escape for YAML; a quote inside ends the value early
        return text[1:-1]
    if text in ("null", "~"):
        return None
    if text in ("true", "false"):
        return text == "true"
    if text[0] in "[{&*!|>%@`#" or " #" in text or text == "{}":
        if text == "{}":
            return {}
        raise _Unexpected(text)
    return text


def _split(line: str) -> tuple[str, str]:
    key, sep, value = line.partition(":")
    if not sep or (value and value[0] != " ") or key != key.strip() or "#" in key:
        raise _Unexpected(line)  # a space before the colon, a comment: YAML reads the key
    if key[:1] in "'\"":
        key = _scalar(key)
    return key, value


def _parse_packages(lines: list[str]) -> list[dict[str, Any]]:
    """The entries of conda-lock's ``package:`` list: ``- key: value`` starts one, ``  key:
    value`` continues it, ``    key: value`` fills its last mapping (``dependencies``,
    ``hash``). One pass over 25,000 lines for a large lock, so :func:`_split` and
    :func:`_scalar` are inlined for the common forms (a single-quoted or a plain value)."""
    packages: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    nested: dict[str, Any] | None = None
    block = ""
    for line in lines:
        if line[:2] == "- ":
            current = {}
            packages.append(current)
            nested = None
            line = "  " + line[2:]
        elif not line.strip():
            continue
        elif current is None:
            raise _Unexpected(line)
        if line[:4] == "    ":
            if nested is None or line[4:5] == " ":
                raise _Unexpected(line)
            key, sep, value = line[4:].partition(":")
            if not sep or (value and value[0] != " ") or key != key.strip() or "#" in key:
                raise _Unexpected(line)
            if key[:1] in "'\"":
                key = _scalar(key)
            text = value.strip()
            if len(text) > 1 and text[0] == "'" and text[-1] == "'":
                inner = text[1:-1]
                nested[key] = inner if "'" not in inner else _single_quoted(inner)
            else:
                nested[key] = _scalar(text)
            current[block] = nested
        elif line[:2] == "  " and line[2:3] != " ":
            key, value = _split(line[2:])
            if value.strip():
                current[key] = _scalar(value)
                nested = None
            else:  # a block mapping once a nested line follows; YAML's null until then
                block, nested, current[key] = key, {}, None
        else:
            raise _Unexpected(line)
    return packages


_HEAD_MAPPINGS = frozenset({"content_hash", "custom_metadata"})
_HEAD_LISTS = frozenset({"platforms", "sources"})


def _head_scalar(value: str) -> Any:
    """A value of the head as YAML reads it; plain text that YAML could read otherwise (a
    number, a date, ``yes``, an indicator such as ``- `` or ``: ``) is left to YAML."""
    from conda2docker.lock_writer import reads_back_plain

    text = value.strip()
    if not text:
        raise _Unexpected(value)  # an empty value, or a block nested under the key
    found = _scalar(text)
    if isinstance(found, str) and text[:1] not in ("'", '"') and not reads_back_plain(text):
        raise _Unexpected(text)
    return found


def _parse_head(text: str) -> dict[str, Any]:
    """``version`` and ``metadata`` (content hashes, channels, platforms, sources, custom
    metadata) as conda-lock and conda2docker lay them out, read without importing PyYAML;
    anything else raises :class:`_Unexpected` and YAML reads the head."""
    from conda2docker.lock_writer import reads_back_plain

    head: dict[str, Any] = {}
    meta: dict[str, Any] | None = None
    section: Any = None
    channel: dict[str, Any] | None = None
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if not (line.isascii() and line.isprintable()):
            raise _Unexpected(line)  # YAML decides what a tab or a control character means
        if line[:1] != " ":
            key, value = _split(line)
            if key == "version" and value.strip().isdigit() and value.strip().isascii():
                head[key] = int(value)
            elif key == "metadata" and not value.strip() and "metadata" not in head:
                meta = head[key] = {}
            else:
                raise _Unexpected(line)
            section = channel = None
        elif meta is not None and line[:2] == "  " and line[2:3] not in (" ", "-"):
            key, value = _split(line[2:])
            if key in meta or value.strip() not in ("", "[]" if key in _HEAD_LISTS else "{}"):
                raise _Unexpected(line)
            if key in _HEAD_MAPPINGS:
                section = meta[key] = {}
            elif key in _HEAD_LISTS or key == "channels":
                section = meta[key] = []
            else:
                raise _Unexpected(line)
            channel = None
        elif isinstance(section, dict) and line[:4] == "    " and line[4:5] != " ":
            key, value = _split(line[4:])
            if key in section or not isinstance(key, str) or not (
                    line[4:5] in ("'", '"') or reads_back_plain(key)):
                raise _Unexpected(line)
            section[key] = _head_scalar(value)
        elif isinstance(section, list) and line[:4] == "  - ":
            items: list[Any] = section
            if meta is None or items is not meta.get("channels"):
                items.append(_head_scalar(line[4:]))
                continue
            key, value = _split(line[4:])
            if key != "url":
                raise _Unexpected(line)
            channel = {"url": _head_scalar(value)}
            items.append(channel)
        elif channel is not None and line[:4] == "    " and line[4:5] != " ":
            key, value = _split(line[4:])
            if key != "used_env_vars" or key in channel or value.strip() != "[]":
                raise _Unexpected(line)
            channel[key] = []
        else:
            raise _Unexpected(line)
    return head


_PACKAGE_KEY = re.compile(r"^package:[ \t]*$\n?", re.MULTILINE)
_TOP_LEVEL_LINE = re.compile(r"^[^ \n-]", re.MULTILINE)


def fast_parse(text: str, platforms: Collection[str] | None = None) -> dict[str, Any] | None:
    """conda-lock's layout parsed without a YAML object model, or None to use full YAML.

    With ``platforms`` (and a lock that lists its platforms), the packages of other
    platforms are skipped without being parsed.
    """
    header = _PACKAGE_KEY.search(text)
    if header is None:
        return None
    following = _TOP_LEVEL_LINE.search(text, header.end())
    end = following.start() if following else len(text)
    rest = text[:header.start()] + text[end:]
    try:
        head = _parse_head(rest)
    except _Unexpected:
        import yaml

        try:
            head = yaml.load(rest, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except (yaml.YAMLError, *_UNBUILDABLE):
            return None
    if not isinstance(head, dict):
        return None
    section = text[header.end():end].splitlines()
    try:
        if platforms is not None and _lists_platforms(head):
            section = _platform_blocks(section, frozenset(platforms))
        head["package"] = _parse_packages(section)
    except _Unexpected:
        return None
    return head


def _platform_blocks(lines: list[str], platforms: frozenset[str]) -> list[str]:
    """The lines of the package entries whose ``platform`` is one of ``platforms``."""
    pieces = ("\n" + "\n".join(lines)).split("\n- ")
    if pieces[0].strip():
        raise _Unexpected(pieces[0])
    kept: list[str] = []
    for piece in pieces[1:]:
        block = "\n  " + piece
        at = block.find("\n  platform:")
        if at < 0 or block.find("\n  platform:", at + 1) >= 0:
            raise _Unexpected(piece)
        end = block.find("\n", at + 1)
        value = _scalar(_split(block[at + 3:end if end >= 0 else None])[1])
        if not isinstance(value, str) or value in platforms:  # odd values: kept, then refused
            kept += ("- " + piece).split("\n")
    return kept


_PIP_LINE = re.compile(r"^#\s*pip\s+(?P<name>[A-Za-z0-9._-]+)\s*@\s*(?P<url>\S+)$")


def read_explicit(path: Path, text: str | None = None) -> Lock:
    """Read an explicit lock (``@EXPLICIT`` followed by ``url#md5`` lines).

    Its content hash is the digest of its text: the explicit file is this lock's only input.
    ``text`` is the file's decoded text when the caller has already read it.
    """
    text = read_lock_text(path) if text is None else text
    platform = "linux-64"
    seen_marker = False
    before_marker: InputError | None = None
    packages: list[LockedPackage] = []
    problems = Problems()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        at = SourceLocation(path, number, 1)
        if not line or line == "@EXPLICIT":
            seen_marker = seen_marker or bool(line)
            continue
        with problems.collect():
            if line.startswith("# platform:"):
                written = line.split(":", 1)[1].strip()
                if not _PLATFORM.match(written):
                    raise InputError(f"invalid platform {written[:40]!r}",
                                     fix="write '# platform: linux-64'", location=at)
                platform = written
            elif pip := _PIP_LINE.match(line):
                packages.append(_explicit_pip(pip, platform, at))
            elif line.startswith("#"):
                pass
            elif not seen_marker:
                before_marker = before_marker or InputError(
                    "package line before '@EXPLICIT'",
                    fix="an explicit lock starts with '@EXPLICIT'; put it before the first URL",
                    location=at)
            else:
                packages.append(_explicit_package(line, platform, at))
    if not seen_marker:
        problems.add(InputError(
            "no '@EXPLICIT' line: not an explicit lock",
            fix="write it with `conda list --explicit --md5` or `conda-lock render -k explicit`",
            location=SourceLocation(path),
        ))
    elif before_marker is not None:
        problems.add(before_marker)
    problems.raise_all()
    import hashlib  # OpenSSL start-up: only when something is hashed

    return Lock(packages=tuple(packages), platforms=(platform,), path=path,
                channels=tuple(dict.fromkeys(p.channel for p in packages if p.channel)),
                content_hash={platform: hashlib.sha256(text.encode()).hexdigest()})


def _explicit_pip(pip: re.Match[str], platform: str, at: SourceLocation) -> LockedPackage:
    url, _, fragment = pip["url"].partition("#")
    sha256 = fragment.removeprefix("sha256=") if fragment.startswith("sha256=") else None
    if fragment and sha256 is None:
        raise InputError(f"pip line: unexpected fragment '#{fragment[:40]}'",
                         fix="a pip line ends in '#sha256=<64 hex digits>' or nothing",
                         location=at)
    return check_locked_package(
        LockedPackage(name=pip["name"], version=_pip_version_from_url(url), manager="pip",
                      platform=platform, url=url, sha256=sha256), at)


def _explicit_package(line: str, platform: str, at: SourceLocation) -> LockedPackage:
    url, _, fragment = line.partition("#")
    md5 = sha256 = None
    if fragment.startswith("sha256:"):
        sha256 = fragment.removeprefix("sha256:")
    elif fragment:
        md5 = fragment
    file_name = url.rsplit("/", 1)[-1]
    parts = split_conda_file_name(file_name)
    if parts is None or "/" not in url:
        from conda2docker.validate import shown

        raise InputError(
            f"not a conda package URL: {shown(url)}",
            fix="each line must be '<channel>/<subdir>/<name>-<version>-<build>.conda#<md5>'",
            location=at,
        )
    name, version, build = parts
    return check_locked_package(
        LockedPackage(name=name, version=version, manager="conda", platform=platform,
                      url=url, md5=md5, sha256=sha256, build=build), at, name_from_url=True)


def _pip_version_from_url(url: str) -> str:
    file_name = url.rsplit("/", 1)[-1]
    if file_name.endswith(".whl"):
        parts = file_name.split("-")
        return parts[1] if len(parts) > 2 else "0"
    stem = re.sub(r"\.(tar\.gz|zip|tar\.bz2|tgz)\Z", "", file_name)
    return stem.rsplit("-", 1)[-1] if "-" in stem else "0"


def read_lock(path: Path) -> Lock:
    """Read either lock format, chosen by content."""
    text = read_lock_text(path)
    if re.search(r"^@EXPLICIT\s*$", text[:65536], re.MULTILINE):
        return read_explicit(path, text)
    return read_conda_lock(path, text)


# --------------------------------------------------------------------------- categories

MAIN_CATEGORY = "main"


def lock_categories(lock: Lock) -> tuple[str, ...]:
    """The categories a lock's packages belong to, ``main`` first, then by name."""
    names = {p.category for p in lock.packages}
    return tuple(sorted(names, key=lambda c: (c != MAIN_CATEGORY, c)))


def select_categories(lock: Lock, categories: Collection[str]) -> tuple[Lock, dict[str, int]]:
    """The lock with only the packages of ``categories``, as micromamba installs a lock.

    conda-lock's v1 format lists a package once per category it belongs to (``main`` and
    ``dev`` entries of one package are identical but for ``category``); a package is kept
    when one of its entries is in ``categories``, and kept once. The second value counts the
    packages left out, by the (first) category they were listed under. Unknown category
    names are an :class:`InputError` naming the lock's categories.
    """
    present = lock_categories(lock)
    unknown = [c for c in categories if c not in present and c != MAIN_CATEGORY]
    if unknown:
        raise InputError(
            f"the lock has no category {', '.join(repr(c) for c in unknown)} "
            f"(it has: {', '.join(present) or 'none'})",
            fix="pass --category with one of the lock's categories",
            location=SourceLocation(lock.path) if lock.path else None,
        )
    chosen = frozenset(categories)
    wanted = {(p.platform, p.key) for p in lock.packages if p.category in chosen}
    kept: dict[tuple[str, str], LockedPackage] = {}
    left_out: dict[tuple[str, str], str] = {}
    for package in lock.packages:
        ident = (package.platform, package.key)
        if ident in wanted:
            if package.category in chosen:
                kept.setdefault(ident, package)
        else:
            left_out.setdefault(ident, package.category)
    counts: dict[str, int] = {}
    for category in left_out.values():
        counts[category] = counts.get(category, 0) + 1
    if not left_out and len(kept) == len(lock.packages):
        return lock, counts
    return replace(lock, packages=tuple(kept.values())), dict(sorted(counts.items()))


# --------------------------------------------------------------------------- writing


def topological_order(packages: Iterable[LockedPackage]) -> list[LockedPackage]:
    """Dependencies before dependents, otherwise the packages' own order.

    A depth-first walk in the given order that places each package's dependencies (in
    the order they were given) before it: a list already in dependency order comes back
    unchanged (an explicit lock as conda or conda-lock wrote it, or one without
    dependency data such as mamba's test locks), and a lock read from a conda-lock.yml
    (alphabetical) gives the same order every time. Cycles are cut where first met.
    """
    listed = list(packages)
    by_name = {p.name: p for p in listed}
    rank = {name: index for index, name in enumerate(by_name)}
    order: list[LockedPackage] = []
    state: dict[str, int] = {}

    def requirements(name: str) -> list[str]:
        return sorted((d for d in by_name[name].dependencies if d in by_name), key=rank.__getitem__)

    def visit(name: str) -> None:
        stack: list[tuple[str, list[str]]] = [(name, requirements(name))]
        state[name] = 1
        while stack:
            current, pending = stack[-1]
            while pending:
                dep = pending.pop(0)
                if dep not in state:
                    state[dep] = 1
                    stack.append((dep, requirements(dep)))
                    break
            else:
                stack.pop()
                state[current] = 2
                order.append(by_name[current])

    for name in by_name:
        if name not in state:
            visit(name)
    return order


def install_order(packages: Iterable[LockedPackage]) -> list[LockedPackage]:
    """The order an explicit lock lists (and micromamba installs) ``packages`` in.

    With dependency data (a solve, a conda-lock.yml): dependencies first, ties by name, so
    a fresh solve and the same lock read back from disk give the same bytes. Without any
    (an explicit input, mamba's test locks): the given order, which conda and conda-lock
    write dependencies-first.
    """
    listed = list(packages)
    if any(p.dependencies for p in listed):
        listed.sort(key=lambda p: p.name)
    return topological_order(listed)


def render_explicit(lock: Lock, platform: str, *, include_pip: bool = False) -> str:
    """The conda packages of one platform as an explicit lock (conda, micromamba and
    ``conda2docker``'s installer all read it).

    By default the text depends on the conda packages alone, so an image's conda layers stay
    cached when only pip packages change; ``include_pip`` adds them as ``# pip`` lines (the
    conda-lock extension, which micromamba would install) and the lock's input hash.
    """
    conda = install_order(lock.conda_packages(platform))
    lines = [f"# Generated by {GENERATOR}; do not edit.", f"# platform: {platform}"]
    digest = lock.content_hash.get(platform)
    if digest and include_pip:
        lines.append(f"# input_hash: {digest}")
    lines.append("@EXPLICIT")
    from conda2docker.validate import check_conda_url, check_pip_url

    for package in conda:
        check_conda_url(package.url)  # a solver's answer is untrusted too: no line injection
        if package.md5:
            lines.append(f"{package.url}#{package.md5}")
        elif package.sha256:
            lines.append(f"{package.url}#sha256:{package.sha256}")
        else:
            lines.append(package.url)
    for package in sorted(lock.pip_packages(platform) if include_pip else (), key=lambda p: p.name):
        check_pip_url(package.url)
        suffix = f"#sha256={package.sha256}" if package.sha256 else ""
        lines.append(f"# pip {package.name} @ {package.url}{suffix}")
    return "\n".join(lines) + "\n"


def lock_custom_metadata(lock: Lock) -> dict[str, str]:
    """The ``custom_metadata`` conda2docker records in a conda-lock file."""
    custom = {"generator": GENERATOR}
    if lock.roots:
        custom[ROOTS_KEY] = json.dumps(list(lock.roots))
    return custom


def conda_lock_text(lock: Lock, file_name: str = "conda-lock.yml") -> str:
    """``lock`` as the conda-lock v1 file named ``file_name``: the document conda-lock's own
    writer produces (``conda2docker.lock_writer``), without importing conda-lock."""
    from conda2docker.lock_writer import render_conda_lock

    for package in lock.packages:
        if package.manager == "conda" and not package.md5:
            raise InputError(
                f"conda package '{package.name}' has no md5 hash; conda-lock requires one",
                fix="re-solve the environment so every record carries its hashes",
            )
    return render_conda_lock(lock, file_name, lock_custom_metadata(lock))


def write_conda_lock(lock: Lock, path: Path) -> None:
    """Write ``lock`` as a conda-lock v1 file (conda-lock and micromamba read it)."""
    text = conda_lock_text(lock, path.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
