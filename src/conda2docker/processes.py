"""Running a helper program (git, pip) with a time limit that holds for everything it starts.

``subprocess.run(..., timeout=...)`` stops only the program it started: a ``git clone`` that
stalls leaves its ``git-remote-https`` running, and a ``pip`` that stalls while preparing an
sdist leaves the build backend it runs. Here the program runs in a session of its own, and
when its time is up, or this process is interrupted (Ctrl-C reaches only our own process
group), the whole session is killed before the error goes on.

A leaf module: it imports nothing of conda2docker.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def run_bounded(
    argv: Sequence[str],
    *,
    timeout: float,
    text: bool = False,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[Any]:
    """``subprocess.run(argv, capture_output=True, check=False, timeout=timeout, ...)`` with
    nothing on its standard input (a program that would ask a question fails instead), but a
    timeout (``subprocess.TimeoutExpired``, raised as ``run`` raises it) or an interruption
    kills every process the program started, not the program alone."""
    with subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=text,
        env=None if env is None else dict(env),
        cwd=cwd,
        start_new_session=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except BaseException:
            _kill_session(process)
            raise
        return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def _kill_session(process: subprocess.Popen[Any]) -> None:
    """Kill ``process`` and everything in its session (its process group, of which it is the
    leader), then reap it; its pipes close as the group dies."""
    with contextlib.suppress(ProcessLookupError):  # the group is already gone
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
