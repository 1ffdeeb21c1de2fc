"""The image contract: every path, label, user and file name that the plan writes into an
image or a build context and that ``build``/``verify`` read back. One home, no behaviour.

The plan (``plan/``, ``init/stages.py``), the renderers (``render/``), the context writer
(``context.py``), the engine (``engine/``) and the checks (``verify_checks.py``) import these
names; none of them spells a value of its own. ``tests/test_image_contract.py`` proves that what
``verify`` expects follows from what the plan writes.

A leaf module: it imports nothing of conda2docker.
"""

from __future__ import annotations

from typing import Literal

Variant = Literal["cpu", "gpu"]
VARIANTS: tuple[Variant, ...] = ("cpu", "gpu")

# ---------------------------------------------------------------- paths inside the image

PREFIX = "/opt/env"
"""The conda environment (``CONDA_PREFIX``); the runtime copies it from the ``env`` stage."""
STAGING = "/tmp/c2d"
"""Where build stages put the context's support files; removed before a stage ends."""
PIP_PREFIX = "/opt/pip"
"""The ``pip`` stage's layer, copied over the prefix by the runtime."""
CUDA_EXT_PREFIX = "/opt/cuda-ext"
"""The ``cuda-ext`` stage's layer, copied over the prefix by the runtime."""
PROJECT_PREFIX = "/opt/project"
"""``init``'s ``project`` stage layer (the repository's own packages)."""
BOOTSTRAP_PREFIX = "/opt/c2d-bootstrap"
"""The vendored bootstrap Python of the rattler installer (removed after installing)."""
CONDA_PKGS_DIR = "/opt/conda/pkgs"
"""micromamba's package cache in the ``env`` stage (a BuildKit cache mount)."""
PIP_CACHE = "/root/.cache/pip"
"""pip's cache in compile stages (a BuildKit cache mount)."""
CUDA_HOME = "/usr/local/cuda"
"""CUDA's home in an ``nvidia/cuda`` devel image."""
APPTAINER_STAGING = "/opt/c2d-staging"
""":data:`STAGING` in an Apptainer definition: Apptainer binds the host's ``/tmp`` and
``/var/tmp`` over the container's during ``%post``, hiding what ``%files`` put there."""
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

BUILD_LEFTOVERS: tuple[str, ...] = (STAGING, BOOTSTRAP_PREFIX, PIP_PREFIX)
"""Paths a build stage may leave that a runtime image must never carry (``verify`` checks)."""

# ---------------------------------------------------------------- the runtime user

USER_NAME = "app"
UID = 10001
GID = 10001


def home_dir(user_name: str = USER_NAME) -> str:
    return f"/home/{user_name}"


def work_dir(user_name: str = USER_NAME) -> str:
    """The runtime's ``WORKDIR`` (owned by the user)."""
    return f"{home_dir(user_name)}/work"


JUPYTER_PORT = 8888

# ---------------------------------------------------------------- base images (build args)

RUNTIME_IMAGE = "debian:bookworm-slim"
MICROMAMBA_IMAGE = "mambaorg/micromamba:2.0.5-debian12-slim"
PYTHON_IMAGE = "python:3.12-slim-bookworm"
BUILD_IMAGE = "buildpack-deps:bookworm"
RUNTIME_GLIBC = "2.36"
"""glibc of :data:`RUNTIME_IMAGE` (Debian bookworm): the ``__glibc`` the solve targets."""

# ---------------------------------------------------------------- labels

LABEL_TITLE = "org.opencontainers.image.title"
LABEL_DESCRIPTION = "org.opencontainers.image.description"
LABEL_SOURCE = "org.opencontainers.image.source"
LABEL_LOCK_SHA256 = "io.conda2docker.lock.sha256"
"""sha256 of the conda-lock.yml the image was built from (``verify`` compares)."""
LABEL_VARIANT = "io.conda2docker.variant"
"""``cpu`` or ``gpu``: which Dockerfile of the context built the image."""
LABEL_CUDA = "io.conda2docker.cuda"
LABEL_VERSION = "io.conda2docker.version"

# ---------------------------------------------------------------- the build context

SUPPORT_DIR = "conda2docker"
"""Support files of the CPU variant; the GPU variant's are in ``conda2docker/gpu``."""
VENDOR_DIR = "vendor"
SOURCES_DIR = "sources"
DOCKERFILE_NAMES: dict[Variant, str] = {"cpu": "Dockerfile", "gpu": "Dockerfile.gpu"}
DEFINITION_NAMES: dict[Variant, str] = {"cpu": "conda2docker.def", "gpu": "conda2docker.gpu.def"}
LOCK_NAMES: dict[Variant, str] = {"cpu": "conda-lock.yml", "gpu": "conda-lock.gpu.yml"}
AUDIT_NAMES: dict[Variant, str] = {"cpu": "audit.md", "gpu": "audit.gpu.md"}
BUILD_LOG = "build.log"
BAKE_FILE = "docker-bake.hcl"
"""In the output directory of ``convert``: BuildKit's bake file, one target per environment and
variant, contexts relative to that directory (``docker buildx bake`` runs from it)."""
BAKE_CACHE_DIR = ".buildx-cache"
"""In the output directory: ``convert --cache local`` keeps one cache directory per bake target."""
ACTIVATION_FILE = "activation.env"
"""In a variant's support directory: the activation variables measured from the packages'
activate.d scripts, for one lock (``activation.py``)."""
ACTIVATION_LOG = "build-activation.log"
"""The log of the ``env`` stage build that ``convert --vendor`` measures activation in."""


def support_dir(variant: Variant) -> str:
    return SUPPORT_DIR if variant == "cpu" else f"{SUPPORT_DIR}/gpu"


def dockerfile_name(variant: str | None) -> str:
    """The Dockerfile of a variant (``gpu`` → ``Dockerfile.gpu``, anything else the CPU one)."""
    return DOCKERFILE_NAMES["gpu" if variant == "gpu" else "cpu"]


BAKE_LOG = "bake.log"
"""In the output directory: the log of ``build OUT --bake`` (buildx's plain progress, or the
Engine API fallback's summary)."""
BAKE_METADATA = "bake-metadata.json"
"""In the output directory: what ``docker buildx bake --metadata-file`` reports per target."""


def target_log(target: str) -> str:
    """In a target's context: the log of that bake target built through the Engine API."""
    return f"build.{target}.log"
