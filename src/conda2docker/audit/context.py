"""What every audit rule reads: the spec, the lock, its graph, the resolution, the target."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from conda2docker.errors import SourceLocation
from conda2docker.image import RUNTIME_GLIBC
from conda2docker.model import EnvSpec, Lock, LockedPackage, ReaderChange, Resolution, Unavailable
from conda2docker.names import canonical
from conda2docker.platforms import DEFAULT_PLATFORM
from conda2docker.values import frozen

if TYPE_CHECKING:
    from conda2docker.audit.sdists import SdistFacts
    from conda2docker.cuda.infer import CudaIntent
    from conda2docker.graph import DepGraph

DEFAULT_GLIBC = RUNTIME_GLIBC
"""glibc of the default runtime base (Debian bookworm-slim)."""


@frozen
class LocalFacts:
    """What a local pip package's source tree needs to build (see :mod:`.local`)."""

    path: Path
    exists: bool = True
    cuda_sources: bool = False
    cpp_extension: bool = False
    cuda_extension: bool = False
    c_sources: bool = False
    cython: bool = False
    rust: bool = False
    fortran: bool = False

    @property
    def cuda(self) -> bool:
        return self.cuda_sources or self.cuda_extension

    @property
    def toolchains(self) -> tuple[str, ...]:
        """Toolchains the tree needs (empty for a pure-Python tree)."""
        chains: set[str] = set()
        if self.cuda:
            chains |= {"c++", "cuda"}
        if self.cpp_extension:
            chains.add("c++")
        if self.c_sources:
            chains.add("c")
        if self.cython:
            chains |= {"c", "cython"}
        if self.rust:
            chains.add("rust")
        if self.fortran:
            chains.add("fortran")
        return tuple(sorted(chains))


@dataclass(frozen=True)
class AuditContext:
    """Inputs of the audit; rules are pure functions of this value.

    ``spec``, ``lock`` and ``resolution`` may each be absent: an environment file audited
    without solving has only a spec; a foreign lock has only a lock. ``local`` holds facts
    gathered beforehand about local pip paths (keyed by the path as written). The lock's
    dependency graph is built on first use (:attr:`graph`).
    """

    spec: EnvSpec | None = None
    lock: Lock | None = None
    resolution: Resolution | None = None
    platform: str = DEFAULT_PLATFORM
    glibc: str = DEFAULT_GLIBC
    gpu: bool = False
    local: Mapping[str, LocalFacts] = field(default_factory=dict)
    base_apt_packages: frozenset[str] = frozenset()
    """apt packages the runtime base image already has (S303 skips them)."""
    sdists: Mapping[str, SdistFacts] = field(default_factory=dict)
    """Exact pip pins with no wheel for the target, by canonical name (see :mod:`.sdists`)."""
    unchecked: tuple[str, ...] = ()
    """Exact pip pins the index could not be asked about, with the reason."""
    services: tuple[str, ...] = ()
    """Databases beside the environment (``init --service``: mongodb, postgres, redis)."""

    @classmethod
    def build(
        cls,
        spec: EnvSpec | None = None,
        resolution: Resolution | None = None,
        *,
        lock: Lock | None = None,
        platform: str = DEFAULT_PLATFORM,
        glibc: str = DEFAULT_GLIBC,
        gpu: bool = False,
        local: Mapping[str, LocalFacts] | None = None,
        base_apt_packages: frozenset[str] = frozenset(),
        sdists: Mapping[str, SdistFacts] | None = None,
        unchecked: tuple[str, ...] = (),
        services: tuple[str, ...] = (),
    ) -> AuditContext:
        """A context from whatever is at hand."""
        spec = spec or (resolution.spec if resolution else None)
        lock = lock or (resolution.lock if resolution else None) or (spec.lock if spec else None)
        return cls(spec, lock, resolution, platform, glibc, gpu, dict(local or {}),
                   base_apt_packages, dict(sdists or {}), unchecked, services)

    @property
    def root_names(self) -> tuple[str, ...]:
        """What the user asked for: the lock's recorded roots, else the spec's requests."""
        if self.lock is not None and self.lock.roots:
            return self.lock.roots
        return self.spec.requested_names if self.spec else ()

    @cached_property
    def graph(self) -> DepGraph | None:
        """The lock's dependency graph for the platform, or None without packages.

        Built on first use, so an audit with nothing to explain never loads networkx.
        """
        if self.lock is None or not self.packages:
            return None
        from conda2docker.graph import build_graph

        return build_graph(self.lock, self.platform, self.root_names)

    @cached_property
    def cuda(self) -> CudaIntent:
        """The CUDA the lock holds for the platform when there is a lock, else what the
        environment file asks for (read once for every rule that asks)."""
        from conda2docker.cuda import infer

        if self.packages and self.lock is not None:
            return infer.from_lock(self.lock, self.platform)
        return self.spec_cuda if self.spec is not None else infer.CudaIntent()

    @cached_property
    def spec_cuda(self) -> CudaIntent:
        """The CUDA the environment file asks for (a lock given as input: the lock's)."""
        from conda2docker.cuda import infer

        return infer.from_spec(self.spec) if self.spec is not None else infer.CudaIntent()

    @cached_property
    def packages(self) -> tuple[LockedPackage, ...]:
        return self.lock.for_platform(self.platform) if self.lock else ()

    @cached_property
    def conda(self) -> dict[str, LockedPackage]:
        """Locked conda packages for the platform, by lower-case name."""
        return {p.name.lower(): p for p in self.packages if p.manager == "conda"}

    @cached_property
    def pip(self) -> dict[str, LockedPackage]:
        """Locked pip packages for the platform, by canonical name."""
        return {canonical(p.name): p for p in self.packages if p.manager == "pip"}

    @cached_property
    def changes(self) -> tuple[ReaderChange, ...]:
        """What the reader and the resolver changed, in that order, without repeats."""
        found = list(self.spec.changes if self.spec else ())
        found += self.resolution.changes if self.resolution else ()
        return tuple(dict.fromkeys(found))

    @property
    def unavailable(self) -> tuple[Unavailable, ...]:
        return self.resolution.unavailable if self.resolution else ()

    @property
    def channels(self) -> tuple[str, ...]:
        if self.spec and self.spec.channels:
            return self.spec.channels
        return self.lock.channels if self.lock else ()

    @property
    def lock_location(self) -> SourceLocation | None:
        return SourceLocation(self.lock.path) if self.lock and self.lock.path else None

    def changes_with(self, code: str) -> tuple[ReaderChange, ...]:
        return tuple(c for c in self.changes if c.code == code)
