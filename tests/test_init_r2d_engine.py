"""repo2docker's cases that need packages beyond python and pip, built offline by the engine from
the grown test channel (``conda-forge`` here: :mod:`support.r2d_channel`, with numpy, make and
nodejs), then the equivalent of their ``verify`` script run in the image.

The channel's only Python is the machine's (3.11): ``venv/numpy`` is built with
``--default-python 3.11`` (repo2docker's default is 3.10) and ``conda/py36-postBuild`` with its
``python=3.6`` pin replaced by the channel's Python; what else differs is said at each test.
"""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from conda2docker.cli import main
from support.channel import TestChannel
from support.engine import run_in_image
from support.pypi_index import LocalIndex

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("engine")]

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "repo2docker"


def init_and_build(repo: Path, channel: TestChannel, tag: str, *extra: str) -> None:
    argv = ["init", str(repo), "--installer", "rattler", "--vendor", "--no-jupyter",
            "--channel-alias", channel.alias, *extra]
    assert main(argv) == 0
    assert main(["build", str(repo), "--tag", tag, "--network", "none", "--quiet"]) == 0


def test_venv_numpy_builds_and_passes_its_verify(
    tmp_path: Path,
    r2d_channel: TestChannel,
    docker_client: object,
    base_image: str,
    image_tag_factory: Callable[[str], str],
) -> None:
    """``venv/numpy``: requirements.txt `numpy`, no environment file. init maps numpy to conda
    (the conda↔PyPI map) and infers repo2docker's default environment."""
    repo = tmp_path / "numpy"
    shutil.copytree(FIXTURES / "venv" / "numpy", repo)
    tag = image_tag_factory("init-r2d-numpy")
    init_and_build(repo, r2d_channel, tag, "--default-python", "3.11")
    assert "  - numpy\n" in (repo / "conda2docker" / "environment.yml").read_text()
    # verify: `sys.version_info[:2] == (3, 10)` (here the channel's 3.11) and `import numpy`.
    code, output = run_in_image(docker_client, tag, [  # type: ignore[arg-type]
        "python", "-c", "import sys, numpy; assert sys.version_info[:2] == (3, 11); "
        "print(sys.prefix, numpy.arange(4).sum())"])
    assert code == 0 and output.split() == ["/opt/env", "6"], output


def test_conda_py36_postbuild_builds_and_passes_its_verify(
    tmp_path: Path,
    r2d_channel: TestChannel,
    local_pypi: LocalIndex,
    docker_client: object,
    base_image: str,
    image_tag_factory: Callable[[str], str],
) -> None:
    """``conda/py36-postBuild``: environment.yml `python=3.6`, `numpy`; postBuild `mamba install
    -y make`, `mamba clean --all`, `pip install --no-cache pytest`.

    Built with python 3.11 (the channel's) and, as the build has no network, the pip line
    installs a wheel shipped in the repository (``c2d-pure`` from the local index) instead of
    pytest from PyPI; the mamba lines are the case's own. repo2docker's kernel/server split is
    one environment here (docs/init.md): its checks that `make` and numpy are in the kernel
    environment and that pip installed into an environment on PATH are run against it.
    """
    repo = tmp_path / "py36-postBuild"
    shutil.copytree(FIXTURES / "conda" / "py36-postBuild", repo)
    env = repo / "environment.yml"
    env.write_text(env.read_text().replace("python=3.6", "python=3.11"))
    wheel = next(local_pypi.files_dir.glob("c2d_pure-1.1-*.whl"))
    (repo / "wheels").mkdir()
    shutil.copy(wheel, repo / "wheels" / wheel.name)
    post = repo / "postBuild"
    text = post.read_text()
    assert "pip install --no-cache pytest" in text and "mamba install -y make" in text
    post.write_text(text.replace("pip install --no-cache pytest",
                                 "pip install --no-cache --no-index --find-links ./wheels c2d-pure"))
    tag = image_tag_factory("init-r2d-py36-postbuild")
    init_and_build(repo, r2d_channel, tag)
    lock = (repo / "conda-lock.yml").read_text()
    assert "name: make" in lock  # postBuild's install line, locked with the environment
    script = (
        "import json, os, shutil, subprocess, sys\n"
        "import numpy, c2d_pure\n"
        "assert sys.version_info[:2] == (3, 11)\n"
        "meta = os.listdir(sys.prefix + '/conda-meta')\n"
        "assert any(m.startswith('make-') for m in meta), meta\n"
        "assert shutil.which('make') == sys.prefix + '/bin/make'\n"
        "subprocess.run(['make', '--version'], check=True, capture_output=True)\n"
        "pip = json.loads(subprocess.run([sys.prefix + '/bin/pip', 'list', '--format=json'],"
        " check=True, capture_output=True, text=True).stdout)\n"
        "assert 'c2d-pure' in {p['name'] for p in pip}\n"
        "assert shutil.which('mamba') is None and shutil.which('conda') is None\n"
        "print(sys.prefix, 'verified')\n"
    )
    code, output = run_in_image(docker_client, tag, ["python", "-c", script])  # type: ignore[arg-type]
    assert code == 0 and output.split()[-2:] == ["/opt/env", "verified"], output


def npm_tarball(path: Path, name: str, command: str) -> None:
    """A package as ``npm pack`` writes it: ``package/package.json`` and a bin script."""
    members = {
        "package/package.json": json.dumps({"name": name, "version": "0.0.0",
                                            "bin": {command: "bin/cli.js"}}),
        "package/bin/cli.js": f"#!/usr/bin/env node\nconsole.log('{command} from npm');\n",
    }
    with tarfile.open(path, "w:gz") as archive:
        for member, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(member)
            info.size, info.mode = len(data), 0o755 if member.endswith(".js") else 0o644
            archive.addfile(info, io.BytesIO(data))


def test_venv_postbuild_npm_part_builds_and_passes_its_verify(
    tmp_path: Path,
    r2d_channel: TestChannel,
    docker_client: object,
    base_image: str,
    image_tag_factory: Callable[[str], str],
) -> None:
    """``venv/postBuild``: requirements.txt `jupyter-keepalive`; postBuild `jupyter server
    extension disable --sys-prefix jupyter_keepalive`, `npm install --global
    configurable-http-proxy`, `npm cache clean --force`; verify: the extension is disabled and
    `which configurable-http-proxy` finds it.

    Only the npm part is built: Jupyter Server is not in the test channel, so the requirement
    and the `jupyter` line are left out (plan level checks them), and, as the build has no
    network, configurable-http-proxy is an npm package tarball in the repository. What it
    proves: init adds nodejs when postBuild calls npm, npm's global prefix is the environment,
    which postBuild's user may write, and the command it installs is on PATH.
    """
    repo = tmp_path / "postBuild"
    shutil.copytree(FIXTURES / "venv" / "postBuild", repo)
    (repo / "requirements.txt").unlink()
    post = repo / "postBuild"
    lines = post.read_text().splitlines()
    assert lines[3:] == ["jupyter server extension disable --sys-prefix jupyter_keepalive",
                         "npm install --global configurable-http-proxy",
                         "npm cache clean --force"], lines
    npm_tarball(repo / "configurable-http-proxy-0.0.0.tgz", "configurable-http-proxy",
                "configurable-http-proxy")
    post.write_text("\n".join([*lines[:3], "npm install --global ./configurable-http-proxy-0.0.0.tgz",
                               lines[5]]) + "\n")
    tag = image_tag_factory("init-r2d-postbuild-npm")
    init_and_build(repo, r2d_channel, tag, "--default-python", "3.11")
    assert "name: nodejs" in (repo / "conda-lock.yml").read_text()
    code, output = run_in_image(docker_client, tag, [  # type: ignore[arg-type]
        "sh", "-c", "command -v configurable-http-proxy && configurable-http-proxy && "
        "npm prefix --global"])
    assert code == 0, output
    assert output.split() == ["/opt/env/bin/configurable-http-proxy", "configurable-http-proxy",
                              "from", "npm", "/opt/env"], output
