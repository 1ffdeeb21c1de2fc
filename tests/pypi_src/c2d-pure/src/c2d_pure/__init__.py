"""conda2docker test distribution (pure Python)."""

from importlib.metadata import version

__version__ = version("c2d-pure")


def main() -> None:
    print(f"c2d-pure {__version__}")
