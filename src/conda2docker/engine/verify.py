"""Verifying a built image: the container I/O behind ``conda2docker verify``.

Every check runs INSIDE the image, in short-lived containers with no network:

1. the probe's ``facts`` mode, as root (so caches under /root are visible), with the
   environment's own interpreter ``<prefix>/bin/python``;
2. the probe's ``run`` mode as the image's own user: the identity, one import per Python
   package, each console entry point with ``--version`` / ``--help`` (time-out per command);
3. on an engine with the NVIDIA runtime, a GPU probe (``nvidia-smi``, torch when present).

What to check and how to judge it is in :mod:`conda2docker.verify_checks`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from conda2docker import verify_checks as vc
from conda2docker.errors import InputError


@dataclass
class VerifyOptions:
    """What ``verify`` checks in an image, and how."""
    lock: Path | None = None
    context: Path | None = None
    dockerfile: str | None = None
    timeout: float = vc.DEFAULT_TIMEOUT
    skip_entry_points: Sequence[str] = ()
    build_args: Mapping[str, str] = field(default_factory=dict)
    network_mode: str | None = "none"
    prefix: str | None = None


def probe_source() -> str:
    return (resources.files("conda2docker.engine") / "probe.py").read_text(encoding="utf-8")


class ProbeError(RuntimeError):
    """The probe did not produce its JSON answer."""


def run_probe(
    client: Any,
    image: str,
    python: str,
    mode: str,
    request: Mapping[str, Any],
    *,
    user: str | None = None,
    timeout: float = 600.0,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Run the probe in a fresh container of ``image`` (network none) and return its answer."""
    from docker.errors import APIError

    from conda2docker.engine.probe import MARKER

    argv = [python, "-I", "-c", probe_source(), mode, json.dumps(dict(request))]
    kwargs: dict[str, Any] = {"network_mode": "none", **(extra or {})}
    if user is not None:
        kwargs["user"] = user
    try:
        container = client.containers.create(image, argv, entrypoint=[], detach=True, **kwargs)
    except APIError as exc:
        raise ProbeError(str(exc).splitlines()[0]) from exc
    try:
        try:
            container.start()
        except APIError as exc:  # e.g. the interpreter does not exist: exec failed
            raise ProbeError(_explain(str(exc))) from exc
        try:
            status = container.wait(timeout=timeout)
        except Exception as exc:  # requests' ReadTimeout
            with contextlib.suppress(Exception):
                container.kill()
            raise ProbeError(f"the probe did not finish within {timeout:.0f} s") from exc
        output = container.logs(stdout=True, stderr=True).decode("utf-8", "replace")
    finally:
        with contextlib.suppress(Exception):
            container.remove(force=True)
    head, marker, body = output.partition(MARKER + "\n")
    if not marker:
        raise ProbeError(f"exit {status.get('StatusCode')}: {vc.last_line(head) or 'no output'}")
    answer: dict[str, Any] = json.loads(body.splitlines()[0])
    return answer


def _explain(message: str) -> str:
    if "no such file or directory" in message.lower() or "executable file not found" in message:
        return "no Python interpreter at the environment's prefix (" + message.splitlines()[0][-160:] + ")"
    return message.splitlines()[0]


def _image(client: Any, ref: str) -> Any:
    from docker.errors import ImageNotFound

    try:
        return client.images.get(ref)
    except ImageNotFound as exc:
        from conda2docker.engine.client import current_address

        raise InputError(f"no image {ref!r} in the engine at {current_address()}",
                         fix="build it with `conda2docker build OUT --tag TAG`, check the name, or "
                             "choose the engine that has it (--engine podman, DOCKER_HOST)") from exc


def _expected_from_lock(path: Path, platform: str) -> tuple[tuple[vc.Expected, ...], str]:
    from conda2docker.lockfile import MAIN_CATEGORY, read_lock, select_categories
    from conda2docker.platforms import image_platform

    # the packages `convert` installs by default: the lock's main category, as micromamba
    lock, _ = select_categories(read_lock(path), (MAIN_CATEGORY,))
    chosen = platform if platform in lock.platforms else image_platform(lock.platforms)
    packages = lock.for_platform(chosen)
    return vc.expected_from_lock(packages), hashlib.sha256(path.read_bytes()).hexdigest()


def verify_image(
    ref: str,
    options: VerifyOptions,
    *,
    client: Any = None,
    echo: Callable[[str], None] = lambda _line: None,
) -> vc.Report:
    """Run every check against image ``ref``; the result says what passed, failed, was skipped."""
    from conda2docker.engine.client import connect

    client = client or connect()
    image = _image(client, ref)
    attrs = image.attrs
    seen = vc.image_facts(attrs.get("Config") or {}, str(attrs.get("Architecture")), options.prefix)
    prefix, python, platform = seen.prefix, seen.python, seen.platform
    config_user, label_digest, variant = seen.user, seen.label_digest, seen.variant

    checks: list[vc.Check] = []
    echo("probing the image's files")
    caches = seen.cache_paths
    facts: dict[str, Any] | None
    try:
        facts = run_probe(client, image.id, python, "facts", {
            "prefix": prefix, "compilers": list(vc.COMPILERS), "compiler_globs": list(vc.COMPILER_GLOBS),
            "cache_paths": list(caches), "source_paths": list(vc.SOURCE_PATHS),
        }, user="0:0")
        error = None
    except ProbeError as exc:
        facts, error = None, str(exc)
    checks.append(vc.judge_python(facts, prefix, error))

    lock_info: dict[str, Any] = {"label_sha256": label_digest}
    if options.lock is not None:
        expected, lock_sha = _expected_from_lock(options.lock, platform)
        lock_info.update(source="file", path=str(options.lock), sha256=lock_sha,
                         matches_label=(lock_sha == label_digest) if label_digest else None,
                         detail=f"{options.lock} ({len(expected)} packages, sha256 {lock_sha[:12]}…)")
    elif facts is not None:
        expected, lock_sha = vc.expected_from_facts(facts), None
        lock_info.update(source="image", sha256=label_digest, matches_label=None,
                         detail=f"conda-meta + dist-info records in the image ({len(expected)} packages)"
                         + (f", label sha256 {label_digest[:12]}…" if label_digest else ", no lock label"))
    else:
        expected, lock_sha = (), None
        lock_info.update(source="none", detail="no lock given and the image could not be read")
    lock_info.update(conda=sum(p.manager == "conda" for p in expected),
                     pip=sum(p.manager == "pip" for p in expected))

    run_results: dict[str, Any] = {}
    identity: dict[str, Any] | None = None
    if facts is not None:
        checks.append(vc.judge_lock(expected, facts, label=label_digest, lock_sha256=lock_sha))
        plans = vc.plan_imports(expected, facts)
        points = vc.entry_points(plans, facts)
        skip = set(options.skip_entry_points) | vc.UNSAFE_ENTRY_POINTS
        commands = [vc.import_command(python, p, options.timeout) for p in plans if not p.skip]
        for point in points:
            if point.name not in skip:
                commands += vc.entry_point_commands(prefix, point, options.timeout)
        commands += vc.runtime_commands(python, options.timeout)
        echo(f"running {len(commands)} import, entry-point, locale and TLS checks as the image's user")
        try:
            answer = run_probe(client, image.id, python, "run", {"commands": commands},
                               timeout=60 + options.timeout * max(1, len(commands)))
            identity = answer["identity"]
            run_results = {r["id"]: r for r in answer["results"]}
        except ProbeError as exc:
            checks.append(vc.Check("probe", "python", "run", "fail", f"the check runner failed: {exc}"))
        checks.append(vc.judge_user(config_user, identity))
        if run_results:
            checks += [vc.judge_locale(run_results.get("runtime:locale")),
                       vc.judge_tls(run_results.get("runtime:tls"))]
        checks += [vc.judge_compilers(facts), vc.judge_caches(facts, caches),
                   vc.judge_sources(facts)]
        if run_results or not commands:
            checks += [vc.judge_import(p, run_results.get(f"import:{p.package}")) for p in plans]
            checks += [vc.judge_entry_point(e, run_results, skip) for e in points]
        has_torch = any(p.manager in ("conda", "pip") and p.name in ("pytorch", "torch") for p in expected)
    else:
        checks.append(vc.judge_user(config_user, None))
        has_torch = False

    checks.append(_activation_check(client, image.id, prefix, config_user))
    checks.append(_gpu_check(client, image.id, prefix, variant, has_torch, options.timeout))

    echo("measuring layers")
    sizes = _sizes(client, image, options, echo)
    image_info = {
        "ref": ref, "id": image.id, "tags": list(image.tags), "size_bytes": int(attrs.get("Size", 0)),
        "variant": variant, "user": config_user, "prefix": prefix, "platform": platform,
        "lock_sha256": label_digest,
    }
    return vc.Report(image_info, lock_info, tuple(checks), sizes)


def _activation_check(client: Any, image_id: str, prefix: str, config_user: str) -> vc.Check:
    """Source the packages' activate.d scripts inside the image, as its user, with its ENV."""
    from conda2docker.engine.activation import evaluate_in_image
    from conda2docker.errors import EngineError

    try:
        activation = evaluate_in_image(client, image_id, prefix, user=config_user or None)
    except EngineError as exc:
        return vc.judge_activation(None, exc.message)
    return vc.judge_activation(activation)


def _gpu_check(client: Any, image_id: str, prefix: str, variant: str | None,
               has_torch: bool, timeout: float) -> vc.Check:
    try:
        runtimes = list((client.info().get("Runtimes") or {}).keys())
    except Exception:  # an engine that does not answer info: treat as no GPU runtime
        runtimes = []
    if variant != "gpu" or "nvidia" not in runtimes:
        return vc.judge_gpu(variant, runtimes, None)
    from docker.types import DeviceRequest

    extra = {"runtime": "nvidia", "device_requests": [DeviceRequest(count=-1, capabilities=[["gpu"]])]}
    try:
        answer = run_probe(client, image_id, f"{prefix}/bin/python", "run",
                           {"commands": vc.gpu_commands(prefix, has_torch, timeout)}, extra=extra)
    except ProbeError:
        return vc.judge_gpu(variant, runtimes, None)
    return vc.judge_gpu(variant, runtimes, {r["id"]: r for r in answer["results"]})


def _sizes(client: Any, image: Any, options: VerifyOptions, echo: Callable[[str], None]) -> vc.SizeReport:
    runtime: vc.StageText | None = None
    stages: list[vc.StageText] = []
    dockerfile = options.dockerfile or _dockerfile_for(image)
    if options.context is not None:
        path = options.context / dockerfile
        if not path.is_file():
            raise InputError(f"no {dockerfile} in {options.context}",
                             fix="give the directory `convert` wrote as --context")
        stages = vc.parse_stages(path.read_text(encoding="utf-8"), options.build_args)
        runtime = stages[-1] if stages else None
    history = image.history()
    base_image = None if runtime is not None else _untagged_base(client, image, history)
    base, base_size, layers = vc.split_history(history, runtime, base_image)
    built: list[vc.StageSize] = []
    if options.context is not None and stages:
        from conda2docker.engine.build import build_image

        images: dict[str, tuple[str, int]] = {}
        for stage in stages[:-1]:
            echo(f"building stage {stage.name} (target=, from the cache)")
            result = build_image(options.context, None, dockerfile=dockerfile, target=stage.name,
                                 build_args=options.build_args, network_mode=options.network_mode,
                                 client=client, log_name=f"build-{stage.name}.log")
            images[stage.name] = (result.image_id, int(client.images.get(result.image_id).attrs["Size"]))
        bases: dict[str, int] = {}
        for stage in stages:
            if stage.base not in images and stage.base not in bases:
                with contextlib.suppress(Exception):
                    bases[stage.base] = int(client.images.get(stage.base).attrs["Size"])
        built = vc.stage_sizes(stages, images, bases)
    return vc.SizeReport(int(image.attrs.get("Size", 0)), base, base_size, tuple(layers), tuple(built))


def _untagged_base(client: Any, image: Any, history: Sequence[Mapping[str, Any]]) -> tuple[str, int] | None:
    """When no history entry names its image (Podman's history carries no tags), the first
    image id in it that is a tagged image other than ``image``: (its tag, its history's length)."""
    if any(entry.get("Tags") for entry in history[1:]):
        return None
    for entry in history[1:]:
        ref = str(entry.get("Id") or "")
        if not ref or ref == "<missing>":
            continue
        try:
            found = client.images.get(ref)
        except Exception:  # an id the engine does not know as an image: look further
            continue
        if found.id != image.id and found.tags:
            return str(found.tags[0]), len(found.history())
    return None


def _dockerfile_for(image: Any) -> str:
    return vc.image_facts(image.attrs.get("Config") or {}, str(image.attrs.get("Architecture"))).dockerfile
