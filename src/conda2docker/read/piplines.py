"""pip lines (a ``pip:`` block entry or a requirements-file line) to typed requirements.

Reads what conda hands to pip: option lines (``-r``, ``-e``, ``--index-url``, …), per-line
options (``dipy --only-binary dipy``), PEP 508 requirements, ``name @ url`` direct
references, VCS URLs (``git+https://…@ref#egg=name``), archive URLs and local paths.
Relative paths resolve against the environment file's folder, as ``conda env create`` runs
pip from there; ``-r`` files resolve against the file that names them and are read
recursively.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import SplitResult, parse_qsl, unquote, urlsplit, urlunsplit

from conda2docker.errors import InputError, Problems, SourceLocation
from conda2docker.model import PipOptions, PipRequirement, ReaderChange
from conda2docker.read.placeholders import find_placeholder

_COMMENT = re.compile(r"(^|\s+)#.*$")
_VCS = re.compile(r"^(?P<vcs>git|hg|svn|bzr)\+(?P<rest>.+)\Z", re.IGNORECASE)
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
_DIRECT_REF = re.compile(r"^\s*[A-Za-z0-9][A-Za-z0-9._\-]*\s*(\[[^\]]*\])?\s*@\s*\S")
_PROJECT_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])\Z", re.IGNORECASE)
_ARCHIVES = (".zip", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tar", ".whl")

REQUIREMENT_FIX = (
    "use a PEP 508 requirement (`name>=1.0`, `name[extra]==2.0; sys_platform == 'linux'`), "
    "`name @ https://…`, `git+https://host/repo.git@ref#egg=name` or a local path"
)

# Options pip accepts in a requirements file; True when the option takes a value.
_KEPT_OPTIONS: dict[str, bool] = {
    "--only-binary": True,
    "--no-binary": True,
    "--prefer-binary": False,
    "--no-index": False,
    "--trusted-host": True,
    "--use-feature": True,
    "--require-hashes": False,
    "--hash": True,
    "--config-settings": True,
    "-C": True,
    "--global-option": True,
    "--install-option": True,
}
_ALIASES = {
    "-r": "--requirement",
    "-e": "--editable",
    "-i": "--index-url",
    "-f": "--find-links",
    "-c": "--constraint",
}
_VALUE_OPTIONS = {
    "--requirement",
    "--constraint",
    "--editable",
    "--index-url",
    "--extra-index-url",
    "--find-links",
    *(name for name, takes in _KEPT_OPTIONS.items() if takes),
}


@dataclass(slots=True)
class PipReader:
    """Collects requirements, options and changes from pip lines of one input.

    ``root`` is the folder local paths resolve against. When ``platform`` is set, a
    requirement whose marker is false there is dropped (change ``S305``).
    """

    root: Path
    platform: str | None = None
    python_version: str | None = None
    requirements: list[PipRequirement] = field(default_factory=list)
    changes: list[ReaderChange] = field(default_factory=list)
    index_url: str | None = None
    extra_index_urls: list[str] = field(default_factory=list)
    find_links: list[str] = field(default_factory=list)
    pre: bool = False
    other: list[str] = field(default_factory=list)
    constraints: list[PipRequirement] = field(default_factory=list)
    locations: dict[str, SourceLocation] = field(default_factory=dict)
    _reading: list[Path] = field(default_factory=list)
    _in_constraints: bool = False

    @property
    def options(self) -> PipOptions:
        return PipOptions(
            index_url=self.index_url,
            extra_index_urls=tuple(dict.fromkeys(self.extra_index_urls)),
            find_links=tuple(dict.fromkeys(self.find_links)),
            pre=self.pre,
            other=tuple(dict.fromkeys(self.other)),
            constraints=tuple(self.constraints),
            locations=tuple(self.locations.items()),
        )

    def add_line(self, text: str, location: SourceLocation, folder: Path | None = None) -> None:
        """One pip entry; ``folder`` is where ``-r`` paths resolve (default: ``root``).

        Raises :class:`InputError` for a bad entry (:class:`InputErrors` with every bad line
        of an included file).
        """
        line = _COMMENT.sub("", text).strip()
        if not line:
            return
        folder = folder or self.root
        if line.startswith("-"):
            self._option_line(line, location, folder)
            return
        requirement_text, options = _split_options(line)
        _refuse_placeholder(requirement_text, location)
        requirement = parse_requirement(requirement_text, location, self.root, raw=text)
        if self._in_constraints:
            self.constraints.append(_constraint(requirement, location))
            return
        if options:
            hashes = self._per_line_options(options, requirement_text, location)
            if hashes:
                requirement = replace(requirement, hashes=hashes)
        self._add(requirement)

    def read_constraints(self, path: Path, location: SourceLocation) -> None:
        """Read a constraints file (``-c``): each line limits a package's versions."""
        outer, self._in_constraints = self._in_constraints, True
        try:
            self.read_file(path, location, what="constraints")
        finally:
            self._in_constraints = outer

    def read_file(self, path: Path, location: SourceLocation, what: str = "requirements") -> None:
        """Read a requirements file (and the files it includes) into this reader."""
        from conda2docker.read.decode import decode

        flag = "-c" if what == "constraints" else "-r"
        path = Path(os.path.normpath(path.absolute()))
        if path in self._reading:
            chain = " -> ".join(p.name for p in (*self._reading, path))
            raise InputError(
                f"{what} files include each other in a loop ({chain})",
                fix=f"remove one of the {flag} lines",
                location=location,
            )
        from conda2docker.read.decode import MAX_INCLUDE_DEPTH, MAX_REQUIREMENTS_FILE, read_limited

        if len(self._reading) >= MAX_INCLUDE_DEPTH:
            raise InputError(
                f"{what} files include each other more than {MAX_INCLUDE_DEPTH} levels deep",
                fix=f"flatten the {flag} chain", location=location,
            )
        if not path.exists() and not path.is_symlink():
            raise InputError(
                f"{what} file {path} does not exist",
                fix="create it, fix the path (relative paths start at the file that names "
                f"it), or remove the {flag} line",
                location=location,
            )
        data = read_limited(path, limit=MAX_REQUIREMENTS_FILE, what=f"{what} file",
                            location=location)
        decoded = decode(data, path)
        self.changes.extend(decoded.changes)
        self._reading.append(path)
        problems = Problems()
        try:
            for number, column, line in logical_lines(decoded.text):
                try:
                    self.add_line(line, SourceLocation(path, number, column), path.parent)
                except InputError as error:
                    shown = self._shown(error, path, what, flag)
                    if shown is not error:
                        raise shown from None  # a file outside the folder: its first bad line
                    problems.add(error)
        finally:
            self._reading.pop()
        problems.raise_all()

    def _add(self, requirement: PipRequirement) -> None:
        if requirement.editable:
            self.changes.append(
                ReaderChange(
                    action="relaxed",
                    subject=requirement.name or requirement.raw.strip(),
                    reason="editable install (-e): the image installs it as a regular, "
                    "non-editable package",
                    code="R509",
                    detail=requirement.raw.strip(),
                    location=requirement.location,
                )
            )
        if requirement.marker and self.platform is not None:
            from conda2docker.read.markers import marker_applies

            try:
                applies = marker_applies(requirement.marker, self.platform, self.python_version)
            except (ValueError, LookupError) as exc:  # packaging: UndefinedEnvironmentName…
                raise InputError(
                    f"cannot evaluate the marker `{requirement.marker[:200]}`: {exc}",
                    fix="use PEP 508 marker variables (python_version, sys_platform, …)",
                    location=requirement.location,
                ) from exc
            if not applies:
                self.changes.append(
                    ReaderChange(
                        action="dropped",
                        subject=requirement.name or requirement.raw.strip(),
                        reason=f"marker `{requirement.marker}` is false on {self.platform}"
                        + (f" with python {self.python_version}" if self.python_version else ""),
                        code="S305",
                        detail=requirement.raw.strip(),
                        location=requirement.location,
                    )
                )
                return
        self.requirements.append(requirement)

    def _option_line(self, line: str, location: SourceLocation, folder: Path) -> None:
        tokens = _shlex(line, location)
        index = 0
        while index < len(tokens):
            token = tokens[index]
            index += 1
            name, value = _option_name_value(token)
            if name is None:
                raise InputError(
                    f"unexpected {token!r} in pip option line {line!r}",
                    fix="put one option per line, or one requirement per line",
                    location=location,
                )
            if name in _VALUE_OPTIONS and value is None:
                if index >= len(tokens):
                    raise InputError(
                        f"pip option {name} needs a value",
                        fix=f"write `{name} VALUE`",
                        location=location,
                    )
                value = tokens[index]
                index += 1
            self._option(name, value, line, location, folder)

    def _option(
        self, name: str, value: str | None, line: str, location: SourceLocation, folder: Path
    ) -> None:
        if self._in_constraints and name not in ("--requirement", "--constraint"):
            raise InputError(
                f"option {name} in a constraints file",
                fix="keep only `name<op>version` lines in a constraints file; put pip options "
                "in the environment's pip: block or its requirements file",
                location=location,
            )
        read_requirements = self.read_constraints if self._in_constraints else self.read_file
        handlers: dict[str, Callable[[str], None]] = {
            "--requirement": lambda v: self._include(read_requirements, _local_path(v, folder),
                                                     location, "-r", line),
            "--constraint": lambda v: self._include(self.read_constraints,
                                                    _local_path(v, folder), location, "-c", line),
            "--editable": lambda v: self._add(
                parse_requirement(
                    _refuse_placeholder(v, location), location, self.root, raw=line, editable=True
                )
            ),
            "--index-url": lambda v: setattr(self, "index_url", v),
            "--extra-index-url": self.extra_index_urls.append,
            "--find-links": lambda v: self.find_links.append(_link(v, self.root)),
        }
        if value is not None and name in handlers:
            handlers[name](value)
            if name in ("--index-url", "--extra-index-url", "--find-links"):
                self.locations.setdefault(value if name != "--find-links" else
                                          _link(value, self.root), location)
            return
        if name == "--pre":
            self.pre = True
            return
        text = name if value is None else f"{name} {value}"
        if name == "--hash":
            self.changes.append(
                ReaderChange(
                    action="ignored",
                    subject=text,
                    reason="per-requirement hash; the lock records the hash of every file it "
                    "pins, and the image installs from the lock",
                    code="R508",
                    detail=line,
                    location=location,
                )
            )
            return
        known = name in _KEPT_OPTIONS
        self.other.append(text)
        self.changes.append(
            ReaderChange(
                action="ignored",
                subject=text,
                reason=(
                    "not used: the image installs exactly the locked files, where this option "
                    "changes nothing"
                    if known
                    else "not a pip option (pip itself refuses the file); not used"
                ),
                code="R508",
                detail=line,
                location=location,
            )
        )

    def _shown(self, error: InputError, path: Path, what: str, flag: str) -> InputError:
        """``error`` as it may be shown: a line of a file outside the input's folder
        (``-r /etc/shadow``) may be no requirements file at all, so its content never
        appears in a message, only where it is."""
        if _inside(path, self.root) or error.location is None or error.location.file != path:
            return error
        return InputError(
            f"this line of a {what} file outside {self.root} is not a valid pip line "
            "(its content is not shown)",
            fix=f"check the file, or remove the {flag} line", location=error.location,
        )

    def _include(self, read: Callable[[Path, SourceLocation], None], path: Path,
                 location: SourceLocation, flag: str, line: str) -> None:
        """Read an included file; one that does not exist is a change (R512), not an error:
        the rest of the file can still be read and audited. A lock needs it (resolve says so)."""
        if path.exists() or path in self._reading:
            read(path, location)
            return
        what = "constraints" if flag == "-c" else "requirements"
        self.changes.append(
            ReaderChange(
                action="ignored",
                subject=str(path),
                reason=f"{what} file {path} does not exist; its packages are not read",
                code="R512",
                detail=line,
                location=location,
            )
        )

    def _per_line_options(
        self, options: str, requirement: str, location: SourceLocation
    ) -> tuple[str, ...]:
        """Apply a requirement line's options; its ``--hash`` values are returned (pip
        installs that requirement only from a file with one of those hashes)."""
        tokens = _shlex(options, location)
        hashes: list[str] = []
        index = 0
        while index < len(tokens):
            name, value = _option_name_value(tokens[index])
            index += 1
            if name is None:
                raise InputError(
                    f"unexpected {tokens[index - 1]!r} after requirement {requirement!r}",
                    fix="put one requirement per line",
                    location=location,
                )
            if name in _VALUE_OPTIONS and value is None and index < len(tokens):
                value = tokens[index]
                index += 1
            if name == "--hash" and value is not None:
                hashes.append(_hash_value(value, location))
                continue
            self._option(name, value, f"{requirement} {options}", location, self.root)
        return tuple(dict.fromkeys(hashes))


_HASH = re.compile(r"^(sha256|sha384|sha512):([0-9a-fA-F]+)\Z")
_HASH_LENGTH = {"sha256": 64, "sha384": 96, "sha512": 128}


def _hash_value(value: str, location: SourceLocation) -> str:
    """``sha256:<hex>`` as pip's ``--hash`` takes it, lower-cased; anything else is an error."""
    found = _HASH.match(value.strip())
    if found is None or len(found[2]) != _HASH_LENGTH[found[1]]:
        raise InputError(
            f"invalid --hash {value!r}",
            fix="write --hash=sha256:<64 hex digits> (pip also accepts sha384 and sha512)",
            location=location,
        )
    return f"{found[1]}:{found[2].lower()}"


def _constraint(requirement: PipRequirement, location: SourceLocation) -> PipRequirement:
    """A constraints-file line, which pip allows only as a name, a version range and a marker."""
    if requirement.kind != "registry" or requirement.extras or requirement.editable:
        raise InputError(
            f"constraint {requirement.raw.strip()!r} is not a package name with a version range",
            fix="write `name==1.2` or `name>=1,<2` (pip allows no extras, URLs or paths in "
            "constraints); put the source itself in the requirements",
            location=location,
        )
    return requirement


def _refuse_placeholder(text: str, location: SourceLocation) -> str:
    """Index URLs may use ``${TOKEN}`` (pip expands it), and so may the ``user:password@``
    part of a requirement's URL (expanded when the index is asked and by pip in the build,
    never stored expanded); anywhere else in a requirement a placeholder means a template."""
    auth = _URL_USERINFO.search(text)
    outside = text[:auth.start("auth")] + text[auth.end("auth"):] if auth else text
    inside = auth["auth"] if auth else ""
    placeholder = find_placeholder(outside) or find_placeholder(_PIP_ENV_VAR.sub("", inside))
    if placeholder is not None:
        raise InputError(
            f"pip entry {text.strip()!r} contains the template placeholder {placeholder}",
            fix="this file is a template: render it (replace the placeholder with a real "
            "requirement) or remove the entry; pip expands ${NAME} only in a URL's "
            "user:password@ part",
            location=location,
        )
    return text


_URL_USERINFO = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://(?P<auth>[^/@\s]+)@")
_PIP_ENV_VAR = re.compile(r"\$\{[A-Z0-9_]+\}")


def logical_lines(text: str) -> list[tuple[int, int, str]]:
    """Requirements-file lines: continuations joined, comments removed, with line and column."""
    lines: list[tuple[int, int, str]] = []
    pending: list[str] = []
    start = 0
    for number, physical in enumerate(text.split("\n"), start=1):
        if not pending:
            start = number
        if physical.endswith("\\") and not _COMMENT.search(physical):
            pending.append(physical[:-1])
            continue
        pending.append(physical)
        joined = _COMMENT.sub("", "".join(pending))
        pending = []
        if joined.strip():
            column = len(joined) - len(joined.lstrip()) + 1
            lines.append((start, column, joined.strip()))
    if pending and "".join(pending).strip():
        lines.append((start, 1, "".join(pending).strip()))
    return lines


def parse_requirement(
    text: str,
    location: SourceLocation | None,
    root: Path,
    *,
    raw: str | None = None,
    editable: bool = False,
) -> PipRequirement:
    """One requirement (no options) to a :class:`PipRequirement`."""
    raw = text if raw is None else raw
    text = text.strip()
    if not text:
        raise InputError("empty pip requirement", fix="remove the empty entry", location=location)
    if _VCS.match(text):
        return _vcs(text, None, (), None, raw, location, editable)
    if _DIRECT_REF.match(text):
        return _direct_reference(text, raw, location, root, editable)
    if _URL.match(text):
        url, marker = _split_marker(text, "; ", location)
        return _url(url, None, (), marker, raw, location, root, editable)
    if _looks_like_path(text):
        return _path(text, raw, location, root, editable)
    if editable:
        raise InputError(
            f"-e {text!r} is not a local path or a VCS URL",
            fix="use `-e ./path` or `-e git+https://…#egg=name`, or drop the -e",
            location=location,
        )
    return _registry(text, raw, location)


def _registry(text: str, raw: str, location: SourceLocation | None) -> PipRequirement:
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    try:
        requirement = Requirement(text)
    except InvalidRequirement as exc:
        problem = str(exc).splitlines()[0]
        raise InputError(
            f"cannot parse pip requirement {requirement_excerpt(text, exc)}: {problem}",
            fix=_requirement_hint(text),
            location=location,
        ) from exc
    return PipRequirement(
        kind="registry",
        raw=raw,
        name=canonicalize_name(requirement.name),
        specifier=str(requirement.specifier),
        extras=tuple(sorted(requirement.extras)),
        marker=str(requirement.marker) if requirement.marker else None,
        location=location,
    )


_CONDA_STYLE_PIN = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._\-]*)(?P<extras>\[[^\]]*\])?\s*=\s*(?P<version>[^=<>!~\s;]+)"
    r"(?P<rest>\s*(;.*)?)\Z"
)


def _requirement_hint(text: str) -> str:
    """The fix for an unparseable requirement; a conda-style ``name=1.0`` gets ``name==1.0``."""
    found = _CONDA_STYLE_PIN.match(text.strip())
    if found is not None:
        fixed = f"{found['name']}{found['extras'] or ''}=={found['version']}{found['rest']}"
        return f"write `{fixed.strip()}`: pip pins a version with `==` (a single `=` is conda's form)"
    return REQUIREMENT_FIX


def _direct_reference(
    text: str, raw: str, location: SourceLocation | None, root: Path, editable: bool
) -> PipRequirement:
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    try:
        requirement = Requirement(text)
    except InvalidRequirement as exc:
        problem = str(exc).splitlines()[0]
        raise InputError(
            f"cannot parse pip requirement {requirement_excerpt(text, exc)}: {problem}",
            fix="write a direct reference as `name @ https://…` or `name @ git+https://…@ref`",
            location=location,
        ) from exc
    name = canonicalize_name(requirement.name)
    extras = tuple(sorted(requirement.extras))
    marker = str(requirement.marker) if requirement.marker else None
    url = requirement.url or ""
    if _VCS.match(url):
        return _vcs(url, name, extras, marker, raw, location, editable)
    return _url(url, name, extras, marker, raw, location, root, editable)


def _vcs(
    text: str,
    name: str | None,
    extras: tuple[str, ...],
    marker: str | None,
    raw: str,
    location: SourceLocation | None,
    editable: bool,
) -> PipRequirement:
    if marker is None:
        text, marker = _split_marker(text, "; ", location)
    found = _VCS.match(text)
    assert found is not None
    vcs, rest = found["vcs"].lower(), found["rest"]
    address, _, fragment = rest.partition("#")
    if "://" not in address:
        raise InputError(
            f"VCS URL {text!r} has no scheme",
            fix=f"write it as {vcs}+https://host/path or {vcs}+ssh://user@host/path",
            location=location,
        )
    parts = _urlsplit(address, raw, location)
    path, ref = parts.path, None
    if "@" in path:
        path, ref = path.rsplit("@", 1)
    params = dict(parse_qsl(fragment, keep_blank_values=True))
    egg = params.pop("egg", None)
    if egg is not None:
        name = name or _egg_name(egg, raw, location)
    url = urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))
    if "subdirectory" in params:
        url += "#subdirectory=" + params["subdirectory"]
    return PipRequirement(
        kind="vcs",
        raw=raw,
        name=name,
        extras=extras,
        marker=marker,
        url=url,
        vcs=vcs,
        ref=ref or None,
        editable=editable,
        location=location,
    )


def _url(
    url: str,
    name: str | None,
    extras: tuple[str, ...],
    marker: str | None,
    raw: str,
    location: SourceLocation | None,
    root: Path,
    editable: bool,
) -> PipRequirement:
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    address, _, fragment = url.partition("#")
    params = parse_qsl(fragment, keep_blank_values=True)
    kept = [(k, v) for k, v in params if k != "egg"]
    egg = next((v for k, v in params if k == "egg"), None)
    if egg is not None and name is None:
        name = _egg_name(egg, raw, location)
    parts = _urlsplit(address, raw, location)
    if parts.scheme == "file":
        from urllib.request import url2pathname

        local = Path(url2pathname(unquote(parts.path)))
        return PipRequirement(
            kind="path",
            raw=raw,
            name=name,
            extras=extras,
            marker=marker,
            path=Path(os.path.normpath(root / local)),
            editable=editable,
            location=location,
        )
    file_name = unquote(parts.path.rsplit("/", 1)[-1])
    if name is None and file_name.endswith(".whl"):
        try:
            name = parse_wheel_filename(file_name)[0]
        except InvalidWheelFilename:
            name = None
    if editable:
        raise InputError(
            f"-e {url!r}: an archive URL cannot be installed editable",
            fix="drop the -e, or use a VCS URL (git+https://…)",
            location=location,
        )
    fragment_text = "&".join(f"{k}={v}" for k, v in kept)
    return PipRequirement(
        kind="url",
        raw=raw,
        name=name,
        extras=extras,
        marker=marker,
        url=address + (f"#{fragment_text}" if fragment_text else ""),
        location=location,
    )


def _path(
    text: str, raw: str, location: SourceLocation | None, root: Path, editable: bool
) -> PipRequirement:
    from packaging.markers import InvalidMarker, Marker

    body, _, marker_text = text.partition(";")
    marker: str | None = None
    if marker_text.strip():
        try:
            marker = str(Marker(marker_text.strip()))
        except InvalidMarker as exc:
            raise InputError(
                f"invalid environment marker {marker_text.strip()!r}: {exc}",
                fix="write markers as `; sys_platform == 'linux'` (PEP 508)",
                location=location,
            ) from exc
    body, _, fragment = body.strip().partition("#")
    name: str | None = None
    egg = dict(parse_qsl(fragment)).get("egg")
    if egg:
        name = _egg_name(egg, raw, location)
    extras: tuple[str, ...] = ()
    found = re.match(r"^(.*?)\[([^\]]*)\]\Z", body)
    if found:
        body = found.group(1)
        extras = tuple(sorted(e.strip().lower() for e in found.group(2).split(",") if e.strip()))
    return PipRequirement(
        kind="path",
        raw=raw,
        name=name,
        extras=extras,
        marker=marker,
        path=_local_path(body, root),
        editable=editable,
        location=location,
    )


def _egg_name(egg: str, raw: str, location: SourceLocation | None) -> str:
    from packaging.utils import canonicalize_name

    if not _PROJECT_NAME.match(egg):
        raise InputError(
            f"invalid #egg= name {egg!r} in {raw.strip()!r}",
            fix="use #egg=<project name> (no version or extras), or `name @ url`",
            location=location,
        )
    return canonicalize_name(egg)


def _split_marker(
    text: str, separator: str, location: SourceLocation | None
) -> tuple[str, str | None]:
    from packaging.markers import InvalidMarker, Marker

    if separator not in text:
        return text.strip(), None
    body, _, marker_text = text.partition(separator)
    try:
        return body.strip(), str(Marker(marker_text.strip()))
    except InvalidMarker as exc:
        raise InputError(
            f"invalid environment marker {marker_text.strip()!r}: {exc}",
            fix="write markers as `; sys_platform == 'linux'` (PEP 508)",
            location=location,
        ) from exc


def _looks_like_path(text: str) -> bool:
    head = text.split(";", 1)[0].strip()
    bare = re.sub(r"\[[^\]]*\]\Z", "", head.split("#", 1)[0])
    return (
        bare.startswith((".", "/", "~"))
        or "/" in bare
        or "\\" in bare
        or bool(re.match(r"^[A-Za-z]:", bare))
        or bare.lower().endswith(_ARCHIVES)
    )


def _local_path(text: str, folder: Path) -> Path:
    cleaned = os.path.expanduser(text.strip().replace("\\", "/"))
    return Path(os.path.normpath(folder.absolute() / cleaned))


def _link(value: str, root: Path) -> str:
    return value if _URL.match(value) else str(_local_path(value, root))


def _split_options(line: str) -> tuple[str, str]:
    """pip's rule: the requirement ends at the first word that starts with '-'."""
    words = line.split(" ")
    for index, word in enumerate(words):
        if word.startswith("-"):
            return " ".join(words[:index]).strip(), " ".join(words[index:]).strip()
    return line, ""


def _option_name_value(token: str) -> tuple[str | None, str | None]:
    if token.startswith("--"):
        name, sep, value = token.partition("=")
        return name, (value if sep else None)
    if token.startswith("-") and len(token) >= 2:
        name = _ALIASES.get(token[:2], token[:2])
        return name, (token[2:].lstrip("=") or None)
    return None, None


def _shlex(text: str, location: SourceLocation | None) -> list[str]:
    try:
        return shlex.split(text, posix=True)
    except ValueError as exc:
        raise InputError(
            f"cannot split pip line {text!r}: {exc}",
            fix="balance the quotes on this line",
            location=location,
        ) from exc


def _urlsplit(url: str, raw: str, location: SourceLocation | None) -> SplitResult:
    try:
        return urlsplit(url)
    except ValueError as exc:
        raise InputError(
            f"invalid URL in {raw.strip()!r}: {exc}",
            fix="check the URL (brackets are only valid around an IPv6 address)",
            location=location,
        ) from exc


def requirement_excerpt(text: str, exc: Exception) -> str:
    """The part of a requirement line that parsed before the error, for a message: a line
    from a file that is no requirements file (``-r /etc/shadow``) never appears whole.

    packaging's message shows the line indented by four spaces and a ``^`` under the error."""
    from conda2docker.credentials import redact

    lines = str(exc).splitlines()
    column = 0
    if len(lines) >= 3 and lines[-1].strip() == "^":
        column = max(0, lines[-1].index("^") - 4)
    shown = text[:min(column, 60)].strip()
    return f"{redact(shown)!r}…" if shown else f"(a line of {len(text)} characters)"


def _inside(path: Path, root: Path) -> bool:
    real = Path(os.path.realpath(path))
    return real.is_relative_to(Path(os.path.realpath(root)))
