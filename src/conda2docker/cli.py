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
from conda2docker.commands import _plain_values
from conda2docker.errors import NO_GUARD_VARIABLE, UserError, internal_error_line

COMMAND_MODULES = ("lock", "convert", "build", "inspect", "graph", "audit", "verify", "init")

def _new_app() -> typer.Typer:
    new = typer.Typer(
        name="conda2docker",
        help="Move a conda environment into a container: lock it, audit it, write a "
        "multi-stage Dockerfile you own, build and verify the image.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )
    new.callback()(_root)
    return new


def _version(value: bool) -> None:
    if value:
        typer.echo(f"conda2docker {__version__}")
        raise typer.Exit()


def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Move a conda environment into a container."""


def _register(target: typer.Typer, names: tuple[str, ...]) -> None:
    for name in names:
        try:
            module = importlib.import_module(f"conda2docker.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"conda2docker.commands.{name}":
                continue
            raise
        module.register(target)


_plain_values.install()


def app_for(argv: list[str]) -> typer.Typer:
    """The app that parses ``argv``: one holding only the command ``argv`` starts with, or
    every command (top-level options, ``--help``, a mistyped name).

    typer turns every registered command into a click parser on each call (15 ms for all
    eight, most of a ``lock``'s own start-up), and the other commands' modules need not be
    imported; the command's own options and ``--help`` are the same either way.
    """
    chosen = COMMAND_MODULES if not argv or argv[0] not in COMMAND_MODULES else (argv[0],)
    app = _new_app()
    _register(app, chosen)
    return app


EXIT_INTERNAL = 70  # sysexits' EX_SOFTWARE


def _guarded() -> bool:
    import os

    return os.environ.get(NO_GUARD_VARIABLE, "0") in ("", "0")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; user errors become one line on stderr and an exit code (credentials cut
    out by ``UserError.one_line``: they never reach a message). Anything else is a bug: one line with the bug-report
    hint (exit 70), unless ``CONDA2DOCKER_NO_GUARD`` is set (the tests set it, so a bug is never
    hidden from them)."""
    try:
        return _main(argv)
    except Exception as error:  # the top-level guard: never a traceback for a user
        if not _guarded():
            raise
        typer.echo(f"conda2docker: error: {internal_error_line(error)}", err=True)
        return EXIT_INTERNAL


def _main(argv: list[str] | None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        result = app_for(argv)(args=argv, prog_name="conda2docker", standalone_mode=False)
    except UserError as error:
        for line in error.lines():  # each line through one_line, which redacts
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
    native runtime (py-rattler's worker threads) is loaded, which can race at shutdown.
    (``conda2docker.__main__.entry``, the console script, sets the collector's threshold
    first and calls this.)"""
    code = main()
    if "rattler" in sys.modules:
        import os

        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    entry()
