"""A BuildPlan as an Apptainer (Singularity) definition: the same stages, as ``Stage:``
sections, for HPC clusters.

Mapping from the plan's instructions (Docker semantics) to definition sections:

* a stage's base image → ``Bootstrap: docker`` (or ``docker-daemon``) + ``From:``, the
  build arg's default resolved (a definition has no ``--build-arg`` for ``From:``); a stage
  built ``FROM`` an earlier stage starts from that stage's base and takes what it
  ``provides`` with ``%files from``;
* ``COPY`` → ``%files`` / ``%files from <stage>``, destination parents created in
  ``%setup`` (``%files`` does not create them); a copy that merges a directory's contents
  into an existing one goes to a staging path and is merged in ``%post``;
* ``ADD`` of an archive → ``%files`` + ``tar -x`` in ``%post``;
* ``RUN`` → ``%post``; ``ENV`` → ``export`` in ``%post``, and ``%environment`` in the final
  stage (sourced by a shell at start: every value single-quoted); ``LABEL`` → ``%labels``;
  ``CMD``/``ENTRYPOINT`` → ``%runscript``.
* user accounts (``USER``, ``useradd``) are left out: Apptainer runs as the calling user.

What differs from the Dockerfile, because Apptainer runs differently:

* nothing is staged in ``/tmp`` or ``/var/tmp``: Apptainer binds the host's directories over
  them during ``%post``, hiding what ``%files`` put there (the plan's staging directory is
  moved to :data:`STAGING_DIR`);
* ``PYTHONNOUSERSITE=1``: the host's home is mounted, and its ``~/.local`` packages would
  otherwise shadow the image's;
* Jupyter listens on 127.0.0.1 (a login node is shared) unless ``C2D_JUPYTER_IP`` asks for
  another address;
* ``%test`` checks the environment after the build (and on ``apptainer test``), ``%help``
  says how to run it.

``--from-image IMAGE`` (:func:`render_apptainer_from_image`) writes a one-stage
``Bootstrap: docker-daemon`` definition that reuses the image the Dockerfile built.
No apptainer binary runs in the tests: the grammar is checked by a parser written from
Apptainer's own (``tests/support/apptainer_def.py``).
"""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field

from conda2docker.choices import Bootstrap
from conda2docker.image import APPTAINER_STAGING, DEFINITION_NAMES, STAGING
from conda2docker.plan import BuildPlan, Stage
from conda2docker.plan.instructions import (
    AddArchive,
    Arg,
    Cmd,
    Comment,
    Copy,
    Entrypoint,
    Env,
    Expose,
    Instruction,
    Label,
    PlanError,
    Run,
    Shell,
    User,
    Workdir,
    assert_never,
    check_image,
)
from conda2docker.render.quoting import no_newlines, path_word
from conda2docker.render.shell import and_chain
from conda2docker.validate import comment_text

INDENT = "    "
CONTINUATION = " \\\n" + INDENT * 2
STAGING_DIR = APPTAINER_STAGING
MERGE_DIR = "/opt/c2d-merge"
ADD_DIR = "/opt/c2d-add"
JUPYTER_IP_VARIABLE = "C2D_JUPYTER_IP"
_STAGING = re.compile(re.escape(STAGING) + r"(?=/|$|[\s'\"])")
ROOTFS = '"${APPTAINER_ROOTFS:-$SINGULARITY_ROOTFS}"'


def env_word(value: str) -> str:
    """A value for a line a shell reads: single quotes, ``'`` written as ``'\\''``."""
    return shlex.quote(no_newlines(value, "environment value"))


def relocated(text: str) -> str:
    """``text`` with the plan's staging directory moved out of ``/tmp``."""
    return _STAGING.sub(STAGING_DIR, text)


def _relocated_copy(copy: Copy) -> Copy:
    return Copy(tuple(relocated(s) for s in copy.sources) if copy.from_stage else copy.sources,
                relocated(copy.dest), from_stage=copy.from_stage)


def _relocated_run(run: Run) -> Run:
    commands = tuple(Shell(relocated(c.text)) if isinstance(c, Shell) else tuple(relocated(w) for w in c)
                     for c in run.commands)
    return Run(commands, cache_mounts=run.cache_mounts, secrets=run.secrets, engine_only=run.engine_only)


@dataclass(slots=True)
class _Sections:
    """The sections of an Apptainer definition file."""
    setup: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    files_from: dict[str, list[str]] = field(default_factory=dict)
    post: list[str] = field(default_factory=list)
    environment: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    runscript: list[str] = field(default_factory=list)

    def mkdir(self, directory: str) -> None:
        line = f"mkdir -p {ROOTFS}{path_word(directory)}"
        if directory not in ("", "/") and line not in self.setup:
            self.setup.append(line)

    def copy(self, source: str, dest: str, stage: str | None) -> None:
        target = self.files_from.setdefault(stage, []) if stage else self.files
        target.append(f"{path_word(source)} {path_word(dest)}")


def _image(plan: BuildPlan, base: str) -> str:
    if base.startswith("${") and base.endswith("}"):
        default = plan.arg_default(base[2:-1])
        if default is None:
            raise PlanError(f"build arg {base} has no default to bootstrap from")
        return default
    return base


def _origin(plan: BuildPlan, stage: Stage) -> tuple[str, Stage | None]:
    """The image a stage bootstraps from, and the earlier stage it continues (if any)."""
    parent = plan.stage(stage.base)
    if parent is None:
        return _image(plan, stage.base), None
    image, _ = _origin(plan, parent)
    return image, parent


def _copy(sections: _Sections, copy: Copy, merges: list[int]) -> None:
    for source in copy.sources:
        if source.endswith("/"):  # contents into an existing directory: stage, then merge
            index = len(merges)
            merges.append(index)
            staged = f"{MERGE_DIR}/{index}"
            sections.mkdir(MERGE_DIR)
            sections.copy(source.rstrip("/"), staged, copy.from_stage)
            dest = path_word(copy.dest.rstrip("/") or "/")
            sections.post.append(f"mkdir -p {dest} && cp -a {staged}/. {dest}/ && rm -rf {staged}")
            continue
        dest = posixpath.join(copy.dest, posixpath.basename(source)) if copy.dest.endswith("/") else copy.dest
        sections.mkdir(posixpath.dirname(dest.rstrip("/")))
        sections.copy(source, dest, copy.from_stage)


def _command_word(word: str) -> str:
    """One word of the runscript; Jupyter's all-interfaces address becomes loopback unless
    the user asks for another one."""
    if word == "--ip=0.0.0.0":
        return f'--ip="${{{JUPYTER_IP_VARIABLE}:-127.0.0.1}}"'
    return shlex.quote(no_newlines(word, "command"))


def _instruction(sections: _Sections, item: Instruction, *, final: bool, merges: list[int]) -> None:
    match item:
        case Comment():
            sections.post += [f"# {comment_text(line)}".rstrip() for line in item.text.splitlines()]
        case Arg():
            if item.default is not None:
                sections.post.append(f"export {item.name}={env_word(item.default)}")
        case Env():
            exports = [f"export {key}={env_word(value)}" for key, value in item.pairs]
            (sections.environment if final else sections.post).extend(exports)
        case Label():
            if final:
                sections.labels += [f"{key} {no_newlines(value, 'label')}" for key, value in item.pairs]
        case Copy():
            if item.arg_sources:
                raise PlanError("an Apptainer definition cannot pick files by build arg (one "
                                "Dockerfile for several platforms)",
                                fix="convert --format apptainer with one --platform per output")
            _copy(sections, _relocated_copy(item), merges)
        case AddArchive():
            staged = f"{ADD_DIR}/{posixpath.basename(item.source)}"
            sections.mkdir(ADD_DIR)
            sections.copy(item.source, staged, None)
            dest = path_word(item.dest)
            sections.post.append(f"mkdir -p {dest} && tar -xzf {staged} -C {dest} && rm -rf {ADD_DIR}")
        case Run():
            if not item.engine_only:
                sections.post.append(and_chain(_relocated_run(item).commands, CONTINUATION))
        case Workdir():
            sections.post.append(f"mkdir -p {path_word(item.path)}")
        case Cmd() | Entrypoint():
            if final:
                words = " ".join(_command_word(w) for w in item.argv)
                tail = '"$@"' if isinstance(item, Entrypoint) else ""
                sections.runscript = [f"exec {words} {tail}".rstrip()]
        case User() | Expose():
            pass  # Apptainer runs as the calling user, on the host's network
        case _:  # a new instruction type fails mypy here until it is rendered
            assert_never(item)


def _stage(plan: BuildPlan, stage: Stage, bootstrap: Bootstrap, *, final: bool) -> list[str]:
    image, parent = _origin(plan, stage)
    sections = _Sections()
    merges: list[int] = []
    if parent is not None:
        for provided in parent.provides:
            path = relocated(provided)
            sections.mkdir(posixpath.dirname(path))
            sections.copy(path, path, parent.name)
    for item in stage.instructions:
        _instruction(sections, item, final=final, merges=merges)
    lines = [f"# --- {stage.name}: {stage.purpose}", f"Bootstrap: {bootstrap}", f"From: {image}",
             f"Stage: {stage.name}"]

    def section(title: str, body: list[str]) -> None:
        if body:
            lines.extend(["", title, *(INDENT + line for line in body)])

    section("%setup", sections.setup)
    section("%files", sections.files)
    for source, body in sections.files_from.items():
        section(f"%files from {source}", body)
    section("%post", ["set -e", *sections.post] if sections.post else [])
    if final:
        sections.environment.insert(0, "export PYTHONNOUSERSITE=1")  # the user's variables may override
    section("%environment", sections.environment)
    section("%labels", sections.labels)
    if final:
        _image_sections(plan, sections.runscript, section)
    return lines


def _image_sections(plan: BuildPlan, runscript: list[str],
                    section: Callable[[str, list[str]], None]) -> None:
    """What the finished image carries besides its files: how it runs, tests and explains itself."""
    if runscript:
        section("%runscript", ['if [ "$#" -gt 0 ]; then', INDENT + 'exec "$@"', "fi", *runscript])
    section("%test", test_lines(plan))
    section("%help", help_lines(plan))


def test_lines(plan: BuildPlan) -> list[str]:
    """``%test``: the environment is on PATH, and the host's user site cannot leak in."""
    prefix = path_word(plan.prefix)
    lines = ["set -e", f"test -d {prefix}/conda-meta"]
    if plan.python_version:
        lines += [
            f'test "$(command -v python)" = {prefix}/bin/python',
            "python -c 'import sys; sys.exit(0 if sys.flags.no_user_site else "
            '"PYTHONNOUSERSITE is not set: ~/.local packages would leak in")\'',
        ]
    return lines


def help_lines(plan: BuildPlan) -> list[str]:
    """``%help`` (``apptainer run-help``)."""
    nv = " --nv" if plan.variant == "gpu" else ""
    lines = [
        f"A conda environment in {plan.prefix} ({plan.variant.upper()} variant, {plan.platform}), "
        "built by conda2docker.",
        f"Run:   apptainer run{nv} IMAGE.sif [COMMAND ...]   (no command: the default below)",
        f"Shell: apptainer shell{nv} IMAGE.sif   (the environment is on PATH; no activation needed)",
        "Host packages in ~/.local are ignored (PYTHONNOUSERSITE=1).",
    ]
    if plan.runtime.jupyter:
        lines.append(f"Jupyter listens on 127.0.0.1 only; {JUPYTER_IP_VARIABLE}=0.0.0.0 "
                     "apptainer run IMAGE.sif opens it to the network.")
    if plan.runtime.command:
        lines.append("Default: " + " ".join(plan.runtime.command))
    return [no_newlines(line, "help text") for line in lines]


def usage_lines(plan: BuildPlan) -> list[str]:
    name = DEFINITION_NAMES[plan.variant]
    nv = " --nv" if plan.variant == "gpu" else ""
    return [
        "",
        f"Build:  apptainer build env.sif {name}   (from this directory: %files paths are relative)",
        f"Run:    apptainer run{nv} env.sif [COMMAND…]   (runs as you; --nv brings the host's NVIDIA driver)",
        "Bases:  edit From: to pin a digest (NAME@sha256:DIGEST); Bootstrap: docker-daemon uses",
        "        images of the local Docker engine instead of a registry.",
    ]


def render_apptainer_from_image(plan: BuildPlan, image: str) -> str:
    """A one-stage definition that reuses ``image`` (built from this plan's Dockerfile) from the
    local Docker engine: ``Bootstrap: docker-daemon``, no rebuild."""
    check_image(image)
    name = DEFINITION_NAMES[plan.variant]
    nv = " --nv" if plan.variant == "gpu" else ""
    usage = [
        "",
        f"Reuses {image}, the image `conda2docker build` (or docker build) made from this plan,",
        "from the local Docker engine: nothing is rebuilt.",
        f"Build:  apptainer build env.sif {name}",
        f"Run:    apptainer run{nv} env.sif [COMMAND…]",
    ]
    lines = [f"# {line}".rstrip() for line in (*plan.header, *usage)]
    lines += ["", "Bootstrap: docker-daemon", f"From: {image}"]

    def section(title: str, body: list[str]) -> None:
        if body:
            lines.extend(["", title, *(INDENT + line for line in body)])

    runtime = plan.stages[-1]
    sections = _Sections()
    for item in runtime.instructions:
        if isinstance(item, (Label, Cmd, Entrypoint)):
            _instruction(sections, item, final=True, merges=[])
    section("%environment", ["export PYTHONNOUSERSITE=1"])
    section("%labels", sections.labels)
    _image_sections(plan, sections.runscript, section)
    return "\n".join(lines) + "\n"


def render_apptainer(plan: BuildPlan, bootstrap: Bootstrap = "docker") -> str:
    """The plan as an Apptainer definition file (multi-stage; the last stage is the image)."""
    lines = [f"# {comment_text(line)}".rstrip() for line in (*plan.header, *usage_lines(plan))]
    for index, stage in enumerate(plan.stages):
        lines.append("")
        lines += _stage(plan, stage, bootstrap, final=index == len(plan.stages) - 1)
    return "\n".join(lines) + "\n"
