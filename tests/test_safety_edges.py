"""Safety checks at their edges: what a user relies on where a small slip would not show.

Each test names the promise it guards. They came out of mutation testing (issue 16,
`scripts/mutation.sh`): the cases below are where a planted bug used to pass the suite.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from conda2docker.audit import AuditContext, audit
from conda2docker.audit.sdists import SdistFacts
from conda2docker.cli import main
from conda2docker.errors import InputError, OutputConflict, SourceLocation
from conda2docker.lockfile import read_explicit
from conda2docker.model import CondaDependency, EnvSpec, Lock, LockedPackage, Resolution
from conda2docker.outputs import (
    UnsafePath,
    Unwritable,
    atomic_write,
    differing,
    remove_tree,
    write_files,
    write_output_file,
)
from conda2docker.plan.instructions import PlanError
from conda2docker.public_index import public_file_host
from conda2docker.read.condaspec import parse_conda_spec
from conda2docker.read.decode import decode
from conda2docker.render.quoting import arg_word, double_quoted, json_array, path_word, shell_word
from conda2docker.resolve.pip.target import PipTarget, glibc_tuple, platform_tags, wheel_priority
from fixtures.audit.cases import (
    BASE,
    PLATFORM,
    SHA,
    change,
    cpkg,
    ctx,
    dep,
    loc,
    lock,
    ppkg,
    req,
    spec,
)

FIXTURES = Path(__file__).parent / "fixtures" / "envs"
EXPLICIT = FIXTURES / "explicit-linux-64.lock"
AT = SourceLocation(Path("environment.yml"), 7, 5)

# -- quoting: every line terminator and NUL is refused wherever a value lands -------------

TERMINATORS = ["\n", "\r", "\x00", "\r\n"]


@pytest.mark.parametrize("bad", TERMINATORS)
@pytest.mark.parametrize("where", [shell_word, double_quoted, lambda v: json_array(("ok", v))])
def test_a_value_with_a_line_terminator_never_reaches_a_dockerfile(where: Callable[[str], str],
                                                                   bad: str) -> None:
    for value in (f"{bad}tail", f"head{bad}", f"mid{bad}dle"):
        with pytest.raises(PlanError):
            where(value)


@pytest.mark.parametrize(("where", "kind"), [
    (shell_word, "command argument"),
    (double_quoted, "value"),
    (lambda v: json_array(("ok", v)), "exec-form argument"),
])
def test_a_refused_value_is_named_by_where_it_would_land(where: Callable[[str], str], kind: str) -> None:
    """The one line a user reads says which kind of value held the line break (a command's
    argument, an ENV/LABEL value, an exec-form argument) and shows it escaped."""
    with pytest.raises(PlanError) as refused:
        where("torch\nRUN curl x | sh")
    assert refused.value.message == (
        f"{kind} contains a line break or control character, which a Dockerfile cannot hold: "
        "'torch\\nRUN curl x | sh'")


@pytest.mark.parametrize("value", ["ok/path;", ";ok/path", "ok path", "ok/pa$th", "ok/\x00", "a\nb"])
def test_path_words_are_checked_from_start_to_end(value: str) -> None:
    with pytest.raises(PlanError):
        path_word(value)
    with pytest.raises(PlanError):
        arg_word("${APP_UID}" + value)


def test_plain_paths_and_arg_references_pass_unchanged() -> None:
    assert path_word("/opt/env/lib/python3.11") == "/opt/env/lib/python3.11"
    assert arg_word("${APP_UID}:${APP_GID}") == "${APP_UID}:${APP_GID}"
    assert double_quoted('a"b$c\\d') == '"a\\"b\\$c\\\\d"'


# -- the runtime user is never root ---------------------------------------------------------


@pytest.mark.parametrize(("flag", "value"), [("--uid", "0"), ("--gid", "0"), ("--uid", "-1"),
                                             ("--gid", str(2**31))])
def test_convert_refuses_a_root_or_out_of_range_runtime_user(tmp_path: Path, flag: str, value: str,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["convert", str(EXPLICIT), "-o", str(out), flag, value]) == 2
    err = capsys.readouterr().err
    assert ("UID" in err or "GID" in err) and "Traceback" not in err
    assert not (out / "Dockerfile").exists()


def test_convert_accepts_the_smallest_non_root_ids(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["convert", str(EXPLICIT), "-o", str(out), "--uid", "1", "--gid", "1"]) == 0
    assert 'APP_UID="1"' in (out / "Dockerfile").read_text() or "APP_UID=1" in (out / "Dockerfile").read_text()


# -- generated files: modes, --check, the .dockerignore ----------------------------------------


@pytest.fixture()
def converted(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    assert main(["convert", str(EXPLICIT), "-o", str(out)]) == 0
    return out


def test_generated_files_are_world_readable_and_not_executable(converted: Path) -> None:
    files = [p for p in converted.rglob("*") if p.is_file()]
    assert files
    for path in files:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == 0o644, f"{path.relative_to(converted)} has mode {mode:o}"


def test_check_fails_when_a_generated_file_was_deleted(converted: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["convert", str(EXPLICIT), "-o", str(converted), "--check"]) == 0
    victims = [p for p in sorted(converted.rglob("*")) if p.is_file()]
    for victim in victims:
        content = victim.read_bytes()
        victim.unlink()
        capsys.readouterr()
        assert main(["convert", str(EXPLICIT), "-o", str(converted), "--check"]) == 1, victim
        assert victim.name in capsys.readouterr().out
        victim.write_bytes(content)
        victim.chmod(0o644)


def test_dockerignore_excludes_everything_first(converted: Path) -> None:
    text = (converted / ".dockerignore").read_text()
    assert text.startswith(  # generated bytes are fixed, its header included
        "# Generated by conda2docker: the build needs only these; everything else stays out\n"
        "# of the build context (data, notebooks, outputs, .git).\n*\n")
    rules = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert rules[0] == "*", "the context must start from nothing"
    assert all(rule.startswith("!") for rule in rules[1:])
    for secret in (".env", ".ssh", ".git", "id_rsa", "*.pem", "data"):
        assert f"!{secret}" not in rules


def test_an_output_that_cannot_be_written_is_one_line_naming_the_path_and_the_reason(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """(Run as root here, so a read-only directory would not stop the write: the output's
    parent is a file instead.)"""
    (tmp_path / "blocker").write_text("a file, not a directory\n")
    report = tmp_path / "blocker" / "report.md"
    with pytest.raises(Unwritable) as caught:
        write_output_file(report, b"x")
    # the path, then the system's reason in words ("File exists"), not a Python exception repr
    assert re.fullmatch(rf"cannot write {re.escape(str(report))}: [A-Z][a-z ]+", caught.value.message)
    assert caught.value.location == SourceLocation(report)
    assert caught.value.fix
    assert (tmp_path / "blocker").read_text() == "a file, not a directory\n"


# -- hash forms in explicit locks ------------------------------------------------------------


def _explicit(tmp_path: Path, fragment: str) -> Path:
    url = "https://conda.anaconda.org/conda-forge/linux-64/zlib-1.3.1-hb9d3cd8_2.conda"
    path = tmp_path / "explicit.lock"
    path.write_text(f"# platform: linux-64\n@EXPLICIT\n{url}#{fragment}\n")
    return path


def test_an_explicit_md5_is_kept_as_md5(tmp_path: Path) -> None:
    md5 = "c9f075ab2f33b3bbee9e62d4ad0a6cd8"
    (package,) = read_explicit(_explicit(tmp_path, md5)).packages
    assert (package.md5, package.sha256) == (md5, None)


def test_an_explicit_sha256_is_never_taken_for_an_md5(tmp_path: Path) -> None:
    sha = hashlib.sha256(b"zlib").hexdigest()
    (package,) = read_explicit(_explicit(tmp_path, f"sha256:{sha}")).packages
    assert package.sha256 == sha
    assert package.md5 is None


# -- the pip target -------------------------------------------------------------------------


@pytest.mark.parametrize(("platform", "arch"), [("linux-64", "x86_64"), ("linux-aarch64", "aarch64"),
                                                ("linux-ppc64le", "ppc64le"), ("linux-s390x", "s390x")])
def test_linux_platform_tags_name_the_target_architecture(platform: str, arch: str) -> None:
    tags = platform_tags(PipTarget(platform=platform, glibc="2.28"))
    assert tags[0] == f"manylinux_2_28_{arch}" and tags[-1] == f"linux_{arch}"
    assert all(tag.endswith(f"_{arch}") for tag in tags)
    assert f"manylinux2014_{arch}" in tags  # glibc 2.17, the legacy alias
    assert "manylinux_2_29_" + arch not in tags  # newer than the base image


def test_a_wheel_ranks_by_the_best_of_its_platform_tags() -> None:
    target = PipTarget(platform="linux-64", python_version="3.11.7", glibc="2.36")
    best = wheel_priority("x-1.0-cp311-cp311-manylinux_2_28_x86_64.whl", target)
    older = wheel_priority("x-1.0-cp311-cp311-manylinux_2_17_x86_64.whl", target)
    both = wheel_priority("x-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl", target)
    assert best is not None and older is not None and both is not None
    assert best < older and both == best
    assert wheel_priority("x-1.0-cp311-cp311-manylinux_2_39_x86_64.whl", target) is None


# -- audit rules at their boundaries ----------------------------------------------------------


def _vcs(ref: str) -> AuditContext:
    url = "https://github.com/x/y.git"
    return ctx(spec(pip=(req(f"git+{url}@{ref}", "vcs", name="y", url=url, vcs="git", ref=ref),)))


@pytest.mark.parametrize(("ref", "fires"), [
    ("master", True),
    ("deadbeef", True),                # hex-looking branch name: pip resolves it as a ref
    (SHA[:12], True),                  # abbreviated commit: not a pin for pip either
    (SHA[:39], True),
    (SHA, False),                      # the full commit id, as pip's looks_like_hash wants
    (SHA.upper(), False),
    (SHA + "0", True),
])
def test_only_a_full_commit_id_pins_a_git_requirement(ref: str, fires: bool) -> None:
    assert bool(audit(_vcs(ref), select=["R502"])) is fires


@pytest.mark.parametrize(("url", "pinned"), [
    (f"git+https://github.com/x/y.git@{SHA}", True),
    (f"git+https://github.com/x/y.git@{SHA}#egg=y", True),
    (f"git+ssh://git@github.com/x/y.git@{SHA}", True),          # the user@ is not a revision
    (f"git+https://github.com/x/c++y.git@{SHA}", True),         # a '+' in the path
    (f"git+https://github.com/x/at@y.git@{SHA}", True),         # an '@' in the path
    ("git+ssh://git@github.com/x/y.git", False),
    ("git+https://github.com/x/y.git@main", False),
    ("git+https://github.com/x/y.git@v1.0+local", False),
    (f"git+https://github.com/x/y.git@{SHA[:12]}", False),
])
def test_an_unpinned_git_requirement_is_reported_unless_the_lock_pins_its_commit(
        url: str, pinned: bool) -> None:
    """P202: `git+URL` without a revision in the environment is fine when the lock pins the
    commit; a lock's own VCS package without any revision is reported."""
    env = spec(pip=(req("git+https://github.com/x/y.git", "vcs", name="y",
                        url="https://github.com/x/y.git", vcs="git"),))
    locked = lock(*BASE, LockedPackage("y", "1.0", "pip", PLATFORM, url))
    subjects = [f.subject for f in audit(ctx(env, locked), select=["P202"])]
    assert subjects == ([] if pinned else ["y"])


def test_a_locked_git_package_without_a_revision_is_reported() -> None:
    for url, fires in (("git+ssh://git@github.com/x/y.git", True),
                       ("git+https://github.com/x/y.git#egg=y", True),
                       ("git+https://github.com/x/y.git@main", False),   # a ref, reported as R502
                       ("git+https://github.com/x/y.git@v1.0+local", False)):
        locked = lock(*BASE, LockedPackage("y", "1.0", "pip", PLATFORM, url))
        assert [f.subject for f in audit(ctx(spec(), locked), select=["P202"])] == (
            ["y"] if fires else []), url


def test_an_unversioned_dependency_is_reported_with_the_version_to_pin() -> None:
    """R501: each conda dependency without a version (or with ``*``) and no build, and each
    pip registry requirement without a specifier, is reported where it is written, with the
    locked version to pin when the lock has one. A dependency the reader added (R510) is not
    the user's to pin; the ones after it still are."""
    conda_numpy = CondaDependency("numpy", "", None, "conda-forge", "conda-forge::numpy", loc(6))
    env = spec(
        conda=(dep("python", "3.11", line=4), replace(dep("pip"), raw=""),  # added by the reader
               conda_numpy, dep("scipy", "*", line=7), dep("pandas", "2.1", line=8),
               dep("openssl", "", "h1_0", line=9)),
        pip=(req("requests", name="requests", line=11),
             req("six>=1", name="six", specifier=">=1", line=12),
             req("./local", "path", name="local", line=13, path=Path("/project/local"))),
        changes=(change("R510", "pip", action="added"), change("R510", "scipy", action="added")))
    locked = lock(*BASE, cpkg("numpy", "1.26.4"))
    found = audit(ctx(env, locked), select=["R501"])
    assert [(f.subject, f.evidence, f.location.line if f.location else None) for f in found] == [
        ("numpy", ("conda-forge::numpy",), 6),
        ("requests", ("requests",), 11),
        ("scipy", ("scipy=*",), 7)]            # written by the user, though the reader added one too
    assert [f.fix.split(")")[0] for f in found] == [
        "pin it (e.g. numpy=1.26.4", "pin it (e.g. requests==<version>", "pin it (e.g. scipy=<version>"]


def _defaults_env() -> EnvSpec:
    return replace(spec(channels=("conda-forge", "defaults")),
                   channel_locations=(("conda-forge", loc(2)), ("defaults", loc(3))))


def test_defaults_next_to_conda_forge_is_reported_with_what_comes_from_each() -> None:
    """C103/C104 point at the ``defaults`` line; with a lock their evidence counts the packages
    from each channel (an expanded defaults channel such as pkgs/main is found under the
    ``defaults`` line), without one it names the channels."""
    env = _defaults_env()
    (c103,) = audit(ctx(env), select=["C103"])
    assert (c103.subject, c103.evidence, c103.location) == (
        "defaults and conda-forge", ("conda-forge", "defaults"), loc(3))
    (c104,) = audit(ctx(env), select=["C104"])
    assert (c104.subject, c104.evidence, c104.location) == ("defaults", (), loc(3))
    locked = lock(*BASE, cpkg("numpy", channel="https://repo.anaconda.com/pkgs/main"))
    (c103,) = audit(ctx(env, locked), select=["C103"])
    assert c103.evidence == ("conda-forge: 2 package(s)", "pkgs/main: 1 package(s)")
    assert c103.location == loc(3)
    (c104,) = audit(ctx(env, locked), select=["C104"])
    assert (c104.subject, c104.evidence, c104.location) == (
        "pkgs/main", ("1 package(s) from it",), loc(3))


def test_an_unsolvable_environment_names_the_solvers_fix_or_a_default() -> None:
    for detail, fix in (("fix: relax numpy<1.20", "relax numpy<1.20"),
                        ("", "relax the pins named above")):
        env = spec(changes=(change("C109", "numpy<1.20", reason="no numpy for python 3.11",
                                   detail=detail),))
        (finding,) = audit(ctx(env), select=["C109"])
        assert (finding.fix, finding.evidence, finding.location) == (fix, (), loc(3))
        assert finding.message == "numpy<1.20 cannot be locked: no numpy for python 3.11"


def test_each_package_source_besides_pypi_is_reported_once_with_its_packages() -> None:
    """P206: an index of the pip options, with the locked files it serves (a file below the
    index URL belongs to it); a file host no option names, by its host; an option that serves
    nothing locked, as named in the options. PyPI's own files, git and local sources are no
    package index."""
    from conda2docker.model import PipOptions

    index = "https://pypi.corp.example/simple"
    links = "https://wheels.corp.example/links/"
    extra = "https://extra.corp.example/simple/"
    options = PipOptions(index_url=index, find_links=(links,), extra_index_urls=(extra,),
                         locations=((index, loc(20)), (links, loc(21)), (extra, loc(22))))
    env = spec(options=options)
    locked = lock(*BASE,
                  ppkg("alpha", "1.0", url=f"{index}/alpha/alpha-1.0-py3-none-any.whl"),
                  ppkg("beta", "2.0", url="https://files.other.example/b/beta-2.0.tar.gz"),
                  ppkg("gamma", "3.0"),                                   # from PyPI
                  ppkg("delta", "4.0", url="git+https://git.corp.example/delta.git@" + SHA),
                  ppkg("eps", "5.0", url="file:///srv/src/eps"),
                  ppkg("zeta", "6.0", url=f"{links}zeta-6.0-py3-none-any.whl"),
                  ppkg("omega", "7.0", url="https://pypi.corp.example/simple-old/omega-7.0.tar.gz"),
                  ppkg("local", "8.0", url="file:///wheels/local-8.0-py3-none-any.whl"))
    found = audit(ctx(env, locked), select=["P206"])
    assert [(f.subject, f.evidence, f.location) for f in found] == [
        ("file:///wheels", ("local 8.0",), None),          # a wheel file on no host: its folder
        ("files.other.example", ("beta 2.0",), None),
        (extra, ("from the pip options",), loc(22)),
        (index, ("alpha 1.0",), loc(20)),
        (links, ("zeta 6.0",), loc(21)),
        ("pypi.corp.example", ("omega 7.0",), None)]       # not below the index's URL
    assert found[0].message == "pip uses a package source besides PyPI: file:///wheels"


def test_each_editable_install_is_reported_once_where_it_is_written() -> None:
    """R509: what the reader changed (``-e`` dropped) is reported with the change; an
    editable requirement it did not already report is reported from the file; none twice."""
    changes = tuple(replace(change("R509", name, action="rewritten", reason="-e dropped",
                                   detail=f"-e ./{name}"), location=loc(line))
                    for name, line in (("apkg", 5), ("bpkg", 6)))
    pip = tuple(req(f"-e ./{name}", "path", line=line, name=name, editable=True,
                    path=Path(f"/project/{name}")) for name, line in (("apkg", 5), ("bpkg", 6), ("cpkg", 7)))
    found = audit(ctx(spec(pip=pip, changes=changes)), select=["R509"])
    assert sorted((f.subject, f.evidence, f.location.line if f.location else None) for f in found) == [
        ("apkg", ("rewritten: -e dropped", "-e ./apkg"), 5),
        ("bpkg", ("rewritten: -e dropped", "-e ./bpkg"), 6),
        ("cpkg", ("-e ./cpkg",), 7)]


def _wheel_lock(tag: str) -> Lock:
    url = f"https://{public_file_host()}/packages/aa/bb/x-1.0-cp311-cp311-{tag}.whl"
    return lock(*BASE, LockedPackage("x", "1.0", "pip", PLATFORM, url, sha256="0" * 64))


def _conda_lock(glibc: str) -> Lock:
    return lock(*BASE, cpkg("libx", deps={"__glibc": f">={glibc},<3.0.a0"}))


@pytest.mark.parametrize(("needed", "fires"), [("2.35", False), ("2.36", False), ("2.37", True)])
def test_glibc_equal_to_the_base_image_is_enough(needed: str, fires: bool) -> None:
    major, minor = needed.split(".")
    wheel = _wheel_lock(f"manylinux_{major}_{minor}_x86_64")
    assert bool(audit(ctx(spec(), wheel, glibc="2.36"), select=["S304"])) is fires
    assert bool(audit(ctx(spec(), _conda_lock(needed), glibc="2.36"), select=["S304"])) is fires


# -- pip targets for every platform a lock can name --------------------------------------------


def test_macos_targets_accept_their_own_deployment_targets() -> None:
    arm = platform_tags(PipTarget(platform="osx-arm64"))
    intel = platform_tags(PipTarget(platform="osx-64"))
    assert arm[0] == "macosx_11_0_arm64" and "macosx_11_0_universal2" in arm
    assert not any(tag.endswith("_x86_64") for tag in arm)
    assert "macosx_10_13_x86_64" in intel and "macosx_10_14_x86_64" not in intel
    assert not any("manylinux" in tag for tag in arm + intel)


def test_windows_targets_take_win_amd64_wheels_only() -> None:
    assert platform_tags(PipTarget(platform="win-64")) == ["win_amd64"]


def test_legacy_manylinux_aliases_sit_at_their_own_glibc() -> None:
    tags = platform_tags(PipTarget(platform="linux-64", glibc="2.17"))
    assert tags[:2] == ["manylinux_2_17_x86_64", "manylinux2014_x86_64"]
    assert tags.index("manylinux2010_x86_64") == tags.index("manylinux_2_12_x86_64") + 1
    assert tags.index("manylinux1_x86_64") == tags.index("manylinux_2_5_x86_64") + 1
    i686 = platform_tags(PipTarget(platform="linux-32", glibc="2.17"))
    if i686[0].endswith("_i686"):  # where the platform table maps linux-32 to i686
        assert "manylinux1_i686" in i686


def test_glibc_versions_read_as_major_minor() -> None:
    assert glibc_tuple("2") == (2, 0)
    assert glibc_tuple("2.36") == (2, 36)
    assert glibc_tuple("2.28.1") == (2, 28)


# -- conda spec edges --------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "version", "build", "channel"), [
    ("numpy[version='1.2.*']", "1.2.*", None, None),
    ('numpy[version="1.2.*", build=py3*]', "1.2.*", "py3*", None),
    ("numpy[channel=conda-forge]", "", None, "conda-forge"),
])
def test_bracket_items(text: str, version: str, build: str | None, channel: str | None) -> None:
    dependency = parse_conda_spec(text).dependency
    assert (dependency.version, dependency.build, dependency.channel) == (version, build, channel)


@pytest.mark.parametrize("text", ["numpy[=1.0]", "numpy[version]", "numpy[build=x,Version=1]",
                                  "numpy[license=BSD]"])
def test_bracket_items_conda_would_reject_are_refused(text: str) -> None:
    with pytest.raises(InputError):
        parse_conda_spec(text)


@pytest.mark.parametrize(("url", "channel"), [
    ("https://conda.anaconda.org/conda-forge/linux-64/zlib-1.3.1-h4ab18f5_1.conda",
     "https://conda.anaconda.org/conda-forge"),
    ("https://conda.anaconda.org/conda-forge/linux-64/zlib-1.3.1-h4ab18f5_1.conda#a" + "0" * 31,
     "https://conda.anaconda.org/conda-forge"),
    ("https://repo.example.org/ch/sub/linux-64/zlib-1.3.1-h4ab18f5_1.tar.bz2",
     "https://repo.example.org/ch/sub"),
])
def test_package_url_dependencies_name_their_channel(url: str, channel: str) -> None:
    dependency = parse_conda_spec(url).dependency
    assert (dependency.name, dependency.version, dependency.build, dependency.channel) == (
        "zlib", "==1.3.1", "h4ab18f5_1", channel)


@pytest.mark.parametrize("url", ["https://host/zlib-1.3.1-h4ab18f5_1.conda",
                                 "https://host/linux-64/zlib-1.3.1.conda",
                                 "https://host/ch/linux-64/"])
def test_package_urls_without_channel_subdir_and_file_are_refused(url: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_conda_spec(url, AT)
    assert caught.value.location == AT


# -- where a file stops being text -------------------------------------------------------------


@pytest.mark.parametrize(("data", "line", "column"), [
    (b"abc\xff", 1, 4),
    (b"name: x\ndependencies:\n  - ab\xffc\n", 3, 7),
    (b"\xe2\x82\xac\xe2\x82\xac\n\xc3", 2, 1),
])
def test_an_undecodable_byte_is_pointed_at_exactly(tmp_path: Path, data: bytes, line: int,
                                                   column: int) -> None:
    path = tmp_path / "environment.yml"
    with pytest.raises(InputError) as caught:
        decode(data, path)
    error = caught.value
    assert (error.location.line, error.location.column) == (line, column)  # type: ignore[union-attr]
    assert error.message.count("0x") == 1
    shown = error.message.split("0x", 1)[1].split(")")[0]
    assert shown == data[data.index(b"\xff") if b"\xff" in data else -1:][:1].hex()


def _sdist_target(env: EnvSpec | None, locked: Lock | None) -> str:
    facts = {"jsmin": SdistFacts("jsmin", "3.0.1", "jsmin-3.0.1.tar.gz",
                                 "https://files.example.org/p/jsmin-3.0.1.tar.gz")}
    resolution = Resolution(spec=env, lock=locked, reused=True) if env and locked else None
    context = AuditContext.build(env, resolution, lock=locked, sdists=facts, glibc="2.36")
    (finding,) = audit(context, select=["P201"])
    return finding.message


def test_an_sdist_is_reported_for_the_python_it_was_checked_for() -> None:
    """P201 says which target has no wheel: the solved python, else the environment's pin,
    else pip's default (a lock audited alone still names its python)."""
    py312 = lock(cpkg("python", "3.12.4", "h0_0_cpython"), cpkg("pip", "24.0", "pyhd8ed1ab_0"))
    no_python = lock(cpkg("pip", "24.0", "pyhd8ed1ab_0"))
    assert _sdist_target(spec(), None).endswith("no wheel for linux-64, Python 3.11, glibc 2.36: "
                                                "it is built from source")
    assert "linux-64, Python 3.12, glibc 2.36" in _sdist_target(spec(), py312)
    assert "linux-64, Python 3.12, glibc 2.36" in _sdist_target(None, py312)
    assert "linux-64, Python 3.12, glibc 2.36" in _sdist_target(spec(conda=()), no_python)
    assert "linux-64, Python 3.12, glibc 2.36" in _sdist_target(None, no_python)


@pytest.mark.parametrize(("conda_pin", "pip_pin", "fires"), [
    ("1.26.4", "==1.26.4", False),       # the same exact version twice: harmless
    ("1.26.4", "==1.26.3", True),        # two exact versions that differ
    ("=1.26.4", "1.26.4", False),
    ("1.26.4", ">=1.26", False),         # a range is no exact pin
    ("1.26.4", "", False),
])
def test_a_package_pinned_differently_by_conda_and_pip_is_reported(conda_pin: str, pip_pin: str,
                                                                    fires: bool) -> None:
    env = spec(conda=(dep("python", "3.11"), dep("numpy", conda_pin)),
               pip=(req(f"numpy{pip_pin}", name="numpy", specifier=pip_pin),))
    assert bool(audit(ctx(env), select=["P205"])) is fires


@pytest.mark.parametrize(("conda_version", "pip_version", "same"), [
    ("2024a", "2024.1", True),      # tzdata: conda's letter release is PyPI's .N
    ("2024b", "2024.2", True),
    ("2024a", "2024.2", False),
    ("2024z", "2024.26", True),
    ("1.26.4", "1.26.4+cpu", True),  # the local label is not part of the public version
    ("1.26.4", "1.26.5", False),
    ("1.0.x", "1.0.x", True),       # not PEP 440: compared as written
    ("1.0.x", "1.0.y", False),
])
def test_conda_and_pip_versions_of_one_package_compare_as_published(conda_version: str,
                                                                     pip_version: str,
                                                                     same: bool) -> None:
    """The same package from conda and from pip: the same version is a duplicate (P204), a
    different one shadows conda's files (P205)."""
    locked = lock(*BASE, cpkg("tzdata", conda_version), ppkg("tzdata", pip_version))
    found = {f.code for f in audit(ctx(spec(), locked), select=["P204", "P205"])}
    assert found == ({"P204"} if same else {"P205"})


def test_a_pip_finding_points_at_its_own_requirement_line() -> None:
    env = spec(pip=(req("./vendored", "path", line=10, path=Path("/project/vendored")),
                    req("six==1.16.0", line=11, name="six", specifier="==1.16.0"),
                    req("numpy==1.26.4", line=12, name="numpy", specifier="==1.26.4")))
    locked = lock(*BASE, cpkg("numpy", "1.26.4"), ppkg("numpy", "1.26.4"), ppkg("six", "1.16.0"))
    (finding,) = audit(ctx(env, locked), select=["P204"])
    assert finding.location is not None and finding.location.line == 12


@pytest.mark.parametrize(("written", "shown"), [
    ("submodules/simple-knn", "submodules/simple-knn"),
    (".", "."),
])
def test_a_local_path_is_shown_relative_to_the_environment_file(written: str, shown: str) -> None:
    env = spec(pip=(req(written, "path", path=Path("/project") / written),))
    (finding,) = audit(ctx(env), select=["P203"])
    assert finding.message.endswith(f" is installed from the local path {shown}")


def test_a_local_path_with_no_name_is_named_as_written_in_its_finding() -> None:
    """``- .`` in an environment file at the filesystem's root (a container's ``/``): the
    finding names the path, not a placeholder."""
    env = replace(spec(pip=(req(".", "path", path=Path("/")),)), source=Path("/environment.yml"))
    (finding,) = audit(ctx(env), select=["P203"])
    assert finding.subject == "/"
    assert finding.message == "/ is installed from the local path ."


def test_a_local_path_is_shown_relative_to_a_relative_environment_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    env = replace(spec(pip=(req("sub", "path", path=tmp_path / "sub"),)),
                  source=Path("environment.yml"))
    (finding,) = audit(ctx(env), select=["P203"])
    assert finding.message.endswith("from the local path sub")


# -- removing what the tool wrote ------------------------------------------------------------


def test_removing_a_written_path_removes_only_that_path(tmp_path: Path) -> None:
    root = tmp_path / "out"
    (root / "vendor" / "pip" / "old").mkdir(parents=True)
    (root / "vendor" / "pip" / "old" / "x.whl").write_bytes(b"x")
    (root / "vendor" / "pip" / "keep.whl").write_bytes(b"k")
    (root / "Dockerfile").write_text("FROM x\n")
    (root / "top").mkdir()
    remove_tree(root, "vendor/pip/old")           # three levels down
    remove_tree(root, "top")                      # at the top
    remove_tree(root, root / "Dockerfile")       # a Path is taken as it is (absolute here)
    remove_tree(root, "vendor/pip/missing.whl")   # nothing there: nothing to do
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*")) == [
        "vendor", "vendor/pip", "vendor/pip/keep.whl"]


def test_removing_a_link_never_touches_what_it_points_to(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (outside / "data").mkdir(parents=True)
    (outside / "data" / "precious").write_text("keep")
    root = tmp_path / "out"
    (root / "vendor").mkdir(parents=True)
    (root / "vendor" / "py-rattler").symlink_to(outside / "data")
    remove_tree(root, "vendor/py-rattler")
    assert not os.path.lexists(root / "vendor" / "py-rattler")
    assert (outside / "data" / "precious").read_text() == "keep"
    (root / "sources").symlink_to(outside)  # a link on the way: refused, nothing removed
    with pytest.raises(InputError):
        remove_tree(root, "sources/data")
    assert (outside / "data" / "precious").read_text() == "keep"


def test_packages_named_as_cuda_extensions_are_taken_for_ones_unless_they_are_wheels() -> None:
    """A source build of ``*-cuda`` or ``cuda-ext*`` compiles CUDA kernels: it needs the
    devel image (the GPU stage); a wheel of the same name does not."""
    from conda2docker.audit.rules.gpu import cuda_extensions

    def sdist(name: str) -> LockedPackage:
        return LockedPackage(name, "1.0", "pip", PLATFORM,
                             f"https://files.example.org/p/{name}-1.0.tar.gz", sha256="0" * 64)

    locked = lock(*BASE, sdist("flash-cuda"), sdist("cuda-ext-ops"), sdist("cudaplain"),
                  sdist("plain"), ppkg("wheel-cuda"))
    assert sorted(cuda_extensions(ctx(spec(), locked))) == ["cuda-ext-ops", "flash-cuda"]


def test_a_pip_package_is_matched_to_its_conda_twin_by_the_conda_name() -> None:
    """torch from pip and pytorch from conda are one package (P204 when the versions agree,
    P205 when they differ)."""
    same = lock(*BASE, cpkg("pytorch", "2.1.0"), ppkg("torch", "2.1.0"))
    other = lock(*BASE, cpkg("pytorch", "2.1.0"), ppkg("torch", "2.2.0"))
    assert [f.code for f in audit(ctx(spec(), same), select=["P204", "P205"])] == ["P204"]
    assert [f.code for f in audit(ctx(spec(), other), select=["P204", "P205"])] == ["P205"]


# -- comparing and writing generated files ---------------------------------------------------


def test_the_check_never_reads_through_a_link_out_of_the_output(tmp_path: Path) -> None:
    """--check compares what is on disk: a generated file replaced by a link to a file outside
    the output is refused, never read (even when the outside file has the expected bytes)."""
    root = tmp_path / "out"
    root.mkdir()
    (tmp_path / "elsewhere").write_bytes(b"FROM x\n")
    (root / "Dockerfile").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(UnsafePath):
        differing({root / "Dockerfile": b"FROM x\n"}, root)
    (root / "Dockerfile").unlink()
    (root / "Dockerfile").write_bytes(b"FROM x\n")
    assert differing({root / "Dockerfile": b"FROM x\n"}, root) == []
    assert differing({root / "Dockerfile": b"FROM y\n"}) == [root / "Dockerfile"]  # no root


def test_a_write_that_fails_leaves_no_temporary_file_and_says_why(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").mkdir()  # a folder where the file should go
    with pytest.raises(IsADirectoryError):
        atomic_write(tmp_path / "Dockerfile", b"FROM x\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Dockerfile"]


def test_an_output_is_written_when_the_temporary_directory_is_on_another_filesystem(
        tmp_path: Path, tempdir_on_another_filesystem: Path) -> None:
    """$TMPDIR on a tmpfs, the output on disk: a file is still replaced in one rename (its
    temporary lives beside it), and nothing is left in $TMPDIR."""
    atomic_write(tmp_path / "Dockerfile", b"FROM x\n")
    assert (tmp_path / "Dockerfile").read_bytes() == b"FROM x\n"
    assert list(tempdir_on_another_filesystem.iterdir()) == []


def test_a_missing_text_file_is_named_as_a_file(tmp_path: Path) -> None:
    from conda2docker.read.decode import read_text

    with pytest.raises(InputError) as caught:
        read_text(tmp_path / "requirements.txt")
    assert caught.value.message == f"file {tmp_path / 'requirements.txt'} does not exist"


def test_writing_refuses_every_differing_file_at_once_and_reports_what_it_did(tmp_path: Path) -> None:
    root = tmp_path / "out"
    files = {root / name: f"{name}\n".encode() for name in ("a", "b", "c", "d")}
    report = write_files(files, root=root)
    assert (report.written, report.unchanged) == (tuple(files), ())
    assert write_files(files, root=root).unchanged == tuple(files)
    for name in ("a", "b", "c"):
        (root / name).write_text("changed by hand\n")
    with pytest.raises(OutputConflict) as caught:
        write_files(files, root=root)  # without force: nothing is overwritten
    assert caught.value.message == "exists with different content (and 2 more); not overwritten"
    assert (root / "a").read_text() == "changed by hand\n"
    (root / "c").write_text("c\n")
    with pytest.raises(OutputConflict) as caught:
        write_files(files, root=root)
    assert caught.value.message == "exists with different content (and 1 more); not overwritten"
    (root / "b").write_text("b\n")
    with pytest.raises(OutputConflict) as caught:
        write_files(files, root=root)
    assert caught.value.message == "exists with different content; not overwritten"
    assert write_files(files, root=root, force=True).written == (root / "a",)


def test_writing_never_reads_through_a_link_out_of_the_output(tmp_path: Path) -> None:
    root = tmp_path / "out"
    root.mkdir()
    (tmp_path / "secret").write_text("not ours\n")
    (root / "Dockerfile").symlink_to(tmp_path / "secret")
    with pytest.raises(UnsafePath):
        write_files({root / "Dockerfile": b"FROM x\n"}, root=root)
    assert (tmp_path / "secret").read_text() == "not ours\n"


@pytest.mark.parametrize(("count", "last"), [(0, None), (3, "c"), (4, "… and 1 more"), (6, "… and 3 more")])
def test_long_evidence_is_cut_with_a_count_of_the_rest(count: int, last: str | None) -> None:
    from conda2docker.audit.rules._common import listing

    shown = listing("abcdef"[:count], limit=3)
    assert len(shown) == min(count, 4)
    assert (shown[-1] if shown else None) == last


# -- where the tool may write ----------------------------------------------------------------


@pytest.mark.parametrize(("path", "why"), [
    ("/etc/passwd", "an absolute path where a path inside the output directory belongs"),
    ("vendor//x.whl", "the path component '' could leave the output directory"),
    ("vendor/", "the path component '' could leave the output directory"),
    ("./Dockerfile", "the path component '.' could leave the output directory"),
    ("vendor/../Dockerfile", "the path component '..' could leave the output directory"),
    ("vendor\\x.whl", "the path holds '\\' or control characters"),
    ("vendor/x\n.whl", "the path holds '\\' or control characters"),
])
def test_a_context_path_is_refused_with_the_reason_even_where_it_would_stay_inside(
        tmp_path: Path, path: str, why: str) -> None:
    """A plan names context files relative to the output (``vendor/pip/x.whl``, taken from a
    lock): an absolute path, an empty, '.' or '..' component, a backslash or a control
    character is refused with its reason, even where the path would resolve inside."""
    from conda2docker.outputs import confine

    root = tmp_path / "out"
    root.mkdir()
    with pytest.raises(UnsafePath) as caught:
        confine(root, path)
    assert why in caught.value.message
    assert caught.value.message.startswith("refusing to write ")


def test_a_path_is_confined_to_the_output_as_given_or_as_resolved(tmp_path: Path) -> None:
    """A file name with a space is one file; the output may be named through a link
    (``/tmp`` → ``/private/tmp`` on macOS) and a path under either name is inside it; the
    output itself and a path beside it are refused."""
    from conda2docker.outputs import confine, make_dirs

    real = tmp_path / "real-out"
    real.mkdir()
    link = tmp_path / "out"
    link.symlink_to(real)
    resolved = Path(os.path.realpath(real))
    assert confine(real, "vendor/pip/my package-1.0.tar.gz") == resolved / "vendor" / "pip" / "my package-1.0.tar.gz"
    assert confine(link, link / "Dockerfile") == resolved / "Dockerfile"
    assert confine(link, real / "Dockerfile") == resolved / "Dockerfile"
    with pytest.raises(UnsafePath, match="the output directory itself"):
        confine(link, real)
    with pytest.raises(UnsafePath, match="outside the output directory"):
        confine(link, tmp_path / "elsewhere" / "Dockerfile")
    with pytest.raises(UnsafePath, match="control characters"):
        confine(link, link / "vendor\\x.whl")  # a Path is checked as a name is
    made = make_dirs(link, "vendor/conda/linux-64")  # parents made as needed
    assert made == resolved / "vendor" / "conda" / "linux-64" and made.is_dir()
    assert make_dirs(link, link / "vendor" / "conda") == resolved / "vendor" / "conda"  # exists: fine
    (real / "vendor" / "pip").write_bytes(b"")
    with pytest.raises(OutputConflict, match="exists and is not a directory"):
        make_dirs(link, "vendor/pip")
