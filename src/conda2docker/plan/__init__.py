"""plan: ``Lock`` + options → ``BuildPlan`` (stages of typed instructions; no text, no I/O).

Stages, each only when needed:

* ``env``      installs exactly the locked conda packages into the prefix (micromamba or
               py-rattler), hashes verified, caches removed;
* ``wheels``   builds sdist-only, ``git+`` and local pip packages into wheels, with compilers;
* ``pip``      installs the locked pip packages (hash-checked) into a separate prefix layer,
               so a change to one pip package never reinstalls the conda world;
* ``runtime``  slim base, non-root user, only the prefix (+ the pip layer).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from conda2docker import __version__
from conda2docker.model import EnvSpec, Lock, LockedPackage
from conda2docker.plan.instructions import (
    AddArchive,
    Arg,
    Cmd,
    Comment,
    Copy,
    Env,
    Instruction,
    Label,
    PlanError,
    Run,
    Shell,
    User,
    Workdir,
    check_image,
    check_stage_name,
)

Installer = Literal["micromamba", "rattler"]
Variant = Literal["cpu", "gpu"]

SUPPORT_DIR = "conda2docker"
VENDOR_DIR = "vendor"
SOURCES_DIR = "sources"
STAGING = "/tmp/c2d"
PIP_PREFIX = "/opt/pip"

DEFAULT_RUNTIME_IMAGE = "debian:bookworm-slim"
DEFAULT_MICROMAMBA_IMAGE = "mambaorg/micromamba:2.0.5-debian12-slim"
DEFAULT_PYTHON_IMAGE = "python:3.12-slim-bookworm"
DEFAULT_BUILD_IMAGE = "buildpack-deps:bookworm"
DEFAULT_RATTLER_VERSION = "0.28.0"

_DEBIAN_PACKAGE = re.compile(r"^[a-z0-9][a-z0-9+.\-]+$")
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True, slots=True)
class PlanOptions:
    installer: Installer = "micromamba"
    vendor: bool = False
    variant: Variant = "cpu"
    platform: str = "linux-64"
    prefix: str = "/opt/env"
    runtime_image: str = DEFAULT_RUNTIME_IMAGE
    micromamba_image: str = DEFAULT_MICROMAMBA_IMAGE
    python_image: str = DEFAULT_PYTHON_IMAGE
    build_image: str = DEFAULT_BUILD_IMAGE
    rattler_version: str = DEFAULT_RATTLER_VERSION
    uid: int = 10001
    gid: int = 10001
    user_name: str = "app"
    buildkit: bool = False
    source_label: str | None = None
    lock_digest: str | None = None
    cuda_version: str | None = None
    apt_runtime: tuple[str, ...] = ()
    apt_build: tuple[str, ...] = ()
    command: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Stage:
    name: str
    base: str
    """An image reference (``${ARG}`` allowed) or the name of an earlier stage."""
    purpose: str
    instructions: tuple[Instruction, ...]

    def __post_init__(self) -> None:
        check_stage_name(self.name)


@dataclass(frozen=True, slots=True)
class ContextFile:
    """A file the plan needs in the build context, relative to the context root."""

    path: str
    content: bytes


@dataclass(frozen=True, slots=True)
class VendorItem:
    """A file to fetch into the context, verified against its hash (``--vendor``)."""

    url: str
    dest: str
    md5: str | None = None
    sha256: str | None = None


@dataclass(frozen=True, slots=True)
class BuildPlan:
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
    prefix: str = "/opt/env"
    python_version: str | None = None
    buildkit: bool = False

    def stage(self, name: str) -> Stage | None:
        return next((s for s in self.stages if s.name == name), None)


def lock_digest(lock_bytes: bytes) -> str:
    return hashlib.sha256(lock_bytes).hexdigest()


def explicit_lock_name(platform: str) -> str:
    return f"conda-{platform}.lock"


def vendored_package_path(package: LockedPackage) -> str:
    """Where a vendored conda package sits in the context."""
    return f"{VENDOR_DIR}/channel/{package.subdir}/{package.file_name}"


def vendored_pip_path(package: LockedPackage) -> str:
    return f"{VENDOR_DIR}/pip/{package.file_name}"


def _python_version(conda: Sequence[LockedPackage]) -> str | None:
    python = next((p for p in conda if p.name == "python"), None)
    return python.version if python else None


def _default_command(lock: Lock, platform: str, prefix: str) -> tuple[str, ...] | None:
    names = {p.name for p in lock.for_platform(platform)}
    if {"jupyterlab"} & names:
        return (f"{prefix}/bin/jupyter", "lab", "--ip=0.0.0.0", "--no-browser")
    if "python" in names:
        return (f"{prefix}/bin/python",)
    return None


# Variables that conda activation scripts of common packages set; the image sets them
# with ENV so that no activation (and no shell wrapper) is needed.
ACTIVATION_VARIABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "gdal": (("GDAL_DATA", "{prefix}/share/gdal"), ("GDAL_DRIVER_PATH", "{prefix}/lib/gdalplugins")),
    "libgdal": (("GDAL_DATA", "{prefix}/share/gdal"), ("GDAL_DRIVER_PATH", "{prefix}/lib/gdalplugins")),
    "libgdal-core": (("GDAL_DATA", "{prefix}/share/gdal"),),
    "proj": (("PROJ_DATA", "{prefix}/share/proj"), ("PROJ_NETWORK", "ON")),
    "openjdk": (("JAVA_HOME", "{prefix}/lib/jvm"),),
    "r-base": (("R_HOME", "{prefix}/lib/R"),),
    "geotiff": (("GEOTIFF_CSV", "{prefix}/share/epsg_csv"),),
    "udunits2": (("UDUNITS2_XML_PATH", "{prefix}/share/udunits/udunits2.xml"),),
    "esmf": (("ESMFMKFILE", "{prefix}/lib/esmf.mk"),),
    "xerces-c": (),
}


def activation_environment(lock: Lock, platform: str, prefix: str) -> list[tuple[str, str]]:
    names = {p.name for p in lock.conda_packages(platform)}
    pairs: dict[str, str] = {}
    for package in sorted(names & ACTIVATION_VARIABLES.keys()):
        for key, value in ACTIVATION_VARIABLES[package]:
            pairs.setdefault(key, value.format(prefix=prefix))
    return sorted(pairs.items())


def make_plan(spec: EnvSpec | None, lock: Lock, options: PlanOptions) -> BuildPlan:
    """Turn a lock into the stages that build its image."""
    platform = options.platform
    if platform not in lock.platforms:
        raise PlanError(
            f"the lock has no packages for {platform} (it covers {', '.join(lock.platforms)})"
        )
    for image in (options.runtime_image, options.micromamba_image, options.python_image,
                  options.build_image):
        check_image(image)
    conda = lock.conda_packages(platform)
    pip = lock.pip_packages(platform)
    prefix = options.prefix
    python_version = _python_version(conda)
    if pip and python_version is None:
        raise PlanError("the lock has pip packages but no python conda package")
    if pip and not any(p.name == "pip" for p in conda):
        raise PlanError("the lock has pip packages but no pip conda package: add pip to the environment")

    registry = [p for p in pip if p.artifact == "wheel"]
    to_build = [p for p in pip if p.artifact in ("sdist", "vcs", "path")]

    args: list[Arg] = [Arg("RUNTIME_IMAGE", options.runtime_image)]
    if options.installer == "micromamba":
        args.append(Arg("MICROMAMBA_IMAGE", options.micromamba_image))
    elif not options.vendor:
        args.append(Arg("PYTHON_IMAGE", options.python_image))
    if to_build:
        args.append(Arg("BUILD_IMAGE", options.build_image))

    context: list[ContextFile] = []
    vendor: list[VendorItem] = []
    stages: list[Stage] = []

    from conda2docker.lockfile import render_explicit

    explicit = render_explicit(_with_local_urls(lock, platform) if options.vendor else lock, platform)
    lock_name = explicit_lock_name(platform)
    context.append(ContextFile(f"{SUPPORT_DIR}/{lock_name}", explicit.encode()))
    if options.vendor:
        vendor += [
            VendorItem(p.url, vendored_package_path(p), p.md5, p.sha256) for p in conda
        ]

    stages.append(_env_stage(options, lock_name, context))

    if to_build:
        stages.append(_wheels_stage(options, to_build, context, vendor))
    if pip:
        stages.append(_pip_stage(options, registry, bool(to_build), context, vendor))

    stages.append(_runtime_stage(spec, lock, options, has_pip=bool(pip)))

    header = _header(spec, options, [s for s in stages])
    return BuildPlan(
        variant=options.variant,
        platform=platform,
        installer=options.installer,
        vendored=options.vendor,
        header=header,
        args=tuple(args),
        stages=tuple(stages),
        context_files=tuple(sorted(context, key=lambda f: f.path)),
        vendor_items=tuple(sorted(vendor, key=lambda v: v.dest)),
        needs_bootstrap=options.vendor and options.installer == "rattler",
        prefix=prefix,
        python_version=python_version,
        buildkit=options.buildkit,
    )


def _with_local_urls(lock: Lock, platform: str) -> Lock:
    from dataclasses import replace

    packages = tuple(
        replace(p, url=f"file://{STAGING}/{vendored_package_path(p).removeprefix(VENDOR_DIR + '/')}")
        if p.manager == "conda" and p.platform == platform
        else p
        for p in lock.packages
    )
    return replace(lock, packages=packages)


def _env_stage(options: PlanOptions, lock_name: str, context: list[ContextFile]) -> Stage:
    prefix = options.prefix
    lock_in_image = f"{STAGING}/{lock_name}"
    steps: list[Instruction] = []
    if options.installer == "micromamba":
        base = "${MICROMAMBA_IMAGE}"
        steps.append(User("root"))
        steps.append(Copy((f"{SUPPORT_DIR}/{lock_name}",), lock_in_image))
        if options.vendor:
            steps.append(Copy((f"{VENDOR_DIR}/channel",), f"{STAGING}/channel"))
        steps.append(
            Run(
                (
                    ("micromamba", "create", "--yes", "--prefix", prefix, "--file", lock_in_image),
                    ("micromamba", "clean", "--all", "--force-pkgs-dirs", "--yes"),
                    ("rm", "-rf", STAGING),
                ),
                cache_mounts=("/opt/conda/pkgs",),
            )
        )
        purpose = "installs exactly the locked conda packages into the prefix with micromamba (md5 verified)"
        return Stage("env", base, purpose, tuple(steps))

    from importlib.resources import files

    installer_script = files("conda2docker").joinpath("data/install_lock.py").read_bytes()
    context.append(ContextFile(f"{SUPPORT_DIR}/install_lock.py", installer_script))
    support = (f"{SUPPORT_DIR}/install_lock.py", f"{SUPPORT_DIR}/{lock_name}")
    if options.vendor:
        bootstrap = "/opt/c2d-bootstrap"
        steps.append(AddArchive(f"{VENDOR_DIR}/bootstrap-python.tar.gz", bootstrap))
        steps.append(Copy((f"{VENDOR_DIR}/py-rattler",), f"{STAGING}/py-rattler"))
        steps.append(Copy((f"{VENDOR_DIR}/cacert.pem",), f"{STAGING}/"))
        steps.append(Copy((f"{VENDOR_DIR}/channel",), f"{STAGING}/channel"))
        steps.append(Copy(support, f"{STAGING}/"))
        steps.append(
            Run(
                (
                    Shell(
                        f"{bootstrap}/bin/python -m zipfile -e {STAGING}/py-rattler/*.whl "
                        f"{STAGING}/site"
                    ),
                    Shell(
                        f"SSL_CERT_FILE={STAGING}/cacert.pem PYTHONPATH={STAGING}/site "
                        f"{bootstrap}/bin/python {STAGING}/install_lock.py {lock_in_image} {prefix}"
                    ),
                    ("rm", "-rf", STAGING, bootstrap),
                )
            )
        )
        base = "${RUNTIME_IMAGE}"
        purpose = ("installs exactly the locked conda packages into the prefix with py-rattler, "
                   "offline from the vendored packages (md5 verified)")
    else:
        base = "${PYTHON_IMAGE}"
        steps.append(
            Run(
                (("python", "-m", "pip", "install", "--no-cache-dir",
                  f"py-rattler=={options.rattler_version}"),),
            )
        )
        steps.append(Copy(support, f"{STAGING}/"))
        steps.append(
            Run(
                (
                    ("python", f"{STAGING}/install_lock.py", lock_in_image, prefix),
                    ("rm", "-rf", STAGING),
                )
            )
        )
        purpose = "installs exactly the locked conda packages into the prefix with py-rattler (md5 verified)"
    return Stage("env", base, purpose, tuple(steps))


def _requirement_line(package: LockedPackage, source: str) -> str:
    suffix = f" --hash=sha256:{package.sha256}" if package.sha256 else ""
    return f"{package.name} @ {source}{suffix}"


def _wheels_stage(
    options: PlanOptions,
    packages: Sequence[LockedPackage],
    context: list[ContextFile],
    vendor: list[VendorItem],
) -> Stage:
    prefix = options.prefix
    steps: list[Instruction] = [Copy((prefix,), prefix, from_stage="env")]
    if options.apt_build:
        steps.append(_apt_install(options.apt_build))
    lines = []
    sources: list[str] = []
    for package in sorted(packages, key=lambda p: p.name):
        if package.artifact == "path":
            local = f"{SOURCES_DIR}/{package.name}"
            sources.append(local)
            lines.append(f"{STAGING}/{local}")
        elif options.vendor:
            dest = vendored_pip_path(package) if package.artifact == "sdist" else (
                f"{VENDOR_DIR}/src/{package.name}.tar.gz")
            vendor.append(VendorItem(package.url, dest, None, package.sha256))
            in_image = f"{STAGING}/{dest.removeprefix(VENDOR_DIR + '/')}"
            lines.append(f"{package.name} @ file://{in_image}"
                         + (f" --hash=sha256:{package.sha256}" if package.sha256 else ""))
        else:
            lines.append(_requirement_line(package, package.url) if package.artifact == "sdist"
                         else f"{package.name} @ {package.url}")
    requirements = "\n".join(lines) + "\n"
    context.append(ContextFile(f"{SUPPORT_DIR}/build-requirements.txt", requirements.encode()))
    steps.append(Copy((f"{SUPPORT_DIR}/build-requirements.txt",), f"{STAGING}/"))
    for local in sources:
        steps.append(Copy((local,), f"{STAGING}/{local}"))
    pip_wheel: list[str] = [f"{prefix}/bin/python", "-m", "pip", "wheel", "--no-deps",
                            "--wheel-dir", f"{STAGING}/wheels"]
    if options.vendor:
        steps.append(Copy((f"{VENDOR_DIR}/pip",), f"{STAGING}/pip"))
        steps.append(Copy((f"{VENDOR_DIR}/src",), f"{STAGING}/src"))
        pip_wheel += ["--no-index", "--find-links", f"{STAGING}/pip"]
    pip_wheel += ["-r", f"{STAGING}/build-requirements.txt"]
    steps.append(Run((tuple(pip_wheel),), cache_mounts=("/root/.cache/pip",)))
    purpose = ("builds wheels from sdists, git and local sources with compilers: "
               + ", ".join(p.name for p in sorted(packages, key=lambda p: p.name)))
    return Stage("wheels", "${BUILD_IMAGE}", purpose, tuple(steps))


def _pip_stage(
    options: PlanOptions,
    registry: Sequence[LockedPackage],
    has_built: bool,
    context: list[ContextFile],
    vendor: list[VendorItem],
) -> Stage:
    prefix = options.prefix
    steps: list[Instruction] = []
    python = f"{prefix}/bin/python"
    install = [python, "-m", "pip", "install", "--no-deps", "--no-compile", "--prefix", PIP_PREFIX,
               "--no-warn-script-location"]
    commands: list[tuple[str, ...] | Shell] = []
    if registry:
        lines = []
        for package in sorted(registry, key=lambda p: p.name):
            if options.vendor:
                dest = vendored_pip_path(package)
                vendor.append(VendorItem(package.url, dest, None, package.sha256))
                lines.append(_requirement_line(
                    package, f"file://{STAGING}/{dest.removeprefix(VENDOR_DIR + '/')}"))
            else:
                lines.append(_requirement_line(package, package.url))
        context.append(ContextFile(f"{SUPPORT_DIR}/requirements.pip.txt", ("\n".join(lines) + "\n").encode()))
        steps.append(Copy((f"{SUPPORT_DIR}/requirements.pip.txt",), f"{STAGING}/"))
        if options.vendor:
            steps.append(Copy((f"{VENDOR_DIR}/pip",), f"{STAGING}/pip"))
        commands.append(tuple([*install, "--require-hashes", "-r", f"{STAGING}/requirements.pip.txt"]))
    if has_built:
        steps.append(Copy((f"{STAGING}/wheels",), f"{STAGING}/wheels", from_stage="wheels"))
        commands.append(Shell(" ".join([*install, "--no-index", f"{STAGING}/wheels/*.whl"])))
    commands.append(("rm", "-rf", STAGING))
    steps.append(Run(tuple(commands), cache_mounts=("/root/.cache/pip",)))
    purpose = "installs the locked pip packages (hash-checked) into a layer of their own"
    return Stage("pip", "env", purpose, tuple(steps))


def _apt_install(packages: Sequence[str]) -> Run:
    for name in packages:
        if not _DEBIAN_PACKAGE.match(name):
            raise PlanError(f"invalid Debian package name {name!r}")
    return Run(
        (
            ("apt-get", "update"),
            ("apt-get", "install", "--yes", "--no-install-recommends", *sorted(packages)),
            Shell("rm -rf /var/lib/apt/lists/*"),
        )
    )


def _runtime_stage(spec: EnvSpec | None, lock: Lock, options: PlanOptions, *, has_pip: bool) -> Stage:
    prefix = options.prefix
    user = options.user_name
    steps: list[Instruction] = [
        Arg("APP_UID", str(options.uid)),
        Arg("APP_GID", str(options.gid)),
    ]
    if options.apt_runtime:
        steps.append(_apt_install(options.apt_runtime))
    steps.append(
        Run(
            (
                Shell(f'groupadd --system --gid "${{APP_GID}}" {user}'),
                Shell(
                    f'useradd --system --uid "${{APP_UID}}" --gid "${{APP_GID}}" '
                    f"--home-dir /home/{user} --create-home --shell /usr/sbin/nologin {user}"
                ),
            )
        )
    )
    steps.append(Copy((prefix,), prefix, from_stage="env"))
    if has_pip:
        steps.append(Copy((f"{PIP_PREFIX}/",), f"{prefix}/", from_stage="pip"))
    env: list[tuple[str, str]] = [
        ("PATH", f"{prefix}/bin:{SYSTEM_PATH}"),
        ("CONDA_PREFIX", prefix),
        ("LANG", "C.UTF-8"),
        ("PYTHONDONTWRITEBYTECODE", "1"),
    ]
    env += activation_environment(lock, options.platform, prefix)
    if options.variant == "gpu":
        env += [("NVIDIA_VISIBLE_DEVICES", "all"), ("NVIDIA_DRIVER_CAPABILITIES", "compute,utility")]
        if options.cuda_version:
            env.append(("NVIDIA_REQUIRE_CUDA", f"cuda>={options.cuda_version}"))
    if spec is not None:
        env += list(spec.variables)
    steps.append(Env(tuple(dict(env).items())))
    labels = [
        ("org.opencontainers.image.title", (spec.name if spec and spec.name else "conda environment")),
        ("org.opencontainers.image.description", "Built by conda2docker from a conda lock"),
    ]
    if options.source_label:
        labels.append(("org.opencontainers.image.source", options.source_label))
    if options.lock_digest:
        labels.append(("io.conda2docker.lock.sha256", options.lock_digest))
    labels.append(("io.conda2docker.variant", options.variant))
    labels.append(("io.conda2docker.version", __version__))
    steps.append(Label(tuple(labels)))
    steps.append(User("${APP_UID}:${APP_GID}"))
    steps.append(Workdir(f"/home/{user}"))
    command = options.command if options.command is not None else _default_command(
        lock, options.platform, prefix)
    if command:
        steps.append(Cmd(command))
    purpose = (f"slim {options.variant.upper()} runtime: only the prefix, non-root user "
               f"(UID {options.uid}), environment on PATH without activation")
    return Stage("runtime", "${RUNTIME_IMAGE}", purpose, tuple(steps))


def _header(spec: EnvSpec | None, options: PlanOptions, stages: Sequence[Stage]) -> tuple[str, ...]:
    source = spec.source.name if spec is not None else "a conda lock"
    lines = [
        f"Generated by conda2docker {__version__} from {source} ({options.platform}, "
        f"{options.variant.upper()} variant).",
        "This file is yours: edit it freely, or regenerate it with `conda2docker convert`.",
        "",
        "Stages:",
    ]
    width = max(len(s.name) for s in stages)
    lines += [f"  {s.name.ljust(width)}  {s.purpose}" for s in stages]
    lines += [
        "",
        "Build:  docker build -t IMAGE .",
        "        (or `conda2docker build .`; override bases with --build-arg RUNTIME_IMAGE=…)",
    ]
    return tuple(lines)


__all__ = [
    "BuildPlan",
    "Comment",
    "ContextFile",
    "PlanError",
    "PlanOptions",
    "Stage",
    "VendorItem",
    "make_plan",
]
