"""repo2docker's cases that need packages beyond python and pip, built by the engine from
the grown test channel (``conda-forge`` here: :mod:`support.r2d_channel`, with numpy, make,
nodejs and the Jupyter closure converted from PyPI wheels), then the equivalent of their
``verify`` script run in the image.

The channel's only Python is the machine's (3.11): the ``venv/*`` cases are built with
``--default-python 3.11`` (repo2docker's default is 3.10) and ``conda/py36-postBuild`` with its
``python=3.6`` pin replaced by the channel's Python; what else differs is said at each test.
The cases init leaves to pip (``ipyleaflet``, ``jupyter-keepalive``: the conda↔PyPI map does not
know them) resolve against a local index of the same wheels (``r2d_pypi``, as
``PIP_INDEX_URL``) and are vendored like the conda packages, so no build reaches the network
but ``venv/binder-dir``'s, for its ``apt.txt``.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import tarfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conda2docker.cli import main
from support.channel import TestChannel
from support.engine import run_in_image
from support.pypi_index import LocalIndex

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("engine")]

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "repo2docker"


def init_and_build(repo: Path, channel: TestChannel, tag: str, *extra: str,
                   jupyter: bool = False, network: str = "none") -> None:
    argv = ["init", str(repo), "--installer", "rattler", "--vendor",
            "--jupyter" if jupyter else "--no-jupyter", "--channel-alias", channel.alias, *extra]
    assert main(argv) == 0
    assert main(["build", str(repo), "--tag", tag, "--network", network, "--quiet"]) == 0


def copy_case(case: str, tmp_path: Path) -> Path:
    """The case's fixture as a repository named ``repo``: cases whose locks agree then share
    the image's layers (the environment's name is the directory's)."""
    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES / case, repo)
    return repo


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


def test_venv_postbuild_builds_and_passes_its_verify(
    tmp_path: Path,
    r2d_channel: TestChannel,
    r2d_pypi: LocalIndex,
    docker_client: object,
    base_image: str,
    image_tag_factory: Callable[[str], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``venv/postBuild``: requirements.txt `jupyter-keepalive`; postBuild `jupyter server
    extension disable --sys-prefix jupyter_keepalive`, `npm install --global
    configurable-http-proxy`, `npm cache clean --force`; verify: `jupyter server extension list`
    shows jupyter_keepalive disabled and `which configurable-http-proxy` finds it.

    The case's own files but one: as the build has no network, postBuild installs
    configurable-http-proxy from an npm package tarball in the repository, not from the npm
    registry. What it proves: jupyter-keepalive (pip, from the local index) and JupyterLab
    (conda) are in the environment; postBuild's user may write the environment (``jupyter …
    --sys-prefix`` writes its ``etc/jupyter``); init adds nodejs when postBuild calls npm,
    npm's global prefix is the environment, and the command it installs is on PATH.
    """
    monkeypatch.setenv("PIP_INDEX_URL", r2d_pypi.url)
    repo = copy_case("venv/postBuild", tmp_path)
    post = repo / "postBuild"
    lines = post.read_text().splitlines()
    assert lines[3:] == ["jupyter server extension disable --sys-prefix jupyter_keepalive",
                         "npm install --global configurable-http-proxy",
                         "npm cache clean --force"], lines
    npm_tarball(repo / "configurable-http-proxy-0.0.0.tgz", "configurable-http-proxy",
                "configurable-http-proxy")
    post.write_text("\n".join([*lines[:4], "npm install --global ./configurable-http-proxy-0.0.0.tgz",
                               lines[5]]) + "\n")
    tag = image_tag_factory("init-r2d-postbuild")
    init_and_build(repo, r2d_channel, tag, "--default-python", "3.11", jupyter=True)
    lock = (repo / "conda-lock.yml").read_text()
    assert "name: nodejs" in lock and "name: jupyterlab" in lock
    assert "name: jupyter-keepalive\n  version: 0.3.0\n  manager: pip" in lock
    verify = ("set -eu; jupyter server extension list; "
              "jupyter server extension list 2>&1 | grep jupyter_keepalive | grep disabled; "
              "which configurable-http-proxy; configurable-http-proxy; npm prefix --global")
    code, output = run_in_image(docker_client, tag, ["bash", "-o", "pipefail", "-c", verify])  # type: ignore[arg-type]
    assert code == 0, output
    plain = re.sub(r"\x1b\[[0-9;]*m", "", output)  # jupyter colours the states
    states = {line.split()[1] for line in plain.splitlines()
              if line.split()[:1] == ["jupyter_keepalive"] and "abled" in line}
    assert states == {"disabled"}, output  # as listed, and as grep found it
    assert output.split()[-5:] == ["/opt/env/bin/configurable-http-proxy", "configurable-http-proxy",
                                   "from", "npm", "/opt/env"], output


def jupyter_api_version(client: Any, tag: str, timeout: float = 90.0) -> str:
    """Start the image's own command (JupyterLab) and return the version its ``/api`` answers,
    asked from inside the container (no network), as the compose healthcheck does."""
    container = client.containers.run(tag, detach=True, network_mode="none")
    probe = ("import json, time, urllib.request\n"
             "for _ in range(60):\n"
             "    try:\n"
             "        print(json.load(urllib.request.urlopen('http://127.0.0.1:8888/api', "
             "timeout=2))['version']); break\n"
             "    except OSError: time.sleep(1)\n"
             "else: raise SystemExit('no answer from /api')\n")
    try:
        deadline = time.monotonic() + timeout
        while True:
            code, output = container.exec_run(["python", "-c", probe])
            if code == 0 or time.monotonic() > deadline:
                break
        assert code == 0, (output.decode(), container.logs().decode())
        return str(output.decode().strip())
    finally:
        container.remove(force=True)


def test_venv_default_builds_and_passes_its_verify(
    tmp_path: Path,
    r2d_channel: TestChannel,
    docker_client: object,
    base_image: str,
    image_tag_factory: Callable[[str], str],
) -> None:
    """``venv/default``: no file at all; verify: Python 3.10 (here the channel's 3.11), `import
    jupyter`, and /tmp/appendix reads `appendix`.

    /tmp/appendix is written by repo2docker's test harness, which builds every case with
    ``--appendix 'RUN echo "appendix" > /tmp/appendix'`` (its tests/conftest.py): the Dockerfile
    init writes is the user's, so the equivalent is that line appended to it. The image's
    own command is also run: JupyterLab answers on /api (the console scripts of the converted
    packages start the server).
    """
    repo = copy_case("venv/default", tmp_path)
    tag = image_tag_factory("init-r2d-default")
    assert main(["init", str(repo), "--installer", "rattler", "--vendor", "--default-python",
                 "3.11", "--channel-alias", r2d_channel.alias]) == 0
    dockerfile = repo / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text() + 'RUN echo "appendix" > /tmp/appendix\n')
    assert main(["build", str(repo), "--tag", tag, "--network", "none", "--quiet"]) == 0
    verify = ("import sys\nassert sys.version_info[:2] == (3, 11), sys.version\nimport jupyter\n"
              "with open('/tmp/appendix') as f:\n    assert f.read().strip() == 'appendix'\n"
              "print(sys.prefix, jupyter.__file__)\n")
    code, output = run_in_image(docker_client, tag, ["python", "-c", verify])  # type: ignore[arg-type]
    assert code == 0, output
    assert output.split() == ["/opt/env", "/opt/env/lib/python3.11/site-packages/jupyter.py"]
    assert jupyter_api_version(docker_client, tag).startswith("2.")  # Jupyter Server's


def test_venv_binder_dir_builds_and_passes_its_verify(
    tmp_path: Path,
    r2d_channel: TestChannel,
    r2d_pypi: LocalIndex,
    docker_client: object,
    base_image: str,
    image_tag_factory: Callable[[str], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``venv/binder-dir``: binder/ holds requirements.txt `ipyleaflet`, apt.txt `gfortran` and
    a postBuild writing $HOME/postbuild.txt; the root's environment.yml (invalid), apt.txt
    (`thiswontwork`) and postBuild (`exit 1`) must be ignored. verify: `which gfortran`, no
    scipy in `pip list`, leaflet in it, `grep 'Done!' $HOME/postbuild.txt`.

    The case's own files. The build reaches the Debian mirror for gfortran (apt.txt is installed
    in the runtime stage); ipyleaflet and its pip closure come vendored from the local index.
    """
    monkeypatch.setenv("PIP_INDEX_URL", r2d_pypi.url)
    repo = copy_case("venv/binder-dir", tmp_path)
    tag = image_tag_factory("init-r2d-binder-dir")
    init_and_build(repo, r2d_channel, tag, "--default-python", "3.11", jupyter=True,
                   network="default")
    verify = ("set -euo pipefail; which gfortran; test -z \"$(pip list | grep scipy)\"; "
              "pip list | grep leaflet; grep 'Done!' $HOME/postbuild.txt")
    code, output = run_in_image(docker_client, tag, ["bash", "-c", verify])  # type: ignore[arg-type]
    assert code == 0, output
    assert output.split() == ["/usr/bin/gfortran", "ipyleaflet", "0.20.0", "jupyter-leaflet",
                              "0.20.0", "Done!"], output


def test_venv_apt_packages_builds_and_passes_its_verify(
    tmp_path: Path,
    r2d_channel: TestChannel,
    docker_client: object,
    base_image: str,
    image_tag_factory: Callable[[str], str],
) -> None:
    """``venv/apt-packages``: an apt.txt alone (gfortran, unp, byacc, with a comment and blank
    lines), so the default environment. verify: `which gfortran`, `which unp`, `which byacc`.

    The case's own files; the build reaches the Debian mirror for the apt packages (installed in
    the runtime stage), as the binder-dir case's does.
    """
    repo = copy_case("venv/apt-packages", tmp_path)
    tag = image_tag_factory("init-r2d-apt-packages")
    init_and_build(repo, r2d_channel, tag, "--default-python", "3.11", network="default")
    verify = "set -euo pipefail\nwhich gfortran\nwhich unp\nwhich byacc\n"
    code, output = run_in_image(docker_client, tag, ["bash", "-c", verify])  # type: ignore[arg-type]
    assert code == 0, output
    assert output.split() == ["/usr/bin/gfortran", "/usr/bin/unp", "/usr/bin/byacc"], output


def test_venv_start_postbuild_builds_and_passes_its_verify(
    tmp_path: Path,
    r2d_channel: TestChannel,
    r2d_pypi: LocalIndex,
    docker_client: object,
    base_image: str,
    image_tag_factory: Callable[[str], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``venv/start/postBuild``: requirements.txt `ipyleaflet`, a postBuild writing
    $HOME/postbuild.txt (and exporting a variable that must not survive it) and a `start`
    exporting TEST_START_VAR. verify, run in an interactive login shell (`bash -il`) by the
    entrypoint: a first `false` that must not end it (no `set -e` leaked from a profile), then
    `set -euo pipefail`, postbuild.txt holds `Done!` and TEST_START_VAR is start's value.

    The case's own files; ipyleaflet comes vendored from the local index.
    """
    monkeypatch.setenv("PIP_INDEX_URL", r2d_pypi.url)
    repo = copy_case("venv/start/postBuild", tmp_path)
    tag = image_tag_factory("init-r2d-start-postbuild")
    init_and_build(repo, r2d_channel, tag, "--default-python", "3.11", jupyter=True)
    verify = ("false\nset -euo pipefail\ngrep 'Done!' $HOME/postbuild.txt\n"
              "if [ \"${TEST_START_VAR:-}\" != \"var is set\" ]\nthen\n"
              "  echo \"TEST_START_VAR is not set\"\n  exit 1\nfi\n")
    code, output = run_in_image(docker_client, tag, ["bash", "-il", "-c", verify])  # type: ignore[arg-type]
    # bash -i's warnings (no terminal) come on stderr, which the engine's log may place
    # before or after the script's output: the exit status says the rest held
    assert code == 0 and "Done!" in output.splitlines(), output
    code, output = run_in_image(docker_client, tag, [  # type: ignore[arg-type]
        "python", "-c", "import ipyleaflet, jupyterlab; print(ipyleaflet.__version__)"])
    assert code == 0 and output.split() == ["0.20.0"], output
