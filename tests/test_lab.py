"""``convert`` of many environments: one context each under OUT/<name>/, one bake file, the
failures reported (one line per problem, the true cause) while the others convert.

Real parts: the local channel of real packages (tests/support/channel.py), the solver, the
writer; the bake file is read back by python-hcl2 (tests/support/bake.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conda2docker.cli import main
from support.bake import parse_bake, parse_every_bake_file
from support.channel import TestChannel


@pytest.fixture(autouse=True)
def _every_bake_file_written_parses(tmp_path: Path) -> Iterator[None]:
    """Every bake file a test here writes is read back by python-hcl2 against bake's attributes."""
    yield
    parse_every_bake_file(tmp_path)


def lab_dir(root: Path, channel: str) -> Path:
    lab = root / "lab"
    (lab / "alpha").mkdir(parents=True)
    (lab / "beta").mkdir()
    (lab / "alpha" / "environment.yml").write_text(f"channels: [{channel}]\ndependencies: [chello]\n")
    (lab / "beta" / "environment.yml").write_text(
        f"name: Beta Env\nchannels: [{channel}]\ndependencies: [hello-noarch]\n")
    (lab / "broken.yml").write_text(f"name: broken\nchannels: [{channel}]\ndependencies: [nosuchpkg]\n")
    (lab / "bad.yaml").write_text("name: bad\ndependencies: [chello\n")
    (lab / "compose.yaml").write_text("services: {}\n")  # not an environment: passed over
    (lab / ".hidden").mkdir()
    (lab / ".hidden" / "environment.yml").write_text("dependencies: [chello]\n")
    outside = root / "outside.yml"
    outside.write_text(f"channels: [{channel}]\ndependencies: [chello]\n")
    (lab / "linked.yml").symlink_to(outside)  # a folder search follows no link
    return lab


def convert(*args: str, channel: TestChannel) -> int:
    return main(["convert", *args, "--channel-alias", channel.alias, "--default-channels", "none",
                 "--activation", "table"])


def test_a_lab_directory_converts_every_environment_and_reports_each_failure(
        tmp_path: Path, small_channel: TestChannel, capsys: pytest.CaptureFixture[str]) -> None:
    lab = lab_dir(tmp_path, small_channel.name)
    out = tmp_path / "out"
    code = convert(str(lab), "-o", str(out), channel=small_channel)
    captured = capsys.readouterr()
    assert code == 3, captured.err  # the unsolvable one decides (bad input is 2)
    assert sorted(p.name for p in out.iterdir()) == ["alpha", "beta-env", "docker-bake.hcl"]
    for name in ("alpha", "beta-env"):
        for file in ("Dockerfile", "conda-lock.yml", "compose.yaml", ".dockerignore", "audit.md"):
            assert (out / name / file).is_file(), (name, file)
    errors = [line for line in captured.err.splitlines() if line.startswith("conda2docker: error:")]
    assert errors == [
        f"conda2docker: error: bad: {lab / 'bad.yaml'}:3:1: invalid YAML: expected ',' or ']', but got "
        "'<stream end>'; fix: fix the YAML syntax at this position (check indentation, ':' and '-', "
        "and quotes)",
        f"conda2docker: error: broken: {lab / 'broken.yml'}:3:16: 1 requested package(s) are in no "
        "channel: nosuchpkg (in no channel for linux-64, channels: c2d-test); fix: add the channel "
        "that provides the missing packages (or a --mirror), or remove them",
    ]
    assert "converted 2 of 4 environment(s); failed: bad, broken" in captured.err
    assert f"note: {lab / 'linked.yml'}: a symbolic link, not followed" in captured.err

    bake = parse_bake((out / "docker-bake.hcl").read_text())
    assert bake["group"]["default"]["targets"] == ["alpha-cpu", "beta-env-cpu"]
    beta = bake["target"]["beta-env-cpu"]
    assert beta["context"] == "beta-env" and beta["dockerfile"] == "Dockerfile"
    assert beta["platforms"] == ["linux/amd64"]
    import hashlib

    digest = hashlib.sha256((out / "beta-env" / "conda-lock.yml").read_bytes()).hexdigest()
    assert beta["tags"] == [f"beta-env:cpu-{digest[:12]}"]
    assert beta["labels"]["io.conda2docker.lock.sha256"] == digest
    assert f'io.conda2docker.lock.sha256="{digest}"' in (out / "beta-env" / "Dockerfile").read_text()


def test_a_list_of_files_names_are_unique_and_a_rerun_is_up_to_date(
        tmp_path: Path, small_channel: TestChannel, capsys: pytest.CaptureFixture[str]) -> None:
    envs = []
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
        env = tmp_path / folder / "env.yml"
        env.write_text(f"name: '../Same \"Env\"'\nchannels: [{small_channel.name}]\n"
                       "dependencies: [chello]\n")
        envs.append(str(env))
    out = tmp_path / "out"
    template = "registry.example.org/lab/{name}:{variant}-{lock_hash}"
    assert convert(*envs, "-o", str(out), "--tag-template", template, "--cache", "registry",
                   channel=small_channel) == 0
    assert sorted(p.name for p in out.iterdir()) == ["docker-bake.hcl", "same-env", "same-env-2"]
    bake = parse_bake((out / "docker-bake.hcl").read_text())
    target = bake["target"]["same-env-2-cpu"]
    assert target["tags"][0].startswith("registry.example.org/lab/same-env-2:cpu-")
    assert target["cache-from"] == ["type=registry,ref=registry.example.org/lab/same-env-2:buildcache-cpu"]
    capsys.readouterr()
    assert convert(*envs, "-o", str(out), "--tag-template", template, "--cache", "registry", "--check",
                   channel=small_channel) == 0
    assert convert(*envs, "-o", str(out), "--check", channel=small_channel) == 1
    assert "docker-bake.hcl: differs" in capsys.readouterr().out


def test_a_single_environment_keeps_its_layout_and_gets_a_bake_file_only_when_asked(
        tmp_path: Path, small_channel: TestChannel) -> None:
    env = tmp_path / "environment.yml"
    env.write_text(f"name: solo\nchannels: [{small_channel.name}]\ndependencies: [chello]\n")
    out = tmp_path / "out"
    assert convert(str(env), "-o", str(out), channel=small_channel) == 0
    assert (out / "Dockerfile").is_file() and not (out / "docker-bake.hcl").exists()
    assert convert(str(env), "-o", str(out), "--cache", "local", channel=small_channel) == 0
    target = parse_bake((out / "docker-bake.hcl").read_text())["target"]["solo-cpu"]
    assert target["context"] == "."
    assert target["cache-to"] == ["type=local,dest=.buildx-cache/solo-cpu,mode=max"]


def test_a_file_name_with_a_line_break_stays_on_its_line(
        tmp_path: Path, small_channel: TestChannel, capsys: pytest.CaptureFixture[str]) -> None:
    lab = tmp_path / "lab"
    lab.mkdir()
    (lab / "ok.yml").write_text(f"channels: [{small_channel.name}]\ndependencies: [chello]\n")
    (lab / "evil\nconda2docker: error: forged.yml").write_text("dependencies: [nosuchpkg\n")
    assert convert(str(lab), "-o", str(tmp_path / "out"), channel=small_channel) == 2
    err = capsys.readouterr().err
    assert not any(line.startswith("conda2docker: error: forged") for line in err.splitlines())
    assert "converted 1 of 2 environment(s)" in err


def test_bad_lab_options_fail_before_anything_is_written(
        tmp_path: Path, small_channel: TestChannel, capsys: pytest.CaptureFixture[str]) -> None:
    lab = lab_dir(tmp_path, small_channel.name)
    out = tmp_path / "out"
    assert convert(str(lab), "-o", str(out), "--tag-template", "lab/{nam}", channel=small_channel) == 2
    assert "unknown placeholder(s) 'nam'" in capsys.readouterr().err
    assert not out.exists()
    assert convert(str(lab), "-o", str(out), "--tag-template", "lab/x:{variant}", channel=small_channel) == 2
    assert "would give 4 environments the same tags" in capsys.readouterr().err
    assert not out.exists()
    assert convert(str(lab), "-o", str(out), "--format", "docker", "--format", "apptainer",
                   "--from-image", "lab/x:1", channel=small_channel) == 2
    assert "one image cannot stand for several environments" in capsys.readouterr().err
    assert not out.exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert convert(str(empty), "-o", str(out), channel=small_channel) == 2
    assert "no environment files found" in capsys.readouterr().err


def test_solves_in_a_shared_scope_share_one_gateway() -> None:
    from conda2docker.resolve.conda import CondaSolveRequest, _gateway, shared_gateways
    from conda2docker.resolve.virtual import VirtualTarget

    request = CondaSolveRequest(dependencies=(), channels=(), target=VirtualTarget(platform="linux-64"))
    assert _gateway(request) is not _gateway(request)
    with shared_gateways():
        first = _gateway(request)
        assert _gateway(request) is first
        from dataclasses import replace

        assert _gateway(replace(request, offline=True)) is not first
    assert _gateway(request) is not first


def test_a_gpu_variant_gets_its_own_target(tmp_path: Path, small_channel: TestChannel) -> None:
    for name in ("one", "two"):
        (tmp_path / f"{name}.yml").write_text(f"channels: [{small_channel.name}]\ndependencies: [chello]\n")
    out = tmp_path / "out"
    assert convert(str(tmp_path / "one.yml"), str(tmp_path / "two.yml"), "-o", str(out), "--gpu", "yes",
                   channel=small_channel) == 0
    bake = parse_bake((out / "docker-bake.hcl").read_text())
    assert bake["group"]["default"]["targets"] == ["one-cpu", "one-gpu", "two-cpu", "two-gpu"]
    gpu = bake["target"]["one-gpu"]
    assert gpu["dockerfile"] == "Dockerfile.gpu" and (out / "one" / "Dockerfile.gpu").is_file()
    import hashlib

    digest = hashlib.sha256((out / "one" / "conda-lock.gpu.yml").read_bytes()).hexdigest()
    assert gpu["tags"] == [f"one:gpu-{digest[:12]}"]
    assert gpu["labels"]["io.conda2docker.variant"] == "gpu"
