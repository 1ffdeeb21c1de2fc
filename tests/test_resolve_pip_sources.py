"""Direct pip requirements: a git repository (local bare repo over file://), local paths
(source trees and archives) and archive URLs. No internet."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from conda2docker.errors import ResolveError
from conda2docker.model import PipOptions, PipRequirement
from conda2docker.resolve.pip import PipResolution, PipTarget, resolve_pip
from conda2docker.resolve.pypi import IndexClient
from support.pypi_index import LocalIndex
from test_resolve_pip import conda
from test_resolve_pip_local import make_sdist, make_wheel

PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "c2d-gitpkg"
version = "{version}"
dependencies = ["c2d-pure<1.1"]

[project.optional-dependencies]
fast = ["c2d-cext"]
"""


def git(*args: str, cwd: Path) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid",
         "-c", "init.defaultBranch=main", *args],
        cwd=cwd, capture_output=True, text=True, check=True,
    )
    return done.stdout.strip()


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A bare repo: tag v0.3 (version 0.3), then main at version 0.4; plus a non-package repo."""
    root = tmp_path_factory.mktemp("git")
    work = root / "work"
    work.mkdir()
    git("init", "--quiet", cwd=work)
    (work / "c2d_gitpkg.py").write_text("X = 1\n")
    (work / "pyproject.toml").write_text(PYPROJECT.format(version="0.3"))
    git("add", ".", cwd=work)
    git("commit", "--quiet", "-m", "0.3", cwd=work)
    git("tag", "-a", "v0.3", "-m", "release 0.3", cwd=work)
    tagged = git("rev-parse", "HEAD", cwd=work)
    (work / "pyproject.toml").write_text(PYPROJECT.format(version="0.4"))
    git("commit", "--quiet", "-am", "0.4", cwd=work)
    head = git("rev-parse", "HEAD", cwd=work)
    git("clone", "--quiet", "--bare", str(work), str(root / "pkg.git"), cwd=root)
    docs = root / "docs"
    docs.mkdir()
    git("init", "--quiet", cwd=docs)
    (docs / "README").write_text("not a python project\n")
    git("add", ".", cwd=docs)
    git("commit", "--quiet", "-m", "docs", cwd=docs)
    return {
        "url": (root / "pkg.git").as_uri(), "tagged": tagged, "head": head,
        "docs": docs.as_uri(), "docs_head": git("rev-parse", "HEAD", cwd=docs),
    }


def lock(local_pypi: LocalIndex, tmp_path: Path, *reqs: PipRequirement) -> PipResolution:
    return resolve_pip(
        list(reqs), PipOptions(index_url=local_pypi.url), PipTarget(), conda_packages=(),
        base_dir=tmp_path, index=IndexClient(tmp_path / "cache"),
    )


def vcs(url: str, ref: str | None, name: str | None = "c2d-gitpkg", extras: tuple[str, ...] = ()) -> PipRequirement:
    return PipRequirement(kind="vcs", raw=f"git+{url}@{ref}", name=name, url=url, vcs="git",
                          ref=ref, extras=extras)


def test_git_tag_resolves_to_its_commit(repo: dict[str, str], local_pypi: LocalIndex, tmp_path: Path) -> None:
    result = lock(local_pypi, tmp_path, vcs(repo["url"], "v0.3"))
    pkgs = {p.name: p for p in result.packages}
    gitpkg = pkgs["c2d-gitpkg"]
    assert gitpkg.url == f"git+{repo['url']}@{repo['tagged']}"
    assert (gitpkg.version, gitpkg.sha256, gitpkg.artifact) == ("0.3", None, "vcs")
    assert dict(gitpkg.dependencies) == {"c2d-pure": "<1.1"}
    assert pkgs["c2d-pure"].version == "1.0"  # its dependency came from the index


def test_git_branch_short_and_full_commits(repo: dict[str, str], local_pypi: LocalIndex, tmp_path: Path) -> None:
    for ref, commit in [("main", repo["head"]), (None, repo["head"]),
                        (repo["tagged"][:9], repo["tagged"]), (repo["tagged"], repo["tagged"])]:
        (pkg, *_) = [p for p in lock(local_pypi, tmp_path, vcs(repo["url"], ref)).packages
                     if p.name == "c2d-gitpkg"]
        assert pkg.url.endswith("@" + commit), ref


def test_git_extras(repo: dict[str, str], local_pypi: LocalIndex, tmp_path: Path) -> None:
    result = lock(local_pypi, tmp_path, vcs(repo["url"], "v0.3", extras=("fast",)))
    assert {p.name for p in result.packages} == {"c2d-gitpkg", "c2d-pure", "c2d-cext"}


def test_git_unknown_ref(repo: dict[str, str], local_pypi: LocalIndex, tmp_path: Path) -> None:
    with pytest.raises(ResolveError, match="git ref 'v9' is not a branch, tag or commit"):
        lock(local_pypi, tmp_path, vcs(repo["url"], "v9"))


def test_git_unreachable_repository(local_pypi: LocalIndex, tmp_path: Path) -> None:
    url = (tmp_path / "missing.git").as_uri()
    with pytest.raises(ResolveError) as info:
        lock(local_pypi, tmp_path, vcs(url, "main"))
    text = info.value.one_line()
    assert f"cannot reach git repository {url}" in text and "git ls-remote" in text


@pytest.mark.slow
def test_git_without_metadata_gets_a_commit_version(
    repo: dict[str, str], local_pypi: LocalIndex, tmp_path: Path
) -> None:
    result = lock(local_pypi, tmp_path, vcs(repo["docs"], None, name="c2d-docs"))
    (pkg,) = result.packages
    assert pkg.version == f"0+git{repo['docs_head'][:7]}"
    assert pkg.url == f"git+{repo['docs']}@{repo['docs_head']}"
    assert [c.action for c in result.changes] == ["relaxed", "added"]
    reason = result.changes[0].reason
    assert "Directory is not installable" in reason and "/tmp/" not in reason


def test_git_package_replaces_conda_copy(repo: dict[str, str], local_pypi: LocalIndex, tmp_path: Path) -> None:
    result = resolve_pip(
        [vcs(repo["url"], "v0.3")], PipOptions(index_url=local_pypi.url), PipTarget(),
        conda_packages=(conda("c2d-gitpkg", "0.1", "python"),), base_dir=tmp_path,
        index=IndexClient(tmp_path / "cache"),
    )
    assert "c2d-gitpkg" in {p.name for p in result.packages}
    assert [c.code for c in result.changes] == ["P205"]


@pytest.mark.slow
def test_local_source_tree_with_setup_py(local_pypi: LocalIndex, tmp_path: Path) -> None:
    """No static metadata: built by setuptools (from local_pypi) through pip.

    The pyproject names setuptools alone: pip's default for a bare setup.py adds ``wheel``,
    which needs ``packaging``, and local_pypi does not serve that.
    """
    tree = tmp_path / "proj"
    tree.mkdir()
    (tree / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n'
    )
    (tree / "setup.py").write_text(
        "from setuptools import setup\n"
        "setup(name='c2d-local', version='3.2', py_modules=['c2d_local'],\n"
        "      install_requires=['c2d-needs'])\n"
    )
    (tree / "c2d_local.py").write_text("")
    req = PipRequirement(kind="path", raw="./proj", path=Path("proj"))
    result = lock(local_pypi, tmp_path, req)
    pkgs = {p.name: p for p in result.packages}
    assert set(pkgs) == {"c2d-local", "c2d-needs", "c2d-pure"}
    local = pkgs["c2d-local"]
    assert (local.version, local.url, local.sha256) == ("3.2", tree.resolve().as_uri(), None)
    assert local.artifact == "path"


def test_local_archives(local_pypi: LocalIndex, tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "c2d-arch", "0.7", requires=("c2d-pure==1.1",))
    req = PipRequirement(kind="path", raw=str(wheel), path=wheel)
    pkgs = {p.name: p for p in lock(local_pypi, tmp_path, req).packages}
    assert pkgs["c2d-arch"].url == wheel.as_uri()
    assert pkgs["c2d-arch"].sha256 == hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert (pkgs["c2d-arch"].version, pkgs["c2d-pure"].version) == ("0.7", "1.1")


def test_missing_local_path(local_pypi: LocalIndex, tmp_path: Path) -> None:
    req = PipRequirement(kind="path", raw="./nowhere", path=Path("nowhere"))
    with pytest.raises(ResolveError, match=r"local path .*nowhere does not exist"):
        lock(local_pypi, tmp_path, req)


def test_archive_url(local_pypi: LocalIndex, tmp_path: Path) -> None:
    url = f"{local_pypi.base_url}/files/c2d_needs-2.0-py3-none-any.whl"
    req = PipRequirement(kind="url", raw=f"c2d-needs @ {url}", name="c2d-needs", url=url)
    pkgs = {p.name: p for p in lock(local_pypi, tmp_path, req).packages}
    data = (local_pypi.files_dir / "c2d_needs-2.0-py3-none-any.whl").read_bytes()
    assert (pkgs["c2d-needs"].url, pkgs["c2d-needs"].sha256) == (url, hashlib.sha256(data).hexdigest())
    assert pkgs["c2d-pure"].version == "1.1"


@pytest.mark.slow
def test_sdist_url_with_untrusted_metadata(local_pypi: LocalIndex, tmp_path: Path) -> None:
    sdist = make_sdist(tmp_path, "c2d-dynurl", "2.5", install_requires=("c2d-pure<1.1",))
    req = PipRequirement(kind="url", raw=sdist.as_uri(), url=sdist.as_uri())
    pkgs = {p.name: p for p in lock(local_pypi, tmp_path, req).packages}
    assert (pkgs["c2d-dynurl"].version, pkgs["c2d-dynurl"].artifact) == ("2.5", "sdist")
    assert pkgs["c2d-pure"].version == "1.0"


def test_wheel_url_for_another_platform_is_refused(local_pypi: LocalIndex, tmp_path: Path) -> None:
    url = f"{local_pypi.base_url}/files/c2d_linux-1.0-cp311-cp311-manylinux_2_39_x86_64.whl"
    req = PipRequirement(kind="url", raw=url, name="c2d-linux", url=url)
    with pytest.raises(ResolveError, match=r"does not install on linux-64 cp311 glibc 2\.36"):
        lock(local_pypi, tmp_path, req)


def test_dependency_on_a_git_url(repo: dict[str, str], local_pypi: LocalIndex, tmp_path: Path) -> None:
    """``Requires-Dist: name @ git+…@tag`` inside a package is pinned like a direct one."""
    wheel = make_wheel(tmp_path, "c2d-uses-git", "1.0",
                       requires=(f"c2d-gitpkg @ git+{repo['url']}@v0.3#egg=c2d-gitpkg",))
    pkgs = {p.name: p for p in lock(local_pypi, tmp_path, PipRequirement(
        kind="path", raw=wheel.name, path=wheel)).packages}
    assert set(pkgs) == {"c2d-uses-git", "c2d-gitpkg", "c2d-pure"}
    assert pkgs["c2d-gitpkg"].url == f"git+{repo['url']}@{repo['tagged']}"
