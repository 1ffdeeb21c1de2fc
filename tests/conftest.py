"""Shared fixtures live in tests/support/; each module there owns one stand-in."""

import os

# The CLI's top-level guard turns unexpected exceptions into one line; tests must see them.
os.environ["CONDA2DOCKER_NO_GUARD"] = "1"

pytest_plugins = [
    "support.shared",
    "support.engine",
    "support.channel",
    "support.pypi_index",
]
