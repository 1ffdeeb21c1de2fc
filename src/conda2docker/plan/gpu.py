"""The GPU variant's decisions, from :mod:`conda2docker.cuda`: whether to make it, which CUDA
it is solved for, which CUDA its images are.

* ``--gpu auto`` makes a GPU variant when :func:`conda2docker.cuda.infer.from_spec` finds GPU
  intent (or the audit finds CUDA in the CPU lock).
* The solve's ``__cuda``: ``--cuda``, else the CUDA the environment implies, else
  :data:`conda2docker.cuda.infer.DEFAULT_CUDA`.
* The images and ``NVIDIA_REQUIRE_CUDA``: the CUDA the *lock* contains
  (:func:`image_cuda`), so a lock holding CUDA 11.8 gets an 11.8 devel image even when the
  solve was asked for 12.4.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from conda2docker.choices import GpuMode
from conda2docker.cuda.infer import DEFAULT_CUDA, from_lock, parse_version, text
from conda2docker.model import Lock
from conda2docker.plan.instructions import PlanError

_CUDA_VERSION = re.compile(r"^\d{1,2}(\.\d{1,2}(\.\d{1,3})?)?\Z")


def check_cuda_version(text: str) -> str:
    """A CUDA version as ``--cuda`` takes it: ``12``, ``12.4`` or ``12.4.1``."""
    if not _CUDA_VERSION.match(text):
        raise PlanError(f"invalid CUDA version {text!r}: expected MAJOR.MINOR such as 12.4",
                        fix="write --cuda as MAJOR[.MINOR[.PATCH]], e.g. 12.4, with nothing after it")
    return text


def wants_gpu(mode: GpuMode, reasons: Iterable[str]) -> bool:
    if mode == "yes":
        return True
    if mode == "no":
        return False
    return any(True for _ in reasons)


def image_cuda(lock: Lock, platform: str, solved_for: str | None) -> str:
    """The CUDA of the GPU variant's images: the lock's own, else what it was solved for."""
    locked = from_lock(lock, platform)
    if locked.exact_version:
        return text(locked.exact_version)
    solved = parse_version(solved_for) if solved_for else None
    if locked.version and solved and solved[0] != locked.version[0]:
        return text(locked.version)  # a major-only lock of another major than asked
    return solved_for or locked.version_text or DEFAULT_CUDA


def cuda_devel_image(version: str) -> str:
    """The published ``nvidia/cuda`` devel image nearest to CUDA ``version``
    (:func:`conda2docker.cuda.images.choose_image`)."""
    from conda2docker.cuda import images  # the tag table: GPU plans only

    check_cuda_version(version)
    return images.devel_image(version if "." in version else f"{version}.0")


def cuda_runtime_image(version: str) -> str:
    from conda2docker.cuda import images

    check_cuda_version(version)
    return images.runtime_image(version if "." in version else f"{version}.0")


__all__ = ["check_cuda_version", "cuda_devel_image", "cuda_runtime_image", "image_cuda",
           "wants_gpu"]
