"""P2xx: pip packages the conda channels do not provide, and what they need."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

from conda2docker.audit.context import AuditContext
from conda2docker.audit.knowledge.toolchains import build_needs, sdist_needs
from conda2docker.audit.registry import Rule, rule
from conda2docker.audit.rules._common import (
    change_evidence,
    listing,
    requirement_label,
    shown_path,
)
from conda2docker.errors import SourceLocation
from conda2docker.model import Finding, LockedPackage, Severity
from conda2docker.names import canonical, pypi_to_conda
from conda2docker.public_index import is_public_index, public_index_hosts
from conda2docker.vcs import is_full_commit


def vcs_ref(url: str) -> str | None:
    """The revision in a pip VCS URL (``git+https://h/r.git@v1.0#egg=x`` → ``v1.0``)."""
    path = urlsplit(url).path  # without the host's user@ and the #fragment
    return path.rsplit("@", 1)[1] if "@" in path else None


def _vcs_pinned_in_lock(ctx: AuditContext, name: str | None) -> bool:
    package = ctx.pip.get(canonical(name)) if name else None
    if package is None or package.artifact != "vcs":
        return False
    ref = vcs_ref(package.url)
    return is_full_commit(ref)


def sdist_only(ctx: AuditContext, rule: Rule) -> Iterator[Finding]:
    """A pip package that only a source distribution provides needs a build step, and
    compilers and headers when it has compiled parts (none for a pure-Python sdist); the
    Dockerfile gets a wheels stage that has them, so the runtime stage stays free of
    compilers. Exact pins are checked against the index before any lock."""
    seen: set[str] = set()
    for name, facts in sorted(ctx.sdists.items()):
        seen.add(name)
        needs = sdist_needs(name, facts.toolchains)
        yield rule.finding(
            name,
            evidence=(*facts.evidence(), f"needs: {needs.describe()}"),
            location=facts.location or _pip_location(ctx, name),
            version=facts.version,
            target=_target(ctx),
            toolchains=", ".join(needs.toolchains) or "no compiler (pure Python)",
            apt=" ".join(needs.apt) or "none",
        )
    for name, package in sorted(ctx.pip.items()):
        if package.artifact != "sdist" or name in seen:
            continue
        needs = build_needs(name, package.dependencies)
        yield rule.finding(
            name,
            evidence=(package.file_name, f"needs: {needs.describe()}"),
            location=_pip_location(ctx, name),
            platform=ctx.platform,
            version=package.version,
            target=ctx.platform,
            toolchains=", ".join(needs.toolchains) or "no compiler",
            apt=" ".join(needs.apt) or "none",
        )


rule(
    "P201",
    "sdist-only",
    Severity.WARNING,
    message="{subject} {version} has no wheel for {target}: it is built from source",
    fix="the wheels stage builds it with {toolchains}; apt: {apt}. Or pin a version that "
    "has a wheel, or take it from conda-forge",
    example="""
dependencies:
  - python=3.11
  - pip:
    - jsmin==3.0.1      # published as an sdist only
""",
)(sdist_only)


def _target(ctx: AuditContext) -> str:
    """The target an sdist was checked for: the solved python, else the environment's pin."""
    from conda2docker.audit.sdists import DEFAULT_PYTHON, target_python

    python = ctx.conda.get("python")
    resolved = python.version if python else None
    version = target_python(ctx.spec, resolved) if ctx.spec else (resolved or DEFAULT_PYTHON)
    return f"{ctx.platform}, Python {'.'.join(version.split('.')[:2])}, glibc {ctx.glibc}"


def wheels_unchecked(ctx: AuditContext, rule: Rule) -> Iterator[Finding]:
    """Which exact pins build from source is only known from the index; when it cannot be
    asked, the audit says so instead of reporting no source builds."""
    if ctx.unchecked:
        first = ctx.unchecked[0].split(": ", 1)[-1]
        yield rule.finding("pip index", evidence=listing(ctx.unchecked), count=len(ctx.unchecked),
                           reason=first)


rule(
    "P208",
    "wheels-unchecked",
    Severity.INFO,
    message="{count} exact pip pin(s) could not be checked for wheels: {reason}",
    fix="run the audit with the index reachable (or its answers cached) to know which pins "
    "build from source",
    example="""
dependencies:
  - pip:
    - jsmin==3.0.1      # audited with --offline and an empty cache
""",
)(wheels_unchecked)


def vcs_unpinned(ctx: AuditContext, rule: Rule) -> Iterator[Finding]:
    """A VCS requirement without a revision installs whatever the default branch holds
    on the day of the build: two builds of the same Dockerfile differ."""
    seen: set[str] = set()
    for requirement in ctx.spec.pip if ctx.spec else ():
        if requirement.kind != "vcs" or requirement.ref:
            continue
        label = requirement_label(requirement)
        if _vcs_pinned_in_lock(ctx, requirement.name) or label in seen:
            continue
        seen.add(label)
        yield rule.finding(label, evidence=(requirement.raw,), location=requirement.location,
                           url=requirement.url or requirement.raw)
    for name, package in sorted(ctx.pip.items()):
        if package.artifact == "vcs" and not vcs_ref(package.url) and name not in seen:
            yield rule.finding(name, evidence=(package.url,), location=ctx.lock_location,
                               platform=ctx.platform, url=package.url)


rule(
    "P202",
    "vcs-unpinned",
    Severity.WARNING,
    message="{subject} is installed from {url} without a pinned commit",
    fix="append @<commit sha> to the URL (git ls-remote {url} HEAD prints the current one)",
    example="""
dependencies:
  - pip:
    - git+https://github.com/openai/CLIP.git
""",
)(vcs_unpinned)


def local_path(ctx: AuditContext, rule: Rule) -> Iterator[Finding]:
    """A local package is copied from the build context: the Dockerfile only builds
    where that directory exists, and its content is not pinned by any lock."""
    seen: set[str] = set()
    for requirement in ctx.spec.pip if ctx.spec else ():
        if requirement.kind != "path" or requirement.path is None:
            continue
        path = shown_path(requirement.path, ctx)
        facts = ctx.local.get(str(requirement.path))
        evidence = [requirement.raw]
        if facts is not None and not facts.exists:
            evidence.append(f"{path} does not exist")
        elif facts is not None and facts.toolchains:
            evidence.append(f"builds with: {', '.join(facts.toolchains)}")
        seen.add(canonical(requirement.name) if requirement.name else path)
        yield rule.finding(requirement_label(requirement), evidence=evidence,
                           location=requirement.location, path=path)
    for name, package in sorted(ctx.pip.items()):
        if package.artifact == "path" and name not in seen:
            path = urlsplit(package.url).path
            yield rule.finding(name, evidence=(package.url,), location=ctx.lock_location,
                               platform=ctx.platform, path=path)


rule(
    "P203",
    "local-path",
    Severity.WARNING,
    message="{subject} is installed from the local path {path}",
    fix="keep {path} inside the Docker build context (beside the environment file) and "
    "commit it (or its git submodule); or publish it as a wheel",
    example="""
dependencies:
  - pip:
    - submodules/simple-knn
    - -e .
""",
)(local_path)


_LETTER_RELEASE = re.compile(r"^(\d{4})([a-z])\Z")


def _same_version(conda_version: str, pip_version: str) -> bool:
    """Equal public versions; conda's ``2024a`` (tzdata) equals PyPI's ``2024.1``."""
    from packaging.version import InvalidVersion, Version  # only when pip packages are locked

    if match := _LETTER_RELEASE.match(conda_version):
        conda_version = f"{match[1]}.{ord(match[2]) - ord('a') + 1}"
    try:
        return Version(conda_version).public == Version(pip_version).public
    except InvalidVersion:
        return conda_version == pip_version


def _duplicates(ctx: AuditContext) -> Iterator[tuple[str, str, str | None, str | None]]:
    """(pip name, conda name, conda version, pip version) for each doubled distribution."""
    if ctx.packages:
        for name, package in sorted(ctx.pip.items()):
            conda = _conda_twin(ctx, name)
            if conda is not None:
                yield name, conda.name, conda.version, package.version
        return
    if ctx.spec is None:
        return
    conda_deps = {d.name.lower(): d for d in ctx.spec.conda}
    for requirement in ctx.spec.pip:
        if requirement.kind != "registry" or not requirement.name:
            continue
        name = canonical(requirement.name)
        dep = conda_deps.get(pypi_to_conda(name).lower()) or conda_deps.get(name)
        if dep is not None:
            yield name, dep.name, _exact(dep.version), _exact(requirement.specifier)


def _conda_twin(ctx: AuditContext, pip_name: str) -> LockedPackage | None:
    return ctx.conda.get(pypi_to_conda(pip_name).lower()) or ctx.conda.get(pip_name)


def _exact(spec: str) -> str | None:
    """The version an exact pin names (``==1.2``, ``=1.2``, ``1.2``), else None."""
    text = spec.strip().lstrip("=").strip()
    if not text or any(c in text for c in "<>!~*,| "):
        return None
    return text


def pip_duplicates_conda(ctx: AuditContext, rule: Rule) -> Iterator[Finding]:
    """When pip installs a distribution conda already installed, pip overwrites conda's
    files without telling conda: a later conda update breaks the environment, and the
    image carries the package twice in its layers."""
    seen = set()
    for change in ctx.changes_with(rule.code):
        seen.add(canonical(change.subject))
        yield rule.finding(change.subject, evidence=change_evidence(change),
                           location=change.location, conda_name=pypi_to_conda(change.subject))
    for name, conda_name, conda_version, pip_version in _duplicates(ctx):
        if name in seen or (conda_version and pip_version
                            and not _same_version(conda_version, pip_version)):
            continue
        evidence = (f"conda: {conda_name} {conda_version or '(any)'}",
                    f"pip: {name} {pip_version or '(any)'}")
        yield rule.finding(name, evidence=evidence, location=_pip_location(ctx, name),
                           platform=ctx.platform if ctx.packages else None,
                           conda_name=conda_name)


rule(
    "P204",
    "pip-duplicates-conda",
    Severity.WARNING,
    message="pip requirement {subject} duplicates the conda package {conda_name}",
    fix="remove {subject} from the pip section; the conda package {conda_name} provides it",
    example="""
dependencies:
  - numpy=1.26.4
  - pip:
    - numpy==1.26.4
""",
)(pip_duplicates_conda)


def pip_shadows_conda(ctx: AuditContext, rule: Rule) -> Iterator[Finding]:
    """pip replaces conda's files with another version, but conda-built packages were
    solved against conda's version: binary extensions can fail to import, and
    ``conda list`` lies about what is installed."""
    seen = set()
    for change in ctx.changes_with(rule.code):
        seen.add(canonical(change.subject))
        yield rule.finding(change.subject, evidence=change_evidence(change),
                           location=change.location, conda_name=pypi_to_conda(change.subject),
                           versions="the pip section pins its own version")
    for name, conda_name, conda_version, pip_version in _duplicates(ctx):
        if (name in seen or not (conda_version and pip_version)
                or _same_version(conda_version, pip_version)):
            continue
        yield rule.finding(
            name,
            evidence=(f"conda: {conda_name} {conda_version}", f"pip: {name} {pip_version}"),
            location=_pip_location(ctx, name),
            platform=ctx.platform if ctx.packages else None,
            conda_name=conda_name, versions=f"conda {conda_version}, pip {pip_version}",
        )


rule(
    "P205",
    "pip-shadows-conda",
    Severity.ERROR,
    message="pip installs {subject} over the conda package {conda_name} ({versions})",
    fix="pick one version: drop {subject} from the pip section, or pin the conda package "
    "{conda_name} to the version pip needs",
    example="""
dependencies:
  - pytorch=1.11.0
  - pip:
    - torch==1.13.1
""",
)(pip_shadows_conda)


def _pip_location(ctx: AuditContext, name: str) -> SourceLocation | None:
    for requirement in ctx.spec.pip if ctx.spec else ():
        if requirement.name and canonical(requirement.name) == name and requirement.location:
            return requirement.location
    return ctx.lock_location


def custom_index(ctx: AuditContext, rule: Rule) -> Iterator[Finding]:
    """Custom indexes and find-links pages must be reachable when the image is built,
    and packages can be shadowed between indexes (dependency confusion)."""
    sources: dict[str, list[str]] = {}
    if ctx.spec is not None:
        options = ctx.spec.pip_options
        for url in (options.index_url, *options.extra_index_urls, *options.find_links):
            if url and not is_public_index(url):
                sources.setdefault(url, [])
    for name, package in sorted(ctx.pip.items()):
        if package.artifact in ("wheel", "sdist") and "://" in package.url:
            host = urlsplit(package.url).hostname or ""
            if host not in public_index_hosts():
                base = package.url.rsplit("/", 1)[0]
                # a file belongs to a source when it lies below that URL (a path boundary:
                # .../simple does not serve .../simple-old/); a file on no host (file://) is
                # named by its directory
                key = next((s for s in sources
                            if f"{base}/".startswith(f"{s.rstrip('/')}/")), host or base)
                sources.setdefault(key, []).append(f"{name} {package.version}")
    for source, packages in sorted(sources.items()):
        evidence = listing(packages) if packages else ("from the pip options",)
        location = ctx.spec.pip_options.location_of(source) if ctx.spec else None
        yield rule.finding(source, evidence=evidence, location=location)


rule(
    "P206",
    "custom-index",
    Severity.INFO,
    message="pip uses a package source besides PyPI: {subject}",
    fix="make {subject} reachable from the build (network or a mirror); conda2docker "
    "passes it to the wheels stage",
    example="""
dependencies:
  - pip:
    - --extra-index-url https://download.pytorch.org/whl/cu118
    - torch==2.1.0+cu118
""",
)(custom_index)


def pip_unresolvable(ctx: AuditContext, rule: Rule) -> Iterator[Finding]:
    """The conda part solved but the pip requests cannot all be met from the index with
    the Python the conda part chose; the image cannot be built until they can."""
    for change in ctx.changes_with(rule.code):
        yield rule.finding(change.subject, location=change.location, reason=change.reason,
                           detail=change.detail.removeprefix("fix: ")
                           or "relax the pip pins named above")


rule(
    "P207",
    "pip-unresolvable",
    Severity.ERROR,
    message="{subject} cannot be locked: {reason}",
    fix="{detail}",
    example="""
dependencies:
  - python=3.11
  - pip:
    - torch==1.4.0     # no release of that version for Python 3.11
""",
)(pip_unresolvable)
