"""The ``convert`` job: read → resolve → (audit) → plan → render → write the context.

Kept apart from the CLI so ``init`` and the tests drive the same path.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from conda2docker.errors import InputError
from conda2docker.model import Lock, Resolution

Echo = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class ConvertRequest:
    env_file: Path
    output: Path
    installer: str = "micromamba"
    vendor: bool = False
    platforms: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    channel_alias: str | None = None
    mirrors: tuple[str, ...] = ()
    offline: bool = False
    priority: str = "strict"
    solver: str = "auto"
    cuda: str | None = None
    runtime_image: str = "debian:bookworm-slim"
    build_image: str = "buildpack-deps:bookworm"
    micromamba_image: str = "mambaorg/micromamba:2.0.5-debian12-slim"
    python_image: str = "python:3.12-slim-bookworm"
    uid: int = 10001
    gid: int = 10001
    buildkit: bool = False
    check: bool = False
    force: bool = False


@dataclass(frozen=True, slots=True)
class ConvertResult:
    resolution: Resolution
    written: tuple[Path, ...] = ()
    unchanged: tuple[Path, ...] = ()
    differing: tuple[Path, ...] = ()


def lock_bytes(lock: Lock) -> bytes:
    from conda2docker.lockfile import write_conda_lock

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "conda-lock.yml"
        write_conda_lock(lock, path)
        return path.read_bytes()


def convert(request: ConvertRequest, echo: Echo = lambda _line: None) -> ConvertResult:
    from conda2docker.commands._options import resolve_options_from_cli
    from conda2docker.context import populate
    from conda2docker.outputs import differing, write_files
    from conda2docker.pipeline import resolve_input
    from conda2docker.plan import PlanOptions, lock_digest, make_plan
    from conda2docker.render.dockerfile import render_dockerfile, render_dockerignore
    from conda2docker.resolve import require_complete

    if request.installer not in ("micromamba", "rattler"):
        raise InputError(f"unknown --installer {request.installer!r}", fix="use micromamba or rattler")
    out = request.output
    if out.exists() and not out.is_dir():
        raise InputError(f"{out} exists and is not a directory", fix="choose another --output")
    lock_path = out / "conda-lock.yml"
    options = resolve_options_from_cli(
        platforms=list(request.platforms), channels=list(request.channels),
        channel_alias=request.channel_alias, mirrors=list(request.mirrors), offline=request.offline,
        priority=request.priority, solver=request.solver, cuda=request.cuda, lock_path=lock_path,
    )
    resolution = require_complete(resolve_input(request.env_file, options))
    for change in (*resolution.spec.changes, *resolution.changes):
        echo(f"note: {change.subject}: {change.reason}")
    spec, lock = resolution.spec, resolution.lock
    serialized = spec.source.read_bytes() if spec.lock is not None else lock_bytes(lock)

    platform = request.platforms[0] if request.platforms else lock.platforms[0]
    plan = make_plan(
        spec,
        lock,
        PlanOptions(
            installer=request.installer,  # type: ignore[arg-type]
            vendor=request.vendor,
            platform=platform,
            runtime_image=request.runtime_image,
            micromamba_image=request.micromamba_image,
            python_image=request.python_image,
            build_image=request.build_image,
            uid=request.uid,
            gid=request.gid,
            buildkit=request.buildkit,
            rattler_version=plan_rattler_version(),
            source_label=spec.source.name,
            lock_digest=lock_digest(serialized),
        ),
    )
    files: dict[Path, bytes] = {
        lock_path: serialized,
        out / "Dockerfile": render_dockerfile(plan).encode(),
        out / ".dockerignore": render_dockerignore(plan).encode(),
    }
    for context_file in plan.context_files:
        files[out / context_file.path] = context_file.content
    if request.check:
        return ConvertResult(resolution, differing=tuple(differing(files)))
    report = write_files(files, force=request.force)
    index_args: tuple[str, ...] = ()
    if spec.pip_options.index_url:
        index_args += ("--index-url", spec.pip_options.index_url)
    for extra in spec.pip_options.extra_index_urls:
        index_args += ("--extra-index-url", extra)
    for links in spec.pip_options.find_links:
        index_args += ("--find-links", links)
    vendored = populate(plan, lock, out, rattler_version=plan_rattler_version(), index_args=index_args)
    if vendored.vendored_files:
        echo(f"vendored {vendored.vendored_files} files ({vendored.vendored_bytes / 1e6:.1f} MB), hashes checked")
    return ConvertResult(resolution, written=report.written, unchanged=report.unchanged)


def plan_rattler_version() -> str:
    """The py-rattler version the in-image installer uses: the one running here."""
    from importlib.metadata import version

    return version("py-rattler")
