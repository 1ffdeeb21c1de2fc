"""Hostile names never reach a shell unquoted: a real engine build of an environment whose
``variables:`` and local pip package directory carry command substitutions.

The directory name ``$(>$(pwd)tmp$(pwd)pwned)`` creates ``/tmp/pwned`` if any shell of a
build stage (cwd ``/``) ever evaluates it; the variables would do the same at build or run
time. Afterwards ``/tmp/pwned`` must not exist in any stage, and ``docker inspect`` must show
each value literally. Values a Dockerfile cannot hold (a line break) are refused with a
clear error instead.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conda2docker.cli import main
from support.channel import TestChannel
from support.engine import run_in_image
from support.pypi_index import LocalIndex

HOSTILE_DIR = "$(>$(pwd)tmp$(pwd)pwned)"
VARIABLES = {
    "PWN_SUBST": "$(touch /tmp/pwned)",
    "PWN_TICKS": "`touch /tmp/pwned`",
    "PWN_QUOTES": "it's \"quoted\" \\ and ; touch /tmp/pwned",
}
PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "c2d-local"
version = "0.2"

[tool.setuptools.packages.find]
where = ["src"]
"""


def yaml_single(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def write_project(tmp_path: Path, channel: TestChannel, index: LocalIndex,
                  variables: dict[str, str] = VARIABLES) -> Path:
    package = tmp_path / "pkgs" / HOSTILE_DIR
    (package / "src" / "c2d_local").mkdir(parents=True)
    (package / "pyproject.toml").write_text(PYPROJECT)
    (package / "src" / "c2d_local" / "__init__.py").write_text('VALUE = "local"\n')
    env = tmp_path / "environment.yml"
    env.write_text(
        "name: hostile\n"
        f"channels:\n  - {channel.name}\n"
        "dependencies:\n"
        "  - python=3.11\n"
        "  - pip\n"
        "  - setuptools\n"
        "  - wheel\n"
        "  - pip:\n"
        f"    - --index-url {index.url}\n"
        f"    - {yaml_single('./pkgs/' + HOSTILE_DIR)}\n"
        "variables:\n"
        + "".join(f"  {key}: {yaml_single(value)}\n" for key, value in variables.items())
    )
    return env


@pytest.mark.slow
@pytest.mark.xdist_group("engine")
def test_hostile_variables_and_path_names_stay_literal_in_a_real_build(
    tmp_path: Path,
    test_channel: TestChannel,
    local_pypi: LocalIndex,
    docker_client: Any,
    base_image: str,
    build_image: str,
    image_tag_factory: Callable[[str], str],
) -> None:
    env = write_project(tmp_path, test_channel, local_pypi)
    out = tmp_path / "out"
    assert main(["convert", str(env), "-o", str(out), "--installer", "rattler", "--vendor",
                 "--channel-alias", test_channel.alias, "--format", "docker",
                 "--format", "apptainer"]) == 0
    # audit*.md reports quote the path as evidence for a reader; build files must not hold it
    generated = {p: p.read_bytes() for p in out.rglob("*")
                 if p.is_file() and "vendor" not in p.parts and not p.name.startswith("audit")}
    assert all(HOSTILE_DIR.encode() not in data for data in generated.values()), \
        "the directory name reached a generated file"
    assert (out / "sources" / "c2d-local" / "pyproject.toml").is_file()

    tag = image_tag_factory("hostile")
    assert main(["build", str(out), "--tag", tag, "--network", "none", "--quiet"]) == 0
    wheels_tag = image_tag_factory("hostile-wheels")
    docker_client.images.build(path=str(out), tag=wheels_tag, target="wheels",
                               network_mode="none", rm=True, forcerm=True)

    for image in (tag, wheels_tag):
        code, output = run_in_image(docker_client, image, ["sh", "-c", "test ! -e /tmp/pwned && echo clean"])
        assert (code, output.strip()) == (0, "clean"), f"{image}: {output}"
    code, output = run_in_image(docker_client, tag, ["python", "-c", "import c2d_local; print(c2d_local.VALUE)"])
    assert (code, output.strip()) == (0, "local"), output

    config_env = docker_client.images.get(tag).attrs["Config"]["Env"]
    for key, value in VARIABLES.items():
        assert f"{key}={value}" in config_env
    code, output = run_in_image(docker_client, tag, [
        "python", "-c", "import os; print('|'.join(os.environ[k] for k in sorted(os.environ) if k.startswith('PWN')))"])
    assert output.rstrip("\n") == "|".join(VARIABLES[k] for k in sorted(VARIABLES))


def test_a_value_a_dockerfile_cannot_hold_is_a_clear_error(
    tmp_path: Path, small_channel: TestChannel, capsys: pytest.CaptureFixture[str]
) -> None:
    env = tmp_path / "environment.yml"
    env.write_text(
        "name: broken\n"
        f"channels:\n  - {small_channel.name}\n"
        "dependencies:\n  - hello-noarch\n"
        "variables:\n  MULTI: \"line one\\nRUN touch /tmp/pwned\"\n"
    )
    code = main(["convert", str(env), "-o", str(tmp_path / "out"), "--channel-alias", small_channel.alias])
    assert code == 2
    err = capsys.readouterr().err
    assert "line break" in err
    assert not (tmp_path / "out" / "Dockerfile").exists()


def test_an_invalid_variable_name_is_a_clear_error(
    tmp_path: Path, small_channel: TestChannel, capsys: pytest.CaptureFixture[str]
) -> None:
    env = tmp_path / "environment.yml"
    env.write_text(
        "name: broken\n"
        f"channels:\n  - {small_channel.name}\n"
        "dependencies:\n  - hello-noarch\n"
        "variables:\n  'A;touch /tmp/pwned': x\n"
    )
    assert main(["convert", str(env), "-o", str(tmp_path / "out"), "--channel-alias", small_channel.alias]) == 2
    assert "invalid environment variable name" in capsys.readouterr().err


@pytest.mark.parametrize(("check", "value", "fix"), [
    ("check_env_name", "1BAD", "letters, digits and '_'"),
    ("check_label_key", "Bad Key", "lowercase letters"),
    ("check_stage_name", "9stage", "lowercase letter"),
    ("check_pip_name", "six; rm -rf /", "PEP 508"),
    ("check_debian_package", "libfoo;reboot", "Debian package name"),
    ("check_requirement_url", "https://x/a b.whl", "percent-encode"),
    ("check_sha256", "ABC", "64 lowercase hexadecimal"),
])
def test_a_value_refused_for_a_build_file_says_how_to_fix_it(check: str, value: str, fix: str) -> None:
    """Each refusal is one line with its fix, the value shown escaped (never raw)."""
    from conda2docker.plan import instructions

    with pytest.raises(instructions.PlanError) as refused:
        getattr(instructions, check)(value)
    assert repr(value) in refused.value.message
    assert fix in (refused.value.fix or "")
