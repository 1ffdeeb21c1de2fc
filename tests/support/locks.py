"""Small locks built by hand for pure tests of plan, render and lock I/O."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

from conda2docker.model import Lock, LockedPackage

CF = "https://conda.anaconda.org/conda-forge"


def _hex(seed: str, length: int) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:length]


def conda(name: str, version: str, build: str = "h0_0", subdir: str = "linux-64",
          deps: dict[str, str] | None = None, platform: str = "linux-64") -> LockedPackage:
    file_name = f"{name}-{version}-{build}.conda"
    return LockedPackage(
        name=name, version=version, manager="conda", platform=platform,
        url=f"{CF}/{subdir}/{file_name}", md5=_hex(file_name, 32), sha256=_hex(file_name + "s", 64),
        build=build, dependencies=deps or {},
    )


def pip(name: str, version: str, url: str, deps: dict[str, str] | None = None,
        platform: str = "linux-64", sha256: bool = True) -> LockedPackage:
    return LockedPackage(
        name=name, version=version, manager="pip", platform=platform, url=url,
        sha256=_hex(url, 64) if sha256 else None, dependencies=deps or {},
    )


def base_conda(platform: str = "linux-64") -> list[LockedPackage]:
    return [
        conda("libzlib", "1.3.1", "hb9d3cd8_2", platform=platform),
        conda("python", "3.11.9", "hb806964_0_cpython", deps={"libzlib": ">=1.3.1,<2.0a0"},
              platform=platform),
        conda("pip", "24.2", "pyh8b19718_1", subdir="noarch", deps={"python": ">=3.8"},
              platform=platform),
        conda("numpy", "1.26.4", "py311h64a7726_0", deps={"python": ">=3.11,<3.12.0a0"},
              platform=platform),
    ]


def lock_pure_conda() -> Lock:
    packages = tuple(base_conda())
    return Lock(packages=packages, platforms=("linux-64",), channels=("conda-forge",),
                content_hash={"linux-64": _hex("pure", 64)}, sources=("environment.yml",),
                roots=("python", "numpy"))


def lock_with_pip_wheels() -> Lock:
    packages = (*base_conda(), pip("six", "1.16.0",
        "https://files.example.org/packages/d9/5a/e7/six-1.16.0-py2.py3-none-any.whl"))
    return Lock(packages=packages, platforms=("linux-64",), channels=("conda-forge",),
                content_hash={"linux-64": _hex("wheels", 64)}, sources=("environment.yml",),
                roots=("python", "numpy", "six"))


def lock_with_builds(local_src: Path | None = None) -> Lock:
    local = local_src or Path("/srv/src/mytool")
    packages = (
        *base_conda(),
        pip("six", "1.16.0", "https://files.example.org/packages/six-1.16.0-py2.py3-none-any.whl"),
        pip("docopt", "0.6.2", "https://files.example.org/packages/docopt-0.6.2.tar.gz"),
        pip("requests", "2.31.0",
            "git+https://github.com/psf/requests.git@147c8511ddbfa5e8f71bbf5c18ede0c4ceb3bba4",
            sha256=False),
        pip("mytool", "0.1.0", local.as_uri(), sha256=False),
    )
    return Lock(packages=packages, platforms=("linux-64",), channels=("conda-forge",),
                content_hash={"linux-64": _hex("builds", 64)}, sources=("environment.yml",),
                roots=("python", "numpy", "six", "docopt", "requests", "mytool"))


BOTH = ("linux-64", "linux-aarch64")


def two_platform_lock(pip_differs: bool = False) -> Lock:
    """linux-64 and linux-aarch64, each with its own conda builds; one pip package: the same
    pure wheel on both, or (``pip_differs``) a wheel built for each architecture."""
    packages = [*base_conda("linux-64"),
                *(replace(p, url=p.url.replace("/linux-64/", "/linux-aarch64/"), platform="linux-aarch64")
                  for p in base_conda("linux-aarch64"))]
    for platform, arch in (("linux-64", "x86_64"), ("linux-aarch64", "aarch64")):
        wheel = f"numpy-1.26.4-cp311-cp311-manylinux_2_17_{arch}.whl" if pip_differs else \
            "six-1.16.0-py2.py3-none-any.whl"
        packages.append(pip(wheel.split("-")[0], wheel.split("-")[1],
                            f"https://files.example.org/packages/{wheel}", platform=platform))
    return Lock(packages=tuple(packages), platforms=BOTH, channels=("conda-forge",),
                content_hash={p: "0" * 64 for p in BOTH}, roots=("python", "numpy"))
