"""Evaluating the packages' activation scripts inside a container (never on the host: they are
channel-supplied code), for ``convert --vendor`` (in the ``env`` stage's image) and for
``verify`` (in the built image).

The container has no network and runs as ``nobody`` unless told otherwise; what it runs is
:data:`conda2docker.activation.EVALUATE_SCRIPT`, and what it prints is parsed by
:func:`conda2docker.activation.parse_evaluation`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from conda2docker.activation import (
    Activation,
    EvaluationError,
    evaluate_argv,
    parse_evaluation,
)
from conda2docker.errors import EngineError
from conda2docker.image import (
    ACTIVATION_FILE,
    ACTIVATION_LOG,
    SYSTEM_PATH,
    Variant,
    dockerfile_name,
    support_dir,
)

NOBODY = "65534:65534"


def evaluate_in_image(
    client: Any,
    image: str,
    prefix: str,
    *,
    environment: Mapping[str, str] | None = None,
    user: str | None = NOBODY,
    timeout: float = 120.0,
) -> Activation:
    """Source ``<prefix>/etc/conda/activate.d/*.sh`` in a fresh container of ``image`` and
    return what they changed."""
    from docker.errors import APIError

    kwargs: dict[str, Any] = {"network_mode": "none", "environment": dict(environment or {})}
    if user is not None:
        kwargs["user"] = user
    try:
        container = client.containers.create(image, evaluate_argv(prefix), entrypoint=[], detach=True, **kwargs)
    except APIError as exc:
        raise EngineError(f"cannot evaluate the activation scripts in {image[:19]}: "
                          f"{str(exc).splitlines()[0]}") from exc
    try:
        container.start()
        try:
            status = container.wait(timeout=timeout)
        except Exception as exc:  # requests' ReadTimeout
            with contextlib.suppress(Exception):
                container.kill()
            raise EngineError(f"the activation scripts did not finish within {timeout:.0f} s") from exc
        output = container.logs(stdout=True, stderr=False)
    finally:
        with contextlib.suppress(Exception):
            container.remove(force=True)
    try:
        return parse_evaluation(output)
    except EvaluationError as exc:
        raise EngineError(f"{exc} (exit {status.get('StatusCode')})") from exc


def measure_in_env_stage(
    client: Any, context: Path, dockerfile: str, prefix: str, system_path: str,
    network_mode: str | None = "none",
) -> Activation:
    """Build the ``env`` stage (offline, from the vendored packages; the later full build
    reuses its layers) and evaluate the activation scripts in it, with the runtime's
    ``PATH``, ``CONDA_PREFIX`` and ``LANG``."""
    from conda2docker.engine.build import build_image

    result = build_image(context, None, dockerfile=dockerfile, target="env", network_mode=network_mode,
                         client=client, log_name=ACTIVATION_LOG)
    environment = {"PATH": f"{prefix}/bin:{system_path}", "CONDA_PREFIX": prefix, "LANG": "C.UTF-8"}
    return evaluate_in_image(client, result.image_id, prefix, environment=environment)


def engine_with_image(image: str) -> tuple[Any | None, str]:
    """A client when an engine answers and has ``image`` locally, else None and why not."""
    from conda2docker.engine.client import connect

    try:
        client = connect()
    except EngineError as exc:
        return None, exc.message
    try:
        client.images.get(image)
    except Exception:
        client.close()
        return None, f"the engine has no image {image} (measuring never pulls)"
    return client, ""


def measure_after_build(
    client: Any, context: Path, variant: Variant, image_id: str, network_mode: str | None = None,
) -> str | None:
    """After ``build`` of a generated context whose activation was not measured (no
    ``--vendor``, or no engine at ``convert`` time): measure it in the ``env`` stage (its
    layers are cached by now), keep it in ``activation.env`` for the image's lock, and return
    a note naming what the image's ``ENV`` lacks (None when nothing, or not our image)."""
    from conda2docker.activation import (
        differences,
        read_activation_file,
        render_activation_file,
    )
    from conda2docker.verify_checks import image_facts

    attrs = client.images.get(image_id).attrs
    facts = image_facts(attrs.get("Config") or {}, str(attrs.get("Architecture")))
    if not facts.label_digest:
        return None  # not built from a conda2docker context
    path = context / support_dir(variant) / ACTIVATION_FILE
    with contextlib.suppress(OSError, UnicodeDecodeError):
        if read_activation_file(path.read_text(encoding="utf-8"), facts.label_digest) is not None:
            return None  # measured already: the Dockerfile was written from it
    try:
        activation = measure_in_env_stage(client, context, dockerfile_name(variant), facts.prefix,
                                          SYSTEM_PATH, network_mode)
    except EngineError as error:
        return f"the activation scripts could not be measured ({error.message}); `conda2docker verify` checks them"
    kept = ""
    if path.parent.is_dir():  # a context convert wrote; never a new directory in a repository
        path.write_text(render_activation_file(activation, facts.label_digest), encoding="utf-8")
        kept = f" (it reads {path}; the Dockerfile changes)"
    env = dict(str(item).partition("=")[::2] for item in (attrs.get("Config") or {}).get("Env") or [])
    missing = differences(activation, env)
    if not missing:
        return None
    return (f"the packages' activate.d scripts set what the image's ENV lacks: {', '.join(missing)}; "
            f"fix: run the same `conda2docker convert` again with --force{kept} and rebuild")
