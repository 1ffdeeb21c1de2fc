"""The GPU (G401/G402/G404/G405/G407) and system (S301-S305/S307) audit rules at their edges.

A finding is read by a person (message, fix, evidence) and by an editor or CI annotation
(location, platform). These tests pin those fields where the trigger/clean pairs of
tests/fixtures/audit/cases.py do not look: the second source of a finding (the lock or the
file, the resolver's change or the locked file), the deciding CUDA among several, a CUDA known
only by its major release (issue 16, mutation testing).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conda2docker.audit import audit
from conda2docker.cuda import facts
from conda2docker.errors import SourceLocation
from conda2docker.model import Finding, LockedPackage, ReaderChange
from conda2docker.read import read_input
from fixtures.audit.cases import (
    BASE,
    CUDA_LOCK,
    ENV,
    PLATFORM,
    cpkg,
    ctx,
    dep,
    lock,
    ppkg,
    req,
    spec,
)

LOCK_AT = SourceLocation(Path("/project/conda-lock.yml"))
TORCH_CPU_WHEEL = ("https://download.pytorch.org/whl/cpu/"
                   "torch-2.1.0%2Bcpu-cp311-cp311-linux_x86_64.whl")


def where(finding: Finding) -> tuple[Path, int | None] | None:
    return (finding.location.file, finding.location.line) if finding.location else None


# -- G401: CUDA packages ---------------------------------------------------------------------


def test_cuda_packages_are_counted_and_listed_under_one_cuda_finding() -> None:
    (finding,) = audit(ctx(spec(), CUDA_LOCK), select=["G401"])
    assert finding.subject == "cuda"
    assert finding.message == "2 CUDA package(s): a GPU variant of the image will be generated"
    assert finding.evidence == ("cudatoolkit 11.8.0 h4ba93d1_13",
                                "pytorch 2.1.0 cuda118py311h3b8d1c1_300")


# -- G402: the driver the CUDA needs ---------------------------------------------------------


def test_one_cuda_version_names_its_driver_and_the_minor_compatibility_driver() -> None:
    env = spec(conda=(dep("python", "3.11"), dep("pytorch", "2.1"), dep("pytorch-cuda", "11.8")))
    (finding,) = audit(ctx(env), select=["G402"])
    assert finding.subject == "11.8"
    assert finding.message == "CUDA 11.8 needs an NVIDIA driver >= 520.61.05 on the host"
    assert finding.fix == ("use GPU hosts with driver >= 520.61.05 (>= 450.80.02 works through "
                           "CUDA minor-version compatibility for most libraries), or pin an older CUDA")
    # one version: no note about several
    assert finding.evidence == ("CUDA 11.8 from pytorch-cuda=11.8",)


def test_a_cuda_before_minor_compatibility_needs_its_own_driver_in_the_fix_too() -> None:
    """Minor-version compatibility starts with CUDA 11: for CUDA 10.2 the fix names the
    release's own driver, not a made-up or empty one."""
    (finding,) = audit(ctx(spec(conda=(dep("cudatoolkit", "10.2"),))), select=["G402"])
    driver = facts.min_driver((10, 2))
    assert finding.message == f"CUDA 10.2 needs an NVIDIA driver >= {driver} on the host"
    assert finding.fix == (f"use GPU hosts with driver >= {driver} (>= {driver} works through "
                           "CUDA minor-version compatibility for most libraries), or pin an older CUDA")


def test_the_locks_cuda_version_decides_over_a_higher_cuda_and_both_are_shown() -> None:
    """Two CUDA versions in a lock: its cuda-version (11.8) decides, not the highest (12.1);
    the evidence lists the deciding one first and says that several are named."""
    locked = lock(*BASE, cpkg("cuda-version", "11.8"), cpkg("cudatoolkit", "12.1.0"))
    (finding,) = audit(ctx(spec(), locked), select=["G402"])
    assert finding.subject == "11.8"
    assert finding.evidence == (
        "CUDA 11.8 from cuda-version 11.8 h0_0",
        "CUDA 12.1 from cudatoolkit 12.1.0 h0_0",
        "several CUDA versions are named; the lock's cuda-version, else the highest, decides",
    )


def test_without_a_lock_the_highest_of_several_cuda_versions_decides() -> None:
    env = spec(conda=(dep("cudatoolkit", "11.8", line=4), dep("pytorch-cuda", "12.1", line=5)))
    (finding,) = audit(ctx(env), select=["G402"])
    assert finding.message == "CUDA 12.1 needs an NVIDIA driver >= 530.30.02 on the host"
    assert finding.evidence[:2] == ("CUDA 12.1 from pytorch-cuda=12.1", "CUDA 11.8 from cudatoolkit=11.8")


def test_a_cuda_named_only_by_its_major_release_still_names_a_driver() -> None:
    """cupy-cuda12x and nvidia-cublas-cu12 name CUDA 12 but no minor release: the driver is
    that of the newest 12.x, and the evidence gives every reason it was read from."""
    env = spec(pip=(req("cupy-cuda12x==13.1.0", name="cupy-cuda12x", specifier="==13.1.0", line=8),
                    req("nvidia-cublas-cu12==12.1.3.1", name="nvidia-cublas-cu12",
                        specifier="==12.1.3.1", line=9)))
    (finding,) = audit(ctx(env), select=["G402"])
    version = finding.subject
    assert version.startswith("12.")
    assert finding.message == (f"CUDA {version} needs an NVIDIA driver >= "
                               f"{facts.min_driver((12, int(version.split('.')[1])))} on the host")
    assert finding.evidence == (
        f"CUDA {version} from cupy-cuda12x==13.1.0 is a CUDA 12 wheel; "
        "nvidia-cublas-cu12==12.1.3.1 is a CUDA 12 wheel",)


# -- G404: a CPU build in a GPU environment --------------------------------------------------


def test_a_locked_cpu_build_is_reported_at_the_lock_for_its_platform() -> None:
    locked = lock(*BASE, cpkg("pytorch-cuda", "11.8", "h7e8668a_5"),
                  cpkg("pytorch", "2.1.0", "cpu_mkl_py311h6c8e3f4_100"))
    (finding,) = audit(ctx(spec(), locked), select=["G404"])
    assert finding.message == "pytorch is a CPU-only build, but the environment asks for CUDA"
    assert finding.evidence == ("2.1.0 cpu_mkl_py311h6c8e3f4_100",)
    assert finding.location == LOCK_AT
    assert finding.platform == PLATFORM


def test_a_locked_cpu_wheel_is_known_by_its_version_and_shown_without_a_build() -> None:
    """A pip package has no build string: torch 2.1.0+cpu is a CPU build by its local
    version, and the evidence is the version alone."""
    locked = lock(*BASE, ppkg("torch", "2.1.0+cpu", TORCH_CPU_WHEEL))
    (finding,) = audit(ctx(spec(), locked, gpu=True), select=["G404"])
    assert finding.subject == "torch"
    assert finding.evidence == ("2.1.0+cpu",)
    assert finding.location == LOCK_AT
    assert finding.platform == PLATFORM


def test_a_cpu_build_written_in_the_file_is_reported_at_its_line_as_written() -> None:
    """Before a lock, the line as the user wrote it is the evidence (``=`` pins, not the
    MatchSpec's spaces), and the finding points at it."""
    env = spec(channels=("pytorch", "nvidia"),
               conda=(dep("pytorch", "2.1", "py3.10_cpu_0", line=6),
                      dep("pytorch-cuda", "11.8", line=7)))
    (finding,) = audit(ctx(env), select=["G404"])
    assert finding.subject == "pytorch"
    assert finding.evidence == ("pytorch=2.1=py3.10_cpu_0",)
    assert where(finding) == (ENV, 6)


def test_a_cpu_local_version_in_the_conda_section_is_a_cpu_build_too() -> None:
    env = spec(conda=(dep("pytorch", "2.1.0+cpu", line=6), dep("pytorch-cuda", "11.8", line=7)))
    (finding,) = audit(ctx(env), select=["G404"])
    assert (finding.subject, where(finding)) == ("pytorch", (ENV, 6))


@pytest.mark.parametrize("version", ["2.1.0+cpu", "2.1.0+cpu.cxx11.abi"])
def test_a_cpu_wheel_pinned_in_the_pip_section_is_reported_at_its_line(version: str) -> None:
    """torch==2.1.0+cpu, and the cxx11-ABI CPU wheels (+cpu.cxx11.abi) of the same index,
    are CPU builds beside pytorch-cuda."""
    env = spec(conda=(dep("python", "3.11", line=4), dep("pytorch-cuda", "11.8", line=5)),
               pip=(req(f"torch=={version}", name="torch", specifier=f"=={version}", line=8),
                    req("torchvision==0.16.0+cu118", name="torchvision",
                        specifier="==0.16.0+cu118", line=9)))
    (finding,) = audit(ctx(env), select=["G404"])
    assert finding.subject == "torch"
    assert finding.evidence == (f"torch=={version}",)
    assert where(finding) == (ENV, 8)


@pytest.mark.parametrize(("version", "cpu"), [
    ("2.1.0+cpu", True), ("2.1.0+cpu.cxx11.abi", True), ("2.1.0+cu118", False),
    ("2.1.0", False), ("2.1.0+rocm5.6", False),
])
def test_a_cpu_build_is_told_by_the_first_part_of_the_local_version(version: str, cpu: bool) -> None:
    assert facts.is_cpu_build("torch", None, version) is cpu


# -- G405: which CUDA was read ---------------------------------------------------------------


def test_the_cuda_read_from_the_file_points_at_the_first_line_naming_a_version() -> None:
    """tensorflow-gpu names no CUDA; cudatoolkit=11.2 does: the finding points at the latter
    and lists every signal it was read from."""
    env = spec(conda=(dep("tensorflow-gpu", "2.5", line=5), dep("cudatoolkit", "11.2", line=6)))
    (finding,) = audit(ctx(env), select=["G405"])
    assert finding.message == "a GPU environment for CUDA 11.2"
    assert where(finding) == (ENV, 6)
    assert finding.evidence == ("tensorflow-gpu=2.5 is a GPU package",
                                "cudatoolkit=11.2 pins CUDA 11.2")


# -- G407: no published image for the CUDA ---------------------------------------------------


def test_a_cuda_without_a_published_image_says_which_image_is_used_instead() -> None:
    from conda2docker.cuda import images

    env = spec(conda=(dep("python", "3.11"), dep("cuda-version", "12.7")),
               pip=(req("flash-attn==2.5.6", name="flash-attn", specifier="==2.5.6"),))
    (finding,) = audit(ctx(env), select=["G407"])
    choice = images.choose_image("12.7", "devel")
    assert not choice.exact and choice.reason
    assert finding.message == f"no nvidia/cuda image is published for CUDA 12.7: {choice.reason}"
    assert finding.evidence == (choice.image, images.table_source())
    assert "devel" in choice.image


# -- S301 / S302 / S305: what the reader left out or replaced for Linux ----------------------


def test_what_a_windows_export_loses_on_linux_is_reported_with_the_readers_reason(
        tmp_path: Path) -> None:
    """A Windows export read for linux-64: the dropped package (S301) and the package left out
    by its marker (S305) say why in the message, the replaced compiler package (S302) names
    what replaces it; each keeps what the reader did and the line as written as evidence, and
    points at its line."""
    env_file = tmp_path / "environment.yml"
    env_file.write_text("name: lab\nchannels: [conda-forge]\ndependencies:\n  - python=3.11\n"
                        "  - pywin32=306\n  - vs2019_win-64=19.29.30139\n  - pip\n  - pip:\n"
                        '    - colorama==0.4.6; sys_platform == "win32"\n')
    found = audit(ctx(read_input(env_file)), select=["S301", "S302", "S305"])
    assert [(f.code, f.subject, f.message, f.evidence, f.location.line)  # type: ignore[union-attr]
            for f in found] == [
        ("S301", "pywin32",
         "pywin32 was dropped: a Windows-only package; not installable on linux-64",
         ("dropped: a Windows-only package; not installable on linux-64", "pywin32=306"), 5),
        ("S302", "vs2019_win-64", "vs2019_win-64 was replaced for Linux: cxx-compiler",
         ("mapped: the compiler activation package of another OS; this is its Linux "
          "counterpart: cxx-compiler (version and build of the original dropped)",
          "cxx-compiler"), 6),
        ("S305", "colorama",
         'colorama was left out for this platform: marker `sys_platform == "win32"` is false '
         "on linux-64 with python 3.11",
         ('dropped: marker `sys_platform == "win32"` is false on linux-64 with python 3.11',
          'colorama==0.4.6; sys_platform == "win32"'), 9),
    ]


def test_pip_requirements_a_linux_image_cannot_install_point_at_their_lines(
        tmp_path: Path) -> None:
    """The pip table of the reader: a macOS export's tensorflow-macos is replaced by
    tensorflow with the same pin (S302), tensorflow-metal and a Windows pywin32 are dropped
    (S301); each finding points at its pip line and keeps the requirement (as written, or
    as it is installed instead) as evidence, so the user sees which line changed and how."""
    env_file = tmp_path / "environment.yml"
    env_file.write_text("name: tf\nchannels: [conda-forge]\ndependencies:\n  - python=3.11\n"
                        "  - pip\n  - pip:\n    - tensorflow-macos==2.13.0\n"
                        "    - tensorflow-metal==1.0.1\n    - pywin32==306\n")
    found = audit(ctx(read_input(env_file)), select=["S301", "S302"])
    assert [(f.code, f.subject, f.message, f.evidence, where(f)) for f in found] == [
        ("S301", "pywin32",
         "pywin32 was dropped: a Windows-only package; not installable on linux-64",
         ("dropped: a Windows-only package; not installable on linux-64", "pywin32==306"),
         (env_file, 9)),
        ("S301", "tensorflow-metal",
         "tensorflow-metal was dropped: Apple's Metal plugin for TensorFlow (macOS only); "
         "not installable on linux-64",
         ("dropped: Apple's Metal plugin for TensorFlow (macOS only); not installable on "
          "linux-64", "tensorflow-metal==1.0.1"),
         (env_file, 8)),
        ("S302", "tensorflow-macos", "tensorflow-macos was replaced for Linux: tensorflow==2.13.0",
         ("mapped: Apple's macOS build of TensorFlow; Linux uses the regular package: "
          "tensorflow", "tensorflow==2.13.0"),
         (env_file, 7)),
    ]


# -- S303: wheels that load libraries from the system ----------------------------------------


def test_each_wheel_missing_system_libraries_names_them_and_the_apt_packages_to_add() -> None:
    """S303 with a lock, on a base image that has libgomp1 (as buildpack-deps has): lightgbm
    needs nothing more, and the packages after it are still checked. Each finding names the
    libraries that fail to load, the apt packages to add (evidence and fix), the package swap
    that avoids them where there is one, and points at the lock."""
    locked = lock(*BASE, ppkg("lightgbm", "4.3.0"), ppkg("opencv-python", "4.9.0.80"),
                  ppkg("pyaudio", "0.2.14"))
    found = audit(ctx(spec(), locked, base_apt_packages=frozenset({"libgomp1"})),
                  select=["S303"])
    assert [(f.subject, f.message, f.fix, f.evidence, f.location) for f in found] == [
        ("opencv-python",
         "opencv-python needs system libraries the base image lacks: libGL.so.1, "
         "libgthread-2.0.so.0",
         "use opencv-python-headless, or add apt package(s) libgl1 libglib2.0-0 to the "
         "runtime stage",
         ("apt: libgl1 libglib2.0-0",), LOCK_AT),
        ("pyaudio", "pyaudio needs system libraries the base image lacks: libportaudio.so.2",
         "add apt package(s) libportaudio2 to the runtime stage", ("apt: libportaudio2",),
         LOCK_AT),
    ]


def test_a_wheel_missing_system_libraries_is_reported_at_its_pip_line_without_a_lock() -> None:
    env = spec(pip=(req("opencv-python==4.9.0.80", line=9, name="opencv-python",
                        specifier="==4.9.0.80"),))
    (finding,) = audit(ctx(env), select=["S303"])
    assert (finding.subject, where(finding)) == ("opencv-python", (ENV, 9))


# -- S304: glibc newer than the base image's -------------------------------------------------


def _glibc_change(subject: str, reason: str, line: int = 9) -> ReaderChange:
    return ReaderChange("relaxed", subject, reason, "S304", "1.0: glibc 2.39",
                        SourceLocation(ENV, line, 7))


def test_a_wheel_the_resolver_skipped_for_glibc_names_the_glibc_it_needs_at_its_line() -> None:
    """The resolver's change (resolve/pip/resolver.py) says which glibc the newer wheels
    need; the finding puts it in the message, beside the base image's."""
    reason = ("fastlib 1.0 has wheels only for glibc >= 2.39 (manylinux) but the base image "
              "has glibc 2.36; 0.9 (wheel) chosen instead")
    env = spec(changes=(_glibc_change("fastlib", reason),))
    (finding,) = audit(ctx(env, glibc="2.36"), select=["S304"])
    assert finding.message == "fastlib needs glibc 2.39, the base image has 2.36"
    assert finding.fix == ("use a base image with glibc >= 2.39, or pin an older fastlib built "
                           "for glibc 2.36")
    assert finding.evidence == (f"relaxed: {reason}", "1.0: glibc 2.39")
    assert where(finding) == (ENV, 9)


def test_a_glibc_change_without_a_version_says_a_newer_glibc() -> None:
    env = spec(changes=(_glibc_change("fastlib", "its wheels need a newer C library"),))
    (finding,) = audit(ctx(env, glibc="2.28"), select=["S304"])
    assert finding.message == "fastlib needs glibc a newer glibc, the base image has 2.28"


@pytest.mark.parametrize(("package", "evidence"), [
    (ppkg("fastlib", "2.0", "https://files.example.org/p/"
          "fastlib-2.0-cp311-cp311-manylinux_2_39_x86_64.whl"),
     "fastlib-2.0-cp311-cp311-manylinux_2_39_x86_64.whl"),
    (cpkg("fastlib", "2.0", deps={"__glibc": ">=2.39,<3.0.a0"}), "depends: __glibc >=2.39,<3.0.a0"),
])
def test_a_locked_package_for_a_newer_glibc_is_reported_at_the_lock(
        package: LockedPackage, evidence: str) -> None:
    (finding,) = audit(ctx(spec(), lock(*BASE, package), glibc="2.36"), select=["S304"])
    assert finding.message == "fastlib needs glibc 2.39, the base image has 2.36"
    assert finding.evidence == (evidence,)
    assert finding.location == LOCK_AT
    assert finding.platform == PLATFORM


# -- S307: a service without its client library ----------------------------------------------


def test_a_service_without_a_client_in_the_lock_is_reported_at_the_lock() -> None:
    (finding,) = audit(ctx(spec(), lock(*BASE, ppkg("six", "1.16.0")), services=("postgres",)),
                       select=["S307"])
    assert finding.subject == "postgres"
    assert finding.location == LOCK_AT
    assert finding.fix == "add psycopg to the environment (conda-forge and PyPI both have it)"
    assert finding.message == ("postgres runs beside the environment, which has no client "
                               "library for it (psycopg, psycopg2, psycopg2-binary, "
                               "psycopg-binary, asyncpg, pg8000)")
