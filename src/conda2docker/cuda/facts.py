"""CUDA facts: which packages mean a GPU build, how a build string spells a version, which driver a CUDA release needs."""

from __future__ import annotations

import re

from conda2docker.names import canonical
from conda2docker.values import frozen

MIN_DRIVER: dict[tuple[int, int], str] = {
    # CUDA toolkit → minimum Linux x86_64 driver (NVIDIA CUDA release notes, table 3)
    (8, 0): "375.26", (9, 0): "384.81", (9, 1): "390.46", (9, 2): "396.26",
    (10, 0): "410.48", (10, 1): "418.39", (10, 2): "440.33",
    (11, 0): "450.36.06", (11, 1): "455.23.05", (11, 2): "460.27.03", (11, 3): "465.19.01",
    (11, 4): "470.42.01", (11, 5): "495.29.05", (11, 6): "510.39.01", (11, 7): "515.43.04",
    (11, 8): "520.61.05",
    (12, 0): "525.60.13", (12, 1): "530.30.02", (12, 2): "535.54.03", (12, 3): "545.23.06",
    (12, 4): "550.54.14", (12, 5): "555.42.02", (12, 6): "560.28.03", (12, 8): "570.26",
    (12, 9): "575.51.03", (13, 0): "580.65.06",
}
MINOR_COMPAT_DRIVER: dict[int, str] = {11: "450.80.02", 12: "525.60.13", 13: "580.65.06"}
"""The oldest driver a CUDA major release runs on through minor-version compatibility."""

_CONDA_CUDA = frozenset(
    {"cudatoolkit", "cudatoolkit-dev", "cudnn", "nccl", "cuda-version", "pytorch-cuda",
     "cutensor", "tensorrt", "libcublas", "libcufft", "libcurand", "libcusolver",
     "libcusparse", "libnvjitlink", "magma", "cupy", "cuda"}
)
_CUDA_LIBS = re.compile(
    r"^lib(cublas|cufft|curand|cusolver|cusparse|cufile|cudnn|cudss|cutensor|nvjitlink|nvjpeg"
    r"|npp\w*|nvrtc|nvvm|nvptxcompiler|nvfatbin|nccl|cudart|cuda\w*)(-dev|-static)?\Z"
)
_BUILD_CUDA = re.compile(r"cuda_?(\d+)\.?(\d)?")
_CPU_ML = frozenset({"pytorch", "torch", "tensorflow", "tensorflow-base", "jaxlib", "libtorch",
                     "pytorch-base", "torchvision", "torchaudio"})

CUDA_EXTENSIONS = frozenset(
    {"flash-attn", "xformers", "diff-gaussian-rasterization", "simple-knn", "pytorch3d", "apex",
     "causal-conv1d", "mamba-ssm", "torch-scatter", "torch-sparse", "torch-cluster",
     "torch-spline-conv", "nvdiffrast", "tinycudann", "tiny-cuda-nn", "gsplat", "pointnet2-ops",
     "fused-ssim", "detectron2", "mmcv-full", "mmcv", "deepspeed", "knn-cuda", "chamferdist",
     "kaolin", "torch-points-kernels", "spconv", "flash-attention", "vllm-flash-attn",
     "bitsandbytes", "auto-gptq", "diff-surfel-rasterization", "nerfacc"}
)
"""PyPI names whose source builds compile CUDA kernels with nvcc (torch.utils.cpp_extension)."""


@frozen
class CudaVersion:
    """A CUDA major.minor version and where it was read."""
    version: tuple[int, int]
    source: str

    @property
    def text(self) -> str:
        return f"{self.version[0]}.{self.version[1]}"


def is_cuda_conda(name: str, build: str | None = None) -> bool:
    """A conda package that exists for GPUs: CUDA libraries, or a build string naming CUDA."""
    low = name.lower()
    if low in _CONDA_CUDA or low.startswith("cuda-") or _CUDA_LIBS.match(low):
        return True
    return bool(build and build_cuda(build))



def build_cuda(build: str) -> tuple[int, int] | None:
    """CUDA version in a build string (``py3.10_cuda11.8_cudnn8_0`` → 11.8; ``cuda0.0`` → None)."""
    match = _BUILD_CUDA.search(build)
    if not match:
        return None
    digits = match[1]
    if match[2] is None and len(digits) >= 3:  # conda-forge ``cuda118``/``cuda120``
        major, minor = int(digits[:-1]), int(digits[-1])
    else:
        major, minor = int(digits), int(match[2] or 0)
    return (major, minor) if major > 0 else None


_CPU_LOCAL = re.compile(r"\+cpu(?![a-z0-9])", re.IGNORECASE)
"""A CPU wheel's local version: ``+cpu``, ``+cpu.cxx11.abi`` (not ``+cu121``, ``+rocm5.6``)."""


def is_cpu_build(name: str, build: str | None, version: str = "") -> bool:
    """A CPU-only build of a framework that also has GPU builds."""
    if canonical(name) not in _CPU_ML and name.lower() not in _CPU_ML:
        return False
    if _CPU_LOCAL.search(version):  # 2.1.0+cpu, and the cxx11-ABI wheels' 2.1.0+cpu.cxx11.abi
        return True
    text = (build or "").lower()
    return "cpu" in text or "cuda0.0" in text




def min_driver(version: tuple[int, int]) -> str:
    """The minimum driver for a CUDA version: the table, else the closest older release."""
    if version in MIN_DRIVER:
        return MIN_DRIVER[version]
    older = [v for v in MIN_DRIVER if v <= version]
    return MIN_DRIVER[max(older)] if older else MIN_DRIVER[min(MIN_DRIVER)]
