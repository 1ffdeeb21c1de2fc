"""Apptainer definitions for shared HPC machines, checked with a parser that follows
Apptainer's grammar (tests/support/apptainer_def.py; no apptainer binary exists here)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conda2docker.cli import main
from conda2docker.model import EnvSpec
from conda2docker.plan import PlanOptions, make_plan
from conda2docker.plan.instructions import PlanError
from conda2docker.render.apptainer import render_apptainer, render_apptainer_from_image
from support.apptainer_def import DefinitionError, parse_definition
from support.locks import conda, lock_pure_conda, lock_with_builds

SPEC = EnvSpec(source=Path("/work/environment.yml"), name="hpc")


def jupyter_lock():  # type: ignore[no-untyped-def]
    base = lock_pure_conda()
    return replace(base, packages=(*base.packages, conda("jupyterlab", "4.2.5", "pyhd8ed1ab_0", subdir="noarch")))


@pytest.mark.parametrize("options", [PlanOptions(), PlanOptions(installer="rattler", vendor=True)])
def test_nothing_is_staged_where_apptainer_mounts_the_hosts_directories(options: PlanOptions) -> None:
    text = render_apptainer(make_plan(SPEC, lock_with_builds(), options))
    assert "/tmp" not in text and "/var/tmp" not in text
    stages = parse_definition(text)
    destinations = [dest for s in stages for title in s.sections if title.startswith("files")
                    for _, dest in s.files(title.removeprefix("files").removeprefix(" from ") or None)]
    assert destinations and all(d.startswith("/opt/") for d in destinations), destinations


def test_the_image_ignores_user_site_packages_and_tests_itself() -> None:
    final = parse_definition(render_apptainer(make_plan(SPEC, lock_pure_conda(), PlanOptions())))[-1]
    assert final.sections["environment"][0] == "export PYTHONNOUSERSITE=1"
    assert "test -d /opt/env/conda-meta" in final.sections["test"]
    assert any("sys.flags.no_user_site" in line for line in final.sections["test"])
    assert any("apptainer run IMAGE.sif" in line for line in final.sections["help"])


def test_jupyter_listens_on_loopback_unless_asked() -> None:
    plan = make_plan(SPEC, jupyter_lock(), PlanOptions())
    final = parse_definition(render_apptainer(plan))[-1]
    runscript = final.sections["runscript"][-1]
    assert '--ip="${C2D_JUPYTER_IP:-127.0.0.1}"' in runscript and "0.0.0.0" not in runscript
    assert any("C2D_JUPYTER_IP=0.0.0.0" in line for line in final.sections["help"])
    # The Docker image keeps listening on all interfaces of its own network namespace.
    assert "--ip=0.0.0.0" in plan.runtime.jupyter  # type: ignore[operator]


def test_from_image_reuses_the_built_image_from_the_engine() -> None:
    plan = make_plan(SPEC, jupyter_lock(), PlanOptions())
    text = render_apptainer_from_image(plan, "c2d/hpc:1.0")
    [stage] = parse_definition(text)
    assert stage.header == {"bootstrap": "docker-daemon", "from": "c2d/hpc:1.0"}
    assert not any(title.startswith(("files", "post", "setup")) for title in stage.sections)
    assert {"environment", "labels", "runscript", "test", "help"} <= stage.sections.keys()
    assert stage.labels()["org.opencontainers.image.title"] == "hpc"
    with pytest.raises(PlanError, match="invalid image reference"):
        render_apptainer_from_image(plan, "c2d/hpc:1.0\nBootstrap: library")


def test_convert_writes_the_from_image_definition(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = tmp_path / "environment.yml"
    env.write_text("name: hpc\nchannels: [c2d-test]\ndependencies: [python=3.11]\n")
    out = tmp_path / "out"
    assert main(["convert", str(env), "-o", str(out), "--from-image", "c2d/hpc:1"]) == 2
    assert "--from-image writes an Apptainer definition" in capsys.readouterr().err
    assert main(["convert", str(env), "-o", str(out), "--format", "apptainer",
                 "--from-image", "bad image"]) == 2
    assert "invalid image reference" in capsys.readouterr().err


@pytest.mark.parametrize("text, message", [
    ("Bootstrap: docker\nFrom: debian\n%post\n    true\n%bogus\n    x\n", "invalid section"),
    ("Bootstrap: docker\nFrom debian\n%post\n    true\n", "had no value"),
    ("Bootstrap: docker\nImage: debian\n%post\n    true\n", "invalid header keyword"),
    ("Bootstrap: docker\nFrom: debian:12 # pinned\n%post\n    true\n", "cut short"),
    ("Bootstrap: docker\nFrom: a\nStage: one\n%files from two\n    /x /x\n", "no earlier stage"),
    ("Bootstrap: docker\nFrom: a\n%post\n\n%test\n    true\n", "is empty"),
    ("# only a comment\n", "no stages"),
])
def test_the_parser_rejects_what_apptainer_rejects(text: str, message: str) -> None:
    with pytest.raises(DefinitionError, match=message):
        parse_definition(text)


_VALUES = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r\x00\x85\u2028\u2029"),
                  max_size=25)


@settings(max_examples=60, deadline=None)
@given(name=_VALUES.filter(lambda v: v.strip() == v and v != ""), values=st.lists(_VALUES, max_size=3))
def test_any_name_and_variables_keep_the_grammar(name: str, values: list[str]) -> None:
    spec = replace(SPEC, name=name, variables=tuple((f"V{i}", v) for i, v in enumerate(values)))
    try:
        text = render_apptainer(make_plan(spec, lock_pure_conda(), PlanOptions()))
    except PlanError:
        return  # refused with a message (e.g. a value the file cannot hold)
    stages = parse_definition(text)
    final = stages[-1]
    assert [s.name for s in stages] == ["env", "runtime"]
    assert final.labels()["org.opencontainers.image.title"] == name
    exports = [line for line in final.sections["environment"] if line.startswith("export V")]
    assert len(exports) == len(values)


def test_a_pure_python_wheels_stage_continues_the_env_stage() -> None:
    from conda2docker.audit.gaps import BuildGaps, SourceBuild

    lock = lock_with_builds()
    gaps = BuildGaps(platform="linux-64",
                     sdist_packages=(SourceBuild("docopt", "sdist", "u", "0.6.2"),),
                     vcs_packages=(SourceBuild("requests", "vcs", "u"),),
                     local_packages=(SourceBuild("mytool", "path", "u"),))
    plan = make_plan(SPEC, lock, PlanOptions(installer="rattler", vendor=True), gaps)
    assert plan.stage("wheels").base == "env"  # type: ignore[union-attr]
    stages = {s.name: s for s in parse_definition(render_apptainer(plan))}
    wheels = stages["wheels"]
    assert wheels.header["from"] == stages["env"].header["from"]  # the env stage's base image
    assert wheels.files("env") == [("/opt/env", "/opt/env")]
    assert not any("apt-get" in line for line in wheels.sections["post"])
