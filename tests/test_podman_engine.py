"""``build`` and ``verify`` through Podman's Docker-compatible API (``podman system service``).

The same walking skeleton as ``test_e2e_skeleton`` (a local channel, the rattler installer,
vendored, built with no network), converted and built and verified with Podman only: Debian's
podman 4.3 runs rootful here with storage of its own (tests/support/podman.py). Chosen once
with ``--engine podman`` (which finds the socket through ``CONTAINER_HOST``, the way Podman's
own remote client is pointed at a service) and once with ``DOCKER_HOST``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from conda2docker.cli import main
from support.channel import TestChannel
from support.engine import run_in_image
from support.podman import PodmanService

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("engine")]


def test_build_and_verify_through_podman(
    tmp_path: Path, test_channel: TestChannel, podman_engine: PodmanService,
    image_tag_factory: Callable[[str], str], capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import docker

    env = tmp_path / "environment.yml"
    env.write_text(f"name: hello\nchannels:\n  - {test_channel.name}\n"
                   "dependencies:\n  - python=3.11\n  - hello-noarch\n")
    out = tmp_path / "out"
    # convert --vendor measures the activation scripts in the env stage: through Podman too.
    monkeypatch.setenv("DOCKER_HOST", podman_engine.address)
    assert main(["convert", str(env), "-o", str(out), "--installer", "rattler", "--vendor",
                 "--channel-alias", test_channel.root.as_uri()]) == 0
    monkeypatch.delenv("DOCKER_HOST")

    monkeypatch.setenv("CONTAINER_HOST", podman_engine.address)
    tag = image_tag_factory("podman-skeleton")  # the session's cleanup asks dockerd: not there
    capsys.readouterr()
    assert main(["build", str(out), "--tag", tag, "--network", "none", "--engine", "podman"]) == 0
    captured = capsys.readouterr()
    assert f"note: built by Podman (Buildah) at {podman_engine.address}" in captured.err
    assert "[env] Step 1/" in captured.err  # Buildah's "[1/2] STEP 1/5:" read as a step
    assert captured.out.startswith(f"built {tag} (sha256:")
    log = (out / "build.log").read_text()
    assert "STEP 1/" in log and "COMMIT" in log

    client = docker.DockerClient(base_url=podman_engine.address)
    try:
        # Podman names short tags fully qualified (docker.io/…); the short name still finds it.
        assert client.images.get(tag).tags == [f"docker.io/{tag}"]
        code, output = run_in_image(client, tag, ["hello-noarch"])
        assert code == 0 and "hello from chello 0.1.0" in output, output
    finally:
        client.close()
    plain = docker.from_env()
    try:
        with pytest.raises(docker.errors.ImageNotFound):
            plain.images.get(tag)  # built by Podman, not by dockerd
    finally:
        plain.close()
    capsys.readouterr()
    assert main(["verify", tag]) == 2  # dockerd (the default) does not have it: said, with the fix
    assert "--engine podman" in capsys.readouterr().err

    assert main(["verify", tag, "--format", "json", "--engine", "podman",
                 "--lock", str(out / "conda-lock.yml")]) == 0
    report = json.loads(capsys.readouterr().out)
    checks = {c["id"]: c["status"] for c in report["checks"]}
    for check in ("python", "lock", "user", "locale", "compilers", "caches", "sources"):
        assert checks.get(check) == "pass", (check, [(c["id"], c["status"], c["detail"])
                                                     for c in report["checks"]])
    assert checks["activation"] == "skip" and checks["gpu"] == "skip"  # none here, as with dockerd
    assert report["image"]["user"] == "10001:10001" and report["image"]["prefix"] == "/opt/env"
    assert report["image"]["platform"] == "linux-64" and report["image"]["variant"] == "cpu"
    # Podman's history carries no tags: the base is found by the image ids in it.
    sizes = report["sizes"]
    assert sizes["base"]["image"] == "docker.io/library/debian:bookworm-slim", sizes["base"]
    assert 0 < sizes["base"]["bytes"] < sizes["total_bytes"] == report["image"]["size_bytes"]
    monkeypatch.delenv("CONTAINER_HOST")

    # DOCKER_HOST selects it as well; a failing step is reported from Buildah's stream.
    monkeypatch.setenv("DOCKER_HOST", podman_engine.address)
    assert main(["verify", tag, "--format", "json", "--context", str(out)]) == 0  # stage sizes too
    sizes = json.loads(capsys.readouterr().out)["sizes"]
    assert [stage["name"] for stage in sizes["stages"]] == ["env"], sizes["stages"]  # built with target=
    assert sizes["base"]["image"] == "debian:bookworm-slim" and sizes["by_stage"]["env"] > 0
    assert set(sizes["by_stage"]) == {"base", "env", "runtime"}
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "Dockerfile").write_text(
        "FROM debian:bookworm-slim AS env\nRUN echo 'Collecting c2d-broken' && exit 3\n")
    assert main(["build", str(broken), "--tag", image_tag_factory("podman-broken"), "--quiet"]) == 4
    line = capsys.readouterr().err.strip()
    assert line.startswith("conda2docker: error: stage 'env', step 2/2 failed (package c2d-broken): "
                           "RUN exited with code 3"), line


def test_bake_with_engine_podman_builds_through_podmans_api(
    tmp_path: Path, podman_engine: PodmanService, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "lab"
    (out / "tiny").mkdir(parents=True)
    (out / "tiny" / "Dockerfile").write_text("FROM debian:bookworm-slim AS runtime\nRUN echo tiny > /tiny\n")
    (out / "docker-bake.hcl").write_text(
        'group "default" {\n  targets = ["tiny-cpu"]\n}\n'
        'target "tiny-cpu" {\n  context = "tiny"\n  tags = ["c2d-test/bake-podman:1", "c2d-test/bake-podman:2"]\n'
        '  labels = { "org.example.lab" = "physics" }\n}\n')
    monkeypatch.setenv("CONTAINER_HOST", podman_engine.address)
    assert main(["build", str(out), "--bake", "--engine", "podman", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert ("note: buildx is not available (--engine podman: buildx drives BuildKit, which Podman's "
            f"API does not offer): building 1 target(s) one by one through Podman's API at "
            f"{podman_engine.address}") in captured.err
    assert captured.out.startswith("tiny-cpu: built c2d-test/bake-podman:1 sha256:")
    listed = podman_engine.run("image", "inspect", "--format", "{{.RepoTags}} {{index .Labels \"org.example.lab\"}}",
                               "c2d-test/bake-podman:1")
    assert listed.stdout.split() == ["[docker.io/c2d-test/bake-podman:1", "docker.io/c2d-test/bake-podman:2]",
                                     "physics"], listed


def test_engine_podman_says_how_to_start_the_service(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    from conda2docker.engine import client

    monkeypatch.setenv("CONTAINER_HOST", f"unix://{tmp_path}/none.sock")
    monkeypatch.setattr(client, "ROOTFUL_PODMAN_SOCKET", str(tmp_path / "rootful.sock"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "xdg"))
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "Dockerfile").write_text("FROM debian:bookworm-slim\n")
    assert main(["build", str(tmp_path / "ctx"), "--engine", "podman", "--quiet"]) == 4
    line = capsys.readouterr().err.strip()
    assert line.startswith(f"conda2docker: error: no Podman API socket at {tmp_path}/none.sock, ")
    assert "fix: " in line and "podman system service --time=0 unix://" in line
