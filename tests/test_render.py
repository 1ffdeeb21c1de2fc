"""Plan → Dockerfile: snapshots per stage combination, lint, parse, quoting, determinism."""

from __future__ import annotations

import shlex
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conda2docker.model import EnvSpec, Lock
from conda2docker.plan import PlanOptions, make_plan
from conda2docker.plan.instructions import Env, PlanError, Run, Shell
from conda2docker.render.dockerfile import render_dockerfile, render_instruction
from conda2docker.render.quoting import double_quoted, json_array, shell_word
from support.lint import assert_lints_clean, parse
from support.locks import lock_pure_conda, lock_with_builds, lock_with_pip_wheels
from support.snapshots import assert_snapshot

SPEC = EnvSpec(source=Path("/work/environment.yml"), name="demo",
               variables=(("OMP_NUM_THREADS", "4"),))

CASES = {
    "micromamba-conda": (lock_pure_conda, PlanOptions()),
    "micromamba-wheels": (lock_with_pip_wheels, PlanOptions()),
    "micromamba-builds": (lock_with_builds, PlanOptions(apt_build=("libffi-dev",))),
    "rattler-conda": (lock_pure_conda, PlanOptions(installer="rattler")),
    "rattler-vendor-builds": (lock_with_builds, PlanOptions(installer="rattler", vendor=True)),
    "micromamba-vendor-wheels": (lock_with_pip_wheels, PlanOptions(vendor=True)),
    "gpu-buildkit": (lock_with_pip_wheels, PlanOptions(variant="gpu", cuda_version="12.4",
                                                        buildkit=True, apt_runtime=("libgl1",))),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_dockerfile_snapshot(case: str) -> None:
    make_lock, options = CASES[case]
    text = render_dockerfile(make_plan(SPEC, make_lock(), options))
    assert_snapshot(f"{case}.Dockerfile", text)


@pytest.mark.parametrize("case", sorted(CASES))
def test_dockerfile_lints_and_parses(case: str) -> None:
    make_lock, options = CASES[case]
    plan = make_plan(SPEC, make_lock(), options)
    text = render_dockerfile(plan)
    assert_lints_clean(text)
    commands = parse(text)
    froms = [c for c in commands if c.cmd == "FROM"]  # type: ignore[attr-defined]
    assert [f.value[-1] for f in froms] == [s.name for s in plan.stages]  # type: ignore[attr-defined]
    assert froms[-1].value[-1] == "runtime"  # type: ignore[attr-defined]
    users = [c.value[0] for c in commands if c.cmd == "USER"]  # type: ignore[attr-defined]
    assert users[-1] == "${APP_UID}:${APP_GID}"


def test_stages_appear_only_when_needed() -> None:
    assert [s.name for s in make_plan(SPEC, lock_pure_conda(), PlanOptions()).stages] == ["env", "runtime"]
    assert [s.name for s in make_plan(SPEC, lock_with_pip_wheels(), PlanOptions()).stages] == [
        "env", "pip", "runtime"]
    assert [s.name for s in make_plan(SPEC, lock_with_builds(), PlanOptions()).stages] == [
        "env", "wheels", "pip", "runtime"]


def test_runtime_copies_only_the_prefix_and_runs_unprivileged() -> None:
    text = render_dockerfile(make_plan(SPEC, lock_with_builds(), PlanOptions()))
    runtime = text[text.index("AS runtime"):]
    copies = [line for line in runtime.splitlines() if line.startswith("COPY")]
    assert copies == ["COPY --from=env /opt/env /opt/env", "COPY --from=pip /opt/pip/ /opt/env/"]
    assert 'PATH="/opt/env/bin:' in runtime
    assert "activate" not in runtime
    assert 'OMP_NUM_THREADS="4"' in runtime


def test_same_inputs_give_identical_bytes() -> None:
    first = render_dockerfile(make_plan(SPEC, lock_with_builds(), PlanOptions(installer="rattler", vendor=True)))
    second = render_dockerfile(make_plan(SPEC, lock_with_builds(), PlanOptions(installer="rattler", vendor=True)))
    assert first.encode() == second.encode()


def test_base_images_can_be_pinned_by_digest() -> None:
    digest = "debian:bookworm-slim@sha256:" + "a" * 64
    text = render_dockerfile(make_plan(SPEC, lock_pure_conda(), PlanOptions(runtime_image=digest)))
    assert f'ARG RUNTIME_IMAGE="{digest}"' in text
    with pytest.raises(PlanError):
        make_plan(SPEC, lock_pure_conda(), PlanOptions(runtime_image="debian; rm -rf /"))


HOSTILE = [
    "$(touch /tmp/pwned)",
    "`touch /tmp/pwned`",
    "a; rm -rf /",
    'quote " and \\ backslash',
    "${HOME}",
    "' single",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_variable_values_stay_one_literal_token(value: str) -> None:
    spec = replace(SPEC, variables=(("HOSTILE", value),))
    text = render_dockerfile(make_plan(spec, lock_pure_conda(), PlanOptions()))
    env = [c for c in parse(text) if c.cmd == "ENV"][-1]  # type: ignore[attr-defined]
    values = dict(zip(env.value[::2], env.value[1::2], strict=True))  # type: ignore[attr-defined]
    assert values["HOSTILE"] == double_quoted(value)
    assert_lints_clean(text)


@pytest.mark.parametrize("name", ["BAD NAME", "1X", "A=B", "$(x)"])
def test_invalid_variable_names_are_refused(name: str) -> None:
    with pytest.raises(PlanError):
        Env(((name, "v"),))


def test_values_with_newlines_are_refused() -> None:
    spec = replace(SPEC, variables=(("X", "line1\nRUN touch /tmp/pwned"),))
    with pytest.raises(PlanError, match="line break"):
        render_dockerfile(make_plan(spec, lock_pure_conda(), PlanOptions()))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=0, max_size=30),
                min_size=1, max_size=5))
def test_run_arguments_round_trip_through_a_shell_lexer(argv: list[str]) -> None:
    line = render_instruction(Run((tuple(argv),)))
    assert line.startswith("RUN ")
    assert shlex.split(line[4:]) == argv


@settings(max_examples=200, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), max_size=40))
def test_quoted_values_never_leave_their_quotes(value: str) -> None:
    quoted = double_quoted(value)
    inner = quoted[1:-1]
    i = 0
    while i < len(inner):  # every quote, dollar and backslash inside is escaped
        if inner[i] == "\\":
            assert inner[i + 1] in '\\"$'
            i += 2
            continue
        assert inner[i] not in '"$'
        i += 1
    assert json_array((value,)).startswith('["')
    assert shell_word(value) == shlex.quote(value)


def test_shell_snippets_cannot_hold_newlines() -> None:
    with pytest.raises(PlanError):
        render_instruction(Run((Shell("echo a\nRUN b"),)))


def test_plan_refuses_a_platform_the_lock_lacks() -> None:
    with pytest.raises(PlanError, match="no packages for linux-aarch64") as raised:
        make_plan(SPEC, lock_pure_conda(), PlanOptions(platform="linux-aarch64"))
    assert raised.value.fix == "pass --platform linux-64, or lock again with --platform linux-aarch64"


@pytest.mark.parametrize(("field", "flag"), [("uid", "--uid"), ("gid", "--gid")])
def test_plan_refuses_a_root_or_absurd_id_and_says_which_option(field: str, flag: str) -> None:
    for number in (0, 2**31):
        with pytest.raises(PlanError, match="invalid") as raised:
            make_plan(SPEC, lock_pure_conda(), PlanOptions(**{field: number}))
        assert raised.value.fix is not None and raised.value.fix.startswith(f"pass {flag} ")


def test_pip_packages_need_pip_in_the_environment() -> None:
    lock = lock_with_pip_wheels()
    without_pip = Lock(packages=tuple(p for p in lock.packages if p.name != "pip"),
                       platforms=lock.platforms)
    with pytest.raises(PlanError, match="no pip conda package") as raised:
        make_plan(SPEC, without_pip, PlanOptions())
    assert raised.value.fix == "add pip to the environment's conda dependencies, then lock again"


def test_pip_packages_need_python_in_the_environment_and_the_error_says_how() -> None:
    lock = lock_with_pip_wheels()
    without_python = Lock(packages=tuple(p for p in lock.packages if p.name != "python"),
                          platforms=lock.platforms)
    with pytest.raises(PlanError, match="no python conda package") as raised:
        make_plan(SPEC, without_python, PlanOptions())
    assert raised.value.one_line().endswith(
        "; fix: add python (and pip) to the environment's conda dependencies, then lock again")
