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

from hypothesis import Phase, settings  # noqa: E402 - reads the storage directory set above

pytest_plugins = [
    "support.shared",
    "support.blocking",
    "support.filesystems",
    "support.engine",
    "support.podman",
    "support.channel",
    "support.cuda_channel",
    "support.pypi_index",
    "support.r2d_channel",
]

# No per-example deadline: speed is measured in benchmarks/, never by a timed unit test, and
# a deadline fails at random on a loaded machine.
settings.register_profile("conda2docker", database=None, deadline=None)
# Under mutation testing (scripts/mutation.sh) every call goes through mutmut's trampoline, so
# no per-example deadline (a slow example is not a bug), and no shrinking (a failing example
# kills the mutant whether or not it is minimal).
settings.register_profile(
    "mutation",
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
settings.load_profile("mutation" if os.environ.get("C2D_MUTATION") == "1" else "conda2docker")
