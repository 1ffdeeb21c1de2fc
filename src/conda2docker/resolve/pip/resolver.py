"""The entry point: root requirements, the resolvelib run, errors, and the locked result."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path

from packaging.markers import InvalidMarker, Marker
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from resolvelib import (
    BaseReporter,
    ResolutionImpossible,
    ResolutionTooDeep,
    Resolver,
)
from resolvelib.structs import RequirementInformation

from conda2docker.errors import ResolveError, SourceLocation
from conda2docker.model import LockedPackage, PipOptions, PipRequirement, ReaderChange
from conda2docker.resolve.pip.candidates import Candidate, Req
from conda2docker.resolve.pip.context import Context
from conda2docker.resolve.pip.provided import CondaProvided, conda_provides
from conda2docker.resolve.pip.provider import Provider
from conda2docker.resolve.pip.sources import prepare_path, prepare_url, prepare_vcs
from conda2docker.resolve.pip.target import (
    MAX_ROUNDS,
    PipTarget,
    glibc_tuple,
)
from conda2docker.resolve.pypi import (
    IndexClient,
)
from conda2docker.values import frozen

# -- the entry point ----------------------------------------------------------------------


@frozen
class PipResolution:
    """The pip packages to install for one platform, and what the resolve learned."""

    packages: tuple[LockedPackage, ...]
    satisfied_by_conda: tuple[tuple[str, str], ...] = ()
    """``(pip requirement name, conda package that provides it)`` pairs."""
    changes: tuple[ReaderChange, ...] = ()


def resolve_pip(
    requirements: Sequence[PipRequirement],
    options: PipOptions,
    target: PipTarget,
    *,
    conda_packages: Sequence[LockedPackage],
    base_dir: Path,
    index: IndexClient | None = None,
) -> PipResolution:
    """Lock ``requirements`` for ``target``, consistent with ``conda_packages``.

    Raises :class:`ResolveError` when a package or version does not exist, requirements
    conflict (with each other or with a conda package), or an index is unreachable.
    """
    ctx = Context(options, target, index or IndexClient(), base_dir, conda_provides(conda_packages))
    changes: list[ReaderChange] = []
    roots = root_requirements(ctx, requirements, changes)
    if not roots:
        return PipResolution((), (), tuple(changes))
    provider = Provider(ctx)
    try:
        result = Resolver(provider, BaseReporter()).resolve(roots, max_rounds=MAX_ROUNDS)
    except ResolutionImpossible as exc:
        raise impossible(ctx, provider, list(exc.causes)) from None
    except ResolutionTooDeep:
        raise ResolveError(
            f"pip: no consistent set of versions found within {MAX_ROUNDS} rounds",
            fix="pin the main pip requirements to versions known to work together",
        ) from None
    requested = {n: loc for n, loc in ctx.locations.items() if n in ctx.conda}
    return assemble(ctx, provider, result.mapping, changes, requested)


def _pinned(specifier: SpecifierSet) -> bool:
    return any(s.operator in ("==", "===") and "*" not in s.version for s in specifier)


def root_requirements(
    ctx: Context, requirements: Sequence[PipRequirement], changes: list[ReaderChange]
) -> list[Req]:
    """The ``pip:`` entries that apply to the target, as resolver requirements."""
    roots: list[Req] = []
    for req in requirements:
        if req.marker and not _marker_true(ctx, req):
            changes.append(
                ReaderChange(
                    action="dropped", subject=req.name or req.raw, code="S305",
                    reason=f"its marker ({req.marker}) is false for {ctx.target.describe()}",
                    location=req.location,
                )
            )
            continue
        extras = frozenset(canonicalize_name(e) for e in req.extras)
        if req.kind == "registry":
            roots.append(_registry_root(ctx, req, extras, changes))
            continue
        if req.kind == "vcs":
            direct = prepare_vcs(ctx, req, changes)
        elif req.kind == "path":
            direct = prepare_path(ctx, req, changes)
        else:
            direct = prepare_url(ctx, req.name, req.url or req.raw, req.raw, changes)
        if req.hashes:
            _check_direct_hash(req, direct.sha256)
        ctx.directs[direct.name] = direct
        provided = ctx.conda.pop(direct.name, None)
        if provided is not None:
            changes.append(_overrides(req, direct.name, provided, str(direct.version)))
        roots.append(Req(direct.name, SpecifierSet(), extras, direct))
    return roots


def _marker_true(ctx: Context, req: PipRequirement) -> bool:
    try:
        return Marker(req.marker or "").evaluate(ctx.environment)
    except InvalidMarker as exc:
        raise ResolveError(
            f"pip: invalid environment marker in {req.raw!r}: {exc}",
            fix="write a PEP 508 marker such as sys_platform == \"linux\"", location=req.location,
        ) from None


def _registry_root(
    ctx: Context, req: PipRequirement, extras: frozenset[NormalizedName], changes: list[ReaderChange]
) -> Req:
    try:
        name = canonicalize_name(req.name or "")
        specifier = SpecifierSet(req.specifier)
    except InvalidSpecifier as exc:
        raise ResolveError(
            f"pip: invalid version specifier in {req.raw!r}: {exc}",
            fix="write it as e.g. name>=1.2,<2", location=req.location,
        ) from None
    ctx.locations.setdefault(name, req.location)
    provided = ctx.conda.get(name)
    if req.hashes:
        _pin_hashes(ctx, req, name)
        if provided is not None:  # the file the hash names, not conda's copy
            del ctx.conda[name]
            changes.append(_overrides(req, name, provided, str(specifier)))
            provided = None
    if provided is not None and not provided.satisfies(specifier):
        if not _pinned(specifier):
            raise ResolveError(
                f"pip: {req.raw} conflicts with conda package {provided.conda_name} "
                f"{provided.version}, which provides {name}",
                fix=f"relax the pip requirement, change the conda requirement on "
                f"{provided.conda_name}, or pin an exact version (==) to let pip's copy "
                "replace conda's",
                location=req.location,
            )
        del ctx.conda[name]
        changes.append(_overrides(req, name, provided, str(specifier)))
    return Req(name, specifier, extras)


def sha256_hashes(req: PipRequirement) -> frozenset[str]:
    """The sha256 digests of a requirement's ``--hash`` options; a line hashed with other
    algorithms only cannot be checked against an index or a lock (which record sha256)."""
    found = frozenset(h.split(":", 1)[1] for h in req.hashes if h.startswith("sha256:"))
    if req.hashes and not found:
        raise ResolveError(
            f"pip: {req.raw.strip()!r} has no sha256 --hash; the lock records sha256 digests",
            fix="add --hash=sha256:<digest> of the file (`pip hash FILE` prints it)",
            location=req.location,
        )
    return found


def _pin_hashes(ctx: Context, req: PipRequirement, name: NormalizedName) -> None:
    allowed = sha256_hashes(req)
    ctx.hashes[name] = ctx.hashes.get(name, allowed) & allowed
    if not ctx.hashed_files(name):
        listed = ", ".join(sorted(h[:12] + "…" for h in allowed))
        raise ResolveError(
            f"pip: no file of {name} on {ctx.where()} has the sha256 its --hash allows ({listed})",
            fix="correct the --hash (`pip hash FILE` prints it), or remove it to take the "
            "file the index has",
            location=req.location,
        )


def _check_direct_hash(req: PipRequirement, sha256: str | None) -> None:
    allowed = sha256_hashes(req)
    if allowed and sha256 not in allowed:
        raise ResolveError(
            f"pip: {req.url or req.raw.strip()} has sha256 {sha256}, which its --hash does not allow",
            fix="correct the --hash (`pip hash FILE` prints it), or point at the intended file",
            location=req.location,
        )


def _overrides(req: PipRequirement, name: str, provided: CondaProvided, version: str) -> ReaderChange:
    return ReaderChange(
        action="added", subject=name, code="P205",
        reason=f"pip installs {name} ({req.raw}) over conda package {provided.conda_name} "
        f"{provided.version}: the pip section pins it ({version})",
        location=req.location,
    )


# -- errors ---------------------------------------------------------------------------------


def _chain(info: RequirementInformation[Req, Candidate]) -> str:
    if info.parent is None:
        return f"{info.requirement} (from the pip: section)"
    return f"{info.parent} requires {info.requirement}"


def impossible(
    ctx: Context, provider: Provider, causes: list[RequirementInformation[Req, Candidate]]
) -> ResolveError:
    """The clearest one-line account of why resolution failed, with a fix."""
    by_name: dict[NormalizedName, list[RequirementInformation[Req, Candidate]]] = defaultdict(list)
    for cause in causes:
        by_name[cause.requirement.name].append(cause)
    name, infos = next(iter(by_name.items()))
    chains = "; ".join(dict.fromkeys(_chain(i) for i in infos))
    provided = ctx.conda.get(name)
    constraint = ctx.constraints.get(name)
    if constraint is not None and name in provider.constrained:
        have = (f"conda package {provided.conda_name} {provided.version} provides it"
                if provided is not None else
                "available: " + (", ".join(str(v.version) for v in reversed(ctx.versions(name)))
                                 or "none"))
        return ResolveError(
            f"pip: {chains}; the constraint {constraint.describe()} leaves no version of "
            f"{name} ({have})",
            fix=f"relax the constraint on {name}, or the requirement",
            location=constraint.sources[0].location,
        )
    if provided is not None:
        return ResolveError(
            f"pip: {chains}; but conda package {provided.conda_name} {provided.version} "
            f"provides {name}",
            fix=f"relax the pip requirement, or change the conda requirement on "
            f"{provided.conda_name} (or drop it so pip installs {name})",
        )
    direct = ctx.directs.get(name)
    if direct is not None:
        return ResolveError(
            f"pip: {chains}; but {name} comes from {direct.origin} (version {direct.version})",
            fix="relax the requirement or point the direct requirement at a matching version",
        )
    parent = f" (required by {infos[0].parent})" if infos[0].parent else ""
    if not ctx.files(name):
        return ResolveError(
            f"pip: no package named {name} at {ctx.where()}{parent}",
            fix="check the name, or add the index that has it with --extra-index-url or "
            "--find-links",
        )
    available = ", ".join(str(v.version) for v in reversed(ctx.versions(name))) or "none"
    excluded = provider.excluded.get(name, {})
    notes = "; ".join(f"{v} is {why}" if why.startswith(("a ", "yanked")) else f"{v} has {why}"
                      for v, why in sorted(excluded.items(), reverse=True)[:3])
    notes = f"; {notes}" if notes else ""
    glibc = sorted(provider.glibc_skips.get(name, {}).values(), key=glibc_tuple)
    fix = "relax the requirement to an available version"
    if glibc:
        fix += f", or use a base image with glibc >= {glibc[0]}"
    requirements = {str(i.requirement.specifier) for i in infos}
    if len(requirements) == 1:
        spec = requirements.pop() or "any version"
        return ResolveError(
            f"pip: no version of {name} matches {spec}{parent} (available: {available}) "
            f"at {ctx.where()}{notes}",
            fix=fix,
        )
    return ResolveError(
        f"pip: conflicting requirements for {name}: {chains} (available: {available}){notes}",
        fix="relax one of them, or pin the packages that require them to versions that agree",
    )


# -- the result -------------------------------------------------------------------------------


def _dependencies(ctx: Context, cand: Candidate, extras: frozenset[NormalizedName]) -> dict[str, str]:
    merged: dict[str, list[str]] = defaultdict(list)
    requirements = ctx.requires(cand, frozenset())
    if extras:
        requirements += ctx.requires(cand, extras)
    for requirement in requirements:
        text = str(requirement.specifier)
        merged[canonicalize_name(requirement.name)] += [text] if text else []
    return {
        dep: ",".join(sorted(set(specs))) or "*"
        for dep, specs in sorted(merged.items())
        if dep != cand.name
    }


def assemble(
    ctx: Context, provider: Provider, mapping: Mapping[str, Candidate],
    changes: list[ReaderChange], requested: Mapping[NormalizedName, SourceLocation | None],
) -> PipResolution:
    """The lock entries; ``requested`` names the pip: lines conda satisfies (audit P204)."""
    extras: dict[NormalizedName, frozenset[NormalizedName]] = defaultdict(frozenset)
    base: dict[NormalizedName, Candidate] = {}
    for cand in mapping.values():
        if cand.extras:
            extras[cand.name] |= cand.extras
        else:
            base[cand.name] = cand
    packages: list[LockedPackage] = []
    satisfied: list[tuple[str, str]] = []
    for name in sorted(base):
        cand = base[name]
        if cand.kind == "conda":
            satisfied.append((name, cand.conda_name or name))
            if name not in requested:
                continue  # a dependency of a pip package: nothing the user should change
            changes.append(
                ReaderChange(
                    action="mapped", subject=name, code="P204",
                    reason=f"pip requirement {name} is satisfied by conda package "
                    f"{cand.conda_name} {ctx.conda[name].version}; pip does not install it again",
                    location=requested[name],
                )
            )
            continue
        if cand.direct is not None:
            url, sha256 = cand.direct.url, cand.direct.sha256
        else:
            assert cand.file is not None
            url, sha256 = cand.file.url, ctx.client.sha256(cand.file)
        packages.append(
            LockedPackage(
                name=name, version=str(cand.version), manager="pip", platform=ctx.target.platform,
                url=url, sha256=sha256, dependencies=_dependencies(ctx, cand, extras[name]),
            )
        )
        glibc_change = _glibc_change(ctx, provider, cand)
        if glibc_change is not None:
            changes.append(glibc_change)
    return PipResolution(tuple(packages), tuple(satisfied), tuple(changes))


def _glibc_change(ctx: Context, provider: Provider, cand: Candidate) -> ReaderChange | None:
    skipped = {v: g for v, g in provider.glibc_skips.get(cand.name, {}).items() if v >= cand.version}
    own = next((v.glibc for v in ctx.versions(cand.name) if v.version == cand.version), None)
    if own:
        skipped[cand.version] = own
    if not skipped:
        return None
    newest = max(skipped)
    kind = "sdist" if cand.file is not None and not cand.file.is_wheel else "wheel"
    chose = (f"built from the sdist of {cand.version}" if newest == cand.version
             else f"{cand.version} ({kind}) chosen instead")
    return ReaderChange(
        action="relaxed", subject=cand.name, code="S304",
        reason=f"{cand.name} {newest} has wheels only for glibc >= {skipped[newest]} (manylinux) "
        f"but the base image has glibc {ctx.target.glibc}; {chose}",
        detail=", ".join(f"{v}: glibc {g}" for v, g in sorted(skipped.items(), reverse=True)),
    )


