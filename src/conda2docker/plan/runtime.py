"""The ``runtime`` stage: slim base, non-root user, only the prefix and its layers, the
environment on PATH (no activation, no shell wrapper), OCI labels."""

from __future__ import annotations

from collections.abc import Sequence

from conda2docker import __version__, image
from conda2docker.image import JUPYTER_PORT, SYSTEM_PATH
from conda2docker.model import EnvSpec, Lock
from conda2docker.plan.apt import apt_install
from conda2docker.plan.instructions import (
    Arg,
    Cmd,
    Entrypoint,
    Env,
    Expose,
    Instruction,
    Label,
    Run,
    Shell,
    User,
    Workdir,
)
from conda2docker.plan.types import Part, PlanOptions, RuntimeFacts, Stage

# What the activate.d scripts of common conda-forge packages set (read from the scripts
# themselves), for when the packages' own scripts cannot be evaluated: the image sets them
# with ENV so that no activation (and no shell wrapper) is needed. Where the package files are
# at hand (``convert --vendor``), the variables are measured instead (activation.py), and
# ``verify`` compares the image with the scripts in any case. Variables a script sets only
# when an optional directory exists (GDAL_DRIVER_PATH: gdalplugins) are left to measurement.
ACTIVATION_VARIABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "cartopy_offline_data": (("CARTOPY_DATA_DIR", "{prefix}/share/cartopy"),),
    "esmf": (("ESMFMKFILE", "{prefix}/lib/esmf.mk"),),
    "esmpy": (("ESMFMKFILE", "{prefix}/lib/esmf.mk"),),
    "gdal": (("CPL_ZIP_ENCODING", "UTF-8"), ("GDAL_DATA", "{prefix}/share/gdal")),
    "geometric_features": (("GEOMETRIC_DATA_DIR", "{prefix}/share/geometric_data"),),
    "geotiff": (("GEOTIFF_CSV", "{prefix}/share/epsg_csv"),),
    "libgdal": (("CPL_ZIP_ENCODING", "UTF-8"), ("GDAL_DATA", "{prefix}/share/gdal")),
    "libgdal-core": (("CPL_ZIP_ENCODING", "UTF-8"), ("GDAL_DATA", "{prefix}/share/gdal")),
    "libglib": (("GSETTINGS_SCHEMA_DIR", "{prefix}/share/glib-2.0/schemas"),),
    "glib": (("GSETTINGS_SCHEMA_DIR", "{prefix}/share/glib-2.0/schemas"),),
    "libxml2": (("XML_CATALOG_FILES", "file://{prefix}/etc/xml/catalog file:///etc/xml/catalog"),),
    "magics": (("MAGPLUS_HOME", "{prefix}"),),
    "openjdk": (("JAVA_HOME", "{prefix}/lib/jvm"), ("JAVA_LD_LIBRARY_PATH", "{prefix}/lib/jvm/lib/server")),
    "openssl": (("SSL_CERT_FILE", "{prefix}/ssl/cacert.pem"),),
    "proj": (("PROJ_DATA", "{prefix}/share/proj"), ("PROJ_NETWORK", "ON")),
    "r-base": (("RSTUDIO_WHICH_R", "{prefix}/bin/R"),),
    "udunits2": (("UDUNITS2_XML_PATH", "{prefix}/share/udunits/udunits2.xml"),),
}
"""Package → (variable, value) pairs, ``{prefix}`` standing for the environment's prefix."""

PROJ_DATA_PACKAGE = "proj-data"
"""With the grids installed, proj's script turns network access off (PROJ_NETWORK=OFF)."""

NVIDIA_CAPABILITIES = "compute,utility"


def activation_environment(lock: Lock, platform: str, prefix: str) -> list[tuple[str, str]]:
    """The activation variables of the lock's packages, from :data:`ACTIVATION_VARIABLES`."""
    names = {p.name for p in lock.conda_packages(platform)}
    pairs: dict[str, str] = {}
    for package in sorted(names & ACTIVATION_VARIABLES.keys()):
        for key, value in ACTIVATION_VARIABLES[package]:
            pairs.setdefault(key, value.format(prefix=prefix))
    if "PROJ_NETWORK" in pairs and PROJ_DATA_PACKAGE in names:
        pairs["PROJ_NETWORK"] = "OFF"
    return sorted(pairs.items())


def jupyter_command(lock: Lock, platform: str, prefix: str, workdir: str) -> tuple[str, ...] | None:
    """The Jupyter server of the environment, listening on all interfaces of the container."""
    names = {p.name.lower() for p in lock.for_platform(platform)}
    if "jupyterlab" in names:
        app = "lab"
    elif names & {"notebook", "jupyter"}:
        app = "notebook"
    else:
        return None
    return (f"{prefix}/bin/jupyter", app, "--ip=0.0.0.0", f"--port={JUPYTER_PORT}", "--no-browser",
            f"--ServerApp.root_dir={workdir}")


def default_command(lock: Lock, platform: str, prefix: str, workdir: str) -> tuple[str, ...] | None:
    jupyter = jupyter_command(lock, platform, prefix, workdir)
    if jupyter:
        return jupyter
    if "python" in {p.name for p in lock.for_platform(platform)}:
        return (f"{prefix}/bin/python",)
    return None


def gpu_environment(options: PlanOptions) -> list[tuple[str, str]]:
    """What the NVIDIA container toolkit reads: which GPUs, which driver libraries to inject,
    and the CUDA version the host driver must support."""
    env = [("NVIDIA_VISIBLE_DEVICES", "all"), ("NVIDIA_DRIVER_CAPABILITIES", NVIDIA_CAPABILITIES)]
    if options.cuda_version:
        env.append(("NVIDIA_REQUIRE_CUDA", f"cuda>={options.cuda_version}"))
    return env


def runtime_facts(lock: Lock, options: PlanOptions) -> RuntimeFacts:
    workdir = image.work_dir(options.user_name)
    command = options.command if options.command is not None else default_command(
        lock, options.platform, options.prefix, workdir)
    return RuntimeFacts(
        uid=options.uid, gid=options.gid, workdir=workdir,
        command=command, jupyter=jupyter_command(lock, options.platform, options.prefix, workdir),
    )


LOGIN_UIDS = (1000, 60000)
"""Debian's and Ubuntu's range of login accounts (``UID_MIN``/``UID_MAX`` in login.defs)."""


def user_commands(user: str, workdir: str) -> tuple[Shell, ...]:
    """Create the runtime user from the ``APP_UID``/``APP_GID`` build args, in any base image.

    0 (root) and anything but a number are refused. A group that already has ``APP_GID`` is
    reused (``users``, or the base image's own user's group); a group named ``user`` gets
    ``APP_GID`` (a base image built by conda2docker). A login account (UID 1000 to 60000) that
    already has ``APP_UID`` (``ubuntu`` in ubuntu:24.04) becomes the user, as devcontainers
    adopt it: renamed, moved to the user's home, its own group renamed with it; a system
    account with that UID (``www-data``, ``nobody``) is refused rather than taken over."""
    home = image.home_dir(user)
    low, high = LOGIN_UIDS
    return (
        Shell('if ! { [ "${APP_UID}" -gt 0 ] && [ "${APP_GID}" -gt 0 ]; } 2>/dev/null; then '
              'echo "APP_UID and APP_GID must be numbers above 0 (0 is root)" >&2; exit 1; fi'),
        Shell('owner="$(getent passwd "${APP_UID}" || true)" && owner="${owner%%:*}"'),
        Shell('group="$(getent group "${APP_GID}" || true)" && group="${group%%:*}"'),
        Shell(f'if [ -n "${{owner}}" ] && [ "${{owner}}" != {user} ] && '
              f'{{ [ "${{APP_UID}}" -lt {low} ] || [ "${{APP_UID}}" -gt {high} ]; }}; then '
              'echo "APP_UID ${APP_UID} is the system account ${owner} of the base image: '
              'pass another APP_UID" >&2; exit 1; fi'),
        Shell(f'if [ -z "${{group}}" ] && getent group {user} >/dev/null; then groupmod --gid "${{APP_GID}}" {user}; '
              f'elif [ -z "${{group}}" ]; then groupadd --system --gid "${{APP_GID}}" {user}; '
              f'elif [ "${{group}}" = "${{owner}}" ] && [ "${{group}}" != {user} ] && ! getent group {user} >/dev/null; '
              f'then groupmod --new-name {user} "${{group}}"; fi'),
        Shell(f'if [ -n "${{owner}}" ] && [ "${{owner}}" != {user} ]; then usermod --login {user} "${{owner}}"; fi'),
        Shell(f'if getent passwd {user} >/dev/null; then usermod --uid "${{APP_UID}}" --gid "${{APP_GID}}" '
              f'--home {home} --move-home --shell /usr/sbin/nologin {user}; '
              f'else useradd --system --uid "${{APP_UID}}" --gid "${{APP_GID}}" --home-dir {home} --create-home '
              f'--shell /usr/sbin/nologin {user}; fi'),
        Shell(f'install -d -o "${{APP_UID}}" -g "${{APP_GID}}" {workdir}'),
    )


def runtime_stage(spec: EnvSpec | None, lock: Lock, options: PlanOptions, parts: Sequence[Part]) -> Stage:
    """The runtime, assembled from the parts: what each asks it to copy (by rank, then in
    order), the steps each runs as the user after ``WORKDIR``, an ``ENTRYPOINT`` if one has it."""
    prefix = options.prefix
    user = options.user_name
    facts = runtime_facts(lock, options)
    steps: list[Instruction] = [Arg("APP_UID", str(options.uid)), Arg("APP_GID", str(options.gid))]
    if options.apt_runtime:
        steps.append(apt_install(options.apt_runtime))
    steps.append(Run(user_commands(user, facts.workdir), engine_only=True))
    ranked = sorted(enumerate(parts), key=lambda item: (item[1].copy_rank, item[0]))
    steps += [copy for _, part in ranked for copy in part.runtime_copies]
    env: list[tuple[str, str]] = [
        ("PATH", f"{prefix}/bin:{SYSTEM_PATH}"),
        ("CONDA_PREFIX", prefix),
        ("LANG", "C.UTF-8"),
        ("PYTHONDONTWRITEBYTECODE", "1"),
    ]
    if options.activation is not None:  # measured from the packages' own scripts
        env += list(options.activation)
    else:
        env += activation_environment(lock, options.platform, prefix)
    if options.variant == "gpu":
        env += gpu_environment(options)
    if spec is not None:
        env += list(spec.variables)
    steps.append(Env(tuple(dict(env).items())))
    steps.append(Label(tuple(_labels(spec, options))))
    if facts.jupyter:
        steps.append(Expose(JUPYTER_PORT))
    steps.append(User("${APP_UID}:${APP_GID}"))
    steps.append(Workdir(facts.workdir))
    steps += [step for part in parts for step in part.runtime_steps]
    entrypoint = next((p.entrypoint for p in parts if p.entrypoint is not None), None)
    if entrypoint is not None:
        steps.append(Entrypoint(entrypoint))
    if facts.command:
        steps.append(Cmd(facts.command))
    purpose = (f"slim {options.variant.upper()} runtime: only the prefix, non-root user "
               f"(UID {options.uid}), environment on PATH without activation")
    return Stage("runtime", "${RUNTIME_IMAGE}", purpose, tuple(steps))


def _labels(spec: EnvSpec | None, options: PlanOptions) -> list[tuple[str, str]]:
    labels = [
        (image.LABEL_TITLE, (spec.name if spec and spec.name else "conda environment")),
        (image.LABEL_DESCRIPTION, "Built by conda2docker from a conda lock"),
    ]
    if options.source_label:
        labels.append((image.LABEL_SOURCE, options.source_label))
    if options.lock_digest:
        labels.append((image.LABEL_LOCK_SHA256, options.lock_digest))
    labels.append((image.LABEL_VARIANT, options.variant))
    if options.variant == "gpu" and options.cuda_version:
        labels.append((image.LABEL_CUDA, options.cuda_version))
    labels.append((image.LABEL_VERSION, __version__))
    return labels
