"""Every real environment file in ../shared/corpus/envs reads into a spec or a clear error."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from conda2docker.errors import InputError, SourceLocation
from conda2docker.model import EnvSpec
from conda2docker.read import read_input
from support.shared import SHARED

CORPUS = SHARED / "corpus" / "envs"
FILES = sorted(p.name for p in CORPUS.iterdir()) if CORPUS.is_dir() else ["(corpus absent)"]

# Files that must fail, and the words their error has to contain.
EXPECTED_ERRORS = {
    "broadinstitute__gatk__scripts__gatkcondaenv.yml.template": "$tensorFlowDependency",
}


def read(corpus: Path, name: str, platform: str = "linux-64") -> EnvSpec:
    return read_input(corpus / name, platform=platform)


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("platform", ["linux-64", "linux-aarch64"])
def test_corpus_file_reads_or_fails_actionably(corpus_envs: Path, name: str, platform: str) -> None:
    if name in EXPECTED_ERRORS:
        with pytest.raises(InputError) as caught:
            read(corpus_envs, name, platform)
        error = caught.value
        assert EXPECTED_ERRORS[name] in error.message
        assert error.location is not None and error.location.line is not None
        assert error.location.column is not None
        assert error.fix
        assert "\n" not in error.one_line()
        return
    spec = read(corpus_envs, name, platform)
    assert spec.kind == "environment"
    assert spec.conda, "every corpus file asks for conda packages"
    # a file without channels (sleap's) leaves them to --default-channels, as conda
    assert spec.channels or name == "talmolab__sleap__environment.yml"
    for dependency in spec.conda:
        assert dependency.name == dependency.name.lower()
    for change in spec.changes:
        assert change.reason
        if change.code:
            assert change.code in {
                "S301",
                "S302",
                "S305",
                "R505",
                "R506",
                "R507",
                "R508",
                "R509",
                "R510",
                "R511",
                "R512",
            }


def test_missing_requirements_file_is_a_change_not_an_abort(corpus_envs: Path) -> None:
    spec = read(corpus_envs, "talmolab__flybody__environment.yml")
    [missing] = [c for c in spec.changes if c.code == "R512"]
    assert "requirements.txt does not exist" in missing.reason
    assert missing.location is not None and missing.location.line is not None
    assert {d.name for d in spec.conda} >= {"python", "pip"}


def test_windows_export(corpus_envs: Path) -> None:
    spec = read(corpus_envs, "IDEA-Research__GroundingDINO__environment.yaml")
    names = {d.name for d in spec.conda}
    assert not names & {"vc", "vc14_runtime", "vs2015_runtime", "ucrt", "pywin32", "win_inet_pton"}
    assert not any(n.startswith(("m2w64-", "msys2-")) for n in names)
    assert {"intel-openmp", "mkl", "pytorch", "numpy"} <= names
    assert any(c.code == "R506" for c in spec.changes)


def test_utf16_powershell_export_reads_like_the_utf8_original(corpus_envs: Path) -> None:
    utf8 = read(corpus_envs, "IDEA-Research__GroundingDINO__environment.yaml")
    utf16 = read(corpus_envs, "IDEA-Research__GroundingDINO__environment.powershell-utf16.yaml")

    def moved(location: SourceLocation | None) -> SourceLocation | None:
        return None if location is None else replace(location, file=utf16.source)

    assert utf16.conda == tuple(replace(d, location=moved(d.location)) for d in utf8.conda)
    assert utf16.pip == tuple(replace(r, location=moved(r.location)) for r in utf8.pip)
    assert utf16.changes[0].action == "decoded"
    assert "UTF-16 LE" in utf16.changes[0].reason and "CRLF" in utf16.changes[0].reason
    assert [replace(c, location=None) for c in utf16.changes[1:]] == [
        replace(c, location=None) for c in utf8.changes
    ]


def test_macos_export_drops_libcxx(corpus_envs: Path) -> None:
    spec = read(corpus_envs, "DIVA-DIA__DeepDIVA__environment_mac.yml")
    assert "libcxx" not in {d.name for d in spec.conda}
    assert "intel-openmp" in {d.name for d in spec.conda}


def test_python_tuple_channels(corpus_envs: Path) -> None:
    spec = read(
        corpus_envs,
        "microsoft__CNTK__Scripts__install__linux__conda-linux-cntk-py27-environment.yml",
    )
    assert spec.channels == ("defaults", "conda-forge")


def test_spec_forms_from_real_files(corpus_envs: Path) -> None:
    def spec_of(name: str, package: str) -> str:
        spec = read(corpus_envs, name)
        return next(d.matchspec for d in spec.conda if d.name == package)

    assert spec_of("NVlabs__stylegan3__environment.yml", "python") == "python >=3.8"
    assert (
        spec_of(
            "snakemake__snakemake-wrappers__bio__gatk__haplotypecaller__environment.yaml", "gatk4"
        )
        == "gatk4 4.6.1.0.*"
    )
    assert (
        spec_of("pangeo-data__pangeo-docker-images__pytorch-notebook__environment.yml", "pytorch")
        == "pytorch >=2.7.0 cuda12*"
    )
    assert (
        spec_of("rapidsai__cudf__conda__environments__cudf_dev_cuda10.1.yml", "pandoc")
        == "pandoc <=2.0.0"
    )
    assert (
        spec_of("DeepLabCut__DeepLabCut__conda-environments__DEEPLABCUT.yaml", "python")
        == "python 3.10.*"
    )
    assert (
        spec_of("talmolab__sleap__environment_mac.yml", "tensorflow")
        == "sleap-deps/label/dev::tensorflow ==2.9.2a0"
    )
    assert spec_of("aqlaboratory__openfold__environment.yml", "pyyaml") == "pyyaml ==5.4.1"


def test_duplicate_pandas_is_merged(corpus_envs: Path) -> None:
    spec = read(corpus_envs, "rapidsai__cudf__conda__environments__all_cuda-118_arch-x86_64.yaml")
    assert [d.matchspec for d in spec.conda if d.name == "pandas"] == ["pandas >=2.0,<2.2.3dev0"]
    assert any(c.action == "merged" and c.subject == "pandas" for c in spec.changes)
    assert spec.name == "all_cuda-118_arch-x86_64"


def test_selectors_and_platforms_key(corpus_envs: Path) -> None:
    spec = read(corpus_envs, "konstantinjdobler__nlp-research-template__environment.yml")
    assert spec.platforms == ("linux-64", "osx-arm64", "win-64")
    assert [d.matchspec for d in spec.conda if d.name == "pytorch-cuda"] == [
        "pytorch-nightly::pytorch-cuda 11.8.*"
    ]
    assert [c.code for c in spec.changes if c.code == "S305"] == ["S305"]


def test_pip_forms_from_real_files(corpus_envs: Path) -> None:
    mne = read(corpus_envs, "mne-tools__mne-python__environment.yml")
    assert mne.pip_options.other == ("--only-binary dipy",)
    assert "pyqt5" not in {r.name for r in mne.pip}

    diffdock = read(corpus_envs, "gcorso__DiffDock__environment.yml")
    assert [r.name for r in diffdock.pip].count("torch") == 1
    openfold = next(r for r in diffdock.pip if r.name == "openfold")
    assert (openfold.url, openfold.ref) == (
        "https://github.com/aqlaboratory/openfold.git",
        "4b41059694619831a7db195b7e0988fc4ff3a307",
    )
    assert diffdock.pip_options.find_links == (
        "https://pytorch-geometric.com/whl/torch-1.13.1+cu117.html",
    )

    invoke = read(
        corpus_envs, "invoke-ai__InvokeAI__environments-and-requirements__environment-mac.yml"
    )
    vcs = {r.name: r.ref for r in invoke.pip if r.kind == "vcs"}
    assert vcs == {
        "clip": "main",
        "k-diffusion": "mps",
        "clipseg": "relaxed-python-requirement",
        "gfpgan": "basicsr-1.4.2",
        "pypatchmatch": "0.1.5",
    }
    assert invoke.variables == (("PYTORCH_ENABLE_MPS_FALLBACK", "1"),)

    sleap = read(corpus_envs, "talmolab__sleap__environment_mac.yml")
    (editable,) = sleap.pip
    assert (editable.kind, editable.editable, editable.extras) == ("path", True, ("conda_dev",))
    assert editable.path == corpus_envs.absolute()
