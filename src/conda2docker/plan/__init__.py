"""plan: ``Lock`` + audit gaps + options → ``BuildPlan`` (stages of typed instructions; no text,
no I/O). Renderers (``conda2docker.render``) turn one plan into a Dockerfile, an Apptainer
definition and the files around them.

Stages, each only when needed:

* ``env``       installs exactly the locked conda packages into the prefix (micromamba or
                py-rattler), hashes verified, caches removed;
* ``wheels``    builds sdist-only, ``git+`` and local pip packages into wheels, with the
                compilers and headers the audit names;
* ``pip``       installs the locked pip packages (hash-checked) into a separate prefix layer,
                so a change to one pip package never reinstalls the conda world;
* ``cuda-ext``  (GPU variant) compiles CUDA extensions with nvcc, from a CUDA devel image or
                conda's ``cuda-nvcc``, into a layer of its own;
* ``runtime``   slim base, non-root user, only the prefix (+ the pip and cuda-ext layers).

Each stage builder returns a :class:`Part` (its stage, what the runtime copies from it, its
context files, vendored items, notes and build args); :func:`assemble` builds the runtime stage
from the parts. This package face only hands names on: the work is in its modules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from conda2docker.faces import lazy_names

if TYPE_CHECKING:
    from conda2docker.choices import Installer
    from conda2docker.image import (
        CUDA_EXT_PREFIX,
        PIP_PREFIX,
        SOURCES_DIR,
        STAGING,
        SUPPORT_DIR,
        SYSTEM_PATH,
        VENDOR_DIR,
        Variant,
    )
    from conda2docker.plan.builds import vendored_pip_path
    from conda2docker.plan.env import explicit_lock_name, vendored_package_path
    from conda2docker.plan.instructions import Comment, PlanError
    from conda2docker.plan.make import assemble, checked_options, lock_digest, lock_parts, make_plan
    from conda2docker.plan.runtime import ACTIVATION_VARIABLES, activation_environment
    from conda2docker.plan.types import (
        DEFAULT_BUILD_IMAGE,
        DEFAULT_MICROMAMBA_IMAGE,
        DEFAULT_PYTHON_IMAGE,
        DEFAULT_RATTLER_VERSION,
        DEFAULT_RUNTIME_IMAGE,
        BuildPlan,
        ContextFile,
        Part,
        PlanOptions,
        RuntimeFacts,
        Stage,
        VendorItem,
    )

_HOMES = {
    "ACTIVATION_VARIABLES": "conda2docker.plan.runtime",
    "BuildPlan": "conda2docker.plan.types",
    "CUDA_EXT_PREFIX": "conda2docker.image",
    "Comment": "conda2docker.plan.instructions",
    "ContextFile": "conda2docker.plan.types",
    "DEFAULT_BUILD_IMAGE": "conda2docker.plan.types",
    "DEFAULT_MICROMAMBA_IMAGE": "conda2docker.plan.types",
    "DEFAULT_PYTHON_IMAGE": "conda2docker.plan.types",
    "DEFAULT_RATTLER_VERSION": "conda2docker.plan.types",
    "DEFAULT_RUNTIME_IMAGE": "conda2docker.plan.types",
    "Installer": "conda2docker.choices",
    "PIP_PREFIX": "conda2docker.image",
    "Part": "conda2docker.plan.types",
    "PlanError": "conda2docker.plan.instructions",
    "PlanOptions": "conda2docker.plan.types",
    "RuntimeFacts": "conda2docker.plan.types",
    "SOURCES_DIR": "conda2docker.image",
    "STAGING": "conda2docker.image",
    "SUPPORT_DIR": "conda2docker.image",
    "SYSTEM_PATH": "conda2docker.image",
    "Stage": "conda2docker.plan.types",
    "VENDOR_DIR": "conda2docker.image",
    "Variant": "conda2docker.image",
    "VendorItem": "conda2docker.plan.types",
    "activation_environment": "conda2docker.plan.runtime",
    "assemble": "conda2docker.plan.make",
    "checked_options": "conda2docker.plan.make",
    "explicit_lock_name": "conda2docker.plan.env",
    "lock_digest": "conda2docker.plan.make",
    "lock_parts": "conda2docker.plan.make",
    "make_plan": "conda2docker.plan.make",
    "vendored_package_path": "conda2docker.plan.env",
    "vendored_pip_path": "conda2docker.plan.builds",
}
"""Where each name lives; a module is imported the first time one of its names is used."""

__all__ = [
    "ACTIVATION_VARIABLES",
    "CUDA_EXT_PREFIX",
    "DEFAULT_BUILD_IMAGE",
    "DEFAULT_MICROMAMBA_IMAGE",
    "DEFAULT_PYTHON_IMAGE",
    "DEFAULT_RATTLER_VERSION",
    "DEFAULT_RUNTIME_IMAGE",
    "PIP_PREFIX",
    "SOURCES_DIR",
    "STAGING",
    "SUPPORT_DIR",
    "SYSTEM_PATH",
    "VENDOR_DIR",
    "BuildPlan",
    "Comment",
    "ContextFile",
    "Installer",
    "Part",
    "PlanError",
    "PlanOptions",
    "RuntimeFacts",
    "Stage",
    "Variant",
    "VendorItem",
    "activation_environment",
    "assemble",
    "checked_options",
    "explicit_lock_name",
    "lock_digest",
    "lock_parts",
    "make_plan",
    "vendored_package_path",
    "vendored_pip_path",
]

__getattr__, __dir__ = lazy_names(__name__, _HOMES)
