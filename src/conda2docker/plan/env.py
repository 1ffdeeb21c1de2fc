"""The ``env`` stage: exactly the locked conda packages in the prefix, hashes verified."""

from __future__ import annotations

from dataclasses import replace

from conda2docker.image import BOOTSTRAP_PREFIX as BOOTSTRAP
from conda2docker.image import CONDA_PKGS_DIR, STAGING, VENDOR_DIR
from conda2docker.model import Lock, LockedPackage
from conda2docker.plan.instructions import AddArchive, Arg, Copy, Instruction, Run, Shell, User
from conda2docker.plan.types import ContextFile, Part, PlanOptions, Stage, VendorItem


def explicit_lock_name(platform: str) -> str:
    return f"conda-{platform}.lock"


def vendored_package_path(package: LockedPackage) -> str:
    """Where a vendored conda package sits in the context."""
    return f"{VENDOR_DIR}/channel/{package.subdir}/{package.file_name}"


def with_local_urls(lock: Lock, platform: str) -> Lock:
    """The lock with each conda URL pointing at its vendored copy inside the build."""
    packages = tuple(
        replace(p, url=f"file://{STAGING}/{vendored_package_path(p).removeprefix(VENDOR_DIR + '/')}")
        if p.manager == "conda" and p.platform == platform
        else p
        for p in lock.packages
    )
    return replace(lock, packages=packages)


def env_part(lock: Lock, options: PlanOptions) -> Part:
    """The explicit lock of the platform's conda packages (their vendored copies with
    ``--vendor``), installed into the prefix; the runtime copies the prefix."""
    from conda2docker.lockfile import render_explicit

    platform = options.platform
    explicit = render_explicit(with_local_urls(lock, platform) if options.vendor else lock, platform)
    lock_name = explicit_lock_name(platform)
    context = [ContextFile(f"{options.support_dir}/{lock_name}", explicit.encode())]
    vendor = tuple(VendorItem(p.url, vendored_package_path(p), p.md5, p.sha256)
                   for p in lock.conda_packages(platform)) if options.vendor else ()
    args: tuple[Arg, ...]
    if options.installer == "micromamba":
        stage = _micromamba(options, lock_name)
        args = (Arg("MICROMAMBA_IMAGE", options.micromamba_image),)
    else:
        script = _installer_script(options)
        context.append(script)
        stage = _rattler(options, lock_name, script.path)
        args = () if options.vendor else (Arg("PYTHON_IMAGE", options.python_image),)
    copy = Copy((options.prefix,), options.prefix, from_stage=stage.name)
    return Part(stage, runtime_copies=(copy,), context=tuple(context), vendor=vendor, args=args)


def _installer_script(options: PlanOptions) -> ContextFile:
    from importlib.resources import files

    script = files("conda2docker").joinpath("data/install_lock.py").read_bytes()
    return ContextFile(f"{options.support_dir}/install_lock.py", script)


def _micromamba(options: PlanOptions, lock_name: str) -> Stage:
    lock_in_image = f"{STAGING}/{lock_name}"
    steps: list[Instruction] = [User("root"), Copy((f"{options.support_dir}/{lock_name}",), lock_in_image)]
    if options.vendor:
        steps.append(Copy((f"{VENDOR_DIR}/channel",), f"{STAGING}/channel"))
    steps.append(
        Run(
            (
                ("micromamba", "create", "--yes", "--prefix", options.prefix, "--file", lock_in_image),
                ("micromamba", "clean", "--all", "--force-pkgs-dirs", "--yes"),
                ("rm", "-rf", STAGING),
            ),
            cache_mounts=(CONDA_PKGS_DIR,),
        )
    )
    purpose = "installs exactly the locked conda packages into the prefix with micromamba (md5 verified)"
    return Stage("env", "${MICROMAMBA_IMAGE}", purpose, tuple(steps), provides=(options.prefix,))


def _rattler(options: PlanOptions, lock_name: str, script: str) -> Stage:
    prefix = options.prefix
    lock_in_image = f"{STAGING}/{lock_name}"
    support = (script, f"{options.support_dir}/{lock_name}")
    steps: list[Instruction] = []
    if options.vendor:
        steps.append(AddArchive(f"{VENDOR_DIR}/bootstrap-python.tar.gz", BOOTSTRAP))
        steps.append(Copy((f"{VENDOR_DIR}/py-rattler",), f"{STAGING}/py-rattler"))
        steps.append(Copy((f"{VENDOR_DIR}/cacert.pem",), f"{STAGING}/"))
        steps.append(Copy((f"{VENDOR_DIR}/channel",), f"{STAGING}/channel"))
        steps.append(Copy(support, f"{STAGING}/"))
        steps.append(
            Run(
                (
                    Shell(f"{BOOTSTRAP}/bin/python -m zipfile -e {STAGING}/py-rattler/*.whl {STAGING}/site"),
                    Shell(
                        f"SSL_CERT_FILE={STAGING}/cacert.pem PYTHONPATH={STAGING}/site "
                        f"{BOOTSTRAP}/bin/python {STAGING}/install_lock.py {lock_in_image} {prefix}"
                    ),
                    ("rm", "-rf", STAGING, BOOTSTRAP),
                )
            )
        )
        purpose = ("installs exactly the locked conda packages into the prefix with py-rattler, "
                   "offline from the vendored packages (md5 verified)")
        return Stage("env", "${RUNTIME_IMAGE}", purpose, tuple(steps), provides=(prefix,))
    steps.append(
        Run((("python", "-m", "pip", "install", "--no-cache-dir", f"py-rattler=={options.rattler_version}"),))
    )
    steps.append(Copy(support, f"{STAGING}/"))
    steps.append(Run((("python", f"{STAGING}/install_lock.py", lock_in_image, prefix), ("rm", "-rf", STAGING))))
    purpose = "installs exactly the locked conda packages into the prefix with py-rattler (md5 verified)"
    return Stage("env", "${PYTHON_IMAGE}", purpose, tuple(steps), provides=(prefix,))
