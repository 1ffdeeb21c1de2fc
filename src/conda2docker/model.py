"""The typed values that flow between the pipeline's steps.

``read`` gives an :class:`EnvSpec`; ``resolve`` gives a :class:`Lock`; ``audit`` gives
:class:`Finding` values. These are plain frozen dataclasses: no I/O, no behaviour beyond
small derived properties, so every step can be tested with values built by hand.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import field
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from conda2docker.errors import SourceLocation
from conda2docker.values import frozen

Manager = Literal["conda", "pip"]
InputKind = Literal["environment", "conda-lock", "explicit", "requirements"]
PipSourceKind = Literal["registry", "vcs", "url", "path"]
ArtifactKind = Literal["conda", "wheel", "sdist", "vcs", "path"]


@frozen
class CondaDependency:
    """One conda dependency as the user wrote it, normalised.

    ``version`` is a conda version spec ('' means any), ``build`` a build-string glob.
    """

    name: str
    version: str = ""
    build: str | None = None
    channel: str | None = None
    raw: str = ""
    location: SourceLocation | None = None

    @property
    def matchspec(self) -> str:
        """The dependency as a conda MatchSpec string (lenient form, parse with strict=False)."""
        text = f"{self.channel}::{self.name}" if self.channel else self.name
        if self.version or self.build:
            text += " " + (self.version or "*")
        if self.build:
            text += " " + self.build
        return text


@frozen
class PipRequirement:
    """One entry of a ``pip:`` block or requirements file.

    ``kind`` says where the package comes from: a package index (``registry``), a VCS
    repository (``vcs``: ``url`` without the ``git+`` prefix, ``ref`` the revision),
    an archive URL (``url``), or a local path (``path``, resolved against the env file).
    """

    kind: PipSourceKind
    raw: str
    name: str | None = None
    specifier: str = ""
    extras: tuple[str, ...] = ()
    marker: str | None = None
    url: str | None = None
    vcs: str | None = None
    ref: str | None = None
    path: Path | None = None
    editable: bool = False
    location: SourceLocation | None = None
    hashes: tuple[str, ...] = ()
    """``--hash`` values of the line (``sha256:<hex>``): pip installs only a file with one."""

    @property
    def constraint_text(self) -> str:
        """``name<range>; marker``, as a constraint (no comment, no options)."""
        return f"{self.name}{self.specifier}" + (f"; {self.marker}" if self.marker else "")


@frozen
class PipOptions:
    """Options that apply to the whole pip block (from option lines such as ``--index-url``)."""

    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    pre: bool = False
    other: tuple[str, ...] = ()
    constraints: tuple[PipRequirement, ...] = ()
    """``-c FILE`` entries: version limits for packages that something else requires."""
    locations: tuple[tuple[str, SourceLocation], ...] = ()
    """Where each index or find-links URL was written (for findings about a source)."""

    def location_of(self, url: str) -> SourceLocation | None:
        return next((at for text, at in self.locations if text == url), None)


ChangeAction = Literal["dropped", "mapped", "relaxed", "added", "ignored", "decoded", "merged"]


@frozen
class ReaderChange:
    """Something the reader changed or left out, and why; surfaced by ``inspect`` and ``audit``.

    ``code`` names the audit rule that reports it (e.g. ``S301`` for a platform-only package).
    """

    action: ChangeAction
    subject: str
    reason: str
    code: str = ""
    detail: str = ""
    location: SourceLocation | None = None


@frozen
class EnvSpec:
    """What the user asked for, read from an environment file (or a lock, or requirements)."""

    source: Path
    kind: InputKind = "environment"
    name: str | None = None
    channels: tuple[str, ...] = ()
    conda: tuple[CondaDependency, ...] = ()
    pip: tuple[PipRequirement, ...] = ()
    pip_options: PipOptions = field(default_factory=PipOptions)
    variables: tuple[tuple[str, str], ...] = ()
    platforms: tuple[str, ...] = ()
    changes: tuple[ReaderChange, ...] = ()
    lock: Lock | None = None
    """Set when the input already was a lock (conda-lock.yml or explicit)."""
    channel_locations: tuple[tuple[str, SourceLocation], ...] = ()
    """Where each entry of ``channels:`` was written (for findings about a channel)."""

    def channel_location(self, channel: str) -> SourceLocation | None:
        return next((at for name, at in self.channel_locations if name == channel), None)

    @property
    def requested_names(self) -> tuple[str, ...]:
        names = [d.name for d in self.conda]
        names += [r.name for r in self.pip if r.name]
        return tuple(dict.fromkeys(names))


@frozen
class LockedPackage:
    """One package pinned for one platform, as conda-lock records it."""

    name: str
    version: str
    manager: Manager
    platform: str
    url: str
    md5: str | None = None
    sha256: str | None = None
    build: str | None = None
    dependencies: Mapping[str, str] = field(default_factory=dict)
    category: str = "main"
    optional: bool = False
    size: int | None = None

    @property
    def file_name(self) -> str:
        return unquote(urlsplit(self.url).path.rsplit("/", 1)[-1])

    @property
    def subdir(self) -> str | None:
        """The channel subdir (``linux-64``, ``noarch``) of a conda package, from its URL."""
        if self.manager != "conda":
            return None
        parts = urlsplit(self.url).path.rstrip("/").split("/")
        return parts[-2] if len(parts) >= 2 else None

    @property
    def channel(self) -> str | None:
        """The channel URL of a conda package (the URL without ``/<subdir>/<file>``)."""
        if self.manager != "conda":
            return None
        return self.url.rsplit("/", 2)[0]

    @property
    def artifact(self) -> ArtifactKind:
        """What kind of file installs this package."""
        if self.manager == "conda":
            return "conda"
        url = self.url
        if url.startswith(("git+", "hg+", "svn+", "bzr+")):
            return "vcs"
        path = urlsplit(url).path.lower()
        if path.endswith(".whl"):
            return "wheel"
        if url.startswith("file:") and not path.endswith((".tar.gz", ".zip", ".tar.bz2", ".tgz")):
            return "path"
        return "sdist"

    @property
    def key(self) -> str:
        """Unique within a platform: managers have separate namespaces."""
        return f"{self.manager}:{self.name}"


@frozen
class Lock:
    """A resolved environment for one or more platforms."""

    packages: tuple[LockedPackage, ...]
    platforms: tuple[str, ...]
    channels: tuple[str, ...] = ()
    content_hash: Mapping[str, str] = field(default_factory=dict)
    sources: tuple[str, ...] = ()
    roots: tuple[str, ...] = ()
    """Names the user asked for (both managers); empty when unknown (a foreign lock)."""
    path: Path | None = None

    def for_platform(self, platform: str) -> tuple[LockedPackage, ...]:
        return tuple(p for p in self.packages if p.platform == platform)

    def conda_packages(self, platform: str) -> tuple[LockedPackage, ...]:
        return tuple(p for p in self.packages if p.platform == platform and p.manager == "conda")

    def pip_packages(self, platform: str) -> tuple[LockedPackage, ...]:
        return tuple(p for p in self.packages if p.platform == platform and p.manager == "pip")


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 3, "warning": 2, "info": 1}[self.value]


@frozen
class Finding:
    """One audit result: a stable rule code, what is wrong, the evidence, and the fix."""

    code: str
    severity: Severity
    message: str
    subject: str
    fix: str
    evidence: tuple[str, ...] = ()
    platform: str | None = None
    location: SourceLocation | None = None


@frozen
class Unavailable:
    """A requested conda package that no configured channel has for a platform."""

    name: str
    platform: str
    spec: str
    channels: tuple[str, ...]
    location: SourceLocation | None = None
    available: tuple[str, ...] = ()
    """When the channels have the name but no matching version: the nearest versions they have."""

    def describe(self) -> str:
        """``python=3.6 (linux-64: the channels have 3.9.19, 3.10.14)`` or ``… (in no channel)``."""
        where = f"{self.platform}, channels: {', '.join(self.channels)}"
        if self.available:
            return f"{self.spec} (no such version for {self.platform}; the channels have " \
                f"{', '.join(self.available)})"
        return f"{self.spec} (in no channel for {where})"


@frozen
class Resolution:
    """What ``resolve`` produced: the lock, the spec it came from, and what it learned.

    ``unavailable`` lists requested packages missing from every channel (audit C101);
    ``changes`` lists what resolve relaxed to make the solve possible (e.g. foreign build
    strings dropped, audit R503). ``lock`` covers whatever could be solved.
    """

    spec: EnvSpec
    lock: Lock
    unavailable: tuple[Unavailable, ...] = ()
    changes: tuple[ReaderChange, ...] = ()
    reused: bool = False
    """True when an up-to-date lock on disk was reused instead of solving."""
