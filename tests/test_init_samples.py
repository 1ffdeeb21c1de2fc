"""``init`` on the sample repositories under sample_envs/repo-*: what it finds, and the files
it writes (snapshots), rendered from a lock built by hand (no channel is reachable here)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from conda2docker.init.dockerignore import DEFAULT_THRESHOLD, ContextRule, large_files
from conda2docker.init.readme import render_section
from conda2docker.init.render import Rendered, render_init
from conda2docker.init.stages import ImageOptions
from conda2docker.init.survey import Survey, survey
from conda2docker.model import Lock
from conda2docker.plan import PlanOptions
from support.lint import assert_lints_clean, parse
from support.locks import conda
from support.snapshots import assert_snapshot

SAMPLES = Path(__file__).resolve().parents[1] / "sample_envs"
NAMES = ("repo-binder", "repo-cuda-ext", "repo-local-package", "repo-requirements-only")
DIGEST = "0" * 64


def copy_sample(name: str, tmp_path: Path) -> Path:
    repo = tmp_path / name
    shutil.copytree(SAMPLES / name, repo)
    return repo


def hand_lock(found: Survey) -> Lock:
    """A lock with one package per conda dependency the environment names (plus python, pip)."""
    names = {d.name for d in found.spec.conda} | {"python", "pip"}
    packages = [conda(n, "3.11.9" if n == "python" else "1.0", subdir="noarch" if n == "pip"
                      else "linux-64") for n in sorted(names)]
    return Lock(packages=tuple(packages), platforms=("linux-64",), channels=("conda-forge",))


def render(repo: Path, support: Path = Path()) -> tuple[Survey, Rendered]:
    found = survey(repo)
    rendered = render_init(
        found.plan, found.spec, hand_lock(found), b"lock\n", PlanOptions(lock_digest=DIGEST),
        ImageOptions(support=support),
        context=ContextRule(None, tuple(large_files(repo, DEFAULT_THRESHOLD)), DEFAULT_THRESHOLD),
    )
    return found, rendered


@pytest.mark.parametrize("name", NAMES)
def test_sample_outputs_match_snapshots_and_lint_clean(name: str, tmp_path: Path) -> None:
    found, rendered = render(copy_sample(name, tmp_path))
    dockerfile = rendered.files[Path(found.plan.dockerfile)].decode()
    assert_snapshot(f"init/{name}.Dockerfile", dockerfile)
    assert_snapshot(f"init/{name}.compose.yaml", rendered.files[Path("compose.yaml")].decode())
    assert_snapshot(f"init/{name}.dockerignore", rendered.files[Path(".dockerignore")].decode())
    assert_snapshot(f"init/{name}.README.md", render_section(found.plan))
    assert_lints_clean(dockerfile)
    assert parse(dockerfile)
    compose = yaml.safe_load(rendered.files[Path("compose.yaml")])
    service = next(iter(compose["services"].values()))
    assert service["build"] == {"context": ".", "dockerfile": found.plan.dockerfile,
                                "args": {"APP_UID": "${APP_UID:-10001}",
                                         "APP_GID": "${APP_GID:-10001}"}}
    assert service["user"] == "${APP_UID:-10001}:${APP_GID:-10001}" and service["init"] is True
    assert service["volumes"][0]["source"] == "."
    assert "name" not in compose  # Compose names the project after the repository's directory


def test_binder_repository_uses_binder_dir_apt_postbuild_start_runtime(tmp_path: Path) -> None:
    found, rendered = render(copy_sample("repo-binder", tmp_path))
    plan = found.plan
    assert plan.environment == Path("binder/environment.yml")
    assert plan.apt == ("libgl1", "ffmpeg")
    assert [i.path for i in plan.ignored] == [Path("requirements.txt")]
    python = next(d for d in found.spec.conda if d.name == "python")
    assert python.version == "3.10.*"  # runtime.txt, since the environment names no python
    text = rendered.files[Path(found.plan.dockerfile)].decode()
    assert "apt-get install --yes --no-install-recommends ffmpeg libgl1" in text
    # postBuild runs as an argv after USER (the script itself is never pasted in)
    assert text.index("USER ${APP_UID}") < text.index("RUN /home/app/work/binder/postBuild")
    assert "exec" not in text.split("RUN /home/app/work/binder/postBuild")[0].split("FROM")[-1]
    assert "COPY --from=repo /tmp/c2d/repo/binder/start /usr/local/bin/repo-start" in text
    assert 'ENTRYPOINT ["/usr/local/bin/repo-start"]' in text
    assert text.index("ENTRYPOINT") < text.index("CMD [")
    compose = yaml.safe_load(rendered.files[Path("compose.yaml")])
    jupyter = compose["services"]["jupyter"]
    assert jupyter["ports"] == ["127.0.0.1:8888:8888"]
    assert jupyter["healthcheck"]["test"][:2] == ["CMD", "/opt/env/bin/python"]
    assert "/api" in jupyter["healthcheck"]["test"][3]
    assert "deploy" not in jupyter


def test_cuda_extension_repository_is_gpu_and_builds_the_submodule(tmp_path: Path) -> None:
    found, rendered = render(copy_sample("repo-cuda-ext", tmp_path))
    (project,) = found.plan.projects
    assert (project.name, project.path, project.cuda, project.needs_environment) == (
        "diff_rasterizer", Path("submodules/diff-rasterizer"), True, True)
    assert found.plan.gpu and found.plan.cuda == "11.8"
    text = rendered.files[Path(found.plan.dockerfile)].decode()
    assert "COPY submodules/diff-rasterizer /tmp/c2d/src/diff_rasterizer" in text
    assert "--no-build-isolation" in text and 'FORCE_CUDA="1"' in text
    compose = yaml.safe_load(rendered.files[Path("compose.yaml")])
    service = next(iter(compose["services"].values()))
    assert service["deploy"]["resources"]["reservations"]["devices"][0]["capabilities"] == ["gpu"]


def test_local_package_is_built_after_dependencies_and_data_is_excluded(tmp_path: Path) -> None:
    found, rendered = render(copy_sample("repo-local-package", tmp_path))
    assert [p.name for p in found.plan.projects] == ["mylab"]
    assert [i.path for i in found.plan.ignored] == [Path("environment-dev.yml")]
    text = rendered.files[Path(found.plan.dockerfile)].decode()
    stages = [line.split()[-1] for line in text.splitlines() if line.startswith("FROM ")]
    assert stages == ["env", "repo", "project", "runtime"]
    runtime = text.split("AS runtime")[1]
    assert runtime.index("COPY --from=env") < runtime.index("COPY --from=project") \
        < runtime.index("COPY --from=repo")
    ignore = rendered.files[Path(".dockerignore")].decode().splitlines()
    assert {"data", "outputs", "**/.ipynb_checkpoints", "**/.git", "**/.env"} <= set(ignore)


def test_requirements_only_repository_gets_an_inferred_environment(tmp_path: Path) -> None:
    _, rendered = render(copy_sample("repo-requirements-only", tmp_path))
    assert Path("environment.yml") not in rendered.files
    inferred = rendered.files[Path("conda2docker/environment.yml")].decode()
    assert_snapshot("init/repo-requirements-only.environment.yml", inferred)
    document = yaml.safe_load(inferred)
    deps = document["dependencies"]
    assert "pytorch==2.1.2" in deps and "python>=3.10" in deps and "pip" in deps
    pip = deps[-1]["pip"]
    assert "hydra-core[extras]>=1.3" in pip and "-e ." not in pip  # built from the checkout
    assert any(line.startswith("git+https://github.com/example/tokenizer") for line in pip)


def test_support_files_can_live_in_a_subdirectory(tmp_path: Path) -> None:
    found, rendered = render(copy_sample("repo-local-package", tmp_path), support=Path("docker"))
    text = rendered.files[Path(found.plan.dockerfile)].decode()
    assert "COPY docker/conda2docker/conda-linux-64.lock" in text
    assert "rm -rf /tmp/c2d/repo/docker/conda2docker /tmp/c2d/repo/docker/vendor" in text
    assert Path("docker/conda-lock.yml") in rendered.files
    assert Path("docker/conda2docker/conda-linux-64.lock") in rendered.files
    assert_lints_clean(text)


def test_cuda_extension_without_conda_nvcc_builds_on_the_cuda_devel_image(tmp_path: Path) -> None:
    repo = copy_sample("repo-cuda-ext", tmp_path)
    environment = repo / "environment.yml"
    environment.write_text(environment.read_text().replace("  - cuda-nvcc=11.8\n", ""))
    found, rendered = render(repo)
    text = rendered.files[Path(found.plan.dockerfile)].decode()
    assert "FROM ${CUDA_DEVEL_IMAGE} AS project" in text
    assert 'ARG CUDA_DEVEL_IMAGE="nvidia/cuda:11.8.0-devel-ubuntu22.04"' in text
    assert 'CUDA_HOME="/usr/local/cuda"' in text and "FROM ${BUILD_IMAGE}" not in text
    assert_lints_clean(text)
