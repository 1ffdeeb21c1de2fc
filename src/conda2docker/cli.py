"""Command-line entry point.

Each command lives in ``conda2docker.commands.<name>`` and registers itself on the app.
Command modules import only typer at module level; the heavy libraries (conda-lock,
rattler, docker) are imported inside the command functions so ``--help`` stays fast.
"""

from __future__ import annotations

import importlib
import sys

import typer

from conda2docker import __version__
from conda2docker.errors import UserError

COMMAND_MODULES = ("lock", "convert", "build", "inspect", "graph", "audit", "verify", "init")

app = typer.Typer(
    name="conda2docker",
    help="Move a conda environment into a container: lock it, audit it, write a "
    "multi-stage Dockerfile you own, build and verify the image.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"conda2docker {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Move a conda environment into a container."""


def _register_commands() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"conda2docker.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"conda2docker.commands.{name}":
                continue
            raise
        module.register(app)


_register_commands()


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; user errors become one line on stderr and an exit code."""
    try:
        result = app(args=argv, prog_name="conda2docker", standalone_mode=False)
    except UserError as error:
        for line in error.lines():
            typer.echo(f"conda2docker: error: {line}", err=True)
        return error.exit_code
    except typer.Exit as done:
        return done.exit_code
    except typer.Abort:
        typer.echo("conda2docker: aborted", err=True)
        return 130
    except KeyboardInterrupt:
        typer.echo("conda2docker: interrupted", err=True)
        return 130
    except typer.TyperException as usage_error:  # bad options, unknown commands: click's own text
        show = getattr(usage_error, "show", None)
        if show is not None:
            show()
        return int(getattr(usage_error, "exit_code", 2))
    return result if isinstance(result, int) else 0


def entry() -> None:
    """The console script: run, flush, and leave without interpreter finalisation once a
    native runtime (py-rattler's worker threads) is loaded, which can race at shutdown."""
    code = main()
    if "rattler" in sys.modules:
        import os

        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    entry()
