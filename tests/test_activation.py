"""Activation variables: measured from the packages' own activate.d scripts (the evaluation
program and its parser), kept in ``activation.env``, used by the plan over the hand-kept table,
and judged by ``verify``.

The scripts sourced here on the host are the test channel's own recipe (tests/recipes), not
channel-supplied code; conda2docker itself only ever evaluates scripts inside a container.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conda2docker.activation import (
    Activation,
    EvaluationError,
    differences,
    evaluate_argv,
    parse_evaluation,
    read_activation_file,
    render_activation_file,
)
from conda2docker.plan import PlanOptions, make_plan
from conda2docker.plan.instructions import Env
from conda2docker.plan.runtime import activation_environment
from conda2docker.verify_checks import judge_activation
from support.locks import conda, lock_pure_conda

RECIPE = Path(__file__).resolve().parent / "recipes" / "c2d-activate"
BASE_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}


def prefix_with_script(root: Path, *, data_dir: bool = True) -> Path:
    prefix = root / "env"
    (prefix / "etc" / "conda" / "activate.d").mkdir(parents=True)
    shutil.copy(RECIPE / "activate.sh", prefix / "etc" / "conda" / "activate.d" / "c2d-activate_activate.sh")
    if data_dir:
        (prefix / "share" / "c2d-activate").mkdir(parents=True)
    return prefix


def evaluate(prefix: Path, env: dict[str, str]) -> Activation:
    done = subprocess.run(evaluate_argv(str(prefix)), env={**env, "CONDA_PREFIX": str(prefix)},
                          capture_output=True, check=True)
    return parse_evaluation(done.stdout)


def test_the_evaluation_reports_what_the_scripts_set_without_their_bookkeeping(tmp_path: Path) -> None:
    prefix = prefix_with_script(tmp_path)
    got = evaluate(prefix, {**BASE_ENV, "C2D_ACTIVATE_DATA": "/elsewhere"})
    assert got.scripts == (f"{prefix}/etc/conda/activate.d/c2d-activate_activate.sh",)
    assert dict(got.set) == {
        "C2D_ACTIVATE_CATALOGS": f"file://{prefix}/etc/c2d-catalog",
        "C2D_ACTIVATE_DATA": f"{prefix}/share/c2d-activate",
        "C2D_ACTIVATE_ENCODING": "UTF-8",
    }  # not _CONDA_SET_C2D_ACTIVATE_DATA, nor PWD/SHLVL/_ of the shell
    # A directory the script tests for decides: no data directory, no variable.
    bare = evaluate(prefix_with_script(tmp_path / "bare", data_dir=False), BASE_ENV)
    assert "C2D_ACTIVATE_DATA" not in dict(bare.set)


def test_an_environment_that_already_holds_the_result_changes_nothing(tmp_path: Path) -> None:
    prefix = prefix_with_script(tmp_path)
    first = evaluate(prefix, BASE_ENV)
    again = evaluate(prefix, {**BASE_ENV, **dict(first.set)})
    # The list variable is extended a second time with an entry it has: not a difference.
    assert again.set == () and again.unset == ()
    assert differences(first, {**BASE_ENV, **dict(first.set)}) == []
    assert differences(first, BASE_ENV) == [f"{k}={v}" for k, v in first.set]


def test_output_that_is_not_an_evaluation_is_refused() -> None:
    with pytest.raises(EvaluationError):
        parse_evaluation(b"sh: 1: cannot open\n")


def test_the_activation_file_belongs_to_one_lock() -> None:
    activation = Activation(("/opt/env/etc/conda/activate.d/x.sh",), (("GDAL_DATA", "/opt/env/share/gdal"),
                                                                      ("XML_CATALOG_FILES", "file:///a file:///b")))
    text = render_activation_file(activation, "ab" * 32)
    assert read_activation_file(text, "ab" * 32) == activation.set
    assert read_activation_file(text, "cd" * 32) is None  # another lock: measure again
    assert read_activation_file(text + "not a variable line\n", "ab" * 32) is None
    assert read_activation_file("GDAL_DATA=/x\n", None) is None  # no digest: not ours
    broken = render_activation_file(Activation((), (("X", "a\nb"), ("Y", "c"))), "ab" * 32)
    assert "# left out, a line break no Dockerfile ENV can hold: X" in broken
    assert read_activation_file(broken, "ab" * 32) == (("Y", "c"),)


def test_measured_variables_replace_the_table() -> None:
    base = lock_pure_conda()
    lock = replace(base, packages=(*base.packages, conda("libgdal-core", "3.9.2", "h0_0")))
    table = make_plan(None, lock, PlanOptions())
    measured = make_plan(None, lock, PlanOptions(activation=(("GDAL_DATA", "/opt/env/share/gdal"),
                                                             ("GDAL_DRIVER_PATH", "/opt/env/lib/gdalplugins"))))

    def env(plan: object) -> dict[str, str]:
        runtime = plan.stages[-1]  # type: ignore[attr-defined]
        return dict(next(i for i in runtime.instructions if isinstance(i, Env)).pairs)

    assert env(table)["CPL_ZIP_ENCODING"] == "UTF-8" and "GDAL_DRIVER_PATH" not in env(table)
    assert env(measured)["GDAL_DRIVER_PATH"] == "/opt/env/lib/gdalplugins"
    assert "CPL_ZIP_ENCODING" not in env(measured)  # the packages' scripts said so, not the table
    # only the table is replaced: the environment on PATH and Python's settings stay
    for key in ("PATH", "PYTHONDONTWRITEBYTECODE"):
        assert env(measured)[key] == env(table)[key], key


def test_the_table_knows_the_common_activation_variables() -> None:
    base = lock_pure_conda()
    names = ("openssl", "libxml2", "libglib", "libgdal-core", "proj", "proj-data", "r-base")
    lock = replace(base, packages=(*base.packages, *(conda(n, "1.0", "h0_0") for n in names)))
    got = dict(activation_environment(lock, "linux-64", "/opt/env"))
    assert got == {
        "SSL_CERT_FILE": "/opt/env/ssl/cacert.pem",
        "XML_CATALOG_FILES": "file:///opt/env/etc/xml/catalog file:///etc/xml/catalog",
        "GSETTINGS_SCHEMA_DIR": "/opt/env/share/glib-2.0/schemas",
        "CPL_ZIP_ENCODING": "UTF-8",
        "GDAL_DATA": "/opt/env/share/gdal",
        "PROJ_DATA": "/opt/env/share/proj",
        "PROJ_NETWORK": "OFF",  # the grids are installed (proj-data)
        "RSTUDIO_WHICH_R": "/opt/env/bin/R",
    }


def test_proj_network_is_turned_off_only_where_proj_reads_the_installed_grids() -> None:
    """``PROJ_NETWORK=OFF`` (no grid downloads at run time) is set when both ``proj`` and its
    grids (``proj-data``) are locked; with proj alone it stays ``ON`` as proj's own script sets
    it, and with the grids alone (no proj to read them) no PROJ variable is set at all."""
    base = lock_pure_conda()

    def got(*names: str) -> dict[str, str]:
        lock = replace(base, packages=(*base.packages, *(conda(n, "1.0", "h0_0") for n in names)))
        return {k: v for k, v in activation_environment(lock, "linux-64", "/opt/env")
                if k.startswith("PROJ_")}

    assert got("proj", "proj-data") == {"PROJ_DATA": "/opt/env/share/proj", "PROJ_NETWORK": "OFF"}
    assert got("proj") == {"PROJ_DATA": "/opt/env/share/proj", "PROJ_NETWORK": "ON"}
    assert got("proj-data") == {}


def test_verify_judges_the_image_env_against_the_scripts() -> None:
    scripts = ("/opt/env/etc/conda/activate.d/x.sh",)
    assert judge_activation(Activation(())).status == "skip"
    assert judge_activation(Activation(scripts)).status == "pass"
    failed = judge_activation(Activation(scripts, (("GDAL_DATA", "/opt/env/share/gdal"),), ("PROJ_NETWORK",)))
    assert failed.status == "fail"
    assert "GDAL_DATA=/opt/env/share/gdal, -PROJ_NETWORK" in failed.detail
    assert judge_activation(None, "exit 127").status == "warn"


def test_convert_checks_the_activation_mode(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from conda2docker.cli import main

    env = tmp_path / "environment.yml"
    env.write_text("name: a\nchannels: [c2d-test]\ndependencies: [python=3.11]\n")
    assert main(["convert", str(env), "-o", str(tmp_path / "out"), "--activation", "packages"]) == 2
    assert "add --vendor" in capsys.readouterr().err
    assert main(["convert", str(env), "-o", str(tmp_path / "out"), "--vendor", "--activation", "packages",
                 "--format", "apptainer"]) == 2
    assert "add --format docker" in capsys.readouterr().err
    assert main(["convert", str(env), "-o", str(tmp_path / "out"), "--activation", "guess"]) == 2
    assert "Invalid value for '--activation'" in capsys.readouterr().err
    assert os.listdir(tmp_path) == ["environment.yml"]


@pytest.mark.slow
@pytest.mark.network  # --installer rattler --vendor downloads the py-rattler wheel from PyPI once
def test_without_an_engine_the_table_is_used_and_said(
    tmp_path: Path, test_channel: object, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    from conda2docker.cli import main

    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    env = tmp_path / "environment.yml"
    env.write_text("name: a\nchannels: [c2d-test]\ndependencies: [python=3.11, c2d-activate]\n")
    argv = ["convert", str(env), "-o", str(tmp_path / "out"), "--installer", "rattler", "--vendor",
            "--channel-alias", test_channel.alias]  # type: ignore[attr-defined]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "note: cpu: activation variables from conda2docker's table (no Docker engine answers" in err
    assert "C2D_ACTIVATE" not in (tmp_path / "out" / "Dockerfile").read_text()
    assert not (tmp_path / "out" / "conda2docker" / "activation.env").exists()
    assert main([*argv, "--activation", "packages"]) == 4
    assert "cannot measure the activation scripts: no Docker engine answers" in capsys.readouterr().err


def test_the_installer_names_the_post_link_scripts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.util
    import json

    script = Path(__file__).resolve().parents[1] / "src" / "conda2docker" / "data" / "install_lock.py"
    spec = importlib.util.spec_from_file_location("install_lock", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    meta = tmp_path / "conda-meta"
    meta.mkdir()
    (meta / "c2d-activate-1.0-0.json").write_text(json.dumps(
        {"name": "c2d-activate", "files": ["bin/.c2d-activate-post-link.sh", "share/x"]}))
    (meta / "plain-1.0-0.json").write_text(json.dumps({"name": "plain", "files": ["bin/plain"]}))
    module.report_post_link(tmp_path, True)
    assert capsys.readouterr().out == "post-link scripts: ran: c2d-activate\n"
    module.report_post_link(tmp_path, False)
    assert "did NOT run (py-rattler without link-script support): c2d-activate" in capsys.readouterr().out


_NAMES = st.from_regex(r"[A-Z][A-Z0-9_]{0,8}", fullmatch=True)
_VALUES = st.text(st.characters(blacklist_characters="\x00\n\r", blacklist_categories=("Cs",)), max_size=20)


@settings(max_examples=80, deadline=None)
@given(before=st.dictionaries(_NAMES, _VALUES, max_size=5), after=st.dictionaries(_NAMES, _VALUES, max_size=5))
def test_the_parser_reports_exactly_the_changes(before: dict[str, str], after: dict[str, str]) -> None:
    def dump(env: dict[str, str]) -> list[str]:
        return [f"{k}={v}" for k, v in env.items()]

    items = ["C2D-ACTIVATION-SCRIPTS", "/opt/env/etc/conda/activate.d/a.sh", "C2D-ACTIVATION-BEFORE",
             *dump(before), "C2D-ACTIVATION-AFTER", *dump(after)]
    got = parse_evaluation(("\0".join(items) + "\0").encode())
    for name, value in got.set:
        assert after[name] == value and before.get(name) != value
    assert set(got.unset) == {k for k in before if k not in after}
    unchanged = {k for k, v in after.items() if before.get(k) == v}
    assert not unchanged & {k for k, _ in got.set}
    # What the parser reports goes through activation.env unchanged.
    assert read_activation_file(render_activation_file(got, "0" * 64), "0" * 64) == got.set
    assert parse_evaluation(b"C2D-ACTIVATION-SCRIPTS\0C2D-ACTIVATION-BEFORE\0C2D-ACTIVATION-AFTER\0X=a\nb\0").set \
        == (("X", "a\nb"),)
