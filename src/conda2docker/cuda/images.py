"""Which ``nvidia/cuda`` image a CUDA version gets: the published tag nearest to it.

The table of published tags (version, flavour and OS, with the last known digest) is package
data, ``data/nvidia_cuda_tags.json``, refreshed by ``scripts/update_cuda_tags.py`` from
NVIDIA's own tag lists. A tag is only ever chosen from that table, never composed from a
pattern: ``11.3`` gets ``11.3.1-devel-ubuntu20.04`` (the ubuntu22.04 images start at 11.7.1),
and a version NVIDIA never published (``12.7``) gets the nearest one with a reason.

OS preference: ``ubuntu22.04`` first, then older Ubuntus, then ``ubuntu24.04``. What the
``cuda-ext`` stage compiles is copied into a Debian bookworm runtime (glibc 2.36): an
extension linked on ubuntu24.04 (glibc 2.39) may need symbols bookworm lacks, one linked on
22.04 (2.35) or older does not.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any, Literal

from conda2docker.cuda.infer import Version, parse_version, text
from conda2docker.values import frozen

Flavour = Literal["base", "runtime", "devel"]
REPOSITORY = "nvidia/cuda"
OS_PREFERENCE = ("ubuntu22.04", "ubuntu20.04", "ubuntu18.04", "ubuntu24.04")


@frozen
class PublishedTag:
    """One tag NVIDIA publishes for its CUDA images."""
    version: tuple[int, int, int]
    flavour: str
    os: str
    supported: bool
    digest: str | None
    """The last known digest the tag resolved to (``sha256:…``), when one is recorded."""
    seen: str | None = None
    """Where that digest was seen (``owner/name@commit path (date)``, or Docker Hub)."""
    kind: str | None = None
    """``index`` (what ``docker pull TAG`` resolves to) or ``unknown`` (not stated)."""

    @property
    def tag(self) -> str:
        return f"{'.'.join(map(str, self.version))}-{self.flavour}-{self.os}"


@frozen
class ImageChoice:
    """The image for a CUDA version, and why it is not exactly that version (if it is not)."""

    image: str
    cuda: str
    """The CUDA ``MAJOR.MINOR`` of the chosen image."""
    exact: bool
    reason: str | None = None
    """Set when the image differs from the request (another release, or an end-of-life tag)."""
    digest: str | None = None
    """The last known digest from the table (reported in the generated file's header, not pinned:
    a digest pins one build of the tag, and CI builds against local stand-ins of the tags; pin
    with ``--build-arg CUDA_DEVEL_IMAGE=IMAGE@sha256:…`` or ``--cuda-devel-image``)."""


@cache
def published_tags() -> tuple[PublishedTag, ...]:
    data = _table()
    found: list[PublishedTag] = []
    for tag, entry in data["tags"].items():
        version, flavour, os_name = tag.split("-", 2)
        parts = [int(p) for p in version.split(".")] + [0, 0]
        found.append(PublishedTag((parts[0], parts[1], parts[2]), flavour, os_name,
                                  entry.get("status") == "supported", entry.get("digest"),
                                  entry.get("seen"), entry.get("kind")))
    return tuple(found)


_HUB = ("", "docker.io/", "index.docker.io/", "registry-1.docker.io/")


def last_known(image: str) -> PublishedTag | None:
    """The table's entry for ``image`` when it names a Docker Hub ``nvidia/cuda`` tag without a
    digest and a last known digest is recorded for that tag; else None."""
    from conda2docker.validate import SHA256_HEX

    for prefix in _HUB:
        if image.startswith(f"{prefix}{REPOSITORY}:") and "@" not in image:
            tag = image[len(prefix) + len(REPOSITORY) + 1:]
            return next((t for t in published_tags() if t.tag == tag and t.digest
                         and t.digest.startswith("sha256:") and SHA256_HEX.match(t.digest[7:])), None)
    return None


def _table() -> dict[str, Any]:
    from importlib.resources import files  # 2 ms with what it loads: a CPU plan reads no table

    loaded: dict[str, Any] = json.loads(
        files("conda2docker").joinpath("data/nvidia_cuda_tags.json").read_text("utf-8"))
    return loaded


def table_source() -> str:
    data = _table()
    return f"{data.get('source', '?')} (updated {data.get('updated', '?')})"


def _os_rank(os_name: str) -> int:
    return OS_PREFERENCE.index(os_name) if os_name in OS_PREFERENCE else len(OS_PREFERENCE)


def _best(candidates: list[PublishedTag]) -> PublishedTag:
    """Preferred OS first, then a supported tag, then the newest patch release."""
    return min(candidates, key=lambda t: (_os_rank(t.os), not t.supported,
                                          tuple(-v for v in t.version)))


def choose_image(version: str, flavour: Flavour = "devel") -> ImageChoice:
    """The published ``nvidia/cuda`` image for CUDA ``MAJOR.MINOR[.PATCH]`` (see the module doc)."""
    wanted = parse_version(version)
    if wanted is None:
        raise ValueError(f"invalid CUDA version {version!r}: expected MAJOR.MINOR such as 12.4")
    patch = int(version.split(".")[2]) if version.count(".") == 2 else None
    tags = [t for t in published_tags() if t.flavour == flavour and _os_rank(t.os) < len(OS_PREFERENCE)]
    same = [t for t in tags if t.version[:2] == wanted]
    if patch is not None and (exact := [t for t in same if t.version[2] == patch]):
        same = exact
    if same:
        best = _best(same)
        reason = None
        if not best.supported:
            reason = (f"{REPOSITORY}:{best.tag} is end of life (NVIDIA's unsupported-tags list): it "
                      "gets no security updates")
        return ImageChoice(f"{REPOSITORY}:{best.tag}", text(wanted), True, reason, best.digest)
    chosen = _nearest(tags, wanted)
    if chosen is None:
        raise ValueError(f"no {flavour} image of {REPOSITORY} is known (empty tag table)")
    have = (chosen.version[0], chosen.version[1])
    reason = (f"no {REPOSITORY} {flavour} image is published for CUDA {text(wanted)}; using the "
              f"nearest, {chosen.tag} (CUDA {text(have)})")
    return ImageChoice(f"{REPOSITORY}:{chosen.tag}", text(have), False, reason, chosen.digest)


def _nearest(tags: list[PublishedTag], wanted: Version) -> PublishedTag | None:
    """Same major first: the newest release below the request (an older nvcc builds for a newer
    runtime of the same major), else the oldest above it; else the closest major."""
    versions = sorted({t.version[:2] for t in tags})
    if not versions:
        return None
    same_major = [v for v in versions if v[0] == wanted[0]]
    below = [v for v in same_major if v < wanted]
    above = [v for v in same_major if v > wanted]
    if below:
        pick = max(below)
    elif above:
        pick = min(above)
    else:
        pick = min(versions, key=lambda v: (abs(v[0] - wanted[0]), -v[0], -v[1]))
    return _best([t for t in tags if t.version[:2] == pick])


def devel_image(version: str) -> str:
    """``nvidia/cuda:<published version>-devel-<os>`` for a CUDA version (the nearest published)."""
    return choose_image(version, "devel").image


def runtime_image(version: str) -> str:
    return choose_image(version, "runtime").image


__all__ = ["ImageChoice", "PublishedTag", "choose_image", "devel_image", "last_known",
           "published_tags", "runtime_image", "table_source"]
