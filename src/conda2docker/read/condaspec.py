"""One conda dependency string to a :class:`CondaDependency`, the way conda reads it.

Follows conda's ``MatchSpec`` string parser (``conda/models/match_spec.py``): the channel
before ``::``, the name up to the first operator or space, then version and build split on
the last ``=`` or space (``numpy=1.26.4=py311h64a7726_0``), and ``=1.2`` meaning ``1.2.*``.
It also accepts what conda accepts but stricter parsers reject: spaces around operators
(``python >= 3.8``, ``gatk4 =4.6.1.0``), a build after a range (``pytorch>=2.7.0=cuda12*``),
``=<``/``=>`` (``pandoc=<2.0.0``) and quoted versions (``python='3.10'``). Versions are
validated and normalised by rattler's lenient ``VersionSpec``.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from conda2docker.errors import InputError, SourceLocation
from conda2docker.model import CondaDependency
from conda2docker.values import frozen

NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*\Z")
_BUILD = re.compile(r"^[A-Za-z0-9_.*+!]+\Z")
_CHANNEL = re.compile(r"^(?:[A-Za-z0-9_.\-]+(?:/[A-Za-z0-9_.\-]+)*|[a-z][a-z0-9+.\-]*://\S+)\Z")
_NAME_AND_REST = re.compile(r"([^ =<>!~]+)?([><!=~ ].*)?\Z", re.DOTALL)
_VERSION_PLUS_BUILD = re.compile(r"((?:.+?)[^><!,|]?)(?:(?<![=!|,<>~])(?:[ =])([^-=,|<>~]+?))?\Z")
_PACKAGE_FILE = re.compile(
    r"^(?P<name>.+)-(?P<version>[^-]+)-(?P<build>[^-]+)\.(?:conda|tar\.bz2)\Z"
)
_URL_SCHEME = re.compile(r"^[a-z][a-z0-9+.\-]*://")
_OPERATOR_SPACE = re.compile(r"(==|!=|~=|<=|>=|<|>|,|\|)\s+")
_EXACT_PYTHON = re.compile(r"^(?:==)?(\d+\.\d+(?:\.\d+)?)(?:\.\*)?\Z")
_BRACKET_ITEM = re.compile(r"""\s*([A-Za-z0-9_-]+?)\s*=\s*(["']?)([^'"]*?)\2\s*(?:,|\s|\Z)""")
_SUBDIRS = frozenset({
    "noarch", "linux-64", "linux-aarch64", "linux-ppc64le", "linux-s390x", "linux-32",
    "linux-armv6l", "linux-armv7l", "osx-64", "osx-arm64", "win-64", "win-32", "win-arm64",
    "emscripten-wasm32", "wasi-wasm32", "zos-z",
})

SPEC_FIX = "write it as `name`, `name=1.2`, `name>=1.2,<2`, `name=1.2=build` or `channel::name=1.2`"


@frozen
class ParsedSpec:
    """A conda match spec read into a dependency."""
    dependency: CondaDependency
    rewrites: tuple[str, ...] = ()
    """Lenient forms that were rewritten (for a ``relaxed`` change)."""


def parse_conda_spec(text: str, location: SourceLocation | None = None) -> ParsedSpec:
    """Parse one conda dependency; a spec conda could not parse is an :class:`InputError`."""
    raw = text
    spec = text.strip()
    if not spec:
        raise InputError(
            "empty conda dependency", fix="remove the empty '-' entry", location=location
        )
    if spec.endswith((".conda", ".tar.bz2")) or (
        _URL_SCHEME.match(spec) and "::" not in spec
    ):
        return ParsedSpec(_from_package_url(spec, raw, location))
    if "#" in spec:  # conda drops a comment (MatchSpec step 1)
        spec = spec.split("#", 1)[0].strip()
        if not spec:
            raise InputError(
                "empty conda dependency", fix="remove the empty '-' entry", location=location
            )
    rewrites: list[str] = []
    channel: str | None = None
    if "::" in spec:
        channel, _, spec = spec.rpartition("::")
        channel, spec = channel.strip(), spec.strip()
        if not _CHANNEL.match(channel):
            raise _bad(raw, f"invalid channel {channel!r} before '::'", location)
        channel = _without_subdir(channel, rewrites)
    bracket: dict[str, str] = {}
    if spec.endswith("]") and "[" in spec:
        spec, _, inner = spec[:-1].partition("[")
        bracket = _bracket_items(inner, raw, location)
    match = _NAME_AND_REST.match(spec)
    name = match.group(1) if match else None
    rest = (match.group(2) or "").strip() if match else ""
    if not name:
        raise _bad(raw, "no package name", location)
    if not NAME.match(name):
        raise _bad(
            raw,
            f"invalid package name {name!r} (letters, digits, '_', '.', '-' only)",
            location,
        )
    if any(q in rest for q in "'\""):
        rest = rest.replace("'", "").replace('"', "")
        rewrites.append("quotes removed from the version")
    version, build = _version_and_build(rest, raw, location, rewrites)
    if "version" in bracket:
        version = bracket["version"]
    if "build" in bracket:
        build = bracket["build"]
    if "channel" in bracket:
        if not _CHANNEL.match(bracket["channel"]):
            raise _bad(raw, f"invalid channel {bracket['channel']!r} in brackets", location)
        channel = _without_subdir(bracket["channel"], rewrites)
    version = normalise_version(version, raw, location)
    if build is not None and not _BUILD.match(build):
        raise _bad(raw, f"invalid build string {build!r}", location)
    if build == "*":
        build = None
    dependency = CondaDependency(
        name=name.lower(),
        version=version,
        build=build,
        channel=channel or None,
        raw=raw,
        location=location,
    )
    return ParsedSpec(dependency, tuple(rewrites))


def _version_and_build(
    rest: str, raw: str, location: SourceLocation | None, rewrites: list[str]
) -> tuple[str, str | None]:
    if not rest:
        return "", None
    if "[" in rest or "]" in rest:
        raise _bad(raw, "brackets are only allowed at the end, as `name[version=...]`", location)
    for wrong, right in (("=<", "<="), ("=>", ">=")):
        if rest.startswith(wrong):
            rest = right + rest[len(wrong) :]
            rewrites.append(f"'{wrong}' read as '{right}'")
    # spaces after an operator or around ',' and '|' (`>=   0.12.3`, `>=1.5.0,  < 2.0.0`)
    rest = _OPERATOR_SPACE.sub(r"\1", rest)
    found = _VERSION_PLUS_BUILD.search(rest)
    if found is None:  # pragma: no cover - the pattern matches every non-empty string
        raise _bad(raw, "cannot split version and build", location)
    version = found.group(1).replace(" ", "")
    build = found.group(2).strip() if found.group(2) else None
    if version in ("=", "==") or re.fullmatch(r"[<>=!~]+", version):
        raise _bad(raw, f"operator {version!r} without a version", location)
    if re.search(r"~=[^,|]*\*", version):
        raise _bad(raw, f"'~=' cannot take a wildcard in {version!r}", location)
    return _sanitize_equals(version, build), build


def _sanitize_equals(version: str, build: str | None) -> str:
    """conda's reading of a version that starts with ``=`` (``_sanitize_version_str``).

    ``==1.2`` is exactly 1.2 and ``==1.2.*`` is the glob 1.2.* (conda drops the ``==``
    when no build follows); ``=1.2`` means 1.2.*, but ``=1.2=build`` and ``==1.2.*=build``
    keep the bare version (exactly 1.2, the glob 1.2.*).
    """
    if not version.startswith("="):
        return version
    bare = version.lstrip("=")
    if version.startswith("==") and build is None:
        return bare
    if any(c in bare for c in "=,|"):
        return version
    if build is None and not bare.endswith("*"):
        return bare + ".*"
    return bare


def normalise_version(version: str, raw: str, location: SourceLocation | None) -> str:
    """A conda version spec in rattler's canonical form; ``''`` for any version."""
    if version in ("", "*"):
        return ""
    from rattler import VersionSpec

    try:
        canonical = str(VersionSpec(version, strict=False))
    except Exception as exc:  # rattler raises its own InvalidVersionSpecError
        reason = " ".join(str(exc).split()) or "not a conda version spec"
        raise _bad(raw, f"invalid version {version!r} ({reason})", location) from exc
    return "" if canonical == "*" else canonical


def _bracket_items(inner: str, raw: str, location: SourceLocation | None) -> dict[str, str]:
    """``key=value`` items separated by commas or spaces, values optionally quoted (as conda)."""
    items: dict[str, str] = {}
    position = 0
    inner = inner.strip()
    while position < len(inner):
        found = _BRACKET_ITEM.match(inner, position)
        if found is None or found.end() == position:
            bad = inner[position:].split(",")[0].strip()
            raise _bad(raw, f"invalid bracket item {bad!r}", location)
        key, value = found.group(1), found.group(3).strip()
        if key not in ("version", "build", "channel"):
            raise _bad(
                raw, f"bracket key {key!r} is not supported (use version, build, channel)", location
            )
        items[key] = value
        position = found.end()
    return items


def _without_subdir(channel: str, rewrites: list[str]) -> str:
    """``conda-forge/linux-64`` → ``conda-forge``: conda reads the last part as the subdir."""
    head, _, last = channel.rpartition("/")
    if head and last in _SUBDIRS:
        rewrites.append(f"subdir '{last}' dropped from channel '{channel}'")
        return head
    return channel


def _from_package_url(spec: str, raw: str, location: SourceLocation | None) -> CondaDependency:
    if not _URL_SCHEME.match(spec):
        # A path to a package file is its file:// URL, as conda reads it (``path_to_url``);
        # a relative path is taken from the folder of the file that names it.
        path = Path(spec).expanduser()
        if not path.is_absolute() and location is not None:
            path = location.file.parent / path
        spec = path.absolute().as_uri()
    try:
        url = urlsplit(spec)
    except ValueError as exc:
        raise _bad(raw, f"invalid URL ({exc})", location) from exc
    parts = unquote(url.path).split("/")
    found = _PACKAGE_FILE.match(parts[-1])
    if found is None or len(parts) < 3:
        raise _bad(
            raw,
            "a URL dependency must point to a package file <channel>/<subdir>/<name>-<version>-<build>.conda",
            location,
        )
    if not NAME.match(found["name"]) or not _BUILD.match(found["build"]):
        raise _bad(raw, f"invalid package file name {parts[-1]!r}", location)
    # The channel is the URL's path above <subdir>/<file>: a query or fragment never moves it.
    channel = urlunsplit((url.scheme, url.netloc, url.path.rsplit("/", 2)[0], "", ""))
    return CondaDependency(
        name=found["name"].lower(),
        version=normalise_version(found["version"], raw, location),
        build=found["build"],
        channel=channel,
        raw=raw,
        location=location,
    )


def _bad(raw: str, problem: str, location: SourceLocation | None) -> InputError:
    return InputError(
        f"cannot parse conda dependency {raw.strip()!r}: {problem}",
        fix=SPEC_FIX,
        location=location,
    )


def python_version_of(version: str) -> str | None:
    """``3.10`` from an exact or ``3.10.*`` python pin; None for ranges or no pin."""
    found = _EXACT_PYTHON.match(version)
    return found.group(1) if found else None
