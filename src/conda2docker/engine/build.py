"""Building an image from a generated context through the engine API, with streamed progress."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conda2docker.errors import EngineError, SourceLocation

_STEP = re.compile(r"^Step (?P<n>\d+)/(?P<total>\d+) : (?P<instruction>.*)$")
_FROM = re.compile(r"^FROM\s+\S+\s+AS\s+(?P<stage>\S+)", re.IGNORECASE)

Progress = Callable[["BuildEvent"], None]


@dataclass(frozen=True, slots=True)
class BuildEvent:
    stage: str | None
    step: int | None
    total: int | None
    line: str


@dataclass
class BuildResult:
    image_id: str
    tag: str
    log_path: Path
    steps: int = 0
    stages: list[str] = field(default_factory=list)


@dataclass
class _Tracker:
    stage: str | None = None
    step: int | None = None
    total: int | None = None
    stages: list[str] = field(default_factory=list)
    tail: list[str] = field(default_factory=list)

    def feed(self, line: str) -> BuildEvent:
        match = _STEP.match(line)
        if match:
            self.step, self.total = int(match["n"]), int(match["total"])
            stage = _FROM.match(match["instruction"])
            if stage:
                self.stage = stage["stage"]
                self.stages.append(self.stage)
            self.tail = []
        else:
            self.tail = ([*self.tail, line])[-25:]
        return BuildEvent(self.stage, self.step, self.total, line)


def build_image(
    context: Path,
    tag: str,
    *,
    dockerfile: str = "Dockerfile",
    target: str | None = None,
    build_args: Mapping[str, str] | None = None,
    network_mode: str | None = None,
    no_cache: bool = False,
    progress: Progress | None = None,
    client: Any = None,
) -> BuildResult:
    """Build ``context/dockerfile`` as ``tag``; the full log goes to ``<context>/build.log``."""
    from docker.errors import APIError, DockerException

    from conda2docker.engine.client import connect

    if not (context / dockerfile).is_file():
        raise EngineError(
            f"no {dockerfile} in {context}",
            fix="run `conda2docker convert ENV -o DIR` first and build DIR",
            location=SourceLocation(context / dockerfile),
        )
    client = client or connect()
    log_path = context / "build.log"
    tracker = _Tracker()
    image_id = ""
    with log_path.open("w", encoding="utf-8") as log:
        try:
            stream = client.api.build(
                path=str(context), dockerfile=dockerfile, tag=tag, target=target, rm=True,
                forcerm=True, decode=True, buildargs=dict(build_args or {}),
                network_mode=network_mode, nocache=no_cache, pull=False,
            )
            for chunk in stream:
                if "stream" in chunk:
                    for line in str(chunk["stream"]).splitlines():
                        if not line.strip():
                            continue
                        log.write(line + "\n")
                        event = tracker.feed(line)
                        if progress:
                            progress(event)
                if "aux" in chunk and isinstance(chunk["aux"], dict) and "ID" in chunk["aux"]:
                    image_id = str(chunk["aux"]["ID"])
                if "error" in chunk:
                    message = str(chunk.get("error", "")).strip()
                    log.write(f"ERROR: {message}\n")
                    raise _failure(message, tracker, log_path)
        except (APIError, DockerException) as exc:
            log.write(f"ERROR: {exc}\n")
            raise _failure(str(exc), tracker, log_path) from exc
    if not image_id:
        image_id = client.images.get(tag).id
    return BuildResult(image_id, tag, log_path, tracker.step or 0, tracker.stages)


def _failure(message: str, tracker: _Tracker, log_path: Path) -> EngineError:
    where = f"stage '{tracker.stage}'" if tracker.stage else "the build"
    step = f", step {tracker.step}/{tracker.total}" if tracker.step else ""
    tail = " | ".join(line.strip() for line in tracker.tail[-6:] if line.strip())
    first = message.splitlines()[0] if message else "build failed"
    detail = f"; last output: {tail}" if tail else ""
    return EngineError(
        f"{where}{step} failed: {first}{detail}",
        fix=f"read the full log in {log_path}; fix the package or the base image named there and rebuild",
    )
