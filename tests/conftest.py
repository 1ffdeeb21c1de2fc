"""Shared fixtures live in tests/support/; each module there owns one stand-in."""

import atexit
import os
import shutil
import tempfile

# The CLI's top-level guard turns unexpected exceptions into one line; tests must see them.
os.environ["CONDA2DOCKER_NO_GUARD"] = "1"

# Tests write only under their own temporary directories: hypothesis keeps its files (an
# example database, a cache of constants) in a temporary directory of this run, not in the
# checkout; a failing example is printed with the failure.
_HYPOTHESIS_HOME = tempfile.mkdtemp(prefix="c2d-hypothesis-")
atexit.register(shutil.rmtree, _HYPOTHESIS_HOME, ignore_errors=True)
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", _HYPOTHESIS_HOME)

from hypothesis import settings  # noqa: E402 - reads the storage directory set above

pytest_plugins = [
    "support.shared",
    "support.engine",
    "support.podman",
    "support.channel",
    "support.cuda_channel",
    "support.pypi_index",
    "support.r2d_channel",
]

settings.register_profile("conda2docker", database=None)
settings.load_profile("conda2docker")
