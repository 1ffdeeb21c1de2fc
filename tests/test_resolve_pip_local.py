"""resolve_pip over distributions these tests build: extras, markers, yanked files,
pre-releases, requires-python, backtracking, and sdists whose metadata must be built.

The files are real, installable wheels and sdists, listed by a ``file://`` PEP 503 index
made here; build requirements (setuptools) come from ``local_pypi``. No internet.
"""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest

from conda2docker.errors import ResolveError
from conda2docker.model import PipOptions
from conda2docker.resolve.pip import PipResolution, PipTarget, resolve_pip
from conda2docker.resolve.pypi import IndexClient
from support.pypi_index import LocalIndex
from test_resolve_pip import conda, registry


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def make_wheel(
    dest: Path, name: str, version: str, *, requires: tuple[str, ...] = (),
    extras: tuple[str, ...] = (), requires_python: str | None = None, tag: str = "py3-none-any",
) -> Path:
    """A minimal but valid wheel (METADATA, WHEEL, RECORD, one module)."""
    dist = name.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    meta = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    meta += [f"Requires-Python: {requires_python}"] if requires_python else []
    meta += [f"Provides-Extra: {e}" for e in extras] + [f"Requires-Dist: {r}" for r in requires]
    files = {
        f"{dist}/__init__.py": f"__version__ = {version!r}\n".encode(),
        f"{info}/METADATA": ("\n".join(meta) + "\n").encode(),
        f"{info}/WHEEL": f"Wheel-Version: 1.0\nGenerator: c2d-tests\nRoot-Is-Purelib: true\nTag: {tag}\n".encode(),
    }
    record = "".join(f"{p},{_record_hash(d)},{len(d)}\n" for p, d in files.items()) + f"{info}/RECORD,,\n"
    files[f"{info}/RECORD"] = record.encode()
    path = dest / f"{dist}-{version}-{tag}.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, data in files.items():
            zf.writestr(member, data)
    return path


def make_sdist(dest: Path, name: str, version: str, *, install_requires: tuple[str, ...] = ()) -> Path:
    """An sdist with Metadata-Version 2.1 PKG-INFO (so not trusted) and a setup.py."""
    dist = name.replace("-", "_")
    top = f"{dist}-{version}"
    files = {
        "PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        "pyproject.toml": '[build-system]\nrequires = ["setuptools>=61"]\n'
        'build-backend = "setuptools.build_meta"\n',
        "setup.py": "from setuptools import setup\n"
        f"setup(name={name!r}, version={version!r}, py_modules=[{dist!r}],\n"
        f"      install_requires={list(install_requires)!r})\n",
        f"{dist}.py": f"VERSION = {version!r}\n",
    }
    path = dest / f"{top}.tar.gz"
    with tarfile.open(path, "w:gz") as tf:
        for member, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{top}/{member}")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


def write_simple_index(root: Path, files: list[Path], *, yanked: frozenset[str] = frozenset(),
                       requires_python: dict[str, str] | None = None) -> str:
    """A PEP 503 ``file://`` index over ``files``; returns its URL."""
    by_project: dict[str, list[Path]] = {}
    for f in files:
        project = f.name.split("-")[0].replace("_", "-").lower()
        by_project.setdefault(project, []).append(f)
    for project, items in by_project.items():
        page = root / "simple" / project
        page.mkdir(parents=True, exist_ok=True)
        links = []
        for f in items:
            digest = hashlib.sha256(f.read_bytes()).hexdigest()
            attrs = f'href="{f.resolve().as_uri()}#sha256={digest}"'
            if f.name in yanked:
                attrs += ' data-yanked="broken build"'
            if requires_python and f.name in requires_python:
                attrs += f' data-requires-python="{requires_python[f.name].replace(">", "&gt;")}"'
            links.append(f"<a {attrs}>{f.name}</a><br/>")
        (page / "index.html").write_text("<html><body>" + "\n".join(links) + "</body></html>")
    return (root / "simple").as_uri() + "/"


@pytest.fixture(scope="module")
def file_index(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("file-index")
    files_dir = root / "files"
    files_dir.mkdir()

    def w(name: str, version: str, **kwargs: Any) -> Path:
        return make_wheel(files_dir, name, version, **kwargs)

    files = [
        w("c2d-extra", "1.0", extras=("fast",), requires=(
            "c2d-pure<1.1", 'c2d-cext; extra == "fast"', 'c2d-winonly; sys_platform == "win32"',
            'c2d-future; python_version >= "3.12"')),
        w("c2d-pure", "0.5"),
        w("c2d-old", "1.0", requires=("c2d-pure<1.0",)),
        w("c2d-zlate", "1.0", requires=("c2d-pure<1.1",)),  # sorts after c2d-pure
        w("c2d-bt", "1.0", requires=("c2d-pure>=1.0",)),
        w("c2d-bt", "2.0", requires=("c2d-pure<1.0",)),
        w("c2d-yank", "1.0"), w("c2d-yank", "1.1"),
        w("c2d-pre", "1.0"), w("c2d-pre", "2.0b1"),
        w("c2d-py", "1.0"), w("c2d-py", "2.0", requires_python=">=3.12"),
        w("c2d-pymeta", "1.0"), w("c2d-pymeta", "2.0", requires_python=">=3.12"),
        make_sdist(files_dir, "c2d-dyn", "1.0", install_requires=("c2d-pure==1.0",)),
    ]
    return write_simple_index(
        root, files, yanked=frozenset({"c2d_yank-1.1-py3-none-any.whl"}),
        requires_python={"c2d_py-2.0-py3-none-any.whl": ">=3.12"},
    )


def lock_local(
    file_index: str, local_pypi: LocalIndex, tmp_path: Path, *lines: str, pre: bool = False,
    python: str = "3.11.7",
) -> PipResolution:
    options = PipOptions(index_url=file_index, extra_index_urls=(local_pypi.url,), pre=pre)
    return resolve_pip(
        [registry(line) for line in lines], options, PipTarget(python_version=python),
        conda_packages=(), base_dir=tmp_path, index=IndexClient(tmp_path / "cache"),
    )


def versions(result: PipResolution) -> dict[str, str]:
    return {p.name: p.version for p in result.packages}


def test_extras_add_their_dependencies_markers_evaluated_for_target(
    file_index: str, local_pypi: LocalIndex, tmp_path: Path
) -> None:
    result = lock_local(file_index, local_pypi, tmp_path, "c2d-extra[fast]")
    assert versions(result) == {"c2d-extra": "1.0", "c2d-pure": "1.0", "c2d-cext": "0.1"}
    extra = next(p for p in result.packages if p.name == "c2d-extra")
    assert dict(extra.dependencies) == {"c2d-cext": "*", "c2d-pure": "<1.1"}


def test_without_the_extra_its_dependencies_stay_out(
    file_index: str, local_pypi: LocalIndex, tmp_path: Path
) -> None:
    result = lock_local(file_index, local_pypi, tmp_path, "c2d-extra")
    assert versions(result) == {"c2d-extra": "1.0", "c2d-pure": "1.0"}


def test_newer_python_target_turns_markers_on(file_index: str, local_pypi: LocalIndex, tmp_path: Path) -> None:
    with pytest.raises(ResolveError, match=r"no package named c2d-future .*required by c2d-extra 1\.0"):
        lock_local(file_index, local_pypi, tmp_path, "c2d-extra", python="3.12.1")


def test_backtracks_to_an_older_version(file_index: str, local_pypi: LocalIndex, tmp_path: Path) -> None:
    result = lock_local(file_index, local_pypi, tmp_path, "c2d-needs", "c2d-bt")
    assert versions(result) == {"c2d-needs": "2.0", "c2d-bt": "1.0", "c2d-pure": "1.1"}


def test_requirement_found_after_a_pin_reopens_it(
    file_index: str, local_pypi: LocalIndex, tmp_path: Path
) -> None:
    """c2d-pure is pinned (1.1) before c2d-zlate's dependency c2d-pure<1.1 is seen."""
    result = lock_local(file_index, local_pypi, tmp_path, "c2d-pure", "c2d-zlate")
    assert versions(result) == {"c2d-pure": "1.0", "c2d-zlate": "1.0"}


def test_conflict_between_two_chains(file_index: str, local_pypi: LocalIndex, tmp_path: Path) -> None:
    with pytest.raises(ResolveError) as info:
        lock_local(file_index, local_pypi, tmp_path, "c2d-needs", "c2d-old")
    text = info.value.one_line()
    assert text.startswith("pip: conflicting requirements for c2d-pure: ")
    assert "c2d-needs 2.0 requires c2d-pure>=1.0" in text
    assert "c2d-old 1.0 requires c2d-pure<1.0" in text
    assert "available: 0.5, 1.0, 1.1" in text


def test_yanked_is_skipped_unless_pinned(file_index: str, local_pypi: LocalIndex, tmp_path: Path) -> None:
    assert versions(lock_local(file_index, local_pypi, tmp_path, "c2d-yank")) == {"c2d-yank": "1.0"}
    assert versions(lock_local(file_index, local_pypi, tmp_path, "c2d-yank==1.1")) == {"c2d-yank": "1.1"}
    with pytest.raises(ResolveError, match=r"1\.1 is yanked"):
        lock_local(file_index, local_pypi, tmp_path, "c2d-yank>1.0")


def test_pre_releases_only_with_pre_or_a_pin(file_index: str, local_pypi: LocalIndex, tmp_path: Path) -> None:
    assert versions(lock_local(file_index, local_pypi, tmp_path, "c2d-pre")) == {"c2d-pre": "1.0"}
    assert versions(lock_local(file_index, local_pypi, tmp_path, "c2d-pre", pre=True)) == {"c2d-pre": "2.0b1"}
    assert versions(lock_local(file_index, local_pypi, tmp_path, "c2d-pre>=2.0b1")) == {"c2d-pre": "2.0b1"}


@pytest.mark.parametrize("project", ["c2d-py", "c2d-pymeta"])  # index attribute / metadata only
def test_requires_python_is_checked_for_the_target(
    file_index: str, local_pypi: LocalIndex, tmp_path: Path, project: str
) -> None:
    assert versions(lock_local(file_index, local_pypi, tmp_path, project)) == {project: "1.0"}
    newer = lock_local(file_index, local_pypi, tmp_path, project, python="3.12.1")
    assert versions(newer) == {project: "2.0"}
    with pytest.raises(ResolveError, match=r"2\.0 has requires Python >=3\.12"):
        lock_local(file_index, local_pypi, tmp_path, f"{project}==2.0")


@pytest.mark.slow
def test_sdist_without_trusted_metadata_is_built(file_index: str, local_pypi: LocalIndex, tmp_path: Path) -> None:
    """PKG-INFO 2.1 lists no dependencies: the backend (setuptools from local_pypi) finds them."""
    result = lock_local(file_index, local_pypi, tmp_path, "c2d-dyn")
    assert versions(result) == {"c2d-dyn": "1.0", "c2d-pure": "1.0"}
    dyn = next(p for p in result.packages if p.name == "c2d-dyn")
    assert dyn.artifact == "sdist" and dict(dyn.dependencies) == {"c2d-pure": "==1.0"}
    built = list((tmp_path / "cache" / "built").rglob("*"))
    assert [p for p in built if p.is_file()], "the built metadata is cached on disk"


def test_extras_of_a_conda_provided_package_are_installed_by_pip(
    file_index: str, local_pypi: LocalIndex, tmp_path: Path
) -> None:
    """conda has c2d-extra (and its base dependencies); pip adds only what [fast] needs."""
    options = PipOptions(index_url=file_index, extra_index_urls=(local_pypi.url,))
    result = resolve_pip(
        [registry("c2d-extra[fast]")], options, PipTarget(),
        conda_packages=(conda("c2d-extra", "1.0", "python"),), base_dir=tmp_path,
        index=IndexClient(tmp_path / "cache"),
    )
    assert versions(result) == {"c2d-cext": "0.1"}
    assert result.satisfied_by_conda == (("c2d-extra", "c2d-extra"),)
