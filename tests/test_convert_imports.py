"""What a single environment's ``convert`` loads (issue 21: convert at the solver's speed).
Import sets and behaviour, never timings: the figures are benchmarks/lock_speed.py's.

Real parts: the local channel of real packages (tests/support/channel.py), the solver.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conda2docker.cli import main
from conda2docker.resolve.conda import CondaSolveResult
from support.channel import TestChannel

NOT_FOR_ONE_ENVIRONMENT = ("conda2docker.lab", "conda2docker.engine", "conda2docker.init",
                           "conda2docker.plan.bake", "conda2docker.render.bake",
                           "conda2docker.bakefile", "conda2docker.render.apptainer",
                           "conda2docker.cuda.images", "importlib.resources")
"""Modules a CPU ``convert`` of one environment file has no use for (the lab, bake files, the
engine, ``init``, Apptainer, NVIDIA's tag table and the package-data reader)."""
COMMAND_MODULES = {"conda2docker.commands", "conda2docker.commands.convert",
                   "conda2docker.commands._options", "conda2docker.commands._plain_values"}


def _run(code: str, cwd: Path) -> Any:
    """The JSON the last line of ``code``'s output holds (run in a fresh interpreter)."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=cwd)
    return json.loads(done.stdout.splitlines()[-1])


def _environment(tmp_path: Path, channel: TestChannel) -> Path:
    env = tmp_path / "environment.yml"
    env.write_text(f"channels: [{channel.name}]\ndependencies: [chello]\n")
    return env


def test_a_single_environment_convert_loads_no_lab_bake_engine_or_init_module(
        tmp_path: Path, small_channel: TestChannel) -> None:
    env, out = _environment(tmp_path, small_channel), tmp_path / "out"
    argv = ["convert", str(env), "-o", str(out), "--channel-alias", small_channel.alias,
            "--default-channels", "none", "--activation", "table"]
    code, loaded = _run(
        "import json, os, sys\n"
        "from conda2docker.cli import main\n"
        f"code = main({argv!r})\n"
        "print(json.dumps([code, sorted(sys.modules)]))\n"
        "sys.stdout.flush()\n"
        "os._exit(0)\n", tmp_path)
    assert code == 0
    assert (out / "Dockerfile").is_file()
    heavy = [m for m in loaded if m.startswith(NOT_FOR_ONE_ENVIRONMENT)
             or (m.startswith("conda2docker.commands") and m not in COMMAND_MODULES)]
    assert not heavy


def test_a_single_environment_with_a_tag_template_still_gets_its_bake_file(
        tmp_path: Path, small_channel: TestChannel) -> None:
    env, out = _environment(tmp_path, small_channel), tmp_path / "out"
    assert main(["convert", str(env), "-o", str(out), "--channel-alias", small_channel.alias,
                 "--default-channels", "none", "--activation", "table",
                 "--tag-template", "lab/{name}:{variant}"]) == 0
    assert (out / "docker-bake.hcl").is_file()


def test_the_console_script_sets_the_collector_before_loading_the_command_line(tmp_path: Path) -> None:
    loaded = _run("import json, sys; import conda2docker.__main__; "
                  "print(json.dumps(sorted(m for m in sys.modules "
                  "if m.startswith(('conda2docker', 'typer')))))", tmp_path)
    assert loaded == ["conda2docker", "conda2docker.__main__"]


def test_the_solve_result_is_never_formatted(tmp_path: Path, small_channel: TestChannel,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """asyncio.run's ending formats (and drops) its finished task's repr, result included: the
    solve hands its result back outside the task, so thousands of package reprs are not made."""

    formatted: list[object] = []

    def counted(self: object) -> str:  # reprlib, which formats the task, swallows errors
        formatted.append(self)
        return "CondaSolveResult(...)"

    monkeypatch.setattr(CondaSolveResult, "__repr__", counted)
    env = _environment(tmp_path, small_channel)
    before = signal.signal(signal.SIGINT, signal.default_int_handler)  # as in the console script
    try:
        assert main(["lock", str(env), "-o", str(tmp_path / "conda-lock.yml"), "--channel-alias",
                     small_channel.alias, "--default-channels", "none"]) == 0
    finally:
        signal.signal(signal.SIGINT, before)
    assert not formatted


def test_the_last_solves_gateway_is_kept_until_the_next_one(tmp_path: Path) -> None:
    """Freeing a gateway's repodata costs milliseconds a command about to exit need not pay;
    one gateway at most is kept, and solves in a shared scope keep theirs in the scope."""
    from conda2docker.resolve import conda
    from conda2docker.resolve.virtual import VirtualTarget

    request = conda.CondaSolveRequest(dependencies=(), channels=(), target=VirtualTarget("linux-64"),
                                      cache_dir=tmp_path)
    first = conda._gateway(request)
    assert [first] == conda._LAST_GATEWAY
    second = conda._gateway(request)
    assert [second] == conda._LAST_GATEWAY
    with conda.shared_gateways():
        shared = conda._gateway(request)
    assert shared is not second and [second] == conda._LAST_GATEWAY
