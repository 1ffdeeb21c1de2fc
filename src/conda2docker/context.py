"""The build context on disk: support files, local sources and (``--vendor``) every package
file of the lock, fetched and checked against its hash, so the image builds with no network.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from conda2docker.errors import ResolveError, UserError
from conda2docker.image import BOOTSTRAP_PREFIX, SOURCES_DIR, VENDOR_DIR
from conda2docker.model import Lock, LockedPackage
from conda2docker.plan import BuildPlan, VendorItem
from conda2docker.platforms import KNOWN_PLATFORMS, TARGET_PLATFORMS

ARCH_TAGS = {p: KNOWN_PLATFORMS[p].machine for p in TARGET_PLATFORMS}


def cache_root() -> Path:
    return Path(os.environ.get("CONDA2DOCKER_CACHE", Path.home() / ".cache" / "conda2docker"))


@dataclass(frozen=True, slots=True)
class ContextReport:
    vendored_files: int
    vendored_bytes: int


def _digests(path: Path) -> tuple[str, str]:
    md5, sha256 = hashlib.md5(), hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            md5.update(block)
            sha256.update(block)
    return md5.hexdigest(), sha256.hexdigest()


def _verify(path: Path, item: VendorItem) -> None:
    md5, sha256 = _digests(path)
    if item.sha256 and item.sha256 != sha256:
        raise ResolveError(
            f"{item.url}: sha256 {sha256} does not match the lock's {item.sha256}",
            fix="the file changed upstream or in the mirror; re-lock or check the source",
        )
    if item.md5 and item.md5 != md5:
        raise ResolveError(
            f"{item.url}: md5 {md5} does not match the lock's {item.md5}",
            fix="the file changed upstream or in the mirror; re-lock or check the source",
        )


def _local_path(url: str) -> Path | None:
    if url.startswith("file://"):
        return Path(unquote(urlsplit(url).path))
    if "://" not in url:
        return Path(url)
    return None


def _temp_beside(path: Path) -> Path:
    """A fresh, unique file next to ``path`` (for write-then-rename by concurrent builds)."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    return Path(name)


def fetch(url: str, dest: Path) -> None:
    """Copy or download ``url`` to ``dest`` (through a download cache keyed by URL)."""
    import urllib.request

    dest.parent.mkdir(parents=True, exist_ok=True)
    local = _local_path(url)
    if local is not None:
        if not local.is_file():
            raise ResolveError(f"{url}: no such file", fix="re-lock, or restore the local channel")
        shutil.copyfile(local, dest)
        return
    cached = cache_root() / "downloads" / hashlib.sha256(url.encode()).hexdigest()[:32] / dest.name
    if not cached.is_file():
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = _temp_beside(cached)
        try:
            with urllib.request.urlopen(url, timeout=120) as response, tmp.open("wb") as out:
                shutil.copyfileobj(response, out)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise ResolveError(
                f"cannot download {url}: {exc}",
                fix="check the network, or use --mirror/--channel-alias pointing at a local copy",
            ) from exc
        os.replace(tmp, cached)
    shutil.copyfile(cached, dest)


def vendor_item(item: VendorItem, context: Path) -> int:
    dest = context / item.dest
    if dest.is_file():
        try:
            _verify(dest, item)
            return dest.stat().st_size
        except ResolveError:
            dest.unlink()
    if item.url.startswith("git+"):
        _vcs_archive(item.url, dest)
    else:
        fetch(item.url, dest)
        _verify(dest, item)
    return dest.stat().st_size


def _vcs_archive(url: str, dest: Path) -> None:
    """``git+URL@COMMIT`` → a source tarball of that commit (pip builds it like an sdist)."""
    repo, _, commit = url.removeprefix("git+").rpartition("@")
    if not repo or not commit:
        raise ResolveError(f"{url}: no commit to vendor", fix="re-lock so the git ref is pinned to a commit")
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        clone = Path(tmp) / "src"
        for argv in (
            ["git", "clone", "--quiet", repo, str(clone)],
            ["git", "-C", str(clone), "checkout", "--quiet", commit],
        ):
            result = subprocess.run(argv, capture_output=True, text=True, check=False)
            if result.returncode != 0:
                raise ResolveError(
                    f"cannot vendor {url}: {result.stderr.strip().splitlines()[-1] if result.stderr.strip() else 'git failed'}",
                    fix="check that the repository and commit are reachable",
                )
        name = dest.name.removesuffix(".tar.gz")
        _write_tar_gz(clone, dest, arcname=name, exclude={".git"})


def _write_tar_gz(root: Path, dest: Path, *, arcname: str, exclude: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    """A reproducible tar.gz of ``root`` (sorted entries, zero mtimes, root ownership)."""
    import gzip
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(root.rglob("*")):
            relative = path.relative_to(root)
            if relative.parts and relative.parts[0] in exclude:
                continue
            info = tar.gettarinfo(str(path), arcname=f"{arcname}/{relative}" if arcname else str(relative))
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            if info.isfile():
                with path.open("rb") as handle:
                    tar.addfile(info, handle)
            else:
                tar.addfile(info)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with dest.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
        gz.write(buffer.getvalue())


def copy_local_sources(lock: Lock, platform: str, context: Path) -> None:
    """Local path pip packages are copied into ``sources/<name>`` for the wheels stage."""
    for package in lock.pip_packages(platform):
        if package.artifact != "path":
            continue
        source = _local_path(package.url)
        if source is None or not source.is_dir():
            raise UserError(
                f"local package '{package.name}' not found at {package.url}",
                fix="run conda2docker from the repository that holds it, or re-lock",
            )
        dest = context / SOURCES_DIR / package.name
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(
            source, dest, ignore=shutil.ignore_patterns(".git", "__pycache__", "*.egg-info", "build", "dist")
        )


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


def build_bootstrap(lock: Lock, platform: str, context: Path) -> None:
    """A Python for the rattler installer, made of the lock's own python and its dependencies,
    installed for ``/opt/c2d-bootstrap`` and packed as a tar.gz that ``ADD`` unpacks."""
    packages = _closure(lock, platform, ["python"]) or _solve_bootstrap_python(lock, platform)
    dest = context / VENDOR_DIR / "bootstrap-python.tar.gz"
    key = hashlib.sha256(
        "\n".join(sorted(f"{p.url}#{p.sha256 or p.md5}" for p in packages)).encode()
    ).hexdigest()[:24]
    cached = cache_root() / "bootstrap" / f"{key}.tar.gz"
    if not cached.is_file():
        _install_bootstrap(packages, cached)
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(cached, dest)


def _install_bootstrap(packages: list[LockedPackage], dest: Path) -> None:
    """Install ``packages`` for ``/opt/c2d-bootstrap`` and pack them (built once per package set,
    so the archive — and the image layers after it — stay the same between conversions)."""
    import asyncio

    import rattler

    with tempfile.TemporaryDirectory() as tmp:
        records = []
        for package in packages:
            local = Path(tmp) / "pkgs" / package.file_name
            fetch(package.url, local)
            _verify(local, VendorItem(package.url, "", package.md5, package.sha256))
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


def _solve_bootstrap_python(lock: Lock, platform: str) -> list[LockedPackage]:
    """The environment has no python: solve one from the lock's own channels."""
    from conda2docker.model import CondaDependency
    from conda2docker.resolve.channels import expand_channels
    from conda2docker.resolve.conda import CondaSolveRequest, solve_conda
    from conda2docker.resolve.virtual import VirtualTarget

    channels = tuple(expand_channels(lock.channels))
    if not channels:
        raise UserError(
            "the lock names no channel to take a bootstrap python from",
            fix="use --installer micromamba, or add python to the environment",
        )
    try:
        result = solve_conda(CondaSolveRequest(
            dependencies=(CondaDependency("python", ">=3.8"),), channels=channels,
            target=VirtualTarget(platform=platform),
        ))
    except ResolveError as exc:
        raise UserError(
            f"no python for the rattler installer in the lock's channels: {exc.message}",
            fix="use --installer micromamba, or add python to the environment",
        ) from exc
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


def vendor_py_rattler(version: str, platform: str, python_version: str, context: Path) -> None:
    """The py-rattler wheel for the target (abi3), fetched from PyPI once and cached."""
    dest_dir = context / VENDOR_DIR / "py-rattler"
    cache = cache_root() / "wheels" / f"py-rattler-{version}-{platform}"
    if not any(cache.glob("*.whl")):
        cache.mkdir(parents=True, exist_ok=True)
        major_minor = "".join(python_version.split(".")[:2])
        argv = [
            sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
            "--platform", f"manylinux2014_{ARCH_TAGS[platform]}", "--python-version", major_minor,
            "--implementation", "cp", "--dest", str(cache), f"py-rattler=={version}",
        ]
        result = subprocess.run(argv, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise ResolveError(
                f"cannot download the py-rattler {version} wheel for {platform}: "
                + (result.stderr.strip().splitlines() or ["pip failed"])[-1],
                fix="check access to PyPI, or use --installer micromamba",
            )
    if dest_dir.exists():
        shutil.rmtree(dest_dir)
    dest_dir.mkdir(parents=True)
    for wheel in cache.glob("*.whl"):
        shutil.copyfile(wheel, dest_dir / wheel.name)


DEFAULT_BUILD_REQUIRES = ("setuptools>=40.8.0", "wheel")


def build_requires(archive_or_dir: Path) -> tuple[str, ...]:
    """``[build-system] requires`` of an sdist, a source tarball or a source directory."""
    import tarfile

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib

    text: str | None = None
    if archive_or_dir.is_dir():
        candidate = archive_or_dir / "pyproject.toml"
        text = candidate.read_text(encoding="utf-8") if candidate.is_file() else None
    elif archive_or_dir.name.endswith((".tar.gz", ".tgz")):
        with tarfile.open(archive_or_dir) as tar:
            member = next(
                (m for m in tar.getmembers() if m.name.count("/") == 1 and m.name.endswith("/pyproject.toml")),
                None,
            )
            extracted = tar.extractfile(member) if member else None
            text = extracted.read().decode("utf-8") if extracted else None
    elif archive_or_dir.suffix == ".zip":
        import zipfile

        with zipfile.ZipFile(archive_or_dir) as archive:
            names = [n for n in archive.namelist() if n.count("/") == 1 and n.endswith("/pyproject.toml")]
            text = archive.read(names[0]).decode("utf-8") if names else None
    if text is None:
        return DEFAULT_BUILD_REQUIRES
    try:
        requires = tomllib.loads(text).get("build-system", {}).get("requires")
    except tomllib.TOMLDecodeError:
        return DEFAULT_BUILD_REQUIRES
    return tuple(str(r) for r in requires) if isinstance(requires, list) else DEFAULT_BUILD_REQUIRES


def vendor_build_requirements(
    requirements: Iterable[str], platform: str, python_version: str, context: Path,
    index_args: tuple[str, ...] = (),
) -> None:
    """Wheels of the build backends the sdists need, so ``pip wheel --no-index`` works offline."""
    wanted = sorted(set(requirements))
    if not wanted:
        return
    major_minor = "".join(python_version.split(".")[:2])
    argv = [
        sys.executable, "-m", "pip", "download", "--only-binary", ":all:",
        "--platform", f"manylinux2014_{ARCH_TAGS[platform]}", "--python-version", major_minor,
        "--implementation", "cp", "--dest", str(context / VENDOR_DIR / "pip"), *index_args, *wanted,
    ]
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ResolveError(
            "cannot download the build requirements " + ", ".join(wanted) + ": "
            + (result.stderr.strip().splitlines() or ["pip failed"])[-1],
            fix="check access to the package index",
        )


def vendor_ca_bundle(context: Path) -> None:
    import certifi

    shutil.copyfile(certifi.where(), context / VENDOR_DIR / "cacert.pem")


def populate(
    plan: BuildPlan, lock: Lock, context: Path, *, rattler_version: str,
    index_args: tuple[str, ...] = (),
) -> ContextReport:
    """Write everything the plan's Dockerfile copies into ``context`` (besides the Dockerfile).

    ``index_args`` are pip options (``--index-url``…) for fetching sdists' build requirements.
    """
    copy_local_sources(lock, plan.platform, context)
    if not plan.vendored:
        return ContextReport(0, 0)
    total = 0
    for needed in ("pip", "src"):
        (context / VENDOR_DIR / needed).mkdir(parents=True, exist_ok=True)
    for item in plan.vendor_items:
        total += vendor_item(item, context)
    sources = [context / item.dest for item in plan.vendor_items
               if item.dest.startswith((f"{VENDOR_DIR}/src/", f"{VENDOR_DIR}/pip/"))
               and not item.dest.endswith(".whl")]
    sources += sorted((context / SOURCES_DIR).glob("*")) if (context / SOURCES_DIR).is_dir() else []
    requires = {r for source in sources for r in build_requires(source)}
    if requires:
        vendor_build_requirements(requires, plan.platform, plan.python_version or "3.11", context, index_args)
    if plan.needs_bootstrap:
        build_bootstrap(lock, plan.platform, context)
        vendor_py_rattler(rattler_version, plan.platform, plan.python_version or "3.11", context)
        vendor_ca_bundle(context)
    return ContextReport(len(plan.vendor_items), total)
