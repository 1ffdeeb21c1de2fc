"""Which conda channels are community or vendor channels, and which are defaults."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

DEFAULTS = frozenset(
    {"defaults", "main", "r", "free", "msys2", "anaconda",
     "pkgs/main", "pkgs/r", "pkgs/free", "pkgs/msys2", "pkgs/pro"}
)
"""Anaconda's channels: their terms of service require a paid licence for larger organisations."""

COMMUNITY = frozenset({"conda-forge", "bioconda", "pytorch", "nvidia"})
"""Curated public channels a container build can rely on."""

NOT_CHANNELS = frozenset({"nodefaults"})


@lru_cache(maxsize=1024)  # asked for every locked package: a lock names a few channels
def channel_name(channel: str) -> str:
    """A channel as people write it: ``https://conda.anaconda.org/conda-forge/`` → ``conda-forge``."""
    text = channel.strip().rstrip("/")
    if "://" not in text:
        return text
    parts = [p for p in urlsplit(text).path.split("/") if p]
    if "label" in parts[:-1]:
        index = parts.index("label")
        return "/".join(parts[max(index - 1, 0) : index + 2])
    if "pkgs" in parts[:-1]:
        index = parts.index("pkgs")
        return "/".join(parts[index : index + 2])
    return parts[-1] if parts else text


def is_defaults(channel: str) -> bool:
    return channel_name(channel) in DEFAULTS


def is_label(channel: str) -> bool:
    return "/label/" in channel_name(channel)


def is_standard(channel: str) -> bool:
    """Curated channels, defaults, and NVIDIA's per-CUDA-release labels (``nvidia/label/cuda-11.8.0``)."""
    name = channel_name(channel)
    return (
        name in COMMUNITY
        or name in DEFAULTS
        or name in NOT_CHANNELS
        or name.startswith("nvidia/label/cuda-")
    )
