"""``init`` end to end: a paper repository whose environment uses the local test channel and
whose own package (with a console script) is installed → init (rattler, vendored) → build
(the network only for apt.txt's Debian package, installed in the runtime stage) → the
repository's console script runs in the image, as the non-root user; ``verify`` passes.

The repository is generated here (its environment.yml names the test channel, which only
exists in tests), with postBuild and start scripts, a data directory to exclude, secrets that
must never reach the image (``.env``, ``.ssh/id_rsa``, ``.aws/credentials``, ``secrets.pem``),
and a ``setup.py`` that leaves a mark wherever it runs: init must not run it on the host (it
reads the package's metadata statically) and must write nothing but its declared outputs.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from conda2docker.cli import main
from conda2docker.init.targets import ours
from support.channel import TestChannel
from support.engine import run_in_image
from support.lint import assert_lints_clean
from support.pypi_index import LocalIndex

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("engine")]


def write_repo(root: Path, channel: TestChannel, index: LocalIndex) -> Path:
    repo = root / "paper"
    (repo / "src" / "paper_demo").mkdir(parents=True)
    (repo / "data").mkdir()
    (repo / "data" / "raw.csv").write_text("a,b\n1,2\n")
    (repo / "environment.yml").write_text(
        "name: paper\n"
        f"channels:\n  - {channel.name}\n"
        "dependencies:\n  - python=3.11\n  - c2d-greet\n  - pip\n"
        f"  - pip:\n    - --index-url {index.url}\n    - -e .\n"
    )
    (repo / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n\n'
        '[project]\nname = "paper-demo"\nversion = "0.1.0"\nrequires-python = ">=3.10"\n'
        'dependencies = ["c2d-greet"]\n\n[project.scripts]\npaper-demo = "paper_demo:main"\n'
    )
    (repo / "src" / "paper_demo" / "__init__.py").write_text(
        "import subprocess\n\n\ndef main() -> None:\n"
        "    greeting = subprocess.run(['c2d-greet'], capture_output=True, text=True).stdout.strip()\n"
        "    print(f'paper-demo reproduces: {greeting}')\n"
    )
    # postBuild runs as the image user and may write into the environment (as in repo2docker).
    (repo / "postBuild").write_text("#!/bin/sh\nset -e\necho built > \"$HOME/postbuild-ran\"\n"
                                    "echo env > \"$CONDA_PREFIX/written-by-postbuild\"\n")
    (repo / "start").write_text("#!/bin/sh\nexport PAPER_STARTED=1\nexec \"$@\"\n")
    (repo / "README.md").write_text("# Paper\n")
    (repo / "apt.txt").write_text("# a small Debian tool the paper's scripts call\nbyacc\n")
    (repo / "setup.py").write_text(
        "import pathlib\npathlib.Path(__file__).with_name('SETUP_PY_RAN').write_text('ran')\n"
        "from setuptools import setup\nsetup()\n")
    for name in SECRETS:
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(f"{SECRET_TEXT} {name}\n")
    return repo


SECRETS = (".env", ".ssh/id_rsa", ".aws/credentials", "secrets.pem")
SECRET_TEXT = "c2d-secret-d41d8cd98f00b204"
DECLARED = {"Dockerfile", "compose.yaml", ".dockerignore", "conda-lock.yml", "README.md"}


def files_of(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def test_repository_to_running_image(
    tmp_path: Path,
    test_channel: TestChannel,
    local_pypi: LocalIndex,
    docker_client: object,
    base_image: str,
    build_image: str,
    image_tag_factory: Callable[[str], str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo = write_repo(tmp_path, test_channel, local_pypi)
    before = files_of(repo)
    argv = ["init", str(repo), "--installer", "rattler", "--vendor",
            "--channel-alias", test_channel.alias, "--readme"]
    assert main(argv) == 0
    added = files_of(repo) - before
    assert not (repo / "SETUP_PY_RAN").exists() and not list(repo.rglob("*.egg-info"))
    assert {p for p in added if p.split("/")[0] not in ("conda2docker", "vendor")} <= DECLARED
    dockerfile = (repo / "Dockerfile").read_text()
    assert_lints_clean(dockerfile)
    assert "paper-demo" not in (repo / "conda-lock.yml").read_text()  # own package: not locked
    readme = (repo / "README.md").read_text()
    assert readme.count("## Run with Docker") == 1
    assert main(argv) == 0  # again: nothing differs, the README section is not repeated
    assert (repo / "README.md").read_text() == readme

    tag = image_tag_factory("init")
    # The build reaches the Debian mirror for apt.txt only: every conda and pip package is vendored
    # (the repo2docker cases below build with no network at all).
    assert main(["build", str(repo), "--tag", tag, "--quiet"]) == 0
    # verify: non-root, no compilers or build leftovers in the runtime, imports and entry points.
    capsys.readouterr()
    code = main(["verify", tag, "--format", "json", "--lock", str(repo / "conda-lock.yml")])
    report = json.loads(capsys.readouterr().out)
    failed = [c for c in report["checks"] if c["status"] == "fail"]
    assert code == 0 and report["summary"]["ok"], failed

    code, output = run_in_image(docker_client, tag, ["paper-demo"])  # type: ignore[arg-type]
    assert code == 0, output
    assert output.strip() == "paper-demo reproduces: greetings from c2d-greet 1.0"
    code, output = run_in_image(  # type: ignore[arg-type]
        docker_client, tag,
        ["sh", "-c", "id -u; pwd; cat $HOME/postbuild-ran; echo $PAPER_STARTED; "
         "cat /opt/env/written-by-postbuild; command -v byacc; ls"],
    )
    assert code == 0, output
    lines = output.split()
    assert lines[:6] == ["10001", "/home/app/work", "built", "1", "env", "/usr/bin/byacc"], output
    listing = lines[6:]
    assert "pyproject.toml" in listing and "data" not in listing and "vendor" not in listing

    # No secret anywhere in the image: not by name, not by content.
    names = " -o ".join(f"-name {Path(n).name}" for n in SECRETS)
    code, output = run_in_image(  # type: ignore[arg-type]
        docker_client, tag,
        ["sh", "-c", f"find / -xdev \\( {names} -o -name .ssh -o -name .aws \\) -print 2>/dev/null; "
         f"grep -rl {SECRET_TEXT} /home /opt /tmp /usr/local /etc 2>/dev/null; true"],
    )
    assert code == 0 and output.strip() == "", output

    # A hand edit is never clobbered without --force.
    (repo / "Dockerfile").write_text(dockerfile + "# my edit\n")
    assert main(argv) == 1
    assert (repo / "Dockerfile").read_text().endswith("# my edit\n")
    # ... and with --force it is kept as Dockerfile.orig: init recorded what it wrote.
    assert main([*argv, "--force"]) == 0
    assert (repo / "Dockerfile.orig").read_text().endswith("# my edit\n")
    assert (repo / "Dockerfile").read_text() == dockerfile


def test_repo2docker_venv_py3_builds_and_passes_its_verify(
    tmp_path: Path,
    test_channel: TestChannel,
    docker_client: object,
    base_image: str,
    image_tag_factory: Callable[[str], str],
) -> None:
    """repo2docker's ``venv/py3`` (only ``runtime.txt``: ``python-3``): init infers its default
    environment from conda-forge, here the test channel under that name (a channel alias whose
    ``conda-forge`` is a link to it), builds offline and runs the verify script's check.

    The repository also holds the user's own ``Dockerfile`` and a permissive ``.dockerignore``,
    and a ``.env``: init keeps both files, writes ``Dockerfile.conda2docker`` with its own
    ``Dockerfile.conda2docker.dockerignore``, and the secret stays out of that build.
    """
    import shutil

    from conda2docker.engine.build import build_image

    repo = tmp_path / "py3"
    shutil.copytree(Path(__file__).parent / "fixtures" / "repo2docker" / "venv" / "py3", repo)
    (repo / "Dockerfile").write_text("FROM debian:bookworm-slim\nCOPY . /src\n")
    (repo / ".dockerignore").write_text("# the user's: sends everything\n")
    (repo / ".env").write_text(f"TOKEN={SECRET_TEXT}\n")
    alias = tmp_path / "channels"
    alias.mkdir()
    (alias / "conda-forge").symlink_to(test_channel.path, target_is_directory=True)
    argv = ["init", str(repo), "--installer", "rattler", "--vendor", "--no-jupyter",
            "--channel-alias", alias.as_uri()]
    assert main(argv) == 0
    assert sorted(p.name for p in repo.iterdir()) == [
        ".dockerignore", ".env", "Dockerfile", "Dockerfile.conda2docker",
        "Dockerfile.conda2docker.dockerignore", "compose.yaml", "conda-lock.yml", "conda2docker",
        "runtime.txt", "vendor"]
    assert (repo / "Dockerfile").read_text().startswith("FROM debian")  # the user's, kept
    tag = image_tag_factory("init-r2d-py3")
    build_image(repo, tag, dockerfile="Dockerfile.conda2docker", network_mode="none")
    # repo2docker's verify: `python3` is Python 3 (and here: the locked environment's).
    code, output = run_in_image(  # type: ignore[arg-type]
        docker_client, tag,
        ["python3", "-c", "import sys; assert sys.version_info[:1] == (3,); print(sys.prefix)"],
    )
    assert code == 0 and output.strip() == "/opt/env", output
    code, output = run_in_image(docker_client, tag, ["ls", "-A", "/home/app/work"])  # type: ignore[arg-type]
    assert code == 0 and ".env" not in output.split() and "runtime.txt" in output.split(), output

    # --force takes the standard names, keeping the user's files as <name>.orig first.
    assert main([*argv, "--force"]) == 0
    assert (repo / "Dockerfile.orig").read_text().startswith("FROM debian")
    assert (repo / ".dockerignore.orig").read_text() == "# the user's: sends everything\n"
    assert ours(repo / "Dockerfile") and ours(repo / ".dockerignore")


# repo2docker cases without a Python of their own: venv/start/start-script (only `start`) built
# with --default-python 3.11 (the test channel's only Python; repo2docker's default is 3.10),
# then its `verify` check, and venv/usr-bin's (a repository with no file at all: the same
# default environment, so its PATH/REPO_DIR check runs in the same image rather than a second).
VERIFY = {
    "venv/start/start-script": (
        ["bash", "-c", 'test "${TEST_START_VAR:-}" = "var is set" && echo start-ran'], "start-ran"),
    "venv/usr-bin": (
        ["python", "-c", "import os; p = os.environ['PATH'].split(':'); "
         "assert os.path.expanduser('~/.local/bin') in p, p; "
         "assert os.getcwd() == os.environ['REPO_DIR'], os.getcwd(); "
         "assert os.environ['REPO_DIR'] + '/.local/bin' in p, p; print('paths-ok')"], "paths-ok"),
}


def test_repo2docker_start_script_and_usr_bin_build_and_verify(
    tmp_path: Path,
    test_channel: TestChannel,
    docker_client: object,
    base_image: str,
    image_tag_factory: Callable[[str], str],
) -> None:
    import shutil

    repo = tmp_path / "start-script"
    shutil.copytree(Path(__file__).parent / "fixtures" / "repo2docker" / "venv" / "start" /
                    "start-script", repo)
    # A git repository: the context is what git tracks; a tracked .env still stays out.
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    (repo / ".env").write_text(f"TOKEN={SECRET_TEXT}\n")
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-f", "start", ".env"], check=True)
    (repo / "untracked-notes.txt").write_text("not committed\n")
    alias = tmp_path / "channels"
    alias.mkdir()
    (alias / "conda-forge").symlink_to(test_channel.path, target_is_directory=True)
    argv = ["init", str(repo), "--installer", "rattler", "--vendor", "--no-jupyter",
            "--default-python", "3.11", "--channel-alias", alias.as_uri()]
    assert main(argv) == 0
    tag = image_tag_factory("init-r2d-start-script")
    assert main(["build", str(repo), "--tag", tag, "--network", "none", "--quiet"]) == 0
    for case, (argv_in_image, expected) in VERIFY.items():
        code, output = run_in_image(docker_client, tag, argv_in_image)  # type: ignore[arg-type]
        assert code == 0 and output.strip() == expected, f"{case}: {output}"
    code, output = run_in_image(docker_client, tag, ["ls", "-A", "/home/app/work"])  # type: ignore[arg-type]
    assert code == 0 and output.split() == ["start"], output
