"""Source builds known before any lock: exact pip pins checked against a real (loopback)
index for a wheel that fits the target, and sdists looked into without running them."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest

from conda2docker.audit.sdists import inspect_sdist
from conda2docker.cli import main
from conda2docker.model import LockedPackage
from conda2docker.read import read_input
from conda2docker.resolve.pypi import IndexClient
from conda2docker.sdist_check import scan_sdist_pins
from support.pypi_index import LocalIndex


def env_file(tmp_path: Path, index: str, *pins: str, python: str = "3.11") -> Path:
    path = tmp_path / "environment.yml"
    lines = [f"    - {pin}\n" for pin in pins]
    path.write_text("channels: [conda-forge]\ndependencies:\n"
                    f"  - python={python}\n  - pip\n  - pip:\n    - --index-url {index}\n"
                    + "".join(lines))
    return path


def scan(path: Path, cache: Path, offline: bool = False, glibc: str = "2.36"):  # type: ignore[no-untyped-def]
    spec = read_input(path)
    return scan_sdist_pins(spec, IndexClient(cache_dir=cache, offline=offline),
                           platform="linux-64", glibc=glibc, python="3.11")


def test_exact_pins_without_a_fitting_wheel_are_source_builds(
    local_pypi: LocalIndex, tmp_path: Path
) -> None:
    path = env_file(tmp_path, local_pypi.url, "c2d-cext==0.1", "c2d-pure==1.0", "c2d-linux==0.9",
                    "c2d-needs>=2.0")
    result = scan(path, tmp_path / "cache")
    assert set(result.facts) == {"c2d-cext"}  # c2d-pure and c2d-linux 0.9 have wheels
    cext = result.facts["c2d-cext"]
    assert cext.filename.startswith("c2d_cext-0.1") or cext.filename.startswith("c2d-cext-0.1")
    assert "c" in cext.toolchains and not cext.cuda
    assert cext.location is not None and cext.location.line == 7
    assert result.unchecked == ()


def test_a_wheel_for_a_newer_glibc_does_not_count(local_pypi: LocalIndex, tmp_path: Path) -> None:
    path = env_file(tmp_path, local_pypi.url, "c2d-linux==1.0")  # only a manylinux_2_39 wheel
    assert scan(path, tmp_path / "cache").facts == {}  # no sdist either: the lock says (P207)
    assert scan(path, tmp_path / "cache", glibc="2.39").facts == {}


def test_pure_python_sdist_needs_no_compiler(local_pypi: LocalIndex, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    simple = tmp_path / "simple" / "c2d-pure"
    simple.mkdir(parents=True)
    [sdist] = [f for f in local_pypi.files_dir.iterdir()
               if f.name.endswith(".tar.gz") and "pure" in f.name and "1.0" in f.name]
    shutil.copy(sdist, simple / sdist.name)
    path = env_file(tmp_path, (tmp_path / "simple").as_uri(), "c2d-pure==1.0")
    facts = scan(path, tmp_path / "cache").facts["c2d-pure"]
    assert facts.toolchains == () and not facts.needs_no_build_isolation
    code = main(["audit", str(path), "--no-lock", "--format", "json", "--select", "P201"])
    out, _ = capsys.readouterr()
    [finding] = json.loads(out)["findings"]
    assert code == 0
    assert finding["location"]["line"] == 7
    assert "no compiler (pure Python); apt: none" in finding["fix"]
    assert "build-essential" not in out


def test_index_answers_are_cached_on_disk(local_pypi: LocalIndex, tmp_path: Path) -> None:
    path = env_file(tmp_path, local_pypi.url, "c2d-cext==0.1")
    first = scan(path, tmp_path / "cache")
    again = scan(path, tmp_path / "cache", offline=True)
    assert again.facts == first.facts and again.unchecked == ()
    cold = scan(path, tmp_path / "empty", offline=True)
    assert cold.facts == {} and cold.unchecked and "c2d-cext==0.1" in cold.unchecked[0]


def test_unreachable_index_is_said_not_silent(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    path = env_file(tmp_path, "http://127.0.0.1:9/simple/", "c2d-cext==0.1")
    code = main(["audit", str(path), "--no-lock", "--offline", "--format", "json"])
    out, _ = capsys.readouterr()
    assert code == 0
    [unchecked] = [f for f in json.loads(out)["findings"] if f["code"] == "P208"]
    assert "1 exact pip pin(s)" in unchecked["message"]


# -- looking inside sdists -------------------------------------------------------------


def sdist(files: dict[str, str], name: str = "pkg-1.0") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for member, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{name}/{member}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def facts(files: dict[str, str]):  # type: ignore[no-untyped-def]
    return inspect_sdist(sdist(files), "pkg-1.0.tar.gz", "pkg", "1.0", "https://x/pkg-1.0.tar.gz")


def test_cuda_extension_built_against_torch() -> None:
    found = facts({
        "setup.py": "from setuptools import setup\nfrom torch.utils.cpp_extension import "
                    "BuildExtension, CUDAExtension\nsetup(ext_modules=[CUDAExtension('k', "
                    "['k.cpp', 'k_kernel.cu'])])\n",
        "k.cpp": "", "k_kernel.cu": "",
    })
    assert found.toolchains == ("c++", "cuda") and found.cuda
    assert found.imports == ("torch",) and found.needs_no_build_isolation


def test_pure_python_with_a_modern_backend() -> None:
    found = facts({"pyproject.toml": "[build-system]\nrequires = ['hatchling']\n"
                                     "build-backend = 'hatchling.build'\n",
                   "src/pkg/__init__.py": ""})
    assert found.toolchains == () and found.backend == "hatchling.build"
    assert found.build_requires == ("hatchling",) and not found.needs_no_build_isolation


def test_cython_and_declared_numpy_keep_build_isolation() -> None:
    found = facts({"pyproject.toml": "[build-system]\nrequires = ['setuptools', 'cython', "
                                     "'numpy>=1.21']\n",
                   "setup.py": "import numpy\nfrom Cython.Build import cythonize\n"
                               "setup(ext_modules=cythonize('pkg/_fast.pyx'))\n",
                   "pkg/_fast.pyx": ""})
    assert found.toolchains == ("c", "cython")
    assert found.imports == ("Cython", "numpy") and not found.needs_no_build_isolation


def test_undeclared_numpy_needs_no_build_isolation() -> None:
    found = facts({"setup.py": "import numpy as np\nfrom setuptools import Extension, setup\n"
                               "setup(ext_modules=[Extension('m', ['m.c'])])\n", "m.c": ""})
    assert found.toolchains == ("c",) and found.needs_no_build_isolation


def test_rust_backend() -> None:
    found = facts({"pyproject.toml": "[build-system]\nrequires=['maturin>=1']\n"
                                     "build-backend='maturin'\n", "Cargo.toml": "", "src/lib.rs": ""})
    assert found.toolchains == ("rust",)


def test_the_plan_gives_a_pure_python_sdist_no_compiler(local_pypi: LocalIndex,
                                                         tmp_path: Path) -> None:
    from conda2docker.audit import AuditContext, audit, plan_inputs
    from conda2docker.sdist_check import inspect_locked
    from fixtures.audit.cases import BASE, lock, ppkg

    [pure] = [f for f in local_pypi.files_dir.iterdir()
              if f.name.endswith(".tar.gz") and "pure" in f.name and "1.0" in f.name]
    [cext] = [f for f in local_pypi.files_dir.iterdir()
              if f.name.endswith(".tar.gz") and "cext" in f.name]
    from dataclasses import replace

    def hashed(name: str, version: str, path: Path) -> LockedPackage:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        return replace(ppkg(name, version, path.as_uri()), sha256=digest)

    locked = lock(*BASE, hashed("c2d-pure", "1.0", pure), hashed("c2d-cext", "0.1", cext))
    sdists = inspect_locked(locked, "linux-64", IndexClient(cache_dir=tmp_path))
    findings = audit(AuditContext.build(lock=locked, sdists=sdists))
    gaps = plan_inputs(findings, locked, "linux-64", sdists=sdists)
    builds = {b.name: b for b in gaps.sdist_packages}
    assert builds["c2d-pure"].toolchains == () and builds["c2d-pure"].apt_packages == ()
    assert "c" in builds["c2d-cext"].toolchains
    assert "build-essential" in builds["c2d-cext"].apt_packages
    assert not builds["c2d-pure"].no_build_isolation


def test_an_unreachable_extra_source_leaves_pins_unchecked_not_guessed(
    local_pypi: LocalIndex, tmp_path: Path
) -> None:
    path = tmp_path / "environment.yml"
    path.write_text("dependencies:\n  - python=3.11\n  - pip:\n"
                    f"    - --index-url {local_pypi.url}\n"
                    "    - --extra-index-url http://127.0.0.1:9/simple/\n"
                    "    - c2d-pure==1.0\n    - c2d-cext==0.1\n")
    result = scan(path, tmp_path / "cache")
    assert result.facts == {}  # c2d-pure has a wheel on the first index: decided
    assert [u.split(":")[0] for u in result.unchecked] == ["c2d-cext==0.1"]
