"""A live progress display for builds (rich), degrading to plain lines off a terminal.

On a terminal: one bar per stage (steps done / steps seen, cached steps counted) and the
current line of output under it. Off a terminal (CI, pipes): one line per step,
``[stage] Step N/M : INSTRUCTION``, then `` (cached)`` when the engine reused the layer.
Either way :meth:`ProgressDisplay.summary` prints a line per stage at the end.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import IO, Any

from conda2docker.engine.build import BuildEvent, BuildResult


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


class ProgressDisplay:
    """Shows the current stage and step of a build."""

    def __init__(self, enabled: bool = True, stream: IO[str] | None = None,
                 interactive: bool | None = None, stage_steps: dict[str, int] | None = None) -> None:
        self.enabled = enabled
        self.stage_steps = dict(stage_steps or {})
        self.stream = stream if stream is not None else sys.stderr
        tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interactive = enabled and (tty if interactive is None else interactive)
        self._progress: Any = None
        self._tasks: dict[str, Any] = {}
        self._line: Any = None

    def __enter__(self) -> ProgressDisplay:
        if self.interactive:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self._progress = Progress(
                TextColumn("[bold]{task.fields[stage]:<8}"), BarColumn(bar_width=24), MofNCompleteColumn(),
                TextColumn("{task.description}"), TimeElapsedColumn(),
                console=Console(file=self.stream), transient=False,
            )
            self._progress.start()
        return self

    def _task(self, stage: str) -> Any:
        if stage not in self._tasks:
            self._tasks[stage] = self._progress.add_task("", total=self.stage_steps.get(stage), stage=stage)
        return self._tasks[stage]

    def update(self, event: BuildEvent) -> None:
        if not self.enabled:
            return
        stage = event.stage or "build"
        if self._progress is not None:
            task = self._task(stage)
            if event.is_step:
                self._progress.update(task, advance=1, description=_short(event.line.split(" : ", 1)[-1], 60))
            elif event.cached:
                self._progress.update(task, description="(cached)")
            else:
                self._progress.update(task, description=_short(event.line, 60))
            return
        if event.is_step:
            prefix = f"[{event.stage}] " if event.stage else ""
            print(f"{prefix}{_short(event.line, 160)}", file=self.stream, flush=True)
        elif event.cached:
            print("    (cached)", file=self.stream, flush=True)

    def summary(self, result: BuildResult) -> None:
        """One line per stage: steps, cached steps, seconds."""
        if not self.enabled:
            return
        for timing in result.timings:
            print(f"  {timing.name:<10} {timing.steps:>3} steps, {timing.cached:>3} cached, "
                  f"{timing.seconds:6.1f} s", file=self.stream, flush=True)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
