"""Values from untrusted inputs (locks, environment files, index answers, options), checked
before they reach a path, a command line or a generated file.

Every check returns the value it accepted (so it reads as ``url = check_conda_url(url)``)
or raises :class:`UnsafeValue`, a one-line :class:`~conda2docker.errors.InputError`.
Messages hide credentials through ``conda2docker.credentials.redact``.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from conda2docker.credentials import channel_lock_form, redact, without_placeholders
from conda2docker.errors import InputError, SourceLocation
from conda2docker.vcs import is_full_commit

#: conda fetches packages over these (micromamba and rattler too).
CONDA_URL_SCHEMES = frozenset({"https", "http", "file", "s3"})
#: pip installs from these (direct URLs and VCS URLs, PEP 440/508).
PIP_URL_SCHEMES = frozenset({
    "https", "http", "file",
    "git+https", "git+http", "git+ssh", "git+file", "git+git",
    "hg+https", "hg+http", "hg+ssh", "svn+https", "svn+http", "svn+svn", "bzr+https", "bzr+http",
})
#: BuildKit refuses a Dockerfile line longer than this (its scanner's buffer).
MAX_LINE = 65_535
MAX_URL = 4096

_CONTROL = re.compile(r"[\x00-\x1f\x7f\x80-\x9f\u2028\u2029]")
_UNSAFE_URL_CHAR = re.compile(r"[^!#-&(-;=?-\[\]_a-z~]")
"""Anything but printable ASCII without ``"'<>\\^`{|}``: controls, space, non-ASCII and those
ten. Written as the complement of what a URL may hold (a class reaching U+10FFFF takes
3.5 ms to compile, on every command's start)."""
_MD5 = re.compile(r"^[0-9a-fA-F]{32}\Z")
SHA256_HEX = re.compile(r"^[0-9a-f]{64}\Z")
"""A sha256 as conda2docker writes it (64 lowercase hex digits): the one pattern, for the lock
readers (which lowercase what they accept) and the plan (which takes only what they return)."""
_SUBDIR = re.compile(r"^[a-z0-9][a-z0-9_\-]*\Z")
_CONDA_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-+]*\Z")
_CONDA_FILE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-+!]*\.(?:conda|tar\.bz2)\Z")
PIP_NAME = re.compile(r"^([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9._\-]*[A-Za-z0-9])\Z")
"""A PEP 508 distribution name (the one pattern: lock readers and the plan check it)."""
_FRAGMENT = re.compile(r"^[A-Za-z0-9_.=&\-/]*\Z")

# The distribution reference grammar (github.com/distribution/reference, grammar.go).
_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = f"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_IPV6 = r"\[(?:[a-fA-F0-9:]+)\]"
_DOMAIN_NAME = f"{_DOMAIN_COMPONENT}(?:\\.{_DOMAIN_COMPONENT})*"
_HOST = f"(?:{_DOMAIN_NAME}|{_IPV6})"
_DOMAIN = f"{_HOST}(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_NAME = f"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_REFERENCE = re.compile(f"^{_NAME}(?::{_TAG})?(?:@{_DIGEST})?\\Z")
_ARG_ONLY = re.compile(r"^\$\{[A-Z_][A-Z0-9_]*\}\Z")
MAX_IMAGE_NAME = 255


class UnsafeValue(InputError):
    """A value from an input that the tool will not use (it could escape where it lands)."""


def _fail(message: str, fix: str, location: SourceLocation | None) -> UnsafeValue:
    return UnsafeValue(redact(message), fix=fix, location=location)


def shown(value: str, limit: int = 80) -> str:
    """``value`` as it may appear in a message: repr'd (control characters visible), short,
    credentials hidden."""
    text = redact(value)
    if len(text) > limit:
        text = text[:limit] + "…"
    return repr(text)




def has_control(text: str) -> bool:
    return _CONTROL.search(text) is not None


def check_text(value: str, what: str, *, location: SourceLocation | None = None,
               limit: int = MAX_LINE) -> str:
    """One line of free text (a name, a comment): no line break, no control character."""
    if has_control(value):
        raise _fail(f"{what} contains a line break or control character: {shown(value)}",
                    "remove the control characters", location)
    if len(value) > limit:
        raise _fail(f"{what} is {len(value)} characters long (the limit is {limit})",
                    "shorten it", location)
    return value


def comment_text(value: str) -> str:
    """Free text for a ``#`` comment of any generated file: line breaks and control characters
    become spaces (a comment must stay one comment), and the length stays within a line."""
    return _CONTROL.sub(" ", value)[:2000]


def check_file_name(name: str, what: str = "file name", *,
                    location: SourceLocation | None = None) -> str:
    """A single path component taken from an input: never a separator, ``..``, a leading
    dot, a control character, or empty."""
    if (not name or name in (".", "..") or name.startswith(".") or "/" in name or "\\" in name
            or has_control(name) or len(name) > 255):
        raise _fail(f"unsafe {what} {shown(name)}",
                    "a file name may not be empty, start with '.', or hold '/', '\\' or control "
                    "characters; regenerate the lock", location)
    return name


def _check_url_text(url: object, what: str, location: SourceLocation | None) -> str:
    if not isinstance(url, str):
        raise _fail(f"{what} must be a string, found {type(url).__name__}",
                    "regenerate the lock", location)
    if not url or len(url) > MAX_URL or _UNSAFE_URL_CHAR.search(url):
        raise _fail(f"{what} {shown(url)} holds whitespace, quotes, control or non-ASCII "
                    "characters, or is empty or too long",
                    "percent-encode the URL, or regenerate the lock", location)
    try:
        urlsplit(url)
    except ValueError as exc:  # an unclosed '[' of an IPv6 host: every later reading would fail
        raise _fail(f"{what} {shown(url)} is not a URL ({exc})",
                    "write the host as a name or a closed [IPv6] address, or regenerate the lock",
                    location) from None
    return url


def _path_segments(path: str) -> list[str]:
    return [unquote(s) for s in path.split("/")]


_MASKED_TOKEN = re.compile(r"/t/(?:<TOKEN>|\*{5}|\*{10})/")
"""A channel token as conda (``mask_anaconda_token``) and mamba 1 and 2 mask it in the explicit
files they export (conda-lock's ``normalize_url_with_placeholders`` knows the three)."""


_ORDINARY_CONDA_URL = re.compile(
    r"(?:https?|s3)://[A-Za-z0-9][A-Za-z0-9.\-]*(?::[0-9]{1,5})?"
    r"(?:/[A-Za-z0-9_+\-][A-Za-z0-9_.+\-]*)+"
    r"/[a-z0-9][a-z0-9_\-]*"
    r"/[A-Za-z0-9_][A-Za-z0-9_.\-+!]*-[A-Za-z0-9_.\-+!]*-[A-Za-z0-9_.+!]*\.(?:conda|tar\.bz2)\Z")
"""The URL of almost every locked package: a channel without credentials or token, path
segments that are names (no ``.``, ``..``, ``%``, placeholder), a subdir, a package file name.
Such a URL passes every check of :func:`check_conda_url`, which accepts it without parsing
(``tests/test_validate_url_chars.py`` checks that against the whole check)."""


def is_ordinary_conda_url(url: str) -> bool:
    """Whether ``url`` has the shape of :data:`_ORDINARY_CONDA_URL` (and no ``/t/`` part)."""
    return (len(url) <= MAX_URL and _ORDINARY_CONDA_URL.match(url) is not None
            and "/t/" not in url and len(url) - url.rindex("/") <= 256)


def check_conda_url(url: object, *, location: SourceLocation | None = None) -> str:
    """A conda package URL: an allowed scheme, ``…/<subdir>/<name>-<version>-<build>.conda``,
    no fragment (the md5 fragment is the tool's to write), no ``.``/``..`` segments."""
    if isinstance(url, str) and is_ordinary_conda_url(url):
        return url
    return check_conda_url_fully(url, location=location)


def check_conda_url_fully(url: object, *, location: SourceLocation | None = None) -> str:
    """:func:`check_conda_url` without its shortcut for ordinary URLs."""
    if isinstance(url, str) and _MASKED_TOKEN.search(url):
        raise _fail(f"conda package URL {shown(url)} holds a token masked when the file was exported "
                    "(conda writes <TOKEN>, mamba ***** or **********): it cannot be downloaded",
                    "put a ${NAME} placeholder in its place (https://host/t/${CONDA_TOKEN}/channel/…) and "
                    "give the build NAME, or lock again from the environment file", location)
    _check_url_text(without_placeholders(url) if isinstance(url, str) else url, "conda package URL",
                    location)
    assert isinstance(url, str)
    parts = urlsplit(url)
    written = channel_lock_form(url, {}).written_out
    if written:
        raise _fail(f"conda package URL {shown(url)} holds its channel's {' and '.join(written)} written out",
                    "lock again with the channel's credentials as ${NAME} placeholders "
                    "(https://host/t/${TOKEN}/channel): the lock keeps the names, the build is given the "
                    "values", location)
    if parts.scheme not in CONDA_URL_SCHEMES:
        raise _fail(f"conda package URL {shown(url)} has scheme {parts.scheme or '(none)'!r}",
                    f"use one of {', '.join(sorted(CONDA_URL_SCHEMES))}", location)
    if parts.fragment or "#" in url:
        raise _fail(f"conda package URL {shown(url)} carries a '#' fragment",
                    "put the hash in the lock's hash field, not in the URL", location)
    segments = _path_segments(parts.path)
    if len(segments) < 3 or any(s in (".", "..") for s in segments):
        raise _fail(f"not a conda package URL: {shown(url)}",
                    "each URL must be '<channel>/<subdir>/<name>-<version>-<build>.conda'", location)
    file_name, subdir = segments[-1], segments[-2]
    if not _CONDA_FILE.match(file_name) or file_name.count("-") < 2:
        raise _fail(f"not a conda package file name: {shown(file_name)}",
                    "each URL must end in '<name>-<version>-<build>.conda' or '.tar.bz2'", location)
    check_file_name(file_name, "conda package file name", location=location)
    if not _SUBDIR.match(subdir):
        raise _fail(f"unsafe channel subdir {shown(subdir)} in {shown(url)}",
                    "the directory before the file must be a platform such as linux-64 or noarch",
                    location)
    return url


def check_pip_url(url: object, *, location: SourceLocation | None = None) -> str:
    """A pip package URL: an allowed scheme, printable ASCII, a safe file name for archives."""
    url = _check_url_text(url, "pip package URL", location)
    parts = urlsplit(url)
    if parts.scheme not in PIP_URL_SCHEMES:
        raise _fail(f"pip package URL {shown(url)} has scheme {parts.scheme or '(none)'!r}",
                    f"use one of {', '.join(sorted(PIP_URL_SCHEMES))}", location)
    if not _FRAGMENT.match(parts.fragment) or ".." in parts.fragment:
        raise _fail(f"pip package URL {shown(url)} has an unsafe '#' fragment",
                    "remove the fragment; hashes belong in the lock's hash field", location)
    segments = _path_segments(parts.path)
    if any(s in (".", "..") for s in segments[1:]) or any(has_control(s) or "\\" in s
                                                          for s in segments):
        raise _fail(f"pip package URL {shown(url)} has '.', '..', '\\' or control characters "
                    "in its path", "use the canonical path", location)
    last = segments[-1]
    archive = last.lower().endswith((".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz"))
    if not parts.scheme.startswith(("git+", "hg+", "svn+", "bzr+")) and archive:
        check_file_name(last, "pip package file name", location=location)
    return url


def check_md5(value: object, *, location: SourceLocation | None = None) -> str:
    if not isinstance(value, str) or not _MD5.match(value):
        raise _fail(f"invalid md5 {shown(str(value))}", "an md5 is 32 hexadecimal digits", location)
    return value.lower()


def check_sha256(value: object, *, location: SourceLocation | None = None) -> str:
    """A sha256 in either case, returned lowercased (:data:`SHA256_HEX`)."""
    if not isinstance(value, str) or not SHA256_HEX.match(value.lower()):
        raise _fail(f"invalid sha256 {shown(str(value))}", "a sha256 is 64 hexadecimal digits",
                    location)
    return value.lower()


def check_conda_name(name: object, *, location: SourceLocation | None = None) -> str:
    if not isinstance(name, str) or not _CONDA_NAME.match(name) or len(name) > 255:
        raise _fail(f"invalid conda package name {shown(str(name))}",
                    "use letters, digits, '_', '.', '-' and '+'", location)
    return name


def check_pip_name(name: object, *, location: SourceLocation | None = None) -> str:
    if not isinstance(name, str) or not PIP_NAME.match(name) or len(name) > 255:
        raise _fail(f"invalid pip package name {shown(str(name))}",
                    "a PEP 508 name uses letters, digits, '.', '_' and '-'", location)
    return name


def check_git_commit(commit: str, url: str) -> str:
    """A VCS source is pinned only by a full commit id (a branch or tag can move)."""
    if not is_full_commit(commit):
        raise _fail(f"{shown(url)} is not pinned to a full commit id",
                    "re-lock so the git reference is a 40-character commit hash", None)
    return commit


def check_image_reference(ref: str, what: str = "image reference", *,
                          allow_arg: bool = False) -> str:
    """An image reference by the distribution reference grammar (``NAME[:TAG][@DIGEST]``),
    or (``allow_arg``) exactly one ``${ARG}``."""
    if allow_arg and _ARG_ONLY.match(ref):
        return ref
    name = ref.split("@", 1)[0]
    name = name.rsplit(":", 1)[0] if ":" in name.rsplit("/", 1)[-1] else name
    if not _REFERENCE.match(ref) or len(name) > MAX_IMAGE_NAME:
        raise _fail(f"invalid {what} {shown(ref)}",
                    "write NAME[:TAG][@sha256:DIGEST], e.g. debian:bookworm-slim", None)
    return ref


def check_channel_name(name: str, *, location: SourceLocation | None = None) -> str:
    """A channel as written in ``channels:`` or ``-c``: a name (``conda-forge``,
    ``pytorch/label/nightly``) or a URL; no whitespace or control characters."""
    if not name or has_control(name) or any(c.isspace() for c in name) or "#" in name:
        raise _fail(f"invalid channel {shown(name)}",
                    "a channel is a name such as conda-forge or a URL without spaces", location)
    if "://" in name:
        scheme = name.split("://", 1)[0]
        if scheme not in CONDA_URL_SCHEMES:
            raise _fail(f"channel URL {shown(name)} has scheme {scheme!r}",
                        f"use one of {', '.join(sorted(CONDA_URL_SCHEMES))}", location)
        _check_url_text(without_placeholders(name), "channel URL", location)
    elif name.startswith("-"):
        raise _fail(f"invalid channel {shown(name)}",
                    "a channel name cannot start with '-'", location)
    return name


def dockerignore_pattern(path: str) -> str:
    """A literal path as one ``.dockerignore`` line that matches exactly that file.

    ``*?[\\`` are escaped; a leading ``!`` or ``#`` (an exception, a comment) is escaped; a
    control character (a line break would start a new pattern such as ``!.git``) and
    leading or trailing white space (the reader trims it) become ``?``, which matches the
    one character there."""
    out = []
    for index, char in enumerate(path):
        edge = index == 0 or index == len(path) - 1
        if char in "*?[\\" or (index == 0 and char in "!#"):
            out.append("\\" + char)
        elif has_control(char) or (edge and char.isspace()):
            out.append("?")
        else:
            out.append(char)
    return "".join(out)
