"""The CPU shapes' build stages as plans: a pure-Python source build gets no toolchain, and a
base image is judged by the tools it provides, not by a package name."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from conda2docker.audit.gaps import BuildGaps, SourceBuild
from conda2docker.model import EnvSpec, Lock
from conda2docker.plan import PlanOptions, make_plan
from conda2docker.plan.apt import apt_install_missing, present_test, require_commands
from conda2docker.plan.instructions import Copy, Run, Shell
from conda2docker.render.dockerfile import render_dockerfile
from support.lint import assert_lints_clean
from support.locks import base_conda, conda, pip

SPEC = EnvSpec(source=Path("/work/environment.yml"), name="shapes")


def lock_with_sdists(*names: str) -> Lock:
    packages = (*base_conda(), *(pip(n, "1.0", f"https://files.example.org/packages/{n}-1.0.tar.gz")
                                 for n in names))
    return Lock(packages=packages, platforms=("linux-64",), channels=("conda-forge",),
                content_hash={"linux-64": "0" * 64}, sources=("environment.yml",),
                roots=("python", *names))


def gaps(*builds: SourceBuild) -> BuildGaps:
    return BuildGaps(platform="linux-64", sdist_packages=builds)


PURE = SourceBuild("c2d-sdistonly", "sdist", "u", "1.0")  # the audit found no toolchain
C_EXT = SourceBuild("c2d-cext", "sdist", "u", "1.0", ("c",), ("build-essential",))


def test_pure_python_sdists_build_on_the_env_stage_without_compilers() -> None:
    plan = make_plan(SPEC, lock_with_sdists("c2d-sdistonly"), PlanOptions(), gaps(PURE))
    wheels = plan.stage("wheels")
    assert wheels is not None and wheels.base == "env"
    assert not any(isinstance(i, Copy) and i.from_stage == "env" for i in wheels.instructions)
    assert plan.arg_default("BUILD_IMAGE") is None
    text = render_dockerfile(plan)
    assert "FROM env AS wheels" in text and "apt-get" not in text and "BUILD_IMAGE" not in text
    assert "without any compiler: c2d-sdistonly" in text
    assert_lints_clean(text)


def test_one_source_needing_a_compiler_gives_the_stage_its_toolchain() -> None:
    lock = lock_with_sdists("c2d-sdistonly", "c2d-cext")
    plan = make_plan(SPEC, lock, PlanOptions(), gaps(PURE, C_EXT))
    wheels = plan.stage("wheels")
    assert wheels is not None and wheels.base == "${BUILD_IMAGE}"
    assert plan.arg_default("BUILD_IMAGE") == "buildpack-deps:bookworm"
    # Without the audit (no gaps) an unknown source may hold a C extension: compilers.
    bare = make_plan(SPEC, lock_with_sdists("c2d-sdistonly"), PlanOptions())
    assert bare.stage("wheels").base == "${BUILD_IMAGE}"  # type: ignore[union-attr]
    # A source with headers but no named toolchain is not pure Python.
    headers = replace(PURE, apt_packages=("libffi-dev",))
    with_headers = make_plan(SPEC, lock_with_sdists("c2d-sdistonly"), PlanOptions(), gaps(headers))
    assert with_headers.stage("wheels").base == "${BUILD_IMAGE}"  # type: ignore[union-attr]


def test_build_tools_are_detected_by_the_commands_they_provide() -> None:
    assert present_test(["build-essential", "gfortran", "libssl-dev", "zlib1g-dev"]) == (
        "{ command -v g++ && command -v gcc && command -v gfortran && command -v make"
        " && dpkg -s libssl-dev zlib1g-dev; } >/dev/null 2>&1")
    assert present_test(["cmake"]) == "{ command -v cmake; } >/dev/null 2>&1"
    run = apt_install_missing(["build-essential"])
    assert isinstance(run, Run) and isinstance(run.commands[0], Shell)
    snippet = run.commands[0].text
    assert "dpkg -s" not in snippet and "build-essential" in snippet.split("apt-get install", 1)[1]


def test_a_local_package_named_only_by_the_lock_keeps_its_scanned_toolchains(tmp_path: Path) -> None:
    from conda2docker.audit.gaps import plan_inputs
    from conda2docker.audit.local import scan_tree

    tree = tmp_path / "purepkg"
    (tree / "src" / "purepkg").mkdir(parents=True)
    (tree / "pyproject.toml").write_text("[project]\nname = 'c2d-purelocal'\n")
    (tree / "src" / "purepkg" / "__init__.py").write_text("")
    lock = Lock(packages=(*base_conda(), pip("c2d-purelocal", "0.4", tree.as_uri(), sha256=False)),
                platforms=("linux-64",), channels=("conda-forge",), content_hash={"linux-64": "0" * 64},
                sources=("environment.yml",), roots=("python",))
    found = plan_inputs([], lock, "linux-64", local={"purepkg": scan_tree(tree)})
    assert [(b.name, b.toolchains) for b in found.local_packages] == [("c2d-purelocal", ())]
    (tree / "src" / "purepkg" / "fast.c").write_text("")
    found = plan_inputs([], lock, "linux-64", local={"purepkg": scan_tree(tree)})
    assert [(b.name, b.toolchains) for b in found.local_packages] == [("c2d-purelocal", ("c",))]


def test_a_tool_no_apt_package_provides_is_required_with_the_fix(tmp_path: Path) -> None:
    import subprocess

    step = require_commands(["nvcc"], "the cuda-ext base image", "use a CUDA devel image").commands[0]
    assert isinstance(step, Shell)
    done = subprocess.run(["/bin/sh", "-c", step.text], env={"PATH": str(tmp_path)}, capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr.strip() == ("conda2docker: nvcc not found on PATH in the cuda-ext base image; "
                                   "fix: use a CUDA devel image")
    (tmp_path / "nvcc").write_text("#!/bin/sh\n")
    (tmp_path / "nvcc").chmod(0o755)
    assert subprocess.run(["/bin/sh", "-c", step.text], env={"PATH": str(tmp_path)}).returncode == 0


def test_a_command_given_in_the_options_is_the_images_cmd_even_with_jupyter() -> None:
    """``PlanOptions(command=…)`` is the image's ``CMD`` as given, in exec form, in place of
    the default (Jupyter when the lock has it); without one the default stays."""
    jupyter_lock = Lock(packages=(*base_conda(), conda("notebook", "7.2.2", "pyhd8ed1ab_0",
                                                       subdir="noarch")),
                        platforms=("linux-64",), channels=("conda-forge",),
                        content_hash={"linux-64": "0" * 64}, sources=("environment.yml",),
                        roots=("python", "notebook"))
    given = render_dockerfile(make_plan(SPEC, jupyter_lock,
                                        PlanOptions(command=("python", "-m", "app"))))
    cmds = [line for line in given.splitlines() if line.startswith("CMD ")]
    assert cmds == ['CMD ["python", "-m", "app"]']
    default = render_dockerfile(make_plan(SPEC, jupyter_lock, PlanOptions()))
    assert [line for line in default.splitlines() if line.startswith("CMD ")] == [
        'CMD ["/opt/env/bin/jupyter", "notebook", "--ip=0.0.0.0", "--port=8888", "--no-browser",'
        ' "--ServerApp.root_dir=/home/app/work"]']
