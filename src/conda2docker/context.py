"""The build context on disk: support files, local sources and (``--vendor``) every package
file of the lock, fetched and checked against its hash, so the image builds with no network.

Everything here treats the lock as untrusted: every path written goes through
:func:`conda2docker.outputs.confine`; a vendored file must carry a hash (a git source: a full
commit id) and is deleted when it does not match; local sources are copied only from the
input's own tree or an ``--allow-path`` directory; the network is reached only through
resolve's index client, which honours ``--offline``.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from conda2docker.cachedir import cache_root
from conda2docker.credentials import redact
from conda2docker.errors import InputError, OutputConflict, ResolveError, SourceLocation, UserError
from conda2docker.image import BOOTSTRAP_PREFIX, SOURCES_DIR, VENDOR_DIR
from conda2docker.model import Lock, LockedPackage
from conda2docker.outputs import confine, make_dirs, remove_tree
from conda2docker.plan import BuildPlan, VendorItem
from conda2docker.platforms import KNOWN_PLATFORMS, TARGET_PLATFORMS
from conda2docker.processes import run_bounded
from conda2docker.validate import (
    check_file_name,
    check_git_commit,
    check_pip_name,
    has_control,
)
from conda2docker.values import frozen

ARCH_TAGS = {p: KNOWN_PLATFORMS[p].machine for p in TARGET_PLATFORMS}
#: Seconds one ``git`` command (clone, checkout) of a vendored source may take before it is
#: stopped as hung.
GIT_TIMEOUT = 600
#: Seconds one ``pip download`` (build backends, the py-rattler wheel) may take before it is
#: stopped as hung.
PIP_TIMEOUT = 1800


@frozen
class ContextOptions:
    """What the context may take from outside the output, and how it may reach the network.

    Local sources (a lock's ``file://`` pip directory or archive) are copied only from inside
    ``input_root`` (the environment file's or lock's own directory) or one of ``allow_paths``.
    Every download goes through resolve's :class:`~conda2docker.resolve.pypi.IndexClient`
    and honours ``offline``; conda URLs are read from their ``--mirror``/``--channel-alias``
    source when one is given.
    """

    input_root: Path
    allow_paths: tuple[Path, ...] = ()
    force: bool = False
    offline: bool = False
    channel_alias: str | None = None
    mirrors: tuple[tuple[str, str], ...] = ()
    index_urls: tuple[str, ...] = ()
    """The input's pip index URLs as written: their credentials (``${NAME}`` or literal) serve
    the files on the same host, as pip sends them; they are never written anywhere."""

    @property
    def roots(self) -> tuple[Path, ...]:
        return tuple(Path(os.path.realpath(p)) for p in (self.input_root, *self.allow_paths))


@frozen
class ContextReport:
    """How many package files were vendored into the context, and their size."""
    vendored_files: int
    vendored_bytes: int


def _digests(path: Path) -> tuple[str, str]:
    md5, sha256 = hashlib.md5(), hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            md5.update(block)
            sha256.update(block)
    return md5.hexdigest(), sha256.hexdigest()


def require_hash(item: VendorItem) -> None:
    """A vendored file must carry a hash to check (a ``git+`` source: a full commit id)."""
    if item.url.startswith(("git+", "hg+", "svn+", "bzr+")):
        repo, _, commit = item.url.split("#", 1)[0].rpartition("@")
        if not item.url.startswith("git+") or not repo:
            raise InputError(f"cannot vendor {redact(item.url)}: only git sources pinned to a "
                               "commit can be vendored", fix="re-lock so the source is a git URL "
                               "with @<full commit id>")
        check_git_commit(commit, item.url)
        return
    if not item.sha256 and not item.md5:
        raise InputError(
            f"cannot vendor {redact(item.url)}: the lock carries no hash for it, so its content "
            "could not be checked",
            fix="re-lock with `conda2docker lock` (every package gets its hash), or convert "
            "without --vendor",
        )


def _mismatch(path: Path, item: VendorItem) -> str | None:
    """How ``path`` differs from the item's hashes, or None when it matches them."""
    md5, sha256 = _digests(path)
    if item.sha256 and item.sha256.lower() != sha256:
        return f"sha256 {sha256} does not match the lock's {item.sha256}"
    if item.md5 and item.md5.lower() != md5:
        return f"md5 {md5} does not match the lock's {item.md5}"
    return None


def _verify(path: Path, item: VendorItem) -> None:
    """Check ``path`` against the item's hashes; a file that does not match is deleted."""
    require_hash(item)
    wrong = _mismatch(path, item)
    if wrong:
        path.unlink(missing_ok=True)
        raise ResolveError(
            f"{redact(item.url)}: {wrong} (the file was not kept)",
            fix="the file changed upstream or in the mirror; re-lock or check the source",
        )


def _local_path(url: str) -> Path | None:
    if url.startswith("file:"):
        return Path(unquote(urlsplit(url).path))
    if "://" not in url:
        return Path(url)
    return None


def _inside(path: Path, roots: Iterable[Path]) -> bool:
    real = Path(os.path.realpath(path))
    return any(real == root or real.is_relative_to(root) for root in roots)


def check_local_source(url: str, name: str, options: ContextOptions) -> Path:
    """The real path of a local source that may be copied into the context: inside the input's
    own tree or an ``--allow-path`` directory; refused with the fix otherwise."""
    source = _local_path(url)
    if source is None:
        raise UserError(f"local package '{name}': {redact(url)} is not a local path")
    if not _inside(source, options.roots):
        raise InputError(
            f"local package '{name}' at {source} lies outside {options.input_root}, the "
            "directory of the input file; it is not copied into the build context",
            fix=f"move it under {options.input_root}, or pass --allow-path {source.parent} if "
            "you trust that directory",
        )
    return Path(os.path.realpath(source))


def _temp_beside(path: Path) -> Path:
    """A fresh, unique file next to ``path`` (for write-then-rename by concurrent builds)."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    return Path(name)


def _copy_regular(source: Path, dest: Path, url: str) -> None:
    """Copy a regular file (never a FIFO, device or directory: those could block or leak)."""
    try:
        mode = source.stat().st_mode
    except OSError as exc:
        raise ResolveError(f"{redact(url)}: {exc.strerror or exc}",
                           fix="re-lock, or restore the local channel") from exc
    if not stat.S_ISREG(mode):
        raise ResolveError(f"{redact(url)}: not a regular file",
                           fix="a package must be a file; re-lock, or restore the local channel")
    shutil.copyfile(source, dest)


class Fetcher:
    """Package files for the context, through resolve's index client (offline and mirrors
    honoured): the only way this module reaches the network."""

    def __init__(self, options: ContextOptions) -> None:
        from conda2docker.resolve.channels import expand_channels
        from conda2docker.resolve.pypi import IndexClient

        self.options = options
        self.client = IndexClient(offline=options.offline)
        for index_url in options.index_urls:
            self.client.use_credentials_of(index_url)
        mirrors = dict(options.mirrors)
        self._refs = expand_channels(list(mirrors), mirrors=mirrors)

    def source_url(self, url: str) -> str:
        """Where to read ``url`` (a locked, canonical URL) from: its ``--mirror``, if any, with
        the channel's ``${NAME}`` credentials expanded from the environment."""
        from conda2docker.credentials import expand_channel_url
        from conda2docker.resolve.channels import source_url

        found, missing = expand_channel_url(source_url(url, self._refs))  # a channel's ${NAME} credentials
        if missing:
            raise InputError(f"{redact(url)} takes its channel's credentials from ${{{missing[0]}}}, "
                             "which is not set", fix=f"export {missing[0]}=… to vendor it (the value "
                             "is used for the download and never written)")
        return found

    def fetch(self, url: str, dest: Path, item: VendorItem, *, local_anywhere: bool) -> None:
        """Copy or download ``url`` to ``dest`` (a confined path).

        ``local_anywhere``: a ``file://`` conda package from a local channel may lie anywhere
        (its name is a package's and its hash is checked); other local files only inside the
        input's tree or an ``--allow-path``. The file must have ``item``'s hashes, or it is
        not kept (:func:`_verify`); the download cache keeps only such a file, under them (a
        URL that served other bytes before, such as a local server on a port used again, is
        fetched again), and its check is the only one a download gets.
        """
        from conda2docker.resolve.pypi import FetchError

        dest.parent.mkdir(parents=True, exist_ok=True)
        local = _local_path(url)
        tmp = _temp_beside(dest)
        try:
            if local is not None:
                if not local_anywhere and not _inside(local, self.options.roots):
                    raise InputError(
                        f"{redact(url)} lies outside {self.options.input_root}, the directory "
                        "of the input file; it is not copied into the build context",
                        fix=f"pass --allow-path {local.parent} if you trust that directory",
                    )
                _copy_regular(local, tmp, url)
                _verify(tmp, item)
            else:
                try:
                    if not self.client.download_to(url, tmp, digest=item.sha256 or item.md5 or "",
                                                   accept=lambda path: _mismatch(path, item) is None):
                        _verify(tmp, item)  # says how it differs
                except FetchError as exc:
                    raise ResolveError(
                        f"cannot download {redact(url)}: {exc.reason}",
                        fix="run without --offline once to fill the cache, or use --mirror/"
                        "--channel-alias pointing at a local copy" if self.options.offline
                        else "check the network, or use --mirror/--channel-alias pointing at "
                        "a local copy",
                    ) from exc
            os.replace(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)


def vendor_item(item: VendorItem, context: Path, fetcher: Fetcher, *,
                conda_package: bool | None = None) -> int:
    """Fetch ``item`` into ``context`` and check its hash. A conda package (by default: an item
    under ``vendor/channel/``) is read from its ``--mirror`` and may come from a local channel
    anywhere; any other local file only from the input's tree or an ``--allow-path``."""
    require_hash(item)
    dest = confine(context, item.dest)
    if dest.is_file() and not dest.is_symlink():
        try:
            _verify(dest, item)
            return dest.stat().st_size
        except ResolveError:
            pass  # deleted by _verify: fetched again below
    elif os.path.lexists(dest):
        remove_tree(context, item.dest)
    if item.url.startswith("git+"):
        _vcs_archive(item.url, dest, fetcher.options)
        return dest.stat().st_size
    is_conda = (item.dest.startswith(f"{VENDOR_DIR}/channel/") if conda_package is None
                else conda_package)
    fetcher.fetch(fetcher.source_url(item.url) if is_conda else item.url, dest, item,
                  local_anywhere=is_conda)  # checked against the item's hashes
    return dest.stat().st_size


def _vcs_archive(url: str, dest: Path, options: ContextOptions) -> None:
    """``git+URL@COMMIT`` → a source tarball of that commit (pip builds it like an sdist)."""
    repo, _, commit = url.removeprefix("git+").split("#", 1)[0].rpartition("@")
    if not repo or not commit:
        raise ResolveError(f"{redact(url)}: no commit to vendor",
                           fix="re-lock so the git ref is pinned to a commit")
    check_git_commit(commit, url)
    local = _local_path(repo) if repo.startswith("file:") else None
    if local is not None and not _inside(local, options.roots):
        raise InputError(f"git repository {redact(repo)} lies outside {options.input_root}",
                        fix=f"pass --allow-path {local} if you trust that directory")
    if options.offline and local is None:
        raise ResolveError(f"cannot vendor {redact(url)}: cloning needs the network and "
                           "--offline is set", fix="vendor once without --offline")
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        clone = Path(tmp) / "src"
        for argv in (
            ["git", "-c", "protocol.ext.allow=never", "clone", "--quiet", "--no-checkout", "--",
             repo, str(clone)],
            ["git", "-C", str(clone), "-c", "advice.detachedHead=false", "checkout", "--quiet",
             commit, "--"],
        ):
            try:
                result = run_bounded(argv, text=True, env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
                                     timeout=GIT_TIMEOUT)
            except subprocess.TimeoutExpired:
                raise ResolveError(
                    f"cannot vendor {redact(url)}: git did not finish within {GIT_TIMEOUT} s",
                    fix="check that the repository and commit are reachable",
                ) from None
            if result.returncode != 0:
                lines = result.stderr.strip().splitlines()
                raise ResolveError(
                    f"cannot vendor {redact(url)}: {redact(lines[-1]) if lines else 'git failed'}",
                    fix="check that the repository and commit are reachable",
                )
        name = dest.name.removesuffix(".tar.gz")
        part = _temp_beside(dest)
        try:
            _write_tar_gz(clone, part, arcname=name, exclude={".git"})
            os.replace(part, dest)
        finally:
            part.unlink(missing_ok=True)


def _write_tar_gz(root: Path, dest: Path, *, arcname: str, exclude: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    """A reproducible tar.gz of ``root`` (sorted entries, zero mtimes, root ownership).

    Symbolic links are stored as links (never followed); other special files are left out."""
    import gzip
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(root.rglob("*")):
            relative = path.relative_to(root)
            if relative.parts and relative.parts[0] in exclude:
                continue
            info = tar.gettarinfo(str(path), arcname=f"{arcname}/{relative}" if arcname else str(relative))
            if not (info.isfile() or info.isdir() or info.issym()):
                continue
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            if info.isfile():
                with path.open("rb") as handle:
                    tar.addfile(info, handle)
            else:
                tar.addfile(info)
    with dest.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
        gz.write(buffer.getvalue())


_SKIPPED_SOURCES = (".git", "__pycache__", "build", "dist")


def _copy_source_tree(source: Path, dest: Path) -> None:
    """Copy a local source directory: regular files and directories only. A symbolic link is
    kept only when it points inside ``source`` (as a copy of what it points to); links out of
    the tree, links to directories, dangling links, FIFOs, sockets and devices are left out."""
    for directory, dirs, files in os.walk(source, followlinks=False):
        here = Path(directory)
        target_dir = dest / here.relative_to(source)
        target_dir.mkdir(parents=True, exist_ok=True)
        kept = []
        for name in sorted(dirs):
            if name in _SKIPPED_SOURCES or name.endswith(".egg-info"):
                continue
            if (here / name).is_symlink():
                continue
            kept.append(name)
        dirs[:] = kept
        for name in sorted(files):
            path = here / name
            real = Path(os.path.realpath(path))
            if not real.is_relative_to(source):
                continue
            try:
                if not stat.S_ISREG(real.stat().st_mode):
                    continue
            except OSError:
                continue
            shutil.copyfile(real, target_dir / name)


def _same_tree(a: Path, b: Path) -> bool:
    def listing(root: Path) -> dict[str, bytes | None]:
        out: dict[str, bytes | None] = {}
        for path in sorted(root.rglob("*")):
            key = path.relative_to(root).as_posix()
            out[key] = path.read_bytes() if path.is_file() and not path.is_symlink() else None
        return out

    return listing(a) == listing(b)


def copy_local_sources(lock: Lock, platform: str, context: Path, options: ContextOptions) -> None:
    """Local path pip packages are copied into ``sources/<name>`` for the wheels stage.

    A source outside the input's own tree (and every ``--allow-path``) is refused; an existing
    ``sources/<name>`` that differs from the source is replaced only with ``--force``."""
    for package in lock.pip_packages(platform):
        if package.artifact != "path":
            continue
        name = check_pip_name(package.name)
        source = check_local_source(package.url, name, options)
        if not source.is_dir():
            raise UserError(
                f"local package '{name}' not found at {redact(package.url)}",
                fix="run conda2docker from the repository that holds it, or re-lock",
            )
        relative = f"{SOURCES_DIR}/{name}"
        dest = confine(context, relative)
        parent = make_dirs(context, SOURCES_DIR)
        staged = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=parent))
        try:
            _copy_source_tree(source, staged)
            if os.path.lexists(dest):
                if dest.is_dir() and not dest.is_symlink() and _same_tree(staged, dest):
                    continue
                if not options.force:
                    raise OutputConflict(
                        f"{dest} differs from the local package '{name}' at {source}; "
                        "not replaced",
                        fix="pass --force to replace it (files you added there are deleted), "
                        "or move them away",
                        location=SourceLocation(dest),
                    )
                remove_tree(context, relative)
            os.replace(staged, dest)
        finally:
            if staged.exists():
                shutil.rmtree(staged)


def _closure(lock: Lock, platform: str, roots: Iterable[str]) -> list[LockedPackage]:
    by_name = {p.name: p for p in lock.conda_packages(platform)}
    seen: dict[str, LockedPackage] = {}
    stack = [r for r in roots if r in by_name]
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen[name] = by_name[name]
        stack += [d for d in by_name[name].dependencies if d in by_name and d not in seen]
    return [seen[n] for n in sorted(seen)]


def build_bootstrap(lock: Lock, platform: str, context: Path, fetcher: Fetcher) -> None:
    """A Python for the rattler installer, made of the lock's own python and its dependencies,
    installed for ``/opt/c2d-bootstrap`` and packed as a tar.gz that ``ADD`` unpacks."""
    packages = (_closure(lock, platform, ["python"])
                or _solve_bootstrap_python(lock, platform, fetcher.options))
    dest = confine(context, f"{VENDOR_DIR}/bootstrap-python.tar.gz")
    key = hashlib.sha256(
        "\n".join(sorted(f"{p.url}#{p.sha256 or p.md5}" for p in packages)).encode()
    ).hexdigest()[:24]
    cached = cache_root() / "bootstrap" / f"{key}.tar.gz"
    if not cached.is_file():
        _install_bootstrap(packages, cached, fetcher)
    make_dirs(context, VENDOR_DIR)
    shutil.copyfile(cached, dest)


def _install_bootstrap(packages: list[LockedPackage], dest: Path, fetcher: Fetcher) -> None:
    """Install ``packages`` for ``/opt/c2d-bootstrap`` and pack them (built once per package set,
    so the archive — and the image layers after it — stay the same between conversions)."""
    import asyncio

    import rattler

    with tempfile.TemporaryDirectory() as tmp:
        records = []
        for package in packages:
            item = VendorItem(package.url, f"pkgs/{package.file_name}", package.md5, package.sha256)
            vendor_item(item, Path(tmp), fetcher, conda_package=True)
            local = confine(Path(tmp), item.dest)
            records.append(_record_for(local, package))
        prefix = Path(tmp) / "prefix"
        asyncio.run(
            rattler.install(
                records, target_prefix=prefix, alternative_target_prefix=BOOTSTRAP_PREFIX,
                cache_dir=Path(tmp) / "cache", show_progress=False,
            )
        )
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = _temp_beside(dest)
        try:
            _write_tar_gz(prefix, part, arcname="")
            part.replace(dest)
        finally:
            part.unlink(missing_ok=True)


def _solve_bootstrap_python(lock: Lock, platform: str,
                            options: ContextOptions) -> list[LockedPackage]:
    """The environment has no python: solve one from the lock's own channels (through
    resolve's solver, with the same --offline, --mirror and --channel-alias)."""
    from conda2docker.model import CondaDependency
    from conda2docker.resolve.channels import expand_channels
    from conda2docker.resolve.conda import CondaSolveRequest, solve_conda
    from conda2docker.resolve.virtual import VirtualTarget

    channels = tuple(expand_channels(lock.channels, channel_alias=options.channel_alias,
                                     mirrors=dict(options.mirrors)))
    if not channels:
        raise UserError(
            "the lock names no channel to take a bootstrap python from",
            fix="use --installer micromamba, or add python to the environment",
        )
    try:
        result = solve_conda(CondaSolveRequest(
            dependencies=(CondaDependency("python", ">=3.8"),), channels=channels,
            target=VirtualTarget(platform=platform), offline=options.offline,
        ))
    except ResolveError as exc:
        raise UserError(
            f"no python for the rattler installer in the lock's channels: {exc.message}",
            fix="use --installer micromamba, or add python to the environment",
        ) from exc
    if result.unavailable:  # the solver leaves out what no channel has: never an empty python
        from conda2docker.resolve.run import unavailable_message

        raise UserError(
            f"no python for the rattler installer in the lock's channels: "
            f"{unavailable_message(result.unavailable)}",
            fix="use --installer micromamba, or add python to the environment",
        )
    return list(result.packages)


def _record_for(archive: Path, package: LockedPackage) -> Any:
    from rattler import PackageRecord, RepoDataRecord
    from rattler.package_streaming import extract

    md5, sha256 = _digests(archive)
    with tempfile.TemporaryDirectory() as tmp:
        extract(archive, Path(tmp))
        record = PackageRecord.from_index_json(
            Path(tmp) / "info" / "index.json", size=archive.stat().st_size, sha256=sha256, md5=md5
        )
    return RepoDataRecord(record, package.file_name, archive.resolve().as_uri(), package.channel or "")


def _pip_download(argv_tail: list[str], dest: Path, what: str, options: ContextOptions,
                  fix: str) -> None:
    """``pip download`` into ``dest``; with ``--offline``, from ``dest`` itself only
    (``--no-index --find-links``), so it never opens a connection."""
    offline = ["--no-index", "--find-links", str(dest)] if options.offline else []
    argv = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check",
            "--dest", str(dest), *offline, *argv_tail]
    try:
        result = run_bounded(argv, text=True, timeout=PIP_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise ResolveError(f"cannot download {what}: pip did not finish within {PIP_TIMEOUT} s",
                           fix=fix) from None
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["pip failed"])[-1]
        raise ResolveError(
            f"cannot download {what}: {redact(last)}",
            fix=("run once without --offline to fill the cache, or " + fix)
            if options.offline else fix,
        )


def vendor_py_rattler(version: str, platform: str, python_version: str, context: Path,
                      options: ContextOptions) -> None:
    """The py-rattler wheel for the target (abi3), fetched from PyPI once and cached."""
    cache = cache_root() / "wheels" / f"py-rattler-{version}-{platform}"
    if not any(cache.glob("*.whl")):
        cache.mkdir(parents=True, exist_ok=True)
        major_minor = "".join(python_version.split(".")[:2])
        _pip_download(
            ["--no-deps", "--only-binary", ":all:", "--platform",
             f"manylinux2014_{ARCH_TAGS[platform]}", "--python-version", major_minor,
             "--implementation", "cp", f"py-rattler=={version}"],
            cache, f"the py-rattler {version} wheel for {platform}", options,
            "check access to PyPI, or use --installer micromamba",
        )
    relative = f"{VENDOR_DIR}/py-rattler"
    if os.path.lexists(confine(context, relative)):
        remove_tree(context, relative)
    make_dirs(context, relative)
    for wheel in cache.glob("*.whl"):
        shutil.copyfile(wheel, confine(context, f"{relative}/{check_file_name(wheel.name)}"))


DEFAULT_BUILD_REQUIRES = ("setuptools>=40.8.0", "wheel")
#: A pyproject.toml larger than this is not read for its build requirements.
MAX_PYPROJECT = 1 << 20


def _pyproject_text(archive_or_dir: Path) -> str | None:
    import tarfile
    import zipfile

    if archive_or_dir.is_dir():
        candidate = archive_or_dir / "pyproject.toml"
        if candidate.is_symlink() or not candidate.is_file():
            return None
        data = candidate.read_bytes()[:MAX_PYPROJECT + 1]
    elif archive_or_dir.name.endswith((".tar.gz", ".tgz")):
        with tarfile.open(archive_or_dir) as tar:
            member = next(
                (m for m in tar if m.name.count("/") == 1 and m.name.endswith("/pyproject.toml")),
                None,
            )
            if member is None or not member.isfile() or member.size > MAX_PYPROJECT:
                return None
            extracted = tar.extractfile(member)
            data = extracted.read() if extracted else b""
    elif archive_or_dir.suffix == ".zip":
        with zipfile.ZipFile(archive_or_dir) as archive:
            infos = [i for i in archive.infolist()
                     if i.filename.count("/") == 1 and i.filename.endswith("/pyproject.toml")]
            if not infos or infos[0].file_size > MAX_PYPROJECT:
                return None
            data = archive.read(infos[0])
    else:
        return None
    if len(data) > MAX_PYPROJECT:
        return None
    return data.decode("utf-8", "replace")


def build_requires(archive_or_dir: Path) -> tuple[str, ...]:
    """``[build-system] requires`` of an sdist, a source tarball or a source directory.

    A corrupt archive or a malformed ``pyproject.toml`` gives the default (setuptools, wheel),
    as pip does for a project without one; pip reports the real problem inside the build."""
    import tarfile
    import zipfile

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib

    try:
        text = _pyproject_text(archive_or_dir)
    except (OSError, EOFError, tarfile.TarError, zipfile.BadZipFile, ValueError):
        return DEFAULT_BUILD_REQUIRES
    if text is None:
        return DEFAULT_BUILD_REQUIRES
    try:
        system = tomllib.loads(text).get("build-system", {})
    except (tomllib.TOMLDecodeError, ValueError):
        return DEFAULT_BUILD_REQUIRES
    requires = system.get("requires") if isinstance(system, dict) else None
    if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires):
        return DEFAULT_BUILD_REQUIRES
    return tuple(r for r in requires if not has_control(r) and not r.lstrip().startswith("-"))


def vendor_build_requirements(
    requirements: Iterable[str], platform: str, python_version: str, context: Path,
    index_args: tuple[str, ...] = (), options: ContextOptions | None = None,
) -> None:
    """Wheels of the build backends the sdists need, so ``pip wheel --no-index`` works offline.

    Downloaded into a cache first (so ``--offline`` can reuse them), then copied."""
    wanted = sorted(set(requirements))
    if not wanted:
        return
    options = options or ContextOptions(input_root=context)
    major_minor = "".join(python_version.split(".")[:2])
    key = hashlib.sha256("\n".join([platform, major_minor, *index_args, *wanted]).encode())
    cache = cache_root() / "build-requires" / key.hexdigest()[:24]
    cache.mkdir(parents=True, exist_ok=True)
    if not any(cache.glob("*.whl")) or options.offline:
        _pip_download(
            ["--only-binary", ":all:", "--platform", f"manylinux2014_{ARCH_TAGS[platform]}",
             "--python-version", major_minor, "--implementation", "cp",
             *([] if options.offline else index_args), "--", *wanted],
            cache, "the build requirements " + ", ".join(wanted), options,
            "check access to the package index",
        )
    make_dirs(context, f"{VENDOR_DIR}/pip")
    for wheel in sorted(cache.glob("*.whl")):
        shutil.copyfile(wheel, confine(context, f"{VENDOR_DIR}/pip/{check_file_name(wheel.name)}"))


def vendor_ca_bundle(context: Path) -> None:
    import certifi

    shutil.copyfile(certifi.where(), confine(context, f"{VENDOR_DIR}/cacert.pem"))


def preflight(plan: BuildPlan, lock: Lock, options: ContextOptions) -> None:
    """Refuse, before anything is written, what :func:`populate` would refuse: local sources
    outside the allowed trees, vendored files without a hash, unpinned git sources, package
    files a local channel does not hold."""
    for package in lock.pip_packages(plan.platform):
        if package.artifact == "path":
            check_local_source(package.url, check_pip_name(package.name), options)
    if not plan.vendored:
        return
    for item in plan.vendor_items:
        require_hash(item)
        local = _local_path(item.url)
        is_conda = item.dest.startswith(f"{VENDOR_DIR}/channel/")
        if local is not None and not is_conda and not _inside(local, options.roots):
            check_local_source(item.url, item.dest.rsplit("/", 1)[-1], options)
        if local is not None and is_conda and not os.path.lexists(local):
            raise ResolveError(
                f"{redact(item.url)}: the local channel has no such package file (a channel of "
                "metadata only cannot be vendored)",
                fix="restore the package files, or read the channel with --mirror NAME=URL so "
                "the lock keeps canonical URLs that the build downloads",
            )


def populate(
    plan: BuildPlan, lock: Lock, context: Path, *, rattler_version: str,
    index_args: tuple[str, ...] = (), options: ContextOptions | None = None,
) -> ContextReport:
    """Write everything the plan's Dockerfile copies into ``context`` (besides the Dockerfile).

    ``index_args`` are pip options (``--index-url``…) for fetching sdists' build requirements.
    ``options`` say which local trees may be copied from and how the network may be reached
    (default: only the input lock's own directory, online).
    """
    if options is None:
        root = lock.path.parent if lock.path is not None else context
        options = ContextOptions(input_root=root)
    preflight(plan, lock, options)
    copy_local_sources(lock, plan.platform, context, options)
    if not plan.vendored:
        return ContextReport(0, 0)
    fetcher = Fetcher(options)
    total = 0
    for needed in ("pip", "src"):
        make_dirs(context, f"{VENDOR_DIR}/{needed}")
    for item in plan.vendor_items:
        total += vendor_item(item, context, fetcher)
    sources = [confine(context, item.dest) for item in plan.vendor_items
               if item.dest.startswith((f"{VENDOR_DIR}/src/", f"{VENDOR_DIR}/pip/"))
               and not item.dest.endswith(".whl")]
    # the lock's own local sources (copied above), not whatever else sources/ still holds
    sources += [confine(context, f"{SOURCES_DIR}/{check_pip_name(package.name)}")
                for package in lock.pip_packages(plan.platform) if package.artifact == "path"]
    requires = {r for source in sources for r in build_requires(source)}
    if requires:
        vendor_build_requirements(requires, plan.platform, plan.python_version or "3.11", context,
                                  index_args, options)
    if plan.needs_bootstrap:
        build_bootstrap(lock, plan.platform, context, fetcher)
        vendor_py_rattler(rattler_version, plan.platform, plan.python_version or "3.11", context,
                          options)
        vendor_ca_bundle(context)
    return ContextReport(len(plan.vendor_items), total)
