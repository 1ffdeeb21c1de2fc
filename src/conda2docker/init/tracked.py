"""The files git tracks in a repository, read without running anything of the repository.

``git ls-files`` is run with the repository's hooks and file-system monitor switched off
(``core.fsmonitor`` in a cloned repository's config could name a program), no optional locks,
and no pager; its output is NUL-separated. When the directory is not in a git work tree, git
is missing, or git refuses (e.g. another user's repository), the answer is None and the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from conda2docker.processes import run_bounded

_SAFE_CONFIG = ("-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null",
                "-c", "core.untrackedCache=false", "--no-optional-locks")


def tracked_files(root: Path, *, timeout: float = 60.0) -> tuple[tuple[str, ...] | None, str]:
    """Tracked paths relative to ``root`` (POSIX), or ``(None, why not)``."""
    if not (root / ".git").exists():
        return None, "not a git repository (no .git)"
    git = shutil.which("git")
    if git is None:
        return None, "git is not installed"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_TERMINAL_PROMPT="0", GIT_PAGER="cat")
    try:
        done = run_bounded([git, *_SAFE_CONFIG, "-C", str(root), "ls-files", "-z", "--cached", "--"],
                           timeout=timeout, env=env)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"git ls-files failed: {exc.__class__.__name__}"
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return None, f"git ls-files failed: {message[0] if message else done.returncode}"
    names = []
    for raw in done.stdout.split(b"\0"):
        if not raw:
            continue
        try:
            names.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            continue  # not UTF-8: cannot be named in .dockerignore; stays out
    return tuple(sorted(set(names))), "git tracks the files listed"
