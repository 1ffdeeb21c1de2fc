"""What ``init`` tells the user: what it found, what it ignored, what it will build."""

from __future__ import annotations

from pathlib import Path

from conda2docker.init.plan import InitPlan


def found_lines(init: InitPlan) -> list[str]:
    lines = [f"repository: {init.root}"]
    if init.files.config_dir != Path():
        lines.append(f"configuration directory: {init.files.config_dir}/ (as repo2docker)")
    if init.inferred is not None:
        lines.append(f"no environment file: {init.environment} inferred from what the "
                     "repository declares:")
        lines += [f"  {note}" for note in init.inferred.notes]
    for role, path in init.files.found():
        lines.append(f"found {path} ({role})")
    for ignored in init.ignored:
        lines.append(f"ignored {ignored.path}: {ignored.reason}")
    lines += [f"note: {note}" for note in init.notes]
    return lines


def plan_lines(init: InitPlan) -> list[str]:
    """The stages ``init`` will generate, before solving (``--dry-run``)."""
    lines = ["stages:",
             "  env      the locked conda packages (solved when you run init without --dry-run)",
             "  pip      the locked pip packages, when the solve leaves any to pip"]
    if init.projects:
        lines.append("  project  " + ", ".join(
            f"{p.name} ({p.path.as_posix() or '.'}"
            + (", CUDA extension" if p.cuda else "")
            + (", built against the environment" if p.needs_environment else "") + ")"
            for p in init.projects))
    lines.append("  repo     the repository's files the build context allows (no secrets, no data)")
    runtime = [f"{init.name} ({'GPU' if init.gpu else 'CPU'}"
               + (f", CUDA {init.cuda}" if init.cuda else "") + ")"]
    if init.apt:
        runtime.append("apt: " + " ".join(init.apt))
    if init.post_build:
        runtime.append(f"postBuild: {init.post_build}")
    if init.start:
        runtime.append(f"entry point: {init.start}")
    runtime.append("command: " + ("JupyterLab on port 8888" if init.jupyter else "python"))
    lines.append("  runtime  " + "; ".join(runtime))
    return lines
