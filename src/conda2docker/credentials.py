"""Index credentials as pip handles them, and kept out of everything conda2docker writes.

pip expands ``${NAME}`` (upper-case letters, digits, ``_``) from the environment in every
line of a requirements file (``pip/_internal/req/req_file.py``, ``expand_env_variables``;
an undefined variable is left as written), and takes ``user:password@`` from an index URL
as HTTP basic auth for that host, including the files the index links to
(``MultiDomainBasicAuth``). conda2docker does the same at the moment it talks to an index;
the values never reach the lock, a generated file or a message: URLs are stored and shown
with their ``${NAME}`` placeholders, or with the credentials cut out (``****@``).

Conda channels take credentials as conda-lock records them (``conda_lock/models/channel.py``):
``https://${USER}:${PASSWORD}@host/channel`` or ``https://host/t/${TOKEN}/channel`` (``$NAME``
is read as ``${NAME}``). A part written out whose value an environment variable holds becomes
that variable (conda-lock's rule, preferring names ending in ``USER``, ``PASSWORD``, ``TOKEN``…);
the lock records the placeholders and lists the variables in ``used_env_vars``. A part written
out that no variable holds would be written into the lock as it is (conda-lock's behaviour): it
is refused instead (:func:`channel_lock_form`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from urllib.parse import SplitResult, unquote, urlsplit, urlunsplit

from conda2docker.values import frozen

ENV_VAR = re.compile(r"\$\{([A-Z0-9_]+)\}")
"""pip's form of an environment variable in a requirements file."""
_USERINFO = re.compile(r"(?P<scheme>(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]*://)(?P<auth>[^/@\s]+)@")
"""A URL's ``user:password@``; a scheme is tried only where a run of scheme characters starts,
so a long run before ``://`` is scanned once, not once per character (``redact`` reads whole
build logs)."""


def expand(text: str, environ: Mapping[str, str] | None = None) -> str:
    """``${NAME}`` replaced by its value where defined, as pip expands requirement files."""
    env = os.environ if environ is None else environ
    return ENV_VAR.sub(lambda m: env.get(m[1], m[0]), text)


def userinfo(url: str) -> str | None:
    """The ``user:password`` part of a URL as written (placeholders kept), or None."""
    found = _USERINFO.match(url.strip())
    return found["auth"] if found else None


def placeholders(url: str) -> tuple[str, ...]:
    """The ``${NAME}`` variables in a URL's ``user:password`` part."""
    auth = userinfo(url)
    return tuple(dict.fromkeys(ENV_VAR.findall(auth))) if auth else ()


def literal_credentials(url: str) -> bool:
    """Whether a URL carries a user or password written out rather than as ``${NAME}``."""
    auth = userinfo(url)
    return bool(auth) and bool(ENV_VAR.sub("", auth or "").strip(":"))


def split_auth(url: str) -> tuple[str, tuple[str, str] | None]:
    """``(url without user:password, (user, password))`` of an expanded URL."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    auth, _, host = parts.netloc.rpartition("@")
    user, _, password = auth.partition(":")
    clean = SplitResult(parts.scheme, host, parts.path, parts.query, parts.fragment)
    return urlunsplit(clean), (unquote(user), unquote(password))


def strip_auth(url: str) -> str:
    """The URL without its ``user:password@`` part."""
    return _USERINFO.sub(lambda m: m["scheme"], url, count=1)


_TOKEN_PATH = re.compile(r"(/t/)(?P<secret>[A-Za-z0-9\-_.]{8,})(/)")
"""A conda channel token (``https://conda.anaconda.org/t/<token>/channel``)."""
_URL_WORD = re.compile(r"[^\s'\"]+")
_URL_TOKEN = re.compile(r"/t/(?P<secret>[^/\s'\"]+)")
"""A ``/t/<token>`` segment after a URL's ``://``, of any length (conda's
``split_anaconda_token`` takes whatever follows ``/t/``); a ``${NAME}`` placeholder there is
kept. Found word by word, so the time stays linear in the text."""
_SECRET_QUERY = re.compile(r"(?i)([?&](?:token|access_token|api_key|apikey|password|secret)=)[^&#\s]+")


def redact(text: str) -> str:
    """``text`` fit for a message: every URL's ``user:password@`` shown as ``****@``, conda
    tokens (``/t/<token>/``) and secret query values (``?token=…``) as ``***``. The one
    redaction of the code base: errors, findings and command output all go through it."""
    if "://" not in text and "/t/" not in text and "=" not in text:
        return text
    text = _USERINFO.sub(lambda m: f"{m['scheme']}****@", text)
    text = _TOKEN_PATH.sub(r"\1***\3", text)
    text = _URL_WORD.sub(_mask_url_tokens, text)
    return _SECRET_QUERY.sub(r"\1***", text)


def _mask_url_tokens(word: re.Match[str]) -> str:
    text = word[0]
    scheme = text.find("://")
    if scheme < 0 or "/t/" not in text[scheme:]:
        return text
    return text[:scheme] + _URL_TOKEN.sub(
        lambda m: m[0] if _PLACEHOLDER.fullmatch(m["secret"]) else "/t/***", text[scheme:])


def with_userinfo(url: str, auth: str) -> str:
    """``url`` with ``auth`` (as written, e.g. ``${USER}:${PASSWORD}``) as its userinfo."""
    clean = strip_auth(url)
    scheme, sep, rest = clean.partition("://")
    return f"{scheme}{sep}{auth}@{rest}" if sep else clean


def index_auth(urls: Iterable[str | None]) -> tuple[tuple[str, str], ...]:
    """``(host, "${USER}:${PASSWORD}")`` for each index URL whose credentials are ``${NAME}``
    placeholders (what a build may be given); credentials written out are not carried."""
    found: dict[str, str] = {}
    for url in urls:
        if url and placeholders(url) and not literal_credentials(url):
            found.setdefault(urlsplit(strip_auth(url)).netloc, userinfo(url) or "")
    return tuple(found.items())


# ------------------------------------------------------------------ conda channels

_PLACEHOLDER = re.compile(r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)\}|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))")
"""``${NAME}`` or ``$NAME``, as conda-lock reads a credential part of a channel URL."""
_CHANNEL_TOKEN = re.compile(r"(?P<head>.*)/t/(?P<token>\$?\{?[A-Za-z0-9\-_]*\}?)(?P<tail>/.*)")
"""conda-lock's ``token_pattern``: the last ``/t/<token>/`` segment of a URL's path."""
_USER_SUFFIXES = ("USERNAME", "USER")
_PASSWORD_SUFFIXES = ("PASSWORD", "PASS", "TOKEN", "KEY")
_TOKEN_SUFFIXES = ("TOKEN", "CRED", "PASSWORD", "PASS", "KEY")


def _token_segment(path: str) -> tuple[str, str, str] | None:
    """``(before, token, after)`` of a URL path's ``/t/<token>`` segment: conda-lock's pattern
    (the last one followed by ``/``), or one that ends the path (conda's
    ``split_anaconda_token`` takes that too: ``https://host:8080/conda/t/tk-123-45``)."""
    found = _CHANNEL_TOKEN.fullmatch(path)
    if found:
        return (found["head"], found["token"], found["tail"]) if found["token"] else None
    head, sep, token = path.rpartition("/t/")
    return (head, token, "") if sep and token and "/" not in token else None


def _placeholder_name(part: str) -> str | None:
    found = _PLACEHOLDER.fullmatch(part)
    return (found["braced"] or found["bare"]) if found else None


def _variable_holding(value: str, suffixes: Sequence[str], environ: Mapping[str, str]) -> str | None:
    """The environment variable whose value is ``value`` (as written or percent-decoded),
    names ending in ``suffixes`` first: conda-lock's ``_detect_used_env_var``."""
    for suffix in (*suffixes, ""):
        candidates = {v: k for k, v in environ.items() if k.upper().endswith(suffix) and v}
        found = candidates.get(value) or candidates.get(unquote(value))
        if found:
            return found
    return None


@frozen
class ChannelUrl:
    """A channel URL as the lock records it, and what it takes to read it."""

    lock_url: str
    """Credentials as ``${NAME}`` placeholders (never a value)."""
    used_env_vars: tuple[str, ...]
    """The variables the placeholders name, sorted (conda-lock's ``used_env_vars``)."""
    written_out: tuple[str, ...] = ()
    """The credential parts written out that no variable holds (``user``, ``password``,
    ``token``): a channel with any is refused, since the lock would hold them."""


def channel_lock_form(url: str, environ: Mapping[str, str] | None = None) -> ChannelUrl:
    """``url``'s user, password and ``/t/<token>/`` parts as conda-lock records them: a
    placeholder (``$NAME`` or ``${NAME}``) as ``${NAME}``, a value an environment variable
    holds as that variable, anything else listed in ``written_out`` (and left as written)."""
    if "://" not in url or ("@" not in url and "/t/" not in url):
        return ChannelUrl(url, ())  # no credential part (every package URL of a lock is read)
    env = os.environ if environ is None else environ
    parts = urlsplit(url)
    used: set[str] = set()
    written: list[str] = []

    def lock_part(value: str, what: str, suffixes: Sequence[str]) -> str:
        name = _placeholder_name(value) or _variable_holding(value, suffixes, env)
        if name is None:
            written.append(what)
            return value
        used.add(name)
        return f"${{{name}}}"

    netloc = parts.netloc
    if "@" in netloc:
        auth, _, host = netloc.rpartition("@")
        user, colon, password = auth.partition(":")
        user = lock_part(user, "user", _USER_SUFFIXES) if user else user
        password = lock_part(password, "password", _PASSWORD_SUFFIXES) if password else password
        if written == ["user"] and password:
            written.clear()  # a user name beside a password placeholder is no secret
        netloc = f"{user}{colon}{password}@{host}"
    path = parts.path
    token = _token_segment(path)
    if token:
        head, value, tail = token
        path = f"{head}/t/{lock_part(value, 'token', _TOKEN_SUFFIXES)}{tail}"
    locked = urlunsplit(SplitResult(parts.scheme, netloc, path, parts.query, parts.fragment))
    return ChannelUrl(locked, tuple(sorted(used)), tuple(written))


def expand_channel_url(url: str, environ: Mapping[str, str] | None = None) -> tuple[str, tuple[str, ...]]:
    """``(url with its placeholders expanded, names that are not set)``: where the solver
    reads (conda-lock expands a channel URL with ``posixpath.expandvars``)."""
    env = os.environ if environ is None else environ
    missing: list[str] = []

    def value(found: re.Match[str]) -> str:
        name = found["braced"] or found["bare"]
        if env.get(name):
            return env[name]
        missing.append(name)
        return found[0]

    return _PLACEHOLDER.sub(value, url), tuple(dict.fromkeys(missing))


def credential_placeholders(url: str) -> tuple[str, ...]:
    """The ``${NAME}`` placeholders standing for a conda URL's user, password or token."""
    return channel_lock_form(url, {}).used_env_vars if "$" in url else ()


def without_placeholders(url: str) -> str:
    """``url`` with the placeholders (``${NAME}``, ``$NAME``) of its credential parts (only
    there) replaced by a plain word, for the checks of a URL's characters and of template
    placeholders: ``{`` and ``}`` stay refused anywhere else (pip would expand them in a path,
    and send a build arg anywhere). A URL Python cannot split (an unclosed ``[``, a bracketed
    host that is no IP address) has every placeholder replaced: its check refuses it as no URL
    (an ``x`` makes no bracketed host an address, so the replaced text cannot split either)."""
    if "$" not in url or "://" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return _PLACEHOLDER.sub("x", url)
    netloc, path = parts.netloc, parts.path
    if "@" in netloc:
        auth, _, host = netloc.rpartition("@")
        user, colon, password = auth.partition(":")
        plain = [("x" if _placeholder_name(p) else p) for p in (user, password)]
        netloc = f"{plain[0]}{colon}{plain[1]}@{host}"
    token = _token_segment(path)
    if token and _placeholder_name(token[1]):
        path = f"{token[0]}/t/x{token[2]}"
    return urlunsplit(SplitResult(parts.scheme, netloc, path, parts.query, parts.fragment))
