"""The ``pip`` stage: locked pip packages, hash-checked, in a prefix layer of their own, so a
change to one pip package never reinstalls the conda world."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from conda2docker.image import PIP_CACHE, PIP_PREFIX, STAGING, VENDOR_DIR
from conda2docker.model import LockedPackage
from conda2docker.plan.builds import (
    CREDENTIALS_NOTE,
    authed_source,
    credential_args,
    requirement_line,
    vendored_pip_path,
)
from conda2docker.plan.instructions import Arg, Command, Copy, Instruction, Run, Shell
from conda2docker.plan.types import ContextFile, Part, PlanOptions, Stage, VendorItem
from conda2docker.values import frozen

REQUIREMENTS = "requirements.pip.txt"


def _lines(options: PlanOptions, registry: Sequence[LockedPackage]) -> tuple[list[str], list[VendorItem]]:
    """Requirement lines of the registry wheels, and their vendored copies with ``--vendor``."""
    lines: list[str] = []
    vendor: list[VendorItem] = []
    for package in sorted(registry, key=lambda p: p.name.lower()):
        source = package.url
        if options.vendor:
            dest = vendored_pip_path(package)
            vendor.append(VendorItem(package.url, dest, None, package.sha256))
            source = f"file://{STAGING}/{dest.removeprefix(VENDOR_DIR + '/')}"
        else:
            source = authed_source(source, options)
        lines.append(requirement_line(package, source))
    return lines, vendor


@frozen
class _Requirements:
    """The pip requirement files of a plan and the steps that install them."""
    files: tuple[ContextFile, ...]
    steps: tuple[Instruction, ...]
    """What puts the requirement file into the stage, as ``{STAGING}/requirements.pip.txt``."""
    lines: tuple[str, ...]
    vendor: tuple[VendorItem, ...]


def _requirement_files(options: PlanOptions, registry: Sequence[LockedPackage],
                       per_platform: Mapping[str, Sequence[LockedPackage]]) -> _Requirements:
    """The requirement file(s) in the context and the steps that put one into the stage.
    Several platforms whose wheels differ: one file per architecture, picked as the env stage
    picks its lock."""
    from conda2docker.plan.env import ARCH_ARG
    from conda2docker.platforms import check_target

    made = {options.platform: _lines(options, registry)}
    if options.multiarch:
        made = {p: _lines(options, per_platform.get(p, ())) for p in options.platforms}
    vendor = tuple(dict.fromkeys(item for _, items in made.values() for item in items))
    if len({tuple(lines) for lines, _ in made.values()}) == 1:
        lines = next(iter(made.values()))[0]
        path = f"{options.support_dir}/{REQUIREMENTS}"
        return _Requirements((ContextFile(path, ("\n".join(lines) + "\n").encode()),),
                             (Copy((path,), f"{STAGING}/"),), tuple(lines), vendor)
    stem = REQUIREMENTS.removesuffix(".txt")
    files = tuple(ContextFile(f"{options.support_dir}/{stem}-{check_target(p).docker_arch}.txt",
                              ("\n".join(lines) + "\n").encode()) for p, (lines, _) in made.items())
    default = check_target(options.platforms[0]).docker_arch
    source = f"{options.support_dir}/{stem}-${{{ARCH_ARG}:-{default}}}.txt"
    steps = (Arg(ARCH_ARG), Copy((source,), f"{STAGING}/{REQUIREMENTS}", arg_sources=True))
    return _Requirements(files, steps, tuple(line for lines, _ in made.values() for line in lines), vendor)


def pip_part(options: PlanOptions, registry: Sequence[LockedPackage], has_built: bool,
             per_platform: Mapping[str, Sequence[LockedPackage]] | None = None) -> Part:
    """Install the registry wheels (and the ``wheels`` stage's builds) into their own prefix,
    which the runtime copies over the conda prefix. ``per_platform``: each image platform's
    wheels, when one Dockerfile serves several."""
    python = f"{options.prefix}/bin/python"
    install = [python, "-m", "pip", "install", "--no-deps", "--no-index", "--disable-pip-version-check",
               "--prefix", PIP_PREFIX, "--no-warn-script-location"]
    steps: list[Instruction] = []
    commands: list[Command] = []
    context: list[ContextFile] = []
    vendor: list[VendorItem] = []
    notes: list[str] = []
    if registry or any(per_platform.values() if per_platform else ()):
        requirements = _requirement_files(options, registry, per_platform or {})
        context += requirements.files
        steps += requirements.steps
        vendor += requirements.vendor
        lines = list(requirements.lines)
        if options.vendor:
            steps.append(Copy((f"{VENDOR_DIR}/pip",), f"{STAGING}/pip"))
        commands.append((*install, "--require-hashes", "-r", f"{STAGING}/{REQUIREMENTS}"))
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
