"""The ``env`` stage: exactly the locked conda packages in the prefix, hashes verified."""

from __future__ import annotations

from dataclasses import replace

from conda2docker.image import BOOTSTRAP_PREFIX as BOOTSTRAP
from conda2docker.image import CONDA_PKGS_DIR, STAGING, VENDOR_DIR
from conda2docker.model import Lock, LockedPackage
from conda2docker.plan.instructions import AddArchive, Copy, Instruction, Run, Shell, User
from conda2docker.plan.types import ContextFile, PlanOptions, Stage


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


def env_stage(options: PlanOptions, lock_name: str, context: list[ContextFile]) -> Stage:
    if options.installer == "micromamba":
        return _micromamba(options, lock_name)
    return _rattler(options, lock_name, context)


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


def _rattler(options: PlanOptions, lock_name: str, context: list[ContextFile]) -> Stage:
    from importlib.resources import files

    prefix = options.prefix
    lock_in_image = f"{STAGING}/{lock_name}"
    installer_script = files("conda2docker").joinpath("data/install_lock.py").read_bytes()
    context.append(ContextFile(f"{options.support_dir}/install_lock.py", installer_script))
    support = (f"{options.support_dir}/install_lock.py", f"{options.support_dir}/{lock_name}")
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
