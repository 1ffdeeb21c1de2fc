"""``build OUT --bake``: a lab's bake file built by ``docker buildx bake``, or, without buildx,
target by target through the Engine API.

The bake file (``OUT/docker-bake.hcl``) is read and checked first (:mod:`conda2docker.bakefile`:
nothing in it may reach the host), and every target's context and Dockerfile must be real
paths inside OUT (symbolic links resolved). Then:

* **buildx present** (``docker buildx version`` answers): ``docker buildx bake --file
  docker-bake.hcl --progress plain --metadata-file bake-metadata.json [--push|--load] [--set
  *.args.K=V]… [--no-cache] [-- TARGET…]`` runs in OUT (bake resolves contexts from its working
  directory). Its progress is streamed and kept in ``OUT/bake.log``. buildx exits 1 when a
  build fails and names it ``ERROR: target <name>: …`` (its builds run in parallel and the first
  failure cancels the others); the per-target report says which failed, with BuildKit's
  error for that target, and which did not finish; on success the metadata file gives each
  target's digest.
* **no buildx** (here: Debian ships none), or ``--engine podman``: each target is built in turn
  through the engine API with the classic builder, with a note saying why and what is lost:
  platforms other than the engine's own are skipped (a target with none of its platforms is
  skipped, with the reason), cache import/export and attestations are ignored, nothing is
  pushed. A failing target is reported and the others still build.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from conda2docker import image as contract
from conda2docker.bakefile import BakeFile, BakeTarget, read_bake_file, registries
from conda2docker.credentials import redact
from conda2docker.errors import EngineError, InputError, Problems, SourceLocation
from conda2docker.processes import run_bounded
from conda2docker.values import frozen

Status = Literal["built", "failed", "skipped", "not finished"]
Echo = Callable[[str], None]

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_VERTEX = re.compile(r"^#(?P<n>\d+) \[(?P<name>[A-Za-z0-9_-]+)[ \]]")
_VERTEX_ERROR = re.compile(r"^#(?P<n>\d+) ERROR: (?P<message>.*)$")
_TARGET_ERROR = re.compile(r"^ERROR: target (?P<name>[A-Za-z0-9_-]+): (?P<message>.*)$")
_ERROR = re.compile(r"^ERROR: (?P<message>.*)$")


@frozen
class TargetResult:
    """How one bake target ended: built, failed or not finished."""
    name: str
    status: Status
    detail: str = ""
    image: str = ""
    """What was built: the first tag and the image id (Engine API) or the digest (buildx)."""
    seconds: float = 0.0


@frozen
class BakeReport:
    """What a bake did: the builder used and each target's result."""
    builder: Literal["buildx", "engine"]
    results: tuple[TargetResult, ...]
    log: Path
    notes: tuple[str, ...] = ()
    exit_code: int = 0
    """buildx's exit code (0 for the Engine API path)."""

    @property
    def failed(self) -> tuple[TargetResult, ...]:
        return tuple(r for r in self.results if r.status in ("failed", "not finished"))


@frozen
class BakeOptions:
    """What ``build --bake`` is asked."""
    names: tuple[str, ...] = ()
    """Targets or groups to build (default: bake's ``default``)."""
    push: bool = False
    load: bool = False
    no_cache: bool = False
    build_args: Mapping[str, str] = field(default_factory=dict)
    quiet: bool = False
    engine_chosen: str | None = None
    """The address ``--engine`` chose (Podman: no buildx), else None."""


def buildx_version(environ: Mapping[str, str] | None = None) -> tuple[str | None, str]:
    """(buildx's version line, "") when ``docker buildx`` answers, else (None, why not)."""
    docker = shutil.which("docker", path=(environ or os.environ).get("PATH"))
    if docker is None:
        return None, "no docker CLI on PATH"
    try:
        done = run_bounded([docker, "buildx", "version"], text=True, timeout=60,
                           env=environ or os.environ)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"`docker buildx version` failed: {exc}"
    if done.returncode != 0:
        said = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()]
        return None, (said[0].strip() if said else f"`docker buildx version` exited {done.returncode}")
    return (done.stdout.strip().splitlines() or ["buildx"])[0], ""


def checked_targets(out: Path, bake: BakeFile, names: Sequence[str]) -> tuple[BakeTarget, ...]:
    """The selected targets, each context a real directory inside OUT holding its Dockerfile
    (links resolved), every problem at once."""
    targets = bake.selected(names)
    if not targets:
        raise InputError(f"{' '.join(names) or 'the default group'} names no target in {bake.path.name}",
                         fix="list targets in the group, or name one with --bake-target",
                         location=SourceLocation(bake.path))
    real_out = Path(os.path.realpath(out))
    problems = Problems()
    for target in targets:
        context_at = target.places.get("context", target.location)
        context = Path(os.path.realpath(real_out / target.context))
        if context != real_out and not context.is_relative_to(real_out):
            problems.add(InputError(
                f"target {target.name!r}: context {target.context!r} resolves to {context}, outside {real_out}",
                fix="remove the symbolic link; a context is a directory under OUT", location=context_at))
            continue
        if not context.is_dir():
            problems.add(InputError(f"target {target.name!r}: no directory {target.context!r} in {out}",
                                    fix="run `conda2docker convert ENV… -o OUT` again, or fix the context",
                                    location=context_at))
            continue
        for entry in (*target.cache_from, *target.cache_to):
            fields = dict(part.partition("=")[::2] for part in entry.split(",") if "=" in part)
            for key in ("src", "dest") if fields.get("type") == "local" else ():
                if key in fields:
                    real = Path(os.path.realpath(real_out / fields[key]))
                    if real == real_out or not real.is_relative_to(real_out):
                        problems.add(InputError(
                            f"target {target.name!r}: local cache {fields[key]!r} resolves to {real}, "
                            f"outside {real_out}", fix="remove the symbolic link; keep the cache under OUT",
                            location=target.places.get("cache-to" if entry in target.cache_to else "cache-from",
                                                       target.location)))
        dockerfile = Path(os.path.realpath(context / target.dockerfile))
        if not dockerfile.is_relative_to(context) or not dockerfile.is_file():
            problems.add(InputError(
                f"target {target.name!r}: no {target.dockerfile} in {target.context!r}"
                + ("" if dockerfile.is_relative_to(context) else f" (it resolves to {dockerfile})"),
                fix="name a Dockerfile inside the target's context",
                location=target.places.get("dockerfile", target.location)))
    problems.raise_all()
    return targets


def bake_build(out: Path, options: BakeOptions, echo: Echo) -> BakeReport:
    """Build the bake file of ``out``: through buildx when it answers, else the Engine API."""
    path = out / contract.BAKE_FILE
    if not path.is_file():
        raise InputError(f"no {contract.BAKE_FILE} in {out}",
                         fix="run `conda2docker convert ENV… -o OUT` with several environments, or "
                             "build one context without --bake", location=SourceLocation(path))
    bake = read_bake_file(path, os.environ)
    targets = checked_targets(out, bake, options.names)
    if options.engine_chosen is not None:
        why = "--engine podman: buildx drives BuildKit, which Podman's API does not offer"
    else:
        version, why = buildx_version()
        if version is not None:
            for note in destinations(targets, options):
                echo(f"note: {note}")
            return run_buildx(out, targets, options, echo, version)
    return build_with_engine(out, targets, options, echo, why)


# ------------------------------------------------------------------------------- buildx


def destinations(targets: Sequence[BakeTarget], options: BakeOptions) -> list[str]:
    """Where buildx will send what it builds, said before it runs (the file may not be yours)."""
    said: list[str] = []
    if options.push:
        hosts = registries(t for target in targets for t in target.tags)
        if hosts:
            said.append(f"--push sends the images to {', '.join(hosts)}")
    exports = [entry for target in targets for entry in target.cache_to]
    refs = [part.split("=", 1)[1] for entry in exports for part in entry.split(",")
            if part.startswith("ref=")] + [entry for entry in exports if "=" not in entry]
    if refs:
        said.append(f"cache-to exports every stage's layers to {', '.join(registries(refs))}")
    return said


def buildx_argv(options: BakeOptions) -> list[str]:
    argv = ["docker", "buildx", "bake", "--file", contract.BAKE_FILE, "--progress", "plain",
            "--metadata-file", contract.BAKE_METADATA]
    if options.push:
        argv.append("--push")
    if options.load:
        argv.append("--load")
    if options.no_cache:
        argv.append("--no-cache")
    for key, value in options.build_args.items():
        argv += ["--set", f"*.args.{key}={value}"]
    if options.names:
        argv += ["--", *options.names]
    return argv


@dataclass
class _BuildxOutput:
    """What buildx's plain progress says about each target."""

    targets: tuple[str, ...]
    vertex_target: dict[str, str] = field(default_factory=dict)
    vertex_errors: dict[str, list[str]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    def feed(self, line: str) -> None:
        single = self.targets[0] if len(self.targets) == 1 else None
        match = _VERTEX.match(line)
        if match:
            name = match["name"]
            # buildx prefixes vertices with the target only when several are built
            target = name if name in self.targets else single
            if target is not None:
                self.vertex_target.setdefault(match["n"], target)
        error = _VERTEX_ERROR.match(line)
        if error:
            owner = self.vertex_target.get(error["n"])
            if owner is not None:
                self.vertex_errors.setdefault(owner, []).append(error["message"].strip())
            return
        failed = _TARGET_ERROR.match(line)
        if failed and failed["name"] in self.targets:
            self.failed[failed["name"]] = failed["message"].strip()
            return
        general = _ERROR.match(line)
        if general:
            if single is not None and general["message"].startswith(("failed to solve", "process ")):
                self.failed[single] = general["message"].strip()
            else:
                self.general.append(general["message"].strip())


def run_buildx(out: Path, targets: Sequence[BakeTarget], options: BakeOptions, echo: Echo,
               version: str) -> BakeReport:
    from conda2docker.outputs import confine

    argv = buildx_argv(options)
    log_path = confine(out, contract.BAKE_LOG)
    metadata = confine(out, contract.BAKE_METADATA)
    metadata.unlink(missing_ok=True)
    names = tuple(t.name for t in targets)
    seen = _BuildxOutput(names)
    start = time.monotonic()
    with log_path.open("w", encoding="utf-8") as log:
        log.write(f"# {version}\n# {' '.join(argv)}\n")
        try:
            process = subprocess.Popen(argv, cwd=out, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, text=True, errors="replace", bufsize=1)
        except OSError as exc:
            raise EngineError(f"cannot run docker buildx bake: {exc}",
                              fix="check the docker CLI and its buildx plugin") from exc
        assert process.stdout is not None
        for raw in process.stdout:
            line = redact(_ANSI.sub("", raw.rstrip("\n")))
            log.write(line + "\n")
            seen.feed(line)
            if not options.quiet:
                echo(line)
        code = process.wait()
        log.write(f"# exit {code} after {time.monotonic() - start:.1f} s\n")
    seconds = time.monotonic() - start
    results: list[TargetResult] = []
    built = _metadata(metadata) if code == 0 else {}
    for name in names:
        if code == 0:
            results.append(TargetResult(name, "built", "", built.get(name, ""), seconds))
        elif name in seen.failed:
            detail = seen.failed[name]
            specific = seen.vertex_errors.get(name)
            if specific and specific[-1] not in detail:
                detail = f"{specific[-1]} ({detail})"
            results.append(TargetResult(name, "failed", detail))
        elif seen.general and not seen.failed:
            results.append(TargetResult(name, "failed", seen.general[-1]))
        else:
            results.append(TargetResult(name, "not finished",
                                        "bake stops every build when one fails; no result was recorded"))
    notes = (f"built by {version} (docker buildx bake, in {out})",)
    return BakeReport("buildx", tuple(results), log_path, notes, code)


def _metadata(path: Path) -> dict[str, str]:
    """target → digest (and name) from buildx's metadata file, when it wrote one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    found: dict[str, str] = {}
    if isinstance(data, dict):
        for name, entry in data.items():
            if isinstance(entry, dict):
                digest = str(entry.get("containerimage.digest", ""))
                image = str(entry.get("image.name", "")).split(",")[0]
                found[name] = " ".join(x for x in (image, digest) if x)
    return found


# ------------------------------------------------------------------------- Engine API


def lost_without_buildx(targets: Sequence[BakeTarget], native: str) -> list[str]:
    """What the targets ask for that the Engine API fallback cannot give, in words."""
    lost: list[str] = []
    others = sorted({p for t in targets for p in t.platforms if p != native})
    if others:
        lost.append(f"platforms other than the engine's {native} are skipped ({', '.join(others)})")
    ignored = sorted({a for t in targets for a in t.buildx_only})
    if ignored:
        lost.append(f"{', '.join(ignored)} ignored (the classic builder has no BuildKit cache "
                    "import/export, attestations or those limits)")
    lost.append("targets build one after another, not in parallel")
    return lost


_ARCH_NAMES = {"x86_64": "amd64", "aarch64": "arm64"}


def _native(client: Any) -> str:
    """The engine's own platform, as bake writes platforms (``linux/amd64``)."""
    arch = str(client.version().get("Arch") or "amd64")
    return f"linux/{_ARCH_NAMES.get(arch, arch)}"


_PLATFORM_ARGS = ("TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT",
                  "BUILDPLATFORM", "BUILDOS", "BUILDARCH", "BUILDVARIANT")
_ARG_LINE = re.compile(r"^\s*ARG\s+(.+)$", re.IGNORECASE | re.MULTILINE)


def platform_args(dockerfile: str, native: str) -> dict[str, str]:
    """BuildKit's automatic platform args that ``dockerfile`` declares, for the engine's own
    platform: the classic builder does not set them (a multi-platform Dockerfile picks
    ``conda-${TARGETARCH}.lock`` by them), so the fallback passes them as build args."""
    os_name, _, rest = native.partition("/")
    arch, _, variant = rest.partition("/")
    values = {"PLATFORM": native, "OS": os_name, "ARCH": arch, "VARIANT": variant}
    declared = {word.split("=", 1)[0] for line in _ARG_LINE.findall(dockerfile) for word in line.split()}
    return {name: values[name.removeprefix("TARGET").removeprefix("BUILD")]
            for name in _PLATFORM_ARGS if name in declared}


def _split_reference(ref: str) -> tuple[str, str]:
    name, _, tag = ref.rpartition(":")
    if not name or "/" in tag:
        return ref, "latest"
    return name, tag


def build_with_engine(out: Path, targets: Sequence[BakeTarget], options: BakeOptions, echo: Echo,
                      why: str) -> BakeReport:
    from conda2docker.engine.client import connect, current_address, is_podman
    from conda2docker.outputs import confine

    client = connect()
    log_path = confine(out, contract.BAKE_LOG)
    results: list[TargetResult] = []
    try:
        native = _native(client)
        engine = ("Podman's API" if is_podman(client) else "the Docker Engine API") + f" at {current_address()}"
        notes = [f"buildx is not available ({why}): building {len(targets)} target(s) one by one "
                 f"through {engine}; " + "; ".join(lost_without_buildx(targets, native))]
        if options.push:
            notes.append("--push needs buildx: nothing was pushed; push the tags with `docker push TAG`")
        with log_path.open("w", encoding="utf-8") as log:
            log.write(f"# {notes[0]}\n")
            for target in targets:
                result = _build_one(out, target, options, native, client, echo)
                log.write(f"{target.name}: {result.status} {result.image} {result.detail}".rstrip() + "\n")
                results.append(result)
    finally:
        client.close()
    return BakeReport("engine", tuple(results), log_path, tuple(notes))


def _build_one(out: Path, target: BakeTarget, options: BakeOptions, native: str, client: Any,
               echo: Echo) -> TargetResult:
    """One target through the engine API; a failure is this target's result, not the run's."""
    from conda2docker.engine.activation import measure_after_build
    from conda2docker.engine.build import build_image
    from conda2docker.engine.progress import ProgressDisplay
    from conda2docker.verify_checks import parse_stages

    if target.platforms and native not in target.platforms:
        return TargetResult(target.name, "skipped",
                            f"platforms {', '.join(target.platforms)} only; this engine builds {native} "
                            "(other platforms need buildx: QEMU emulation or a remote builder)")
    context = Path(os.path.realpath(out / target.context))
    path = context / target.dockerfile
    steps = {s.name: len(s.instructions) + 1
             for s in parse_stages(path.read_text(encoding="utf-8", errors="replace"))}
    tag = target.tags[0] if target.tags else None
    if not options.quiet:
        echo(f"== {target.name}: {target.context}/{target.dockerfile}" + (f" as {tag}" if tag else ""))
    text = path.read_text(encoding="utf-8", errors="replace")
    args = {**platform_args(text, native), **target.args, **options.build_args}
    network = None if target.network in (None, "default") else target.network
    try:
        with ProgressDisplay(enabled=not options.quiet, stage_steps=steps) as display:
            built = build_image(context, tag, dockerfile=target.dockerfile, target=target.target,
                                build_args=args, labels=target.labels, network_mode=network,
                                no_cache=target.no_cache or options.no_cache, pull=target.pull,
                                progress=display.update, client=client,
                                log_name=contract.target_log(target.name))
        display.summary(built)
    except EngineError as error:
        return TargetResult(target.name, "failed", error.one_line())
    notes: list[str] = []
    for extra in target.tags[1:]:
        repository, name = _split_reference(extra)
        try:
            client.api.tag(built.image_id, repository, name)
        except Exception as exc:  # the engine refuses a reference: say so, keep the image
            notes.append(f"not tagged {extra}: {str(exc).splitlines()[0][:160]}")
    others = [p for p in target.platforms if p != native]
    if others:
        notes.append(f"{', '.join(others)} skipped (needs buildx)")
    variant = next((v for v, name in contract.DOCKERFILE_NAMES.items() if name == target.dockerfile), None)
    if variant is not None and target.target is None and "env" in steps:
        note = measure_after_build(client, context, variant, built.image_id, network)
        if note:
            notes.append(note)
    built = replace(built, notes=tuple(notes))
    image = " ".join(x for x in (tag or "", built.image_id[:19]) if x)
    return TargetResult(target.name, "built", "; ".join(built.notes), image, built.seconds)
