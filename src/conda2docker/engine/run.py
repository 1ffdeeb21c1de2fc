"""The ``build`` job: one variant of a generated context built with a live progress display
(one line per step off a terminal) and a summary per stage."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from conda2docker import image as contract
from conda2docker.engine.build import BuildResult, build_image, require_dockerfile
from conda2docker.image import Variant


def default_tag(context: Path) -> str:
    """``conda2docker/<directory name>:latest``, with the name made a valid repository."""
    name = re.sub(r"[^a-z0-9._-]+", "-", context.resolve().name.lower()).strip("-._") or "env"
    return f"conda2docker/{name}:latest"


def build_variant(
    context: Path,
    variant: Variant,
    tag: str | None = None,
    *,
    target: str | None = None,
    build_args: Mapping[str, str] | None = None,
    network_mode: str | None = None,
    no_cache: bool = False,
    quiet: bool = False,
) -> BuildResult:
    """Build ``variant``'s Dockerfile of ``context`` as ``tag`` (default: :func:`default_tag`)."""
    from conda2docker.engine.progress import ProgressDisplay
    from conda2docker.verify_checks import parse_stages

    dockerfile = contract.dockerfile_name(variant)
    require_dockerfile(context, dockerfile)
    path = context / dockerfile
    steps = {s.name: len(s.instructions) + 1 for s in parse_stages(path.read_text(encoding="utf-8"))}
    from dataclasses import replace

    from conda2docker.engine.client import connect, current_address, is_podman

    client = connect()
    try:
        with ProgressDisplay(enabled=not quiet, stage_steps=steps) as display:
            result = build_image(
                context, tag or default_tag(context), dockerfile=dockerfile, target=target,
                build_args=build_args, network_mode=network_mode, no_cache=no_cache,
                progress=display.update, client=client,
            )
        display.summary(result)
        if is_podman(client):
            result = replace(result, notes=(*result.notes, f"built by Podman (Buildah) at {current_address()}"))
        if target is None and "env" in steps:  # a context with the env stage to measure in
            from conda2docker.engine.activation import measure_after_build

            note = measure_after_build(client, context, variant, result.image_id, network_mode)
            if note:
                result = replace(result, notes=(*result.notes, note))
    finally:
        client.close()
    return result
