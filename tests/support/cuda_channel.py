"""A local conda channel of CUDA 13.0 packages repackaged from NVIDIA's PyPI wheels, so a GPU
lock exists offline (the way the test CPython is repackaged in :mod:`support.channel`).

Packages of ``c2d-cuda`` (linux-64 unless said):

* ``cuda-version 13.0`` (noarch): the pin every CUDA package agrees on; constrains ``__cuda >=13``.
* ``cuda-cudart 13.0.96``: ``lib/libcudart.so.13`` from ``nvidia-cuda-runtime``.
* ``cuda-nvcc 13.0.88``: nvcc, ptxas, cicc, the headers (runtime, crt, cccl) and the static
  runtime from ``nvidia-cuda-nvcc``, ``nvidia-nvvm``, ``nvidia-cuda-crt``,
  ``nvidia-cuda-runtime``, ``nvidia-cuda-cccl``.
* ``pytorch 2.5.0`` in two builds, as the pytorch channel publishes it: ``cuda130_0`` (build
  number 1, needs cuda-cudart, no ``__cuda``: a solver picks it unless asked for CPU) and
  ``cpu_0``. A placeholder file, not torch.
* ``cupy 13.0.0``, one ``cuda130_0`` build only (no CPU build exists).

Fixtures: ``cuda_channel`` (this channel) and ``gpu_channels`` (a root holding this channel
and the full test channel, so ``--channel-alias`` reaches both: ``c2d-test`` for python and
pip, ``c2d-cuda`` for CUDA). Cached like the others under
``${CONDA2DOCKER_TEST_CACHE}/channel-cuda-<key>/``; a cold build downloads the wheels once.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from support.channel import (
    _ASSEMBLE_TIMESTAMP,
    TestChannel,
    build_test_channel,
    cached_build,
    default_cache_dir,
    pypi_downloads,
    tree_digest,
)

CUDA_CHANNEL = "c2d-cuda"
CUDA_VERSION = "13.0"
#: NVIDIA's PyPI wheels of CUDA 13.0 (the same pins as scripts/engine.sh's stand-in images).
CUDA_WHEELS: dict[str, str] = {
    "nvidia-cuda-nvcc": "13.0.88",
    "nvidia-nvvm": "13.0.88",
    "nvidia-cuda-crt": "13.0.88",
    "nvidia-cuda-runtime": "13.0.96",
    "nvidia-cuda-cccl": "13.0.85",
}
_CUDA_PIN = f"cuda-version >={CUDA_VERSION},<13.1"


def _unpack(wheels: dict[str, Path], dest: Path) -> Path:
    """Every wheel into one directory; returns its ``nvidia/cu13`` prefix."""
    for wheel in wheels.values():
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(dest)
    prefix = dest / "nvidia" / "cu13"
    for tool in [*(prefix / "bin").iterdir(), *(prefix / "nvvm" / "bin").iterdir()]:
        if tool.is_file():
            tool.chmod(0o755)
    return prefix


def _assemble(output_dir: Path, name: str, version: str, build: str, files: Path | None, *,
              depends: Sequence[str] = (), constrains: Sequence[str] = (), build_number: int = 0,
              noarch: bool = False) -> Path:
    from rattler_build import assemble_package

    subdir = "noarch" if noarch else "linux-64"
    (output_dir / subdir).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as empty:
        out = assemble_package(
            name=name, version=version, target_platform=subdir, build_string=build,
            output_dir=output_dir / subdir, files_dir=files or Path(empty),
            depends=list(depends), constrains=list(constrains), build_number=build_number,
            noarch="generic" if noarch else None, timestamp=_ASSEMBLE_TIMESTAMP,
            summary=f"Test package {name} ({build}), repackaged from NVIDIA's PyPI wheels",
            license="LicenseRef-NVIDIA-End-User-License-Agreement" if files else "BSD-3-Clause",
            compression_level=3, detect_prefix=False,
        )
    return Path(out.path)


def _stage(root: Path, files: dict[str, Path | str]) -> Path:
    """A files directory: ``{relative path: source file or text}`` (symlinks kept)."""
    for rel, source in files.items():
        dest = root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(source, str):
            dest.write_text(source)
        elif source.is_symlink():
            dest.symlink_to(source.readlink())
        elif source.is_dir():
            shutil.copytree(source, dest, symlinks=True)
        else:
            shutil.copy2(source, dest)
    return root


def _publish(dest_root: Path, packages: Sequence[Path]) -> None:
    """Copy packages into ``dest_root/c2d-cuda/<subdir>/`` (mode 0644) and index them."""
    import asyncio

    from rattler.index import index_fs

    channel_dir = dest_root / CUDA_CHANNEL
    for subdir in ("linux-64", "noarch"):
        (channel_dir / subdir).mkdir(parents=True, exist_ok=True)
    for package in packages:
        target = channel_dir / package.parent.name / package.name
        shutil.copyfile(package, target)
        target.chmod(0o644)
    asyncio.run(index_fs(channel_dir, force=True))
    scratch = channel_dir / ".tmp"
    if scratch.is_dir() and not any(scratch.iterdir()):
        scratch.rmdir()


def _build_cuda(dest: Path, cache_dir: Path) -> None:
    wheels = pypi_downloads(cache_dir, CUDA_WHEELS)
    work = dest / ".work"
    work.mkdir()
    try:
        cu13 = _unpack(wheels, work / "wheels")
        out = work / "out"
        runtime = CUDA_WHEELS["nvidia-cuda-runtime"]
        nvcc = CUDA_WHEELS["nvidia-cuda-nvcc"]
        cudart_dir = _stage(work / "cudart", {"lib/libcudart.so.13": cu13 / "lib" / "libcudart.so.13"})
        nvcc_dir = _stage(work / "nvcc", {
            "bin": cu13 / "bin", "nvvm": cu13 / "nvvm", "include": cu13 / "include",
            "lib/libcudart_static.a": cu13 / "lib" / "libcudart_static.a",
            "lib/libcudadevrt.a": cu13 / "lib" / "libcudadevrt.a",
        })
        (nvcc_dir / "lib" / "libcudart.so").symlink_to("libcudart.so.13")
        (nvcc_dir / "lib64").symlink_to("lib")  # nvcc.profile links from $(TOP)/lib64
        marker = "placeholder, not the real package: conda2docker's CUDA test channel\n"
        packages = [
            _assemble(out, "cuda-version", CUDA_VERSION, "h0_0", None, noarch=True,
                      constrains=["__cuda >=13", f"cudatoolkit {CUDA_VERSION}|{CUDA_VERSION}.*"]),
            _assemble(out, "cuda-cudart", runtime, "h0_0", cudart_dir,
                      depends=[_CUDA_PIN, "__glibc >=2.17"]),
            _assemble(out, "cuda-nvcc", nvcc, "h0_0", nvcc_dir,
                      depends=[_CUDA_PIN, f"cuda-cudart =={runtime}", "__glibc >=2.17"]),
            _assemble(out, "pytorch", "2.5.0", "cuda130_0",
                      _stage(work / "pt-cuda", {"share/c2d-pytorch/BUILD": "cuda130\n" + marker}),
                      depends=[_CUDA_PIN, "cuda-cudart >=13.0"], build_number=1),
            _assemble(out, "pytorch", "2.5.0", "cpu_0",
                      _stage(work / "pt-cpu", {"share/c2d-pytorch/BUILD": "cpu\n" + marker})),
            _assemble(out, "cupy", "13.0.0", "cuda130_0",
                      _stage(work / "cupy", {"share/c2d-cupy/BUILD": "cuda130\n" + marker}),
                      depends=[_CUDA_PIN, "cuda-cudart >=13.0"]),
        ]
        _publish(dest, packages)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def build_cuda_channel(cache_dir: Path | None = None) -> TestChannel:
    cache = cache_dir or default_cache_dir()
    extra = [f"{k}=={v}" for k, v in CUDA_WHEELS.items()]
    key = tree_digest([Path(__file__).resolve()], extra)
    root = cached_build(cache, f"channel-cuda-{key}", lambda dest: _build_cuda(dest, cache))
    names = sorted({p.name.rsplit("-", 2)[0] for sub in ("linux-64", "noarch")
                    for p in (root / CUDA_CHANNEL / sub).glob("*.conda")})
    return TestChannel(root=root, name=CUDA_CHANNEL, url=(root / CUDA_CHANNEL).as_uri(),
                       python_version=None, packages=tuple(names))


@pytest.fixture(scope="session")
def cuda_channel() -> TestChannel:
    """CUDA 13.0 packages from NVIDIA's wheels, plus pytorch/cupy placeholders (see the module doc)."""
    return build_cuda_channel()


@pytest.fixture(scope="session")
def gpu_channels(cuda_channel: TestChannel, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A channel root with ``c2d-test`` (python, pip…) and ``c2d-cuda`` side by side: pass its
    URI as ``--channel-alias``."""
    full = build_test_channel()
    root = tmp_path_factory.mktemp("gpu-channels")
    (root / full.name).symlink_to(full.path, target_is_directory=True)
    (root / CUDA_CHANNEL).symlink_to(cuda_channel.path, target_is_directory=True)
    yield root
