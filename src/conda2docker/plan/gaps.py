"""The audit's :class:`BuildGaps` as plan options: apt packages per stage, CUDA extensions."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from conda2docker.names import canonical
from conda2docker.plan.types import PlanOptions

if TYPE_CHECKING:
    from conda2docker.audit.gaps import BuildGaps


def apply_gaps(options: PlanOptions, gaps: BuildGaps | None) -> PlanOptions:
    """``options`` plus what the audit found: compilers and headers for the ``wheels`` and
    ``cuda-ext`` stages, system libraries for the runtime stage, the CUDA extensions, and the
    source builds that need no toolchain at all."""
    if gaps is None:
        return options
    plain = {a for b in gaps.source_builds if not b.cuda for a in b.apt_packages}
    with_cuda = {a for b in gaps.source_builds if b.cuda for a in b.apt_packages}
    extensions = {canonical(n) for n in (*options.cuda_extensions, *gaps.cuda_extensions)}
    pure = {canonical(b.name) for b in gaps.source_builds
            if not b.toolchains and not b.apt_packages and not b.cuda}
    return replace(
        options,
        apt_build=tuple(sorted({*options.apt_build, *plain})),
        apt_cuda_build=tuple(sorted({*options.apt_cuda_build, *with_cuda})),
        apt_runtime=tuple(sorted({*options.apt_runtime, *gaps.system_libraries})),
        cuda_extensions=tuple(sorted(extensions)),
        pure_python_builds=tuple(sorted({*options.pure_python_builds, *pure})),
    )
