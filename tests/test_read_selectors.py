"""Our own selector evaluator: conda-build's names, boolean logic, python comparisons."""

from __future__ import annotations

from pathlib import Path

import pytest

from conda2docker.platforms import KNOWN_PLATFORMS
from conda2docker.read.selectors import (
    SelectorContext,
    apply_selectors,
    evaluate,
    find_selector,
)

SRC = Path("environment.yml")


def ctx(platform: str, python: tuple[int, int] | None = None) -> SelectorContext:
    return SelectorContext(KNOWN_PLATFORMS[platform], python)


@pytest.mark.parametrize(
    ("expression", "platform", "expected"),
    [
        ("linux", "linux-64", True),
        ("linux", "osx-arm64", False),
        ("linux64", "linux-64", True),
        ("linux64", "linux-aarch64", False),
        ("unix", "linux-64", True),
        ("unix", "osx-64", True),
        ("unix", "win-64", False),
        ("win", "win-64", True),
        ("win", "linux-64", False),
        ("not win", "linux-64", True),
        ("not win", "win-64", False),
        ("osx", "osx-arm64", True),
        ("x86_64", "linux-64", True),
        ("x86_64", "linux-aarch64", False),
        ("aarch64", "linux-aarch64", True),
        ("aarch64", "linux-64", False),
        ("arm64", "osx-arm64", True),
        ("arm64", "linux-aarch64", False),
        ("ppc64le", "linux-ppc64le", True),
        ("linux and x86_64", "linux-64", True),
        ("linux and x86_64", "linux-aarch64", False),
        ("osx or win", "linux-64", False),
        ("osx or (linux and not aarch64)", "linux-64", True),
        ("osx or (linux and not aarch64)", "linux-aarch64", False),
        ("target_platform == 'linux-64'", "linux-64", True),
        ('target_platform != "linux-64"', "linux-aarch64", True),
        ("not (win or osx)", "linux-ppc64le", True),
    ],
)
def test_platform_selectors(expression: str, platform: str, expected: bool) -> None:
    assert evaluate(expression, ctx(platform)) is expected


@pytest.mark.parametrize(
    ("expression", "python", "expected"),
    [
        ("py>=38", (3, 10), True),
        ("py<38", (3, 10), False),
        ("py==310", (3, 10), True),
        ("py3k", (3, 10), True),
        ("py2k", (3, 10), False),
        ("py2k", (2, 7), True),
        ("py27", (2, 7), True),
        ("py36", (3, 10), False),
        ("linux and py>=311", (3, 11), True),
        ("py<311", (3, 11), False),
    ],
)
def test_python_selectors(expression: str, python: tuple[int, int], expected: bool) -> None:
    assert evaluate(expression, ctx("linux-64", python)) is expected


@pytest.mark.parametrize(
    "expression",
    [
        "py>=38",
        "cuda",
        "blas_impl == 'mkl'",
        "linux and cuda",
        "linux and",
        "((linux)",
        "1 <",
        "x =",
    ],
)
def test_unknown_or_broken_selectors_are_undecided(expression: str) -> None:
    assert evaluate(expression, ctx("linux-64")) is None


def test_three_valued_logic_decides_when_it_can() -> None:
    assert evaluate("win and cuda", ctx("linux-64")) is False
    assert evaluate("linux or cuda", ctx("linux-64")) is True
    assert evaluate("not cuda", ctx("linux-64")) is None


@pytest.mark.parametrize(
    ("line", "expression"),
    [
        ("  - pywin32  # [win]", "win"),
        ("  - pywin32 #[not  linux ]", "not  linux"),
        ("  - foo  # [linux]  # a comment after", "linux"),
        ("  - git+https://x/y.git#egg=y  # [unix]", "unix"),
        ("  - foo  # no selector", None),
        ("  - foo", None),
        ('  - "foo # [win]"', None),
    ],
)
def test_find_selector(line: str, expression: str | None) -> None:
    assert find_selector(line) == expression


def test_excluded_lines_are_blanked_keeping_line_numbers() -> None:
    text = "dependencies:\n  - a  # [win]\n  - b  # [linux]\n  - c\n"
    result = apply_selectors(text, KNOWN_PLATFORMS["linux-64"], SRC)
    assert result.text.split("\n") == ["dependencies:", "", "  - b  # [linux]", "  - c", ""]
    (change,) = result.changes
    assert (change.code, change.action, change.subject) == ("S305", "dropped", "a")
    assert change.location is not None
    assert (change.location.line, change.location.column) == (2, 3)


def test_an_excluded_item_takes_its_nested_block_along() -> None:
    text = (
        "dependencies:\n"
        "  - numpy\n"
        "  - pip:  # [osx]\n"
        "      - appnope\n"
        "\n"
        "      - pyobjc-core\n"
        "  - scipy\n"
    )
    result = apply_selectors(text, KNOWN_PLATFORMS["linux-64"], SRC)
    assert result.text.split("\n") == [
        "dependencies:",
        "  - numpy",
        "",
        "",
        "",
        "",
        "  - scipy",
        "",
    ]


def test_an_excluded_key_takes_an_unindented_list_along() -> None:
    text = "name: x\nvariables:  # [win]\n  A: 1\ndependencies:\n- a\n"
    result = apply_selectors(text, KNOWN_PLATFORMS["linux-64"], SRC)
    assert result.text.split("\n") == ["name: x", "", "", "dependencies:", "- a", ""]


def test_python_selectors_use_the_files_python_pin() -> None:
    text = "dependencies:\n  - python=3.8\n  - tomli  # [py<311]\n  - futures  # [py2k]\n"
    result = apply_selectors(text, KNOWN_PLATFORMS["linux-64"], SRC)
    assert "tomli" in result.text
    assert "futures" not in result.text


def test_the_python_pin_may_itself_carry_a_selector() -> None:
    text = (
        "dependencies:\n"
        "  - python=3.9  # [win]\n"
        "  - python=3.12  # [linux]\n"
        "  - tomli  # [py<311]\n"
    )
    result = apply_selectors(text, KNOWN_PLATFORMS["linux-64"], SRC)
    assert "tomli" not in result.text


def test_undecidable_selector_keeps_the_line_with_a_warning() -> None:
    text = "dependencies:\n  - tomli  # [py<311]\n  - nvcc  # [cuda]\n"
    result = apply_selectors(text, KNOWN_PLATFORMS["linux-64"], SRC)
    assert result.text == text
    assert [(c.code, c.subject) for c in result.changes] == [("R511", "tomli"), ("R511", "nvcc")]
    assert all("kept" in c.reason for c in result.changes)


def test_commented_out_lines_are_not_reported() -> None:
    text = "dependencies:\n  # - foo  # [win]\n  - bar\n"
    result = apply_selectors(text, KNOWN_PLATFORMS["linux-64"], SRC)
    assert result.changes == ()
    assert result.text == text


def test_absurdly_nested_selectors_are_undecided_not_a_crash() -> None:
    assert evaluate("(" * 5000 + "linux" + ")" * 5000, ctx("linux-64")) is None
    assert evaluate("not " * 5000 + "linux", ctx("linux-64")) is None
