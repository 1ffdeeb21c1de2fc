"""The plan's data: options in, stages and context files out. No behaviour, no I/O."""

from __future__ import annotations

from conda2docker import image
from conda2docker.choices import DEFAULT_INSTALLER, Installer
from conda2docker.image import Variant
from conda2docker.plan.instructions import Arg, Copy, Instruction, check_stage_name
from conda2docker.platforms import DEFAULT_PLATFORM
from conda2docker.values import frozen

DEFAULT_RUNTIME_IMAGE = image.RUNTIME_IMAGE
DEFAULT_MICROMAMBA_IMAGE = image.MICROMAMBA_IMAGE
DEFAULT_PYTHON_IMAGE = image.PYTHON_IMAGE
DEFAULT_BUILD_IMAGE = image.BUILD_IMAGE
DEFAULT_RATTLER_VERSION = "0.28.0"
DEFAULT_CUDA_ARCH_LIST = "7.0;7.5;8.0;8.6;8.9;9.0+PTX"


@frozen
class PlanOptions:
    """The choices a plan is made with (installer, images, user, platforms…)."""
    installer: Installer = DEFAULT_INSTALLER
    vendor: bool = False
    variant: Variant = "cpu"
    platform: str = DEFAULT_PLATFORM
    platforms: tuple[str, ...] = ()
    """Several: one Dockerfile for all of them (``platform`` is one of them), whose ``env`` stage
    picks the explicit lock of BuildKit's ``TARGETARCH`` (the legacy builder: the first's,
    unless ``--build-arg TARGETARCH=…``). Empty or one: the Dockerfile of ``platform`` alone."""

    @property
    def multiarch(self) -> bool:
        return len(self.platforms) > 1
    prefix: str = image.PREFIX
    runtime_image: str = DEFAULT_RUNTIME_IMAGE
    micromamba_image: str = DEFAULT_MICROMAMBA_IMAGE
    python_image: str = DEFAULT_PYTHON_IMAGE
    build_image: str = DEFAULT_BUILD_IMAGE
    cuda_devel_image: str | None = None
    """Base of the ``cuda-ext`` stage; None: the published ``nvidia/cuda`` devel image nearest
    ``cuda_version`` (:func:`conda2docker.cuda.images.choose_image`)."""
    rattler_version: str = DEFAULT_RATTLER_VERSION
    uid: int = image.UID
    gid: int = image.GID
    user_name: str = image.USER_NAME
    buildkit: bool = False
    source_label: str | None = None
    lock_digest: str | None = None
    cuda_version: str | None = None
    cuda_arch_list: str = DEFAULT_CUDA_ARCH_LIST
    apt_runtime: tuple[str, ...] = ()
    apt_build: tuple[str, ...] = ()
    apt_cuda_build: tuple[str, ...] = ()
    cuda_extensions: tuple[str, ...] = ()
    """pip packages whose builds compile CUDA kernels (the GPU variant builds them with nvcc)."""
    activation: tuple[tuple[str, str], ...] | None = None
    """Activation variables measured from the packages' activate.d scripts (in a container);
    None: the hand-kept table of ``plan/runtime.py``."""
    pure_python_builds: tuple[str, ...] = ()
    """Source builds the audit found to need no toolchain (pure Python): when every build is
    one of these, the ``wheels`` stage has no compilers (it builds on ``env``)."""
    command: tuple[str, ...] | None = None
    support_dir: str = image.SUPPORT_DIR
    """Where the variant's support files sit in the context (two variants share a context)."""
    index_auth: tuple[tuple[str, str], ...] = ()
    """``(host, "${USER}:${PASSWORD}")`` of the environment's indexes with credentials: the
    build's pip gets them from build args of those names (expanded by pip, never stored)."""


@frozen
class Stage:
    """One stage of the Dockerfile: its base and its instructions."""
    name: str
    base: str
    """An image reference (``${ARG}`` allowed) or the name of an earlier stage."""
    purpose: str
    instructions: tuple[Instruction, ...]
    provides: tuple[str, ...] = ()
    """Paths later stages take from this one (a stage built ``FROM`` it inherits them)."""

    def __post_init__(self) -> None:
        check_stage_name(self.name)


@frozen
class ContextFile:
    """A file the plan needs in the build context, relative to the context root."""

    path: str
    content: bytes


@frozen
class VendorItem:
    """A file to fetch into the context, verified against its hash (``--vendor``)."""

    url: str
    dest: str
    md5: str | None = None
    sha256: str | None = None


@frozen
class Part:
    """One stage and everything it brings to the plan (a building block).

    Stage builders return a part; :func:`conda2docker.plan.assemble` collects the parts'
    context files, vendored items, notes and build args, and builds the runtime stage from
    what each part asks it to copy. Adding a stage is one builder returning one part.
    """

    stage: Stage
    runtime_copies: tuple[Copy, ...] = ()
    """What the runtime stage copies from this stage (``COPY --from=<stage>``)."""
    copy_rank: int = 0
    """Runtime copies go in rank order, then part order: what changes most often last, so a
    change rebuilds the fewest layers."""
    runtime_steps: tuple[Instruction, ...] = ()
    """Steps of the runtime stage after its ``WORKDIR``, as the runtime user."""
    entrypoint: tuple[str, ...] | None = None
    """The runtime's exec-form ``ENTRYPOINT`` (wrapping ``CMD``)."""
    context: tuple[ContextFile, ...] = ()
    vendor: tuple[VendorItem, ...] = ()
    notes: tuple[str, ...] = ()
    args: tuple[Arg, ...] = ()
    """Global build args the stage's base needs (``BUILD_IMAGE``, …)."""


@frozen
class RuntimeFacts:
    """What the files around the Dockerfile (compose, Apptainer) need to know of the image."""

    uid: int = image.UID
    gid: int = image.GID
    workdir: str = image.home_dir()
    command: tuple[str, ...] | None = None
    jupyter: tuple[str, ...] | None = None
    """argv of the Jupyter server when the lock has jupyterlab or notebook."""


@frozen
class BuildPlan:
    """The whole Dockerfile to write, stage by stage, and the notes for the user."""
    variant: Variant
    platform: str
    installer: Installer
    vendored: bool
    header: tuple[str, ...]
    args: tuple[Arg, ...]
    stages: tuple[Stage, ...]
    context_files: tuple[ContextFile, ...] = ()
    vendor_items: tuple[VendorItem, ...] = ()
    needs_bootstrap: bool = False
    """The rattler installer in vendored mode needs a bootstrap Python archive in the context."""
    prefix: str = image.PREFIX
    python_version: str | None = None
    buildkit: bool = False
    runtime: RuntimeFacts = RuntimeFacts()
    notes: tuple[str, ...] = ()
    """Things the user should know about this plan (printed by ``convert``)."""
    platforms: tuple[str, ...] = ()
    """Several: the platforms this one Dockerfile builds for (``platform`` the default)."""

    @property
    def image_platforms(self) -> tuple[str, ...]:
        """Every platform the Dockerfile builds for, the default first."""
        return self.platforms or (self.platform,)

    def stage(self, name: str) -> Stage | None:
        return next((s for s in self.stages if s.name == name), None)

    def arg_default(self, name: str) -> str | None:
        return next((a.default for a in self.args if a.name == name), None)
