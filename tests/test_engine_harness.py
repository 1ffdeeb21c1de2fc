"""The Docker engine harness itself: engine, local base images, an SDK multi-stage build.

Every test here skips (with the reason) when no engine answers; see tests/support/engine.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from support.engine import BASE_IMAGE, BUILD_IMAGE, run_in_image

if TYPE_CHECKING:
    import docker

pytestmark = [pytest.mark.engine, pytest.mark.xdist_group("engine")]


def test_engine_answers(docker_client: docker.DockerClient) -> None:
    assert docker_client.ping() is True
    version = docker_client.version()
    assert version["ApiVersion"]
    assert version["Os"] == "linux"


def test_base_image_runs_without_network(
    docker_client: docker.DockerClient, base_image: str
) -> None:
    assert base_image == BASE_IMAGE
    code, out = run_in_image(
        docker_client, base_image, ["sh", "-c", "cat /etc/debian_version; cat /proc/net/dev"]
    )
    assert code == 0, out
    assert out.splitlines()[0].startswith("12."), out  # bookworm
    interfaces = {line.split(":")[0].strip() for line in out.splitlines() if ":" in line}
    assert interfaces == {"lo"}, out  # network_mode="none"


def test_run_in_image_reports_exit_code(
    docker_client: docker.DockerClient, base_image: str
) -> None:
    code, out = run_in_image(docker_client, base_image, ["sh", "-c", "echo to-stderr >&2; exit 7"])
    assert code == 7
    assert "to-stderr" in out


def test_build_image_has_a_toolchain(docker_client: docker.DockerClient, build_image: str) -> None:
    assert build_image == BUILD_IMAGE
    script = (
        "set -e; gcc --version | head -n1; g++ --version | head -n1; make --version | head -n1;"
        " git --version; test -s /etc/ssl/certs/ca-certificates.crt;"
        " printf 'int main(void){return 42;}' > /tmp/t.c; gcc -o /tmp/t /tmp/t.c;"
        " /tmp/t || echo compiled-exit=$?"
    )
    code, out = run_in_image(docker_client, build_image, ["sh", "-c", script])
    assert code == 0, out
    assert "gcc" in out
    assert "GNU Make" in out
    assert "compiled-exit=42" in out


DOCKERFILE = f"""\
FROM {BUILD_IMAGE} AS wheels
COPY hello.c /src/hello.c
RUN gcc -O2 -o /src/hello /src/hello.c

FROM {BASE_IMAGE} AS runtime
COPY --from=wheels /src/hello /usr/local/bin/hello
USER 10001:10001
CMD ["/usr/local/bin/hello"]
"""

HELLO_C = r"""
#include <stdio.h>
#include <unistd.h>
int main(void) { printf("hello from stage two as uid %d\n", (int)getuid()); return 0; }
"""


@pytest.mark.slow
def test_two_stage_build_runs_as_non_root(
    docker_client: docker.DockerClient,
    base_image: str,
    build_image: str,
    image_tag_factory: Callable[[str], str],
    tmp_path: Path,
) -> None:
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    (tmp_path / "hello.c").write_text(HELLO_C)
    tag = image_tag_factory("two-stage")
    assert tag.startswith("c2d-test/two-stage:")
    # The SDK uses the classic builder; no network is needed (bases are local).
    image, _logs = docker_client.images.build(
        path=str(tmp_path), tag=tag, rm=True, forcerm=True, pull=False, network_mode="none"
    )
    assert tag in image.tags
    assert image.attrs["Config"]["User"] == "10001:10001"
    code, out = run_in_image(docker_client, tag, ["/usr/local/bin/hello"])
    assert code == 0, out
    assert out.strip() == "hello from stage two as uid 10001"
