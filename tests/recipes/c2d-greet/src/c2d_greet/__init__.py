"""c2d-greet: the test channel's own noarch: python package."""

__version__ = "1.0"


def greeting() -> str:
    return f"greetings from c2d-greet {__version__}"


def main() -> None:
    print(greeting())
