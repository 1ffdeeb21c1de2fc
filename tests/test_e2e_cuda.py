"""The GPU variant built end to end on a CPU builder: a ``cuda-ext`` stage compiles a real
``.cu`` kernel with nvcc into a plain CPython extension (no torch), which imports in the
runtime image; ``verify`` passes (non-root, no compilers, imports).

Stand-ins (``scripts/engine.sh up``): ``nvidia/cuda:13.0.2-devel-ubuntu22.04`` is the
debootstrap base + build-essential + NVIDIA's PyPI nvcc wheels, ``…-runtime-…`` the base +
libcudart. The lock pins ``cuda-version 13.0`` from the CUDA test channel (repackaged from the
same wheels) and carries no cudart, so the plan names NVIDIA's runtime image for the runtime.
One image build, cached by the engine between runs.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from conda2docker.cli import main
from conda2docker.plan.gpu import cuda_devel_image, cuda_runtime_image
from support.engine import assert_cuda_extension_runs_without_compilers
from support.lint import assert_lints_clean

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("engine")]
FIXTURE = Path(__file__).parent / "fixtures" / "cuda" / "c2d-cuext"
DEVEL, RUNTIME = cuda_devel_image("13.0"), cuda_runtime_image("13.0")


def _require(client: Any, tag: str) -> None:
    import docker

    try:
        client.images.get(tag)
    except docker.errors.ImageNotFound:
        pytest.skip(f"{tag} is absent: run scripts/engine.sh up (it builds the CUDA stand-ins)")


@pytest.fixture(scope="module")
def cuda_ext_image(tmp_path_factory: pytest.TempPathFactory, gpu_channels: Path, docker_client: Any,
                   image_tag_factory: Any) -> tuple[Path, str]:
    _require(docker_client, DEVEL)
    _require(docker_client, RUNTIME)
    work = tmp_path_factory.mktemp("cuda-ext")
    shutil.copytree(FIXTURE, work / "c2d-cuext")
    env = work / "environment.yml"
    env.write_text("name: cuext\nchannels:\n  - c2d-test\n  - c2d-cuda\ndependencies:\n"
                   "  - python=3.11\n  - pip\n  - setuptools\n  - wheel\n  - cuda-version=13.0\n"
                   "  - pip:\n    - ./c2d-cuext\n")
    out = work / "out"
    assert main(["convert", str(env), "-o", str(out), "--installer", "rattler", "--vendor",
                 "--channel-alias", gpu_channels.as_uri()]) == 0
    tag = image_tag_factory("e2e-cuda-ext")
    assert main(["build", str(out), "--variant", "gpu", "--tag", tag, "--network", "none",
                 "--quiet"]) == 0, (out / "build.log").read_text()[-4000:]
    return out, tag


def test_the_gpu_dockerfile_builds_the_kernel_in_the_cuda_ext_stage(cuda_ext_image: tuple[Path, str]) -> None:
    out, _tag = cuda_ext_image
    dockerfile = (out / "Dockerfile.gpu").read_text()
    assert_lints_clean(dockerfile)
    assert f'ARG CUDA_DEVEL_IMAGE="{DEVEL}"' in dockerfile
    assert f'ARG RUNTIME_IMAGE="{RUNTIME}"' in dockerfile  # the lock has no cudart of its own
    assert 'NVIDIA_REQUIRE_CUDA="cuda>=13.0"' in dockerfile
    cuda_ext = dockerfile[dockerfile.index("AS cuda-ext"):dockerfile.index("AS runtime")]
    assert "--no-build-isolation" in cuda_ext
    log = (out / "build.log").read_text()
    assert "c2d-cuext" in log or "c2d_cuext" in log


def test_the_extension_imports_in_the_runtime_and_verify_passes(
    cuda_ext_image: tuple[Path, str], docker_client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    out, tag = cuda_ext_image
    assert_cuda_extension_runs_without_compilers(docker_client, tag)
    capsys.readouterr()
    assert main(["verify", tag, "--format", "json", "--lock", str(out / "conda-lock.gpu.yml"),
                 "--context", str(out), "--variant", "gpu"]) == 0
    report = json.loads(capsys.readouterr().out)
    statuses = {c["id"]: c["status"] for c in report["checks"]}
    assert statuses.get("import:c2d-cuext") == "pass", statuses
    assert report["summary"]["ok"], [c for c in report["checks"] if c["status"] == "fail"]


def test_running_the_kernel_needs_a_gpu(cuda_ext_image: tuple[Path, str], docker_client: Any) -> None:
    _out, tag = cuda_ext_image
    if "nvidia" not in (docker_client.info().get("Runtimes") or {}):
        pytest.skip("running a CUDA kernel needs an NVIDIA GPU and the nvidia container runtime; "
                    "this engine has neither (the build and import are tested above)")
    from docker.types import DeviceRequest

    output = docker_client.containers.run(
        tag, ["python", "-c", "import c2d_cuext; print(c2d_cuext.add(2, 3))"], remove=True,
        network_mode="none", device_requests=[DeviceRequest(count=-1, capabilities=[["gpu"]])])
    assert output.decode().strip() == "5.0"
