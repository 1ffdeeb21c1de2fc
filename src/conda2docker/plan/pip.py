"""The ``pip`` stage: locked pip packages, hash-checked, in a prefix layer of their own, so a
change to one pip package never reinstalls the conda world."""

from __future__ import annotations

from collections.abc import Sequence

from conda2docker.image import PIP_CACHE, PIP_PREFIX, STAGING, VENDOR_DIR
from conda2docker.model import LockedPackage
from conda2docker.plan.builds import (
    CREDENTIALS_NOTE,
    authed_source,
    credential_args,
    requirement_line,
    vendored_pip_path,
)
from conda2docker.plan.instructions import Command, Copy, Instruction, Run, Shell
from conda2docker.plan.types import ContextFile, Part, PlanOptions, Stage, VendorItem


def pip_part(options: PlanOptions, registry: Sequence[LockedPackage], has_built: bool) -> Part:
    """Install the registry wheels (and the ``wheels`` stage's builds) into their own prefix,
    which the runtime copies over the conda prefix."""
    python = f"{options.prefix}/bin/python"
    install = [python, "-m", "pip", "install", "--no-deps", "--no-index", "--disable-pip-version-check",
               "--prefix", PIP_PREFIX, "--no-warn-script-location"]
    steps: list[Instruction] = []
    commands: list[Command] = []
    context: list[ContextFile] = []
    vendor: list[VendorItem] = []
    notes: list[str] = []
    if registry:
        lines = []
        for package in sorted(registry, key=lambda p: p.name.lower()):
            source = package.url
            if options.vendor:
                dest = vendored_pip_path(package)
                vendor.append(VendorItem(package.url, dest, None, package.sha256))
                source = f"file://{STAGING}/{dest.removeprefix(VENDOR_DIR + '/')}"
            else:
                source = authed_source(source, options)
            lines.append(requirement_line(package, source))
        name = "requirements.pip.txt"
        context.append(ContextFile(f"{options.support_dir}/{name}", ("\n".join(lines) + "\n").encode()))
        steps.append(Copy((f"{options.support_dir}/{name}",), f"{STAGING}/"))
        if options.vendor:
            steps.append(Copy((f"{VENDOR_DIR}/pip",), f"{STAGING}/pip"))
        commands.append((*install, "--require-hashes", "-r", f"{STAGING}/{name}"))
        secrets = credential_args(lines)
        if secrets:
            steps += secrets
            notes.append(CREDENTIALS_NOTE.format(
                stage="pip", names=", ".join(a.name for a in secrets), first=secrets[0].name))
    if has_built:
        steps.append(Copy((f"{STAGING}/wheels",), f"{STAGING}/wheels", from_stage="wheels"))
        commands.append(Shell(" ".join([*install, f"{STAGING}/wheels/*.whl"])))
    commands.append(("rm", "-rf", STAGING))
    steps.append(Run(tuple(commands), cache_mounts=(PIP_CACHE,)))
    purpose = "installs the locked pip packages (hash-checked) into a layer of their own"
    stage = Stage("pip", "env", purpose, tuple(steps), provides=(PIP_PREFIX,))
    copy = Copy((f"{PIP_PREFIX}/",), f"{options.prefix}/", from_stage=stage.name)
    return Part(stage, runtime_copies=(copy,), context=tuple(context), vendor=tuple(vendor),
                notes=tuple(notes))
