"""CUDA facts for the audit: they live in :mod:`conda2docker.cuda.facts` (below the audit, so
the CUDA inference that ``lock``, ``convert`` and the plan share does not import the audit)."""

from conda2docker.cuda.facts import (
    CUDA_EXTENSIONS,
    MIN_DRIVER,
    MINOR_COMPAT_DRIVER,
    CudaVersion,
    build_cuda,
    is_cpu_build,
    is_cuda_conda,
    min_driver,
)

__all__ = ["CUDA_EXTENSIONS", "MINOR_COMPAT_DRIVER", "MIN_DRIVER", "CudaVersion", "build_cuda",
           "is_cpu_build", "is_cuda_conda", "min_driver"]
