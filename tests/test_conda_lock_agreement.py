"""conda2docker's reader agrees with conda-lock's own parser on conda-lock's own fixtures.

The environment files are those of conda-lock's test suite (conda/conda-lock, ``tests/``;
the path is the case id) and of repo2docker's conda tests (``repo2docker tests/conda/…``),
written here as their facts: channels and dependency lines.
Both parsers read each file for linux-64; channels, conda names, versions (compared as
rattler version specs, so ``3.10.*`` equals ``3.10.*`` whatever the spelling), builds and
channels of conda dependencies, and pip names and specifiers must agree.

Deliberate differences, each checked below rather than skipped:

* ``pip`` appears in conda-lock's conda list whenever a pip section exists (and twice when
  it is also listed); conda2docker adds the pip it needs when it plans the pip stage, so
  the implicit ``pip`` is not compared.
* ``-e .`` is dropped by conda-lock with a warning; conda2docker keeps it (a path
  requirement, which ``convert`` installs from the build context).
* ``git+https://…@v2.0b2``: conda-lock names the package after the repository; conda2docker
  leaves the name to the build (the project's metadata names it), so VCS entries are
  compared by URL only.
* A ``--hash=sha256:…`` option is not kept by conda-lock's parser; conda2docker pins it
  (see tests/test_pip_hashes.py).
* ``foo==1.2.*=build``: conda-lock's vendored conda reads exactly 1.2, current conda (and
  conda2docker) the glob 1.2.* (checked below).
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

conda_lock_parser = pytest.importorskip("conda_lock.src_parser.environment_yaml")

from rattler import VersionSpec  # noqa: E402

from conda2docker.read.environment import parse_environment  # noqa: E402

FIXTURES: dict[str, str] = {
    "tests/gdal/environment.yml": """
        channels: [conda-forge, defaults]
        dependencies:
          - python >= 3.8, < 3.9
          - gdal
          - pip:
            - toolz
        """,
    "tests/test-channel-inversion/environment.yaml": """
        channels: [conda-forge, defaults]
        dependencies:
          - zlib
          - defaults::libgomp
        """,
    "tests/test-cuda/environment.yaml": """
        name: cuda
        channels: [conda-forge]
        dependencies:
          - cudatoolkit >=11,<12
          - cudnn >=8,<9
        """,
    "tests/test-env-filter-platform/environment.yml": """
        channels: [conda-forge]
        dependencies:
          - python <3.11
          - clang_osx-arm64  # [arm64]
          - clang_osx-64  # [osx64]
          - gcc_linux-64>=6  # [linux64]
        platforms: [osx-arm64, osx-64, linux-64]
        """,
    "tests/test-env-nodefaults/environment.yml": """
        channels: [nodefaults, conda-forge]
        dependencies:
          - python <3.11
        """,
    "tests/test-env-yaml-allow-pypi-requests/env.implicit.yml": """
        name: allow-pypi
        channels: [conda-forge]
        dependencies:
          - python=3.10
          - pip
          - pip:
            - requests
        """,
    "tests/test-environment-blas-mkl/environment.yml": """
        channels: [conda-forge]
        dependencies:
          - numpy
          - blas[build=mkl]
        """,
    "tests/test-git-tag/environment.yml": """
        channels: [conda-forge]
        dependencies:
          - python
          - requests
          - pip:
            - git+https://github.com/pydantic/pydantic@v2.0b2
        """,
    "tests/test-install-with-pip-deps/environment.yml": """
        channels: [conda-forge]
        dependencies:
        - idna
        - pip:
          - requests
        platforms: [linux-64, linux-aarch64]
        """,
    "tests/test-local-pip/environment.yml": """
        name: gen2-analysis
        channels: [conda-forge]
        platforms: [linux-64]
        dependencies:
          - python >=3.8,<3.10
          - pip:
            - -e .
        """,
    "tests/test-lookup/environment.yml": """
        channels: [conda-forge, nodefaults]
        platforms: [linux-64]
        dependencies:
        - emoji==2.8.0
        - pip
        - pip:
          - arrow==1.3.0
        """,
    "tests/test-multiple-categories/dev.yml": """
        category: dev
        channels: [conda-forge]
        platforms: [linux-64]
        dependencies:
          - pandas =2.0
          - astropy =5.0
        """,
    "tests/test-os-name-marker/environment.yml": """
        channels: [conda-forge]
        dependencies:
          - pip
          - pip:
            - jupyter-server ==2.3.0
        platforms: [linux-64]
        """,
    "tests/test-pip-full-url/environment.yml": """
        channels: [conda-forge]
        dependencies:
          - pip
          - pip:
            - requests @ https://github.com/psf/requests/releases/download/v2.31.0/requests-2.31.0-py3-none-any.whl
        """,
    "tests/test-pip-with-platform-selector/environment.yml": """
        channels: [conda-forge]
        dependencies:
          - tomli
          - pip:
            - psutil  # [linux64]
        platforms: [linux-64, osx-arm64]
        """,
    "tests/test-pypi-resolve-gh290/tzdata/environment.yaml": """
        name: python
        platforms: [linux-64, osx-64]
        channels: [bioconda, conda-forge]
        dependencies:
          - python=3.9.12
          - pybedtools
          - pip
          - pip:
            - pandas==1.3.5
        """,
    "tests/test-pypi-resolve-gh290/wdl/environment.yaml": """
        name: python
        channels: [bioconda, conda-forge]
        dependencies:
          - python=3.9.12
          - pip
          - miniwdl=1.2.3
          - pip:
            - pytest-wdl
        """,
    "tests/test-pypi-resolve-gh449/environment.yml": """
        dependencies:
          - python=3.10
          - pip
          - pip:
            - pydantic[email,dotenv]==1.10.10
        channels: [defaults]
        """,
    "tests/test-pypi-resolve/environment.yml": """
        channels: [conda-forge]
        dependencies:
          - python=3.9
          - requests=2.26
          - pip:
            - requests-toolbelt==0.9.1
        """,
    "tests/test-source-paths/sources/environment.yaml": """
        channels: [conda-forge]
        platforms: [linux-64]
        dependencies:
          - python ==3.9.6
          - pydantic ==1.7
          - flask <2
        """,
    "tests/test-uppercase-pip/environment.yml": """
        name: myenv
        channels: [conda-forge]
        dependencies:
        - pip
        - pip:
          - MIDIFile
        """,
    "tests/test-v2-to-v3-upgrade/environment.yml": """
        channels: [conda-forge]
        dependencies:
        - python >=3.10
        - pip
        - pip:
          - cowsay
          - tomli
        """,
    # repo2docker's conda tests (jupyterhub/repo2docker, tests/conda/*): no channels at all,
    # old Pythons, R
    "repo2docker tests/conda/downgrade/environment.yml": """
        name: xeus-cling
        channels: [conda-forge]
        dependencies:
          - python=3.9
          - xeus-cling=0.6.0
          - xtensor=0.20.8
          - xtensor-blas=0.16.1
          - notebook
        """,
    "repo2docker tests/conda/py2/environment.yml": """
        dependencies:
          - python=2
          - numpy
        """,
    "repo2docker tests/conda/py310-requirements-file/environment.yml": """
        dependencies:
          - python=3.10
          - numpy
          - pip
          - pip:
              - simplejson
        """,
    "repo2docker tests/conda/py35-binder-dir/.binder/environment.yml": """
        dependencies:
          - python=3.5
          - numpy
          - libgfortran=3
        """,
    "repo2docker tests/conda/r3.6-target-repo-dir-flag/environment.yml": """
        dependencies:
          - r-base=3.6
          - r-digest
        """,
}


def _version(text: str) -> str:
    return "" if text in ("", "*") else str(VersionSpec(text, strict=False))


def _theirs(path: Path, mapping: Path) -> dict[str, Any]:
    spec = conda_lock_parser.parse_environment_file(
        path, platforms=["linux-64"], mapping_url=str(mapping)
    )
    conda: dict[str, tuple[str, str | None, str | None]] = {}
    pip: dict[str, str] = {}
    vcs: list[str] = []
    for dep in spec.dependencies["linux-64"]:
        kind = type(dep).__name__
        if kind == "VCSDependency":
            vcs.append(dep.source)
        elif dep.manager == "conda":
            if dep.name == "pip":
                continue
            conda[dep.name] = (_version(dep.version), dep.build, dep.conda_channel)
        elif kind == "URLDependency":
            pip[dep.name] = dep.url.split("#")[0]
        else:
            pip[dep.name.lower()] = dep.version if dep.version not in ("", "*") else ""
    return {"channels": [c.url for c in spec.channels], "conda": conda, "pip": pip, "vcs": vcs}


def _ours(path: Path) -> dict[str, Any]:
    spec = parse_environment(path.read_bytes(), path, platform="linux-64")
    conda = {
        d.name: (_version(d.version), d.build, d.channel) for d in spec.conda if d.name != "pip"
    }
    pip: dict[str, str] = {}
    vcs: list[str] = []
    for requirement in spec.pip:
        if requirement.vcs:
            vcs.append(requirement.url or "")
        elif requirement.path is not None:
            continue  # `-e .`: see the module docstring
        elif requirement.url:
            pip[(requirement.name or "").lower()] = requirement.url.split("#")[0]
        else:
            pip[(requirement.name or "").lower()] = requirement.specifier.replace(" ", "")
    channels = [c for c in spec.channels if c != "nodefaults"]
    return {"channels": channels, "conda": conda, "pip": pip, "vcs": vcs}


@pytest.mark.parametrize("fixture", sorted(FIXTURES))
def test_reader_agrees_with_conda_lock(fixture: str, tmp_path: Path) -> None:
    path = tmp_path / Path(fixture).name
    path.write_text(textwrap.dedent(FIXTURES[fixture]))
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({}))
    theirs, ours = _theirs(path, mapping), _ours(path)
    assert ours["channels"] == theirs["channels"]
    assert ours["conda"] == theirs["conda"]
    assert {k: v.replace(" ", "") for k, v in theirs["pip"].items()} == ours["pip"]
    assert [v.removeprefix("git+").split("@v")[0] for v in theirs["vcs"]] == [
        v.removeprefix("git+").split("@v")[0] for v in ours["vcs"]
    ]


def test_editable_path_is_kept_where_conda_lock_drops_it(tmp_path: Path) -> None:
    path = tmp_path / "environment.yml"
    path.write_text(textwrap.dedent(FIXTURES["tests/test-local-pip/environment.yml"]))
    spec = parse_environment(path.read_bytes(), path, platform="linux-64")
    assert [r.editable for r in spec.pip] == [True]


def test_an_environment_file_wins_over_a_requirements_file_beside_it(tmp_path: Path) -> None:
    """repo2docker's ``tests/conda/py310-requirements-file``: a bogus requirements.txt next to
    the environment.yml is not read (repo2docker builds from the environment file)."""
    from conda2docker.read import read_input

    (tmp_path / "environment.yml").write_text(textwrap.dedent(
        FIXTURES["repo2docker tests/conda/py310-requirements-file/environment.yml"]))
    (tmp_path / "requirements.txt").write_text("there\n")
    spec = read_input(tmp_path)
    assert spec.source.name == "environment.yml"
    assert [r.name for r in spec.pip] == ["simplejson"]


def test_glob_after_double_equals_agrees_and_the_one_difference(tmp_path: Path) -> None:
    """``numpy==1.26.*`` is the glob 1.26.* for conda and conda-lock alike (conda2docker read it
    as ==1.26 before). With a build, ``foo==1.2.*=py*``, conda-lock's vendored (older) conda
    keeps ``==1.2.*`` and so means exactly 1.2; conda's current ``_sanitize_version_str``
    gives the glob 1.2.*, which conda2docker follows."""
    path = tmp_path / "environment.yml"
    path.write_text("channels: [conda-forge]\ndependencies:\n  - numpy==1.26.*\n"
                    "  - foo==1.2.*=py*\n")
    mapping = tmp_path / "mapping.json"
    mapping.write_text("{}")
    theirs, ours = _theirs(path, mapping)["conda"], _ours(path)["conda"]
    assert theirs["numpy"] == ours["numpy"] == ("1.26.*", None, None)
    assert theirs["foo"] == ("==1.2", "py*", None)  # conda-lock: exactly 1.2
    assert ours["foo"] == ("1.2.*", "py*", None)  # current conda: the glob
