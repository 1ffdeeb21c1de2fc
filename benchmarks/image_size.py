"""Generated runtime image against the single-stage image a user would write by hand (target ≤ 0.6x).

    python benchmarks/image_size.py [--json]

Same environment, same engine, same run, offline: the local test channel (real CPython,
noarch packages, a C program) and the loopback PyPI index (wheels, and the sdist-only C
extension ``c2d-cext``). ``convert --installer rattler --vendor`` writes the context; the
generated multi-stage Dockerfile is built with no network and no cache. The hand-written
comparison uses the SAME context and the SAME installer (the vendored py-rattler run by the
bootstrap Python, then pip) in ONE stage, as a hand-written ``conda env create`` file does:

* FROM the same base: ``debian:bookworm-slim``; when the environment has an sdist to compile,
  ``buildpack-deps:bookworm``, which is that base plus the ``apt-get install
  build-essential`` layer such a file adds (nothing can be installed from apt offline);
* the installer, the package files it installed from and pip's cache stay in the image
  (``COPY`` layers cannot be removed later in a single stage; ``pip install`` without
  ``--no-cache-dir``; no ``conda clean``), the user stays root.

Two environments: ``wheels`` (conda + pip wheels) and ``sdist`` (the same + ``c2d-cext``).
``run() -> dict`` returns the figures for ``benchmarks/run.py``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from common import skipped

from conda2docker.cli import main as cli

TARGET_RATIO = 0.6
BASE = "debian:bookworm-slim"
BUILD_BASE = "buildpack-deps:bookworm"

ENV = """\
name: image-size-{name}
channels: [c2d-test]
dependencies:
  - python=3.11
  - c2d-greet
  - hello-noarch
  - pip
  - pip:
    - --index-url {index}
    - c2d-pure==1.0
    - c2d-needs
{extra}"""

SINGLE_STAGE = """\
# What a user writes by hand: one stage, the environment installed where it runs.
FROM {base}
ADD vendor/bootstrap-python.tar.gz /opt/c2d-bootstrap
COPY vendor/py-rattler /tmp/c2d/py-rattler
COPY vendor/cacert.pem /tmp/c2d/
COPY vendor/channel /tmp/c2d/channel
COPY vendor/pip /tmp/c2d/pip
COPY conda2docker/ /tmp/c2d/
RUN /opt/c2d-bootstrap/bin/python -m zipfile -e /tmp/c2d/py-rattler/*.whl /tmp/c2d/site && \\
    SSL_CERT_FILE=/tmp/c2d/cacert.pem PYTHONPATH=/tmp/c2d/site \\
    /opt/c2d-bootstrap/bin/python /tmp/c2d/install_lock.py /tmp/c2d/conda-linux-64.lock /opt/env
RUN {pip_installs}
ENV PATH="/opt/env/bin:$PATH"
CMD ["python"]
"""


def _pip_installs(context: Path) -> str:
    support = context / "conda2docker"
    commands = []
    for name in ("requirements.pip.txt", "build-requirements.txt"):
        if (support / name).is_file():
            commands.append(f"/opt/env/bin/python -m pip install --no-deps --no-index --find-links "
                            f"/tmp/c2d/pip --require-hashes -r /tmp/c2d/{name}")
    return " && \\\n    ".join(commands) or "true"


def _build(context: Path, dockerfile: str, tag: str, client: Any) -> float:
    from conda2docker.engine.build import build_image

    start = time.perf_counter()
    build_image(context, tag, dockerfile=dockerfile, network_mode="none", no_cache=True, client=client,
                log_name=f"{dockerfile}.log")
    return time.perf_counter() - start


def measure(name: str, extra: str, channel: Any, index: Any, client: Any, tmp: Path) -> dict[str, Any]:
    env, out = tmp / name / "environment.yml", tmp / name / "out"
    env.parent.mkdir(parents=True)
    env.write_text(ENV.format(name=name, index=index.url, extra=extra))
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
        code = cli(["convert", str(env), "-o", str(out), "--installer", "rattler", "--vendor",
                    "--channel-alias", channel.root.as_uri()])
    if code != 0:
        sys.stderr.write(err.getvalue())
        raise RuntimeError(f"convert failed for {name}")
    compiles = "AS wheels" in (out / "Dockerfile").read_text()
    base = BUILD_BASE if compiles else BASE
    (out / "Dockerfile.single").write_text(SINGLE_STAGE.format(base=base, pip_installs=_pip_installs(out)))
    suffix = uuid.uuid4().hex[:8]
    tags = {"generated": f"c2d-bench/size-{name}:{suffix}", "single": f"c2d-bench/size-{name}-single:{suffix}"}
    try:
        seconds = {
            "generated": _build(out, "Dockerfile", tags["generated"], client),
            "single": _build(out, "Dockerfile.single", tags["single"], client),
        }
        sizes = {kind: int(client.images.get(tag).attrs["Size"]) for kind, tag in tags.items()}
        base_size = int(client.images.get(BASE).attrs["Size"])
    finally:
        for tag in tags.values():
            with contextlib.suppress(Exception):
                client.images.remove(tag)
    ratio = sizes["generated"] / sizes["single"]
    return {
        "environment": name,
        "single_stage_base": base,
        "generated_mb": round(sizes["generated"] / 1e6, 1),
        "single_stage_mb": round(sizes["single"] / 1e6, 1),
        "base_mb": round(base_size / 1e6, 1),
        "ratio": round(ratio, 3),
        "generated_build_s": round(seconds["generated"], 1),
        "single_stage_build_s": round(seconds["single"], 1),
        "met": ratio <= TARGET_RATIO,
    }


def run() -> dict[str, object]:
    try:
        from conda2docker.engine.client import connect
        from support.channel import build_test_channel
        from support.pypi_index import build_pypi_files, start_local_index

        client = connect()
        for image in (BASE, BUILD_BASE):
            client.images.get(image)
    except Exception as exc:  # no engine or no local base images: say why
        return skipped(f"needs the Docker engine with {BASE} and {BUILD_BASE}: {exc}")
    channel = build_test_channel()
    with tempfile.TemporaryDirectory() as tmp, start_local_index(build_pypi_files()) as index:
        per_env = [
            measure("wheels", "", channel, index, client, Path(tmp)),
            measure("sdist", "    - c2d-cext\n", channel, index, client, Path(tmp)),
        ]
    worst = max(per_env, key=lambda r: r["ratio"])
    return {
        "name": "image_size",
        "target": f"generated runtime <= {TARGET_RATIO}x the single-stage image",
        "ratio": worst["ratio"],
        "generated_mb": worst["generated_mb"],
        "single_stage_mb": worst["single_stage_mb"],
        "met": all(r["met"] for r in per_env),
        "per_environment": per_env,
    }


def table(result: dict[str, Any]) -> str:
    if "skipped" in result:
        return f"image_size: skipped: {result['skipped']}\n"
    lines = [f"{'environment':<12} {'generated MB':>12} {'single MB':>10} {'ratio':>6} {'met':>4}  "
             f"{'build s (gen/single)':>20}  single-stage base"]
    for row in result["per_environment"]:
        lines.append(
            f"{row['environment']:<12} {row['generated_mb']:>12.1f} {row['single_stage_mb']:>10.1f} "
            f"{row['ratio']:>6.2f} {'yes' if row['met'] else 'NO':>4}  "
            f"{row['generated_build_s']:>9.1f} / {row['single_stage_build_s']:<8.1f}  {row['single_stage_base']}"
        )
    lines.append(f"target: {result['target']}; met: {result['met']}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    result = run()
    sys.stdout.write(json.dumps(result, indent=2) + "\n" if args.json else table(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
