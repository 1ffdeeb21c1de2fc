"""R5xx: what makes a rebuild differ from this build, and what the reader ignored."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from conda2docker.audit.context import AuditContext
from conda2docker.audit.registry import Rule, rule
from conda2docker.audit.rules._common import (
    change_evidence,
    from_changes,
    listing,
    requirement_label,
    shown_path,
)
from conda2docker.errors import SourceLocation
from conda2docker.model import Finding, Severity
from conda2docker.vcs import is_full_commit

_UNPINNED = frozenset({"", "*"})


def unpinned(ctx: AuditContext, rule: Rule) -> Iterator[Finding]:
    """Without a version a new solve can pick a newer release at any time; the lock pins
    it for now, but re-locking after an unrelated change can move it too."""
    if ctx.spec is None:
        return
    added = {c.subject for c in ctx.changes if c.action == "added"}
    for dep in ctx.spec.conda:
        if dep.name in added and not dep.raw:
            continue  # the reader added it (R510 says so); not the user's pin to judge
        if dep.version.strip() in _UNPINNED and not dep.build:
            version = ctx.conda.get(dep.name.lower())
            yield rule.finding(dep.name, evidence=(dep.raw or dep.name,), location=dep.location,
                               example=version.version if version else "<version>")
    for requirement in ctx.spec.pip:
        if requirement.kind == "registry" and requirement.name and not requirement.specifier:
            yield rule.finding(requirement.name, evidence=(requirement.raw,),
                               location=requirement.location, example="=<version>")


rule(
    "R501",
    "unpinned",
    Severity.INFO,
    message="{subject} has no version constraint",
    fix="pin it (e.g. {subject}={example}) or keep the lock next to the environment file",
    example="""
dependencies:
  - numpy
  - pip:
    - requests
""",
)(unpinned)


def vcs_branch_ref(ctx: AuditContext, rule: Rule) -> Iterator[Finding]:
    """Branches move and tags can be re-pointed: the same requirement installs different
    code over time. A commit hash cannot change. Like pip, only a full 40-hex commit id counts
    as one: a shorter hex string may name a branch, and pip resolves it as a ref. The same
    holds for a forge's archive of a branch (``https://github.com/o/r/archive/master.zip``)."""
    for requirement in ctx.spec.pip if ctx.spec else ():
        if requirement.kind == "vcs" and requirement.ref and not is_full_commit(requirement.ref):
            yield rule.finding(requirement_label(requirement), evidence=(requirement.raw,),
                               location=requirement.location, ref=requirement.ref,
                               url=requirement.url or requirement.raw)
        elif requirement.kind == "url" and requirement.url:
            found = _ARCHIVE_REF.search(requirement.url.split("#", 1)[0])
            if found and not is_full_commit(found["ref"]):
                repository = requirement.url[: found.start()]
                yield rule.finding(requirement.name or repository.rsplit("/", 1)[-1],
                                   evidence=(requirement.raw.strip(),),
                                   location=requirement.location, ref=found["ref"],
                                   url=repository)


rule(
    "R502",
    "vcs-branch-ref",
    Severity.WARNING,
    message="{subject} follows {ref}, a branch, tag or abbreviated commit, not a full commit id",
    fix="replace @{ref} with the full 40-hex commit it points to (git ls-remote {url} {ref})",
    example="""
dependencies:
  - pip:
    - -e git+https://github.com/CompVis/taming-transformers.git@master#egg=taming-transformers
""",
)(vcs_branch_ref)


_ARCHIVE_REF = re.compile(
    r"/(?:archive|-/archive)/(?:refs/(?:heads|tags)/)?(?P<ref>[^/]+?)(?:/[^/]*)?\.(?:zip|tar\.gz|tgz)\Z"
)


def export_build_strings(ctx: AuditContext, rule: Rule) -> Iterator[Finding]:
    """Exact build strings from ``conda env export`` name one platform's builds; the
    resolver relaxes them for the target platform, so the image may not hold the exported
    builds. One cause, one finding: the packages are its evidence."""
    relaxed = {change.subject: change for change in ctx.changes_with(rule.code)}
    pinned: dict[str, str] = {}
    locations: list[SourceLocation] = []
    for dep in ctx.spec.conda if ctx.spec else ():
        if dep.build and "*" not in dep.build:
            pinned[dep.name] = (dep.raw or dep.matchspec).strip()
            if dep.location is not None:
                locations.append(dep.location)
    for name, change in relaxed.items():
        pinned.setdefault(name, change.detail or name)
        if change.location is not None:
            locations.append(change.location)
    if not pinned:
        return
    evidence = [f"{text} (relaxed: {relaxed[name].reason.split(';')[0]})" if name in relaxed
                else text for name, text in sorted(pinned.items())]
    first = min(locations, key=lambda at: (str(at.file), at.line or 0)) if locations else None
    yield rule.finding("exported build strings", evidence=listing(evidence), location=first,
                       count=len(pinned))


rule(
    "R503",
    "export-build-strings",
    Severity.WARNING,
    message="{count} package(s) pin the build strings of the platform they were exported on",
    fix="drop the build strings (conda env export --no-builds) and keep the lock instead",
    example="""
dependencies:
  - numpy=1.26.4=py311h64a7726_0
  - libzlib=1.2.13=hd590300_5
""",
)(export_build_strings)


def no_lock(ctx: AuditContext, rule: Rule) -> Iterator[Finding]:
    """An environment file is a wish list; only a lock (exact versions, URLs and hashes)
    rebuilds the same image next month. The finding is about the input alone, so the
    report is the same whether or not an earlier lock was reused."""
    spec = ctx.spec
    if spec is None or spec.lock is not None:  # a conda-lock or explicit input is its lock
        return
    yield rule.finding(spec.source.name, location=SourceLocation(spec.source))


rule(
    "R504",
    "no-lock",
    Severity.INFO,
    message="{subject} has no lock: every solve may give a different environment",
    fix="commit the conda-lock.yml that conda2docker writes next to {subject}",
    example="""
# environment.yml alone, no conda-lock.yml beside it
dependencies:
  - numpy
""",
)(no_lock)


def template_placeholder(ctx: AuditContext, rule: Rule) -> Iterator[Finding]:
    """Template files (``*.yml.template``) hold ``$VARIABLE`` placeholders that a script
    fills in; converted as they are, those lines are dropped or misread."""
    yield from from_changes(ctx, rule)


rule(
    "R505",
    "template-placeholder",
    Severity.WARNING,
    message="{subject} looks like an unfilled template placeholder",
    fix="substitute the placeholder before converting (the file is a template)",
    example="""
name: $condaEnvName
dependencies:
  - python=3.11
""",
)(template_placeholder)


def prefix_ignored(ctx: AuditContext, rule: Rule) -> Iterator[Finding]:
    """``conda env export`` writes the exporting machine's prefix; it means nothing inside
    a container, where the environment lives at a fixed path."""
    yield from from_changes(ctx, rule)


rule(
    "R506",
    "prefix-ignored",
    Severity.INFO,
    message="prefix: {subject} is ignored: the image installs to its own prefix",
    fix="nothing to do; delete the prefix: line to silence this",
    example="""
dependencies:
  - python=3.11
prefix: /Users/me/miniconda3/envs/ml
""",
)(prefix_ignored)


def unknown_key(ctx: AuditContext, rule: Rule) -> Iterator[Finding]:
    """conda ignores keys it does not know, so a misspelt ``dependencies`` silently
    yields an empty environment."""
    yield from from_changes(ctx, rule)


rule(
    "R507",
    "unknown-key",
    Severity.WARNING,
    message="the key {subject} is not part of an environment file and was ignored",
    fix="check the spelling (name, channels, dependencies, variables, platforms) or "
    "remove it",
    example="""
dependecies:   # misspelt: nothing gets installed
  - numpy
dependencies:
  - python=3.11
""",
)(unknown_key)


def pip_option(ctx: AuditContext, rule: Rule) -> Iterator[Finding]:
    """Option lines in a pip section apply to the whole pip install; the reader keeps
    the ones the build can honour and reports the others."""
    yield from from_changes(ctx, rule)


rule(
    "R508",
    "pip-option",
    Severity.INFO,
    message="pip option {subject}: {reason}",
    fix="check that the option still does what you want in the image build",
    example="""
dependencies:
  - python=3.11
  - pip
  - pip:
    - "--only-binary :all:"
    - requests
""",
)(pip_option)


def editable_install(ctx: AuditContext, rule: Rule) -> Iterator[Finding]:
    """Editable installs point into a working tree that the image does not have; the
    Dockerfile installs a snapshot of the source instead."""
    seen: set[object] = set()
    for change in ctx.changes_with(rule.code):
        seen |= {change.subject, change.location}
        yield rule.finding(change.subject, evidence=change_evidence(change),
                           location=change.location)
    for requirement in ctx.spec.pip if ctx.spec else ():
        label = requirement_label(requirement)
        if requirement.editable and not seen & {label, requirement.raw.strip(), requirement.location}:
            seen.add(label)
            yield rule.finding(label, evidence=(requirement.raw,), location=requirement.location)


rule(
    "R509",
    "editable-install",
    Severity.INFO,
    message="{subject} is an editable install: the image installs it as a regular package",
    fix="mount the source over the installed copy for development, or drop -e",
    example="""
dependencies:
  - pip:
    - -e .
""",
)(editable_install)


def added_by_reader(ctx: AuditContext, rule: Rule) -> Iterator[Finding]:
    """What the file leaves implicit (a channel, pip for a pip section, a Python for a
    requirements file) is added explicitly, so the image does not depend on the
    installing machine's conda configuration."""
    yield from from_changes(ctx, rule)


rule(
    "R510",
    "added-by-reader",
    Severity.INFO,
    message="{subject} was added: {reason}",
    fix="list it in the environment file yourself to make the choice explicit",
    example="""
# requirements.txt (no environment.yml): python, pip and conda-forge are added
numpy==1.26.4
""",
)(added_by_reader)


def selector_undecided(ctx: AuditContext, rule: Rule) -> Iterator[Finding]:
    """conda-build selectors that name unknown variables cannot be decided for an
    environment file; keeping the line may install something meant for another build."""
    yield from from_changes(ctx, rule)


rule(
    "R511",
    "selector-undecided",
    Severity.WARNING,
    message="the selector on {subject} cannot be evaluated; the line is kept",
    fix="use a selector conda2docker understands (linux, osx, win, unix, linux64, "
    "aarch64, x86_64, arm64, py, with and/or/not), or remove it",
    example="""
dependencies:
  - cudatoolkit  # [cuda_compiler_version != "None"]
""",
)(selector_undecided)


def missing_include(ctx: AuditContext, rule: Rule) -> Iterator[Finding]:
    """A ``-r``/``-c`` file that is not there leaves its packages out; the audit reads the
    rest of the file, but no lock can be made without it."""
    for change in ctx.changes_with(rule.code):
        yield rule.finding(shown_path(Path(change.subject), ctx), evidence=(change.detail,),
                           location=change.location, reason=change.reason)


rule(
    "R512",
    "missing-include",
    Severity.WARNING,
    message="{subject} is missing: {reason}",
    fix="create it or correct the path (relative to the file that names it); lock and "
    "convert stop until it is there",
    example="""
dependencies:
  - pip:
    - -r requirements-gpu.txt    # not committed next to the environment file
""",
)(missing_include)
