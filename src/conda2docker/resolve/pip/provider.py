"""The resolvelib provider: candidates, preferences and dependencies."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName
from packaging.version import Version
from resolvelib import (
    AbstractProvider,
)
from resolvelib.structs import RequirementInformation

from conda2docker.resolve.pip.candidates import Candidate, Req, VersionFiles, is_version
from conda2docker.resolve.pip.context import Context

# -- the resolvelib provider --------------------------------------------------------------


class Provider(AbstractProvider[Req, Candidate, str]):
    """Finds candidates and dependencies for resolvelib; remembers what it excluded."""

    def __init__(self, context: Context) -> None:
        self.ctx = context
        self.excluded: dict[NormalizedName, dict[Version, str]] = defaultdict(dict)
        self.glibc_skips: dict[NormalizedName, dict[Version, str]] = defaultdict(dict)
        self.constrained: set[NormalizedName] = set()
        """Packages of which a ``-c`` constraint ruled out at least one version."""

    def identify(self, requirement_or_candidate: Req | Candidate) -> str:
        return requirement_or_candidate.key

    def get_preference(
        self,
        identifier: str,
        resolutions: Mapping[str, Candidate],
        candidates: Mapping[str, Iterator[Candidate]],
        information: Mapping[str, Iterator[RequirementInformation[Req, Candidate]]],
        backtrack_causes: Sequence[RequirementInformation[Req, Candidate]],
    ) -> tuple[bool, bool, bool, bool, str]:
        infos = [i.requirement for i in information[identifier]]
        name = infos[0].name if infos else identifier
        direct = any(r.direct for r in infos)
        pinned = any(s.operator in ("==", "===") for r in infos for s in r.specifier)
        caused = any(c.requirement.name == name for c in backtrack_causes)
        fixed = direct or name in self.ctx.conda
        return (not fixed, not pinned, not caused, bool(infos and infos[0].extras), identifier)

    def find_matches(
        self,
        identifier: str,
        requirements: Mapping[str, Iterator[Req]],
        incompatibilities: Mapping[str, Iterator[Candidate]],
    ) -> Callable[[], Iterator[Candidate]]:
        reqs = list(requirements[identifier])
        bad = set(incompatibilities[identifier])
        name, extras = reqs[0].name, reqs[0].extras

        def matches() -> Iterator[Candidate]:
            for cand in self._candidates(name, extras, reqs):
                if cand not in bad and all(self.is_satisfied_by(r, cand) for r in reqs):
                    yield cand

        return matches

    def _candidates(
        self, name: NormalizedName, extras: frozenset[NormalizedName], reqs: list[Req]
    ) -> Iterator[Candidate]:
        direct = next((r.direct for r in reqs if r.direct), self.ctx.directs.get(name))
        if direct is not None:
            yield Candidate(name, direct.version, "direct", extras, direct=direct)
            return
        constraint = self.ctx.constraints.get(name)
        provided = self.ctx.conda.get(name)
        if provided is not None:
            version = provided.parsed or Version("0")
            if constraint is not None and not provided.satisfies(constraint.specifier):
                self._constrain(name, version, constraint.describe())
                return
            yield Candidate(name, version, "conda", extras, conda_name=provided.conda_name)
            return
        allow_pre = self.ctx.pre or any(r.specifier.prereleases for r in reqs)
        pins = {s.version for r in reqs for s in r.specifier if s.operator in ("==", "===")}
        for entry in self.ctx.versions(name):
            version = entry.version
            if not all(r.specifier.contains(version, prereleases=True) for r in reqs):
                continue
            if constraint is not None and not constraint.specifier.contains(version, prereleases=True):
                self._constrain(name, version, constraint.describe())
                continue
            reason = self._exclusion(entry, allow_pre, pins)
            if reason is None and entry.chosen is not None:
                cand = Candidate(name, version, "index", extras, file=entry.chosen)
                reason = self._metadata_problem(cand)
                if reason is None:
                    yield cand
                    continue
            if reason:
                self.excluded[name][version] = reason
            if entry.glibc:
                self.glibc_skips[name][version] = entry.glibc

    def _constrain(self, name: NormalizedName, version: Version, constraint: str) -> None:
        self.excluded[name][version] = f"outside the constraint {constraint}"
        self.constrained.add(name)

    def _exclusion(self, entry: VersionFiles, allow_pre: bool, pins: set[str]) -> str | None:
        if entry.version.is_prerelease and not allow_pre:
            return "a pre-release (use --pre or pin it)"
        if entry.yanked and str(entry.version) not in pins and not any(
            Version(p) == entry.version for p in pins if is_version(p)
        ):
            return "yanked"
        if entry.chosen is None:
            if entry.glibc:
                return (f"only wheels for glibc >= {entry.glibc} (the base image has "
                        f"{self.ctx.target.glibc}) and no sdist")
            return f"no wheel for {self.ctx.target.describe()} and no sdist"
        python = Version(self.ctx.target.python_version)
        rp = entry.chosen.requires_python
        if rp and not _spec_allows(rp, python):
            return f"requires Python {rp}"
        return None

    def _metadata_problem(self, cand: Candidate) -> str | None:
        meta = self.ctx.metadata(cand)
        if meta is None:
            return None
        if meta.version and is_version(meta.version) and Version(meta.version) != cand.version:
            return f"its metadata says version {meta.version}"
        rp = meta.requires_python
        if rp and not _spec_allows(rp, Version(self.ctx.target.python_version)):
            return f"requires Python {rp}"
        return None

    def is_satisfied_by(self, requirement: Req, candidate: Candidate) -> bool:
        if requirement.direct is not None:
            return candidate.direct is not None and candidate.direct.url == requirement.direct.url
        if candidate.kind == "conda":
            provided = self.ctx.conda.get(candidate.name)
            return provided is None or provided.satisfies(requirement.specifier)
        return requirement.specifier.contains(candidate.version, prereleases=True)

    def get_dependencies(self, candidate: Candidate) -> list[Req]:
        deps: list[Req] = []
        if candidate.extras:
            pin = SpecifierSet(f"=={candidate.version}")
            deps.append(Req(candidate.name, pin, direct=candidate.direct))
        for requirement in self.ctx.requires(candidate, candidate.extras):
            deps.append(self.ctx.to_req(requirement))
        return deps



def _spec_allows(spec: str, version: Version) -> bool:
    try:
        return SpecifierSet(spec).contains(version, prereleases=True)
    except InvalidSpecifier:
        return True


