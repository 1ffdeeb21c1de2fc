"""Rebuild after a change to one pip package against a cold build (target ≤ 0.25x).

Same environment, same engine, same run: the local test channel (real python + pip) and the
loopback index; `convert --installer rattler --vendor`, build with no network. The cold build
uses no layer cache; then `c2d-pure` moves from 1.0 to 1.1 and the image is rebuilt with the
cache: only the `pip` stage and the runtime's pip layer should run again.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import time
import uuid
from pathlib import Path

from common import skipped

from conda2docker.cli import main

ENV = """\
name: rebuild
channels: [c2d-test]
dependencies:
  - python=3.11
  - c2d-greet
  - pip
  - pip:
    - --index-url {index}
    - c2d-pure=={version}
"""


def _build(context: Path, tag: str, *, no_cache: bool) -> float:
    argv = ["build", str(context), "--tag", tag, "--network", "none", "--quiet"]
    if no_cache:
        argv.append("--no-cache")
    start = time.perf_counter()
    if main(argv) != 0:
        raise RuntimeError(f"build failed; see {context / 'build.log'}")
    return time.perf_counter() - start


def run() -> dict[str, object]:
    try:
        from conda2docker.engine.client import connect
        from support.channel import build_test_channel
        from support.pypi_index import build_pypi_files, start_local_index

        client = connect()
    except Exception as exc:  # no engine, no stand-ins: say why and move on
        return skipped(f"needs the Docker engine and the test stand-ins: {exc}")
    channel = build_test_channel()
    tag = f"c2d-bench/rebuild:{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory() as tmp, start_local_index(build_pypi_files()) as index:
        env, out = Path(tmp) / "environment.yml", Path(tmp) / "out"
        convert = ["convert", str(env), "-o", str(out), "--installer", "rattler", "--vendor",
                   "--channel-alias", channel.root.as_uri(), "--force"]
        env.write_text(ENV.format(index=index.url, version="1.0"))
        if main(convert) != 0:
            raise RuntimeError("convert failed")
        try:
            cold = _build(out, tag, no_cache=True)
            env.write_text(ENV.format(index=index.url, version="1.1"))
            if main(convert) != 0:
                raise RuntimeError("convert failed")
            warm = _build(out, tag, no_cache=False)
            log = (out / "build.log").read_text()
            (Path(tempfile.gettempdir()) / "c2d-rebuild.log").write_text(log)
        finally:
            from docker.errors import ImageNotFound

            with contextlib.suppress(ImageNotFound):
                client.images.remove(tag, force=True, noprune=False)
    ratio = warm / cold
    return {
        "name": "rebuild after one pip package changed vs cold build",
        "cold_seconds": round(cold, 2),
        "rebuild_seconds": round(warm, 2),
        "ratio": round(ratio, 3),
        "cached_steps": log.count("Using cache"),
        "target": "ratio <= 0.25",
        "met": ratio <= 0.25,
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
