"""The channel (C1xx) and reproducibility (R5xx) audit rules at their edges: what a user reads
in each finding (subject, message, fix, evidence, platform, line) where a small slip in a rule
would not show in its trigger/clean fixtures (tests/fixtures/audit/cases.py). From mutation
testing (issue 16)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conda2docker.audit import AuditContext, audit
from conda2docker.errors import SourceLocation
from conda2docker.model import CondaDependency, EnvSpec, ReaderChange, Resolution, Unavailable
from conda2docker.read import read_input
from conda2docker.read.piplines import parse_requirement
from fixtures.audit.cases import BASE, ENV, PLATFORM, SHA, cpkg, ctx, dep, loc, lock, spec

# -- C101 / C108: what the channels lack ---------------------------------------------------


def _unavailable() -> AuditContext:
    """Four requests the channels cannot serve, packages missing and versions missing mixed."""
    env = spec(conda=(dep("python", "3.6", line=4), dep("pywin32", line=5),
                      CondaDependency("numpy", "1.2", None, "conda-forge",
                                      "conda-forge::numpy=1.2", loc(6)),
                      dep("appnope", line=7)))
    searched = ("conda-forge", "bioconda")
    missing = (
        Unavailable("pywin32", PLATFORM, "pywin32", searched, loc(5)),
        Unavailable("python", PLATFORM, "python=3.6", searched, loc(4), ("3.8.15", "3.9.7")),
        Unavailable("appnope", PLATFORM, "appnope", ("conda-forge",), loc(7)),
        Unavailable("numpy", PLATFORM, "conda-forge::numpy=1.2", ("conda-forge",), loc(6),
                    ("1.21.6", "1.22.4")),
    )
    return ctx(env, resolution=Resolution(env, lock(*BASE), unavailable=missing))


def test_each_package_no_channel_has_is_reported_with_what_was_searched() -> None:
    """C101: every package the channels do not have at all, wherever it comes in the list
    (a missing *version* before it is C108's), for the platform, with the channels searched."""
    found = audit(_unavailable(), select=["C101"])
    assert [(f.subject, f.message, f.evidence, f.platform, f.location) for f in found] == [
        ("appnope", "appnope is not available for linux-64 in any configured channel",
         ("requested: appnope", "searched: conda-forge"), PLATFORM, loc(7)),
        ("pywin32", "pywin32 is not available for linux-64 in any configured channel",
         ("requested: pywin32", "searched: conda-forge, bioconda"), PLATFORM, loc(5)),
    ]
    assert found[1].fix == "add a channel that builds pywin32 for linux-64, or remove it"


def test_each_version_the_channels_lack_is_reported_with_the_nearest_ones() -> None:
    """C108: every request whose name the channels have but not the version, after a package
    that is missing altogether too; the version as asked (a channel-qualified spec as written),
    the channels searched and the nearest versions."""
    found = audit(_unavailable(), select=["C108"])
    assert [(f.subject, f.message, f.evidence, f.platform, f.location) for f in found] == [
        ("numpy",
         "numpy conda-forge::numpy=1.2 is not in the channels for linux-64; they have 1.21.6, 1.22.4",
         ("requested: conda-forge::numpy=1.2", "searched: conda-forge",
          "nearest versions: 1.21.6, 1.22.4"), PLATFORM, loc(6)),
        ("python", "python 3.6 is not in the channels for linux-64; they have 3.8.15, 3.9.7",
         ("requested: python=3.6", "searched: conda-forge, bioconda",
          "nearest versions: 3.8.15, 3.9.7"), PLATFORM, loc(4)),
    ]
    assert found[1].fix == ("pin a version the channels have (nearest: 3.8.15, 3.9.7), or add "
                            "the channel that publishes python 3.6")


def test_a_version_left_as_a_placeholder_is_quoted_as_written() -> None:
    """C108 for ``cudatoolkit=11.X`` (a README's placeholder copied as it was): the request is
    quoted as written, letters and all, so the user recognises the line."""
    env = spec(conda=(dep("python", "3.11"), dep("cudatoolkit", "11.x.*", line=5)))
    missing = (Unavailable("cudatoolkit", PLATFORM, "cudatoolkit=11.X", ("conda-forge",), loc(5),
                           ("10.2.89", "11.8.0")),)
    (finding,) = audit(ctx(env, resolution=Resolution(env, lock(*BASE), unavailable=missing)),
                       select=["C108"])
    assert finding.message == ("cudatoolkit 11.X is not in the channels for linux-64; they have "
                               "10.2.89, 11.8.0")
    assert finding.fix == ("pin a version the channels have (nearest: 10.2.89, 11.8.0), or add "
                           "the channel that publishes cudatoolkit 11.X")


# -- C102 / C103 / C104: which channels packages come from ---------------------------------


def test_a_personal_channel_is_reported_with_its_packages_or_as_only_listed() -> None:
    """C102 without a lock: a personal channel used only by ``channel::name`` requests is
    named with those packages, at the first of them; a label channel listed in ``channels:``
    that no request names is reported as listed, at its line."""
    scatter = CondaDependency("pytorch-scatter", "", None, "rusty1s", "rusty1s::pytorch-scatter",
                              loc(7))
    sparse = CondaDependency("pytorch-sparse", "", None, "rusty1s", "rusty1s::pytorch-sparse",
                             loc(8))
    env = EnvSpec(source=ENV, channels=("conda-forge", "sleap-deps/label/dev"),
                  channel_locations=(("conda-forge", loc(2)), ("sleap-deps/label/dev", loc(3))),
                  conda=(dep("python", "3.11", line=6), scatter, sparse))
    found = audit(ctx(env), select=["C102"])
    assert [(f.subject, f.message, f.evidence, f.location) for f in found] == [
        ("rusty1s", "rusty1s is a personal or label channel (2 package(s) come from it)",
         ("pytorch-scatter", "pytorch-sparse"), loc(7)),
        ("sleap-deps/label/dev", "sleap-deps/label/dev is a personal or label channel "
         "(listed in channels)", (), loc(3)),
    ]


def test_a_personal_channel_in_the_lock_is_reported_with_the_locked_packages() -> None:
    env = EnvSpec(source=ENV, channels=("sleap-deps/label/dev", "conda-forge"),
                  channel_locations=(("sleap-deps/label/dev", loc(2)), ("conda-forge", loc(3))))
    locked = lock(*BASE, cpkg("tensorflow", "2.9.2", channel="sleap-deps/label/dev"),
                  cpkg("keras", "2.9.0", channel="sleap-deps/label/dev"))
    (finding,) = audit(ctx(env, locked), select=["C102"])
    assert (finding.subject, finding.message, finding.evidence, finding.location) == (
        "sleap-deps/label/dev",
        "sleap-deps/label/dev is a personal or label channel (2 package(s) come from it)",
        ("keras 2.9.0", "tensorflow 2.9.2"), loc(2))


def test_an_anaconda_channel_named_only_in_a_dependency_is_reported() -> None:
    """C103/C104 without a lock: ``anaconda::cudatoolkit`` takes a package from an Anaconda
    channel even when ``channels:`` lists conda-forge alone."""
    env = spec(conda=(dep("python", "3.11"),
                      CondaDependency("cudatoolkit", "11.8", None, "anaconda",
                                      "anaconda::cudatoolkit=11.8", loc(5))))
    assert [(f.code, f.subject) for f in audit(ctx(env), select=["C103", "C104"])] == [
        ("C103", "anaconda and conda-forge"), ("C104", "anaconda")]


def test_defaults_the_file_does_not_list_point_at_its_conda_forge_line(tmp_path: Path) -> None:
    """C103 when ``channels:`` lists conda-forge alone and the lock still has packages from
    Anaconda's defaults (which conda appends without ``nodefaults``, C107): there is no
    defaults line to point at, so the finding points at the conda-forge line, where
    ``nodefaults`` goes."""
    env_file = tmp_path / "environment.yml"
    env_file.write_text("name: lab\nchannels:\n  - conda-forge\ndependencies:\n"
                        "  - python=3.11\n  - openssl\n")
    locked = lock(*BASE, cpkg("openssl", "3.0.13", "h7f8727e_0",
                              channel="https://repo.anaconda.com/pkgs/main"))
    (finding,) = audit(ctx(read_input(env_file), locked), select=["C103"])
    assert (finding.subject, finding.evidence) == (
        "pkgs/main and conda-forge", ("conda-forge: 2 package(s)", "pkgs/main: 1 package(s)"))
    assert finding.location == SourceLocation(env_file, 3, 5)


def test_every_defaults_channel_packages_come_from_is_named(tmp_path: Path) -> None:
    """C103 with packages from two of Anaconda's channels: both are named, in order, so the
    user sees every channel to drop."""
    env_file = tmp_path / "environment.yml"
    env_file.write_text("name: lab\nchannels:\n  - conda-forge\ndependencies:\n"
                        "  - python=3.11\n  - openssl\n  - r-base\n")
    locked = lock(*BASE, cpkg("openssl", "3.0.13", "h7f8727e_0",
                              channel="https://repo.anaconda.com/pkgs/main"),
                  cpkg("r-base", "4.2.0", "h1ae530e_0", channel="https://repo.anaconda.com/pkgs/r"))
    (finding,) = audit(ctx(read_input(env_file), locked), select=["C103"])
    assert finding.subject == "pkgs/main + pkgs/r and conda-forge"
    assert finding.message == "packages come from both pkgs/main + pkgs/r and conda-forge"


# -- R502: requirements that follow a moving ref -------------------------------------------

_LINE = SourceLocation(ENV, 9, 7)


def _pip(*lines: str) -> AuditContext:
    return ctx(spec(pip=tuple(parse_requirement(line, _LINE, ENV.parent) for line in lines)))


def test_a_git_branch_is_reported_with_the_command_that_finds_its_commit() -> None:
    raw = "git+https://github.com/CompVis/taming-transformers.git@master#egg=taming-transformers"
    (finding,) = audit(_pip(raw), select=["R502"])
    assert (finding.subject, finding.evidence, finding.location) == (
        "taming-transformers", (raw,), _LINE)
    assert finding.message == ("taming-transformers follows master, a branch, tag or "
                               "abbreviated commit, not a full commit id")
    assert finding.fix == ("replace @master with the full 40-hex commit it points to (git "
                           "ls-remote https://github.com/CompVis/taming-transformers.git master)")


@pytest.mark.parametrize(("line", "subject", "ref", "repository"), [
    ("https://github.com/facebookresearch/detectron2/archive/refs/heads/main.zip#egg=detectron2",
     "detectron2", "main", "https://github.com/facebookresearch/detectron2"),
    ("https://github.com/facebookresearch/detectron2/archive/main.zip#subdirectory=projects",
     "detectron2", "main", "https://github.com/facebookresearch/detectron2"),
    ("https://github.com/x/tool/archive/v1.2.tar.gz#subdirectory=src#1", "tool", "v1.2",
     "https://github.com/x/tool"),                  # a '#' inside the fragment: still read
    ("https://gitlab.com/x/y/-/archive/main/y-main.tar.gz#sha256=" + "0" * 64, "y", "main",
     "https://gitlab.com/x/y"),
    (f"https://github.com/x/tool/archive/{SHA}.zip", None, None, None),      # a full commit
    (f"https://github.com/x/tool/archive/{SHA}.zip#subdirectory=src", None, None, None),
], ids=["github-branch-egg", "github-branch-subdirectory", "github-tag-hash-in-fragment",
        "gitlab-branch-sha256", "github-commit", "github-commit-subdirectory"])
def test_a_forge_archive_of_a_branch_or_tag_is_reported(
        line: str, subject: str | None, ref: str | None, repository: str | None) -> None:
    """R502 for an archive URL: the ref read from its path whatever fragment follows (pip
    options such as ``#subdirectory=`` or a hash), named by the package or the repository,
    at its line, with the repository to ask for the commit. A full commit id is a pin."""
    found = audit(_pip(line), select=["R502"])
    if subject is None:
        assert found == []
        return
    (finding,) = found
    assert (finding.subject, finding.evidence, finding.location) == (subject, (line,), _LINE)
    assert finding.message.startswith(f"{subject} follows {ref}, a branch")
    assert finding.fix == (f"replace @{ref} with the full 40-hex commit it points to "
                           f"(git ls-remote {repository} {ref})")


# -- R503: exported build strings ----------------------------------------------------------


def _exported(name: str, version: str, build: str, at: SourceLocation | None) -> CondaDependency:
    return CondaDependency(name, version, build, None, f"{name}={version}={build}", at)


def test_exported_build_strings_are_one_finding_that_says_which_were_relaxed() -> None:
    """R503: one finding for every exact build pin, at the first of them; a pin the resolver
    relaxed says why (the first clause of the resolver's reason)."""
    numpy = _exported("numpy", "1.26.4", "py311h64a7726_0", loc(6))
    env = spec(conda=(_exported("python", "3.11.9", "hb806964_0_cpython", loc(5)), numpy,
                      _exported("libzlib", "1.2.13", "hd590300_5", loc(7)),
                      dep("libblas", "*", "*mkl", line=8)))
    relaxed = ReaderChange(
        "relaxed", "numpy", "build 'py311h64a7726_0' is not published for linux-aarch64; kept "
        "version 1.26.4 and let the solver pick the build", "R503", numpy.raw, numpy.location)
    (finding,) = audit(ctx(env, resolution=Resolution(env, lock(*BASE), changes=(relaxed,))),
                       select=["R503"])
    assert finding.subject == "exported build strings"
    assert finding.message == ("3 package(s) pin the build strings of the platform they were "
                               "exported on")
    assert finding.evidence == (
        "libzlib=1.2.13=hd590300_5",
        "numpy=1.26.4=py311h64a7726_0 (relaxed: build 'py311h64a7726_0' is not published for "
        "linux-aarch64)",
        "python=3.11.9=hb806964_0_cpython")
    assert finding.location == loc(5)


def test_exported_build_strings_from_two_files_point_at_the_environment_file() -> None:
    """A repository's environment.yml and its postBuild's ``conda install`` (``init``) both pin
    builds: the finding points at the first pin of the first file by path (environment.yml),
    not at whichever pin has the lowest line number (postBuild's line 3)."""
    post_build = Path("/project/postBuild")
    env = spec(conda=(_exported("numpy", "1.26.4", "py311h64a7726_0", loc(9)),
                      _exported("libzlib", "1.2.13", "hd590300_5",
                                SourceLocation(post_build, 3, 18))))
    (finding,) = audit(ctx(env), select=["R503"])
    assert (finding.location, finding.message.split()[0]) == (loc(9), "2")


def test_exported_build_strings_without_source_locations_are_still_reported() -> None:
    """An environment built through the API without locations: reported, with no line."""
    env = spec(conda=(_exported("numpy", "1.26.4", "py311h64a7726_0", None),))
    (finding,) = audit(ctx(env), select=["R503"])
    assert (finding.evidence, finding.location) == (("numpy=1.26.4=py311h64a7726_0",), None)


# -- R504 / R509 / R512 from a real environment file ---------------------------------------


def test_a_missing_requirements_file_and_a_missing_lock_are_reported_where_written(
        tmp_path: Path) -> None:
    """R512 names the missing ``-r`` file as written (relative to the environment file), says
    why, and points at its line; R504 points at the environment file itself (no line)."""
    env_file = tmp_path / "environment.yml"
    env_file.write_text("channels: [conda-forge]\ndependencies:\n  - python=3.11\n  - pip\n"
                        "  - pip:\n    - -r requirements-gpu.txt\n")
    env = read_input(env_file)
    (r504, r512) = audit(ctx(env), select=["R504", "R512"])
    assert (r512.code, r512.subject, r512.evidence) == (
        "R512", "requirements-gpu.txt", ("-r requirements-gpu.txt",))
    assert r512.message == (f"requirements-gpu.txt is missing: requirements file "
                            f"{tmp_path / 'requirements-gpu.txt'} does not exist; its packages "
                            "are not read")
    assert (r512.location.line, r512.location.column) == (6, 7)  # type: ignore[union-attr]
    assert (r504.code, r504.subject, r504.location) == (
        "R504", "environment.yml", SourceLocation(env_file))


def test_an_editable_package_written_twice_is_reported_once() -> None:
    """R509 (no reader change at hand, as for a spec built through the API): one finding per
    editable package, even when two requirements name it (a path and a VCS URL)."""
    first = parse_requirement("./tools/apkg", loc(8), ENV.parent, raw="-e ./tools/apkg",
                              editable=True)
    second = parse_requirement("git+https://github.com/x/apkg.git@" + SHA + "#egg=apkg", loc(9),
                               ENV.parent, raw="-e git+https://github.com/x/apkg.git", editable=True)
    found = audit(ctx(spec(pip=(first, second))), select=["R509"])
    assert [(f.subject, f.location) for f in found] == [("apkg", loc(8))]
