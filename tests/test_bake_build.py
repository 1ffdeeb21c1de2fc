"""``conda2docker build OUT --bake``: buildx when the CLI plugin is there, else the Engine API.

buildx cannot be installed here (Debian bookworm ships no docker-buildx; Docker Hub and GitHub
are unreachable), so the buildx path is tested against a STAND-IN for the CLI plugin: a
``docker-buildx`` executable in a temporary ``$DOCKER_CONFIG/cli-plugins`` that answers the
docker CLI's ``docker-cli-plugin-metadata`` handshake, records its argv and working directory,
prints the output the test chooses and exits with the code the test chooses. The real docker
CLI (``/usr/local/bin/docker``) finds and runs it exactly as it would run buildx. The output it
prints is buildx's plain progress as buildx's source writes it: vertices prefixed with the
target when several are built (util/progress/multiwriter.go), ``#N ERROR: …`` for a failed
vertex, and ``ERROR: target <name>: failed to solve: …`` then exit 1 for a failed build
(build/build.go wraps the error with the target, cmd/buildx/main.go prints ``ERROR: %v``).

The fallback builds for real with the local engine: a context made by today's single-env
``convert`` and a hand-written bake file (the contract of ``convert ENV… -o OUT``: contexts
``OUT/<name>/``, targets ``<name>-<variant>``, a ``default`` group).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conda2docker.cli import main
from support.channel import TestChannel
from support.engine import run_in_image

STANDIN = """\
#!{python}
# A STAND-IN for docker's buildx CLI plugin (tests/test_bake_build.py): not buildx.
import json, os, sys
if sys.argv[1:] == ["docker-cli-plugin-metadata"]:
    print(json.dumps({{"SchemaVersion": "0.1.0", "Vendor": "conda2docker tests (stand-in)",
                      "Version": "v0.0.0-standin", "ShortDescription": "stand-in for buildx"}}))
    sys.exit(0)
scenario = json.load(open(os.environ["C2D_BUILDX_SCENARIO"]))
with open(os.environ["C2D_BUILDX_RECORD"], "a") as record:
    record.write(json.dumps({{"argv": sys.argv[1:], "cwd": os.getcwd()}}) + "\\n")
if sys.argv[1:3] == ["buildx", "version"]:
    print("github.com/docker/buildx v0.0.0-standin 0000000")
    sys.exit(0)
for line in scenario["lines"]:
    print(line, file=sys.stderr, flush=True)
if "metadata" in scenario and "--metadata-file" in sys.argv:
    with open(sys.argv[sys.argv.index("--metadata-file") + 1], "w") as out:
        json.dump(scenario["metadata"], out)
sys.exit(scenario["exit"])
"""

BAKE = """\
group "default" {
  targets = ["hello-cpu", "hello-gpu"]
}

target "hello-cpu" {
  context    = "hello"
  dockerfile = "Dockerfile"
  tags       = ["registry.example.org/lab/hello:cpu"]
  platforms  = ["linux/amd64", "linux/arm64"]
  cache-from = ["type=registry,ref=registry.example.org/lab/cache:hello"]
  cache-to   = ["type=registry,ref=registry.example.org/lab/cache:hello,mode=max"]
}

target "hello-gpu" {
  context    = "hello"
  dockerfile = "Dockerfile.gpu"
  tags       = ["registry.example.org/lab/hello:gpu"]
}
"""


def hand_context(out: Path) -> Path:
    (out / "hello").mkdir(parents=True)
    for name in ("Dockerfile", "Dockerfile.gpu"):
        (out / "hello" / name).write_text("FROM debian:bookworm-slim\nRUN true\n")
    (out / "docker-bake.hcl").write_text(BAKE)
    return out


@pytest.fixture
def standin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[list[str], int, dict[str, Any] | None], Path]:
    """``arrange(lines, exit, metadata)`` → the record file the stand-in appends to."""
    if shutil.which("docker") is None:
        pytest.skip("no docker CLI on PATH: the stand-in plugin is run by the real docker CLI")
    config = tmp_path / "docker-config"
    (config / "cli-plugins").mkdir(parents=True)
    plugin = config / "cli-plugins" / "docker-buildx"
    plugin.write_text(STANDIN.format(python=sys.executable))
    plugin.chmod(0o755)
    record = tmp_path / "buildx-record.jsonl"
    scenario = tmp_path / "buildx-scenario.json"
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    monkeypatch.setenv("C2D_BUILDX_RECORD", str(record))
    monkeypatch.setenv("C2D_BUILDX_SCENARIO", str(scenario))

    def arrange(lines: list[str], exit_code: int, metadata: dict[str, Any] | None = None) -> Path:
        data: dict[str, Any] = {"lines": lines, "exit": exit_code}
        if metadata is not None:
            data["metadata"] = metadata
        scenario.write_text(json.dumps(data))
        return record

    return arrange


def calls(record: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in record.read_text().splitlines()] if record.exists() else []


def test_bake_runs_buildx_streams_its_progress_and_reports_each_target(
    tmp_path: Path, standin: Any, capsys: pytest.CaptureFixture[str],
) -> None:
    out = hand_context(tmp_path / "out")
    record = standin([
        "#0 building with \"default\" instance using docker driver",
        "#1 [internal] load local bake definitions",
        "#1 reading docker-bake.hcl 612B / 612B done",
        "#5 [hello-cpu internal] load build definition from Dockerfile",
        "#9 [hello-cpu 2/2] RUN true",
        "#9 DONE 0.2s",
        "#10 [hello-gpu 2/2] RUN true",
        "#10 DONE 0.2s",
    ], 0, {"hello-cpu": {"containerimage.digest": "sha256:" + "a" * 64,
                         "image.name": "registry.example.org/lab/hello:cpu"},
           "hello-gpu": {"containerimage.digest": "sha256:" + "b" * 64}})
    assert main(["build", str(out), "--bake", "--load", "--build-arg", "APP_UID=20001"]) == 0
    (version, bake) = calls(record)
    assert version["argv"] == ["buildx", "version"]
    assert bake["argv"] == ["buildx", "bake", "--file", "docker-bake.hcl", "--progress", "plain",
                            "--metadata-file", "bake-metadata.json", "--load",
                            "--set", "*.args.APP_UID=20001"]
    assert Path(bake["cwd"]) == out.resolve()  # bake resolves the contexts from OUT
    captured = capsys.readouterr()
    assert captured.err.splitlines()[0] == (  # said before buildx runs: the file may not be yours
        "note: cache-to exports every stage's layers to registry.example.org")
    assert "#9 [hello-cpu 2/2] RUN true" in captured.err  # streamed as it came
    assert "note: built by github.com/docker/buildx v0.0.0-standin 0000000" in captured.err
    assert captured.out.splitlines()[:2] == [
        "hello-cpu: built registry.example.org/lab/hello:cpu sha256:" + "a" * 64 + " in "
        + captured.out.splitlines()[0].rsplit(" in ", 1)[1],
        "hello-gpu: built sha256:" + "b" * 64 + " in " + captured.out.splitlines()[1].rsplit(" in ", 1)[1],
    ]
    log = (out / "bake.log").read_text()
    assert "#10 [hello-gpu 2/2] RUN true" in log and "# exit 0" in log


def test_a_failing_target_is_named_with_buildkits_error_and_the_others_as_unfinished(
    tmp_path: Path, standin: Any, capsys: pytest.CaptureFixture[str],
) -> None:
    out = hand_context(tmp_path / "out")
    failure = 'process "/bin/sh -c true" did not complete successfully: exit code: 3'
    record = standin([
        "#9 [hello-gpu 2/2] RUN true",
        f"#9 ERROR: {failure}",
        "#10 [hello-cpu 2/2] RUN true",
        "#10 CANCELED",
        "------",
        " > [hello-gpu 2/2] RUN true:",
        "------",
        f"ERROR: target hello-gpu: failed to solve: {failure}",
    ], 1)
    assert main(["build", str(out), "--bake", "--bake-target", "default", "--quiet"]) == 4
    assert calls(record)[1]["argv"][-2:] == ["--", "default"]
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert f"hello-gpu: failed: failed to solve: {failure}" in lines
    assert "hello-cpu: not finished: bake stops every build when one fails; no result was recorded" in lines
    error = captured.err.strip().splitlines()[-1]
    assert error.startswith("conda2docker: error: 2 of 2 bake target(s) did not build: "
                            "hello-cpu (not finished); hello-gpu (failed); fix: read ")
    assert "#9 ERROR" not in captured.err  # --quiet: the stream goes to bake.log only
    assert f"#9 ERROR: {failure}" in (out / "bake.log").read_text()


def test_push_is_passed_on_and_where_it_goes_is_said_first(
    tmp_path: Path, standin: Any, capsys: pytest.CaptureFixture[str],
) -> None:
    out = hand_context(tmp_path / "out")
    (out / "docker-bake.hcl").write_text(BAKE.replace('  cache-to   = ["type=registry,ref=registry.example.org/lab/cache:hello,mode=max"]\n', "")
                                         .replace("registry.example.org/lab/hello:gpu", "ghcr.io/someone/hello:gpu"))
    record = standin(["#9 [hello-cpu 2/2] RUN true"], 0, {})
    assert main(["build", str(out), "--bake", "--push", "--no-cache", "--quiet"]) == 0
    assert calls(record)[1]["argv"][8:] == ["--push", "--no-cache"]
    assert capsys.readouterr().err.splitlines()[0] == (
        "note: --push sends the images to registry.example.org, ghcr.io")
    assert main(["build", str(out), "--bake", "--push", "--load"]) == 2
    assert "--push and --load cannot be used together" in capsys.readouterr().err


def test_a_hostile_bake_file_never_reaches_buildx(
    tmp_path: Path, standin: Any, capsys: pytest.CaptureFixture[str],
) -> None:
    out = hand_context(tmp_path / "out")
    (out / "docker-bake.hcl").write_text(
        'target "default" {\n  context = "hello"\n  output = ["type=local,dest=/"]\n'
        '  secret = ["type=file,id=k,src=/root/.ssh/id_rsa"]\n}\n')
    os.symlink("/etc", out / "etc")
    record = standin([], 0)
    assert main(["build", str(out), "--bake"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    bake = out / "docker-bake.hcl"
    assert [line.split(": ", 2)[2].split(" ", 1)[0] for line in lines] == [f"{bake}:3:3:", f"{bake}:4:3:"]
    assert calls(record) == []
    (out / "docker-bake.hcl").write_text('target "default" {\n  context = "etc"\n}\n')
    assert main(["build", str(out), "--bake"]) == 2
    line = capsys.readouterr().err.strip()
    assert "docker-bake.hcl:2:3: target 'default': context 'etc' resolves to /etc, outside " in line
    assert calls(record) == []
    (out / "docker-bake.hcl").write_text('target "default" {\n  context = "hello"\n'
                                         '  cache-to = ["type=local,dest=etc/buildx"]\n}\n')
    assert main(["build", str(out), "--bake"]) == 2
    line = capsys.readouterr().err.strip()
    assert "docker-bake.hcl:3:3: target 'default': local cache 'etc/buildx' resolves to /etc/buildx" in line
    assert calls(record) == []


def test_buildx_output_is_read_per_target_and_platform() -> None:
    from conda2docker.engine.bake import _BuildxOutput

    seen = _BuildxOutput(("scipy-cpu", "scipy-gpu"))
    for line in ["#1 [internal] load local bake definitions",
                 "#7 [scipy-cpu linux/arm64 env 3/5] RUN install",
                 "#7 ERROR: process \"/bin/sh -c install\" did not complete successfully: exit code: 2",
                 "ERROR: target scipy-cpu: failed to solve: process did not complete successfully"]:
        seen.feed(line)
    assert seen.vertex_target == {"7": "scipy-cpu"}
    assert seen.vertex_errors == {"scipy-cpu": ['process "/bin/sh -c install" did not complete successfully: exit code: 2']}
    assert seen.failed == {"scipy-cpu": "failed to solve: process did not complete successfully"}
    single = _BuildxOutput(("only",))  # one target: buildx prefixes nothing
    for line in ["#5 [env 2/2] RUN x", "#5 ERROR: boom", "ERROR: failed to solve: boom"]:
        single.feed(line)
    assert single.failed == {"only": "failed to solve: boom"} and single.vertex_errors == {"only": ["boom"]}


def test_what_the_fallback_loses_is_said_from_the_targets() -> None:
    from conda2docker.bakefile import BakeTarget
    from conda2docker.engine.bake import lost_without_buildx
    from conda2docker.errors import SourceLocation

    here = SourceLocation(Path("docker-bake.hcl"), 1, 1)
    targets = [BakeTarget("a", here, platforms=("linux/amd64", "linux/arm64"), buildx_only=("cache-to",)),
               BakeTarget("b", here, platforms=("linux/ppc64le",), buildx_only=("attest", "cache-to"))]
    assert lost_without_buildx(targets, "linux/amd64") == [
        "platforms other than the engine's linux/amd64 are skipped (linux/arm64, linux/ppc64le)",
        "attest, cache-to ignored (the classic builder has no BuildKit cache import/export, "
        "attestations or those limits)",
        "targets build one after another, not in parallel"]
    assert lost_without_buildx([BakeTarget("c", here)], "linux/amd64") == [
        "targets build one after another, not in parallel"]


def test_the_fallback_sets_the_platform_args_buildkit_would() -> None:
    from conda2docker.engine.bake import platform_args

    dockerfile = ("FROM debian:bookworm-slim AS env\nARG TARGETARCH\narg   BUILDPLATFORM TARGETOS=linux\n"
                  "COPY conda2docker/conda-${TARGETARCH:-amd64}.lock /tmp/c2d/conda.lock\n")
    assert platform_args(dockerfile, "linux/arm64") == {
        "TARGETOS": "linux", "TARGETARCH": "arm64", "BUILDPLATFORM": "linux/arm64"}
    assert platform_args("FROM x\nARG TARGETVARIANT\n", "linux/arm/v7") == {"TARGETVARIANT": "v7"}
    assert platform_args("FROM x\nRUN echo $TARGETARCH\n", "linux/amd64") == {}  # not declared: not set


def test_bake_options_are_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = hand_context(tmp_path / "out")
    assert main(["build", str(out)]) == 2  # a lab's OUT has no Dockerfile of its own
    assert capsys.readouterr().err.strip().endswith(
        "(it holds docker-bake.hcl); fix: build every environment with `conda2docker build OUT --bake`, "
        "or one context: `conda2docker build OUT/<name>`")
    assert main(["build", str(out), "--bake", "--tag", "x:1"]) == 2
    assert "--tag cannot be used with --bake" in capsys.readouterr().err
    assert main(["build", str(out), "--push"]) == 2
    assert "--bake-target, --push and --load apply to --bake" in capsys.readouterr().err
    assert main(["build", str(tmp_path), "--bake"]) == 2
    assert f"no docker-bake.hcl in {tmp_path}" in capsys.readouterr().err
    (out / "docker-bake.hcl").write_text('group "default" {\n  targets = []\n}\n')
    assert main(["build", str(out), "--bake"]) == 2
    assert "the default group names no target in docker-bake.hcl" in capsys.readouterr().err


LAB = """\
group "default" {
  targets = ["hello-cpu", "hello-arm", "broken-cpu"]
}

target "hello-cpu" {
  context    = "hello"
  dockerfile = "Dockerfile"
  tags       = ["%(first)s", "%(second)s"]
  labels     = { "org.example.lab" = "physics" }
  platforms  = ["linux/amd64", "linux/arm64"]
  cache-to   = ["type=registry,ref=registry.example.org/lab/cache:hello,mode=max"]
  network    = "none"
}

target "hello-arm" {
  inherits  = ["hello-cpu"]
  platforms = ["linux/arm64"]
}

target "broken-cpu" {
  context = "broken"
  tags    = ["%(broken)s"]
}
"""


@pytest.mark.slow
def test_without_buildx_the_targets_build_one_by_one_through_the_engine(
    tmp_path: Path, test_channel: TestChannel, docker_client: Any, base_image: str,
    image_tag_factory: Callable[[str], str], capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = tmp_path / "environment.yml"
    env.write_text(f"name: hello\nchannels:\n  - {test_channel.name}\n"
                   "dependencies:\n  - python=3.11\n  - hello-noarch\n")
    out = tmp_path / "lab"
    assert main(["convert", str(env), "-o", str(out / "hello"), "--installer", "rattler", "--vendor",
                 "--channel-alias", test_channel.root.as_uri()]) == 0
    (out / "broken").mkdir()
    (out / "broken" / "Dockerfile").write_text(
        "FROM debian:bookworm-slim AS env\nRUN echo 'Collecting c2d-broken' && exit 3\n")
    first, second = image_tag_factory("bake-hello"), image_tag_factory("bake-hello-2")
    (out / "docker-bake.hcl").write_text(LAB % {"first": first, "second": second,
                                                "broken": image_tag_factory("bake-broken")})
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-plugins"))  # no user-installed buildx
    from conda2docker.engine.bake import buildx_version

    if buildx_version()[0] is not None:
        pytest.skip("buildx is installed system-wide here: this test is for a machine without it")
    capsys.readouterr()
    assert main(["build", str(out), "--bake", "--quiet", "--push"]) == 4
    captured = capsys.readouterr()
    assert "note: --push needs buildx: nothing was pushed; push the tags with `docker push TAG`" in captured.err
    note = next(line for line in captured.err.splitlines() if line.startswith("note: buildx is not available"))
    # docker 28's words; docker 20.10 (Debian's) says "docker: 'buildx' is not a docker command."
    assert ("(docker: unknown command: docker buildx)" in note
            or "(docker: 'buildx' is not a docker command.)" in note or "(no docker CLI on PATH)" in note), note
    assert "building 3 target(s) one by one through the Docker Engine API at " in note
    assert "platforms other than the engine's linux/amd64 are skipped (linux/arm64)" in note
    assert "cache-to ignored" in note
    lines = {line.split(":", 1)[0]: line for line in captured.out.splitlines()}
    assert lines["hello-cpu"].startswith(f"hello-cpu: built {first} sha256:")
    assert lines["hello-cpu"].endswith(": linux/arm64 skipped (needs buildx)")
    assert lines["hello-arm"] == ("hello-arm: skipped: platforms linux/arm64 only; this engine builds "
                                  "linux/amd64 (other platforms need buildx: QEMU emulation or a remote builder)")
    assert lines["broken-cpu"].startswith("broken-cpu: failed: stage 'env', step 2/2 failed (package "
                                          "c2d-broken): RUN exited with code 3")
    assert captured.err.strip().splitlines()[-1].startswith(
        "conda2docker: error: 1 of 3 bake target(s) did not build: broken-cpu (failed)")

    image = docker_client.images.get(first)
    assert second in image.tags and first in image.tags
    assert image.labels["org.example.lab"] == "physics"  # the target's labels, beside the Dockerfile's
    assert image.labels["io.conda2docker.variant"] == "cpu"
    code, output = run_in_image(docker_client, first, ["hello-noarch"])
    assert code == 0 and "hello from chello 0.1.0" in output, output
    assert "Step 1/" in (out / "hello" / "build.hello-cpu.log").read_text()
    assert "broken-cpu: failed" in (out / "bake.log").read_text()
    assert main(["verify", first, "--format", "json"]) == 0
    checks = {c["id"]: c["status"] for c in json.loads(capsys.readouterr().out)["checks"]}
    assert checks["user"] == checks["lock"] == checks["python"] == "pass"


@pytest.mark.slow
def test_a_lab_converted_in_one_run_is_built_by_bake_through_the_engine(
    tmp_path: Path, test_channel: TestChannel, docker_client: Any, base_image: str,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Items 1 and 3 together: `convert ENV… -o OUT` writes the contexts and the bake file, and
    `build OUT --bake` builds each target (here without buildx, through the engine)."""
    import uuid

    envs = []
    for name, extra in (("alpha", "hello-noarch"), ("beta", "chello")):
        env = tmp_path / f"{name}.yml"
        env.write_text(f"name: {name}\nchannels: [{test_channel.name}]\ndependencies: [python=3.11, {extra}]\n")
        envs.append(str(env))
    out = tmp_path / "lab"
    prefix = f"c2d-test/lab-{uuid.uuid4().hex[:8]}"
    assert main(["convert", *envs, "-o", str(out), "--installer", "rattler", "--vendor",
                 "--channel-alias", test_channel.root.as_uri(),
                 "--tag-template", prefix + "-{name}:{variant}-{lock_hash}"]) == 0
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "no-plugins"))
    from conda2docker.engine.bake import buildx_version

    if buildx_version()[0] is not None:
        pytest.skip("buildx is installed system-wide here: this test is for a machine without it")
    capsys.readouterr()
    tags: list[str] = []
    try:
        code = main(["build", str(out), "--bake", "--quiet"])
        lines = capsys.readouterr().out.splitlines()
        tags = [line.split()[2] for line in lines if ": built " in line]
        assert code == 0, lines
        assert [line.split(":")[0] for line in lines[:2]] == ["alpha-cpu", "beta-cpu"]
        assert all(tag.startswith(prefix) for tag in tags) and len(tags) == 2
        code, output = run_in_image(docker_client, tags[0], ["hello-noarch"])
        assert code == 0 and "hello from chello" in output, output
        image = docker_client.images.get(tags[1])
        assert image.labels["io.conda2docker.variant"] == "cpu"
        assert image.labels["org.opencontainers.image.title"] == "beta"
    finally:
        for tag in tags:
            with contextlib.suppress(Exception):
                docker_client.images.remove(tag)
