"""``conda2docker verify``: check a built image from inside, and report its size by stage."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from conda2docker.choices import VerifyFormat
from conda2docker.commands._options import EngineOpt, parse_build_args
from conda2docker.image import Variant

JSON_HELP = """\
With --format json, stdout holds one JSON object (schema "conda2docker.verify/1"):
{"schema", "image": {ref, id, tags, size_bytes, variant, user, prefix, platform, lock_sha256},
"lock": {source: file|image|none, path?, sha256, label_sha256, matches_label, conda, pip, detail},
"checks": [{id, kind: python|lock|user|hygiene|import|entry-point|gpu, subject,
status: pass|fail|skip, detail, data}],
"sizes": {total_bytes, base: {image, bytes}, own_bytes, by_stage: {stage: bytes},
layers: [{id, stage, instruction, bytes}], stages: [{name, base, image_id, size_bytes,
added_bytes}]},
"summary": {ok, passed, failed, skipped}}. See docs/verify.md.
"""


def register(app: typer.Typer) -> None:
    app.command("verify", help=_HELP)(verify_command)


_HELP = (
    "Run checks INSIDE IMAGE (no network): the environment's Python imports every Python "
    "package of the lock, console entry points answer --version/--help, the user is not "
    "root, no compilers, package caches or build sources are left; report the image size "
    "by stage; check CUDA on a GPU host. Exit 1 when a check fails.\n\n" + JSON_HELP
)


def verify_command(
    image: Annotated[str, typer.Argument(help="Image tag or id.", show_default=False)],
    output_format: Annotated[VerifyFormat, typer.Option("--format", help="table or json.")] = "table",
    lock: Annotated[Optional[Path], typer.Option("--lock", help="conda-lock.yml to compare with (default: the records inside the image).")] = None,  # noqa: UP045
    context: Annotated[Optional[Path], typer.Option("--context", help="The build context (OUT): also size each intermediate stage, built with target=.")] = None,  # noqa: UP045
    variant: Annotated[Optional[Variant], typer.Option("--variant", help="cpu or gpu: which Dockerfile of --context (default: the image's label).")] = None,  # noqa: UP045
    build_arg: Annotated[Optional[list[str]], typer.Option("--build-arg", help="KEY=VALUE used for the build (repeatable), with --context.")] = None,  # noqa: UP045
    network: Annotated[str, typer.Option("--network", help="Network mode for the stage builds of --context.")] = "none",
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds each import or entry point may take.")] = 20.0,
    skip_entry_point: Annotated[Optional[list[str]], typer.Option("--skip-entry-point", help="Console script not to run (repeatable).")] = None,  # noqa: UP045
    engine: EngineOpt = None,
) -> None:
    from conda2docker.engine.client import address_for, engine_at
    from conda2docker.engine.verify import VerifyOptions, verify_image
    from conda2docker.errors import InputError
    from conda2docker.image import dockerfile_name
    from conda2docker.verify_checks import render_table

    if lock is not None and not lock.is_file():
        raise InputError(f"no lock file {lock}", fix="give the conda-lock.yml the image was built from")
    options = VerifyOptions(
        lock=lock, context=context,
        dockerfile=None if variant is None else dockerfile_name(variant),
        timeout=timeout, skip_entry_points=tuple(skip_entry_point or ()),
        build_args=parse_build_args(build_arg), network_mode=network,
    )
    quiet = output_format == "json"
    with engine_at(address_for(engine)):
        report = verify_image(image, options,
                              echo=lambda line: None if quiet else typer.echo(f"# {line}", err=True))
    if output_format == "json":
        import json

        typer.echo(json.dumps(report.as_json(), indent=2))
    else:
        typer.echo(render_table(report), nl=False)
    if not report.ok:
        raise typer.Exit(1)
