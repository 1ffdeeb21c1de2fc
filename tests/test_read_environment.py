"""environment.yml in its real forms, read into an EnvSpec, and its one-line errors."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from conda2docker.errors import InputError, InputErrors, SourceLocation
from conda2docker.model import EnvSpec, ReaderChange
from conda2docker.read import parse_environment, read_environment

FIXTURES = Path(__file__).parent / "fixtures" / "envs"
SRC = Path("/work/env/environment.yml")


def read(text: str, platform: str = "linux-64") -> EnvSpec:
    return parse_environment(text.encode(), SRC, platform=platform)


def fails(text: str) -> InputError:
    with pytest.raises(InputError) as caught:
        read(text)
    error = caught.value
    assert error.location is not None and error.location.file == SRC
    assert error.fix
    assert "\n" not in error.one_line()
    return error


def at(error: InputError) -> tuple[int | None, int | None]:
    assert error.location is not None
    return error.location.line, error.location.column


def codes(spec: EnvSpec) -> list[tuple[str, str]]:
    return [(c.code, c.subject) for c in spec.changes]


def change(spec: EnvSpec, code: str, subject: str | None = None) -> ReaderChange:
    found = [c for c in spec.changes if c.code == code and subject in (None, c.subject)]
    assert len(found) == 1, spec.changes
    return found[0]


# -- the full form ------------------------------------------------------------------


def test_every_top_level_key() -> None:
    spec = read_environment(FIXTURES / "full.yml")
    assert spec.kind == "environment"
    assert spec.name == "full-example"
    assert spec.channels == ("conda-forge", "bioconda")
    assert [d.matchspec for d in spec.conda] == [
        "python 3.11.*",
        "numpy >=1.26,<2",
        "bioconda::samtools 1.20.*",
        "pip",
    ]
    assert [(r.name, r.specifier) for r in spec.pip] == [("requests", "==2.31.0")]
    assert spec.variables == (("OMP_NUM_THREADS", "1"), ("DATA_DIR", "/data"), ("DEBUG", "false"))
    assert spec.platforms == ("linux-64", "osx-arm64")
    prefix = change(spec, "R506")
    assert (prefix.action, prefix.subject) == (
        "ignored",
        "/home/alice/miniconda3/envs/full-example",
    )
    assert prefix.location == SourceLocation(FIXTURES / "full.yml", 17, 1)


def test_every_dependency_has_its_line_and_column() -> None:
    spec = read("name: x\ndependencies:\n  - numpy\n  -   scipy=1.11\n  - pip:\n    - rich\n")
    assert [(d.location.line, d.location.column) for d in spec.conda[:2]] == [(3, 5), (4, 7)]  # type: ignore[union-attr]
    assert spec.pip[0].location == SourceLocation(SRC, 6, 7)


def test_yaml_forms_flow_lists_unindented_lists_and_document_start() -> None:
    spec = read("---\nname: flow\nchannels: [conda-forge, bioconda]\ndependencies:\n- a\n- b >=1\n")
    assert spec.channels == ("conda-forge", "bioconda")
    assert [d.matchspec for d in spec.conda] == ["a", "b >=1"]


def test_python_tuple_tag_from_old_exports_is_accepted() -> None:
    spec = read(
        "name: x\nchannels: !!python/tuple\n- defaults\n# c\n- conda-forge\ndependencies:\n- a\n"
    )
    assert spec.channels == ("defaults", "conda-forge")
    (tag,) = [c for c in spec.changes if c.subject == "!!python/tuple"]
    assert tag.location == SourceLocation(SRC, 2, 11)


def test_variables_accept_scalars_and_keep_dollar_references() -> None:
    spec = read(
        "dependencies: [a]\nvariables:\n  A: 1\n  B: 2.5\n  C: true\n  D: $LD_LIBRARY_PATH:/x\n"
        "  E: ''\n  F: yes\n"
    )
    assert spec.variables == (
        ("A", "1"),
        ("B", "2.5"),
        ("C", "true"),
        ("D", "$LD_LIBRARY_PATH:/x"),
        ("E", ""),
        ("F", "yes"),  # YAML 1.2, as conda reads it: `yes` is text
    )


def test_no_channels_are_left_to_the_default_channels() -> None:
    # resolve appends --default-channels (C105), as conda uses its configured ones
    spec = read("name: x\ndependencies:\n- python=3.6\n")
    assert spec.channels == ()
    assert spec.changes == ()


def test_nodefaults_and_repeated_channels() -> None:
    spec = read("channels:\n- conda-forge\n- nodefaults\n- conda-forge\ndependencies: [a]\n")
    assert spec.channels == ("conda-forge", "nodefaults")  # the marker stays for resolve
    assert [(c.action, c.subject) for c in spec.changes] == [("merged", "conda-forge")]


def test_empty_dependencies_are_an_empty_environment() -> None:
    spec = read("name: x\ndependencies:\n  - pywin32  # [win]\n")
    assert (spec.conda, spec.pip) == ((), ())


def test_pip_is_added_when_a_pip_block_exists() -> None:
    spec = read("dependencies:\n- python\n- pip:\n  - rich\n")
    assert [d.name for d in spec.conda] == ["python", "pip"]
    assert change(spec, "R510", "pip").location == SourceLocation(SRC, 4, 5)


def test_several_pip_blocks_are_concatenated() -> None:
    spec = read("dependencies:\n- pip\n- pip:\n  - a\n- pip:\n  - b\n- pip:\n")
    assert [r.name for r in spec.pip] == ["a", "b"]


def test_unknown_keys_are_warnings_not_errors() -> None:
    spec = read_environment(FIXTURES / "unknown_keys.yml")
    assert codes(spec) == [("R507", "channel_priority"), ("R507", "category")]
    assert spec.changes[0].location == SourceLocation(FIXTURES / "unknown_keys.yml", 4, 1)


def test_pip_repositories_are_extra_index_urls() -> None:
    spec = read(
        "dependencies:\n- pip:\n  - a\npip-repositories:\n- https://u:${TOKEN}@pypi.example/simple\n"
    )
    assert spec.pip_options.extra_index_urls == ("https://u:${TOKEN}@pypi.example/simple",)


# -- exports --------------------------------------------------------------------------


def test_windows_export_drops_and_maps_platform_packages() -> None:
    spec = read_environment(FIXTURES / "export_windows.yml")
    names = [d.name for d in spec.conda]
    assert names == ["bzip2", "intel-openmp", "numpy", "python", "cxx-compiler", "pip"]
    dropped = {c.subject for c in spec.changes if c.code == "S301"}
    assert dropped == {
        "m2w64-toolchain",
        "m2w64-gcc-libs",
        "msys2-conda-epoch",
        "pywin32",
        "pywinpty",
        "ucrt",
        "vc",
        "vc14_runtime",
        "vs2015_runtime",
        "win_inet_pton",
        "wincertstore",
        "pypiwin32",
    }
    mapped = change(spec, "S302", "vs2019_win-64")
    assert mapped.detail == "cxx-compiler"
    assert [r.name for r in spec.pip] == ["pywin32-ctypes"]
    numpy = spec.conda[2]
    assert (numpy.version, numpy.build) == ("==1.26.0", "py311h0b4df5a_0")


def test_macos_export_drops_runtime_and_maps_compilers() -> None:
    spec = read_environment(FIXTURES / "export_macos.yml")
    assert [d.name for d in spec.conda] == [
        "c-compiler",
        "cxx-compiler",
        "fortran-compiler",
        "numpy",
        "python",
        "pip",
    ]
    assert {c.subject for c in spec.changes if c.code == "S301"} == {
        "appnope",
        "ld64_osx-64",
        "libcxx",
        "llvm-openmp",
        "pyobjc-core",
        "python.app",
        "tensorflow-metal",
    }
    assert {c.subject for c in spec.changes if c.code == "S302"} == {
        "clang_osx-64",
        "clangxx_osx-64",
        "gfortran_osx-64",
        "tensorflow-macos",
    }
    assert [(r.name, r.specifier) for r in spec.pip] == [("tensorflow", "==2.15.0")]


def test_ambiguous_macos_packages_stay_without_macos_evidence() -> None:
    spec = read_environment(FIXTURES / "from_history.yml")
    assert [d.name for d in spec.conda] == [
        "python",
        "pandas",
        "scikit-learn",
        "libcxx",
        "llvm-openmp",
    ]
    assert codes(spec) == [("R506", "/opt/conda/envs/analysis")]


def test_linux_cross_packages_map_to_the_target_arch() -> None:
    text = "channels: [conda-forge]\ndependencies:\n- gcc_linux-64=12.*\n- sysroot_linux-64==2.17\n- clang==16.0.6\n"
    assert [d.matchspec for d in read(text).conda] == [
        "gcc_linux-64 12.*",
        "sysroot_linux-64 ==2.17",
        "clang ==16.0.6",
    ]
    spec = read(text, platform="linux-aarch64")
    assert [d.matchspec for d in spec.conda] == [
        "gcc_linux-aarch64 12.*",
        "sysroot_linux-aarch64 ==2.17",
        "clang ==16.0.6",
    ]
    assert codes(spec) == [("S302", "gcc_linux-64"), ("S302", "sysroot_linux-64")]
    # each S302 points at the line that names the package (where the audit shows it)
    assert [c.location for c in spec.changes] == [SourceLocation(SRC, 3, 3), SourceLocation(SRC, 4, 3)]


# -- selectors and markers ----------------------------------------------------------------


def test_selectors_for_linux_64() -> None:
    spec = read_environment(FIXTURES / "selectors.yml")
    assert [d.name for d in spec.conda] == [
        "python",
        "numpy",
        "cudatoolkit",
        "libgomp",
        "tomli",
        "mystery",
        "pip",
    ]
    assert [r.name for r in spec.pip] == ["rich"]
    assert [s for c, s in codes(spec) if c == "S305"] == [
        "pywin32",
        "appnope",
        "gcc_linux-aarch64",
        "futures",
        "importlib-metadata",
        "pip:",
    ]
    unknown = change(spec, "R511")
    assert unknown.subject == "mystery"
    assert "cuda_compiler_version" in unknown.reason


def test_selectors_for_linux_aarch64() -> None:
    spec = read_environment(FIXTURES / "selectors.yml", platform="linux-aarch64")
    names = [d.name for d in spec.conda]
    assert "cudatoolkit" not in names
    assert "gcc_linux-aarch64" in names


def test_markers_are_evaluated_with_the_pinned_python() -> None:
    text = "dependencies:\n- python=3.10\n- pip:\n  - tomli; python_version < '3.11'\n  - x; python_version >= '3.11'\n"
    spec = read(text)
    assert [r.name for r in spec.pip] == ["tomli"]
    assert spec.pip[0].marker == 'python_version < "3.11"'
    assert "with python 3.10" in change(spec, "S305", "x").reason


# -- pip forms ------------------------------------------------------------------------


def test_pip_forms_fixture() -> None:
    spec = read_environment(FIXTURES / "pip_forms.yml")
    root = FIXTURES.absolute()
    by_raw = {r.raw.strip(): r for r in spec.pip}
    assert [r.name for r in spec.pip if r.kind == "registry"] == [
        "attrs",
        "packaging",
        "httpx",
        "black",
        "dipy",
        "uvloop",
    ]
    options = spec.pip_options
    assert options.index_url == "https://pypi.example.org/simple"
    assert options.extra_index_urls == ("https://download.pytorch.org/whl/cu121",)
    assert options.find_links == (str(root / "wheels"),)
    assert options.pre is True
    assert options.other == ("--only-binary dipy",)
    requests2 = by_raw["requests2 @ git+https://github.com/psf/requests.git@v2.31.0"]
    assert (requests2.kind, requests2.url, requests2.ref) == (
        "vcs",
        "https://github.com/psf/requests.git",
        "v2.31.0",
    )
    mono = next(r for r in spec.pip if r.name == "sub-pkg")
    assert (mono.url, mono.ref) == (
        "ssh://git@github.com/org/mono.git#subdirectory=python/sub",
        "a1b2c3d",
    )
    editable = [r for r in spec.pip if r.editable]
    assert [(r.path, r.extras) for r in editable] == [
        (root / "localpkg", ("dev",)),
        (root, ("test",)),
    ]
    assert by_raw["../vendor/thing-1.0.zip"].path == root.parent / "vendor" / "thing-1.0.zip"
    httpx = next(r for r in spec.pip if r.name == "httpx")
    assert httpx.location == SourceLocation((root / "reqs" / "base.txt"), 4, 1)
    assert httpx.extras == ("http2",)
    assert [c for c, _ in codes(spec)].count("R509") == 2
    assert {s for c, s in codes(spec) if c == "S305"} == {"pywin32", "tomli"}


def test_missing_requirements_file_is_a_change_at_the_r_line() -> None:
    spec = read_environment(FIXTURES / "pip_missing_include.yml")
    missing = change(spec, "R512")
    assert missing.location == SourceLocation(FIXTURES / "pip_missing_include.yml", 5, 9)
    assert "does-not-exist.txt does not exist" in missing.reason


def test_a_lock_needs_the_missing_requirements_file() -> None:
    from conda2docker.resolve import ResolveOptions, resolve

    spec = read_environment(FIXTURES / "pip_missing_include.yml")
    with pytest.raises(InputError) as caught:
        resolve(spec, ResolveOptions(offline=True))
    assert caught.value.location == SourceLocation(FIXTURES / "pip_missing_include.yml", 5, 9)
    assert "does-not-exist.txt does not exist" in caught.value.one_line()


ALL_WRONG = """\
name: broken
channels:
  - default
  - conda-forge
dependencies:
  - python=3.11
  - 42
  - numpy=1.26
  - pip:
    - somepkg=0.15.0
    - requests==2.31
    - $TOKEN
    - other==1.0; python_version >
"""


def test_every_problem_of_a_file_at_once(tmp_path: Path) -> None:
    path = tmp_path / "environment.yml"
    path.write_text(ALL_WRONG)
    with pytest.raises(InputErrors) as caught:
        read_environment(path)
    lines = caught.value.lines()
    assert [line.split(": ", 1)[0] for line in lines] == [
        f"{path}:3:5", f"{path}:7:5", f"{path}:10:7", f"{path}:12:7", f"{path}:13:7"]
    assert "fix: write `defaults`" in lines[0]
    assert "fix: write `somepkg==0.15.0`" in lines[2]
    assert all("; fix: " in line and "\n" not in line for line in lines)


def test_problems_stop_at_a_sane_limit(tmp_path: Path) -> None:
    from conda2docker.errors import MAX_PROBLEMS

    path = tmp_path / "environment.yml"
    path.write_text("dependencies:\n  - pip:\n" + "".join(f"    - p{i}=1\n" for i in range(80)))
    with pytest.raises(InputErrors) as caught:
        read_environment(path)
    lines = caught.value.lines()
    assert len(lines) == MAX_PROBLEMS + 1
    assert lines[-1] == f"... and {80 - MAX_PROBLEMS} more problem(s) not shown"


# -- templates ------------------------------------------------------------------------


def test_placeholder_name_is_a_warning() -> None:
    spec = read_environment(FIXTURES / "template.yml")
    assert spec.name is None
    warning = change(spec, "R505")
    assert warning.subject == "$condaEnvName"
    assert warning.location == SourceLocation(FIXTURES / "template.yml", 2, 7)


def test_placeholder_dependency_is_an_error_naming_it() -> None:
    with pytest.raises(InputError) as caught:
        read_environment(FIXTURES / "template_dependency.yml")
    error = caught.value
    assert "$tensorFlowDependency" in error.message
    assert error.fix is not None and "render" in error.fix
    assert error.location == SourceLocation(FIXTURES / "template_dependency.yml", 8, 7)


@pytest.mark.parametrize("entry", ["${PYTORCH}", "pytorch=${VERSION}", "{{ compiler('c') }}"])
def test_conda_placeholders_are_errors(entry: str) -> None:
    error = fails(f'dependencies:\n- "{entry}"\n')
    assert "placeholder" in error.message
    assert at(error) == (2, 3)


# -- encodings --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "reason"),
    [
        ("utf8_bom.yml", "read as UTF-8 with byte-order mark"),
        ("utf16le_bom_crlf.yml", "read as UTF-16 LE with byte-order mark, CRLF line endings"),
        ("utf16be_bom.yml", "read as UTF-16 BE with byte-order mark"),
        ("crlf.yml", "read as CRLF line endings"),
    ],
)
def test_encodings(fixture: str, reason: str) -> None:
    spec = read_environment(FIXTURES / fixture)
    (decoded,) = spec.changes
    assert (decoded.action, decoded.reason) == ("decoded", reason)
    assert [d.name for d in spec.conda][:1] == ["python"]
    assert spec.conda[0].location is not None and spec.conda[0].location.line == 5


# -- duplicates ---------------------------------------------------------------------------


def test_conflicting_conda_pins_are_an_error_naming_both_lines() -> None:
    error = fails("dependencies:\n- numpy=1.24\n- scipy\n- numpy=1.26\n")
    assert at(error) == (4, 3)
    assert "numpy" in error.message and "environment.yml:2" in error.message
    assert "no version satisfies both" in error.message


@pytest.mark.parametrize(
    ("first", "second", "why"),
    [
        ("bioconda::samtools", "conda-forge::samtools", "different channels"),
        ("numpy=1.26=py311_0", "numpy=1.26=py312_0", "different builds"),
        ("numpy>=2", "numpy<1.20", "no version satisfies both"),
    ],
)
def test_other_conda_conflicts(first: str, second: str, why: str) -> None:
    assert why in fails(f"dependencies:\n- {first}\n- {second}\n").message


def test_identical_duplicates_merge() -> None:
    spec = read("dependencies:\n- numpy=1.26\n- numpy=1.26\n")
    assert [d.matchspec for d in spec.conda] == ["numpy 1.26.*"]
    merged = [c for c in spec.changes if c.action == "merged"]
    assert [m.reason for m in merged] == ["listed 2 times with the same spec"]


@pytest.mark.parametrize(
    ("first", "second", "merged"),
    [
        ("pandas", "pandas>=2.0,<2.2.3dev0", "pandas >=2.0,<2.2.3dev0"),
        ("numpy>=1.20", "numpy<2", "numpy >=1.20,<2"),
        ("python=3.10", "python>=3.10.2", "python 3.10.*,>=3.10.2"),
        ("conda-forge::zlib", "zlib=1.3", "conda-forge::zlib 1.3.*"),
    ],
)
def test_compatible_duplicates_merge(first: str, second: str, merged: str) -> None:
    spec = read(f"dependencies:\n- {first}\n- {second}\n")
    assert [d.matchspec for d in spec.conda] == [merged]
    (change_,) = [c for c in spec.changes if c.action == "merged"]
    assert "compatible" in change_.reason


def test_pip_duplicates() -> None:
    spec = read(
        "dependencies:\n- pip:\n  - torch==1.13.1+cu117\n  - Torch==1.13.1+cu117\n  - rich>=13\n  - rich<14\n"
    )
    assert [(r.name, r.specifier) for r in spec.pip] == [
        ("torch", "==1.13.1+cu117"),
        ("rich", "<14,>=13"),
    ]
    with pytest.raises(InputError, match="no version satisfies both"):
        read("dependencies:\n- pip:\n  - a==1\n  - a==2\n")
    with pytest.raises(InputError, match="different sources"):
        read("dependencies:\n- pip:\n  - a @ https://x/a-1.zip\n  - git+https://x/a.git#egg=a\n")


# -- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "where", "problem"),
    [
        ("name: x\ndependencies:\n  - [a\n", (4, 1), "invalid YAML"),
        ("name: x\ndependencies:\n  - a\n bad: indent\n", (4, 2), "invalid YAML"),
        ("name: a\nname: b\ndependencies: [a]\n", (2, 1), "duplicate key"),
        ("dependencies:\n\t- a\n", (2, 1), "invalid YAML"),
        ("- a\n- b\n", (1, 1), "must be a mapping"),
        ("", (1, 1), "empty"),
        ("name: x\n", (1, 1), "no `dependencies:`"),
        ("dependencies: numpy\n", (1, 15), "`dependencies` must be a list, found text"),
        ("dependencies:\n  numpy: 1\n", (2, 3), "`dependencies` must be a list, found a mapping"),
        (
            "channels:\n  - {conda-forge: 1}\ndependencies: [a]\n",
            (2, 5),
            "a channel must be a name or URL",
        ),
        ("channels: conda-forge\ndependencies: [a]\n", (1, 11), "`channels` must be a list"),
        ("channels: [two words]\ndependencies: [a]\n", (1, 12), "contains spaces"),
        ("channels:\n  - https://[oops/channel\ndependencies: [a]\n", (2, 5), "is not a URL"),
        ("channels:\n  - https://ana:${CHANNEL_PASSWORD}@[oops/channel\ndependencies: [a]\n", (2, 5),
         "is not a URL"),
        ("channels:\n  - ftp://host/channel\ndependencies: [a]\n", (2, 5), "has scheme 'ftp'"),
        ("channels:\n  - -c\ndependencies: [a]\n", (2, 5), "invalid channel '-c'"),
        ("dependencies:\n  - 1.5\n", (2, 5), "found a number (1.5)"),
        ("dependencies:\n  -\n  - a\n", (2, 4), "found empty (null)"),
        ("dependencies:\n  - [a, b]\n", (2, 5), "found a list"),
        ("dependencies:\n  - numpy>>1\n", (2, 5), "invalid version"),
        ("dependencies:\n  - conda: [a]\n", (2, 5), "unknown section `conda:`"),
        ("dependencies:\n  - pip: rich\n", (2, 10), "`pip:` must be a list"),
        ("dependencies:\n  - pip:\n    - {a: 1}\n", (3, 7), "a pip requirement must be text"),
        ("dependencies:\n  - pip:\n    - nope!!\n", (3, 7), "cannot parse pip requirement"),
        ("dependencies: [a]\nvariables: [A]\n", (2, 12), "`variables` must be a mapping"),
        ("dependencies: [a]\nvariables:\n  A: [1]\n", (3, 3), "must have a text value"),
        ("dependencies: [a]\nvariables:\n  A:\n", (3, 3), "found empty (null)"),
        ("dependencies: [a]\nplatforms: [linux-65]\n", (2, 13), "unknown platform 'linux-65'"),
        ("dependencies: [a]\nplatforms: linux-64\n", (2, 12), "`platforms` must be a list"),
        ("dependencies: [a]\nname: [x]\n", (2, 7), "`name` must be text"),
        ("1: x\ndependencies: [a]\n", (1, 1), "top-level key 1 is not text"),
        ("dependencies: [a]\nx: !!int nope\n", (None, None), "invalid YAML"),
        ("dependencies:\n  - a\n  - caf\xe9 ok\n", (3, 5), "invalid package name"),
    ],
)
def test_errors_are_one_line_with_location_and_fix(
    text: str, where: tuple[int | None, int | None], problem: str
) -> None:
    error = fails(text)
    assert problem in error.message
    assert at(error) == where


def test_deeply_nested_yaml_is_an_input_error() -> None:
    error = fails("dependencies: " + "[" * 3000 + "]" * 3000 + "\n")
    assert "invalid YAML" in error.message


def test_cli_prints_the_error_as_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from conda2docker.cli import main

    env = tmp_path / "environment.yml"
    env.write_text("name: x\ndependencies:\n  - numpy=1.24\n  - numpy=1.26\n")
    assert main(["inspect", str(env)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"conda2docker: error: {env}:4:5: conflicting requirements for numpy")
    assert "; fix: " in err


def test_only_linux_targets_are_accepted() -> None:
    with pytest.raises(InputError, match="images are Linux"):
        read("dependencies: [a]\n", platform="osx-arm64")


def test_a_300_line_file_reads_in_milliseconds() -> None:
    lines = ["name: big", "channels: [conda-forge]", "dependencies:"]
    lines += [f"  - pkg{i}=1.{i}=h{i:06x}_0  # [linux]" for i in range(250)]
    lines += ["  - pip:"] + [f"    - pypkg{i}>={i}.0" for i in range(50)]
    data = "\n".join(lines).encode()
    parse_environment(data, SRC)  # imports and caches
    best = min(_timed(data) for _ in range(3))
    assert best < 0.25, f"reading 300 lines took {best:.3f}s"


def _timed(data: bytes) -> float:
    start = time.perf_counter()
    spec = parse_environment(data, SRC)
    elapsed = time.perf_counter() - start
    assert len(spec.conda) == 251 and len(spec.pip) == 50
    return elapsed
