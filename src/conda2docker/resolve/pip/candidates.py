"""Requirement, candidate and direct-reference values the resolver works with."""

from __future__ import annotations

from dataclasses import field
from typing import Literal

from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName
from packaging.version import InvalidVersion, Version

from conda2docker.resolve.pypi import (
    CoreMetadata,
    DistFile,
)
from conda2docker.values import frozen

# -- requirements and candidates --------------------------------------------------------


@frozen
class Direct:
    """A requirement that names one artefact: a git commit, a URL or a local path."""

    name: NormalizedName
    version: Version
    url: str
    sha256: str | None
    metadata: CoreMetadata | None
    origin: str


@frozen
class Req:
    """A pip requirement as the resolver works with it."""
    name: NormalizedName
    specifier: SpecifierSet = field(default_factory=SpecifierSet)
    extras: frozenset[NormalizedName] = frozenset()
    direct: Direct | None = None

    @property
    def key(self) -> str:
        return _key(self.name, self.extras)

    def __str__(self) -> str:
        extras = f"[{','.join(sorted(self.extras))}]" if self.extras else ""
        where = f" @ {self.direct.url}" if self.direct else ""
        return f"{self.name}{extras}{self.specifier}{where}"


CandidateKind = Literal["index", "conda", "direct"]


@frozen
class Candidate:
    """A version of a distribution the resolver may pick."""
    name: NormalizedName
    version: Version
    kind: CandidateKind
    extras: frozenset[NormalizedName] = frozenset()
    file: DistFile | None = None
    direct: Direct | None = None
    conda_name: str | None = None

    @property
    def key(self) -> str:
        return _key(self.name, self.extras)

    def __str__(self) -> str:
        source = f" (conda {self.conda_name})" if self.kind == "conda" else ""
        return f"{self.name} {self.version}{source}"


def _key(name: str, extras: frozenset[NormalizedName]) -> str:
    return f"{name}[{','.join(sorted(extras))}]" if extras else name


@frozen
class VersionFiles:
    """What an index offers for one version, and the file chosen for the target."""

    version: Version
    chosen: DistFile | None
    yanked: bool
    glibc: str | None
    """Set when wheels exist that only a newer glibc accepts."""




def is_version(text: str) -> bool:
    try:
        Version(text)
    except InvalidVersion:
        return False
    return True

