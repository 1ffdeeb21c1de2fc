"""Build tracking, failure messages and the progress display, without an engine; and the
engine-unreachable message from a real subprocess."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conda2docker.engine.build import (
    BuildResult,
    StageTiming,
    _failure,
    _Tracker,
    package_from_output,
)
from conda2docker.engine.progress import ProgressDisplay

STREAM = """\
Step 1/6 : ARG RUNTIME_IMAGE="debian:bookworm-slim"
Step 2/6 : FROM ${RUNTIME_IMAGE} AS env
 ---> 088d0e081354
Step 3/6 : RUN install
 ---> Using cache
 ---> 1a2b3c
Step 4/6 : FROM env AS pip
 ---> 1a2b3c
Step 5/6 : COPY conda2docker/requirements.pip.txt /tmp/c2d/
 ---> 4d5e6f
Step 6/6 : RUN /opt/env/bin/python -m pip install --require-hashes -r /tmp/c2d/requirements.pip.txt
 ---> Running in 9a6cca31159b
Processing ./tmp/c2d/pip/c2d_needs-2.0-py3-none-any.whl (from -r /tmp/c2d/requirements.pip.txt (line 1))
Processing ./tmp/c2d/pip/c2d_pure-1.0-py3-none-any.whl (from -r /tmp/c2d/requirements.pip.txt (line 2))
ERROR: THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE. If you have updated the package versions, please update the hashes.
    c2d-pure @ file:///tmp/c2d/pip/c2d_pure-1.0-py3-none-any.whl from file:///tmp/c2d/pip/c2d_pure-1.0-py3-none-any.whl (from -r /tmp/c2d/requirements.pip.txt (line 2)):
        Expected sha256 000de205dc2a7a9381620b3a2b63e9440dc4633b4ee572cc31bb853f12bda994
             Got        122de205dc2a7a9381620b3a2b63e9440dc4633b4ee572cc31bb853f12bda994
Removing intermediate container 9a6cca31159b
"""


def tracked(text: str = STREAM) -> _Tracker:
    ticks = iter(float(i) for i in range(100))
    tracker = _Tracker(clock=lambda: next(ticks))
    for line in text.splitlines():
        tracker.feed(line)
    return tracker


def test_tracker_follows_stages_steps_and_cache() -> None:
    tracker = tracked()
    assert tracker.stages == ["env", "pip"] and (tracker.step, tracker.total) == (6, 6)
    timings = tracker.finish()
    assert [(t.name, t.steps, t.cached) for t in timings] == [("env", 2, 1), ("pip", 3, 0)]
    assert all(t.seconds > 0 for t in timings)


def test_failure_names_stage_step_package_and_last_output() -> None:
    error = _failure("The command '/bin/sh -c /opt/env/bin/python -m pip install …' returned a non-zero code: 1",
                     tracked(), Path("out/build.log"))
    line = error.one_line()
    assert line.startswith("stage 'pip', step 6/6 failed (package c2d-pure): RUN exited with code 1; last output: ")
    assert "Expected sha256 000de205" in line and "Removing intermediate" not in line
    assert "fix: read the full log in out/build.log" in line
    assert "\n" not in line


@pytest.mark.parametrize(
    ("lines", "package"),
    [
        (["Building wheel for c2d-broken (pyproject.toml): finished with status 'error'",
          "  error: subprocess-exited-with-error", "ERROR: Failed building wheel for c2d-broken",
          "Failed to build c2d-broken", "ERROR: Failed to build one or more wheels"], "c2d-broken"),
        (["Processing ./tmp/c2d/src/c2d-gitpkg.tar.gz (from -r /tmp/c2d/build-requirements.txt (line 2))",
          "ERROR: Hashes are required in --require-hashes mode"], "c2d-gitpkg"),
        (["ERROR: Could not find a version that satisfies the requirement numpy==9 (from versions: none)"], "numpy"),
        (["Traceback (most recent call last):", "  File \"install_lock.py\", line 3", "OSError: disk full"], None),
    ],
)
def test_package_from_output(lines: list[str], package: str | None) -> None:
    assert package_from_output(lines) == package


# Podman's API service builds with Buildah; its stream, as recorded from podman 4.3.1 here.
BUILDAH_STREAM = """\
[1/2] STEP 1/2: FROM debian:bookworm-slim AS env
[1/2] STEP 2/2: RUN install
--> Using cache 3908954f8ff6e263c3280577829cad6c64ed7d5bdd4b00055faac2d70370eb36
--> 3908954f8ff
[2/2] STEP 1/3: FROM env AS pip
[2/2] STEP 2/3: COPY conda2docker/requirements.pip.txt /tmp/c2d/
--> dcd0109d902
[2/2] STEP 3/3: RUN /opt/env/bin/python -m pip install -r /tmp/c2d/requirements.pip.txt
Collecting c2d-broken
"""


def test_tracker_reads_buildahs_stream_and_failure() -> None:
    tracker = tracked(BUILDAH_STREAM)
    assert tracker.stages == ["env", "pip"] and (tracker.step, tracker.total) == (3, 3)
    assert [(t.name, t.steps, t.cached) for t in tracker.finish()] == [("env", 2, 1), ("pip", 3, 0)]
    assert _Tracker().feed("STEP 1/2: FROM debian:bookworm-slim").line == "Step 1/2 : FROM debian:bookworm-slim"
    error = _failure('building at STEP "RUN /opt/env/bin/python -m pip install -r /tmp/c2d/r.txt": '
                     "while running runtime: exit status 3", tracked(BUILDAH_STREAM), Path("b.log"))
    line = error.one_line()
    assert line.startswith("stage 'pip', step 3/3 failed (package c2d-broken): RUN exited with code 3; "
                           "last output: "), line
    assert "-->" not in line


def test_failure_without_a_stage_says_the_build() -> None:
    error = _failure("Cannot locate specified Dockerfile: Dockerfile", _Tracker(), Path("b.log"))
    assert error.one_line().startswith("the build failed: Cannot locate specified Dockerfile")


def test_progress_lines_off_a_terminal() -> None:
    stream = io.StringIO()
    tracker = _Tracker()
    with ProgressDisplay(stream=stream, interactive=False) as display:
        for line in STREAM.splitlines():
            display.update(tracker.feed(line))
    display.summary(BuildResult("sha256:x", "t", Path("b.log"), 6, ["env", "pip"],
                                [StageTiming("env", 2, 1, 0.5), StageTiming("pip", 3, 0, 2.25)]))
    lines = stream.getvalue().splitlines()
    assert lines[0] == 'Step 1/6 : ARG RUNTIME_IMAGE="debian:bookworm-slim"'
    assert lines[1] == "[env] Step 2/6 : FROM ${RUNTIME_IMAGE} AS env"
    assert lines[2:4] == ["[env] Step 3/6 : RUN install", "    (cached)"]
    assert "[pip] Step 6/6 : RUN /opt/env/bin/python -m pip install" in lines[6]
    assert not any("Processing" in line for line in lines)  # RUN output goes to the log only
    assert lines[-2:] == ["  env          2 steps,   1 cached,    0.5 s",
                          "  pip          3 steps,   0 cached,    2.2 s"]


def test_progress_live_display_renders_stages() -> None:
    stream = io.StringIO()
    tracker = _Tracker()
    with ProgressDisplay(stream=stream, interactive=True, stage_steps={"env": 2, "pip": 3}) as display:
        for line in STREAM.splitlines():
            display.update(tracker.feed(line))
    text = stream.getvalue()
    assert "env" in text and "pip" in text and "2/2" in text and "3/3" in text


def test_quiet_display_prints_nothing() -> None:
    stream = io.StringIO()
    with ProgressDisplay(enabled=False, stream=stream) as display:
        for line in STREAM.splitlines():
            display.update(_Tracker().feed(line))
    assert stream.getvalue() == ""


@pytest.mark.parametrize("command", ["build", "verify"])
def test_engine_unreachable_says_how_to_start_it(tmp_path: Path, command: str) -> None:
    (tmp_path / "Dockerfile").write_text("FROM debian:bookworm-slim\n")
    argv = [str(tmp_path)] if command == "build" else ["some/image:1"]
    env = {**os.environ, "DOCKER_HOST": "unix:///nonexistent.sock"}
    done = subprocess.run([sys.executable, "-m", "conda2docker", command, *argv],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 4, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0] == (
        "conda2docker: error: no Docker engine answers at unix:///nonexistent.sock; fix: start the "
        "engine (e.g. `sudo systemctl start docker`, or `dockerd &`), or point DOCKER_HOST at a running one"
    )


def test_build_without_a_dockerfile_is_an_input_problem(tmp_path: Path) -> None:
    from conda2docker.cli import main

    assert main(["build", str(tmp_path), "--variant", "gpu"]) == 2  # no Dockerfile.gpu
    assert main(["build", str(tmp_path), "--variant", "tpu"]) == 2
    assert main(["build", str(tmp_path), "--build-arg", "NOEQUALS"]) == 2


def test_a_context_without_a_dockerfile_is_reported_before_any_engine_is_asked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """No engine answers here: the missing Dockerfile is still the one problem said (exit 2),
    not "start the engine", which would only lead to it."""
    from conda2docker.cli import main

    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'no-engine.sock'}")
    assert main(["build", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"no Dockerfile in {tmp_path}" in err and "engine" not in err
