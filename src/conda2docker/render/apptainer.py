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
"""

from __future__ import annotations

import posixpath
import shlex
from dataclasses import dataclass, field

from conda2docker.choices import Bootstrap
from conda2docker.image import DEFINITION_NAMES
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
    User,
    Workdir,
    assert_never,
)
from conda2docker.render.quoting import no_newlines, path_word
from conda2docker.render.shell import and_chain

INDENT = "    "
CONTINUATION = " \\\n" + INDENT * 2
MERGE_DIR = "/tmp/c2d-merge"
ADD_DIR = "/tmp/c2d-add"
ROOTFS = '"${APPTAINER_ROOTFS:-$SINGULARITY_ROOTFS}"'


def env_word(value: str) -> str:
    """A value for a line a shell reads: single quotes, ``'`` written as ``'\\''``."""
    return shlex.quote(no_newlines(value, "environment value"))


@dataclass(slots=True)
class _Sections:
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


def _instruction(sections: _Sections, item: Instruction, *, final: bool, merges: list[int]) -> None:
    match item:
        case Comment():
            sections.post += [f"# {line}".rstrip() for line in item.text.splitlines()]
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
            _copy(sections, item, merges)
        case AddArchive():
            staged = f"{ADD_DIR}/{posixpath.basename(item.source)}"
            sections.mkdir(ADD_DIR)
            sections.copy(item.source, staged, None)
            dest = path_word(item.dest)
            sections.post.append(f"mkdir -p {dest} && tar -xzf {staged} -C {dest} && rm -rf {ADD_DIR}")
        case Run():
            if not item.engine_only:
                sections.post.append(and_chain(item.commands, CONTINUATION))
        case Workdir():
            sections.post.append(f"mkdir -p {path_word(item.path)}")
        case Cmd() | Entrypoint():
            if final:
                words = " ".join(shlex.quote(no_newlines(w, "command")) for w in item.argv)
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
        for path in parent.provides:
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
    section("%environment", sections.environment)
    section("%labels", sections.labels)
    if final and sections.runscript:
        section("%runscript", ['if [ "$#" -gt 0 ]; then', INDENT + 'exec "$@"', "fi", *sections.runscript])
    return lines


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


def render_apptainer(plan: BuildPlan, bootstrap: Bootstrap = "docker") -> str:
    """The plan as an Apptainer definition file (multi-stage; the last stage is the image)."""
    lines = [f"# {line}".rstrip() for line in (*plan.header, *usage_lines(plan))]
    for index, stage in enumerate(plan.stages):
        lines.append("")
        lines += _stage(plan, stage, bootstrap, final=index == len(plan.stages) - 1)
    return "\n".join(lines) + "\n"
