"""``init`` on a repository whose own package is a CUDA extension (a plain CPython module from one
``.cu`` file, no torch): the GPU variant's ``project`` stage compiles it with nvcc on the CUDA
devel image (the stand-in ``scripts/engine.sh up`` builds), the runtime is NVIDIA's runtime image
of the same CUDA (the lock has no cudart), and the module imports in the image. Offline; skips
without the stand-ins. Running a kernel needs a GPU: the CUDA runtime answers that the driver
is missing.
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


def _require(client: Any, tag: str) -> None:
    import docker

    try:
        client.images.get(tag)
    except docker.errors.ImageNotFound:
        pytest.skip(f"{tag} is absent: run scripts/engine.sh up (it builds the CUDA stand-ins)")


def test_repository_with_a_cuda_extension_builds_on_the_devel_image(
    tmp_path: Path, gpu_channels: Path, docker_client: Any, image_tag_factory: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    devel, runtime = cuda_devel_image("13.0"), cuda_runtime_image("13.0")
    _require(docker_client, devel)
    _require(docker_client, runtime)
    repo = tmp_path / "cuext-paper"
    shutil.copytree(FIXTURE, repo)
    (repo / "environment.yml").write_text(
        "name: cuext\nchannels:\n  - c2d-test\n  - c2d-cuda\ndependencies:\n  - python=3.11\n"
        "  - pip\n  - setuptools\n  - wheel\n  - cuda-version=13.0\n")
    assert main(["init", str(repo), "--installer", "rattler", "--vendor",
                 "--channel-alias", gpu_channels.as_uri()]) == 0
    dockerfile = (repo / "Dockerfile.gpu").read_text()
    assert_lints_clean(dockerfile)
    assert "FROM ${CUDA_DEVEL_IMAGE} AS project" in dockerfile
    assert f'ARG CUDA_DEVEL_IMAGE="{devel}"' in dockerfile
    assert f'ARG RUNTIME_IMAGE="{runtime}"' in dockerfile
    tag = image_tag_factory("init-cuda-ext")
    assert main(["build", str(repo), "--variant", "gpu", "--tag", tag, "--network", "none",
                 "--quiet"]) == 0, (repo / "build.log").read_text()[-4000:]
    assert_cuda_extension_runs_without_compilers(docker_client, tag)
    capsys.readouterr()
    assert main(["verify", tag, "--format", "json", "--lock", str(repo / "conda-lock.yml")]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["summary"]["ok"], [c for c in report["checks"] if c["status"] == "fail"]
