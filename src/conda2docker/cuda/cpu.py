"""The CPU variant of a GPU environment: what to ask the solver instead.

The CPU variant is solved without ``__cuda``, but that alone does not make it CPU-only: a
``pytorch-cuda=12.1`` pin, a ``pytorch=*=cuda*`` build or a ``cudatoolkit`` still pull CUDA in
(and an explicit lock *is* its packages). :func:`cpu_spec` rewrites the request:

* CUDA pins and CUDA-only packages (``pytorch-cuda``, ``cudatoolkit``, ``cuda-version``,
  ``cudnn``, ``cuda92``…) are left out;
* GPU names map to their CPU names (``tensorflow-gpu`` → ``tensorflow``, ``pytorch-gpu`` →
  ``pytorch``, ``dgl-cuda11.1`` → ``dgl``);
* frameworks with CPU and GPU builds (pytorch, tensorflow, jaxlib…) ask for a ``*cpu*`` build
  (the pytorch channel's ``py3.10_cpu_0``, conda-forge's ``cpu_…``);
* pip ``+cuXXX`` wheels become ``+cpu`` and PyTorch's ``/whl/cuXXX`` indexes ``/whl/cpu``.

:func:`relax_cpu_builds` is the fallback when no CPU build exists: the ``*cpu*`` requests are
dropped again and the caller says that the CPU image carries CUDA builds.
"""

from __future__ import annotations

import re
from dataclasses import replace

from conda2docker.cuda import facts
from conda2docker.model import CondaDependency, EnvSpec, PipRequirement, ReaderChange
from conda2docker.names import canonical
from conda2docker.values import frozen

CPU_BUILD = "*cpu*"
_DROP = re.compile(r"^(cuda\d{2,3}|pytorch-cuda|cudatoolkit(-dev)?|cuda-version|cudnn|nccl|cutensor"
                   r"|cuda-.*|magma)\Z")  # and the CUDA libraries facts.is_cuda_conda names
_RENAME = {"tensorflow-gpu": "tensorflow", "pytorch-gpu": "pytorch", "tensorflow-gpu-base": "tensorflow-base",
           "jaxlib-cuda": "jaxlib", "faiss-gpu": "faiss-cpu"}
_NAME_CUDA = re.compile(r"^(?P<base>[a-z0-9_.-]+?)-cuda\d{1,2}\.?\d\Z")
_FRAMEWORKS = frozenset({"pytorch", "tensorflow", "tensorflow-base", "jaxlib", "libtorch", "pytorch-base"})
_URL_CU = re.compile(r"(/whl/)cu\d{2,3}(?=/|\Z)")


@frozen
class CpuRequest:
    """The environment as the CPU variant solves it."""
    spec: EnvSpec
    changes: tuple[ReaderChange, ...]
    asked_cpu_builds: tuple[str, ...]
    """The packages the rewrite asks a ``*cpu*`` build of (dropped again by :func:`relax_cpu_builds`)."""


def _change(action: str, dep: CondaDependency | PipRequirement, reason: str) -> ReaderChange:
    subject = dep.name or dep.raw
    return ReaderChange(action, subject, f"CPU variant: {reason}",  # type: ignore[arg-type]
                        detail=dep.raw, location=dep.location)


def _conda(dep: CondaDependency, changes: list[ReaderChange], asked: list[str]) -> CondaDependency | None:
    name = dep.name.lower()
    if _DROP.match(name) or (facts.is_cuda_conda(name) and name not in _FRAMEWORKS and name != "cupy"):
        changes.append(_change("dropped", dep, "left out (CUDA only)"))
        return None
    new = dep
    if name in _RENAME or (match := _NAME_CUDA.match(name)):
        target = _RENAME.get(name) or match[1]  # type: ignore[index]  # set when not renamed
        changes.append(_change("mapped", dep, f"{dep.name} → {target}"))
        new = replace(new, name=target)
    build = (new.build or "").lower()
    if "cuda" in build:
        changes.append(_change("mapped", dep, f"build {new.build} → {CPU_BUILD if new.name in _FRAMEWORKS else 'any'}"))
        new = replace(new, build=CPU_BUILD if new.name in _FRAMEWORKS else None)
    elif new.name in _FRAMEWORKS and not build:
        asked.append(new.name)
        new = replace(new, build=CPU_BUILD)
    return new


def _pip(req: PipRequirement, changes: list[ReaderChange]) -> PipRequirement | None:
    if not req.name:
        return req
    key = canonical(req.name)
    if re.match(r"^nvidia-[a-z0-9-]+-cu\d+\Z", key):
        changes.append(_change("dropped", req, "left out (CUDA only)"))
        return None
    if re.search(r"\+cu\d{2,3}\b", req.specifier):
        specifier = re.sub(r"\+cu\d{2,3}\b", "+cpu", req.specifier)
        changes.append(_change("mapped", req, f"{req.name}{req.specifier} → {req.name}{specifier}"))
        return replace(req, specifier=specifier, raw=req.raw.replace(req.specifier, specifier))
    return req


def cpu_spec(spec: EnvSpec) -> CpuRequest:
    """The request of the CPU variant (see the module doc); an unchanged spec when nothing is CUDA."""
    changes: list[ReaderChange] = []
    asked: list[str] = []
    conda = [d for dep in spec.conda if (d := _conda(dep, changes, asked)) is not None]
    pip = [r for req in spec.pip if (r := _pip(req, changes)) is not None]
    options = spec.pip_options
    urls = tuple(_URL_CU.sub(r"\1cpu", u) for u in options.extra_index_urls)
    index = _URL_CU.sub(r"\1cpu", options.index_url) if options.index_url else None
    if urls != options.extra_index_urls or index != options.index_url:
        changes.append(ReaderChange("mapped", "pip index", "CPU variant: PyTorch's CPU wheel index"))
        options = replace(options, extra_index_urls=urls, index_url=index)
    if not changes and not asked:
        return CpuRequest(spec, (), ())
    new = replace(spec, conda=tuple(conda), pip=tuple(pip), pip_options=options)
    return CpuRequest(new, tuple(changes), tuple(asked))


def relax_cpu_builds(request: CpuRequest) -> EnvSpec:
    """The CPU request without the ``*cpu*`` builds it added (when the channels have none)."""
    conda = tuple(replace(d, build=None) if d.name in request.asked_cpu_builds and d.build == CPU_BUILD
                  else d for d in request.spec.conda)
    return replace(request.spec, conda=conda)


__all__ = ["CPU_BUILD", "CpuRequest", "cpu_spec", "relax_cpu_builds"]
