"""Channel names to URLs, the way conda does it: ``channel_alias``, ``defaults``, mirrors.

A channel has a canonical URL (what the lock records, so the lock stays portable) and a
source URL (where the solver reads repodata: a mirror or a local copy). Credentials in a
channel URL are recorded as conda-lock records them (``${NAME}`` placeholders, see
``credentials.channel_lock_form``) and expanded only in the source URL.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from conda2docker.errors import InputError
from conda2docker.values import frozen

DEFAULT_ALIAS = "https://conda.anaconda.org"
DEFAULTS_ROOT = "https://repo.anaconda.com"
DEFAULTS_CHANNELS = ("pkgs/main", "pkgs/r")
NO_DEFAULTS = "nodefaults"


@frozen
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
        return [ChannelRef(name, _lock_form(canonical), _source(mirrors.get(name, canonical)))]
    if name in DEFAULTS_CHANNELS:
        canonical = f"{DEFAULTS_ROOT}/{name}"
    else:
        canonical = f"{DEFAULT_ALIAS}/{name}"
    if name in mirrors:
        source = _source(mirrors[name])
    elif channel_alias:
        canonical = _lock_form(f"{_strip(channel_alias)}/{name}")
        source = _source(f"{_strip(channel_alias)}/{name}")
    else:
        source = canonical
    return [ChannelRef(name, canonical, source)]


def _lock_form(url: str) -> str:
    """The URL the lock records: credentials as ``${NAME}`` (conda-lock's rule); credentials
    written out that no environment variable holds are refused (the lock would keep them)."""
    from conda2docker.credentials import channel_lock_form, redact

    form = channel_lock_form(url)
    if form.written_out:
        parts = " and ".join(form.written_out)
        raise InputError(
            f"channel {redact(url)} holds its {parts} written out, and the lock would keep "
            f"{'it' if len(form.written_out) == 1 else 'them'}",
            fix="write each as a ${NAME} placeholder (https://host/t/${CONDA_TOKEN}/channel; "
            "${USER} and ${PASSWORD} as the URL's user and password) and export NAME: the lock "
            "records the name (conda-lock's used_env_vars), the value is read from the environment",
        )
    return form.lock_url


def _source(url: str) -> str:
    """Where to read: the URL with its ``${NAME}`` placeholders expanded (one that is not set is
    left as written, for :func:`unset_credentials` to report)."""
    from conda2docker.credentials import expand_channel_url

    return _strip(expand_channel_url(url)[0])


def unset_credentials(refs: Iterable[ChannelRef]) -> None:
    """Refuse channels whose credential placeholders name variables that are not set, before
    anything asks them (conda-lock refuses such a lock with MissingEnvVarError)."""
    from conda2docker.credentials import expand_channel_url, redact

    for ref in refs:
        missing = expand_channel_url(ref.source_url)[1]
        if missing:
            raise InputError(
                f"channel {redact(ref.canonical_url)} takes its credentials from "
                f"{', '.join(f'${{{n}}}' for n in missing)}, which {'is' if len(missing) == 1 else 'are'} "
                "not set",
                fix=f"export {missing[0]}=… before running conda2docker (the value is used to read the "
                "channel and never written)",
            )


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
