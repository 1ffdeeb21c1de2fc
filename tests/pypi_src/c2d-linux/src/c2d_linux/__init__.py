"""conda2docker test distribution with a platform-specific payload."""

from importlib.metadata import version

from c2d_linux._native import answer

__version__ = version("c2d-linux")
__all__ = ["__version__", "answer"]
