"""Direct requirements: git repositories (pinned to a commit), URLs and local paths."""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

from packaging.utils import canonicalize_name
from packaging.version import Version

from conda2docker.credentials import expand, literal_credentials, redact, strip_auth
from conda2docker.errors import ResolveError
from conda2docker.model import PipRequirement, ReaderChange
from conda2docker.processes import run_bounded
from conda2docker.resolve.pip.candidates import Direct, is_version
from conda2docker.resolve.pip.context import Context, serialise_metadata
from conda2docker.resolve.pip.target import GIT_TIMEOUT, wheel_priority
from conda2docker.resolve.pypi import (
    CoreMetadata,
    DistFile,
    FetchError,
    build_metadata,
    parse_core_metadata,
    sdist_pkg_info,
    setup_cfg_version,
    static_tree_metadata,
    wheel_metadata,
)
from conda2docker.vcs import is_full_commit

# -- direct requirements: git, URLs, local paths ------------------------------------------


def _git(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return run_bounded(
        ["git", *args], text=True, timeout=GIT_TIMEOUT, cwd=cwd,
        env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true"},
    )


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1] if lines else "no output"


def recorded_url(url: str) -> str:
    """A URL as the lock records it: ``${NAME}`` credentials kept as written (the build
    expands them), credentials written out cut."""
    return strip_auth(url) if literal_credentials(url) else url


def ls_remote(url: str, ref: str | None) -> str | None:
    """The commit ``ref`` (branch, tag or HEAD) names in repository ``url``; None if unknown."""
    done = _git("ls-remote", "--", expand(url))
    if done.returncode != 0:
        shown = redact(url)
        raise ResolveError(
            f"pip: cannot reach git repository {shown}: {redact(_last_line(done.stderr))}",
            fix=f"check the URL and your access ('git ls-remote {shown}' must work), "
            "or vendor the package and require it by local path",
        )
    refs: dict[str, str] = {}
    for line in done.stdout.splitlines():
        sha, _, name = line.partition("\t")
        refs[name.strip()] = sha.strip()
    wanted = ref or "HEAD"
    for name in (f"refs/tags/{wanted}^{{}}", f"refs/tags/{wanted}", f"refs/heads/{wanted}", wanted):
        if name in refs:
            return refs[name]
    return None


def prepare_vcs(ctx: Context, req: PipRequirement, changes: list[ReaderChange]) -> Direct:
    url = req.url or ""
    vcs = req.vcs or "git"
    if vcs != "git":
        raise ResolveError(
            f"pip: {vcs}+ requirements cannot be locked ({req.raw})",
            fix="use a git repository, an archive URL or a local path", location=req.location,
        )
    ref = req.ref.split("#", 1)[0] if req.ref else None
    commit = ref if ref and is_full_commit(ref) else ls_remote(url, ref)
    with tempfile.TemporaryDirectory(prefix="c2d-git-") as tmp:
        tree = Path(tmp) / "src"
        cloned = _git("clone", "--quiet", "--no-checkout", "--", expand(url), str(tree))
        if cloned.returncode != 0:
            raise ResolveError(
                f"pip: cannot clone git repository {redact(url)}: "
                f"{redact(_last_line(cloned.stderr))}",
                fix="check the URL and your access, or require the package by local path",
                location=req.location,
            )
        if commit is None and ref:
            parsed = _git("rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}",
                          cwd=tree)
            commit = parsed.stdout.strip() if parsed.returncode == 0 else None
        if commit is None:
            raise ResolveError(
                f"pip: git ref {ref!r} is not a branch, tag or commit of {redact(url)}",
                fix="use an existing branch or tag, or a full 40-character commit",
                location=req.location,
            )
        if _git("checkout", "--quiet", commit, "--", cwd=tree).returncode != 0:
            raise ResolveError(
                f"pip: commit {commit} is not in {redact(url)}",
                fix="use a commit that the repository contains", location=req.location,
            )
        cached = ctx.client.cached_blob("vcs", url, commit)
        meta = parse_core_metadata(cached) if cached else tree_metadata(ctx, tree, req.raw, changes)
        if meta is not None and not cached:
            ctx.client.store_blob("vcs", serialise_metadata(meta), url, commit)
    return _direct(req, meta, f"git+{recorded_url(url)}@{commit}", None, f"0+git{commit[:7]}",
                   changes)


def tree_metadata(
    ctx: Context, tree: Path, what: str, changes: list[ReaderChange]
) -> CoreMetadata | None:
    """Metadata of a source tree: static pyproject, else the build backend, else setup.cfg."""
    static = static_tree_metadata(tree)
    if static is not None:
        return static
    try:
        return build_metadata(tree, ctx.pip_args)
    except ValueError as exc:
        reason = str(exc).replace(f" '{tree}'", "")
    literal = setup_cfg_version(tree)
    changes.append(
        ReaderChange(
            action="relaxed", subject=what,
            reason="its dependencies could not be read (the build backend failed: "
            f"{reason}); they are not locked and pip will resolve them at build time",
        )
    )
    if literal is not None:
        return CoreMetadata(name=literal[0], version=literal[1])
    return None


def _direct(
    req: PipRequirement, meta: CoreMetadata | None, url: str, sha256: str | None,
    fallback_version: str, changes: list[ReaderChange],
) -> Direct:
    raw_name = req.name or (meta.name if meta else "")
    if not raw_name:
        raise ResolveError(
            f"pip: cannot tell the package name of {req.raw}",
            fix="write it as 'name @ <url>' (or add #egg=name)", location=req.location,
        )
    version = fallback_version
    if meta is not None and meta.version and is_version(meta.version):
        version = meta.version
    else:
        changes.append(
            ReaderChange(
                action="added", subject=raw_name,
                reason=f"the version of {req.raw} is unknown; recorded as {version}",
            )
        )
    return Direct(canonicalize_name(raw_name), Version(version), url, sha256, meta, req.raw)


#: The largest local wheel or sdist read into memory for its metadata.
MAX_LOCAL_ARCHIVE = 1024 * 1024 * 1024


def prepare_path(ctx: Context, req: PipRequirement, changes: list[ReaderChange]) -> Direct:
    path = req.path or Path(unquote(urlsplit(req.url or "").path))
    path = (path if path.is_absolute() else ctx.base_dir / path).resolve()
    if not path.exists():
        raise ResolveError(
            f"pip: local path {path} does not exist ({req.raw})",
            fix="fix the path (relative paths are relative to the environment file)",
            location=req.location,
        )
    if path.is_dir():
        meta = tree_metadata(ctx, path, req.raw, changes)
        return _direct(req, meta, path.as_uri(), None, "0+local", changes)
    from conda2docker.read.decode import read_limited

    data = read_limited(path, limit=MAX_LOCAL_ARCHIVE, what="local pip archive", location=req.location)
    meta = archive_metadata(ctx, data, path.name, path)
    return _direct(req, meta, path.as_uri(), hashlib.sha256(data).hexdigest(), "0+local", changes)


def archive_metadata(ctx: Context, data: bytes, filename: str, path: Path | None) -> CoreMetadata:
    """Metadata of a wheel or sdist held in memory (``path`` if it is also on disk)."""
    try:
        if filename.lower().endswith(".whl"):
            return parse_core_metadata(wheel_metadata(data))
        raw = sdist_pkg_info(data, filename)
    except (ValueError, OSError) as exc:  # zipfile/tarfile errors subclass these
        raise ResolveError(
            f"pip: {filename} is not a readable wheel or sdist: {exc}",
            fix="check the file or URL",
        ) from None
    meta = parse_core_metadata(raw) if raw else None
    if meta is not None and meta.reliable:
        return meta
    if path is not None:
        return ctx.build(path, filename)
    with tempfile.TemporaryDirectory(prefix="c2d-url-") as tmp:
        archive = Path(tmp) / filename
        archive.write_bytes(data)
        return ctx.build(archive, filename)


def prepare_url(
    ctx: Context, name: str | None, url: str, raw: str, changes: list[ReaderChange] | None = None
) -> Direct:
    """A requirement on an archive URL (or ``file:`` archive); ``git+`` URLs are cloned."""
    changes = [] if changes is None else changes
    if url.startswith("git+"):
        spec = url[4:].split("#", 1)[0]
        base, ref = spec.rsplit("@", 1) if "@" in spec.rsplit("/", 1)[-1] else (spec, "")
        req = PipRequirement(kind="vcs", raw=raw, name=name, url=base, vcs="git", ref=ref or None)
        return prepare_vcs(ctx, req, changes)
    plain, _, fragment = url.partition("#")
    filename = unquote(urlsplit(plain).path.rsplit("/", 1)[-1])
    algo, _, digest = fragment.partition("=")
    file = DistFile(filename=filename, url=plain, sha256=digest.lower() if algo == "sha256" else None)
    path = Path(unquote(urlsplit(plain).path)) if plain.startswith("file:") else None
    if path is not None and path.is_dir():
        req = PipRequirement(kind="path", raw=raw, name=name, path=path)
        return prepare_path(ctx, req, changes)
    try:
        data = ctx.client.download(file)
    except FetchError as exc:
        raise ResolveError(
            f"pip: cannot download {redact(plain)} ({exc.reason})",
            fix="check the URL, or download the file and require it by local path",
        ) from None
    if file.is_wheel and wheel_priority(filename, ctx.target) is None:
        raise ResolveError(
            f"pip: {filename} does not install on {ctx.target.describe()}",
            fix="use a wheel built for the target (or its sdist)",
        )
    meta = archive_metadata(ctx, data, filename, path)
    req = PipRequirement(kind="url", raw=raw, name=name, url=recorded_url(plain))
    return _direct(req, meta, recorded_url(plain), hashlib.sha256(data).hexdigest(), "0+url",
                   changes)


