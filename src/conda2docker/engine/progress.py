"""A live progress display for builds (rich), degrading to plain lines off a terminal."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any

from conda2docker.engine.build import BuildEvent


class ProgressDisplay:
    """Shows the current stage and step; prints each step line when not on a terminal."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.interactive = enabled and sys.stderr.isatty()
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> ProgressDisplay:
        if self.interactive:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                TextColumn("[bold]{task.fields[stage]}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                TextColumn("{task.description}"), TimeElapsedColumn(), console=Console(stderr=True),
                transient=False,
            )
            self._progress.start()
            self._task = self._progress.add_task("starting", total=None, stage="build")
        return self

    def update(self, event: BuildEvent) -> None:
        if not self.enabled:
            return
        if self._progress is not None:
            self._progress.update(
                self._task, completed=event.step or 0, total=event.total,
                description=event.line[:70], stage=event.stage or "build",
            )
        elif event.line.startswith("Step "):
            stage = f"[{event.stage}] " if event.stage else ""
            print(f"{stage}{event.line}", file=sys.stderr, flush=True)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._progress is not None:
            self._progress.stop()
