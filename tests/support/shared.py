"""Access to ../shared (read-only data beside the project); tests skip where it is absent.

``CONDA2DOCKER_SHARED`` points elsewhere (a copy of the tree, as mutation testing uses);
``C2D_REQUIRE_SHARED=1`` makes an absent ../shared fail instead of skip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("CONDA2DOCKER_SHARED", REPO.parent / "shared"))


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or skip the test with the reason."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        reason = f"{path} is absent (the shared data sits beside the project checkout)"
        if os.environ.get("C2D_REQUIRE_SHARED") == "1":  # scripts/mutation.sh: never skip silently
            pytest.fail(f"{reason}; C2D_REQUIRE_SHARED=1", pytrace=False)
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def snapshot_channels() -> Path:
    """The offline snapshot of real conda channel metadata (channel_alias root)."""
    return shared_path("channels", "snapshot")


@pytest.fixture(scope="session")
def snapshot_wide() -> Path:
    """The wider snapshot (296 locks: older releases, pytorch/nvidia CPU and CUDA builds)."""
    return shared_path("channels", "snapshot-wide")


@pytest.fixture(scope="session")
def corpus_envs() -> Path:
    return shared_path("corpus", "envs")


@pytest.fixture(scope="session")
def shared_locks() -> Path:
    return shared_path("locks")
