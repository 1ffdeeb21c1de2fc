"""pip entries: options, requirement forms, includes, markers, and their errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conda2docker.errors import InputError, InputErrors, SourceLocation
from conda2docker.read.piplines import PipReader, logical_lines, parse_requirement

ROOT = Path("/project")
AT = SourceLocation(Path("/project/environment.yml"), 12, 9)


def parse(text: str, *, editable: bool = False):  # type: ignore[no-untyped-def]
    return parse_requirement(text, AT, ROOT, editable=editable)


def test_registry_requirement_with_extras_and_marker() -> None:
    requirement = parse("Black[jupyter,d]>=24.1; python_version >= '3.8'")
    assert requirement.kind == "registry"
    assert requirement.name == "black"
    assert requirement.specifier == ">=24.1"
    assert requirement.extras == ("d", "jupyter")
    assert requirement.marker == 'python_version >= "3.8"'
    assert requirement.location == AT


@pytest.mark.parametrize(
    ("text", "name", "url", "ref"),
    [
        (
            "git+https://github.com/psf/requests.git@v2.31.0#egg=requests2",
            "requests2",
            "https://github.com/psf/requests.git",
            "v2.31.0",
        ),
        (
            "git+https://github.com/openai/CLIP.git@main#egg=clip",
            "clip",
            "https://github.com/openai/CLIP.git",
            "main",
        ),
        (
            "git+https://github.com/Dao-AILab/flash-attention.git@5b838a8",
            None,
            "https://github.com/Dao-AILab/flash-attention.git",
            "5b838a8",
        ),
        ("git+https://github.com/dask/dask.git", None, "https://github.com/dask/dask.git", None),
        (
            "git+ssh://git@github.com/org/repo.git@v1#egg=pkg",
            "pkg",
            "ssh://git@github.com/org/repo.git",
            "v1",
        ),
        (
            "git+https://github.com/org/mono.git@abc#egg=sub&subdirectory=py/sub",
            "sub",
            "https://github.com/org/mono.git#subdirectory=py/sub",
            "abc",
        ),
        (
            "openfold @ git+https://github.com/aqlaboratory/openfold.git@4b41059",
            "openfold",
            "https://github.com/aqlaboratory/openfold.git",
            "4b41059",
        ),
        (
            "dllogger @ git+https://github.com/NVIDIA/dllogger.git",
            "dllogger",
            "https://github.com/NVIDIA/dllogger.git",
            None,
        ),
        (
            "hg+https://hg.example.org/repo@tip#egg=hgpkg",
            "hgpkg",
            "https://hg.example.org/repo",
            "tip",
        ),
    ],
)
def test_vcs_requirements_separate_url_ref_and_name(
    text: str, name: str | None, url: str, ref: str | None
) -> None:
    requirement = parse(text)
    assert requirement.kind == "vcs"
    assert (requirement.name, requirement.url, requirement.ref) == (name, url, ref)
    assert requirement.vcs == text.split(" @ ")[-1].split("+")[0]


def test_vcs_direct_reference_with_marker() -> None:
    requirement = parse("pkg @ git+https://x.org/pkg.git@v1 ; sys_platform == 'linux'")
    assert (requirement.name, requirement.ref) == ("pkg", "v1")
    assert requirement.marker == 'sys_platform == "linux"'


@pytest.mark.parametrize(
    ("text", "name", "url"),
    [
        (
            "https://github.com/TencentARC/GFPGAN/archive/refs/tags/v1.3.8.zip#egg=gfpgan",
            "gfpgan",
            "https://github.com/TencentARC/GFPGAN/archive/refs/tags/v1.3.8.zip",
        ),
        (
            "https://github.com/numpy/numpydoc/archive/master.zip",
            None,
            "https://github.com/numpy/numpydoc/archive/master.zip",
        ),
        (
            "https://files.example.org/six-1.16.0-py2.py3-none-any.whl#sha256=abc",
            "six",
            "https://files.example.org/six-1.16.0-py2.py3-none-any.whl#sha256=abc",
        ),
        (
            "mypkg @ https://example.org/mypkg-1.0.tar.gz",
            "mypkg",
            "https://example.org/mypkg-1.0.tar.gz",
        ),
    ],
)
def test_archive_urls(text: str, name: str | None, url: str) -> None:
    requirement = parse(text)
    assert (requirement.kind, requirement.name, requirement.url) == ("url", name, url)


@pytest.mark.parametrize(
    ("text", "path", "extras"),
    [
        (".", "/project", ()),
        ("./pkg", "/project/pkg", ()),
        ("../x.zip", "/x.zip", ()),
        ("ext/pytorch3d", "/project/ext/pytorch3d", ()),
        ("gatkPythonPackageArchive.zip", "/project/gatkPythonPackageArchive.zip", ()),
        (".[conda_dev]", "/project", ("conda_dev",)),
        ("./pkg[b,a]", "/project/pkg", ("a", "b")),
        (".\\win\\pkg", "/project/win/pkg", ()),
        ("/abs/pkg", "/abs/pkg", ()),
    ],
)
def test_local_paths_resolve_against_the_env_folder(
    text: str, path: str, extras: tuple[str, ...]
) -> None:
    requirement = parse(text)
    assert requirement.kind == "path"
    assert requirement.path == Path(path)
    assert requirement.extras == extras


def test_file_url_direct_reference_is_a_path() -> None:
    requirement = parse("pkg @ file:///srv/wheels/pkg")
    assert (requirement.kind, requirement.name, requirement.path) == (
        "path",
        "pkg",
        Path("/srv/wheels/pkg"),
    )


def test_path_with_marker_and_egg() -> None:
    requirement = parse("./tool#egg=tool ; sys_platform == 'linux'")
    assert (requirement.name, requirement.path) == ("tool", Path("/project/tool"))
    assert requirement.marker == 'sys_platform == "linux"'


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("numpy>>1", "cannot parse pip requirement"),
        ("git+github.com/x/y.git", "has no scheme"),
        ("git+https://x.org/y.git#egg=y==1.0", "invalid #egg= name"),
        ("pkg @ ", "cannot parse pip requirement"),
        ("./pkg ; nonsense", "invalid environment marker"),
    ],
)
def test_bad_requirements_are_input_errors(text: str, problem: str) -> None:
    with pytest.raises(InputError) as caught:
        parse(text)
    assert problem in caught.value.message
    assert caught.value.location == AT
    assert caught.value.fix


def test_editable_needs_a_path_or_vcs() -> None:
    with pytest.raises(InputError, match="not a local path or a VCS URL"):
        parse("requests", editable=True)
    with pytest.raises(InputError, match="cannot be installed editable"):
        parse("https://x.org/a.zip", editable=True)
    assert parse("git+https://x.org/a.git#egg=a", editable=True).editable


def reader(
    root: Path = ROOT, platform: str | None = "linux-64", python: str | None = None
) -> PipReader:
    return PipReader(root, platform, python)


def test_option_lines_fill_pip_options() -> None:
    pip = reader()
    for line in (
        "--index-url https://pypi.example.org/simple",
        "--extra-index-url=https://download.pytorch.org/whl/cu121",
        "-f ./wheels",
        "--find-links https://data.pyg.org/whl/torch-2.1.0+cu121.html",
        "--pre",
        "--trusted-host pypi.example.org",
        "--no-binary=:all:",
        "--frobnicate",
    ):
        pip.add_line(line, AT)
    options = pip.options
    assert options.index_url == "https://pypi.example.org/simple"
    assert options.extra_index_urls == ("https://download.pytorch.org/whl/cu121",)
    assert options.find_links == (
        "/project/wheels",
        "https://data.pyg.org/whl/torch-2.1.0+cu121.html",
    )
    assert options.pre is True
    assert options.other == ("--trusted-host pypi.example.org", "--no-binary :all:", "--frobnicate")
    assert [c.code for c in pip.changes] == ["R508", "R508", "R508"]
    assert "not a pip option" in pip.changes[-1].reason and "not used" in pip.changes[-1].reason
    assert pip.requirements == []


def test_per_line_options_are_kept_and_the_requirement_read() -> None:
    pip = reader()
    pip.add_line("dipy --only-binary dipy", AT)
    pip.add_line(f"httpx==0.27 --hash=sha256:{'AB' * 32} --hash sha256:{'cd' * 32}", AT)
    assert [r.name for r in pip.requirements] == ["dipy", "httpx"]
    assert pip.requirements[1].hashes == (f"sha256:{'ab' * 32}", f"sha256:{'cd' * 32}")
    assert pip.options.other == ("--only-binary dipy",)
    assert [(c.code, c.subject) for c in pip.changes] == [("R508", "--only-binary dipy")]
    with pytest.raises(InputError, match="invalid --hash 'sha256:00ff'"):
        pip.add_line("httpx==0.27 --hash=sha256:00ff", AT)


def test_editable_lines_are_recorded_as_r509() -> None:
    pip = reader()
    pip.add_line("-e .", AT)
    pip.add_line("--editable=.[conda_dev]", AT)
    pip.add_line("-e git+https://github.com/openai/CLIP.git@main#egg=clip", AT)
    assert [(r.kind, r.editable, r.name) for r in pip.requirements] == [
        ("path", True, None),
        ("path", True, None),
        ("vcs", True, "clip"),
    ]
    assert pip.requirements[1].extras == ("conda_dev",)
    assert [c.code for c in pip.changes] == ["R509", "R509", "R509"]


def test_markers_drop_requirements_for_other_platforms() -> None:
    pip = reader(python="3.11")
    pip.add_line("pywin32; sys_platform == 'win32'", AT)
    pip.add_line("uvloop; sys_platform != 'win32'", AT)
    pip.add_line("tomli; python_version < '3.11'", AT)
    assert [r.name for r in pip.requirements] == ["uvloop"]
    assert pip.requirements[0].marker == 'sys_platform != "win32"'
    assert [(c.code, c.subject) for c in pip.changes] == [("S305", "pywin32"), ("S305", "tomli")]


def test_without_a_platform_markers_are_only_kept() -> None:
    pip = reader(platform=None)
    pip.add_line("pywin32; sys_platform == 'win32'", AT)
    assert pip.requirements[0].marker == 'sys_platform == "win32"'


def test_comments_and_blank_entries_are_skipped() -> None:
    pip = reader()
    pip.add_line("   ", AT)
    pip.add_line("# just a comment", AT)
    pip.add_line("rich  # the console", AT)
    assert [r.name for r in pip.requirements] == ["rich"]


def test_placeholder_in_a_pip_entry_is_an_input_error() -> None:
    with pytest.raises(InputError) as caught:
        reader().add_line("$tensorFlowDependency", AT)
    assert "$tensorFlowDependency" in caught.value.message
    assert caught.value.fix is not None and "template" in caught.value.fix
    assert caught.value.location == AT


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("--index-url", "needs a value"),
        ("-r", "needs a value"),
        ("--pre numpy", "unexpected 'numpy'"),
        ("--index-url 'https://x", "balance the quotes"),
    ],
)
def test_bad_option_lines(line: str, problem: str) -> None:
    with pytest.raises(InputError) as caught:
        reader().add_line(line, AT)
    assert problem in caught.value.one_line()


def test_requirements_files_are_read_recursively(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "requirements.txt").write_text("-r sub/base.txt\nnumpy>=1.26\n")
    (tmp_path / "sub" / "base.txt").write_text(
        "# base\nattrs  # inline\n-r more.txt\nhttpx==0.27.0 \\\n    --hash=sha256:" + "00" * 32 + "\n"
    )
    (tmp_path / "sub" / "more.txt").write_text("./local/pkg\n")
    pip = reader(root=tmp_path)
    pip.add_line("-r requirements.txt", SourceLocation(tmp_path / "environment.yml", 9, 9))
    assert [(r.name, r.kind) for r in pip.requirements] == [
        ("attrs", "registry"),
        (None, "path"),
        ("httpx", "registry"),
        ("numpy", "registry"),
    ]
    # paths in included files resolve against the environment's folder, like pip's cwd
    assert pip.requirements[1].path == tmp_path / "local" / "pkg"
    httpx = pip.requirements[2]
    assert httpx.location == SourceLocation(tmp_path / "sub" / "base.txt", 4, 1)


def test_missing_requirements_file_is_a_change_at_the_line_that_includes_it(tmp_path: Path) -> None:
    at = SourceLocation(tmp_path / "environment.yml", 20, 7)
    pip = reader(root=tmp_path)
    pip.add_line("-r requirements.txt", at)
    pip.add_line("numpy==1.26.4", at)
    [missing] = pip.changes
    assert (missing.code, missing.location, missing.subject) == (
        "R512", at, str(tmp_path / "requirements.txt"))
    assert "does not exist" in missing.reason
    assert [r.name for r in pip.requirements] == ["numpy"]


def test_every_bad_line_of_a_requirements_file_at_once(tmp_path: Path) -> None:
    (tmp_path / "reqs.txt").write_text("somepkg=0.15.0\nnumpy==1.26\nbad pkg ===\n"
                                       "other[x]=2.0; python_version<'3.12'\n")
    with pytest.raises(InputErrors) as caught:
        reader(root=tmp_path).add_line("-r reqs.txt", SourceLocation(tmp_path / "e.yml", 1, 1))
    lines = caught.value.lines()
    assert len(lines) == 3
    assert lines[0].startswith(f"{tmp_path / 'reqs.txt'}:1:1: cannot parse pip requirement")
    assert "fix: write `somepkg==0.15.0`: pip pins a version with `==`" in lines[0]
    assert lines[1].startswith(f"{tmp_path / 'reqs.txt'}:3:1:")
    assert "fix: write `other[x]==2.0; python_version<'3.12'`" in lines[2]


def test_an_include_loop_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("-r b.txt\n")
    (tmp_path / "b.txt").write_text("-r a.txt\n")
    with pytest.raises(InputError, match=r"loop \(a.txt -> b.txt -> a.txt\)"):
        reader(root=tmp_path).add_line("-r a.txt", SourceLocation(tmp_path / "e.yml", 1, 1))


def test_an_error_inside_an_included_file_points_into_that_file(tmp_path: Path) -> None:
    (tmp_path / "r.txt").write_text("numpy\n\nnot a valid requirement!!\n")
    with pytest.raises(InputError) as caught:
        reader(root=tmp_path).add_line("-r r.txt", SourceLocation(tmp_path / "e.yml", 1, 1))
    assert caught.value.location == SourceLocation(tmp_path / "r.txt", 3, 1)


def test_logical_lines_join_continuations_and_strip_comments() -> None:
    text = "a \\\n  >=1  # c\n# only comment\n\n  b==2\n"
    assert logical_lines(text) == [(1, 1, "a   >=1"), (5, 3, "b==2")]


def test_index_urls_may_use_environment_variables() -> None:
    pip = reader()
    pip.add_line("--extra-index-url https://__token__:${TOKEN}@pypi.example/simple", AT)
    assert pip.options.extra_index_urls == ("https://__token__:${TOKEN}@pypi.example/simple",)
    with pytest.raises(InputError, match=r"placeholder \$\{PKG\}"):
        pip.add_line("-e ./${PKG}", AT)


# --------------------------------------------------------------------------- constraints (-c)


def test_constraints_files_are_read_relative_to_the_file_that_names_them(tmp_path: Path) -> None:
    (tmp_path / "ci").mkdir()
    (tmp_path / "requirements.txt").write_text("c2d-needs\n-c ci/constraints.txt\n")
    (tmp_path / "ci" / "constraints.txt").write_text(
        "c2d-pure==1.0  # what CI tested\n-r more.txt\nnumpy<2; sys_platform == 'linux'\n")
    (tmp_path / "ci" / "more.txt").write_text("scipy>=1.10\n")
    reader = PipReader(tmp_path)
    reader.read_file(tmp_path / "requirements.txt", SourceLocation(tmp_path / "environment.yml", 5))
    assert [r.name for r in reader.requirements] == ["c2d-needs"]
    constraints = reader.options.constraints
    assert [(c.name, c.specifier) for c in constraints] == [
        ("c2d-pure", "==1.0"), ("scipy", ">=1.10"), ("numpy", "<2")]
    assert constraints[0].location == SourceLocation(tmp_path / "ci" / "constraints.txt", 1, 1)
    assert constraints[2].marker == 'sys_platform == "linux"'
    assert not [c for c in reader.changes if c.code == "R508"]


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("black[d]==24.1", "not a package name with a version range"),
        ("git+https://example.org/x.git@v1#egg=x", "not a package name with a version range"),
        ("./local", "not a package name with a version range"),
        ("--index-url https://example.org/simple", "option --index-url in a constraints file"),
    ],
)
def test_what_pip_refuses_in_a_constraints_file_is_a_one_line_error(
    tmp_path: Path, line: str, needle: str
) -> None:
    (tmp_path / "constraints.txt").write_text(f"numpy<2\n{line}\n")
    reader = PipReader(tmp_path)
    with pytest.raises(InputError) as info:
        reader.add_line("-c constraints.txt", AT, tmp_path)
    assert needle in info.value.message
    assert info.value.location == SourceLocation(tmp_path / "constraints.txt", 2, 1)


def test_a_missing_constraints_file_names_the_c_line(tmp_path: Path) -> None:
    pip = PipReader(tmp_path)
    pip.add_line("--constraint=nope.txt", AT, tmp_path)
    [missing] = pip.changes
    assert missing.code == "R512" and "constraints file" in missing.reason
    assert missing.location == AT


@given(st.lists(st.sampled_from(["numpy==1.26.4", "requests>=2", "somepkg=0.15.0", "x[=1",
                                 "-e nonsense", "pandas", "--pre numpy"]), max_size=70))
def test_every_bad_line_is_reported_once_up_to_the_limit(lines: list[str]) -> None:
    from conda2docker.errors import MAX_PROBLEMS, Problems

    bad = {"somepkg=0.15.0", "x[=1", "-e nonsense", "--pre numpy"}
    pip = PipReader(Path("/p"))
    problems = Problems()
    for number, line in enumerate(lines, start=1):
        with problems.collect():
            pip.add_line(line, SourceLocation(Path("/p/environment.yml"), number, 7))
    expected = [n for n, line in enumerate(lines, start=1) if line in bad]
    assert problems.total == len(expected)
    assert [p.location.line for p in problems.found if p.location] == expected[:MAX_PROBLEMS]
    assert len(pip.requirements) == len(lines) - len(expected)
