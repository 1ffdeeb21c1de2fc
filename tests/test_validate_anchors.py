"""Every pattern check of an untrusted value holds to the value's very end.

Python's ``$`` also matches before a final line break, so ``^[0-9a-f]{64}$`` accepted a
digest followed by ``\\n``: a lock's hash, a package name or an image reference could carry
a line break into a generated file. The checks anchor with ``\\Z``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conda2docker import validate
from conda2docker.errors import InputError
from conda2docker.plan import instructions

GOOD: list[tuple[Callable[[Any], str], str]] = [
    (validate.check_md5, "0" * 32),
    (validate.check_sha256, "A" * 64),
    (validate.check_conda_name, "python"),
    (validate.check_pip_name, "six"),
    (validate.check_image_reference, "nvidia/cuda:12.4.1-devel-ubuntu22.04@sha256:" + "a" * 64),
    (validate.check_conda_url, "https://h.example/c/linux-64/x-1-0.conda"),
    (validate.check_pip_url, "https://h.example/six-1.16.0-py2.py3-none-any.whl#sha256=ab"),
    (instructions.check_sha256, "a" * 64),
    (instructions.check_env_name, "PATH"),
    (instructions.check_label_key, "org.opencontainers.image.title"),
    (instructions.check_stage_name, "env"),
    (instructions.check_debian_package, "libgomp1"),
    (instructions.check_pip_name, "six"),
]


@pytest.mark.parametrize(("check", "value"), GOOD, ids=[c.__name__ + ":" + v[:20] for c, v in GOOD])
def test_a_value_is_accepted_alone_and_refused_with_a_final_line_break(
        check: Callable[[Any], str], value: str) -> None:
    assert check(value) in (value, value.lower())
    with pytest.raises(InputError):
        check(value + "\n")


def test_one_sha256_pattern_serves_the_lock_readers_and_the_plan() -> None:
    """The readers accept either case and return lowercase; the plan takes only lowercase,
    which is what the readers return: one pattern, ``validate.SHA256_HEX``."""
    digest = validate.check_sha256("AB" * 32)
    assert digest == "ab" * 32 and instructions.check_sha256(digest) == digest
    with pytest.raises(instructions.PlanError):
        instructions.check_sha256("AB" * 32)
