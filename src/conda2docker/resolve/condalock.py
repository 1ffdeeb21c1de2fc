"""The conda-lock backend: solve through conda-lock's own API with the user's conda,
mamba or micromamba binary. Same lock format out as the embedded solver."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from conda2docker.errors import ResolveError
from conda2docker.model import EnvSpec, LockedPackage
from conda2docker.resolve.conda import CondaSolveResult
from conda2docker.resolve.virtual import VirtualTarget

if TYPE_CHECKING:
    from conda2docker.resolve import ResolveOptions

CONDA_BINARIES = ("micromamba", "mamba", "conda")


def find_conda() -> str | None:
    for name in CONDA_BINARIES:
        path = shutil.which(name)
        if path:
            return path
    return None


def mapping_path() -> str:
    """conda-pypi's copy of the grayskull PyPI→conda map (conda-lock's default is online)."""
    from importlib.resources import files

    return str(files("conda_pypi") / "grayskull_pypi_mapping.json")


@contextmanager
def _virtual_overrides(target: VirtualTarget) -> Iterator[None]:
    """conda honours CONDA_OVERRIDE_* for virtual packages and CONDA_SUBDIR for the platform."""
    values = {"CONDA_SUBDIR": target.platform, "CONDA_OVERRIDE_GLIBC": target.glibc}
    if target.cuda:
        values["CONDA_OVERRIDE_CUDA"] = target.cuda
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def solve_with_conda_lock(
    spec: EnvSpec, platform: str, channels: Sequence[str], target: VirtualTarget,
    options: ResolveOptions,
) -> CondaSolveResult:
    conda = find_conda()
    if conda is None:
        raise ResolveError(
            "--solver conda-lock needs conda, mamba or micromamba on PATH",
            fix="install micromamba, or use the embedded solver (--solver rattler)",
        )
    from conda_lock.conda_solver import solve_conda
    from conda_lock.models.channel import Channel
    from conda_lock.models.lock_spec import VersionedDependency

    specs = {
        dep.name: VersionedDependency(
            name=dep.name, manager="conda", version=dep.version or "*", build=dep.build,
            conda_channel=dep.channel,
        )
        for dep in spec.conda
    }
    try:
        with _virtual_overrides(target):
            solved = solve_conda(
                conda, specs, locked={}, update=list(options.update), platform=platform,
                channels=[Channel.from_string(name) for name in channels],
                mapping_url=mapping_path(),
            )
    except Exception as exc:  # conda-lock raises plain exceptions with the solver's text
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ResolveError(f"conda-lock could not solve for {platform}: {first}",
                           fix="relax the pins it names, or try --solver rattler") from exc
    packages = tuple(
        LockedPackage(
            name=dep.name, version=dep.version, manager="conda", platform=platform, url=dep.url,
            md5=dep.hash.md5, sha256=dep.hash.sha256, build=dep.build,
            dependencies=dict(dep.dependencies),
        )
        for dep in sorted(solved.values(), key=lambda d: d.name)
    )
    return CondaSolveResult(packages=packages, unavailable=(), changes=())


__all__ = ["find_conda", "solve_with_conda_lock"]
