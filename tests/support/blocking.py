"""``@pytest.mark.never_blocks``: the test fails after a few seconds instead of hanging.

For tests that hand the code a FIFO (or another file whose ``open`` or ``read`` waits for a
partner): the code must refuse it without blocking. Should it block (an ``O_NONBLOCK`` lost),
the test fails with :class:`StillBlocked` when the alarm fires, rather than holding its
worker (or a mutation run's) for ever. ``StillBlocked`` is no ``OSError``/``Exception``, so
code under test that turns I/O errors into messages cannot swallow it.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from types import FrameType

import pytest

#: Seconds a test marked ``never_blocks`` may run (its refusals take milliseconds).
ALLOWED_SECONDS = 30.0


class StillBlocked(BaseException):
    """The test was still running when its alarm fired."""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "never_blocks: fail the test when it runs longer than a few seconds (an "
        "open or read that waits for a FIFO's partner)")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """The alarm covers the test's own call, not its fixtures' setup (a session channel's
    first build may take a while)."""
    if item.get_closest_marker("never_blocks") is None:
        return (yield)

    def expired(signum: int, frame: FrameType | None) -> None:
        raise StillBlocked(f"still running after {ALLOWED_SECONDS:g} s: something blocked")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, ALLOWED_SECONDS)
    try:
        return (yield)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
