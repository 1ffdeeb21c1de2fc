"""Command-line values: conda2docker's plain converters agree with typer's own."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Literal, Optional

import pytest
import typer
from typer.testing import CliRunner

from conda2docker.commands import _plain_values


class Colour(str, Enum):
    red = "red"
    blue = "blue"


def _app(seen: list[dict[str, Any]]) -> typer.Typer:
    app = typer.Typer()

    @app.command()
    def command(
        target: Annotated[Path, typer.Argument()],
        name: Annotated[str, typer.Option("--name")] = "x",
        count: Annotated[int, typer.Option("--count")] = 1,
        ratio: Annotated[float, typer.Option("--ratio")] = 0.5,
        flag: Annotated[bool, typer.Option("--flag")] = False,
        maybe: Annotated[Optional[str], typer.Option("--maybe")] = None,  # noqa: UP045
        many: Annotated[Optional[list[str]], typer.Option("--many")] = None,  # noqa: UP045
        paths: Annotated[Optional[list[Path]], typer.Option("--path")] = None,  # noqa: UP045
        where: Annotated[Optional[Path], typer.Option("--where", dir_okay=False)] = None,  # noqa: UP045
        bounded: Annotated[int, typer.Option("--bounded", min=1, max=3)] = 2,
        mode: Annotated[Literal["strict", "flexible"], typer.Option("--mode")] = "strict",
        colours: Annotated[Optional[list[Colour]], typer.Option("--colour")] = None,  # noqa: UP045
        shade: Annotated[Colour, typer.Option("--shade", case_sensitive=False)] = Colour.red,
    ) -> None:
        seen.append(dict(target=target, name=name, count=count, ratio=ratio, flag=flag,
                         maybe=maybe, many=many, paths=paths, where=where, bounded=bounded,
                         mode=mode, colours=colours, shade=shade))

    @app.command()
    def other() -> None:
        """A second command, so the first is addressed by name."""

    return app


CASES = [
    ["command", "t"],
    ["command", "t", "--name", "n", "--count", "7", "--ratio", "2.5", "--flag", "--maybe", "m"],
    ["command", "t", "--many", "a", "--many", "b", "--path", "p", "--path", "q"],
    ["command", "t", "--count", " 4 "],
    ["command", "t", "--bounded", "3"],
    ["command", "t", "--mode", "flexible", "--colour", "blue", "--colour", "red", "--shade", "BLUE"],
]
FAILING = [
    ["command", "t", "--count", "seven"],
    ["command", "t", "--ratio", "x"],
    ["command", "t", "--bounded", "9"],
    ["command", "t", "--where", "{tmp}"],
    ["command", "t", "--mode", "loose"],
    ["command", "t", "--colour", "green"],
]


def _invoke(args: list[str], *, ours: bool,
            monkeypatch: pytest.MonkeyPatch) -> tuple[int, list[dict[str, Any]], str]:
    from typer import _coercion, core

    monkeypatch.setattr(core, "build_runtime_param", _coercion.build_runtime_param)
    if ours:
        _plain_values.install()
    seen: list[dict[str, Any]] = []
    result = CliRunner().invoke(_app(seen), args)
    return result.exit_code, seen, result.output.replace(" ", "").replace("\n", "")


@pytest.mark.parametrize("args", CASES)
def test_plain_values_convert_as_typer_converts_them(args: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    theirs = _invoke(args, ours=False, monkeypatch=monkeypatch)
    ours = _invoke(args, ours=True, monkeypatch=monkeypatch)
    assert theirs[0] == 0
    assert ours == theirs


@pytest.mark.parametrize("args", FAILING)
def test_bad_values_are_usage_errors_as_with_typer(args: list[str], tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    theirs = _invoke(args, ours=False, monkeypatch=monkeypatch)
    ours = _invoke(args, ours=True, monkeypatch=monkeypatch)
    assert theirs[:2] == (2, [])
    assert ours == theirs  # the same message too
