"""A helper program's time limit holds for everything it starts (conda2docker.processes): a
stalled ``git clone`` or ``pip download`` is stopped with the programs it runs (git's
``git-remote-https``, pip's build backend), and so is everything when the user presses Ctrl-C.

Real processes, no mocks: each test starts a program that starts a grandchild and stalls.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conda2docker.processes import run_bounded
from support.processes import gone, stalling_program, wait_for


def test_output_and_exit_code_are_run_s(tmp_path: Path) -> None:
    done = run_bounded([sys.executable, "-c", "import sys; print('out'); print('err', file=sys.stderr); "
                        "sys.exit(3)"], text=True, timeout=30, cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (3, "out\n", "err\n")
    assert run_bounded(["sh", "-c", "printf '%s' \"$X\"; pwd"], timeout=30, cwd=tmp_path,
                       env={"X": "given", "PATH": os.environ["PATH"]}).stdout == (
        b"given" + str(tmp_path).encode() + b"\n")


def test_nothing_is_read_from_the_terminal(tmp_path: Path) -> None:
    """A program that asks a question gets end of input at once instead of waiting for it."""
    done = run_bounded([sys.executable, "-c", "print(repr(input()))"], text=True, timeout=30)
    assert done.returncode != 0 and "EOFError" in done.stderr


@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="needs /proc to see processes")
def test_a_program_out_of_time_is_stopped_with_what_it_started(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild"
    started = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        run_bounded(stalling_program(pid_file), timeout=2)
    assert time.monotonic() - started < 30
    assert gone(wait_for(pid_file))


@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="needs /proc to see processes")
def test_an_interruption_stops_the_program_and_what_it_started(tmp_path: Path) -> None:
    """Ctrl-C reaches our process group only: the program, in a session of its own, is killed
    on the way out with everything it started."""
    pid_file = tmp_path / "grandchild"

    def interrupt(_signum: int, _frame: object) -> None:
        if pid_file.is_file() and pid_file.read_text():
            raise KeyboardInterrupt
        signal.setitimer(signal.ITIMER_REAL, 0.1)

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 0.1)
    try:
        with pytest.raises(KeyboardInterrupt):
            run_bounded(stalling_program(pid_file), timeout=60)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert gone(wait_for(pid_file))
