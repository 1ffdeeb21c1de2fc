"""Variants and the files around the Dockerfile: cuda-ext and GPU stages, compose.yaml (with
and without Jupyter), Apptainer definitions; snapshots, lint, parse, quoting, determinism."""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from conda2docker.audit.gaps import BuildGaps, SourceBuild
from conda2docker.model import EnvSpec, Lock
from conda2docker.plan import BuildPlan, PlanOptions, make_plan
from conda2docker.plan.gpu import cuda_devel_image
from conda2docker.plan.instructions import PlanError
from conda2docker.render.apptainer import env_word, render_apptainer
from conda2docker.render.compose import render_compose
from conda2docker.render.dockerfile import render_dockerfile
from conda2docker.render.yamltext import quoted
from support.apptainer_def import parse_definition
from support.lint import assert_lints_clean, parse
from support.locks import conda, lock_pure_conda, lock_with_builds, pip
from support.snapshots import assert_snapshot

SPEC = EnvSpec(source=Path("/work/environment.yml"), name="demo", variables=(("OMP_NUM_THREADS", "4"),))
GPU = PlanOptions(variant="gpu", cuda_version="12.4", support_dir="conda2docker/gpu")


def lock_with_cuda_ext(*, nvcc: bool = False, jupyter: bool = False, cudart: bool = True) -> Lock:
    base = lock_with_builds()
    extra = [pip("flash-attn", "2.6.3", "https://files.example.org/packages/flash_attn-2.6.3.tar.gz")]
    if cudart:  # what a GPU pytorch pulls in
        extra += [conda("cuda-version", "12.4", "h3060b56_3", subdir="noarch"),
                  conda("cuda-cudart", "12.4.127", "he02047a_2")]
    if nvcc:
        extra.append(conda("cuda-nvcc", "12.4.131", "h0_0"))
    if jupyter:
        extra.append(conda("jupyterlab", "4.2.5", "pyhd8ed1ab_0", subdir="noarch"))
    return replace(base, packages=(*base.packages, *extra))


def lock_with_jupyter() -> Lock:
    base = lock_pure_conda()
    return replace(base, packages=(*base.packages, conda("jupyterlab", "4.2.5", "pyhd8ed1ab_0", subdir="noarch")))


DOCKERFILES: dict[str, tuple[Callable[[], Lock], PlanOptions]] = {
    "gpu-cuda-ext": (lambda: lock_with_cuda_ext(), replace(GPU, cuda_extensions=("flash-attn",))),
    "gpu-cuda-ext-conda-nvcc": (lambda: lock_with_cuda_ext(nvcc=True),
                                replace(GPU, cuda_extensions=("flash-attn",), installer="rattler")),
    "cpu-cuda-ext-without-nvcc": (lambda: lock_with_cuda_ext(), PlanOptions(cuda_extensions=("flash-attn",))),
    "gpu-pinned-devel-image": (lambda: lock_with_cuda_ext(), replace(
        GPU, cuda_extensions=("flash-attn",),
        cuda_devel_image="nvidia/cuda:12.4.1-devel-ubuntu22.04@sha256:" + "b" * 64,
        runtime_image="debian:bookworm-slim@sha256:" + "a" * 64)),
    "gpu-cuda-ext-runtime-from-nvidia": (lambda: lock_with_cuda_ext(cudart=False), replace(
        GPU, cuda_version="11.3", cuda_extensions=("flash-attn",))),
    "jupyter-cpu": (lock_with_jupyter, PlanOptions()),
}


def plan_for(case: str) -> BuildPlan:
    make_lock, options = DOCKERFILES[case]
    return make_plan(SPEC, make_lock(), options)


@pytest.mark.parametrize("case", sorted(DOCKERFILES))
def test_variant_dockerfile_snapshot_lints_and_parses(case: str) -> None:
    plan = plan_for(case)
    text = render_dockerfile(plan)
    assert_snapshot(f"{case}.Dockerfile", text)
    assert_lints_clean(text)
    froms = [c for c in parse(text) if c.cmd == "FROM"]  # type: ignore[attr-defined]
    assert [f.value[-1] for f in froms] == [s.name for s in plan.stages]  # type: ignore[attr-defined]


def test_cuda_extensions_get_their_own_stage_from_the_devel_image() -> None:
    plan = plan_for("gpu-cuda-ext")
    assert [s.name for s in plan.stages] == ["env", "wheels", "pip", "cuda-ext", "runtime"]
    assert plan.arg_default("CUDA_DEVEL_IMAGE") == "nvidia/cuda:12.4.1-devel-ubuntu22.04"
    text = render_dockerfile(plan)
    cuda_ext = text[text.index("AS cuda-ext"):text.index("AS runtime")]
    assert "--no-build-isolation" in cuda_ext
    # the devel image is judged by the compiler it provides, before anything is compiled
    assert cuda_ext.index("command -v nvcc") < cuda_ext.index("pip wheel")
    requirements = {f.path.rsplit("/", 1)[-1]: f.content.decode() for f in plan.context_files}
    assert "flash-attn @ " in requirements["cuda-requirements.txt"]
    assert all("flash-attn" not in requirements[n] for n in ("build-requirements.txt",
                                                            "build-requirements-sources.txt"))
    runtime = text[text.index("AS runtime"):]
    assert "COPY --from=cuda-ext /opt/cuda-ext/ /opt/env/" in runtime
    assert 'NVIDIA_REQUIRE_CUDA="cuda>=12.4"' in runtime
    assert "gcc" not in runtime and "nvcc" not in runtime


def test_conda_nvcc_needs_no_cuda_devel_image() -> None:
    plan = plan_for("gpu-cuda-ext-conda-nvcc")
    assert plan.arg_default("CUDA_DEVEL_IMAGE") is None
    stage = plan.stage("cuda-ext")
    assert stage is not None and stage.base == "${BUILD_IMAGE}"
    text = render_dockerfile(plan)
    assert 'CUDA_HOME="/opt/env"' in text and "command -v nvcc" not in text


def test_the_cpu_variant_builds_cuda_extensions_without_nvcc() -> None:
    """torch-style extensions import torch while they build: not in the wheels stage (build
    isolation, no torch), but after the pip layer with --no-build-isolation, without nvcc."""
    plan = plan_for("cpu-cuda-ext-without-nvcc")
    assert [s.name for s in plan.stages] == ["env", "wheels", "pip", "cuda-ext", "runtime"]
    text = render_dockerfile(plan)
    wheels = text[text.index("AS wheels"):text.index("AS pip")]
    cuda_ext = text[text.index("AS cuda-ext"):text.index("AS runtime")]
    assert "flash-attn" not in wheels
    assert "FROM ${BUILD_IMAGE} AS cuda-ext" in text and "CUDA_DEVEL_IMAGE" not in text
    assert "COPY --from=pip /opt/pip/ /opt/env/" in cuda_ext and "--no-build-isolation" in cuda_ext
    assert 'FORCE_CUDA="0"' in cuda_ext and "CUDA_HOME" not in cuda_ext
    assert "command -v nvcc" not in cuda_ext
    assert any("FORCE_CUDA=0" in note for note in plan.notes)


def test_audit_gaps_choose_apt_packages_per_stage() -> None:
    gaps = BuildGaps(
        platform="linux-64",
        sdist_packages=(SourceBuild("docopt", "sdist", "u", "0.6.2", ("c",), ("build-essential", "libffi-dev")),
                        SourceBuild("flash-attn", "sdist", "u", "2.6.3", ("c++", "cuda"), ("libaio-dev",), True)),
        cuda_extensions=("flash-attn",),
        system_libraries=("libgl1",),
    )
    gpu = render_dockerfile(make_plan(SPEC, lock_with_cuda_ext(), GPU, gaps))
    wheels = gpu[gpu.index("AS wheels"):gpu.index("AS pip")]
    cuda_ext = gpu[gpu.index("AS cuda-ext"):gpu.index("AS runtime")]
    runtime = gpu[gpu.index("AS runtime"):]
    # build-essential is judged by the compilers it provides, headers by their package
    assert "{ command -v g++ && command -v gcc && command -v make && dpkg -s libffi-dev; }" in wheels
    assert "libaio-dev" not in wheels
    assert "{ dpkg -s libaio-dev; }" in cuda_ext
    assert "apt-get install --yes --no-install-recommends libgl1" in runtime
    cpu = render_dockerfile(make_plan(SPEC, lock_with_cuda_ext(), PlanOptions(), gaps))
    assert "command -v make && dpkg -s libffi-dev; }" in cpu[cpu.index("AS wheels"):cpu.index("AS pip")]
    assert "dpkg -s libaio-dev; }" in cpu[cpu.index("AS cuda-ext"):cpu.index("AS runtime")]
    bad = replace(gaps, system_libraries=("libgl1; touch /tmp/pwned",))
    with pytest.raises(PlanError, match="Debian package name"):
        make_plan(SPEC, lock_pure_conda(), PlanOptions(), bad)


def test_devel_image_can_be_pinned_and_is_validated() -> None:
    text = render_dockerfile(plan_for("gpu-pinned-devel-image"))
    assert 'ARG CUDA_DEVEL_IMAGE="nvidia/cuda:12.4.1-devel-ubuntu22.04@sha256:' + "b" * 64 + '"' in text
    with pytest.raises(PlanError, match="invalid image reference"):
        make_plan(SPEC, lock_with_cuda_ext(), replace(GPU, cuda_devel_image="x $(id)"))
    assert cuda_devel_image("11.8") == "nvidia/cuda:11.8.0-devel-ubuntu22.04"
    assert cuda_devel_image("12.6.2") == "nvidia/cuda:12.6.2-devel-ubuntu22.04"
    with pytest.raises(PlanError):
        cuda_devel_image("12; rm -rf /")


@pytest.mark.parametrize(("name", "url"), [
    ("evil\n--index-url", "https://x/e.tar.gz"),
    ("evil name", "https://x/e.tar.gz"),
    ("ok", "https://x/e.tar.gz --index-url http://evil/simple"),
])
def test_unsafe_pip_names_and_urls_are_refused(name: str, url: str) -> None:
    lock = replace(lock_with_builds(), packages=(*lock_with_builds().packages, pip(name, "1.0", url)))
    with pytest.raises(PlanError):
        make_plan(SPEC, lock, PlanOptions())


# --- compose ------------------------------------------------------------------------------

def test_compose_snapshot_without_jupyter() -> None:
    text = render_compose([make_plan(SPEC, lock_pure_conda(), PlanOptions())], name="demo")
    assert_snapshot("compose-cpu.yaml", text)
    services = yaml.safe_load(text)["services"]
    assert list(services) == ["demo"]
    assert services["demo"]["user"] == "10001:10001"
    assert services["demo"]["volumes"] == [{"type": "bind", "source": "..", "target": "/home/app/work"}]


def test_compose_snapshot_with_jupyter_and_gpu() -> None:
    cpu = make_plan(SPEC, lock_with_jupyter(), PlanOptions(uid=2000, gid=3000))
    gpu = make_plan(SPEC, lock_with_jupyter(), replace(GPU, uid=2000, gid=3000))
    text = render_compose([gpu, cpu], name="Demo Env", work_dir="../project")
    assert_snapshot("compose-jupyter-gpu.yaml", text)
    doc = yaml.safe_load(text)
    services = doc["services"]
    assert list(services) == ["demo-env", "jupyter", "demo-env-gpu", "jupyter-gpu"]
    jupyter = services["jupyter"]
    assert jupyter["ports"] == ["127.0.0.1:8888:8888"]
    assert jupyter["user"] == "2000:3000"
    assert jupyter["command"][:2] == ["/opt/env/bin/jupyter", "lab"]
    assert "--ServerApp.root_dir=/home/app/work" in jupyter["command"]
    assert jupyter["volumes"][0]["target"] == jupyter["working_dir"] == "/home/app/work"
    devices = services["demo-env-gpu"]["deploy"]["resources"]["reservations"]["devices"]
    assert devices == [{"driver": "nvidia", "count": "all", "capabilities": ["gpu"]}]
    assert services["jupyter-gpu"]["profiles"] == ["gpu"]
    assert services["jupyter-gpu"]["ports"] == ["127.0.0.1:8889:8888"]
    assert services["demo-env-gpu"]["build"]["dockerfile"] == "Dockerfile.gpu"


def test_a_gpu_only_compose_needs_no_profile() -> None:
    doc = yaml.safe_load(render_compose([make_plan(SPEC, lock_pure_conda(), GPU)], name="x"))
    assert "profiles" not in doc["services"]["x"]
    assert doc["services"]["x"]["deploy"]["resources"]["reservations"]["devices"][0]["driver"] == "nvidia"


HOSTILE = ["$(touch /tmp/pwned)", "${HOME}", 'a"b\\c', "new\nline: injected", "tab\there", "é ü 🙂", "x: [1]"]


@pytest.mark.parametrize("value", HOSTILE)
def test_compose_values_stay_literal(value: str) -> None:
    text = render_compose([make_plan(SPEC, lock_pure_conda(), PlanOptions())], name="demo", work_dir=value)
    volume = yaml.safe_load(text)["services"]["demo"]["volumes"][0]
    assert volume["source"].replace("$$", "$") == value
    assert "$" not in volume["source"].replace("$$", "")  # Compose interpolates no single $


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_yaml_quoting_round_trips(value: str) -> None:
    assert yaml.safe_load(f"key: {quoted(value)}\n") == {"key": value}


# --- Apptainer ----------------------------------------------------------------------------

@pytest.mark.parametrize("case", ["rattler-vendor-builds", "gpu-cuda-ext"])
def test_apptainer_snapshot_and_structure(case: str) -> None:
    plan = (make_plan(SPEC, lock_with_builds(), PlanOptions(installer="rattler", vendor=True))
            if case == "rattler-vendor-builds" else plan_for(case))
    text = render_apptainer(plan)
    assert_snapshot(f"{case}.def", text)
    stages = parse_definition(text)
    assert [s.name for s in stages] == [s.name for s in plan.stages]
    context = {f.path for f in plan.context_files} | {"vendor/pip", "vendor/src", "vendor/channel",
                                                      "vendor/py-rattler", "vendor/cacert.pem",
                                                      "vendor/bootstrap-python.tar.gz", "sources/mytool"}
    for stage in stages:
        for source, _ in stage.files():
            assert source in context, source
    final = stages[-1]
    assert {"runscript", "environment", "test", "help"} <= final.sections.keys()
    assert all(not line.startswith(("useradd", "groupadd")) for s in stages for line in s.sections.get("post", []))
    assert "io.conda2docker.variant" in final.labels()


def test_apptainer_bootstraps_from_the_local_engine_when_asked() -> None:
    text = render_apptainer(make_plan(SPEC, lock_pure_conda(), PlanOptions()), "docker-daemon")
    assert "Bootstrap: docker-daemon\nFrom: mambaorg/micromamba:2.0.5-debian12-slim\nStage: env" in text
    assert "Bootstrap: docker-daemon\nFrom: debian:bookworm-slim\nStage: runtime" in text


def environment_section(text: str) -> str:
    body = text.split("%environment\n", 1)[1].split("\n\n", 1)[0]
    return "\n".join(line.removeprefix("    ") for line in body.splitlines())


@pytest.mark.parametrize("value", [v for v in HOSTILE if "\n" not in v] + ["' ; touch /tmp/pwned ; '"])
def test_apptainer_environment_is_literal_when_a_shell_sources_it(value: str, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    value = value.replace("/tmp/pwned", str(marker))
    spec = replace(SPEC, variables=(("HOSTILE", value),))
    script = tmp_path / "env.sh"
    script.write_text(environment_section(render_apptainer(make_plan(spec, lock_pure_conda(), PlanOptions()))))
    result = subprocess.run(["sh", "-c", f'. {shlex.quote(str(script))} && printf %s "$HOSTILE"'],
                            capture_output=True, text=True, check=True)
    assert result.stdout == value
    assert not marker.exists()


def test_apptainer_refuses_values_it_cannot_hold() -> None:
    spec = replace(SPEC, variables=(("X", "a\nb"),))
    with pytest.raises(PlanError, match="line break"):
        render_apptainer(make_plan(spec, lock_pure_conda(), PlanOptions()))


@settings(max_examples=60, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=30))
def test_env_words_are_one_literal_shell_word(value: str) -> None:
    assert shlex.split(env_word(value)) == [value]


def test_every_output_is_byte_identical_for_identical_inputs() -> None:
    def outputs() -> list[bytes]:
        plans = [plan_for(case) for case in sorted(DOCKERFILES)]
        texts = [render_dockerfile(p) for p in plans] + [render_apptainer(p) for p in plans]
        texts.append(render_compose(plans[:2], name="demo"))
        return [t.encode() for t in texts] + [f.content for p in plans for f in p.context_files]

    assert outputs() == outputs()
