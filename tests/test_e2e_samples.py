"""The whole pipeline on sample environments, offline: convert → build (no network) → verify → run.

Real parts only: the test channel's relocated CPython and noarch packages (py-rattler-build),
the loopback PyPI index's real wheels and sdists, a local git repository, the rattler
installer inside the image, gcc in the ``wheels`` stage, a real engine.

Samples:
  a  pure conda: python + c2d-greet (noarch python, console script) + hello-noarch (C program)
  b  conda + pip wheels from the local index (c2d-pure, c2d-needs → c2d-pure)
  c  conda + an sdist compiled in the wheels stage (c2d-cext) + a pure-Python sdist
     (c2d-sdistonly) + a ``git+file://…@commit`` package + a local path package (``./mypkg``)
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conda2docker.cli import main
from support.channel import TestChannel
from support.engine import run_in_image
from support.pypi_index import LocalIndex

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("engine")]


@dataclass(frozen=True)
class Built:
    out: Path
    tag: str
    report: dict[str, Any]


def env_file(directory: Path, name: str, conda: list[str], pip: list[str] | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    lines = [f"name: {name}", "channels:", "  - c2d-test", "dependencies:"]
    lines += [f"  - {spec}" for spec in conda]
    if pip:
        lines += ["  - pip:"] + [f"    - {item}" for item in pip]
    path = directory / "environment.yml"
    path.write_text("\n".join(lines) + "\n")
    return path


def convert_build_verify(
    env: Path, channel: TestChannel, tag: str, capsys: pytest.CaptureFixture[str],
    extra: tuple[str, ...] = (),
) -> Built:
    out = env.parent / "out"
    assert main(["convert", str(env), "-o", str(out), "--installer", "rattler", "--vendor",
                 "--channel-alias", channel.alias, *extra]) == 0
    assert main(["build", str(out), "--tag", tag, "--network", "none", "--quiet"]) == 0
    assert (out / "build.log").is_file()
    capsys.readouterr()
    code = main(["verify", tag, "--format", "json", "--lock", str(out / "conda-lock.yml")])
    report = json.loads(capsys.readouterr().out)
    failed = [c for c in report["checks"] if c["status"] == "fail"]
    assert code == 0 and report["summary"]["ok"], failed
    assert report["lock"]["matches_label"] is True
    got = statuses(report)
    assert got["locale"] == "pass"
    # The test channel's CPython uses the base image's OpenSSL, and minbase has no CA bundle.
    assert got["tls"] == "warn" and report["summary"]["warned"] == 1
    return Built(out, tag, report)


def statuses(report: dict[str, Any]) -> dict[str, str]:
    return {c["id"]: c["status"] for c in report["checks"]}


def assert_runtime_is_clean(report: dict[str, Any], base_tags: list[str]) -> None:
    got = statuses(report)
    for check in ("python", "lock", "user", "compilers", "caches", "sources"):
        assert got[check] == "pass", check
    assert got["gpu"] == "skip"
    sizes = report["sizes"]
    assert sizes["base"]["image"] in base_tags  # the runtime's FROM image (any of its tags)
    assert sizes["total_bytes"] == report["image"]["size_bytes"] > sizes["base"]["bytes"] > 0


def run_ok(client: Any, tag: str, argv: list[str]) -> str:
    code, output = run_in_image(client, tag, argv)
    assert code == 0, output
    return output


# --------------------------------------------------------------------------- a


def test_sample_a_pure_conda(
    tmp_path: Path, test_channel: TestChannel, docker_client: Any, base_image: str,
    image_tag_factory: Callable[[str], str], capsys: pytest.CaptureFixture[str],
) -> None:
    env = env_file(tmp_path / "a", "sample-a", ["python=3.11", "c2d-greet", "hello-noarch"])
    built = convert_build_verify(env, test_channel, image_tag_factory("sample-a"), capsys)
    assert_runtime_is_clean(built.report, docker_client.images.get(base_image).tags)
    got = statuses(built.report)
    assert got["import:c2d-greet"] == "pass" and got["entry:c2d-greet"] == "pass"
    skipped = {c["subject"] for c in built.report["checks"] if c["kind"] == "import" and c["status"] == "skip"}
    assert {"chello", "hello-noarch", "python"} <= skipped
    assert "hello from chello" in run_ok(docker_client, built.tag, ["hello-noarch"])
    run_ok(docker_client, built.tag, ["c2d-greet"])
    # noarch python packages are byte-compiled at install, as conda does: the image's user
    # cannot write the prefix, so a missing .pyc would be compiled again at every start.
    cached = "import c2d_greet, os; print(os.path.isfile(c2d_greet.__cached__))"
    assert run_ok(docker_client, built.tag, ["python", "-c", cached]).strip() == "True"


# --------------------------------------------------------------------------- b


@pytest.fixture(scope="module")
def sample_b(
    tmp_path_factory: pytest.TempPathFactory, test_channel: TestChannel, local_pypi: LocalIndex,
    docker_client: Any, base_image: str, image_tag_factory: Callable[[str], str],
) -> tuple[Path, str]:
    env = env_file(tmp_path_factory.mktemp("b"), "sample-b", ["python=3.11", "pip"],
                   [f"--index-url {local_pypi.url}", "c2d-pure==1.0", "c2d-needs"])
    out = env.parent / "out"
    tag = image_tag_factory("sample-b")
    assert main(["convert", str(env), "-o", str(out), "--installer", "rattler", "--vendor",
                 "--channel-alias", test_channel.alias]) == 0
    assert main(["build", str(out), "--tag", tag, "--network", "none", "--quiet"]) == 0
    return out, tag


def test_sample_b_conda_and_pip_wheels(
    sample_b: tuple[Path, str], docker_client: Any, base_image: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out, tag = sample_b
    capsys.readouterr()
    assert main(["verify", tag, "--format", "json", "--lock", str(out / "conda-lock.yml"),
                 "--context", str(out)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert_runtime_is_clean(report, [base_image])  # --context: the Dockerfile's base
    got = statuses(report)
    assert got["import:c2d-pure"] == got["import:c2d-needs"] == got["entry:c2d-pure"] == "pass"
    assert report["lock"]["pip"] == 2
    cached = "import c2d_pure, os; print(os.path.isfile(c2d_pure.__cached__))"
    assert run_ok(docker_client, tag, ["python", "-c", cached]).strip() == "True"
    # With the context, the runtime's COPY --from layers are attributed to their stages and
    # the intermediate stages are sized from their own (target=) builds.
    by_stage = report["sizes"]["by_stage"]
    assert by_stage["env"] > 10_000_000 and by_stage["pip"] > 0
    assert [s["name"] for s in report["sizes"]["stages"]] == ["env", "pip"]
    assert all(s["added_bytes"] is not None and s["added_bytes"] > 0 for s in report["sizes"]["stages"])
    assert run_ok(docker_client, tag, ["c2d-pure", "--version"]).strip() == "c2d-pure 1.0"
    run_ok(docker_client, tag, ["python", "-c", "import c2d_needs, c2d_pure"])


def test_verify_fails_on_a_spoiled_image(
    sample_b: tuple[Path, str], tmp_path: Path, docker_client: Any,
    image_tag_factory: Callable[[str], str], capsys: pytest.CaptureFixture[str],
) -> None:
    """Root user, a missing locale, a compiler, a package cache, build sources and a broken
    module: all found."""
    from conda2docker.engine.build import build_image

    _, tag = sample_b
    (tmp_path / "Dockerfile").write_text(
        f"FROM {tag}\nUSER 0\nENV LANG=xx_XX.UTF-8\n"
        "RUN mkdir -p /tmp/c2d/src /opt/env/pkgs && touch /opt/env/pkgs/x-1-0.conda && "
        "ln -s /bin/true /opt/env/bin/gcc && rm -r /opt/env/lib/python3.11/site-packages/c2d_pure\n"
    )
    spoiled = image_tag_factory("spoiled")
    build_image(tmp_path, spoiled, network_mode="none")
    capsys.readouterr()
    assert main(["verify", spoiled, "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    got = statuses(report)
    for check in ("user", "locale", "compilers", "caches", "sources", "import:c2d-pure",
                  "import:c2d-needs", "entry:c2d-pure"):
        assert got[check] == "fail", check
    assert got["import:pip"] == "pass"
    assert report["summary"]["ok"] is False and report["summary"]["failed"] == 8
    detail = {c["id"]: c["detail"] for c in report["checks"]}
    assert "/opt/env/bin/gcc" in detail["compilers"]
    assert "xx_XX.UTF-8 is not installed" in detail["locale"] and "LANG=C.UTF-8" in detail["locale"]
    assert "No module named 'c2d_pure'" in detail["import:c2d-pure"]
    # The table form says the same, and exits 1 too.
    assert main(["verify", spoiled]) == 1
    table = capsys.readouterr().out
    summary = report["summary"]
    assert "FAIL  user" in table and table.rstrip().endswith(
        f"FAILED: {summary['passed']} passed, {summary['warned']} warned, 8 failed, "
        f"{summary['skipped']} skipped")


# --------------------------------------------------------------------------- c


def git_package(root: Path) -> str:
    """A tiny pure-Python package in a local git repository; returns ``git+file://…@commit``."""
    repo = root / "gitpkg"
    (repo / "c2d_gitpkg").mkdir(parents=True)
    (repo / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "c2d-gitpkg"\nversion = "0.2"\n[tool.setuptools]\npackages = ["c2d_gitpkg"]\n'
    )
    (repo / "c2d_gitpkg" / "__init__.py").write_text("VALUE = 42\n")
    git = ["git", "-c", "user.email=t@example.org", "-c", "user.name=t", "-C", str(repo)]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)
    commit = subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
    return f"git+{repo.as_uri()}@{commit}"


def path_package(env_dir: Path) -> str:
    """``./mypkg`` next to the environment file, with a console script."""
    src = env_dir / "mypkg" / "src" / "c2d_local"
    src.mkdir(parents=True)
    (env_dir / "mypkg" / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "c2d-local"\nversion = "0.3"\n[project.scripts]\nc2d-local = "c2d_local:main"\n'
    )
    (src / "__init__.py").write_text(
        "import sys\n\ndef main():\n"
        "    print('c2d-local 0.3' if '--version' in sys.argv else 'hello from c2d-local')\n"
    )
    return "./mypkg"


def test_sample_c_sdist_git_and_path(
    tmp_path: Path, test_channel: TestChannel, local_pypi: LocalIndex, docker_client: Any,
    base_image: str, build_image: str, image_tag_factory: Callable[[str], str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    env_dir = tmp_path / "c"
    env_dir.mkdir()
    pip = [f"--index-url {local_pypi.url}", "c2d-cext", "c2d-sdistonly==0.5", path_package(env_dir),
           git_package(tmp_path)]
    env = env_file(env_dir, "sample-c", ["python=3.11", "pip"], pip)
    # the git repository lies outside the environment's folder: trusted explicitly
    built = convert_build_verify(env, test_channel, image_tag_factory("sample-c"), capsys,
                                 extra=("--allow-path", str(tmp_path / "gitpkg")))
    assert_runtime_is_clean(built.report, docker_client.images.get(base_image).tags)  # gcc stayed in the wheels stage
    assert "FROM ${BUILD_IMAGE} AS wheels" in (built.out / "Dockerfile").read_text()
    got = statuses(built.report)
    for check in ("import:c2d-cext", "import:c2d-sdistonly", "entry:c2d-sdistonly", "import:c2d-gitpkg",
                  "import:c2d-local", "entry:c2d-local"):
        assert got[check] == "pass", check
    output = run_ok(docker_client, built.tag, ["python", "-c", "import c2d_cext; print(c2d_cext.add(2, 3))"])
    assert output.strip() == "5"
    assert run_ok(docker_client, built.tag, ["c2d-local"]).strip() == "hello from c2d-local"
    assert run_ok(docker_client, built.tag,
                  ["python", "-c", "import c2d_gitpkg; print(c2d_gitpkg.VALUE)"]).strip() == "42"
