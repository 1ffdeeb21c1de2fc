"""Channel names to URLs, the way conda does it: ``channel_alias``, ``defaults``, mirrors.

A channel has a canonical URL (what the lock records, so the lock stays portable) and a
source URL (where the solver reads repodata: a mirror or a local copy).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from conda2docker.errors import InputError

DEFAULT_ALIAS = "https://conda.anaconda.org"
DEFAULTS_ROOT = "https://repo.anaconda.com"
DEFAULTS_CHANNELS = ("pkgs/main", "pkgs/r")
NO_DEFAULTS = "nodefaults"


@dataclass(frozen=True, slots=True)
class ChannelRef:
    """One channel: the name the user wrote, where the lock points, where we read."""

    name: str
    canonical_url: str
    source_url: str


def _is_url(text: str) -> bool:
    return "://" in text


def _strip(url: str) -> str:
    return url.rstrip("/")


def expand_channel(
    name: str,
    *,
    channel_alias: str | None = None,
    mirrors: Mapping[str, str] | None = None,
) -> list[ChannelRef]:
    """Expand one channel entry (``defaults`` expands to several)."""
    mirrors = mirrors or {}
    name = name.strip()
    if not name:
        raise InputError("empty channel name", fix="remove the empty entry from 'channels:'")
    if name == "defaults":
        return [
            expand_channel(sub, channel_alias=channel_alias, mirrors=mirrors)[0]
            for sub in DEFAULTS_CHANNELS
        ]
    if _is_url(name):
        canonical = _strip(name)
        return [ChannelRef(name, canonical, _strip(mirrors.get(name, canonical)))]
    if name in DEFAULTS_CHANNELS:
        canonical = f"{DEFAULTS_ROOT}/{name}"
    else:
        canonical = f"{DEFAULT_ALIAS}/{name}"
    if name in mirrors:
        source = _strip(mirrors[name])
    elif channel_alias:
        source = f"{_strip(channel_alias)}/{name}"
        canonical = source
    else:
        source = canonical
    return [ChannelRef(name, canonical, source)]


def expand_channels(
    names: Iterable[str],
    *,
    channel_alias: str | None = None,
    mirrors: Mapping[str, str] | None = None,
) -> list[ChannelRef]:
    """Expand the channel list in priority order, dropping ``nodefaults`` and duplicates."""
    refs: dict[str, ChannelRef] = {}
    for name in names:
        if name == NO_DEFAULTS:
            continue
        for ref in expand_channel(name, channel_alias=channel_alias, mirrors=mirrors):
            refs.setdefault(ref.source_url, ref)
    return list(refs.values())


def parse_mirror(text: str) -> tuple[str, str]:
    """``conda-forge=file:///srv/mirror/conda-forge`` → ``("conda-forge", "file:///…")``."""
    from conda2docker.validate import UnsafeValue, check_channel_name

    name, sep, url = text.partition("=")
    try:
        check_channel_name(url.strip())
        check_channel_name(name.strip())
    except UnsafeValue:
        sep = ""
    if not sep or not name.strip() or not _is_url(url.strip()):
        raise InputError(
            f"invalid --mirror {text!r}",
            fix="write --mirror NAME=URL, e.g. --mirror conda-forge=https://mirror.example/conda-forge",
        )
    return name.strip(), url.strip()


def parse_default_channels(text: str) -> tuple[str, ...]:
    """``--default-channels``: ``conda-forge``, ``defaults``, ``a,b`` or ``none`` (nothing)."""
    from conda2docker.validate import UnsafeValue, check_channel_name

    def invalid(name: str) -> bool:
        try:
            check_channel_name(name)
        except UnsafeValue:
            return True
        return name in (NO_DEFAULTS, "none")

    names = tuple(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    if names in ((), ("none",)):
        return ()
    bad = [n for n in names if invalid(n)]
    if bad:
        raise InputError(
            f"invalid --default-channels {text!r} ({', '.join(bad)})",
            fix="write channel names or URLs separated by commas (e.g. conda-forge or defaults), "
            "or none",
        )
    return names


def canonical_url(record_url: str, channels: Iterable[ChannelRef]) -> str:
    """Rewrite a record URL read from a source (mirror) to the channel's canonical URL."""
    for ref in channels:
        prefix = ref.source_url + "/"
        if record_url.startswith(prefix) and ref.source_url != ref.canonical_url:
            return ref.canonical_url + "/" + record_url[len(prefix):]
    return record_url


def source_url(record_url: str, channels: Iterable[ChannelRef]) -> str:
    """The inverse of :func:`canonical_url`: where to read a locked (canonical) URL from, when
    a ``--mirror`` or ``--channel-alias`` points its channel elsewhere."""
    for ref in channels:
        prefix = ref.canonical_url + "/"
        if record_url.startswith(prefix) and ref.source_url != ref.canonical_url:
            return ref.source_url + "/" + record_url[len(prefix):]
    return record_url
