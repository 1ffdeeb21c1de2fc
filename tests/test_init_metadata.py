"""init reads a repository's own package statically (PEP 621, setup.cfg, setup.py through
``ast``) and never runs it: a setup.py that would leave a mark when executed leaves none, no
``*.egg-info`` appears, and dynamic dependencies are resolved in the image's project stage."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conda2docker.errors import InputError
from conda2docker.init.dockerignore import ContextRule
from conda2docker.init.project import read_project
from conda2docker.init.render import render_init
from conda2docker.init.stages import ImageOptions
from conda2docker.init.survey import survey
from conda2docker.model import Lock
from conda2docker.plan import PlanOptions
from support.locks import conda

TRAP = """import pathlib
pathlib.Path(__file__).with_name("EXECUTED").write_text("setup.py ran")
raise SystemExit("setup.py must never run on the host")
"""


def write(root: Path, name: str, text: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_pep621_dependencies(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", '[project]\nname = "paper"\nrequires-python = ">=3.10"\n'
          'dependencies = ["numpy>=1.24", "requests[socks]"]\n')
    project = read_project(tmp_path, Path())
    assert project is not None and project.dynamic is None
    assert project.dependencies == ("numpy>=1.24", "requests[socks]")
    assert project.requires_python == ">=3.10"


def test_dynamic_dependencies_from_a_requirements_file(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", '[project]\nname = "paper"\ndynamic = ["dependencies"]\n'
          '[tool.setuptools.dynamic]\ndependencies = {file = ["requirements.txt"]}\n')
    write(tmp_path, "requirements.txt", "# pinned\nscipy==1.11.4\n\nxarray\n")
    project = read_project(tmp_path, Path())
    assert project is not None and project.dependencies == ("scipy==1.11.4", "xarray")
    assert project.dynamic is None
    write(tmp_path, "pyproject.toml", '[project]\nname = "paper"\ndynamic = ["dependencies"]\n')
    project = read_project(tmp_path, Path())
    assert project is not None and project.dynamic == "pyproject.toml declares its dependencies dynamic"


def test_setup_cfg_file_directive_stays_inside_the_package(tmp_path: Path) -> None:
    write(tmp_path, "setup.cfg", "[metadata]\nname = paper\n[options]\n"
          "install_requires = file: reqs.txt\n")
    write(tmp_path, "reqs.txt", "pandas\n")
    project = read_project(tmp_path, Path())
    assert project is not None and project.dependencies == ("pandas",)
    write(tmp_path, "setup.cfg", "[metadata]\nname = paper\n[options]\n"
          "install_requires = file: ../../etc/passwd\n")
    project = read_project(tmp_path, Path())
    assert project is not None and project.dependencies == () and project.dynamic is not None


@pytest.mark.parametrize(("source", "dependencies", "dynamic"), [
    ("from setuptools import setup\nsetup(name='p', install_requires=['numpy', 'scipy>=1'])\n",
     ("numpy", "scipy>=1"), None),
    ("import setuptools\nREQS = ['torch']\nsetuptools.setup(name='p', install_requires=REQS)\n",
     ("torch",), None),
    ("from setuptools import setup\nsetup(name='p')\n", (), None),
    ("from setuptools import setup\nREQS: list[str] = ['a>=1']\nsetup(name='p', install_requires=REQS)\n",
     ("a>=1",), None),
    ("from setuptools import setup\nsetup(name='p', install_requires=open('r.txt').read().split())\n",
     (), "setup.py computes install_requires"),
    ("from setuptools import setup\nkw = {}\nsetup(name='p', **kw)\n",
     (), "setup.py computes install_requires"),
    ("from setuptools import setup\nREQS = ['a']\nREQS += ['b']\nsetup(name='p', install_requires=REQS)\n",
     (), "setup.py computes install_requires"),
    ("print('no setup call')\n", (), "setup.py has no setup(...) call to read"),
])
def test_setup_py_is_read_with_ast(tmp_path: Path, source: str, dependencies: tuple[str, ...],
                                   dynamic: str | None) -> None:
    write(tmp_path, "setup.py", TRAP.replace("raise SystemExit", "#") + source)
    project = read_project(tmp_path, Path())
    assert project is not None
    assert (project.dependencies, project.dynamic) == (dependencies, dynamic)
    assert not (tmp_path / "EXECUTED").exists()


def test_hostile_setup_py_is_one_line_error(tmp_path: Path) -> None:
    write(tmp_path, "setup.py", "setup(name='p',\n")
    with pytest.raises(InputError, match="cannot parse"):
        read_project(tmp_path, Path())
    write(tmp_path, "setup.py", "#" * (2 * 1024 * 1024))
    with pytest.raises(InputError, match="larger than"):
        read_project(tmp_path, Path())


def lock_for(names: set[str]) -> Lock:
    packages = [conda(n, "3.11.9" if n == "python" else "1.0") for n in sorted(names)]
    return Lock(packages=tuple(packages), platforms=("linux-64",), channels=("conda-forge",))


def test_init_never_runs_the_repository_and_writes_nothing_into_it(tmp_path: Path) -> None:
    write(tmp_path, "environment.yml", "channels: [conda-forge]\ndependencies:\n  - python=3.11\n"
          "  - pip\n  - pip:\n    - -e .\n")
    write(tmp_path, "setup.py", TRAP + "setup(name='paper', install_requires=['tqdm'])\n")
    before = sorted(p.name for p in tmp_path.iterdir())
    found = survey(tmp_path)
    assert not (tmp_path / "EXECUTED").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no *.egg-info, nothing
    assert [r.kind for r in found.spec.pip] == ["registry"]  # -e . left the spec…
    assert found.spec.pip[0].name == "tqdm"  # …its dependencies (read with ast) took its place
    assert any("setup.py ran" not in n and "dependencies read from its metadata" in n
               for n in found.plan.notes)


def test_dynamic_dependencies_are_resolved_in_the_project_stage(tmp_path: Path) -> None:
    write(tmp_path, "environment.yml", "channels: [conda-forge]\ndependencies: [python=3.11]\n")
    write(tmp_path, "setup.py", TRAP + "setup(name='paper', install_requires=compute())\n")
    found = survey(tmp_path)
    assert any("resolved by pip inside the image build" in n for n in found.plan.notes)
    rendered = render_init(found.plan, found.spec, lock_for({"python", "pip"}), b"lock\n",
                           PlanOptions(lock_digest="0" * 64), ImageOptions(),
                           context=ContextRule(None))
    dockerfile = rendered.files[Path("Dockerfile")].decode()
    install = next(line for line in dockerfile.splitlines() if "pip install" in line
                   and "/opt/project" in line)
    assert "--no-deps" not in install  # pip resolves them here, inside the build
    assert not (tmp_path / "EXECUTED").exists()
    found_static = survey(_static(tmp_path))
    rendered = render_init(found_static.plan, found_static.spec, lock_for({"python", "pip"}),
                           b"lock\n", PlanOptions(lock_digest="0" * 64), ImageOptions(),
                           context=ContextRule(None))
    install = next(line for line in rendered.files[Path("Dockerfile")].decode().splitlines()
                   if "pip install" in line and "/opt/project" in line)
    assert "--no-deps --no-index" in install


def _static(root: Path) -> Path:
    write(root, "setup.py", "from setuptools import setup\nsetup(name='paper')\n")
    return root


@pytest.mark.parametrize(("name", "text", "message"), [
    ("pyproject.toml", '[project]\nname = "p"\ndependencies = [1, 2]\n', "not a list of strings"),
    ("pyproject.toml", '[project]\nname = "p"\ndependencies = "numpy"\n', "not a list of strings"),
    ("pyproject.toml", "project = 5\n", "[project] is not a table"),
    ("pyproject.toml", "build-system = 1\n", "[build-system] is not a table"),
    ("setup.py", "x = " + "(" * 5000 + ")" * 5000 + "\n", "too many nested parentheses"),
    ("setup.py", "x = " + "-" * 200000 + "1\n", "nested too deeply"),
    ("setup.py", b"\xff\xfe bad".decode("latin-1"), "cannot parse"),
    ("setup.cfg", "[metadata\nname = p\n", "cannot parse"),
])
def test_hostile_metadata_is_one_line_error(tmp_path: Path, name: str, text: str,
                                            message: str) -> None:
    write(tmp_path, name, text)
    with pytest.raises(InputError) as caught:
        read_project(tmp_path, Path())
    line = caught.value.one_line()
    assert message in line and "\n" not in line and name in line


def test_invalid_dependency_in_metadata_is_named(tmp_path: Path) -> None:
    write(tmp_path, "environment.yml", "dependencies: [python=3.11]\n")
    write(tmp_path, "pyproject.toml", '[project]\nname = "paper"\ndependencies = ["numpy >= !!"]\n')
    with pytest.raises(InputError) as caught:
        survey(tmp_path)
    assert "paper (.): dependency 'numpy >= !!' is not a valid requirement" in caught.value.one_line()


_REQUIREMENT = st.from_regex(r"[A-Za-z][A-Za-z0-9_.\-]{0,12}(>=[0-9]{1,3}(\.[0-9]{1,3}){0,2})?",
                             fullmatch=True)


@settings(max_examples=60, deadline=None)
@given(requirements=st.lists(_REQUIREMENT, max_size=6), via_constant=st.booleans(),
       quote=st.sampled_from(["'", '"']))
def test_setup_py_literals_read_back(tmp_path_factory: pytest.TempPathFactory,
                                     requirements: list[str], via_constant: bool, quote: str) -> None:
    root = tmp_path_factory.mktemp("pkg")
    listed = "[" + ", ".join(f"{quote}{r}{quote}" for r in requirements) + "]"
    body = (f"REQS = {listed}\nsetup(name='p', install_requires=REQS)\n" if via_constant
            else f"setup(name='p', install_requires={listed})\n")
    write(root, "setup.py", "from setuptools import setup\n" + body)
    project = read_project(root, Path())
    assert project is not None and project.dynamic is None
    assert project.dependencies == tuple(requirements)


@pytest.mark.parametrize("name", ["setup.cfg", "pyproject.toml", "setup.py", "apt.txt",
                                  "environment.yml"])
def test_a_link_out_of_the_repository_is_refused_and_never_quoted(tmp_path: Path, name: str) -> None:
    secret = tmp_path / "outside" / "shadow"
    secret.parent.mkdir()
    secret.write_text("root:$6$c2d-secret-hash:19000:0:99999:7:::\n")
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / name).symlink_to(secret)
    with pytest.raises(InputError) as caught:
        survey(repo)
    line = caught.value.one_line()
    assert "outside the repository" in line and "c2d-secret-hash" not in line


def test_setup_cfg_errors_name_the_line_not_its_text(tmp_path: Path) -> None:
    write(tmp_path, "setup.cfg", "token-c2d-secret = 1\n[metadata]\n")
    with pytest.raises(InputError) as caught:
        read_project(tmp_path, Path())
    line = caught.value.one_line()
    assert "setup.cfg:1" in line and "c2d-secret" not in line


@pytest.mark.never_blocks
def test_a_fifo_named_dockerfile_is_not_opened(tmp_path: Path) -> None:
    import os

    from conda2docker.init.targets import choose_targets

    os.mkfifo(tmp_path / "Dockerfile")
    assert str(choose_targets(tmp_path, "Dockerfile").dockerfile) == "Dockerfile.conda2docker"
