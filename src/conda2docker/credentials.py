"""Index credentials as pip handles them, and kept out of everything conda2docker writes.

pip expands ``${NAME}`` (upper-case letters, digits, ``_``) from the environment in every
line of a requirements file (``pip/_internal/req/req_file.py``, ``expand_env_variables``;
an undefined variable is left as written), and takes ``user:password@`` from an index URL
as HTTP basic auth for that host, including the files the index links to
(``MultiDomainBasicAuth``). conda2docker does the same at the moment it talks to an index;
the values never reach the lock, a generated file or a message: URLs are stored and shown
with their ``${NAME}`` placeholders, or with the credentials cut out (``****@``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from urllib.parse import SplitResult, unquote, urlsplit, urlunsplit

ENV_VAR = re.compile(r"\$\{([A-Z0-9_]+)\}")
"""pip's form of an environment variable in a requirements file."""
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<auth>[^/@\s]+)@")


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
_SECRET_QUERY = re.compile(r"(?i)([?&](?:token|access_token|api_key|apikey|password|secret)=)[^&#\s]+")


def redact(text: str) -> str:
    """``text`` fit for a message: every URL's ``user:password@`` shown as ``****@``, conda
    tokens (``/t/<token>/``) and secret query values (``?token=…``) as ``***``. The one
    redaction of the code base: errors, findings and command output all go through it."""
    if "://" not in text and "/t/" not in text and "=" not in text:
        return text
    text = _USERINFO.sub(lambda m: f"{m['scheme']}****@", text)
    text = _TOKEN_PATH.sub(r"\1***\3", text)
    return _SECRET_QUERY.sub(r"\1***", text)


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
