"""Stand-ins for a multi-platform build on a one-architecture engine with no Docker Hub.

``arch_channel(root)``
    A local channel ``c2d-arch`` with a real package ``c2d-arch`` built for ``linux-64`` *and*
    ``linux-aarch64`` (py-rattler-build's ``assemble_package``). Its only file,
    ``share/c2d-arch/platform.txt``, names the platform it was built for, so an image tells
    which platform's lock was installed; being data, either installs on any machine.

``micromamba_standin(client, channel, workdir, tag)``
    An image to pass as ``--micromamba-image``: ``mambaorg/micromamba`` cannot be pulled here, so
    its ``micromamba create --yes --prefix P --file LOCK`` is conda2docker's own explicit-lock
    installer (``data/install_lock.py``, py-rattler) run by a Python taken from the test
    channel, exactly as ``--installer rattler --vendor`` runs it; ``micromamba clean`` does
    nothing. It is made from a real ``convert --installer rattler --vendor`` context.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

from support.channel import TestChannel, _assemble

ARCH_CHANNEL = "c2d-arch"
ARCH_FILE = "share/c2d-arch/platform.txt"
STANDIN_HOME = "/opt/micromamba-standin"

_MICROMAMBA = f"""#!/bin/sh
# micromamba stand-in for tests: installs an explicit lock with py-rattler
set -e
case "$1" in
  create)
    shift
    prefix=
    file=
    while [ $# -gt 0 ]; do
      case "$1" in
        --prefix) prefix=$2; shift 2 ;;
        --file) file=$2; shift 2 ;;
        *) shift ;;
      esac
    done
    SSL_CERT_FILE={STANDIN_HOME}/cacert.pem PYTHONPATH={STANDIN_HOME}/site \\
      exec /opt/c2d-bootstrap/bin/python {STANDIN_HOME}/install_lock.py "$file" "$prefix" ;;
  clean) exit 0 ;;
  *) echo "micromamba stand-in: unsupported: $*" >&2; exit 2 ;;
esac
"""

_DOCKERFILE = f"""FROM debian:bookworm-slim
ADD bootstrap-python.tar.gz /opt/c2d-bootstrap
COPY py-rattler {STANDIN_HOME}/wheels
COPY cacert.pem install_lock.py micromamba {STANDIN_HOME}/
RUN /opt/c2d-bootstrap/bin/python -m zipfile -e {STANDIN_HOME}/wheels/*.whl {STANDIN_HOME}/site && \\
    chmod 0755 {STANDIN_HOME}/micromamba && ln -s {STANDIN_HOME}/micromamba /usr/local/bin/micromamba
"""


def arch_channel(root: Path) -> TestChannel:
    from rattler.index import index_fs

    channel = root / ARCH_CHANNEL
    for subdir in ("linux-64", "linux-aarch64", "noarch"):
        (channel / subdir).mkdir(parents=True, exist_ok=True)
    for subdir in ("linux-64", "linux-aarch64"):
        built = _assemble(channel, name="c2d-arch", version="1.0", build_string="h0_0", subdir=subdir,
                          files={ARCH_FILE: (f"{subdir}\n", 0o644)})
        built.chmod(0o644)
    asyncio.run(index_fs(channel, force=True))
    return TestChannel(root=root, name=ARCH_CHANNEL, url=channel.as_uri(), python_version=None,
                       packages=("c2d-arch",))


def micromamba_standin(client: Any, channel: TestChannel, workdir: Path, tag: str) -> str:
    from conda2docker.cli import main

    env = workdir / "bootstrap-env.yml"
    env.write_text(f"name: standin\nchannels: [{channel.name}]\ndependencies: [python]\n")
    out = workdir / "bootstrap-context"
    code = main(["convert", str(env), "-o", str(out), "--installer", "rattler", "--vendor",
                 "--channel-alias", channel.alias, "--default-channels", "none", "--activation", "table"])
    assert code == 0, "the rattler --vendor context the stand-in is made from"
    context = workdir / "micromamba-standin"
    context.mkdir()
    shutil.copy(out / "vendor" / "bootstrap-python.tar.gz", context)
    shutil.copytree(out / "vendor" / "py-rattler", context / "py-rattler")
    shutil.copy(out / "vendor" / "cacert.pem", context)
    shutil.copy(out / "conda2docker" / "install_lock.py", context)
    (context / "micromamba").write_text(_MICROMAMBA)
    (context / "Dockerfile").write_text(_DOCKERFILE)
    client.images.build(path=str(context), tag=tag, rm=True, forcerm=True, network_mode="none")
    return tag
