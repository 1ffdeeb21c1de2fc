"""CPU shapes the other end-to-end tests leave out, built by the engine offline and verified.

* ``env`` + ``wheels`` + ``pip`` where every source is pure Python (an sdist from the index,
  looked into by the audit, and a local tree): the audit finds no
  toolchain, so the wheels stage builds on ``env`` and has no compiler at all (checked in
  the stage itself, built with ``target``), while a registry wheel goes through ``pip``.
* A compile stage judged by what its base provides: an image with gcc, g++ and make but no
  ``build-essential`` package (as the public ``buildpack-deps:bookworm``) needs no apt, so
  the offline build works; a base without compilers does reach for apt.

* Activation from the packages: ``c2d-activate``'s activate.d script, evaluated in the env
  stage's container by ``convert --vendor`` (or by ``build`` after a Dockerfile made from the
  table), decides the runtime ``ENV``; ``verify`` sources it in the image and fails an image
  that lacks a variable; its post-link script ran.

(``env`` only, ``env`` + ``pip`` and ``env`` + ``wheels`` with a C sdist, a pure-Python sdist,
git and a local path are samples a, b and c of ``test_e2e_samples.py``.)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conda2docker.cli import main
from conda2docker.engine.build import build_image as engine_build
from conda2docker.plan.apt import apt_install_missing
from conda2docker.plan.instructions import Shell
from support.channel import TestChannel
from support.engine import run_in_image
from support.pypi_index import LocalIndex

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("engine")]

NO_COMPILER = "command -v gcc || command -v cc || command -v g++ || command -v make || echo no-compiler"


def pure_local_package(env_dir: Path) -> str:
    src = env_dir / "purepkg" / "src" / "c2d_purelocal"
    src.mkdir(parents=True)
    (env_dir / "purepkg" / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "c2d-purelocal"\nversion = "0.4"\n'
        '[project.scripts]\nc2d-purelocal = "c2d_purelocal:main"\n'
    )
    (src / "__init__.py").write_text("def main():\n    print('hello from c2d-purelocal')\n")
    return "./purepkg"


def test_pure_python_sources_build_without_any_compiler(
    tmp_path: Path, test_channel: TestChannel, local_pypi: LocalIndex, docker_client: Any,
    base_image: str, image_tag_factory: Callable[[str], str], capsys: pytest.CaptureFixture[str],
) -> None:
    env = tmp_path / "environment.yml"
    env.write_text(
        "name: pure-builds\nchannels:\n  - c2d-test\ndependencies:\n  - python=3.11\n  - pip\n"
        f"  - pip:\n    - --index-url {local_pypi.url}\n    - c2d-pure==1.0\n"
        "    - c2d-sdistonly==0.5\n"  # an sdist from the index: the audit looks inside it
        f"    - {pure_local_package(tmp_path)}\n"
    )
    out = tmp_path / "out"
    assert main(["convert", str(env), "-o", str(out), "--installer", "rattler", "--vendor",
                 "--channel-alias", test_channel.alias]) == 0
    dockerfile = (out / "Dockerfile").read_text()
    assert "FROM env AS wheels" in dockerfile
    assert "BUILD_IMAGE" not in dockerfile and "apt-get" not in dockerfile

    wheels = image_tag_factory("shapes-pure-wheels")
    engine_build(out, wheels, target="wheels", network_mode="none", log_name="build-wheels.log")
    code, output = run_in_image(docker_client, wheels, ["sh", "-c", NO_COMPILER])
    assert output.strip() == "no-compiler", output
    code, output = run_in_image(docker_client, wheels, ["sh", "-c", "ls /tmp/c2d/wheels"])
    assert output.split() == ["c2d_purelocal-0.4-py3-none-any.whl",
                              "c2d_sdistonly-0.5-py3-none-any.whl"], output

    tag = image_tag_factory("shapes-pure")
    assert main(["build", str(out), "--tag", tag, "--network", "none", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["verify", tag, "--format", "json", "--lock", str(out / "conda-lock.yml")]) == 0
    report = json.loads(capsys.readouterr().out)
    got = {c["id"]: c["status"] for c in report["checks"]}
    for check in ("user", "compilers", "import:c2d-pure", "import:c2d-purelocal", "entry:c2d-purelocal",
                  "import:c2d-sdistonly", "entry:c2d-sdistonly"):
        assert got[check] == "pass", (check, report["checks"])
    code, output = run_in_image(docker_client, tag, ["c2d-purelocal"])
    assert (code, output.strip()) == (0, "hello from c2d-purelocal")
    code, output = run_in_image(docker_client, tag, ["c2d-sdistonly"])
    assert (code, output.strip()) == (0, "hello from c2d-sdistonly")


def test_a_compile_base_is_judged_by_its_tools_not_a_package_name(
    tmp_path: Path, docker_client: Any, base_image: str, build_image: str,
    image_tag_factory: Callable[[str], str],
) -> None:
    # The public buildpack-deps:bookworm has gcc, g++ and make, not build-essential (the
    # stand-in of scripts/engine.sh matches it; an older stand-in may still carry it).
    (tmp_path / "Dockerfile").write_text(
        f"FROM {build_image}\n"
        "RUN if dpkg -s build-essential >/dev/null 2>&1; then dpkg -r build-essential; fi\n")
    like_public = image_tag_factory("shapes-no-build-essential")
    engine_build(tmp_path, like_public, network_mode="none")
    step = apt_install_missing(["build-essential"]).commands[0]
    assert isinstance(step, Shell)
    code, output = run_in_image(docker_client, like_public, ["sh", "-c", step.text])
    assert code == 0 and "apt-get" not in output and output == "", output
    # Without compilers the step reaches for apt, which fails offline: the check can fail.
    code, output = run_in_image(docker_client, base_image, ["sh", "-c", step.text])
    assert code != 0, output


def test_activation_is_measured_from_the_packages_and_verified(
    tmp_path: Path, test_channel: TestChannel, docker_client: Any, base_image: str,
    image_tag_factory: Callable[[str], str], capsys: pytest.CaptureFixture[str],
) -> None:
    """c2d-activate's activate.d script, evaluated in the env stage's container, decides the
    runtime ENV (no table knows it); verify sources it in the image; its post-link script runs."""
    from conda2docker.engine.build import build_image as build

    env = tmp_path / "environment.yml"
    env.write_text("name: activate\nchannels:\n  - c2d-test\ndependencies:\n  - python=3.11\n  - c2d-activate\n")
    out = tmp_path / "out"
    argv = ["convert", str(env), "-o", str(out), "--installer", "rattler", "--vendor",
            "--channel-alias", test_channel.alias]
    capsys.readouterr()
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "cpu: activation measured from 1 activate.d script(s) in the env stage: C2D_ACTIVATE_CATALOGS, " \
           "C2D_ACTIVATE_DATA, C2D_ACTIVATE_ENCODING" in err, err
    dockerfile = (out / "Dockerfile").read_text()
    assert 'C2D_ACTIVATE_DATA="/opt/env/share/c2d-activate"' in dockerfile
    assert 'C2D_ACTIVATE_CATALOGS="file:///opt/env/etc/c2d-catalog"' in dockerfile
    assert "C2D_ACTIVATE_PLUGINS" not in dockerfile and "_CONDA_SET" not in dockerfile
    assert "# script: /opt/env/etc/conda/activate.d/c2d-activate_activate.sh" in (
        out / "conda2docker" / "activation.env").read_text()
    assert main([*argv, "--check"]) == 0  # the measurement is kept: same bytes again

    tag = image_tag_factory("shapes-activate")
    assert main(["build", str(out), "--tag", tag, "--network", "none", "--quiet"]) == 0
    code, output = run_in_image(docker_client, tag, ["cat", "/opt/env/share/c2d-activate/post-link.txt"])
    assert (code, output.strip()) == (0, "post-link of c2d-activate 1.0 ran"), output
    capsys.readouterr()
    assert main(["verify", tag, "--format", "json"]) == 0
    checks = {c["id"]: c for c in json.loads(capsys.readouterr().out)["checks"]}
    assert checks["activation"]["status"] == "pass", checks["activation"]

    # An image whose ENV lost one of them fails verify, naming the variable.
    (tmp_path / "spoiled").mkdir()
    (tmp_path / "spoiled" / "Dockerfile").write_text(f"FROM {tag}\nENV C2D_ACTIVATE_DATA=\n")
    spoiled = image_tag_factory("shapes-activate-spoiled")
    build(tmp_path / "spoiled", spoiled, network_mode="none")
    assert main(["verify", spoiled, "--format", "json"]) == 1
    checks = {c["id"]: c for c in json.loads(capsys.readouterr().out)["checks"]}
    assert checks["activation"]["status"] == "fail"
    assert "C2D_ACTIVATE_DATA=/opt/env/share/c2d-activate" in checks["activation"]["detail"]


def test_build_measures_the_activation_convert_could_not(
    tmp_path: Path, test_channel: TestChannel, docker_client: Any, base_image: str,
    image_tag_factory: Callable[[str], str], capsys: pytest.CaptureFixture[str],
) -> None:
    """A Dockerfile from the table: ``build`` measures the scripts in the (cached) env stage,
    keeps them for the lock and says what the image lacks; ``convert`` again takes them."""
    env = tmp_path / "environment.yml"
    env.write_text("name: activate\nchannels:\n  - c2d-test\ndependencies:\n  - python=3.11\n  - c2d-activate\n")
    out = tmp_path / "out"
    argv = ["convert", str(env), "-o", str(out), "--installer", "rattler", "--vendor",
            "--channel-alias", test_channel.alias]
    assert main([*argv, "--activation", "table"]) == 0
    assert "C2D_ACTIVATE" not in (out / "Dockerfile").read_text()
    capsys.readouterr()
    assert main(["build", str(out), "--tag", image_tag_factory("shapes-activate-table"), "--network", "none",
                 "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "note: the packages' activate.d scripts set what the image's ENV lacks: C2D_ACTIVATE_CATALOGS=" in err
    assert "run the same `conda2docker convert` again with --force" in err
    assert (out / "conda2docker" / "activation.env").is_file()
    assert main(argv) == 1  # the Dockerfile would change: never without --force
    assert main([*argv, "--force"]) == 0  # auto: reads the measurement kept for this lock
    assert "activation measured" not in capsys.readouterr().err
    assert 'C2D_ACTIVATE_DATA="/opt/env/share/c2d-activate"' in (out / "Dockerfile").read_text()
