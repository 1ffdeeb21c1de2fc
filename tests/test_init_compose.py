"""compose.yaml as init writes it: the Jupyter service runs as the host user, waits for the
databases ``--service`` adds (each with a named volume and a healthcheck) and gets their URLs;
the audit names a missing client library (S307, with the services init passes it); every generated compose file is validated by
``docker-compose config`` (Debian's docker-compose 1.29; skipped, with the reason, without it)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from conda2docker.audit.knowledge.services import SERVICE_CLIENTS
from conda2docker.audit.run import audit_targets
from conda2docker.cli import main
from conda2docker.errors import InputError
from conda2docker.init.compose import render_compose
from conda2docker.init.dockerignore import ContextRule
from conda2docker.init.readme import render_section
from conda2docker.init.render import render_init
from conda2docker.init.services import SERVICES, services
from conda2docker.init.stages import ImageOptions
from conda2docker.init.survey import survey
from conda2docker.init.targets import choose_targets
from conda2docker.model import EnvSpec, Lock
from conda2docker.plan import PlanOptions, make_plan
from conda2docker.render.compose import render_compose as render_convert_compose
from conda2docker.render.compose import render_project_env
from support.locks import conda
from support.snapshots import assert_snapshot

SAMPLES = Path(__file__).resolve().parents[1] / "sample_envs"
DIGEST = "ab" * 32


def lock_of(*names: str) -> Lock:
    packages = [conda(n, "3.11.9" if n == "python" else "1.0") for n in sorted({"python", *names})]
    return Lock(packages=tuple(packages), platforms=("linux-64",), channels=("conda-forge",))


def init_compose(repo: Path, names: tuple[str, ...], *packages: str) -> tuple[str, dict[str, object]]:
    found = survey(repo)
    targets = choose_targets(repo, found.plan.dockerfile)
    rendered = render_init(found.plan, found.spec, lock_of("pip", *packages), b"lock\n",
                           PlanOptions(lock_digest=DIGEST), ImageOptions(),
                           context=ContextRule(None), targets=targets,
                           databases=services(names))
    text = rendered.files[targets.compose].decode()
    return text, yaml.safe_load(text)


def repo_with(tmp_path: Path, environment: str) -> Path:
    repo = tmp_path / "My Paper"
    repo.mkdir()
    (repo / "environment.yml").write_text(environment)
    return repo


def test_databases_beside_jupyter(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, "dependencies: [python=3.11, jupyterlab, pymongo]\n")
    _, doc = init_compose(repo, ("redis", "mongo", "postgres", "redis"), "jupyterlab", "pymongo")
    services_ = doc["services"]
    assert isinstance(services_, dict)
    assert list(services_) == ["jupyter", "mongodb", "postgres", "redis"]
    jupyter = services_["jupyter"]
    assert jupyter["depends_on"] == {name: {"condition": "service_healthy"}
                                     for name in ("mongodb", "postgres", "redis")}
    assert jupyter["environment"] == {
        "MONGODB_URL": "mongodb://mongodb:27017/",
        "DATABASE_URL": "postgresql://postgres@postgres:5432/postgres",
        "REDIS_URL": "redis://redis:6379/0"}
    assert doc["volumes"] == {"mongodb-data": {}, "postgres-data": {}, "redis-data": {}}
    for name in ("mongodb", "postgres", "redis"):
        service = services_[name]
        assert service["image"] == SERVICES[name].image
        assert service["volumes"][0]["source"] == f"{name}-data"
        assert service["healthcheck"]["test"][0] == "CMD"
        assert "ports" not in service  # reachable from the notebooks only
    assert jupyter["user"] == "${APP_UID:-10001}:${APP_GID:-10001}"
    assert jupyter["build"]["args"] == {"APP_UID": "${APP_UID:-10001}", "APP_GID": "${APP_GID:-10001}"}
    assert jupyter["init"] is True and "/api" in jupyter["healthcheck"]["test"][-1]
    text, _ = init_compose(repo, ("postgres", "redis"), "jupyterlab")
    assert_snapshot("init/services.compose.yaml", text)


def test_unknown_service_is_one_line() -> None:
    with pytest.raises(InputError) as caught:
        services(["mysql"])
    assert caught.value.one_line().endswith("choose from mongodb, postgres, redis")


def test_missing_client_library_is_an_audit_finding(tmp_path: Path) -> None:
    assert set(SERVICE_CLIENTS) == set(SERVICES)  # every service init offers has its clients
    env = tmp_path / "environment.yml"
    env.write_text("dependencies:\n  - python=3.11\n  - redis-py\n  - pip\n"
                   "  - pip:\n    - psycopg2-binary\n")
    from conda2docker.pipeline import read_spec

    spec = read_spec(env)
    found = audit_targets(spec, None, ("linux-64",), services=("mongodb", "postgres", "redis"))
    s307 = [f for f in found if f.code == "S307"]
    assert [f.subject for f in s307] == ["mongodb"]  # conda's redis-py and pip's psycopg2-binary count
    assert "add pymongo to" in s307[0].fix and str(s307[0].location) == str(env)
    assert not [f for f in audit_targets(spec, None, ("linux-64",)) if f.code == "S307"]


def test_init_shows_the_finding_in_its_audit_output(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "requirements.txt").write_text("pandas\n")
    assert main(["init", str(tmp_path), "--dry-run", "--service", "mongodb"]) == 0
    err = capsys.readouterr().err
    assert "audit: S307 [warning] mongodb runs beside the environment" in err
    assert "fix: add pymongo to the environment" in err


def test_readme_commands_publish_the_port_and_pass_the_host_user(tmp_path: Path) -> None:
    repo = repo_with(tmp_path, "dependencies: [python=3.11, jupyterlab]\n")
    (repo / "compose.yaml").write_text("services: {}\n")  # the user's own
    found = survey(repo)
    section = render_section(found.plan, choose_targets(repo, found.plan.dockerfile),
                             services(["redis"]))
    assert "APP_UID=$(id -u) APP_GID=$(id -g) docker compose -f compose.conda2docker.yaml up --build" \
        in section
    assert "docker run --rm -it -p 127.0.0.1:8888:8888 my-paper" in section
    assert "--build-arg APP_UID=$(id -u)" in section and "`$REDIS_URL`" in section


def test_convert_compose_project_name_carries_the_lock(tmp_path: Path) -> None:
    spec = EnvSpec(source=tmp_path / "environment.yml", name="pangeo")
    one = make_plan(spec, lock_of("numpy"), PlanOptions(lock_digest="1" * 64))
    two = make_plan(spec, lock_of("xarray"), PlanOptions(lock_digest="2" * 64))
    names = {render_project_env([p], "pangeo") for p in (one, two)}
    assert {n.splitlines()[-1] for n in names} == {"COMPOSE_PROJECT_NAME=pangeo-11111111",
                                                   "COMPOSE_PROJECT_NAME=pangeo-22222222"}
    assert "name" not in yaml.safe_load(render_convert_compose([one], name="pangeo"))


def generated_compose_files(tmp_path: Path) -> list[Path]:
    out = []
    for index, (names, env) in enumerate([
        ((), "dependencies: [python=3.11]\n"),
        (("postgres",), "dependencies: [python=3.11, jupyterlab, psycopg]\n"),
        (("mongodb", "redis", "postgres"), "dependencies: [python=3.11, jupyterlab]\n"),
        (("redis",), "dependencies: [python=3.11, pytorch-cuda=12.1, jupyterlab]\n"),
    ]):
        repo = tmp_path / f"r{index}"
        repo.mkdir()
        (repo / "environment.yml").write_text(env)
        text, _ = init_compose(repo, names, "jupyterlab")
        path = repo / "compose.yaml"
        path.write_text(text)
        out.append(path)
    for sample in ("repo-binder", "repo-cuda-ext", "repo-local-package"):
        repo = tmp_path / sample
        shutil.copytree(SAMPLES / sample, repo)
        text, _ = init_compose(repo, ("redis",))
        (repo / "compose.yaml").write_text(text)
        out.append(repo / "compose.yaml")
    spec = EnvSpec(source=tmp_path / "environment.yml", name="demo")
    convert_dir = tmp_path / "convert" / "out"
    convert_dir.mkdir(parents=True)
    plans = [make_plan(spec, lock_of("jupyterlab"), PlanOptions(lock_digest=DIGEST)),
             make_plan(spec, lock_of("jupyterlab"), PlanOptions(variant="gpu", cuda_version="12.4",
                                                                 lock_digest=DIGEST))]
    (convert_dir / "compose.yaml").write_text(render_convert_compose(plans, name="demo"))
    out.append(convert_dir / "compose.yaml")
    return out


def test_docker_compose_config_accepts_every_generated_file(tmp_path: Path) -> None:
    tool = shutil.which("docker-compose")
    if tool is None:
        pytest.skip("docker-compose (Debian's 1.29 package) is not installed; .ci/run installs it")
    for path in generated_compose_files(tmp_path):
        for dockerfile in ("Dockerfile", "Dockerfile.gpu"):
            (path.parent / dockerfile).touch()
        done = subprocess.run([tool, "-f", str(path), "config", "-q"], capture_output=True,
                              text=True, cwd=path.parent, env={"PATH": "/usr/bin:/bin"},
                              check=False, timeout=120)
        assert done.returncode == 0, f"{path}: {done.stderr}"


@settings(max_examples=40, deadline=None)
@given(st.text(min_size=1, max_size=30))
def test_compose_values_from_the_repository_stay_literal(tmp_path_factory: pytest.TempPathFactory,
                                                        command_word: str) -> None:
    from dataclasses import replace as dc_replace

    repo = tmp_path_factory.mktemp("repo")
    (repo / "environment.yml").write_text("dependencies: [python=3.11, jupyterlab]\n")
    found = survey(repo)
    plan = make_plan(found.spec, lock_of("jupyterlab"), PlanOptions(lock_digest=DIGEST))
    jupyter = plan.runtime.jupyter
    assert jupyter is not None
    plan = dc_replace(plan, runtime=dc_replace(plan.runtime, jupyter=(*jupyter, command_word)))
    doc = yaml.safe_load(render_compose(found.plan, plan, "Dockerfile", services(["redis"])))
    # Compose interpolates $: every $ from a value is doubled, the rest arrives unchanged.
    assert doc["services"]["jupyter"]["command"][-1] == command_word.replace("$", "$$")


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=40))
def test_comments_can_never_become_yaml(comment: str) -> None:
    from conda2docker.render.yamltext import dump

    text = dump({"services": {"a": {"image": "x"}}}, [f"Generated from {comment}"])
    assert yaml.safe_load(text) == {"services": {"a": {"image": "x"}}}
    assert all(line.startswith("#") for line in text.splitlines()[:-3])


def test_service_option_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from conda2docker.cli import main

    repo = repo_with(tmp_path, "dependencies: [python=3.11, jupyterlab]\n")
    assert main(["init", str(repo), "--dry-run", "--service", "mysql"]) == 2
    assert "unknown --service 'mysql'; fix: choose from mongodb, postgres, redis" in capsys.readouterr().err
    assert main(["init", str(repo), "--dry-run", "--service", "redis", "--service", "mongo"]) == 0
    assert "services: mongodb (mongo:7.0, $MONGODB_URL), redis (redis:7.2-bookworm, $REDIS_URL)" \
        in capsys.readouterr().err
