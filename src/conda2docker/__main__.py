"""``python -m conda2docker`` and the ``conda2docker`` console script.

The cyclic garbage collector runs every 100,000 allocations instead of 700, from before the
command-line modules are imported: a command spent most of its collection time in module
imports (typer's 6 ms, 13 ms more of `convert`'s, 8 ms of `audit`'s), where nothing is garbage
(a whole `convert` leaves about 500 objects in cycles); a long command (`build`, `verify`) is
still collected. This module imports nothing else before that.
"""

import gc

GC_THRESHOLD = (100_000, 10, 10)


def entry() -> None:
    gc.set_threshold(*GC_THRESHOLD)
    from conda2docker.cli import entry as run

    run()


if __name__ == "__main__":
    entry()
