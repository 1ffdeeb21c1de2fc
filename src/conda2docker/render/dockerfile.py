"""A BuildPlan as a Dockerfile: deterministic bytes, every interpolated value quoted."""

from __future__ import annotations

from conda2docker.image import (
    DEFINITION_NAMES,
    DOCKERFILE_NAMES,
    SOURCES_DIR,
    SUPPORT_DIR,
    VENDOR_DIR,
)
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
from conda2docker.render.quoting import arg_word, double_quoted, json_array, path_word
from conda2docker.render.shell import and_chain
from conda2docker.validate import MAX_LINE, comment_text

CONTINUATION = " \\\n    "


def build_lines(plan: BuildPlan) -> list[str]:
    """How to build and run this variant (the end of the header)."""
    name = DOCKERFILE_NAMES[plan.variant]
    file_flag = "" if name == DOCKERFILE_NAMES["cpu"] else f" -f {name}"
    variant_flag = "" if plan.variant == "cpu" else " --variant gpu"
    lines = [
        "",
        f"Build:  docker build{file_flag} -t IMAGE .   (or `conda2docker build .{variant_flag}`)",
        "        bases are build args: --build-arg RUNTIME_IMAGE=NAME@sha256:DIGEST pins one",
    ]
    if plan.buildkit:
        lines.append("        cache mounts need BuildKit: DOCKER_BUILDKIT=1 docker build …")
    secrets = tuple(dict.fromkeys(name for stage in plan.stages for step in stage.instructions
                                  if isinstance(step, Run) for name in step.secrets))
    if secrets and plan.buildkit:
        lines.append(f"        channel credentials are BuildKit secrets: --secret id={secrets[0]},env={secrets[0]}"
                     + (f" (and {', '.join(secrets[1:])})" if secrets[1:] else ""))
    elif secrets:
        lines.append(f"        channel credentials are build args: --build-arg {secrets[0]} (its value from "
                     "your environment)" + (f", and {', '.join(secrets[1:])}" if secrets[1:] else ""))
    if len(plan.image_platforms) > 1:
        from conda2docker.platforms import check_target, oci_platform

        archs = [check_target(p).docker_arch or p for p in plan.image_platforms]
        oci = ",".join(oci_platform(p) for p in plan.image_platforms)
        lines += [
            f"        one file for {oci}: docker buildx build --platform {oci} …",
            f"        (TARGETARCH picks the explicit lock conda-ARCH.lock; the legacy builder installs {archs[0]}",
            f"        unless --build-arg TARGETARCH={archs[1]})",
        ]
    if plan.variant == "gpu":
        lines.append("Run:    docker run --rm -it --gpus all IMAGE   (host: NVIDIA driver + container toolkit)")
    else:
        lines.append("Run:    docker run --rm -it IMAGE")
    lines.append(f"Also:   compose.yaml (docker compose up), {DEFINITION_NAMES['cpu']} (Apptainer) when generated")
    return lines


def _comment_lines(text: str) -> list[str]:
    """``#`` lines for ``text``: a line break starts another comment line, never an
    instruction; other control characters become spaces."""
    return [f"# {comment_text(line)}".rstrip() for line in text.splitlines() or [""]]


def check_line_lengths(text: str, what: str = "Dockerfile") -> str:
    """Refuse a generated file with a line BuildKit cannot read (its limit is 65,535)."""
    for number, line in enumerate(text.split("\n"), start=1):
        if len(line) > MAX_LINE:
            raise PlanError(
                f"line {number} of the {what} would be {len(line):,} characters long; BuildKit "
                f"reads at most {MAX_LINE:,} per line",
                fix="shorten the value that makes it (an environment variable, a long list)",
            )
    return text


def _arg(arg: Arg) -> str:
    if arg.default is None:
        return f"ARG {arg.name}"
    return f"ARG {arg.name}={double_quoted(arg.default)}"


def _run(run: Run, buildkit: bool) -> str:
    mounts = ""
    if buildkit and run.cache_mounts:
        mounts = "".join(
            f"--mount=type=cache,target={path_word(target)} " for target in run.cache_mounts
        )
    if buildkit:
        mounts += "".join(f"--mount=type=secret,id={path_word(name)} " for name in run.secrets)
    return "RUN " + mounts + and_chain(run.commands, CONTINUATION)


def _pairs(keyword: str, pairs: tuple[tuple[str, str], ...]) -> str:
    items = [f"{key}={double_quoted(value)}" for key, value in pairs]
    return keyword + " " + CONTINUATION.join(items)


def _copy(copy: Copy) -> str:
    flags = ""
    if copy.from_stage:
        flags += f"--from={path_word(copy.from_stage)} "
    if copy.chown:
        flags += f"--chown={arg_word(copy.chown)} "
    source_word = arg_word if copy.arg_sources else path_word
    words = [source_word(s) for s in copy.sources] + [path_word(copy.dest)]
    return f"COPY {flags}" + " ".join(words)


def render_instruction(instruction: Instruction, buildkit: bool = False) -> str:
    match instruction:
        case Comment():
            return "\n".join(_comment_lines(instruction.text))
        case Arg():
            return _arg(instruction)
        case Env():
            return _pairs("ENV", instruction.pairs)
        case Label():
            return _pairs("LABEL", instruction.pairs)
        case Copy():
            return _copy(instruction)
        case AddArchive():
            return f"ADD {path_word(instruction.source)} {path_word(instruction.dest)}"
        case Run():
            return _run(instruction, buildkit)
        case User():
            return f"USER {arg_word(instruction.user)}"
        case Workdir():
            return f"WORKDIR {path_word(instruction.path)}"
        case Entrypoint():
            return f"ENTRYPOINT {json_array(instruction.argv)}"
        case Cmd():
            return f"CMD {json_array(instruction.argv)}"
        case Expose():
            return f"EXPOSE {int(instruction.port)}"
        case _:  # a new instruction type fails mypy here until it is rendered
            assert_never(instruction)


def _stage(stage: Stage, buildkit: bool) -> list[str]:
    lines = _comment_lines(f"--- {stage.name}: {stage.purpose}")
    lines.append(f"FROM {arg_word(stage.base)} AS {stage.name}")
    lines += [render_instruction(i, buildkit) for i in stage.instructions]
    return lines


def render_dockerfile(plan: BuildPlan) -> str:
    """The plan as Dockerfile text (no ``# syntax`` line: the builder's own frontend suffices)."""
    lines: list[str] = []
    for header_line in (*plan.header, *build_lines(plan)):
        lines += _comment_lines(header_line)
    lines.append("")
    lines += [_arg(arg) for arg in plan.args]
    for stage in plan.stages:
        lines.append("")
        lines += _stage(stage, plan.buildkit)
    return check_line_lengths("\n".join(lines) + "\n")


def render_dockerignore(plan: BuildPlan) -> str:
    """Send only what the Dockerfile copies: the support files, vendored files, sources."""
    allowed = [SUPPORT_DIR, VENDOR_DIR, SOURCES_DIR]
    lines = [
        "# Generated by conda2docker: the build needs only these; everything else stays out",
        "# of the build context (data, notebooks, outputs, .git).",
        "*",
    ]
    lines += [f"!{name}" for name in allowed]
    return "\n".join(lines) + "\n"
