"""The GPU variant: does the environment want CUDA, which CUDA, which devel image.

``--gpu auto`` asks :func:`gpu_reasons`: CUDA in what the user requested (names such as
``pytorch-cuda``, ``cudatoolkit``, ``cuda-*``, ``cupy``; build strings such as
``pytorch=*=cuda*``; pip ``cupy-cuda12x``, ``nvidia-*-cu12``, ``torch==…+cu121``,
``jax[cuda12]``) or the audit's ``needs_gpu``. ``--cuda`` defaults to the environment's own
``cuda-version``/``pytorch-cuda``/``cudatoolkit`` pin, else :data:`DEFAULT_CUDA`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from conda2docker.audit.knowledge import cuda
from conda2docker.choices import GpuMode
from conda2docker.model import CondaDependency, EnvSpec, PipRequirement
from conda2docker.plan.instructions import PlanError

DEFAULT_CUDA = "12.4"
CUDA_DEVEL_TAG = "{version}-devel-ubuntu22.04"

# The newest patch release of each CUDA minor with an ``nvidia/cuda`` devel image.
_PATCH = {
    "11.8": "11.8.0", "12.0": "12.0.1", "12.1": "12.1.1", "12.2": "12.2.2", "12.3": "12.3.2",
    "12.4": "12.4.1", "12.5": "12.5.1", "12.6": "12.6.3", "12.8": "12.8.1", "12.9": "12.9.1",
    "13.0": "13.0.2",
}
_CUDA_VERSION = re.compile(r"^\d{1,2}\.\d{1,2}(\.\d{1,3})?$")
_CUDA_NAMES = frozenset({"pytorch-cuda", "cudatoolkit", "cudatoolkit-dev", "cupy", "cuda-version",
                         "cudnn", "nccl", "cuda"})
_PIN_NAMES = ("cuda-version", "pytorch-cuda", "cudatoolkit")


def check_cuda_version(text: str) -> str:
    if not _CUDA_VERSION.match(text):
        raise PlanError(f"invalid CUDA version {text!r}: expected MAJOR.MINOR such as 12.4")
    return text


def _conda_reason(dep: CondaDependency) -> str | None:
    name = dep.name.lower()
    if dep.build and "cuda" in dep.build.lower():
        return f"{dep.raw or dep.name} asks for a CUDA build"
    if name in _CUDA_NAMES or name.startswith("cuda-") or cuda.is_cuda_conda(name, dep.build):
        return f"{dep.raw or dep.name} is a CUDA package"
    return None


def _pip_reason(req: PipRequirement) -> str | None:
    if not req.name:
        return None
    if cuda.is_cuda_pip(req.name, req.specifier) or "+cu" in req.specifier:
        return f"{req.raw} is a CUDA build"
    if any("cuda" in extra.lower() for extra in req.extras):
        return f"{req.raw} asks for the CUDA extra"
    return None


def requested_cuda(spec: EnvSpec) -> tuple[str, ...]:
    """Why the requested packages mean a GPU environment (empty: they do not)."""
    reasons = [r for d in spec.conda if (r := _conda_reason(d))]
    reasons += [r for q in spec.pip if (r := _pip_reason(q))]
    return tuple(dict.fromkeys(reasons))


def gpu_reasons(spec: EnvSpec, *, audit_needs_gpu: bool = False) -> tuple[str, ...]:
    reasons = list(requested_cuda(spec))
    if audit_needs_gpu:
        reasons.append("the audit found CUDA packages or CUDA extensions in the lock")
    return tuple(reasons)


def wants_gpu(mode: GpuMode, reasons: Iterable[str]) -> bool:
    if mode == "yes":
        return True
    if mode == "no":
        return False
    return any(True for _ in reasons)


def default_cuda_version(spec: EnvSpec) -> str:
    """The CUDA the environment pins (the highest if several), else :data:`DEFAULT_CUDA`."""
    found: list[tuple[int, int]] = []
    for dep in spec.conda:
        if dep.name.lower() in _PIN_NAMES and (version := cuda.version_from(dep.name, dep.version, None)):
            found.append(version.version)
        elif dep.build and (from_build := cuda.build_cuda(dep.build.replace("*", ""))):
            found.append(from_build)
    if not found:
        return DEFAULT_CUDA
    major, minor = max(found)
    return f"{major}.{minor}"


def cuda_devel_image(version: str) -> str:
    """``nvidia/cuda:<version>-devel-ubuntu22.04`` for the CUDA ``MAJOR.MINOR[.PATCH]``."""
    check_cuda_version(version)
    major_minor = ".".join(version.split(".")[:2])
    full = version if version.count(".") == 2 else _PATCH.get(major_minor, f"{major_minor}.0")
    return "nvidia/cuda:" + CUDA_DEVEL_TAG.format(version=full)
