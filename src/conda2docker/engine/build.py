"""Building an image from a generated context through the engine API, with streamed progress.

The classic builder (the only one the docker SDK speaks) streams ``Step N/M : INSTRUCTION``
lines, the output of each ``RUN``, `` ---> Using cache`` and `` ---> <id>`` lines. The
tracker here follows them: the stage (from ``FROM … AS name``), the step, whether it came
from the cache, the package a failing step was working on, and the time spent per stage.
The whole stream is saved as ``<context>/build.log``, credentials redacted (a download error
may print a URL the build put a channel's credentials into).

Podman's API service builds with Buildah, whose stream differs: ``[S/N] STEP n/m: INSTRUCTION``
(steps counted per stage; no ``[S/N]`` for a single stage), ``--> Using cache <id>``, and a
failure reported as ``building at STEP "…": while running runtime: exit status N``. The tracker
reads both; progress events carry the step in the classic form either way.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conda2docker import image as contract
from conda2docker.credentials import redact
from conda2docker.errors import EngineError, InputError, SourceLocation
from conda2docker.values import frozen

_STEP = re.compile(r"^Step (?P<n>\d+)/(?P<total>\d+) : (?P<instruction>.*)$")
_FROM = re.compile(r"^FROM\s+\S+\s+AS\s+(?P<stage>\S+)", re.IGNORECASE)
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_CACHED = re.compile(r"^\s*---> Using cache\s*$|^--> Using cache\b")
_BUILDAH_STEP = re.compile(r"^(?:\[\d+/\d+\] )?STEP (?P<n>\d+)/(?P<total>\d+): (?P<instruction>.*)$")
_BUILDAH_FAILURE = re.compile(r'^building at STEP "(?P<instruction>[^"]*)": .*exit status (?P<code>\d+)\s*$')
_NAME = r"(?P<pkg>[A-Za-z0-9][A-Za-z0-9._-]*)"

#: Lines that name the package a failing step was busy with, most telling first. Each is
#: searched from the end of the step's output; the first that matches names the package.
PACKAGE_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(rf"Failed (?:building wheel for|to build) (?!one or more\b){_NAME}"),
    re.compile(rf"Building wheel for {_NAME} .*did not run successfully"),
    re.compile(rf"ERROR: Could not build wheels for {_NAME}"),
    re.compile(rf"^\s+{_NAME}\s*(?:==|@)\s*\S* from \S+"),  # pip's hash-mismatch listing
    re.compile(rf"ERROR: (?:Could not find a version that satisfies the requirement|"
               rf"No matching distribution found for) {_NAME}"),
    re.compile(rf"(?:failed to (?:install|link|extract|fetch)|error installing)\s+(?:package\s+)?'?{_NAME}",
               re.IGNORECASE),
    re.compile(rf"^(?:\s*Building wheel for|\s*Running setup\.py install for|Processing|Collecting)"
               rf"\s+(?:\S*/)?{_NAME}"),
)
_ARCHIVE_SUFFIX = re.compile(r"(?:-\d[^/]*)?(?:\.tar\.gz|\.zip|\.whl|\.conda|\.tar\.bz2)$")

Progress = Callable[["BuildEvent"], None]


@frozen
class BuildEvent:
    """One line of the engine's build output, placed in its stage and step."""
    stage: str | None
    step: int | None
    total: int | None
    line: str
    cached: bool = False
    """True on the `` ---> Using cache`` line of a step."""
    is_step: bool = False
    """True on a ``Step N/M :`` line."""


@dataclass
class StageTiming:
    """How long one stage took, and whether it came from the cache."""
    name: str
    steps: int = 0
    cached: int = 0
    seconds: float = 0.0


@dataclass
class BuildResult:
    """A finished build: the image, its log and its timings."""
    image_id: str
    tag: str | None
    log_path: Path
    steps: int = 0
    stages: list[str] = field(default_factory=list)
    timings: list[StageTiming] = field(default_factory=list)
    seconds: float = 0.0
    notes: tuple[str, ...] = ()
    """What the user should know about the built image (e.g. activation variables it lacks)."""


def package_from_output(lines: list[str]) -> str | None:
    """The package a failing step's output names (pip, the installers), or None."""
    for pattern in PACKAGE_PATTERNS:
        for line in reversed(lines):
            match = pattern.search(line)
            if match:
                name = _ARCHIVE_SUFFIX.sub("", match["pkg"].rstrip(".:,'\""))
                if name and name.lower() not in ("file", "the", "requirement", "-r"):
                    return name
    return None


@dataclass
class _Tracker:
    """Follows the build output: the current stage and step, the last lines."""
    stage: str | None = None
    step: int | None = None
    total: int | None = None
    instruction: str = ""
    stages: list[str] = field(default_factory=list)
    tail: list[str] = field(default_factory=list)
    timings: dict[str, StageTiming] = field(default_factory=dict)
    clock: Callable[[], float] = time.monotonic
    _since: float = 0.0

    def feed(self, line: str) -> BuildEvent:
        match = _STEP.match(line) or _BUILDAH_STEP.match(line)
        if match:
            line = f"Step {match['n']}/{match['total']} : {match['instruction']}"
            self._close_step()
            self.step, self.total = int(match["n"]), int(match["total"])
            self.instruction = match["instruction"]
            stage = _FROM.match(match["instruction"])
            if stage:
                self.stage = stage["stage"]
                self.stages.append(self.stage)
            if self.stage is not None:
                self.timings.setdefault(self.stage, StageTiming(self.stage)).steps += 1
            self.tail = []
            return BuildEvent(self.stage, self.step, self.total, line, is_step=True)
        cached = bool(_CACHED.match(line))
        if cached and self.stage is not None:
            self.timings.setdefault(self.stage, StageTiming(self.stage)).cached += 1
        self.tail = [*self.tail, line][-40:]
        return BuildEvent(self.stage, self.step, self.total, line, cached=cached)

    def _close_step(self) -> None:
        now = self.clock()
        if self.stage is not None and self._since:
            self.timings.setdefault(self.stage, StageTiming(self.stage)).seconds += now - self._since
        self._since = now

    def finish(self) -> list[StageTiming]:
        self._close_step()
        return [self.timings[name] for name in self.stages if name in self.timings]


def _per_dockerfile_context(context: Path, dockerfile: str) -> Any:
    """The context as a tar archive filtered by ``<dockerfile>.dockerignore``, when that file
    exists (BuildKit reads it instead of ``.dockerignore``; docker-py's client does not, so the
    same rule is applied here), else None (docker-py reads ``.dockerignore`` itself)."""
    ignore = context / f"{dockerfile}.dockerignore"
    if not ignore.is_file():
        return None
    from docker.utils.build import tar

    lines = [line.strip() for line in ignore.read_text(encoding="utf-8").splitlines()]
    patterns = [line for line in lines if line and not line.startswith("#")]
    return tar(str(context), exclude=patterns, dockerfile=(dockerfile, None))


def require_dockerfile(context: Path, dockerfile: str) -> None:
    """Refuse a context without ``dockerfile`` before any engine is asked: a missing file is
    the input's problem, whether or not an engine answers."""
    if not (context / dockerfile).is_file():
        lab = (context / contract.BAKE_FILE).is_file()
        raise InputError(
            f"no {dockerfile} in {context}" + (f" (it holds {contract.BAKE_FILE})" if lab else ""),
            fix=("build every environment with `conda2docker build OUT --bake`, or one context: "
                 "`conda2docker build OUT/<name>`") if lab else
                "run `conda2docker convert ENV -o DIR` first and build DIR",
            location=SourceLocation(context / dockerfile),
        )


def build_image(
    context: Path,
    tag: str | None,
    *,
    dockerfile: str = contract.DOCKERFILE_NAMES["cpu"],
    target: str | None = None,
    build_args: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    network_mode: str | None = None,
    no_cache: bool = False,
    pull: bool = False,
    progress: Progress | None = None,
    client: Any = None,
    log_name: str = contract.BUILD_LOG,
) -> BuildResult:
    """Build ``context/dockerfile`` as ``tag``; the full log goes to ``<context>/<log_name>``.

    Raises :class:`EngineError` when the engine is unreachable or a step fails; the message
    names the stage, the step, the package the step was working on (when its output says)
    and the last lines of that output.
    """
    from docker.errors import APIError, DockerException

    from conda2docker.engine.client import connect

    require_dockerfile(context, dockerfile)
    client = client or connect()
    from conda2docker.outputs import confine

    log_path = confine(context, log_name)
    tracker = _Tracker()
    image_id = ""
    start = time.monotonic()
    with log_path.open("w", encoding="utf-8") as log:
        try:
            source: dict[str, Any] = {"path": str(context)}
            archive = _per_dockerfile_context(context, dockerfile)
            if archive is not None:
                source = {"fileobj": archive, "custom_context": True}
            stream = client.api.build(
                **source, dockerfile=dockerfile, tag=tag, target=target, rm=True,
                forcerm=True, decode=True, buildargs=dict(build_args or {}),
                network_mode=network_mode, nocache=no_cache, pull=pull,
                labels=dict(labels) if labels else None,
            )
            for chunk in stream:
                if "stream" in chunk:
                    for line in redact(_ANSI.sub("", str(chunk["stream"]))).splitlines():
                        if not line.strip():
                            continue
                        log.write(line + "\n")
                        event = tracker.feed(line)
                        if progress:
                            progress(event)
                if "aux" in chunk and isinstance(chunk["aux"], dict) and "ID" in chunk["aux"]:
                    image_id = str(chunk["aux"]["ID"])
                if "error" in chunk:
                    message = redact(_ANSI.sub("", str(chunk.get("error", ""))).strip())
                    log.write(f"ERROR: {message}\n")
                    raise _failure(message, tracker, log_path)
        except (APIError, DockerException) as exc:
            log.write(f"ERROR: {redact(str(exc))}\n")
            raise _failure(_api_message(exc), tracker, log_path) from exc
        timings = tracker.finish()
        seconds = time.monotonic() - start
        for timing in timings:
            log.write(f"# stage {timing.name}: {timing.steps} steps ({timing.cached} cached), "
                      f"{timing.seconds:.1f} s\n")
        log.write(f"# built {image_id or tag} in {seconds:.1f} s\n")
    if not image_id and tag:
        image_id = client.images.get(tag).id
    return BuildResult(image_id, tag, log_path, tracker.step or 0, tracker.stages, timings, seconds)


def _api_message(exc: Exception) -> str:
    explanation = getattr(exc, "explanation", None)
    return str(explanation or exc)


def _failure(message: str, tracker: _Tracker, log_path: Path) -> EngineError:
    where = f"stage '{tracker.stage}'" if tracker.stage else "the build"
    step = f", step {tracker.step}/{tracker.total}" if tracker.step else ""
    output = [line for line in tracker.tail if line.strip() and not line.startswith((" ---> ", "--> "))
              and not line.startswith("Removing intermediate container")]
    package = package_from_output(output)
    about = f" (package {package})" if package else ""
    tail = " | ".join(line.strip() for line in output[-6:])
    first = message.splitlines()[0] if message else "build failed"
    if first.startswith("The command '") and "returned a non-zero code" in first:
        code = first.rsplit(":", 1)[-1].strip()
        instruction = tracker.instruction.split(" ", 1)[0] or "RUN"
        first = f"{instruction} exited with code {code}"
    buildah = _BUILDAH_FAILURE.match(first)
    if buildah:  # Podman (Buildah): building at STEP "RUN …": while running runtime: exit status N
        first = f"{buildah['instruction'].split(' ', 1)[0]} exited with code {buildah['code']}"
    detail = f"; last output: {tail}" if tail else ""
    return EngineError(
        f"{where}{step} failed{about}: {first}{detail}",
        fix=f"read the full log in {log_path}; fix the package or the base image named there and rebuild",
    )

