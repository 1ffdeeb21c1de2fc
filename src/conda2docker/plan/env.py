"""The ``env`` stage: exactly the locked conda packages in the prefix, hashes verified."""

from __future__ import annotations

from dataclasses import replace

from conda2docker.image import BOOTSTRAP_PREFIX as BOOTSTRAP
from conda2docker.image import CONDA_PKGS_DIR, STAGING, VENDOR_DIR
from conda2docker.model import Lock, LockedPackage
from conda2docker.plan.instructions import (
    AddArchive,
    Arg,
    Copy,
    Instruction,
    PlanError,
    Run,
    Shell,
    User,
)
from conda2docker.plan.types import ContextFile, Part, PlanOptions, Stage, VendorItem
from conda2docker.platforms import check_target

ARCH_ARG = "TARGETARCH"
"""BuildKit's automatic build arg naming the target's architecture (``amd64``, ``arm64``)."""
SELECTED_LOCK = "conda.lock"
"""Where a multi-platform ``env`` stage puts the explicit lock it picked."""


def explicit_lock_name(platform: str) -> str:
    return f"conda-{platform}.lock"


def arch_lock_name(platform: str) -> str:
    """The explicit lock of ``platform`` in a multi-platform context, named by the engine's
    architecture so ``conda-${TARGETARCH}.lock`` selects it."""
    return f"conda-{check_target(platform).docker_arch}.lock"


def selected_lock_source(options: PlanOptions) -> str:
    """``conda2docker/conda-${TARGETARCH:-amd64}.lock``: BuildKit sets ``TARGETARCH``; the legacy
    builder leaves it empty, so the first platform's lock is the default (``--build-arg
    TARGETARCH=arm64`` picks another). A default in ``ARG TARGETARCH=…`` would not do: BuildKit
    keeps an ``ARG``'s own default over its automatic value."""
    default = check_target(options.platforms[0]).docker_arch
    return f"{options.support_dir}/conda-${{{ARCH_ARG}:-{default}}}.lock"


def arch_check(lock_in_image: str) -> Shell:
    """Stop the build when the picked lock is not for the machine it runs on (the legacy
    builder on an arm64 engine without ``--build-arg TARGETARCH=arm64``), instead of installing
    another architecture's binaries. Under emulation ``uname -m`` is the emulated machine."""
    from conda2docker.platforms import KNOWN_PLATFORMS, TARGET_PLATFORMS

    arms = " ".join(f"{KNOWN_PLATFORMS[p].machine}) p={p} ;;" for p in TARGET_PLATFORMS)
    return Shell(
        f'case "$(uname -m)" in {arms} *) p=unknown ;; esac; '
        f'grep -qx "# platform: $p" {lock_in_image} || '
        f'{{ echo "conda2docker: {lock_in_image} is not for this machine ($p): give the legacy builder '
        f'--build-arg {ARCH_ARG}=<its architecture>" >&2; exit 1; }}')


def _lock_steps(options: PlanOptions, lock_name: str) -> tuple[list[Instruction], str]:
    """The steps that put the explicit lock into the stage, and where it is then."""
    if not options.multiarch:
        return [Copy((f"{options.support_dir}/{lock_name}",), f"{STAGING}/{lock_name}")], f"{STAGING}/{lock_name}"
    in_image = f"{STAGING}/{SELECTED_LOCK}"
    return [Arg(ARCH_ARG), Copy((selected_lock_source(options),), in_image, arg_sources=True)], in_image


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
    platforms = options.platforms if options.multiarch else (platform,)
    if options.multiarch and options.vendor and options.installer == "rattler":
        raise PlanError("--installer rattler --vendor bootstraps a Python of one platform: it cannot "
                        f"serve {', '.join(platforms)} from one Dockerfile",
                        fix="use --installer micromamba, or convert each --platform into its own output")
    context: list[ContextFile] = []
    for target in platforms:
        explicit = render_explicit(with_local_urls(lock, target) if options.vendor else lock, target)
        name = arch_lock_name(target) if options.multiarch else explicit_lock_name(target)
        context.append(ContextFile(f"{options.support_dir}/{name}", explicit.encode()))
    lock_name = explicit_lock_name(platform)
    vendor = tuple(VendorItem(p.url, vendored_package_path(p), p.md5, p.sha256)
                   for target in platforms for p in lock.conda_packages(target)) if options.vendor else ()
    secrets = () if options.vendor else channel_credentials(lock, platforms)
    args: tuple[Arg, ...]
    if options.installer == "micromamba":
        stage = _micromamba(options, lock_name, secrets)
        args = (Arg("MICROMAMBA_IMAGE", options.micromamba_image),)
    else:
        script = _installer_script(options)
        context.append(script)
        stage = _rattler(options, lock_name, script.path, secrets)
        args = () if options.vendor else (Arg("PYTHON_IMAGE", options.python_image),)
    copy = Copy((options.prefix,), options.prefix, from_stage=stage.name)
    notes = (channel_credentials_note(lock, options, platforms, secrets),) if secrets else ()
    return Part(stage, runtime_copies=(copy,), context=tuple(context), vendor=vendor, args=args,
                notes=notes)


def channel_credentials(lock: Lock, platforms: tuple[str, ...]) -> tuple[str, ...]:
    """The ``${NAME}`` placeholders of the conda URLs' credentials (conda-lock's
    ``used_env_vars``): the ``env`` stage takes them as build args of those names."""
    from conda2docker.credentials import credential_placeholders

    return tuple(dict.fromkeys(name for target in platforms for p in lock.conda_packages(target)
                               for name in credential_placeholders(p.url)))


def _credential_args(options: PlanOptions, names: tuple[str, ...]) -> list[Instruction]:
    """``ARG NAME`` for the legacy builder (it has no secrets); BuildKit mounts them instead."""
    return [] if options.buildkit else [Arg(name) for name in names]


def channel_credentials_note(lock: Lock, options: PlanOptions, platforms: tuple[str, ...],
                             names: tuple[str, ...]) -> str:
    from urllib.parse import urlsplit

    hosts = sorted({urlsplit(p.url).hostname or "" for target in platforms for p in lock.conda_packages(target)
                    if any(f"${{{n}}}" in p.url for n in names)})
    said = f"the env stage downloads conda packages from {', '.join(hosts)} with the channel credentials of "
    if options.buildkit:
        return (said + f"BuildKit secrets {', '.join(names)}: pass them with `DOCKER_BUILDKIT=1 docker build "
                f"--secret id={names[0]},env={names[0]} …` (mounted for that step only, in no layer or "
                "history); the lock and the context keep only the names")
    return (said + f"build args {', '.join(names)}: pass them with `conda2docker build --build-arg {names[0]}` "
            f"(taken from your environment) or `docker build --build-arg {names[0]}`; the lock and the "
            "context keep only the names, and build args are visible in that stage's build history (not in "
            "the runtime image, which copies only the prefix from it), so build where that history stays "
            "private, or convert with --buildkit to take them as secrets")


def expand_credentials(lock_in_image: str, names: tuple[str, ...]) -> Shell:
    """Put the values of the lock's ``${NAME}`` placeholders in place, in one pass and
    literally (a value is never expanded again, by awk or the shell), inside the RUN that
    installs and then deletes the lock: the values reach no layer. A value is the build arg
    ``NAME`` or, with BuildKit, the secret ``/run/secrets/NAME``; one not given stops the
    build, naming it."""
    listed = " ".join(names)
    program = (
        f'BEGIN {{ n = split("{listed}", v, " "); for (i = 1; i <= n; i++) {{ s[v[i]] = ENVIRON[v[i]]; '
        'if (s[v[i]] == "") { f = "/run/secrets/" v[i]; if ((getline x < f) > 0) s[v[i]] = x; close(f) } '
        'if (s[v[i]] == "") { print "conda2docker: " v[i] " is not given (channel credentials of the lock): '
        'pass --build-arg " v[i] " (--secret id=" v[i] " with BuildKit)" > "/dev/stderr"; bad = 1 } } '
        'if (bad) exit 1 } '
        '{ out = ""; rest = $0; while (1) { at = 0; for (i = 1; i <= n; i++) { j = index(rest, "${" v[i] "}"); '
        'if (j > 0 && (at == 0 || j < at)) { at = j; w = v[i] } } if (at == 0) break; '
        'out = out substr(rest, 1, at - 1) s[w]; rest = substr(rest, at + length(w) + 3) } print out rest }'
    )
    return Shell(f"awk '{program}' {lock_in_image} > {lock_in_image}.x && mv {lock_in_image}.x {lock_in_image}")


def _installer_script(options: PlanOptions) -> ContextFile:
    from importlib.resources import files

    script = files("conda2docker").joinpath("data/install_lock.py").read_bytes()
    return ContextFile(f"{options.support_dir}/install_lock.py", script)


def _micromamba(options: PlanOptions, lock_name: str, secrets: tuple[str, ...]) -> Stage:
    lock_steps, lock_in_image = _lock_steps(options, lock_name)
    steps: list[Instruction] = [User("root"), *lock_steps]
    if options.vendor:
        steps.append(Copy((f"{VENDOR_DIR}/channel",), f"{STAGING}/channel"))
    check = (arch_check(lock_in_image),) if options.multiarch else ()
    steps += _credential_args(options, secrets)
    expand = (expand_credentials(lock_in_image, secrets),) if secrets else ()
    steps.append(
        Run(
            (
                *check,
                *expand,
                ("micromamba", "create", "--yes", "--prefix", options.prefix, "--file", lock_in_image),
                ("micromamba", "clean", "--all", "--force-pkgs-dirs", "--yes"),
                ("rm", "-rf", STAGING),
            ),
            cache_mounts=(CONDA_PKGS_DIR,),
            secrets=secrets,
        )
    )
    purpose = "installs exactly the locked conda packages into the prefix with micromamba (md5 verified)"
    return Stage("env", "${MICROMAMBA_IMAGE}", purpose, tuple(steps), provides=(options.prefix,))


def _rattler(options: PlanOptions, lock_name: str, script: str, secrets: tuple[str, ...]) -> Stage:
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
    check: tuple[Shell, ...] = ()
    if options.multiarch:
        lock_steps, lock_in_image = _lock_steps(options, lock_name)
        steps += [Copy((script,), f"{STAGING}/"), *lock_steps]
        check = (arch_check(lock_in_image),)
    else:
        steps.append(Copy(support, f"{STAGING}/"))
    steps += _credential_args(options, secrets)
    expand = (expand_credentials(lock_in_image, secrets),) if secrets else ()
    steps.append(Run((*check, *expand, ("python", f"{STAGING}/install_lock.py", lock_in_image, prefix),
                      ("rm", "-rf", STAGING)), secrets=secrets))
    purpose = "installs exactly the locked conda packages into the prefix with py-rattler (md5 verified)"
    return Stage("env", "${PYTHON_IMAGE}", purpose, tuple(steps), provides=(prefix,))
