"""CUDA inference (spec side and lock side), the published nvidia/cuda tag table, the CPU
variant's request, and the GPU decisions of ``lock``/``convert`` that follow from them."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conda2docker.audit import AuditContext, audit
from conda2docker.cuda import images
from conda2docker.cuda.cpu import CPU_BUILD, cpu_spec, relax_cpu_builds
from conda2docker.cuda.infer import CudaIntent, from_lock, from_spec, has_cuda_runtime
from conda2docker.model import CondaDependency, EnvSpec, Lock, PipOptions, PipRequirement
from conda2docker.plan.gpu import cuda_devel_image, image_cuda, wants_gpu
from support.locks import conda, pip

ROOT = Path(__file__).resolve().parents[1]


def spec(*deps: CondaDependency, pips: tuple[PipRequirement, ...] = (), channels: tuple[str, ...] = (),
         options: PipOptions | None = None) -> EnvSpec:
    return EnvSpec(source=Path("/w/environment.yml"), channels=channels, conda=deps, pip=pips,
                   pip_options=options or PipOptions())


def dep(raw: str) -> CondaDependency:
    """``name[=version[=build]]`` as the reader normalises it."""
    name, _, rest = raw.partition("=")
    version, _, build = rest.partition("=")
    return CondaDependency(name, version, build or None, raw=raw)


def req(raw: str, name: str, specifier: str = "", extras: tuple[str, ...] = ()) -> PipRequirement:
    return PipRequirement("registry", raw, name=name, specifier=specifier, extras=extras)


# --- spec side: every common form of GPU intent ------------------------------------------------

SPEC_CASES: list[tuple[str, EnvSpec, str | None]] = [
    # (label, spec, the CUDA version inferred; None: GPU meant but no version named)
    ("pytorch-cuda pin", spec(dep("pytorch=2.1"), dep("pytorch-cuda=11.8")), "11.8"),
    ("cuda-version glob", spec(dep("cuda-version=12.1.*")), "12.1"),
    ("cudatoolkit", spec(dep("cudatoolkit=10.2")), "10.2"),
    ("cuda-toolkit", spec(dep("cuda-toolkit=12.4")), "12.4"),
    ("tensorflow-gpu", spec(dep("tensorflow-gpu=2.4")), None),
    ("pytorch-gpu (conda-forge)", spec(dep("pytorch-gpu")), None),
    ("cuda92 metapackage", spec(dep("pytorch=1.2"), dep("cuda92")), "9.2"),
    ("cuda100 metapackage", spec(dep("cuda100")), "10.0"),
    ("dgl-cuda11.1", spec(dep("dgl-cuda11.1")), "11.1"),
    ("dgl-cuda10.2", spec(dep("dgl-cuda10.2=0.6")), "10.2"),
    ("pytorch + nvidia channels, no pin", spec(dep("pytorch=2.1"), channels=("pytorch", "nvidia")), None),
    ("pytorch::pytorch + nvidia channel", spec(CondaDependency("pytorch", "2.1", channel="pytorch",
                                                               raw="pytorch::pytorch=2.1"),
                                            channels=("nvidia", "conda-forge")), None),
    ("build string cuda*", spec(dep("pytorch=*=cuda*")), None),
    ("build string cuda118", spec(dep("pytorch=2.0=*cuda118*")), "11.8"),
    ("build string py3.10_cuda11.8_cudnn8", spec(dep("pytorch=2.0=py3.10_cuda11.8_cudnn8.7.0_0")), "11.8"),
    ("build string cuda12* (major only)", spec(dep("pytorch>=2.7=cuda12*")), "12.9"),
    ("nvidia label channel", spec(dep("cudatoolkit"), channels=("nvidia/label/cuda-11.7.1",)), "11.7"),
    ("cudnn", spec(dep("cudnn")), None),
    ("torch +cu121", spec(pips=(req("torch==2.3.1+cu121", "torch", "==2.3.1+cu121"),)), "12.1"),
    ("cupy-cuda12x", spec(pips=(req("cupy-cuda12x", "cupy-cuda12x"),)), "12.9"),
    ("cupy-cuda113", spec(pips=(req("cupy-cuda113==10.6", "cupy-cuda113", "==10.6"),)), "11.3"),
    ("nvidia-cudnn-cu12", spec(pips=(req("nvidia-cudnn-cu12", "nvidia-cudnn-cu12"),)), "12.9"),
    ("jax[cuda12]", spec(pips=(req("jax[cuda12]", "jax", extras=("cuda12",)),)), "12.9"),
    ("tensorflow[and-cuda]", spec(pips=(req("tensorflow[and-cuda]", "tensorflow", extras=("and-cuda",)),)), None),
    ("onnxruntime-gpu", spec(pips=(req("onnxruntime-gpu", "onnxruntime-gpu"),)), None),
    ("extra index cu121", spec(pips=(req("torch==2.3.1", "torch", "==2.3.1"),),
                               options=PipOptions(extra_index_urls=("https://download.pytorch.org/whl/cu121",))),
     "12.1"),
    ("find-links pyg cu118", spec(pips=(req("torch-scatter", "torch-scatter"),),
                                  options=PipOptions(find_links=("https://data.pyg.org/whl/torch-2.0.0+cu118.html",))),
     "11.8"),
    ("highest of several pins", spec(dep("cuda-version=12.1.*"), dep("cudatoolkit=11.8")), "12.1"),
]


@pytest.mark.parametrize(("label", "env", "version"), SPEC_CASES, ids=[c[0] for c in SPEC_CASES])
def test_gpu_intent_is_recognised_in_every_common_form(label: str, env: EnvSpec, version: str | None) -> None:
    intent = from_spec(env)
    assert intent.wants_gpu, label
    assert intent.version_text == version
    assert wants_gpu("auto", intent.reasons)


@pytest.mark.parametrize("env", [
    spec(dep("numpy"), dep("pytorch=2.3=cpu*")),
    spec(dep("pytorch=2.1"), dep("cpuonly"), channels=("pytorch", "nvidia")),
    spec(dep("pytorch=2.1"), channels=("pytorch", "conda-forge")),
    spec(pips=(req("torch==2.3.1+cpu", "torch", "==2.3.1+cpu"), req("requests", "requests"))),
    spec(pips=(req("torch", "torch"),),
         options=PipOptions(extra_index_urls=("https://download.pytorch.org/whl/cpu",))),
])
def test_cpu_environments_stay_cpu(env: EnvSpec) -> None:
    intent = from_spec(env)
    assert not intent.wants_gpu, intent.reasons
    assert not wants_gpu("auto", intent.reasons) and wants_gpu("yes", intent.reasons)


def test_cpu_requests_are_recorded() -> None:
    intent = from_spec(spec(dep("pytorch=2.1"), dep("cpuonly"), channels=("pytorch", "nvidia")))
    assert [s.text for s in intent.cpu_requests] == ["cpuonly"]


def test_the_fix_names_the_pin_to_add() -> None:
    torch = from_spec(spec(dep("pytorch=2.1"), channels=("pytorch", "nvidia")))
    assert torch.version is None and "pytorch-cuda=12.4" in torch.fix()
    assert "comes from the pytorch + nvidia channels" in torch.reasons[0]
    tf = from_spec(spec(dep("tensorflow-gpu=2.4")))
    assert "cuda-version=12.4" in tf.fix() and tf.solve_version() == "12.4"


# --- lock side ----------------------------------------------------------------------------------

def test_the_locks_cuda_version_decides_over_builds_and_runtime_packages() -> None:
    lock = Lock((conda("cuda-version", "11.8", "h70ddcb2_3", subdir="noarch"),
                 conda("cudatoolkit", "11.8.0", "h4ba93d1_13"),
                 conda("pytorch", "2.1.0", "cuda120py311h3b8d1c1_300")), ("linux-64",))
    intent = from_lock(lock)
    assert intent.version_text == "11.8" and intent.wants_gpu
    assert has_cuda_runtime(lock, "linux-64")
    assert image_cuda(lock, "linux-64", "12.4") == "11.8"  # the lock, not the solve request


def test_lock_without_cuda_version_reads_builds_and_pip_wheels() -> None:
    lock = Lock((conda("pytorch", "2.0.1", "py3.10_cuda11.7_cudnn8.5.0_0"),
                 pip("torch", "2.3.1+cu121", "https://download.pytorch.org/whl/cu121/torch.whl"),
                 pip("nvidia-cuda-runtime-cu12", "12.1.105", "https://files.example.org/r.whl")),
                ("linux-64",))
    intent = from_lock(lock)
    assert intent.versions == ((12, 1), (11, 7))
    assert has_cuda_runtime(lock, "linux-64")


def test_a_major_only_build_keeps_the_version_it_was_solved_for() -> None:
    lock = Lock((conda("gpu-tool", "1.0", "cuda12_0"),), ("linux-64",))
    assert from_lock(lock).exact_version is None
    assert image_cuda(lock, "linux-64", "12.4") == "12.4"
    assert image_cuda(lock, "linux-64", "11.8") == "12.9"


def test_a_cpu_lock_has_no_gpu_intent() -> None:
    lock = Lock((conda("pytorch", "2.1.0", "cpu_mkl_py311h6c8e3f4_100"), conda("numpy", "1.26.4")),
                ("linux-64",))
    intent = from_lock(lock)
    assert not intent.wants_gpu and intent.cpu_requests
    assert intent == CudaIntent((), intent.cpu_requests, None)


# --- published tags --------------------------------------------------------------------------

@pytest.mark.parametrize(("version", "image", "exact"), [
    ("11.3", "nvidia/cuda:11.3.1-devel-ubuntu20.04", True),  # no ubuntu22.04 image before 11.7.1
    ("11.8", "nvidia/cuda:11.8.0-devel-ubuntu22.04", True),
    ("12.4", "nvidia/cuda:12.4.1-devel-ubuntu22.04", True),
    ("12.6.2", "nvidia/cuda:12.6.2-devel-ubuntu22.04", True),
    ("12.7", "nvidia/cuda:12.6.3-devel-ubuntu22.04", False),  # never released: nearest below
    ("13.0", "nvidia/cuda:13.0.2-devel-ubuntu22.04", True),
])
def test_devel_images_come_from_the_published_table(version: str, image: str, exact: bool) -> None:
    choice = images.choose_image(version, "devel")
    assert (choice.image, choice.exact) == (image, exact)
    end_of_life = version in ("11.3", "12.6.2")  # in NVIDIA's unsupported-tags list
    assert (choice.reason is None) == (exact and not end_of_life)
    assert cuda_devel_image(version) == image


def test_every_chosen_tag_is_in_the_table() -> None:
    published = {f"nvidia/cuda:{t.tag}" for t in images.published_tags()}
    for major, minor in [(m, n) for m in (9, 10, 11, 12, 13, 14) for n in range(10)]:
        for flavour in ("devel", "runtime"):
            assert images.choose_image(f"{major}.{minor}", flavour).image in published


def test_the_update_script_rebuilds_the_table_from_nvidias_lists(tmp_path: Path) -> None:
    supported = tmp_path / "supported-tags.md"
    supported.write_text("### ubuntu22.04\n\n#### CUDA 12.4.1\n\n"
                         "- [`12.4.1-devel-ubuntu22.04` (*12.4.1/ubuntu22.04/devel/Dockerfile*)](x)\n"
                         "- [`12.4.1-cudnn-devel-ubuntu22.04` (*x*)](x)\n")
    unsupported = tmp_path / "unsupported-tags.md"
    unsupported.write_text("- `11.3.1-runtime-ubuntu20.04`\n- `12.4.1-devel-ubuntu22.04`\n")
    out = tmp_path / "table.json"
    out.write_text(json.dumps({"tags": {"12.4.1-devel-ubuntu22.04": {"digest": "sha256:" + "a" * 64}}}))
    subprocess.run([sys.executable, str(ROOT / "scripts" / "update_cuda_tags.py"), "--supported",
                    str(supported), "--unsupported", str(unsupported), "--source", "test", "-o", str(out),
                    "--sightings", str(tmp_path / "no-sightings.json")],
                   check=True, capture_output=True)
    table = json.loads(out.read_text())
    assert table["tags"] == {
        "11.3.1-runtime-ubuntu20.04": {"digest": None, "status": "unsupported"},
        "12.4.1-devel-ubuntu22.04": {"digest": "sha256:" + "a" * 64, "status": "supported"},
    }


# --- CPU variant request ---------------------------------------------------------------------

def test_the_cpu_variant_leaves_cuda_out_and_asks_for_cpu_builds() -> None:
    env = spec(dep("pytorch=2.1"), dep("pytorch-cuda=12.1"), dep("tensorflow-gpu=2.4"), dep("cuda92"),
               dep("dgl-cuda11.1"), dep("jaxlib=*=*cuda*"), dep("numpy"), dep("libcurl"), dep("libcublas"),
               pips=(req("torch==2.3.1+cu121", "torch", "==2.3.1+cu121"),
                     req("nvidia-cudnn-cu12", "nvidia-cudnn-cu12")),
               channels=("pytorch", "nvidia"),
               options=PipOptions(extra_index_urls=("https://download.pytorch.org/whl/cu121",)))
    asked = cpu_spec(env)
    conda = {d.name: d.build for d in asked.spec.conda}
    assert conda == {"pytorch": CPU_BUILD, "tensorflow": CPU_BUILD, "dgl": None, "jaxlib": CPU_BUILD,
                     "numpy": None, "libcurl": None}
    assert [r.raw for r in asked.spec.pip] == ["torch==2.3.1+cpu"]
    assert asked.spec.pip_options.extra_index_urls == ("https://download.pytorch.org/whl/cpu",)
    assert not from_spec(asked.spec).wants_gpu
    assert asked.asked_cpu_builds == ("pytorch", "tensorflow")
    relaxed = {d.name: d.build for d in relax_cpu_builds(asked).conda}
    assert relaxed["pytorch"] is None and relaxed["jaxlib"] == CPU_BUILD  # the user's own request stays


def test_a_cpu_environment_is_not_rewritten() -> None:
    env = spec(dep("numpy"), dep("scipy"))
    assert cpu_spec(env).spec is env


# --- audit findings ----------------------------------------------------------------------------

def codes(env: EnvSpec) -> dict[str, str]:
    return {f.code: f.message + " | " + (f.fix or "") for f in audit(AuditContext.build(env))}


def test_findings_name_the_inferred_cuda_or_that_there_is_none() -> None:
    found = codes(spec(dep("pytorch=2.1"), channels=("pytorch", "nvidia")))
    assert "G406" in found and "no CUDA version is named" in found["G406"]
    assert "pytorch-cuda=12.4" in found["G406"]
    found = codes(spec(pips=(req("torch==2.3.1+cu121", "torch", "==2.3.1+cu121"),)))
    assert "G405" in found and "CUDA 12.1" in found["G405"] and "G406" not in found


def test_the_ci_stand_ins_carry_the_tags_the_plan_names() -> None:
    """scripts/engine.sh tags its CUDA 13.0 stand-ins as the images the plan chooses, and
    builds them from the wheels the CUDA test channel repackages."""
    from conda2docker.plan.gpu import cuda_runtime_image
    from support.cuda_channel import CUDA_WHEELS

    script = (ROOT / "scripts" / "engine.sh").read_text()
    assert f"CUDA_DEVEL_TAG={cuda_devel_image('13.0')}\n" in script
    assert f"CUDA_RUNTIME_TAG={cuda_runtime_image('13.0')}\n" in script
    for name, version in CUDA_WHEELS.items():
        assert f"{name}=={version}" in script


# --- measured on real files (../shared) ----------------------------------------------------------

#: file → the CUDA an expert reads in it (None: GPU meant, no version named; "cpu": no GPU).
CORPUS_CUDA: dict[str, str | None] = {
    "CompVis__stable-diffusion__environment.yaml": "11.3",
    "DIVA-DIA__DeepDIVA__environment_mac.yml": "cpu",  # pytorch=0.3.1=py35_cuda0.0_…: a CPU build
    "IDEA-Research__GroundingDINO__environment.yaml": "11.8",
    "Jeffreytsai1004__GaussianHaircut__environment_windows.yml": "11.8",
    "NVlabs__stylegan3__environment.yml": "11.1",
    "RosettaCommons__RoseTTAFold__RoseTTAFold-linux.yml": "11.1",
    "facebookresearch__dinov2__conda.yaml": "11.7",
    "gcorso__DiffDock__environment.yml": "11.7",  # torch==1.13.1+cu117 and the cu117 index
    "graphdeco-inria__gaussian-splatting__environment.yml": "11.6",
    "invoke-ai__InvokeAI__environments-and-requirements__environment-win-cuda.yml": "11.6",
    "invoke-ai__InvokeAI__environments-and-requirements__environment-mac.yml": "cpu",
    "konstantinjdobler__nlp-research-template__environment.yml": "11.8",
    "pangeo-data__pangeo-docker-images__ml-notebook__environment.yml": "12.6",  # cuda-version>=12.6
    "pangeo-data__pangeo-docker-images__pytorch-notebook__environment.yml": "12.9",
    "pangeo-data__pangeo-docker-images__base-notebook__environment.yml": "cpu",
    "rapidsai__cudf__conda__environments__all_cuda-118_arch-x86_64.yaml": "11.8",
    "rapidsai__cudf__conda__environments__cudf_dev_cuda10.1.yml": "10.1",
    "talmolab__sleap__environment.yml": "10.1",
    "talmolab__sleap__environment_mac.yml": "cpu",
    "pydata__xarray__ci__requirements__environment.yml": "cpu",
}
#: lock → the CUDA it holds.
LOCK_CUDA: dict[str, str | None] = {
    "01-ai__Yi__conda-lock.yml": "11.8",
    "Astroite__3DGS-AncientBuilding__conda-lock.yml": "11.8",
    "pangeo-data__pangeo-docker-images__ml-notebook__conda-lock.yml": "12.9",
    "pangeo-data__pangeo-docker-images__pytorch-notebook__conda-lock.yml": "12.9",
    "pangeo-data__pangeo-docker-images__base-notebook__conda-lock.yml": "cpu",
}


def test_the_cuda_read_from_real_environment_files(corpus_envs: Path) -> None:
    from conda2docker.pipeline import read_spec

    got: dict[str, str | None] = {}
    for name in CORPUS_CUDA:
        intent = from_spec(read_spec(corpus_envs / name))
        got[name] = intent.version_text if intent.wants_gpu else "cpu"
    assert got == CORPUS_CUDA


def test_the_cuda_read_from_real_locks(shared_locks: Path) -> None:
    from conda2docker.pipeline import read_spec

    got: dict[str, str | None] = {}
    for name in LOCK_CUDA:
        spec = read_spec(shared_locks / name, lock_platforms="target")
        assert spec.lock is not None
        intent = from_lock(spec.lock, "linux-64")
        got[name] = intent.version_text if intent.wants_gpu else "cpu"
    assert got == LOCK_CUDA


# --- properties ---------------------------------------------------------------------------------

_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._-*+=<>!,", max_size=24)


@given(entries=st.lists(st.tuples(_WORD, st.none() | _WORD, _WORD), max_size=6),
       urls=st.lists(_WORD, max_size=3))
@settings(max_examples=300, deadline=None)
def test_inference_reads_any_spec_and_any_version_it_names_has_an_image(
    entries: list[tuple[str, str | None, str]], urls: list[str]
) -> None:
    """Whatever a file holds, the inference answers (never raises), a version it names is a
    plausible CUDA, the image chosen for it is a published one, and the CPU rewrite leaves no
    conda request naming a CUDA version (pip wheels such as ``cupy-cuda12x`` have no CPU build
    to map to: convert reports them instead)."""
    deps = tuple(CondaDependency(n or "x", v, b, raw=n or "x") for n, b, v in entries)
    pips = tuple(PipRequirement("registry", f"{n}{v}", name=n or "x", specifier=v) for n, _b, v in entries)
    env = spec(*deps, pips=pips, options=PipOptions(extra_index_urls=tuple(f"https://x/{u}" for u in urls)))
    intent = from_spec(env)
    if intent.version is not None:
        assert 7 <= intent.version[0] <= 99 and 0 <= intent.version[1] <= 99
        published = {f"nvidia/cuda:{t.tag}" for t in images.published_tags()}
        assert images.choose_image(intent.version_text or "", "devel").image in published
    assert from_spec(replace(cpu_spec(env).spec, pip=())).versions == ()
