"""Errors a user can act on: one line, where it happened, what to do.

Every failure the CLI reports goes through :class:`UserError`; anything else is a bug.
Exit codes are part of the interface and documented in the README.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from conda2docker.values import frozen

EXIT_OK = 0
EXIT_DIFFERS = 1
EXIT_BAD_INPUT = 2
EXIT_UNSOLVABLE = 3
EXIT_ENGINE = 4


@frozen
class SourceLocation:
    """A place in a user's file; line and column are 1-based."""

    file: Path
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        text = str(self.file)
        if self.line is not None:
            text += f":{self.line}"
            if self.column is not None:
                text += f":{self.column}"
        return text

    @property
    def brief(self) -> str:
        """``environment.yml:12`` (the file's name and the line, when known), for messages."""
        return f"{self.file.name}:{self.line}" if self.line is not None else self.file.name


class UserError(Exception):
    """A problem with the user's input or machine, reported without a traceback."""

    exit_code = EXIT_DIFFERS

    def __init__(
        self,
        message: str,
        *,
        fix: str | None = None,
        location: SourceLocation | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix
        self.location = location

    def one_line(self) -> str:
        """The whole error as a single line: ``file:line:col: message; fix: …``, with
        credentials (URL passwords, tokens) hidden."""
        from conda2docker.credentials import redact

        prefix = f"{self.location}: " if self.location else ""
        suffix = f"; fix: {self.fix}" if self.fix else ""
        text = f"{prefix}{self.message}{suffix}"
        return redact(" ".join(text.split()))

    def lines(self) -> list[str]:
        """The error as printed: one line, or one per problem for :class:`InputErrors`."""
        return [self.one_line()]


class InputError(UserError):
    """The input file cannot be read or is not a valid environment."""

    exit_code = EXIT_BAD_INPUT


MAX_PROBLEMS = 50
"""How many problems of one input are reported; the rest are counted."""


class InputErrors(InputError):
    """Every problem found in one input, reported together (``file:line:col: what; fix: how``
    each), so one run shows what to fix instead of one problem per run."""

    def __init__(self, problems: Sequence[InputError], total: int | None = None) -> None:
        first = problems[0]
        super().__init__(first.message, fix=first.fix, location=first.location)
        self.problems = tuple(problems)
        self.total = max(total or 0, len(self.problems))

    def one_line(self) -> str:
        if len(self.problems) == 1:
            return self.problems[0].one_line()
        return f"{self.total} problems; the first: {self.problems[0].one_line()}"

    def lines(self) -> list[str]:
        found = [p.one_line() for p in self.problems]
        if self.total > len(found):
            found.append(f"... and {self.total - len(found)} more problem(s) not shown")
        return found


class Problems:
    """Collects the input errors of one reader: ``with problems.collect(): ...`` keeps going
    after a bad entry; :meth:`raise_all` raises them together (sorted by place)."""

    def __init__(self, limit: int = MAX_PROBLEMS) -> None:
        self.limit = limit
        self.found: list[InputError] = []
        self.total = 0

    def add(self, error: InputError) -> None:
        for problem in error.problems if isinstance(error, InputErrors) else (error,):
            self.total += 1
            if len(self.found) < self.limit and problem not in self.found:
                self.found.append(problem)

    @contextmanager
    def collect(self) -> Iterator[None]:
        try:
            yield
        except InputError as error:
            self.add(error)

    def raise_all(self) -> None:
        if not self.found:
            return

        def place(error: InputError) -> tuple[str, int, int]:
            at = error.location
            return (str(at.file), at.line or 0, at.column or 0) if at else ("", 0, 0)

        raise InputErrors(sorted(self.found, key=place), self.total)


class ResolveError(UserError):
    """The environment cannot be resolved (unsolvable, missing packages, unreachable channel)."""

    exit_code = EXIT_UNSOLVABLE


class EngineError(UserError):
    """The Docker engine is unreachable or a build failed."""

    exit_code = EXIT_ENGINE


BUG_REPORT_URL = "https://github.com/conda2docker/conda2docker/issues"
#: Set (to anything but ``0``) to let unexpected exceptions through with their traceback; the
#: test suite sets it, so the guard never hides a bug from a test.
NO_GUARD_VARIABLE = "CONDA2DOCKER_NO_GUARD"


def internal_error_line(error: BaseException) -> str:
    """An unexpected exception as one line with the bug-report hint (secrets redacted)."""
    from conda2docker.credentials import redact

    where = ""
    trace = error.__traceback__
    while trace is not None and trace.tb_next is not None:
        trace = trace.tb_next
    if trace is not None:
        code = trace.tb_frame.f_code
        where = f" at {Path(code.co_filename).name}:{trace.tb_lineno}"
    detail = " ".join(str(error).split())[:300]
    text = f"internal error{where}: {type(error).__name__}: {detail}" if detail else \
        f"internal error{where}: {type(error).__name__}"
    return redact(f"{text}; this is a bug in conda2docker: please report it at {BUG_REPORT_URL} "
                  f"(rerun with {NO_GUARD_VARIABLE}=1 for the traceback)")


class OutputConflict(UserError):
    """An output file exists with different content and ``--force`` was not given."""

    exit_code = EXIT_DIFFERS
