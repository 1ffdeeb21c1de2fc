"""End to end with a ``wheels`` stage: a REAL sdist-only package with a C extension
(``c2d-cext`` from the local index) is compiled in the build stage, offline, and only its
wheel reaches the runtime image, which has no compiler and runs as UID 10001."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from conda2docker.cli import main
from support.channel import TestChannel
from support.engine import run_in_image
from support.pypi_index import LocalIndex

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("engine")]


def write_env(tmp_path: Path, channel: TestChannel, index: LocalIndex) -> Path:
    env = tmp_path / "environment.yml"
    env.write_text(
        "name: cext\n"
        f"channels:\n  - {channel.name}\n"
        "dependencies:\n"
        "  - python=3.11\n"
        "  - pip\n"
        "  - setuptools\n"
        "  - wheel\n"
        "  - pip:\n"
        f"    - --index-url {index.url}\n"
        "    - c2d-cext==0.1\n"
    )
    return env


def test_sdist_with_c_extension_is_compiled_in_the_wheels_stage(
    tmp_path: Path,
    test_channel: TestChannel,
    local_pypi: LocalIndex,
    docker_client: object,
    base_image: str,
    build_image: str,
    image_tag_factory: Callable[[str], str],
) -> None:
    env = write_env(tmp_path, test_channel, local_pypi)
    out = tmp_path / "out"
    argv = ["convert", str(env), "-o", str(out), "--installer", "rattler", "--vendor",
            "--channel-alias", test_channel.alias]
    assert main(argv) == 0
    dockerfile = (out / "Dockerfile").read_text()
    assert "FROM ${BUILD_IMAGE} AS wheels" in dockerfile
    # the audit's BuildGaps name the toolchain; the build image already has it (offline build),
    # which the stage sees from the compilers on PATH, not from a package name
    assert "if ! { command -v g++ && command -v gcc && command -v make; } >/dev/null 2>&1; then" in dockerfile
    assert "c2d-cext" in (out / "conda2docker" / "build-requirements.txt").read_text()
    assert any((out / "vendor" / "pip").glob("c2d_cext-0.1.tar.gz"))

    tag = image_tag_factory("e2e-wheels")
    started = time.monotonic()
    assert main(["build", str(out), "--tag", tag, "--network", "none", "--quiet"]) == 0
    print(f"wheels e2e build: {time.monotonic() - started:.1f}s")
    log = (out / "build.log").read_text()
    assert "pip wheel --no-deps" in log, log[-3000:]  # the wheels stage ran (or is cached)

    code, output = run_in_image(docker_client, tag,
                                ["python", "-c", "import c2d_cext; print(c2d_cext.add(2, 3))"])
    assert (code, output.strip()) == (0, "5"), output
    code, output = run_in_image(docker_client, tag, ["id", "-u"])
    assert output.strip() == "10001"
    code, output = run_in_image(docker_client, tag,
                                ["sh", "-c", "command -v gcc cc x86_64-linux-gnu-gcc || echo no-compiler"])
    assert output.strip() == "no-compiler"
    code, output = run_in_image(docker_client, tag,
                                ["python", "-c", "import c2d_cext, sys; print(c2d_cext.__file__)"])
    assert output.strip().startswith("/opt/env/lib/python3.11/site-packages/c2d_cext")
    assert output.strip().endswith(".so"), output  # compiled from the sdist, not pure Python

    # The same inputs regenerate the same bytes: --check passes.
    assert main([*argv, "--check"]) == 0
