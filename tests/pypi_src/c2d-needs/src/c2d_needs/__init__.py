"""conda2docker test distribution that needs c2d-pure."""

import c2d_pure


def describe() -> str:
    return f"c2d-needs uses c2d-pure {c2d_pure.__version__}"
