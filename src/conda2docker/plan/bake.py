"""The bake plan: one ``docker buildx bake`` target per environment and variant (data only).

``convert`` of several environments (or of one with ``--tag-template``, ``--cache`` or several
``--platform``) writes ``docker-bake.hcl`` beside the contexts; ``render/bake.py`` writes it.
Every value here is checked before it becomes a target: names (which come from untrusted files)
are made safe by :func:`safe_name`, tags are image references, the template has only known
placeholders, cache references are derived from the tags' repositories.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import get_args

from conda2docker import image
from conda2docker.choices import CacheMode
from conda2docker.errors import InputError
from conda2docker.image import Variant
from conda2docker.platforms import oci_platform
from conda2docker.validate import shown
from conda2docker.values import frozen

CACHE_MODES: tuple[str, ...] = get_args(CacheMode)

DEFAULT_TAG_TEMPLATE = "{name}:{variant}-{lock_hash}"
"""Local tags when no ``--tag-template`` is given (``scipy-stack:cpu-1a2b3c4d5e6f``)."""
PLACEHOLDERS = ("name", "variant", "lock_hash")
LOCK_HASH_LENGTH = 12
REGISTRY_CACHE_TAG = "buildcache-{variant}"
"""``--cache registry``: the cache lives beside the image, ``<repository>:buildcache-<variant>``."""

_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*\Z")
_TARGET = re.compile(r"^[A-Za-z0-9_-]+\Z")  # bake's own rule for target and group names
_CONTEXT = re.compile(r"^(?:\.|[a-z0-9]+(?:-[a-z0-9]+)*)\Z")
_SHA256 = re.compile(r"^[0-9a-f]{64}\Z")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
MAX_NAME = 63


@frozen
class BakeTarget:
    """One target of the bake file to write."""
    name: str
    """``<environment>-<variant>``: bake's target name (letters, digits, ``-``, ``_``)."""
    context: str
    """The environment's context, relative to the bake file's directory."""
    dockerfile: str
    tags: tuple[str, ...]
    labels: tuple[tuple[str, str], ...]
    platforms: tuple[str, ...]
    """OCI platforms (``linux/amd64``)."""
    cache_from: tuple[str, ...] = ()
    cache_to: tuple[str, ...] = ()
    args: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if not _TARGET.match(self.name):
            raise InputError(f"invalid bake target name {self.name!r}",
                             fix="environment names are letters, digits and '-'")
        if not _CONTEXT.match(self.context):
            raise InputError(f"invalid bake context {self.context!r}",
                             fix="a context is '.' or an environment's directory under the output")


@frozen
class BakeFile:
    """The bake file to write: its targets and default group."""
    targets: tuple[BakeTarget, ...]
    group: str = "default"


@frozen
class BakeVariant:
    """What the bake plan needs to know of one converted variant."""

    environment: str
    """A :func:`safe_name`."""
    variant: Variant
    context: str
    lock_sha256: str
    platforms: tuple[str, ...]
    """conda platforms (``linux-64``), the first the default."""


def safe_name(raw: str) -> str:
    """A name fit for a directory, an image repository path component and a bake target:
    lowercase letters and digits in runs joined by single ``-`` (at most 63 characters);
    ``env`` when nothing is left."""
    words = re.findall(r"[a-z0-9]+", raw.lower())
    name = "-".join(words)[:MAX_NAME].strip("-")
    return name or "env"


def unique_names(raw_names: Sequence[str]) -> list[str]:
    """:func:`safe_name` of each, in order, the second of equal names suffixed ``-2``, and so on."""
    taken: set[str] = set()
    names: list[str] = []
    for raw in raw_names:
        base = safe_name(raw)
        name, number = base, 1
        while name in taken:
            number += 1
            suffix = f"-{number}"
            name = base[:MAX_NAME - len(suffix)].rstrip("-") + suffix
        taken.add(name)
        names.append(name)
    return names


def check_tag_template(template: str) -> str:
    """The template when it names only ``{name}``, ``{variant}`` and ``{lock_hash}`` and gives a
    valid image reference (checked with sample values)."""
    unknown = [shown(p) for p in _PLACEHOLDER.findall(template) if p not in PLACEHOLDERS]
    stray = _PLACEHOLDER.sub("", template)
    if unknown or "{" in stray or "}" in stray:
        raise InputError(f"--tag-template {shown(template)}: "
                         f"{'unknown placeholder(s) ' + ', '.join(unknown) if unknown else 'a stray brace'}",
                         fix="use {name}, {variant} and {lock_hash}, e.g. "
                             "registry.example.org/lab/{name}:{variant}-{lock_hash}")
    _reference(template, {"name": "env", "variant": "cpu", "lock_hash": "0" * LOCK_HASH_LENGTH})
    return template


def _reference(template: str, values: dict[str, str]) -> str:
    from conda2docker.validate import UnsafeValue, check_image_reference

    tag = _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)
    try:
        check_image_reference(tag, "tag")
    except UnsafeValue:
        raise InputError(f"--tag-template {shown(template)} gives {shown(tag)}, not an image reference",
                         fix="the template must give a reference such as REGISTRY/PATH/{name}:TAG") from None
    if "@" in tag:
        raise InputError(f"--tag-template {shown(template)} gives a digest reference {shown(tag)}",
                         fix="a tag names what will be built: leave out @sha256:…")
    return tag


def repository(tag: str) -> str:
    """``registry:5000/lab/env`` of ``registry:5000/lab/env:cpu-…`` (a ``:`` after the last ``/``
    starts the tag)."""
    slash = tag.rfind("/")
    colon = tag.rfind(":")
    return tag[:colon] if colon > slash else tag


def _cache(mode: CacheMode, target: str, tag: str, variant: Variant) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if mode == "local":
        path = f"{image.BAKE_CACHE_DIR}/{target}"
        return (f"type=local,src={path}",), (f"type=local,dest={path},mode=max",)
    if mode == "registry":
        ref = f"{repository(tag)}:{REGISTRY_CACHE_TAG.format(variant=variant)}"
        return (f"type=registry,ref={ref}",), (f"type=registry,ref={ref},mode=max",)
    return (), ()


def bake_file(variants: Sequence[BakeVariant], *, tag_template: str | None = None,
              cache: CacheMode = "none") -> BakeFile:
    """The bake plan of ``variants``: targets in environment order (CPU before GPU), tags from
    the template (the default gives local tags), OCI labels, platforms, the cache asked for.

    Refuses a registry cache without a template naming a registry, and tags that two targets
    would share (the template must tell environments and variants apart)."""
    if cache not in CACHE_MODES:
        raise InputError(f"unknown cache {cache!r}", fix=f"use one of {', '.join(CACHE_MODES)}")
    if cache == "registry" and tag_template is None:
        raise InputError("--cache registry keeps the cache beside the images, in their registry",
                         fix="give --tag-template REGISTRY/PATH/{name}:{variant}-{lock_hash}")
    template = check_tag_template(tag_template or DEFAULT_TAG_TEMPLATE)
    targets: list[BakeTarget] = []
    owners: dict[str, str] = {}
    for item in variants:
        if not _NAME.match(item.environment):
            raise InputError(f"invalid environment name {item.environment!r}", fix="use safe_name")
        if not _SHA256.match(item.lock_sha256):
            raise InputError(f"invalid lock digest {item.lock_sha256!r}", fix="pass the lock's sha256")
        name = f"{item.environment}-{item.variant}"
        tag = _reference(template, {"name": item.environment, "variant": item.variant,
                                    "lock_hash": item.lock_sha256[:LOCK_HASH_LENGTH]})
        if tag in owners:
            raise InputError(f"--tag-template {shown(template)} gives {tag} to both {owners[tag]} and {name}",
                             fix="put {name} and {variant} in the template")
        owners[tag] = name
        cache_from, cache_to = _cache(cache, name, tag, item.variant)
        labels = (
            (image.LABEL_TITLE, item.environment),
            (image.LABEL_VARIANT, item.variant),
            (image.LABEL_LOCK_SHA256, item.lock_sha256),
        )
        targets.append(BakeTarget(
            name=name, context=item.context, dockerfile=image.DOCKERFILE_NAMES[item.variant],
            tags=(tag,), labels=labels,
            platforms=tuple(oci_platform(p) for p in item.platforms),
            cache_from=cache_from, cache_to=cache_to,
        ))
    return BakeFile(tuple(targets))


__all__ = ["CACHE_MODES", "DEFAULT_TAG_TEMPLATE", "BakeFile", "BakeTarget",
           "BakeVariant", "bake_file", "check_tag_template",
           "repository", "safe_name", "unique_names"]
