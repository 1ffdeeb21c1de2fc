"""What the build plan needs from the audit: the gaps conda cannot fill, as data.

:func:`plan_inputs` turns findings (after ``--select``/``--ignore``) and the lock into a
:class:`BuildGaps`: which pip packages need a wheels stage and with what toolchains,
which need nvcc, which apt packages the runtime stage must add, whether a GPU variant
is needed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Literal
from urllib.parse import unquote, urlsplit

from conda2docker.audit.context import LocalFacts
from conda2docker.audit.knowledge.syslibs import system_need
from conda2docker.audit.knowledge.toolchains import TOOLCHAIN_APT, build_needs, sdist_needs
from conda2docker.audit.rules._common import requirement_label
from conda2docker.audit.sdists import SdistFacts
from conda2docker.cuda import facts as cuda
from conda2docker.model import EnvSpec, Finding, Lock, LockedPackage, PipRequirement
from conda2docker.names import canonical
from conda2docker.values import frozen

SourceKind = Literal["sdist", "vcs", "path"]


@frozen
class SourceBuild:
    """A pip package the wheels stage builds from source."""

    name: str
    kind: SourceKind
    source: str
    """URL (sdist, vcs) or local path as written."""
    version: str | None = None
    toolchains: tuple[str, ...] = ()
    apt_packages: tuple[str, ...] = ()
    """Debian packages the build stage needs (compilers and -dev headers)."""
    cuda: bool = False
    """Compiles CUDA kernels: build it in a CUDA devel stage."""
    no_build_isolation: bool = False
    """Its sdist's ``setup.py`` imports packages (torch, numpy, …) that its build requirements
    do not bring: build it with ``--no-build-isolation`` against the installed ones."""


@frozen
class BuildGaps:
    """The audit's summary for the build plan; empty tuples mean "no stage needed"."""

    platform: str
    sdist_packages: tuple[SourceBuild, ...] = ()
    vcs_packages: tuple[SourceBuild, ...] = ()
    local_packages: tuple[SourceBuild, ...] = ()
    cuda_extensions: tuple[str, ...] = ()
    needs_gpu: bool = False
    cuda_version: str | None = None
    min_driver: str | None = None
    system_libraries: tuple[str, ...] = ()
    """apt packages the runtime stage installs (S303)."""
    unavailable: tuple[str, ...] = ()
    """Requested conda packages no channel has (C101): not in the image."""

    @property
    def source_builds(self) -> tuple[SourceBuild, ...]:
        return self.sdist_packages + self.vcs_packages + self.local_packages

    @property
    def needs_wheels_stage(self) -> bool:
        return bool(self.source_builds)

    @property
    def build_apt_packages(self) -> tuple[str, ...]:
        """Every apt package the wheels stage needs, sorted."""
        return tuple(sorted({a for b in self.source_builds for a in b.apt_packages}))


def _subjects(findings: Iterable[Finding], *codes: str) -> list[str]:
    return sorted({f.subject for f in findings if f.code in codes})


def _build(
    package: LockedPackage | None,
    name: str,
    kind: SourceKind,
    source: str,
    cuda_names: set[str],
    facts: LocalFacts | None = None,
) -> SourceBuild:
    requires = package.dependencies if package else {}
    needs = build_needs(name, requires, local=facts.toolchains if facts else None)
    is_cuda = canonical(name) in cuda_names or bool(facts and facts.cuda)
    chains = tuple(sorted({*needs.toolchains, *(("cuda", "c++") if is_cuda else ())}))
    apt = tuple(sorted({*needs.apt, *(a for c in chains for a in TOOLCHAIN_APT.get(c, ()))}))
    return SourceBuild(name, kind, source, package.version if package else None, chains, apt,
                       is_cuda)


def _sdist_build(package: LockedPackage | None, name: str, cuda_names: set[str],
                 facts: SdistFacts | None) -> SourceBuild:
    """An sdist build: from what its archive showed when it was looked into, else guessed."""
    pip = {canonical(name): package} if package else {}
    if facts is None:
        return _build(package, name, "sdist", _url(pip, name, name), cuda_names)
    is_cuda = facts.cuda or canonical(name) in cuda_names
    chains = {*facts.toolchains, *(("cuda", "c++") if is_cuda else ())}
    needs = sdist_needs(name, chains)
    return SourceBuild(name, "sdist", _url(pip, name, facts.url), facts.version, needs.toolchains,
                       needs.apt, is_cuda, facts.needs_no_build_isolation)


def _path_requirements(spec: EnvSpec | None) -> dict[str, PipRequirement]:
    """Local-path requirements by the label the rules use as subject."""
    if spec is None:
        return {}
    return {requirement_label(r): r for r in spec.pip if r.kind == "path" and r.path is not None}


def plan_inputs(
    findings: Sequence[Finding],
    lock: Lock | None,
    platform: str,
    *,
    spec: EnvSpec | None = None,
    local: Mapping[str, LocalFacts] | None = None,
    sdists: Mapping[str, SdistFacts] | None = None,
) -> BuildGaps:
    """The build gaps the findings and the lock describe for ``platform``.

    ``spec`` and ``local`` (from :func:`conda2docker.audit.local.scan_local_paths`) let
    local packages carry their paths and toolchains; ``sdists`` (from
    :mod:`conda2docker.audit.sdists`) what the sdists themselves showed they need.
    """
    pip = {canonical(p.name): p for p in (lock.pip_packages(platform) if lock else ())}
    cuda_names = {canonical(s) for s in _subjects(findings, "G403")}
    sdist_builds = [_sdist_build(pip.get(canonical(n)), n, cuda_names, (sdists or {}).get(canonical(n)))
                    for n in _subjects(findings, "P201")]
    vcs_names = {n for n, p in pip.items() if p.artifact == "vcs"}
    vcs_names |= {canonical(s) for s in _subjects(findings, "P202", "R502")}
    vcs = [_build(pip.get(n), n, "vcs", _url(pip, n, n), cuda_names) for n in sorted(vcs_names)]
    paths = _path_requirements(spec)
    local_builds: list[SourceBuild] = []
    for subject in sorted({*_subjects(findings, "P203"),
                           *(n for n, p in pip.items() if p.artifact == "path")}):
        requirement = paths.get(subject)
        source = str(requirement.path) if requirement and requirement.path else subject
        facts = (local or {}).get(source) or _facts_of_locked_path(pip.get(canonical(subject)), local)
        local_builds.append(_build(pip.get(canonical(subject)), subject, "path",
                                   _url(pip, subject, source), cuda_names, facts))
    versions = _subjects(findings, "G402")
    version = max(versions, key=_version_key) if versions else None
    libraries = {a for s in _subjects(findings, "S303") if (need := system_need(s)) for a in need.apt}
    builds_cuda = any(b.cuda for b in (*sdist_builds, *vcs, *local_builds))
    return BuildGaps(
        platform=platform,
        sdist_packages=tuple(sdist_builds),
        vcs_packages=tuple(vcs),
        local_packages=tuple(local_builds),
        cuda_extensions=tuple(sorted(cuda_names | {b.name for b in local_builds if b.cuda})),
        needs_gpu=bool(_subjects(findings, "G401", "G402", "G404")) or builds_cuda,
        cuda_version=version,
        min_driver=cuda.min_driver(_version_key(version)) if version else None,
        system_libraries=tuple(sorted(libraries)),
        unavailable=tuple(_subjects(findings, "C101")),
    )


def _facts_of_locked_path(package: LockedPackage | None,
                          local: Mapping[str, LocalFacts] | None) -> LocalFacts | None:
    """The scanned tree of a local package the lock names (``./pkg`` in the file has no name;
    the lock knows it by its project name and ``file://`` URL)."""
    if package is None or package.artifact != "path" or not local:
        return None
    path = unquote(urlsplit(package.url).path)
    return next((facts for key, facts in local.items()
                 if key == path or str(facts.path.resolve()) == path), None)


def _url(pip: Mapping[str, LockedPackage], name: str, fallback: str) -> str:
    package = pip.get(canonical(name))
    return package.url if package else fallback


def _version_key(text: str) -> tuple[int, int]:
    major, _, minor = text.partition(".")
    return int(major), int(minor or 0)
