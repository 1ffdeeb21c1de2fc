"""repo2docker's own test repositories (``tests/fixtures/repo2docker``, see its SOURCE.md) as
init's acceptance suite, checked at plan level: what each repository's ``verify`` script
asserts inside repo2docker's image is restated as a check on what init decides (the
environment it resolves) and writes (the Dockerfile and compose file, rendered from a lock
built by hand: no channel is reachable here). ``test_init_e2e.py`` and
``test_init_r2d_engine.py`` build the cases the local test channel can provide and run the same
checks inside the image (docs/init.md has the table).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from conda2docker.init.dockerignore import ContextRule
from conda2docker.init.render import Rendered, render_init
from conda2docker.init.stages import CHECK_SCRIPT, POSTBUILD_BIN, START_SCRIPT, ImageOptions
from conda2docker.init.survey import Survey, survey
from conda2docker.init.targets import choose_targets
from conda2docker.model import EnvSpec, Lock
from conda2docker.plan import PlanOptions
from support.lint import assert_lints_clean
from support.locks import conda

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "repo2docker"


@dataclass(frozen=True)
class Outcome:
    found: Survey
    rendered: Rendered
    dockerfile: str
    compose: dict[str, object]
    targets_kept: tuple[str, ...]

    @property
    def spec(self) -> EnvSpec:
        return self.found.spec

    def conda(self, name: str) -> str | None:
        """The version spec the environment asks of ``name`` ("" for any), or None if absent."""
        for dependency in self.spec.conda:
            if dependency.name == name:
                return (dependency.version or "").removesuffix(".*")
        return None

    def pip_names(self) -> set[str]:
        return {(r.name or "").lower() for r in self.spec.pip}

    def runtime_lines(self) -> list[str]:
        return self.dockerfile.split("AS runtime", 1)[1].splitlines()


def hand_lock(spec: EnvSpec) -> Lock:
    names = {d.name for d in spec.conda} | {"python", "pip"}
    packages = [conda(n, "3.10.14" if n == "python" else "1.0",
                      subdir="noarch" if n == "pip" else "linux-64") for n in sorted(names)]
    return Lock(packages=tuple(packages), platforms=("linux-64",), channels=("conda-forge",))


def run_init(case: str, tmp_path: Path) -> Outcome:
    repo = tmp_path / case.replace("/", "-")
    shutil.copytree(FIXTURES / case, repo)
    found = survey(repo)
    targets = choose_targets(repo, found.plan.dockerfile)
    rendered = render_init(found.plan, found.spec, hand_lock(found.spec), b"lock\n",
                           PlanOptions(lock_digest="0" * 64), ImageOptions(),
                           context=ContextRule(None), targets=targets)
    dockerfile = rendered.files[targets.dockerfile].decode()
    assert_lints_clean(dockerfile)
    compose = yaml.safe_load(rendered.files[targets.compose])
    return Outcome(found, rendered, dockerfile, compose, tuple(str(p) for p in targets.kept))


def jupyter_service(out: Outcome) -> dict[str, object]:
    services = out.compose["services"]
    assert isinstance(services, dict)
    service = services["jupyter"]
    assert isinstance(service, dict)
    return service


def check_downgrade(out: Outcome) -> None:
    # verify: python 3.9, xeus-cling 0.6.0 (the solver's downgrade itself needs conda-forge)
    assert out.conda("python") == "3.9" and out.conda("xeus-cling") == "0.6.0"
    assert out.conda("notebook") == ""
    assert "jupyter" in out.compose["services"]  # type: ignore[operator]


def check_py310_requirements_file(out: Outcome) -> None:
    # verify: python 3.10, numpy importable, `there` (requirements.txt) NOT installed
    assert out.conda("python") == "3.10" and out.conda("numpy") == ""
    assert "simplejson" in out.pip_names() and "there" not in out.pip_names()
    assert any(str(i.path) == "requirements.txt" for i in out.found.plan.ignored)


def check_py312(out: Outcome) -> None:
    assert out.conda("python") == "3.12"


def check_py35_binder_dir(out: Outcome) -> None:
    # verify: python 3.5 with numpy; the root environment.yml and Dockerfile are ignored
    assert out.found.plan.environment == Path(".binder/environment.yml")
    assert out.conda("python") == "3.5" and out.conda("numpy") == ""
    assert out.conda("thiswontwork") is None
    assert out.targets_kept == ("Dockerfile",)  # the user's Dockerfile is kept, ours beside it
    assert Path("Dockerfile.conda2docker") in out.rendered.files


def check_py36_postbuild(out: Outcome) -> None:
    # verify: python 3.6 + numpy in the kernel environment; postBuild's `mamba install make` went
    # there; `pip install pytest` worked. repo2docker builds a second (server) environment for
    # Jupyter when the Python differs; conda2docker has one, the kernel's (docs/init.md): the
    # `make` of the install line is locked into it, and mamba/conda on postBuild's PATH check it.
    assert out.conda("python") == "3.6" and out.conda("numpy") == "" and out.conda("pip") == ""
    make = next(d for d in out.spec.conda if d.name == "make")
    assert make.location is not None and (make.location.line, make.location.column) == (4, 18)
    lines = out.runtime_lines()
    user = next(i for i, line in enumerate(lines) if line.startswith("USER "))
    post = next(i for i, line in enumerate(lines) if line.endswith("/postBuild"))
    assert user < post
    assert lines[post] == (f"RUN sh -c 'PATH={POSTBUILD_BIN}:\"$PATH\" exec \"$0\"' "
                           "/home/app/work/postBuild")
    assert any("--chown=${APP_UID}:${APP_GID}" in line and "/opt/env" in line
               for line in lines[:user])
    assert f"COPY --from=repo /tmp/c2d/postbuild-bin/ {POSTBUILD_BIN}/" in lines
    check = out.rendered.files[Path("conda2docker") / CHECK_SCRIPT]
    assert check.startswith(b"#!/bin/sh\n")
    assert "ln -s mamba /tmp/c2d/postbuild-bin/conda" in out.dockerfile
    assert any("installs make with mamba: locked into the environment" in n
               for n in out.found.plan.notes)


def check_yaml(out: Outcome) -> None:
    assert out.found.plan.environment == Path("environment.yaml")
    assert out.conda("python") == "3.12"


def check_apt_packages(out: Outcome) -> None:
    # verify: gfortran, unp, byacc on PATH (installed in the runtime stage)
    assert out.found.plan.apt == ("gfortran", "unp", "byacc")
    runtime = "\n".join(out.runtime_lines())
    assert "apt-get install" in runtime and all(n in runtime for n in ("gfortran", "unp", "byacc"))
    assert out.conda("python") == "3.10"  # repo2docker's default


def check_binder_dir(out: Outcome) -> None:
    # verify: gfortran (binder/apt.txt), ipyleaflet (binder/requirements.txt), no scipy,
    # binder/postBuild ran (writes $HOME/postbuild.txt); the root files are never used
    plan = out.found.plan
    assert plan.apt == ("gfortran",)
    assert plan.post_build == Path("binder/postBuild")
    assert out.conda("ipyleaflet") is not None or "ipyleaflet" in out.pip_names()
    assert out.conda("scipy") is None
    assert "/home/app/work/binder/postBuild" in out.dockerfile
    assert out.targets_kept == (".dockerignore",)
    assert not any(str(p).startswith("binder/") for p in out.rendered.files)


def check_default(out: Outcome) -> None:
    # verify: python 3.10 and `import jupyter`
    assert out.conda("python") == "3.10" and out.conda("jupyterlab") == ""
    assert jupyter_service(out)["init"] is True


def check_numpy(out: Outcome) -> None:
    assert out.conda("python") == "3.10" and out.conda("numpy") == ""


def check_postbuild(out: Outcome) -> None:
    # verify: jupyter_keepalive disabled by postBuild with --sys-prefix (the environment must
    # be writable by the user postBuild runs as); `which configurable-http-proxy` after `npm
    # install --global`: nodejs is in the environment (repo2docker's base environment has it),
    # whose prefix is npm's global one, writable, and on PATH.
    assert "jupyter-keepalive" in out.pip_names() or out.conda("jupyter-keepalive") is not None
    assert out.conda("nodejs") == ""
    lines = out.runtime_lines()
    assert any("--chown=${APP_UID}:${APP_GID}" in line and "/opt/env" in line for line in lines)
    assert any(line.startswith("ENV PATH=") and ":/opt/env/bin:" in line for line in lines)
    assert "RUN /home/app/work/postBuild" in lines  # no installer call: no check on its PATH
    assert Path("conda2docker") / CHECK_SCRIPT not in out.rendered.files
    assert any("nodejs is in the environment" in n for n in out.found.plan.notes)


def check_py3(out: Outcome) -> None:
    assert out.conda("python") == "3"


def check_py35(out: Outcome) -> None:
    assert out.conda("python") == "3.5"


def check_start_postbuild(out: Outcome) -> None:
    # verify (in a login shell): postBuild wrote $HOME/postbuild.txt; start's variable is set
    lines = out.runtime_lines()
    assert any(line.endswith("/postBuild") for line in lines)
    assert f'ENTRYPOINT ["{START_SCRIPT}"]' in lines
    assert "ipyleaflet" in out.pip_names() or out.conda("ipyleaflet") is not None


def check_start_script(out: Outcome) -> None:
    assert f'ENTRYPOINT ["{START_SCRIPT}"]' in out.runtime_lines()
    assert out.conda("python") == "3.10"


def check_usr_bin(out: Outcome) -> None:
    # verify: ~/.local/bin and $REPO_DIR/.local/bin on PATH, cwd == $REPO_DIR
    env = "\n".join(out.runtime_lines())
    assert "/home/app/.local/bin:/home/app/work/.local/bin:" in env
    assert 'REPO_DIR="/home/app/work"' in env and "WORKDIR /home/app/work" in env


CASES: dict[str, Callable[[Outcome], None]] = {
    "conda/downgrade": check_downgrade,
    "conda/py310-requirements-file": check_py310_requirements_file,
    "conda/py312": check_py312,
    "conda/py35-binder-dir": check_py35_binder_dir,
    "conda/py36-postBuild": check_py36_postbuild,
    "conda/yaml": check_yaml,
    "venv/apt-packages": check_apt_packages,
    "venv/binder-dir": check_binder_dir,
    "venv/default": check_default,
    "venv/numpy": check_numpy,
    "venv/postBuild": check_postbuild,
    "venv/py3": check_py3,
    "venv/py35": check_py35,
    "venv/start/postBuild": check_start_postbuild,
    "venv/start/start-script": check_start_script,
    "venv/usr-bin": check_usr_bin,
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_repo2docker_case_at_plan_level(case: str, tmp_path: Path) -> None:
    out = run_init(case, tmp_path)
    CASES[case](out)
    # Every case: the repository is the image user's, nothing lands in binder/.
    assert "--chown=${APP_UID}:${APP_GID}" in out.dockerfile
    assert not any(p.parts[0] in ("binder", ".binder") for p in out.rendered.files)


def test_every_fixture_is_a_case() -> None:
    found = {str(p.parent.relative_to(FIXTURES)).removesuffix("/binder").removesuffix("/.binder")
             for p in FIXTURES.rglob("*") if p.is_file() and p.name != "SOURCE.md"}
    assert found == set(CASES)
