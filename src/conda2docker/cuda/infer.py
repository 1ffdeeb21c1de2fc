"""Does an environment want CUDA, and which CUDA? The one answer the audit, ``lock``,
``convert`` and the plan's CUDA images share.

Two sides:

* :func:`from_spec` reads what an environment file *asks for*: CUDA pins (``cuda-version``,
  ``pytorch-cuda``, ``cudatoolkit``…), GPU metapackages and names (``tensorflow-gpu``,
  ``pytorch-gpu``, ``cuda92``/``cuda100``, ``dgl-cuda11.1``), build strings (``*cuda*``,
  ``cuda118``, ``py3.10_cuda11.8_cudnn8_0``), channel combinations (``pytorch`` from the
  ``pytorch`` + ``nvidia`` channels), NVIDIA's per-release channel labels, pip local versions
  (``torch==2.1.0+cu121``), CUDA wheels (``cupy-cuda12x``, ``nvidia-*-cu12``), extras
  (``jax[cuda12]``) and index URLs (``download.pytorch.org/whl/cu121``). It also notes the
  explicit CPU requests (``cpuonly``, ``*cpu*`` builds, ``+cpu``, ``whl/cpu``).
* :func:`from_lock` reads what a lock *contains*: ``cuda-version`` first (it is the pin
  conda-forge's CUDA packages agree on), then the CUDA runtime packages, build strings and
  pip CUDA wheels.

The facts (which names are CUDA packages, how a build string spells a version) live in
:mod:`conda2docker.audit.knowledge.cuda`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from conda2docker.cuda import facts
from conda2docker.errors import SourceLocation
from conda2docker.model import CondaDependency, EnvSpec, Lock, LockedPackage, PipRequirement
from conda2docker.names import canonical
from conda2docker.values import frozen

Version = tuple[int, int]

DEFAULT_CUDA = "12.4"
"""The CUDA a GPU solve assumes when nothing in the environment names a version."""



def newest_minor(major: int) -> int:
    """The newest minor release of a CUDA major NVIDIA has published images for: what a
    major-only request (``cupy-cuda12x``, ``nvidia-*-cu12``, ``jax[cuda12]``) is solved for."""
    from conda2docker.cuda.images import published_tags  # images builds on this module

    return max((t.version[1] for t in published_tags() if t.version[0] == major), default=0)

_PIN_NAMES = ("cuda-version", "pytorch-cuda", "cudatoolkit", "cudatoolkit-dev", "cuda-toolkit",
              "cuda-runtime", "cuda-cudart", "cuda-nvcc", "nvcc_linux-64", "cuda")
_GPU_NAMES = frozenset({"tensorflow-gpu", "pytorch-gpu", "tensorflow-gpu-base", "jaxlib-cuda",
                        "cupy", "cudnn", "nccl", "cutensor", "magma", "faiss-gpu",
                        "onnxruntime-gpu", "paddlepaddle-gpu", "mxnet-gpu", "cuml", "cudf",
                        "cugraph", "rapids"})
_TORCH_NAMES = frozenset({"pytorch", "torchvision", "torchaudio"})
_METAPACKAGE = re.compile(r"^cuda(\d{2,3})\Z")  # pytorch channel's cuda80 … cuda101
_NAME_CUDA = re.compile(r"^[a-z0-9_.]+(?:-[a-z0-9_.]+)*-cuda(\d{1,2})\.?(\d)\Z")  # dgl-cuda11.1
_NVIDIA_LABEL = re.compile(r"^nvidia/label/cuda-(\d+)\.(\d+)")
_LOCAL_CU = re.compile(r"\+cu(\d{2,3})\b")
_URL_CU = re.compile(r"(?:/|\+|-)cu(\d{2,3})(?=[/.\-]|\Z)")
_PIP_WHEEL_CU = re.compile(r"^(?:nvidia-[a-z0-9-]+-cu|cupy-cuda|mxnet-cu)(\d{2,3})(x?)\Z")
_EXTRA_CUDA = re.compile(r"^cuda(\d{2})(?:[_-].*)?\Z")  # jax[cuda12], jax[cuda12_pip]


@frozen
class CudaSignal:
    """One reason to think the environment wants CUDA (or explicitly does not)."""

    text: str
    """What was read, as the user wrote it (``pytorch-cuda=11.8``, ``--extra-index-url …``)."""
    why: str
    version: Version | None = None
    major_only: bool = False
    """Only the major release is known (``cupy-cuda12x``): the minor is not the user's."""
    location: SourceLocation | None = None

    @property
    def reason(self) -> str:
        return f"{self.text} {self.why}"


@frozen
class CudaIntent:
    """What the environment wants: the GPU signals, the CPU requests, the CUDA they imply."""

    signals: tuple[CudaSignal, ...] = ()
    cpu_requests: tuple[CudaSignal, ...] = ()
    authoritative: Version | None = None
    """A lock's ``cuda-version``: decides over everything else."""

    @property
    def wants_gpu(self) -> bool:
        return bool(self.signals)

    @property
    def versions(self) -> tuple[Version, ...]:
        """Every version named (full versions first), highest first, without repeats."""
        found = {s.version for s in self.signals if s.version and not s.major_only}
        return tuple(sorted(found, reverse=True))

    @property
    def version(self) -> Version | None:
        """The CUDA the signals imply: the lock's ``cuda-version``, else the highest full
        version named, else the newest minor of the highest major named."""
        if self.authoritative:
            return self.authoritative
        if self.versions:
            return self.versions[0]
        majors = [s.version[0] for s in self.signals if s.version]
        if majors:
            major = max(majors)
            return (major, newest_minor(major))
        return None

    @property
    def exact_version(self) -> Version | None:
        """The version when a full ``MAJOR.MINOR`` is named (not only a major)."""
        return self.authoritative or (self.versions[0] if self.versions else None)

    @property
    def version_text(self) -> str | None:
        return text(self.version) if self.version else None

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.reason for s in self.signals))

    def solve_version(self, default: str = DEFAULT_CUDA) -> str:
        """The ``__cuda`` to solve the GPU variant with: the implied CUDA, else ``default``."""
        return self.version_text or default

    def fix(self) -> str:
        """How to make the CUDA version explicit (what to add to the environment file)."""
        torch = any(s.text.split("=")[0].split()[0].lower() in _TORCH_NAMES | {"pytorch-gpu"}
                    for s in self.signals)
        target = self.version_text or DEFAULT_CUDA
        if torch:
            return (f"add pytorch-cuda={target} (pytorch + nvidia channels) or cuda-version={target} "
                    "(conda-forge), or pass --cuda")
        return f"add cuda-version={target} to the dependencies, or pass --cuda"


def text(version: Version) -> str:
    return f"{version[0]}.{version[1]}"


def parse_version(value: str) -> Version | None:
    """``12.4``/``12.4.1``/``12`` → (12, 4)/(12, 4)/(12, 0); anything else → None."""
    match = re.match(r"^\s*(\d{1,2})(?:\.(\d{1,2}))?(?:\.\d+)*\s*\Z", value)
    return (int(match[1]), int(match[2] or 0)) if match else None


def _digits(digits: str) -> Version:
    """``118`` → 11.8, ``92`` → 9.2, ``100`` → 10.0 (the last digit is the minor release)."""
    return int(digits[:-1]), int(digits[-1])


def _spec_version(spec: str) -> Version | None:
    """The CUDA version a conda version spec pins (``11.8.*``, ``>=12.1,<13``, ``12``)."""
    match = re.match(r"^[=<>~!\s]*(\d+)(?:\.(\d+))?", spec)
    if not match or not 7 <= int(match[1]) <= 99:
        return None
    return int(match[1]), int(match[2] or 0)


# ---------------------------------------------------------------------------------------------
# Spec side
# ---------------------------------------------------------------------------------------------


def _conda_signals(dep: CondaDependency) -> tuple[list[CudaSignal], list[CudaSignal]]:
    name = dep.name.lower()
    shown = dep.raw or dep.matchspec
    gpu: list[CudaSignal] = []
    cpu: list[CudaSignal] = []
    build = (dep.build or "").lower()

    def add(why: str, version: Version | None = None, major_only: bool = False) -> None:
        gpu.append(CudaSignal(shown, why, version, major_only, dep.location))

    if name == "cpuonly":
        cpu.append(CudaSignal(shown, "asks for CPU builds", location=dep.location))
    elif name in _PIN_NAMES and (version := _spec_version(dep.version)):
        add(f"pins CUDA {text(version)}", version)
    elif match := _METAPACKAGE.match(name):
        version = _digits(match[1])
        add(f"is the CUDA {text(version)} metapackage (old pytorch channel)", version)
    elif match := _NAME_CUDA.match(name):
        version = (int(match[1]), int(match[2]))
        add(f"is a build for CUDA {text(version)}", version)
    elif name in _GPU_NAMES or name.endswith("-gpu"):
        add("is a GPU package")
    elif facts.is_cuda_conda(name):
        add("is a CUDA package")
    if build and re.search(r"cuda_?0\.?0", build):  # pytorch's CPU builds: py35_cuda0.0_cudnn0.0_2
        cpu.append(CudaSignal(shown, "asks for a CPU build (cuda0.0)", location=dep.location))
    elif build and "cuda" in build:
        version = facts.build_cuda(build.replace("*", ""))
        if version and re.search(r"cuda_?\d{1,2}(?![\d.])", build):  # cuda12*: the major only
            add(f"asks for a CUDA {version[0]} build", version, major_only=True)
        else:
            add(f"asks for a CUDA {text(version)} build" if version else "asks for a CUDA build", version)
    elif build and "cpu" in build:
        cpu.append(CudaSignal(shown, "asks for a CPU build", location=dep.location))
    return gpu, cpu


def _pip_signals(req: PipRequirement) -> tuple[list[CudaSignal], list[CudaSignal]]:
    gpu: list[CudaSignal] = []
    cpu: list[CudaSignal] = []
    if not req.name:
        return gpu, cpu
    name = canonical(req.name)
    shown = req.raw.strip()

    def add(why: str, version: Version | None = None, major_only: bool = False) -> None:
        gpu.append(CudaSignal(shown, why, version, major_only, req.location))

    if match := _LOCAL_CU.search(req.specifier):
        version = _digits(match[1])
        add(f"is a CUDA {text(version)} wheel", version)
    elif "+cpu" in req.specifier:
        cpu.append(CudaSignal(shown, "is a CPU wheel", location=req.location))
    elif match := _PIP_WHEEL_CU.match(name):
        if match[2] or len(match[1]) == 2:  # cupy-cuda12x, nvidia-cublas-cu12
            major = int(match[1][:2] if match[2] else match[1])
            add(f"is a CUDA {major} wheel", (major, 0), major_only=True)
        else:
            version = _digits(match[1])
            add(f"is a CUDA {text(version)} wheel", version)
    elif name.endswith("-gpu") or name in {"cupy"}:
        add("is a GPU package")
    for extra in req.extras:
        low = extra.lower()
        if match := _EXTRA_CUDA.match(low):
            major = int(match[1])
            add(f"asks for the CUDA {major} extra", (major, 0), major_only=True)
        elif "cuda" in low or low == "gpu":
            add("asks for the CUDA extra")
    return gpu, cpu


def _url_signals(urls: Iterable[str], label: str) -> tuple[list[CudaSignal], list[CudaSignal]]:
    gpu: list[CudaSignal] = []
    cpu: list[CudaSignal] = []
    for url in urls:
        low = url.lower()
        if match := _URL_CU.search(low):
            version = _digits(match[1])
            gpu.append(CudaSignal(f"{label} {url}", f"serves CUDA {text(version)} wheels", version))
        elif re.search(r"/whl/cpu(?:/|\Z)|\+cpu\b", low):
            cpu.append(CudaSignal(f"{label} {url}", "serves CPU wheels"))
    return gpu, cpu


def _channel_signals(spec: EnvSpec, gpu_so_far: Sequence[CudaSignal]) -> list[CudaSignal]:
    found: list[CudaSignal] = []
    channels = [c.rstrip("/").lower() for c in spec.channels]
    for channel in channels:
        if match := _NVIDIA_LABEL.match(channel):
            version = (int(match[1]), int(match[2]))
            found.append(CudaSignal(f"channel {channel}", f"is NVIDIA's CUDA {text(version)} label", version))
    names = {d.name.lower() for d in spec.conda}
    bare = {c.rsplit("/", 1)[-1] for c in channels}
    bare |= {d.channel.rstrip("/").rsplit("/", 1)[-1].lower() for d in spec.conda if d.channel}
    if {"pytorch", "nvidia"} <= bare and names & _TORCH_NAMES and not gpu_so_far:
        torch = next(d for d in spec.conda if d.name.lower() in _TORCH_NAMES)
        found.append(CudaSignal(
            torch.raw or torch.matchspec,
            "comes from the pytorch + nvidia channels: a GPU build is meant, but no CUDA is pinned",
            location=torch.location))
    return found


_LAST_FROM_SPEC: list[tuple[EnvSpec, CudaIntent]] = []
"""The last environment read by :func:`from_spec` (a spec is immutable): ``convert`` asks of
one spec twice, for the variants to solve and in the audit."""


def from_spec(spec: EnvSpec) -> CudaIntent:
    """What an environment file asks for. A lock given as input is read as a lock."""
    if spec.lock is not None and not spec.conda and not spec.pip:
        return from_lock(spec.lock)
    for seen, intent in _LAST_FROM_SPEC:
        if seen is spec:
            return intent
    intent = _from_spec(spec)
    _LAST_FROM_SPEC[:] = [(spec, intent)]
    return intent


def _from_spec(spec: EnvSpec) -> CudaIntent:
    gpu: list[CudaSignal] = []
    cpu: list[CudaSignal] = []
    for dep in spec.conda:
        more, less = _conda_signals(dep)
        gpu += more
        cpu += less
    for req in spec.pip:
        more, less = _pip_signals(req)
        gpu += more
        cpu += less
    options = spec.pip_options
    for label, urls in (("--index-url", (options.index_url,) if options.index_url else ()),
                        ("--extra-index-url", options.extra_index_urls),
                        ("--find-links", options.find_links)):
        more, less = _url_signals(urls, label)
        gpu += more
        cpu += less
    gpu += _channel_signals(spec, gpu)
    if cpu and not any(s.version for s in gpu):
        # ``cpuonly`` next to ``pytorch`` from the pytorch + nvidia channels is a CPU env.
        gpu = [s for s in gpu if s.version or "pytorch + nvidia" not in s.why]
    return CudaIntent(tuple(dict.fromkeys(gpu)), tuple(dict.fromkeys(cpu)))


# ---------------------------------------------------------------------------------------------
# Lock side
# ---------------------------------------------------------------------------------------------


def _locked_signal(package: LockedPackage) -> CudaSignal | None:
    name = package.name.lower()
    label = f"{package.name} {package.version}" + (f" {package.build}" if package.build else "")
    if package.manager == "conda":
        if name in _PIN_NAMES and (version := parse_version(".".join(package.version.split(".")[:2]))):
            return CudaSignal(label, f"is CUDA {text(version)}", version)
        if package.build and (version := facts.build_cuda(package.build)):
            if re.search(r"cuda_?\d{1,2}(?![\d.])", package.build.lower()):  # cuda12_0
                return CudaSignal(label, f"is built for CUDA {version[0]}", version, major_only=True)
            return CudaSignal(label, f"is built for CUDA {text(version)}", version)
        if facts.is_cuda_conda(name):
            return CudaSignal(label, "is a CUDA package")
        return None
    key = canonical(package.name)
    if match := _LOCAL_CU.search(package.version):
        version = _digits(match[1])
        return CudaSignal(label, f"is a CUDA {text(version)} wheel", version)
    if key.startswith("nvidia-cuda-runtime-cu") and (version := parse_version(
            ".".join(package.version.split(".")[:2]))):
        return CudaSignal(label, f"is CUDA {text(version)}", version)
    if match := _PIP_WHEEL_CU.match(key):
        major = int(match[1][:2]) if (match[2] or len(match[1]) == 2) else _digits(match[1])[0]
        return CudaSignal(label, f"is a CUDA {major} wheel", (major, 0), major_only=True)
    return None


_LAST_FROM_LOCK: list[tuple[Lock, str, CudaIntent]] = []
"""The last lock read by :func:`from_lock` (a lock is immutable): ``convert`` asks of one lock
twice, for its CPU variant's note and in the audit."""


def from_lock(lock: Lock, platform: str | None = None) -> CudaIntent:
    """What a lock contains (for ``platform``, default its first)."""
    target = platform or (lock.platforms[0] if lock.platforms else None)
    if target is None:
        return CudaIntent()
    for seen, seen_platform, intent in _LAST_FROM_LOCK:
        if seen is lock and seen_platform == target:
            return intent
    intent = _from_lock(lock, target)
    _LAST_FROM_LOCK[:] = [(lock, target, intent)]
    return intent


def _from_lock(lock: Lock, target: str) -> CudaIntent:
    packages = lock.for_platform(target)
    signals = [s for p in packages if (s := _locked_signal(p))]
    cpu = [CudaSignal(f"{p.name} {p.version} {p.build or ''}".strip(), "is a CPU-only build")
           for p in packages if facts.is_cpu_build(p.name, p.build, p.version)]
    pin = next((p for p in packages if p.manager == "conda" and p.name == "cuda-version"), None)
    authoritative = parse_version(".".join(pin.version.split(".")[:2])) if pin else None
    return CudaIntent(tuple(signals), tuple(cpu), authoritative)


def cuda_solve_fix(used: str | None, why: str) -> str:
    """The fix for a solve that failed on ``__cuda``: which ``__cuda`` was used (and why), and
    the flag that sets it, instead of 'relax the pins'."""
    if used is None:
        return ("these packages are CUDA builds and the solve had no __cuda: pass --cuda with the "
                "CUDA your GPUs' driver supports (e.g. --cuda 12), as convert's GPU variant does")
    return (f"the solve used __cuda={used} ({why}); the packages need another CUDA: pass --cuda "
            "with the CUDA they need (and your GPUs' driver supports), or pin cuda-version")


_RUNTIME_NAMES = frozenset({"cuda-cudart", "cudatoolkit", "cuda-runtime"})


def has_cuda_runtime(lock: Lock, platform: str) -> bool:
    """The lock brings libcudart itself (conda ``cuda-cudart``/``cudatoolkit``, pip
    ``nvidia-cuda-runtime-cu*``)."""
    return any((p.manager == "conda" and p.name in _RUNTIME_NAMES)
               or (p.manager == "pip" and canonical(p.name).startswith("nvidia-cuda-runtime-cu"))
               for p in lock.for_platform(platform))


__all__ = ["DEFAULT_CUDA", "CudaIntent", "CudaSignal", "Version", "cuda_solve_fix", "from_lock", "from_spec", "has_cuda_runtime", "newest_minor",
           "parse_version", "text"]
