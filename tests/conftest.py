"""Shared fixtures live in tests/support/; each module there owns one stand-in."""

pytest_plugins = [
    "support.shared",
    "support.engine",
    "support.channel",
    "support.cuda_channel",
    "support.pypi_index",
]
