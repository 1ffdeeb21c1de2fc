"""conda2docker test distribution: pure Python, sdist only (built without any compiler)."""


def main() -> None:
    print("hello from c2d-sdistonly")
