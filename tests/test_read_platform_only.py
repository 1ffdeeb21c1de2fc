"""The platform-only table: what a Linux image drops or maps, and what it keeps."""

from __future__ import annotations

import pytest

from conda2docker.model import CondaDependency, PipRequirement
from conda2docker.read.platform_only import Origin, adapt_conda, adapt_pip, origin_evidence

NONE: frozenset[Origin] = frozenset()
BOTH: frozenset[Origin] = frozenset({"osx", "win"})
OSX: frozenset[Origin] = frozenset({"osx"})
WIN: frozenset[Origin] = frozenset({"win"})


def conda(name: str, **kw: str) -> CondaDependency:
    return CondaDependency(name=name, raw=f"{name}=1.0=h0", **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "name",
    [
        "vc",
        "vc14_runtime",
        "vs2015_runtime",
        "vs2017_runtime",
        "ucrt",
        "m2w64-toolchain",
        "m2w64-gcc-libs",
        "m2-base",
        "msys2-conda-epoch",
        "libwinpthread",
        "pthreads-win32",
        "pywin32",
        "pywinpty",
        "winpty",
        "win_inet_pton",
        "wincertstore",
        "appnope",
        "pyobjc-core",
        "pyobjc-framework-cocoa",
        "python.app",
        "ld64_osx-64",
        "cctools_osx-arm64",
        "libpython",
    ],
)
def test_dropped_everywhere(name: str) -> None:
    kept, change = adapt_conda(conda(name), "linux-64", NONE)
    assert kept is None
    assert change is not None and (change.code, change.action, change.subject) == (
        "S301",
        "dropped",
        name,
    )


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("vs2019_win-64", "cxx-compiler"),
        ("vs2022_win-64", "cxx-compiler"),
        ("clang_win-64", "c-compiler"),
        ("clang_osx-64", "c-compiler"),
        ("clang_osx-arm64", "c-compiler"),
        ("clangxx_osx-arm64", "cxx-compiler"),
        ("gfortran_osx-64", "fortran-compiler"),
    ],
)
def test_compiler_activations_map_to_linux_compilers(name: str, target: str) -> None:
    kept, change = adapt_conda(conda(name, channel="conda-forge"), "linux-64", NONE)
    assert kept is not None
    assert (kept.name, kept.version, kept.build, kept.channel) == (target, "", None, "conda-forge")
    assert change is not None and (change.code, change.action) == ("S302", "mapped")


@pytest.mark.parametrize(
    "name",
    ["intel-openmp", "mkl", "tbb", "clang", "clangdev", "libgcc", "_openmp_mutex", "menuinst",
     "gcc_linux-gnu"],  # "linux-gnu" is no conda platform: not another Linux arch's package
)
def test_linux_packages_are_kept(name: str) -> None:
    dependency = conda(name)
    assert adapt_conda(dependency, "linux-64", BOTH) == (dependency, None)


@pytest.mark.parametrize("name", ["libcxx", "libcxxabi", "llvm-openmp", "cctools", "ld64", "tapi"])
def test_macos_runtime_dropped_only_with_macos_evidence(name: str) -> None:
    dependency = conda(name)
    assert adapt_conda(dependency, "linux-64", NONE) == (dependency, None)
    assert adapt_conda(dependency, "linux-64", WIN) == (dependency, None)
    kept, change = adapt_conda(dependency, "linux-64", OSX)
    assert kept is None and change is not None and change.code == "S301"


def test_linux_cross_compilers_follow_the_target() -> None:
    assert adapt_conda(conda("gcc_linux-64"), "linux-64", NONE)[1] is None
    kept, change = adapt_conda(conda("gcc_linux-64"), "linux-ppc64le", NONE)
    assert kept is not None and kept.name == "gcc_linux-ppc64le"
    assert change is not None and (change.code, change.detail) == ("S302", "gcc_linux-ppc64le")
    kept, _ = adapt_conda(conda("nvcc_linux-aarch64"), "linux-64", NONE)
    assert kept is not None and kept.name == "nvcc_linux-64"


# conda's own Linux subdirs (conda.base.constants.PLATFORMS): an environment exported on any of
# them names its compilers' activation packages after it
@pytest.mark.parametrize(
    "subdir",
    [
        "linux-32",
        "linux-aarch64",
        "linux-ppc64le",
        "linux-ppc64",
        "linux-armv6l",
        "linux-armv7l",
        "linux-s390x",
        "linux-riscv64",
    ],
)
def test_an_export_from_every_other_linux_arch_gets_the_targets_compilers(subdir: str) -> None:
    for package in ("gcc", "gxx", "sysroot"):
        name = f"{package}_{subdir}"
        written = CondaDependency(
            name=name, version="12.*", channel="conda-forge", raw=f"conda-forge::{name}=12"
        )
        kept, change = adapt_conda(written, "linux-64", NONE)
        assert kept is not None
        assert kept.matchspec == f"conda-forge::{package}_linux-64 12.*"
        assert change is not None
        assert (change.code, change.action, change.subject, change.detail) == (
            "S302",
            "mapped",
            name,
            f"conda-forge::{package}_linux-64 12.*",
        )
        assert change.reason == (
            "built for another Linux architecture; the linux-64 counterpart is "
            f"{package}_linux-64"
        )


@pytest.mark.parametrize(
    ("names", "prefix", "file_name", "expected"),
    [
        (["numpy"], None, "environment.yml", set()),
        (["numpy", "appnope"], None, "environment.yml", {"osx"}),
        (["clang_osx-arm64"], None, "environment.yml", {"osx"}),
        (["numpy"], "/Users/me/miniconda3/envs/x", "environment.yml", {"osx"}),
        (["numpy"], None, "environment_mac.yml", {"osx"}),
        (["numpy"], None, "macrophage.yml", set()),
        (["vc"], None, "environment.yml", {"win"}),
        (["numpy"], "C:\\Users\\me\\envs\\x", "environment.yml", {"win"}),
        (["numpy"], None, "env-win-cuda.yml", {"win"}),
        (["numpy"], None, "winni2k_env.yml", set()),
        # every prefix a macOS or Windows export records: Homebrew's, an app bundle's, a drive
        # letter, a network share
        (["numpy"], "/opt/homebrew/Caskroom/miniforge/base/envs/x", "environment.yml", {"osx"}),
        (["numpy"], "/Applications/anaconda3/envs/x", "environment.yml", {"osx"}),
        (["numpy"], "D:\\envs\\x", "environment.yml", {"win"}),
        (["numpy"], "C:\\", "environment.yml", {"win"}),
        (["numpy"], "\\\\labserver\\conda\\envs\\x", "environment.yml", {"win"}),
        (["numpy"], "/home/me/miniconda3/envs/x", "environment.yml", set()),
        (["numpy"], "/opt/conda/envs/x", "environment.yml", set()),
        # every word of a file name that says where it was written
        (["numpy"], None, "environment-macos.yml", {"osx"}),
        (["numpy"], None, "env_osx_arm64.yml", {"osx"}),
        (["numpy"], None, "darwin-env.yml", {"osx"}),
        (["numpy"], None, "apple-silicon.yml", {"osx"}),
        (["numpy"], None, "environment_windows.yml", {"win"}),
        (["numpy"], None, "env-win64.yml", {"win"}),
        (["numpy"], None, "env-win32-py38.yml", {"win"}),
        (["numpy"], None, "Environment-MacOS.yml", {"osx"}),
    ],
)
def test_origin_evidence(
    names: list[str], prefix: str | None, file_name: str, expected: set[str]
) -> None:
    assert origin_evidence(names, prefix, file_name) == expected


def test_pip_table() -> None:
    def pip(name: str, marker: str | None = None) -> PipRequirement:
        return PipRequirement(kind="registry", raw=name, name=name, specifier="==1", marker=marker)

    assert adapt_pip(pip("pywin32"), "linux-64")[0] is None
    assert adapt_pip(pip("pyobjc-framework-quartz"), "linux-64")[0] is None
    mapped, change = adapt_pip(pip("tensorflow-macos"), "linux-64")
    assert mapped is not None and (mapped.name, mapped.specifier) == ("tensorflow", "==1")
    assert change is not None and (change.code, change.detail) == ("S302", "tensorflow==1")
    with_marker = pip("pywin32", 'python_version > "3"')
    assert adapt_pip(with_marker, "linux-64") == (with_marker, None)
    assert adapt_pip(pip("pywin32-ctypes"), "linux-64")[1] is None
