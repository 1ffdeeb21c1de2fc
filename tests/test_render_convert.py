"""``convert`` end to end without an engine: which variants, which files, ``--check``.

Uses the small local channel: ``gpu-tool`` has a ``cuda12_0`` build (needs ``__cuda``) and
a ``cpu_0`` build, so the CPU and GPU solves really differ.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conda2docker.cli import main
from support.channel import TestChannel
from support.lint import assert_lints_clean, parse


def write_env(tmp_path: Path, channel: TestChannel, *deps: str) -> Path:
    env = tmp_path / "environment.yml"
    env.write_text("name: gt\n" f"channels:\n  - {channel.name}\n" "dependencies:\n"
                   + "".join(f"  - {d}\n" for d in deps))
    return env


def convert(env: Path, out: Path, channel: TestChannel, *extra: str) -> int:
    return main(["convert", str(env), "-o", str(out), "--channel-alias", channel.alias, *extra])


def test_a_cuda_build_string_gives_a_gpu_variant_and_a_cpu_one_with_the_cpu_build(
    tmp_path: Path, small_channel: TestChannel, capsys: pytest.CaptureFixture[str]
) -> None:
    env = write_env(tmp_path, small_channel, "gpu-tool=*=cuda*", "hello-noarch")
    out = tmp_path / "out"
    assert convert(env, out, small_channel, "--format", "docker", "--format", "apptainer") == 0
    err = capsys.readouterr().err
    assert "GPU variant for CUDA 12.4" in err and "gpu-tool: CPU variant: build cuda* → any" in err
    assert "gpu-tool-1.0-cpu_0" in (out / "conda-lock.yml").read_text()
    assert "NVIDIA" not in (out / "Dockerfile").read_text()
    lock = (out / "conda-lock.gpu.yml").read_text()
    assert "gpu-tool-1.0-cuda12_0" in lock
    dockerfile = (out / "Dockerfile.gpu").read_text()
    assert_lints_clean(dockerfile)
    assert [c.value[-1] for c in parse(dockerfile) if c.cmd == "FROM"] == ["env", "runtime"]  # type: ignore[attr-defined]
    assert "COPY conda2docker/gpu/conda-linux-64.lock" in dockerfile
    assert 'NVIDIA_VISIBLE_DEVICES="all"' in dockerfile
    definition = (out / "conda2docker.gpu.def").read_text()
    assert "Stage: runtime" in definition and "apptainer run --nv" in definition
    services = yaml.safe_load((out / "compose.yaml").read_text())["services"]
    assert services["gt-gpu"]["build"]["dockerfile"] == "Dockerfile.gpu"


def test_gpu_yes_gives_both_variants_from_two_solves(tmp_path: Path, small_channel: TestChannel) -> None:
    env = write_env(tmp_path, small_channel, "gpu-tool")
    out = tmp_path / "out"
    assert convert(env, out, small_channel, "--gpu", "yes", "--cuda", "12.1") == 0
    assert "gpu-tool-1.0-cpu_0" in (out / "conda-lock.yml").read_text()
    assert "gpu-tool-1.0-cuda12_0" in (out / "conda-lock.gpu.yml").read_text()
    cpu, gpu = (out / "Dockerfile").read_text(), (out / "Dockerfile.gpu").read_text()
    assert "NVIDIA" not in cpu and 'NVIDIA_REQUIRE_CUDA="cuda>=12.1"' in gpu
    assert "COPY conda2docker/conda-linux-64.lock" in cpu
    assert "COPY conda2docker/gpu/conda-linux-64.lock" in gpu
    services = yaml.safe_load((out / "compose.yaml").read_text())["services"]
    assert services["gt-gpu"]["profiles"] == ["gpu"]
    assert not (out / "conda2docker.def").exists()  # --format defaults to docker


def test_auto_stays_cpu_for_a_cpu_environment_and_no_maps_cuda_builds_to_cpu(
    tmp_path: Path, small_channel: TestChannel, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cpu"
    assert convert(write_env(tmp_path, small_channel, "hello-noarch"), out, small_channel) == 0
    assert (out / "Dockerfile").is_file() and not (out / "Dockerfile.gpu").exists()
    cuda_build = write_env(tmp_path, small_channel, "gpu-tool=*=cuda*")
    assert convert(cuda_build, tmp_path / "cpu-only", small_channel, "--gpu", "no") == 0
    assert "gpu-tool: CPU variant: build cuda* → any" in capsys.readouterr().err
    assert "gpu-tool-1.0-cpu_0" in (tmp_path / "cpu-only" / "conda-lock.yml").read_text()
    assert not (tmp_path / "cpu-only" / "Dockerfile.gpu").exists()


def test_check_covers_every_generated_file(tmp_path: Path, small_channel: TestChannel) -> None:
    env = write_env(tmp_path, small_channel, "gpu-tool")
    out = tmp_path / "out"
    args = ("--gpu", "yes", "--format", "docker", "--format", "apptainer")
    assert convert(env, out, small_channel, *args) == 0
    assert convert(env, out, small_channel, *args, "--check") == 0
    for name in ("compose.yaml", "conda2docker.gpu.def", "Dockerfile.gpu", ".dockerignore"):
        path = out / name
        original = path.read_bytes()
        path.write_bytes(original + b"# edit\n")
        assert convert(env, out, small_channel, *args, "--check") == 1, name
        assert convert(env, out, small_channel, *args) == 1, name  # never clobbered
        assert path.read_bytes().endswith(b"# edit\n")
        path.write_bytes(original)


def test_unknown_format_and_gpu_mode_are_input_errors(tmp_path: Path, small_channel: TestChannel) -> None:
    env = write_env(tmp_path, small_channel, "hello-noarch")
    assert convert(env, tmp_path / "a", small_channel, "--format", "podman") == 2
    assert convert(env, tmp_path / "b", small_channel, "--gpu", "maybe") == 2
    assert convert(env, tmp_path / "c", small_channel, "--cuda", "12; id") == 2
