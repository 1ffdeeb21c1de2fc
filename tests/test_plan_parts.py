"""A plan built from parts: each stage builder returns a part, the runtime is assembled from them."""

from __future__ import annotations

from pathlib import Path

from conda2docker.model import EnvSpec
from conda2docker.plan import (
    ContextFile,
    Part,
    PlanOptions,
    Stage,
    VendorItem,
    assemble,
    checked_options,
    lock_parts,
    make_plan,
)
from conda2docker.plan.instructions import Arg, Copy, Run
from conda2docker.render.dockerfile import render_dockerfile
from support.lint import assert_lints_clean
from support.locks import lock_with_builds, lock_with_pip_wheels

SPEC = EnvSpec(source=Path("/work/environment.yml"), name="demo")


def test_make_plan_is_the_lock_parts_assembled() -> None:
    lock = lock_with_builds()
    options = checked_options(lock, PlanOptions(vendor=True))
    parts = lock_parts(lock, options)
    assert [p.stage.name for p in parts] == ["env", "wheels", "pip"]
    assert assemble(SPEC, lock, options, parts) == make_plan(SPEC, lock, PlanOptions(vendor=True))


def test_what_the_runtime_copies_comes_from_the_parts() -> None:
    lock = lock_with_builds()
    options = checked_options(lock, PlanOptions())
    parts = lock_parts(lock, options)
    runtime = assemble(SPEC, lock, options, parts).stages[-1]
    copies = [i for i in runtime.instructions if isinstance(i, Copy)]
    assert copies == [c for p in parts for c in p.runtime_copies]
    assert {c.from_stage for c in copies} == {"env", "pip"}  # wheels go through pip


def test_a_new_stage_is_one_part() -> None:
    """Everything a stage needs travels with its part: no other module changes."""
    lock = lock_with_pip_wheels()
    options = checked_options(lock, PlanOptions(vendor=True))
    parts = lock_parts(lock, options)
    before = list(parts)
    docs = Part(
        Stage("docs", "env", "renders the documentation", (
            Copy(("conda2docker/docs.txt",), "/tmp/c2d/"),
            Run((("mkdir", "-p", "/opt/docs"),)),
        )),
        runtime_copies=(Copy(("/opt/docs/",), "/opt/env/share/doc/demo/", from_stage="docs"),),
        copy_rank=1,
        context=(ContextFile("conda2docker/docs.txt", b"docs\n"),),
        vendor=(VendorItem("https://example.org/theme.tar.gz", "vendor/src/theme.tar.gz"),),
        notes=("the docs stage renders the documentation",),
        args=(Arg("BUILD_IMAGE", "buildpack-deps:bookworm"),),
    )
    plan = assemble(SPEC, lock, options, (*parts, docs))
    assert parts == before  # assembling reads the parts, never changes them
    assert [s.name for s in plan.stages] == ["env", "pip", "docs", "runtime"]
    runtime_copies = [i for i in plan.stages[-1].instructions if isinstance(i, Copy)]
    assert [c.from_stage for c in runtime_copies] == ["env", "pip", "docs"]
    assert ContextFile("conda2docker/docs.txt", b"docs\n") in plan.context_files
    assert "vendor/src/theme.tar.gz" in {v.dest for v in plan.vendor_items}
    assert plan.notes[-1] == "the docs stage renders the documentation"
    assert [a.name for a in plan.args][-1] == "BUILD_IMAGE"
    assert "docs" in "\n".join(plan.header)
    assert_lints_clean(render_dockerfile(plan))


def test_parts_hold_no_mutable_lists() -> None:
    lock = lock_with_builds()
    options = checked_options(lock, PlanOptions(vendor=True, installer="rattler"))
    for part in lock_parts(lock, options):
        for field in (part.runtime_copies, part.runtime_steps, part.context, part.vendor,
                      part.notes, part.args):
            assert isinstance(field, tuple)


def test_no_builder_takes_a_list_it_could_change() -> None:
    """Stage builders take sequences and tuples and return parts: no ``list`` parameter."""
    import ast

    import conda2docker.init.stages
    import conda2docker.plan.make

    files = [*Path(conda2docker.plan.make.__file__).parent.glob("*.py"),
             Path(conda2docker.init.stages.__file__)]
    offenders = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef):
                arguments = [*node.args.args, *node.args.kwonlyargs]
                offenders += [f"{path.name}:{node.name}({a.arg})" for a in arguments
                              if a.annotation is not None and ast.unparse(a.annotation).startswith("list[")]
    assert not offenders
