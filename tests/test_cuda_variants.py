"""CPU ≠ GPU on real locks: one environment, two solves against the CUDA test channel
(CUDA 13.0 packages repackaged from NVIDIA's wheels, and a ``pytorch`` published as the
pytorch channel does: a CUDA build that needs no ``__cuda`` and wins on build number, and a
CPU build). And ``lock`` infers the same CUDA as ``convert``."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conda2docker.cli import main
from support.channel import TestChannel


def write_env(tmp_path: Path, *deps: str) -> Path:
    env = tmp_path / "environment.yml"
    env.write_text("name: gpu\nchannels:\n  - c2d-cuda\ndependencies:\n"
                   + "".join(f"  - {d}\n" for d in deps))
    return env


def locked(path: Path) -> dict[str, str]:
    """name → ``version build`` of a conda-lock.yml."""
    data = yaml.safe_load(path.read_text())
    return {p["name"]: f"{p['version']} {p.get('build', '')}".strip() for p in data["package"]}


def test_the_cpu_and_gpu_locks_of_one_environment_differ(
    tmp_path: Path, cuda_channel: TestChannel, capsys: pytest.CaptureFixture[str]
) -> None:
    env = write_env(tmp_path, "pytorch", "cuda-version=13.0")
    out = tmp_path / "out"
    assert main(["convert", str(env), "-o", str(out), "--channel-alias", cuda_channel.alias]) == 0
    err = capsys.readouterr().err
    cpu, gpu = locked(out / "conda-lock.yml"), locked(out / "conda-lock.gpu.yml")
    assert cpu == {"pytorch": "2.5.0 cpu_0"}
    assert gpu == {"pytorch": "2.5.0 cuda130_0", "cuda-cudart": "13.0.96 h0_0",
                   "cuda-version": "13.0 h0_0"}
    assert "cuda-version: CPU variant: left out (CUDA only)" in err
    assert "GPU variant for CUDA 13.0" in err
    dockerfile_gpu = (out / "Dockerfile.gpu").read_text()
    assert 'NVIDIA_REQUIRE_CUDA="cuda>=13.0"' in dockerfile_gpu
    assert "NVIDIA" not in (out / "Dockerfile").read_text()


def test_without_the_cpu_preference_the_solver_would_ship_cuda(
    tmp_path: Path, cuda_channel: TestChannel, capsys: pytest.CaptureFixture[str]
) -> None:
    """The trap the CPU variant avoids: ``lock`` solves the request as written (no GPU
    intent here), and the CUDA build wins on its build number."""
    env = write_env(tmp_path, "pytorch")
    lock = tmp_path / "conda-lock.yml"
    assert main(["lock", str(env), "-o", str(lock), "--channel-alias", cuda_channel.alias]) == 0
    assert locked(lock)["pytorch"] == "2.5.0 cuda130_0"
    out = tmp_path / "out"
    assert main(["convert", str(env), "-o", str(out), "--channel-alias", cuda_channel.alias]) == 0
    assert locked(out / "conda-lock.yml") == {"pytorch": "2.5.0 cpu_0"}
    assert not (out / "conda-lock.gpu.yml").exists()


def test_where_only_cuda_builds_exist_the_cpu_variant_says_so(
    tmp_path: Path, cuda_channel: TestChannel, capsys: pytest.CaptureFixture[str]
) -> None:
    env = write_env(tmp_path, "cupy")
    out = tmp_path / "out"
    assert main(["convert", str(env), "-o", str(out), "--channel-alias", cuda_channel.alias]) == 0
    err = capsys.readouterr().err
    only = next(line for line in err.splitlines() if "CPU variant: only CUDA builds exist for" in line)
    assert "cupy 13.0.0 cuda130_0" in only and "the CPU image carries them" in only
    assert "cupy" in locked(out / "conda-lock.gpu.yml")


def test_lock_infers_the_cuda_that_convert_solves_with(
    tmp_path: Path, cuda_channel: TestChannel, capsys: pytest.CaptureFixture[str]
) -> None:
    env = write_env(tmp_path, "pytorch=*=cuda13*")
    lock = tmp_path / "conda-lock.yml"
    assert main(["lock", str(env), "-o", str(lock), "--channel-alias", cuda_channel.alias]) == 0
    err = capsys.readouterr().err
    assert "solving with __cuda=13.1" in err  # a major only: its newest published minor
    assert locked(lock)["cuda-version"] == "13.0 h0_0"


def test_a_lock_needing_cuda_without_it_names_the_flag(
    tmp_path: Path, cuda_channel: TestChannel, capsys: pytest.CaptureFixture[str]
) -> None:
    """cuda-version 13.0 constrains ``__cuda >=13``: ``--cuda 12`` cannot satisfy it, and the
    message names the real cause instead of 'relax the pins'."""
    env = write_env(tmp_path, "cuda-version=13.0")
    lock = tmp_path / "conda-lock.yml"
    assert main(["lock", str(env), "-o", str(lock), "--channel-alias", cuda_channel.alias,
                 "--cuda", "12.4"]) != 0
    err = capsys.readouterr().err
    assert "the solve used __cuda=12.4 (--cuda)" in err and "relax" not in err.split("fix:")[-1]


def test_the_gpu_solve_takes_the_cuda_the_cpu_lock_holds(
    tmp_path: Path, cuda_channel: TestChannel, capsys: pytest.CaptureFixture[str]
) -> None:
    """cupy names no CUDA version; its CPU lock holds cuda-version 13.0, so the GPU variant is
    solved with __cuda=13.0 rather than the default; with --cuda 12.4 the error names --cuda."""
    env = write_env(tmp_path, "cupy")
    assert main(["convert", str(env), "-o", str(tmp_path / "ok"), "--channel-alias", cuda_channel.alias]) == 0
    assert "GPU variant for CUDA 13.0" in capsys.readouterr().err
    assert main(["convert", str(env), "-o", str(tmp_path / "no"), "--channel-alias", cuda_channel.alias,
                 "--cuda", "12.4"]) == 3
    err = capsys.readouterr().err
    assert "fix: the solve used __cuda=12.4" in err and "pass --cuda" in err


def test_a_cuda_11_8_lock_gets_11_8_images_not_the_default(
    tmp_path: Path, shared_locks: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A real conda-lock.yml (pytorch 2.1 cuda118, cuda-version 11.8, flash-attn from source):
    the GPU variant only (the lock is its packages), images and NVIDIA_REQUIRE_CUDA for 11.8."""
    out = tmp_path / "out"
    assert main(["convert", str(shared_locks / "01-ai__Yi__conda-lock.yml"), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "no CPU variant: the lock given holds CUDA builds" in err
    assert "GPU variant for CUDA 11.8" in err and "more)" in err
    dockerfile = (out / "Dockerfile.gpu").read_text()
    assert 'ARG CUDA_DEVEL_IMAGE="nvidia/cuda:11.8.0-devel-ubuntu22.04"' in dockerfile
    assert 'NVIDIA_REQUIRE_CUDA="cuda>=11.8"' in dockerfile
    assert 'ARG RUNTIME_IMAGE="debian:bookworm-slim"' in dockerfile  # the lock brings cudart
    assert not (out / "Dockerfile").exists()
    # --gpu no: the CPU image is the lock's packages, and convert says they are CUDA builds
    assert main(["convert", str(shared_locks / "01-ai__Yi__conda-lock.yml"), "-o", str(tmp_path / "cpu"),
                 "--gpu", "no"]) == 0
    assert "CPU variant: only CUDA builds exist for" in capsys.readouterr().err
    assert not (tmp_path / "cpu" / "Dockerfile.gpu").exists()


def test_audit_solves_a_cuda_environment_as_convert_does(
    tmp_path: Path, cuda_channel: TestChannel, capsys: pytest.CaptureFixture[str]
) -> None:
    """``pytorch=*=cuda13*`` cannot be solved without ``__cuda``; the audit infers it as
    ``lock`` and ``convert`` do, and reports the CUDA the lock holds."""
    env = write_env(tmp_path, "pytorch=*=cuda13*")
    code = main(["audit", str(env), "--channel-alias", cuda_channel.alias, "--format", "json"])
    out = capsys.readouterr().out
    assert code in (0, 1), out
    import json

    findings = {f["code"]: f for f in json.loads(out)["findings"]}
    assert "G402" in findings and "13.0" in findings["G402"]["message"]
    assert "G405" in findings and "13" in findings["G405"]["message"]
