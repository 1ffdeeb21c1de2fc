"""The Docker engine stand-in for tests: a client, the local base images, a run helper.

Start the engine and create the images with ``scripts/engine.sh up`` (CI does it in
``.ci/run``). Without an engine every test using these fixtures is skipped with the reason.

Fixtures (all session-scoped):

``docker_client``
    ``docker.DockerClient`` from ``docker.from_env()`` that answered ``ping()``. Skips with
    ``no Docker engine at <DOCKER_HOST or unix:///var/run/docker.sock>: start one with
    scripts/engine.sh up`` (plus the error, and ``$C2D_ENGINE_SKIP_REASON`` when CI set it).
    With ``C2D_REQUIRE_ENGINE=1`` a missing engine or image fails instead of skipping.
``base_image``
    ``"debian:bookworm-slim"`` (a debootstrap minbase), after checking it exists locally.
``build_image``
    ``"buildpack-deps:bookworm"`` (base + gcc, g++, make, git, ca-certificates, without the
    build-essential metapackage, like the public image): the base
    that generated Dockerfiles name for their compile (``wheels``) stage.
``image_tag_factory``
    ``make(name) -> "c2d-test/<name>:<uuid8>"``; the tags it handed out are removed at
    session end (only those: never an image this session did not tag).

Helper: ``run_in_image(client, tag, argv, *, network=False) -> (exit_code, output)``.

Scheduling: the engine has 2 cores and is shared, so all tests that use ``docker_client``
(directly or through the fixtures above) run on one xdist worker under ``--dist
loadgroup``. This module adds ``@pytest.mark.xdist_group("engine")`` and
``@pytest.mark.engine`` to them automatically; writing the marks by hand is equivalent::

    @pytest.mark.engine
    @pytest.mark.xdist_group("engine")
    def test_something(docker_client): ...

(With pytest >= 9.2, pytest-xdist 3.8 silently ignores ``xdist_group``; a hook below
restores the grouping for every group, see ``pytest_collection_modifyitems__loadgroup_suffix``.)
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

if TYPE_CHECKING:
    import docker

DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"
BASE_IMAGE = "debian:bookworm-slim"
BUILD_IMAGE = "buildpack-deps:bookworm"
ENGINE_GROUP = "engine"
TEST_REPOSITORY = "c2d-test"
START_HINT = "start one with scripts/engine.sh up"


def engine_address() -> str:
    """Where the tests look for the engine: $DOCKER_HOST or the default unix socket."""
    return os.environ.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST


def _unavailable(reason: str) -> NoReturn:
    """Skip (or fail, under C2D_REQUIRE_ENGINE=1) with the reason."""
    ci_reason = os.environ.get("C2D_ENGINE_SKIP_REASON", "").strip()
    if ci_reason:
        reason = f"{reason} [CI: {ci_reason}]"
    if os.environ.get("C2D_REQUIRE_ENGINE") == "1":
        pytest.fail(f"{reason} (C2D_REQUIRE_ENGINE=1)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    address = engine_address()
    try:
        import docker
    except ImportError as exc:  # pragma: no cover - docker is a runtime dependency
        _unavailable(f"no Docker engine at {address}: {START_HINT} (docker SDK missing: {exc})")
    client = None
    try:
        client = docker.from_env()
        client.ping()
    except Exception as exc:
        if client is not None:
            client.close()
        detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        _unavailable(f"no Docker engine at {address}: {START_HINT} ({detail})")
    assert client is not None
    try:
        yield client
    finally:
        client.close()


def _require_image(client: docker.DockerClient, tag: str) -> str:
    import docker

    try:
        client.images.get(tag)
    except docker.errors.ImageNotFound:
        _unavailable(
            f"image {tag} is not in the engine at {engine_address()}: "
            "create it with scripts/engine.sh up (Docker Hub is unreachable; it is built locally)"
        )
    return tag


@pytest.fixture(scope="session")
def base_image(docker_client: docker.DockerClient) -> str:
    """The runtime base tag, ``debian:bookworm-slim``, present in the local engine."""
    return _require_image(docker_client, BASE_IMAGE)


@pytest.fixture(scope="session")
def build_image(docker_client: docker.DockerClient) -> str:
    """The compile-stage base tag, ``buildpack-deps:bookworm``, present in the local engine."""
    return _require_image(docker_client, BUILD_IMAGE)


def run_in_image(
    client: docker.DockerClient,
    tag: str,
    argv: Sequence[str],
    *,
    network: bool = False,
    timeout: float = 300.0,
) -> tuple[int, str]:
    """Run ``argv`` in a new container of ``tag``; return (exit code, stdout+stderr).

    The container has no network (``network_mode="none"``) unless ``network=True`` (then the
    engine's default bridge). It is always removed; it is killed after ``timeout`` seconds.
    """
    kwargs: dict[str, Any] = {"network_mode": "none"} if not network else {}
    container = client.containers.create(tag, list(argv), detach=True, **kwargs)
    try:
        container.start()
        try:
            status = container.wait(timeout=timeout)
        except Exception as exc:  # requests' ReadTimeout / ConnectionError
            with contextlib.suppress(Exception):
                container.kill()
            raise TimeoutError(f"{argv!r} in {tag} did not finish within {timeout}s") from exc
        output = container.logs(stdout=True, stderr=True).decode("utf-8", "replace")
        return int(status["StatusCode"]), output
    finally:
        container.remove(force=True)


_NAME_BAD = re.compile(r"[^a-z0-9._-]+")


@pytest.fixture(scope="session")
def image_tag_factory(docker_client: docker.DockerClient) -> Iterator[Callable[[str], str]]:
    """``make(name)`` → a fresh tag ``c2d-test/<name>:<uuid8>``; removed at session end."""
    created: list[str] = []

    def make(name: str) -> str:
        clean = _NAME_BAD.sub("-", name.lower()).strip("._-") or "image"
        tag = f"{TEST_REPOSITORY}/{clean}:{uuid.uuid4().hex[:8]}"
        created.append(tag)
        return tag

    yield make

    import docker

    for tag in reversed(created):
        try:
            # By tag, without force: an image that also carries other tags is only untagged.
            docker_client.images.remove(tag, noprune=False)
        except docker.errors.ImageNotFound:
            pass  # handed out but never built
        except docker.errors.APIError as exc:
            warnings.warn(f"could not remove test image {tag}: {exc}", stacklevel=1)


# --- scheduling -------------------------------------------------------------------------

_ENGINE_FIXTURES = frozenset({"docker_client", "base_image", "build_image", "image_tag_factory"})


@pytest.hookimpl(tryfirst=True, specname="pytest_collection_modifyitems")
def pytest_collection_modifyitems__mark_engine_tests(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Mark every test that needs the engine ``engine`` and put it in xdist group "engine".

    tryfirst: before ``-m`` deselection (so ``-m "not engine"`` works) and before xdist.
    """
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if not names & _ENGINE_FIXTURES:
            continue
        if item.get_closest_marker("engine") is None:
            item.add_marker(pytest.mark.engine)
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(ENGINE_GROUP))


@pytest.hookimpl(trylast=True, specname="pytest_collection_modifyitems")
def pytest_collection_modifyitems__loadgroup_suffix(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Make sure ``--dist loadgroup`` really groups the ``xdist_group`` tests (all of them).

    pytest-xdist tags each grouped test by appending ``@<group>`` to its node id, on the
    workers, but with pytest >= 9.2 its write to the legacy ``item._nodeid`` no longer takes
    effect (node ids became the structured ``item._id``), so groups are silently ignored:
    pytest-dev/pytest-xdist#1386 (open). This runs after xdist's hook and applies the suffix
    where it is missing. It does nothing outside xdist workers or once xdist is fixed.
    """
    if getattr(config.option, "loadgroup", False):  # set by xdist on its workers
        for item in items:
            _apply_xdist_group_suffix(item)


def _apply_xdist_group_suffix(item: pytest.Item) -> None:
    groups = {
        str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
        for mark in item.iter_markers("xdist_group")
    }
    if not groups:
        return
    suffix = "@" + "_".join(sorted(groups))
    nodeid = item.nodeid
    if nodeid.endswith(suffix):
        return  # xdist's own rewrite worked
    if "@" in nodeid[nodeid.rfind("]") + 1 :]:
        return  # already carries some other group suffix: leave xdist's choice alone
    structured = getattr(item, "_id", None)
    if structured is not None and hasattr(type(structured), "parse"):
        item._id = type(structured).parse(nodeid + suffix)  # pytest >= 9.2
    else:
        item._nodeid = nodeid + suffix  # type: ignore[attr-defined]  # older pytest, as xdist


def pytest_configure(config: pytest.Config) -> None:
    # Registered by pytest-xdist too; repeated here so --strict-markers accepts the mark
    # when xdist is not installed.
    config.addinivalue_line("markers", "xdist_group(name): run tests of a group on one worker")


def assert_cuda_extension_runs_without_compilers(client: Any, tag: str) -> None:
    """The CUDA extension test fixture (``c2d_cuext``) imports in image ``tag``: the compiled
    module loads the CUDA 13 runtime, which answers that no driver is there (no GPU here), and
    no compiler reached the image."""
    probe = ("import c2d_cuext as m; print(m.__file__.endswith('.so'), m.CUDART_VERSION, "
             "m.device_count()[1])")
    code, output = run_in_image(client, tag, ["python", "-c", probe])
    assert (code, output.split()) == (0, ["True", "13000", "cudaErrorInsufficientDriver"]), output
    code, output = run_in_image(client, tag, ["sh", "-c", "command -v nvcc gcc cc || echo none"])
    assert output.strip() == "none", output
