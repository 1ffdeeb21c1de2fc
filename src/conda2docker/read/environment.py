"""The environment.yml reader: every real form, one :class:`EnvSpec` per target platform."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from conda2docker.credentials import without_placeholders
from conda2docker.errors import InputError, Problems, SourceLocation
from conda2docker.model import CondaDependency, EnvSpec, PipRequirement, ReaderChange
from conda2docker.platforms import DEFAULT_PLATFORM, KNOWN_PLATFORMS, check_target
from conda2docker.read.condaspec import parse_conda_spec, python_version_of
from conda2docker.read.decode import decode
from conda2docker.read.merge import merge_conda, merge_pip
from conda2docker.read.piplines import PipReader
from conda2docker.read.placeholders import find_placeholder
from conda2docker.read.platform_only import adapt_conda, adapt_pip, origin_evidence
from conda2docker.read.selectors import apply_selectors
from conda2docker.read.yamlpos import (
    item_location,
    key_location,
    load_yaml,
    scalar_text,
    type_name,
    value_location,
)
from conda2docker.validate import check_channel_name

KNOWN_KEYS = (
    "name",
    "channels",
    "dependencies",
    "variables",
    "prefix",
    "platforms",
    "pip-repositories",
)
PLACEHOLDER_FIX = (
    "this file is a template: render it first (replace {placeholder} with a real value), "
    "or remove the entry"
)


def read_environment(path: Path, *, platform: str = DEFAULT_PLATFORM) -> EnvSpec:
    """Read an environment.yml (or .yaml, or an export) for one target platform."""
    check_target(platform)
    return parse_environment(read_bytes(path), path, platform=platform)


def read_bytes(path: Path) -> bytes:
    """An environment file's bytes: a regular file within the size limit (see
    :func:`conda2docker.read.decode.read_limited`)."""
    from conda2docker.read.decode import MAX_ENV_FILE, read_limited

    return read_limited(path, limit=MAX_ENV_FILE, what="file")


def parse_environment(data: bytes, source: Path, *, platform: str = DEFAULT_PLATFORM) -> EnvSpec:
    """Read environment-file bytes; ``source`` names the file in locations and anchors paths."""
    facts = check_target(platform)
    decoded = decode(data, source)
    filtered = apply_selectors(decoded.text, facts, source)
    document, yaml_changes = load_yaml(filtered.text, source)
    reader = _EnvironmentReader(source, platform)
    reader.changes += [*decoded.changes, *yaml_changes, *filtered.changes]
    return reader.read(document)


class _EnvironmentReader:
    def __init__(self, source: Path, platform: str) -> None:
        self.source = source
        self.platform = platform
        self.top = SourceLocation(source, 1, 1)
        self.changes: list[ReaderChange] = []
        self.problems = Problems()
        self.channel_locations: list[tuple[str, SourceLocation]] = []

    def read(self, document: Any) -> EnvSpec:
        if document is None:
            raise InputError(
                "the environment file is empty",
                fix="add `dependencies:` with the packages you need",
                location=self.top,
            )
        if not isinstance(document, Mapping):
            raise InputError(
                f"an environment file must be a mapping (name:, channels:, dependencies:), "
                f"found {type_name(document)}",
                fix="start the file with `dependencies:` and list packages under it",
                location=self.top,
            )
        for key in document:
            if not isinstance(key, str):
                self.problems.add(InputError(
                    f"top-level key {key!r} is not text",
                    fix="use the keys name, channels, dependencies, variables",
                    location=key_location(document, key, self.source, self.top),
                ))
                continue
            if key not in KNOWN_KEYS:
                self.changes.append(
                    ReaderChange(
                        action="ignored",
                        subject=key,
                        reason="not an environment-file key (known: " + ", ".join(KNOWN_KEYS) + ")",
                        code="R507",
                        location=key_location(document, key, self.source, self.top),
                    )
                )
        name = None
        with self.problems.collect():
            name = self._name(document)
        prefix = self._prefix(document)
        channels = self._channels(document)
        conda, pip_entries = self._dependencies(document)
        python_version = next(
            (python_version_of(d.version) for d in conda if d.name == "python"), None
        )
        pip_reader = PipReader(self.source.parent, self.platform, python_version)
        for text, location in pip_entries:
            with self.problems.collect():
                pip_reader.add_line(text, location)
        with self.problems.collect():
            for url, at in self._pip_repositories(document):
                pip_reader.extra_index_urls.append(url)
                pip_reader.locations.setdefault(url, at)
        self.changes += pip_reader.changes
        variables: tuple[tuple[str, str], ...] = ()
        with self.problems.collect():
            variables = self._variables(document)
        platforms: tuple[str, ...] = ()
        with self.problems.collect():
            platforms = self._platforms(document)
        self.problems.raise_all()
        evidence = origin_evidence([d.name for d in conda], prefix, self.source.name)
        conda = self._adapt_conda(conda, evidence)
        pip = self._adapt_pip(pip_reader.requirements)
        conda, merged = merge_conda(conda)
        self.changes += merged
        pip, merged_pip = merge_pip(pip)
        self.changes += merged_pip
        if pip and not any(d.name == "pip" for d in conda):
            conda.append(CondaDependency(name="pip"))
            self.changes.append(
                ReaderChange(
                    action="added",
                    subject="pip",
                    reason="the file has pip requirements, which need pip in the environment",
                    code="R510",
                    location=pip_entries[0][1] if pip_entries else None,
                )
            )
        return EnvSpec(
            source=self.source,
            kind="environment",
            name=name,
            channels=channels,
            conda=tuple(conda),
            pip=tuple(pip),
            pip_options=pip_reader.options,
            variables=variables,
            platforms=platforms,
            changes=tuple(self.changes),
            channel_locations=tuple(self.channel_locations),
        )

    # -- top-level keys ---------------------------------------------------------------

    def _value_at(self, document: Mapping[str, Any], key: str) -> SourceLocation:
        fallback = key_location(document, key, self.source, self.top)
        return value_location(document, key, self.source, fallback)

    def _name(self, document: Mapping[str, Any]) -> str | None:
        if "name" not in document or document["name"] is None:
            return None
        value = document["name"]
        location = self._value_at(document, "name")
        if isinstance(value, (Mapping, list)):
            raise InputError(
                f"`name` must be text, found {type_name(value)}",
                fix="write `name: my-env`",
                location=location,
            )
        text = (scalar_text(value) or str(value)).strip()
        placeholder = find_placeholder(text)
        if placeholder is not None:
            self.changes.append(
                ReaderChange(
                    action="ignored",
                    subject=placeholder,
                    reason=f"the name {text!r} is a template placeholder; the environment is "
                    "read without a name",
                    code="R505",
                    detail="render the template, or set a real `name:`",
                    location=location,
                )
            )
            return None
        return text or None

    def _prefix(self, document: Mapping[str, Any]) -> str | None:
        if "prefix" not in document:
            return None
        value = document["prefix"]
        text = scalar_text(value) or ("" if value is None else str(value))
        self.changes.append(
            ReaderChange(
                action="ignored",
                subject=text,
                reason="the install path of the machine that exported the file; the image "
                "uses its own prefix",
                code="R506",
                location=key_location(document, "prefix", self.source, self.top),
            )
        )
        return text

    def _list(self, document: Mapping[str, Any], key: str, example: str) -> Sequence[Any]:
        value = document.get(key)
        if value is None:
            return []
        if isinstance(value, (str, Mapping)) or not isinstance(value, Sequence):
            raise InputError(
                f"`{key}` must be a list, found {type_name(value)}",
                fix=f"write one item per line: `{key}:` then `  - {example}`",
                location=self._value_at(document, key),
            )
        return value

    def _channels(self, document: Mapping[str, Any]) -> tuple[str, ...]:
        items: Sequence[Any] = []
        with self.problems.collect():
            items = self._list(document, "channels", "conda-forge")
        channels: list[str] = []
        fallback = self._value_at(document, "channels")
        for index in range(len(items)):
            with self.problems.collect():
                self._channel(items, index, fallback, channels)
        # `nodefaults` stays: it tells resolve not to append the default channels, as conda;
        # with no channel at all, resolve uses the default channels (--default-channels, C105)
        return tuple(channels)

    def _channel(self, items: Sequence[Any], index: int, fallback: SourceLocation,
                 channels: list[str]) -> None:
        """One entry of ``channels:``, appended to ``channels`` unless it is a marker or repeat."""
        location = item_location(items, index, self.source, fallback)
        item = items[index]
        text = scalar_text(item)
        if text is None or not text.strip():
            raise InputError(
                f"a channel must be a name or URL, found {type_name(item)}",
                fix="write channels as `- conda-forge` or `- https://host/channel`",
                location=location,
            )
        text = text.strip()
        placeholder = find_placeholder(without_placeholders(text))  # credentials may be ${NAME}
        if placeholder is not None:
            raise InputError(
                f"channel {text!r} contains the template placeholder {placeholder}",
                fix=PLACEHOLDER_FIX.format(placeholder=placeholder),
                location=location,
            )
        if any(c.isspace() for c in text):
            raise InputError(
                f"channel {text!r} contains spaces",
                fix="one channel per line, without spaces",
                location=location,
            )
        check_channel_name(text, location=location)  # as `-c` and a lock's channels are checked
        if text == "default":
            raise InputError(
                "there is no channel named 'default'",
                fix="write `defaults` (Anaconda's channels), or better `conda-forge`",
                location=location,
            )
        if text in channels:
            self.changes.append(
                ReaderChange(
                    action="merged",
                    subject=text,
                    reason="channel listed twice",
                    location=location,
                )
            )
            return
        channels.append(text)
        self.channel_locations.append((text, location))

    def _dependencies(
        self, document: Mapping[str, Any]
    ) -> tuple[list[CondaDependency], list[tuple[str, SourceLocation]]]:
        conda: list[CondaDependency] = []
        pip_entries: list[tuple[str, SourceLocation]] = []
        if "dependencies" not in document:
            self.problems.add(InputError(
                "the environment has no `dependencies:`",
                fix="list the packages under `dependencies:`, one `- name` per line",
                location=self.top,
            ))
            return conda, pip_entries
        items: Sequence[Any] = []
        with self.problems.collect():
            items = self._list(document, "dependencies", "numpy=1.26")
        fallback = self._value_at(document, "dependencies")
        for index, item in enumerate(items):
            location = item_location(items, index, self.source, fallback)
            if isinstance(item, Mapping):
                pip_entries += self._pip_block(item, location)
                continue
            with self.problems.collect():
                self._dependency(item, location, conda)
        return conda, pip_entries

    def _dependency(self, item: Any, location: SourceLocation, conda: list[CondaDependency]) -> None:
        """One conda entry of ``dependencies:``, appended to ``conda``."""
        text = scalar_text(item)
        if text is None:
            raise InputError(
                f"a dependency must be text like `numpy=1.26`, found {type_name(item)}"
                + (f" ({item!r})" if isinstance(item, (int, float)) else ""),
                fix="write `- name` or `- name=version`; quote values YAML reads as numbers",
                location=location,
            )
        placeholder = find_placeholder(text)
        if placeholder is not None:
            raise InputError(
                f"dependency {text.strip()!r} is the template placeholder {placeholder}"
                if text.strip() == placeholder
                else f"dependency {text.strip()!r} contains the template placeholder "
                f"{placeholder}",
                fix=PLACEHOLDER_FIX.format(placeholder=placeholder),
                location=location,
            )
        parsed = parse_conda_spec(text, location)
        conda.append(parsed.dependency)
        for rewrite in parsed.rewrites:
            self.changes.append(
                ReaderChange(
                    action="relaxed",
                    subject=parsed.dependency.name,
                    reason=f"lenient spec {text.strip()!r}: {rewrite}",
                    detail=parsed.dependency.matchspec,
                    location=location,
                )
            )

    def _pip_block(
        self, item: Mapping[Any, Any], location: SourceLocation
    ) -> list[tuple[str, SourceLocation]]:
        entries: list[tuple[str, SourceLocation]] = []
        for key in item:
            key_at = key_location(item, key, self.source, location)
            if key != "pip":
                self.problems.add(InputError(
                    f"unknown section `{key}:` in dependencies (only `pip:` may hold a list)",
                    fix="write conda packages as `- name=version`, pip packages under `- pip:`",
                    location=key_at,
                ))
                continue
            block = item[key]
            if block is None:
                continue
            if isinstance(block, (str, Mapping)) or not isinstance(block, Sequence):
                self.problems.add(InputError(
                    f"`pip:` must be a list, found {type_name(block)}",
                    fix="write pip requirements one per line under `- pip:`",
                    location=value_location(item, key, self.source, key_at),
                ))
                continue
            for index, entry in enumerate(block):
                entry_at = item_location(block, index, self.source, key_at)
                text = scalar_text(entry)
                if text is None:
                    self.problems.add(InputError(
                        f"a pip requirement must be text, found {type_name(entry)}",
                        fix="write `- name==version` (quote it if YAML reads it otherwise)",
                        location=entry_at,
                    ))
                    continue
                entries.append((text, entry_at))
        return entries

    def _pip_repositories(self, document: Mapping[str, Any]) -> list[tuple[str, SourceLocation]]:
        items = self._list(document, "pip-repositories", "https://host/simple")
        fallback = self._value_at(document, "pip-repositories")
        found: list[tuple[str, SourceLocation]] = []
        for index, item in enumerate(items):
            location = item_location(items, index, self.source, fallback)
            text = scalar_text(item)
            if text is None or not text.strip():
                raise InputError(
                    f"a pip repository must be a URL, found {type_name(item)}",
                    fix="write `- https://host/simple`",
                    location=location,
                )
            found.append((text.strip(), location))
        return found

    def _variables(self, document: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
        value = document.get("variables")
        if value is None:
            return ()
        location = self._value_at(document, "variables")
        if not isinstance(value, Mapping):
            raise InputError(
                f"`variables` must be a mapping, found {type_name(value)}",
                fix="write `variables:` then `  NAME: value` lines",
                location=location,
            )
        pairs: list[tuple[str, str]] = []
        for key, item in value.items():
            at = key_location(value, key, self.source, location)
            if not isinstance(key, str) or not key.strip():
                raise InputError(
                    f"variable name {key!r} is not text", fix="use NAME: value", location=at
                )
            if isinstance(item, bool):
                text = "true" if item else "false"
            elif isinstance(item, (int, float)):
                text = str(item)
            else:
                scalar = scalar_text(item)
                if scalar is None:
                    raise InputError(
                        f"variable {key} must have a text value, found {type_name(item)}",
                        fix=f"write `{key}: value` (use '' for an empty value)",
                        location=at,
                    )
                text = scalar
            pairs.append((key, text))
        return tuple(pairs)

    def _platforms(self, document: Mapping[str, Any]) -> tuple[str, ...]:
        items = self._list(document, "platforms", "linux-64")
        fallback = self._value_at(document, "platforms")
        platforms: list[str] = []
        for index, item in enumerate(items):
            location = item_location(items, index, self.source, fallback)
            text = (scalar_text(item) or "").strip()
            if text not in KNOWN_PLATFORMS:
                raise InputError(
                    f"unknown platform {text or type_name(item)!r} in `platforms`",
                    fix="use conda platform names such as linux-64, linux-aarch64, osx-arm64, "
                    "win-64",
                    location=location,
                )
            if text not in platforms:
                platforms.append(text)
        return tuple(platforms)

    # -- Linux adaptation -------------------------------------------------------------

    def _adapt_conda(
        self, conda: list[CondaDependency], evidence: frozenset[Any]
    ) -> list[CondaDependency]:
        kept: list[CondaDependency] = []
        for dependency in conda:
            adapted, change = adapt_conda(dependency, self.platform, evidence)
            if change is not None:
                self.changes.append(change)
            if adapted is not None:
                kept.append(adapted)
        return kept

    def _adapt_pip(self, requirements: list[PipRequirement]) -> list[PipRequirement]:
        kept: list[PipRequirement] = []
        for requirement in requirements:
            adapted, change = adapt_pip(requirement, self.platform)
            if change is not None:
                self.changes.append(change)
            if adapted is not None:
                kept.append(adapted)
        return kept
