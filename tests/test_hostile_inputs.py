"""Hostile environment files, options and special files: never a hang, a traceback, a secret
in a message, or a value that escapes its place in a generated file (compose, Dockerfile,
Apptainer, .dockerignore). Each case asserts the exit code, the one-line error and that
nothing outside the output changed.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from support.channel import TestChannel
from support.hostile import (
    LINE_ENDS,
    Workspace,
    assert_refused,
    end_id,
    make_workspace,
    run_cli,
    tree_state,
)


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return make_workspace(tmp_path)


def guarded_run(ws: Workspace, capsys: Any, argv: list[str]) -> Any:
    before = tree_state(ws.root, skip=ws.out)
    outcome = run_cli(argv, capsys)
    assert tree_state(ws.root, skip=ws.out) == before
    return outcome


# ------------------------------------------------------------------ special and huge files

def _fifo(ws: Workspace) -> Path:
    path = ws.proj / "fifo.yml"
    os.mkfifo(path)
    return path


SPECIAL_INPUTS = {
    "fifo": (_fifo, "not a regular file"),
    "dev-zero": (lambda ws: Path("/dev/zero"), "not a regular file"),
    "dev-null": (lambda ws: Path("/dev/null"), "not a regular file"),
    "proc-environ": (lambda ws: Path("/proc/self/environ"), ""),
    "directory-without-env": (lambda ws: ws.victim, ""),
    "missing": (lambda ws: ws.proj / "missing.yml", "s"),
    "dangling-link": (lambda ws: _link(ws.proj / "env.yml", ws.victim / "gone.yml"), "s"),
}


def _link(path: Path, target: Path) -> Path:
    path.symlink_to(target)
    return path


@pytest.mark.never_blocks
@pytest.mark.parametrize("command", ["inspect", "convert", "audit", "lock"])
@pytest.mark.parametrize("kind", sorted(SPECIAL_INPUTS))
def test_a_special_input_file_is_one_line_and_never_blocks(ws: Workspace, capsys: Any, kind: str,
                                                           command: str) -> None:
    make, needle = SPECIAL_INPUTS[kind]
    path = make(ws)
    argv = [command, str(path)] + (["-o", str(ws.out)] if command == "convert" else [])
    if command == "lock":
        argv += ["-o", str(ws.out / "conda-lock.yml")]
    outcome = guarded_run(ws, capsys, argv)
    line = assert_refused(outcome, 2)
    assert needle in line or (needle == "s" and re.search("no such file|does not exist", line))
    assert not ws.out.exists()


def _env_with_pip_line(ws: Workspace, line: str) -> Path:
    env = ws.proj / "environment.yml"
    env.write_text(f"name: x\ndependencies:\n  - python\n  - pip\n  - pip:\n    - {line}\n")
    return env


@pytest.mark.parametrize(("target", "needle"), [
    ("/dev/zero", "not a regular file"),
    ("/dev/urandom", "not a regular file"),
    ("fifo.yml", "not a regular file"),
    ("/proc/self/status", "/proc/self/status:1:1: this line of a requirements file outside"),
])
def test_a_special_requirements_file_is_one_line(ws: Workspace, capsys: Any, target: str, needle: str) -> None:
    if target == "fifo.yml":
        _fifo(ws)
    env = _env_with_pip_line(ws, f"-r {target}")
    assert needle in assert_refused(guarded_run(ws, capsys, ["inspect", str(env)]), 2)


def test_a_huge_environment_file_is_refused_before_parsing(ws: Workspace, capsys: Any) -> None:
    env = ws.proj / "environment.yml"
    with env.open("w") as handle:
        handle.write("name: x\ndependencies:\n")
        handle.write("  - numpy\n" * (11 * 1024 * 1024 // 10))
    assert_refused(guarded_run(ws, capsys, ["inspect", str(env)]), 2, "larger than the 10 MB limit")


def test_a_huge_lock_file_is_refused_before_parsing(ws: Workspace, capsys: Any) -> None:
    lock = ws.proj / "conda-lock.yml"
    with lock.open("wb") as handle:
        handle.truncate(65 * 1024 * 1024)  # sparse: no disk used
    assert_refused(guarded_run(ws, capsys, ["inspect", str(lock)]), 2, "larger than the 64 MB limit")


def test_a_deep_include_chain_stops_at_the_cap(ws: Workspace, capsys: Any) -> None:
    for number in range(2000):
        (ws.proj / f"r{number}.txt").write_text(f"-r r{number + 1}.txt\n")
    (ws.proj / "r2000.txt").write_text("six\n")
    env = _env_with_pip_line(ws, "-r r0.txt")
    assert_refused(guarded_run(ws, capsys, ["inspect", str(env)]), 2, "levels deep")


def test_an_include_loop_is_one_line(ws: Workspace, capsys: Any) -> None:
    (ws.proj / "a.txt").write_text("-r b.txt\n")
    (ws.proj / "b.txt").write_text("-r a.txt\n")
    env = _env_with_pip_line(ws, "-r a.txt")
    assert_refused(guarded_run(ws, capsys, ["inspect", str(env)]), 2, "loop")


@pytest.mark.parametrize("data", [b"\xff\xfe\x00", b"name: x\x00\n", b"\x80\x81\x82", b"name: [\n" * 1000,
                                  b"a: &a [*a]\n", b"- - - - - - - - - - - - - - - - - - - -" * 200,
                                  b"{" * 5000, b"name: !!python/name:os.system x\n"])
def test_binary_and_pathological_yaml_is_one_line(ws: Workspace, capsys: Any, data: bytes) -> None:
    env = ws.proj / "environment.yml"
    env.write_bytes(data)
    assert_refused(guarded_run(ws, capsys, ["inspect", str(env)]), 2, "environment.yml")


def test_an_unevaluable_marker_is_one_line(ws: Workspace, capsys: Any) -> None:
    env = _env_with_pip_line(ws, "'six; \"a\" == \"b\"'")
    assert_refused(guarded_run(ws, capsys, ["inspect", str(env)]), 2, "marker")


# ------------------------------------------------------------------ secrets never shown

SECRET = "S3cr3tPa55"


def test_a_requirements_file_that_is_not_one_shows_no_content(ws: Workspace, capsys: Any) -> None:
    shadow = ws.victim / "shadow"
    shadow.write_text(f"root:$6${SECRET}$hash:19000:0:99999:7:::\n")
    env = _env_with_pip_line(ws, f"-r {shadow}")
    outcome = guarded_run(ws, capsys, ["inspect", str(env)])
    line = assert_refused(outcome, 2, f"{shadow}:1:1", "content is not shown")
    assert SECRET not in outcome.err + outcome.out
    assert "'root" not in line


@pytest.mark.parametrize("url", [
    f"https://user:{SECRET}@127.0.0.1:9/conda-forge",
    f"https://127.0.0.1:9/t/{SECRET}-token/conda-forge",
    f"https://127.0.0.1:9/conda-forge?token={SECRET}",
])
def test_a_credential_in_a_url_never_reaches_a_message(ws: Workspace, capsys: Any, url: str) -> None:
    env = ws.proj / "environment.yml"
    env.write_text(f"name: x\nchannels:\n  - {url}\ndependencies:\n  - python\n")
    outcome = guarded_run(ws, capsys, ["convert", str(env), "-o", str(ws.out), "--solver", "rattler"])
    assert outcome.code != 0
    assert SECRET not in outcome.err + outcome.out
    assert len(outcome.error_lines) == 1
    assert "***" in outcome.err or url.split("//")[1].split("/")[0] not in outcome.err


def test_a_pip_index_password_never_reaches_a_message(ws: Workspace, capsys: Any, small_channel: TestChannel) -> None:
    env = ws.proj / "environment.yml"
    env.write_text(f"name: x\nchannels: [{small_channel.name}]\ndependencies:\n  - hello-noarch\n  - pip:\n"
                   f"    - --index-url https://user:{SECRET}@127.0.0.1:9/simple\n    - six\n")
    outcome = guarded_run(ws, capsys, ["convert", str(env), "-o", str(ws.out), "--channel-alias",
                                       small_channel.alias, "--solver", "rattler"])
    assert outcome.code != 0
    assert SECRET not in outcome.err + outcome.out
    if ws.out.exists():
        for path in ws.out.rglob("*"):
            assert not path.is_file() or SECRET not in path.read_text(errors="replace")


def test_an_internal_error_is_one_redacted_line_when_the_guard_is_on(
        ws: Workspace, capsys: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import conda2docker.read.dispatch as dispatch

    def boom(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError(f"failed at https://user:{SECRET}@host/x")

    monkeypatch.setattr(dispatch, "detect_kind", boom)
    env = ws.proj / "environment.yml"
    env.write_text("name: x\ndependencies: [python]\n")
    monkeypatch.setenv("CONDA2DOCKER_NO_GUARD", "0")
    outcome = guarded_run(ws, capsys, ["inspect", str(env)])
    line = assert_refused(outcome, 70, "internal error", "RuntimeError", "report it")
    assert SECRET not in outcome.err
    monkeypatch.setenv("CONDA2DOCKER_NO_GUARD", "1")
    with pytest.raises(RuntimeError):
        run_cli(["inspect", str(env)], capsys)
    assert "dispatch.py" in line or "test_hostile_inputs.py" in line


# ------------------------------------------------------------------ options validated

@pytest.mark.parametrize(("option", "value", "needle"), [
    ("--runtime-image", "${EVIL}", "image reference"),
    ("--runtime-image", "a:b:c:d", "image reference"),
    ("--runtime-image", "debian\nRUN evil", "image reference"),
    ("--runtime-image", "Debian:12", "image reference"),
    ("--runtime-image", "debian:bookworm slim", "image reference"),
    ("--build-image", "$(touch /tmp/x)", "image reference"),
    ("--micromamba-image", "mambaorg/micromamba:" + "x" * 200, "image reference"),
    ("--python-image", "python@sha256:xyz", "image reference"),
    ("--cuda-devel-image", "nvidia/cuda:12.4.1-devel-ubuntu22.04 AS x", "image reference"),
    ("--channel", "conda forge", "invalid channel"),
    ("--channel", "conda-forge\n- evil", "invalid channel"),
    ("--channel", "-x", "invalid channel"),
    ("--channel", "javascript://x", "scheme"),
    ("--channel", "conda-forge#x", "invalid channel"),
    ("--channel-alias", "ftp://h/x", "scheme"),
    ("--channel-alias", "not-a-url", "not a URL"),
    ("--mirror", "conda-forge=javascript://x", "--mirror"),
    ("--mirror", "conda forge=https://h/x", "--mirror"),
])
def test_a_hostile_option_value_is_refused_before_anything_runs(ws: Workspace, capsys: Any, option: str,
                                                                value: str, needle: str) -> None:
    env = ws.proj / "environment.yml"
    env.write_text("name: x\nchannels: [conda-forge]\ndependencies:\n  - python\n")
    outcome = guarded_run(ws, capsys, ["convert", str(env), "-o", str(ws.out), option, value, "--offline"])
    assert needle in assert_refused(outcome, 2)
    assert not ws.out.exists()


# ------------------------------------------------------------------ a line terminator at a value's end

OPTION_VALUES = [
    ("--cuda", "12.4", "invalid CUDA version"),
    ("--runtime-image", "debian:bookworm-slim", "image reference"),
    ("--cuda-devel-image", "nvidia/cuda:12.4.1-devel-ubuntu22.04", "image reference"),
    ("--channel", "conda-forge", "invalid channel"),
]


@pytest.mark.parametrize("end", LINE_ENDS, ids=end_id)
@pytest.mark.parametrize(("option", "value", "needle"), OPTION_VALUES)
def test_an_option_value_ending_in_a_line_terminator_is_refused_with_its_fix(
        ws: Workspace, capsys: Any, option: str, value: str, needle: str, end: str) -> None:
    env = ws.proj / "environment.yml"
    env.write_text("name: x\nchannels: [conda-forge]\ndependencies:\n  - python\n")
    outcome = guarded_run(ws, capsys, ["convert", str(env), "-o", str(ws.out), option, value + end,
                                       "--offline"])
    assert "; fix: " in assert_refused(outcome, 2, needle)
    assert not ws.out.exists()


@pytest.mark.parametrize("command", ["lock", "init"])
@pytest.mark.parametrize("end", ["\n", "\u2028"], ids=end_id)
def test_cuda_of_lock_and_init_is_checked_as_convert_checks_it(
        ws: Workspace, capsys: Any, command: str, end: str) -> None:
    """``lock --cuda '12.4\\n'`` reached rattler's version parser (a traceback); ``--cuda abc``
    was solved as ``__cuda=abc``."""
    env = ws.proj / "environment.yml"
    env.write_text("name: x\nchannels: [conda-forge]\ndependencies:\n  - python\n")
    target = [str(env), "-o", str(ws.out / "conda-lock.yml")] if command == "lock" else [str(ws.proj)]
    for value in ("12.4" + end, "abc"):
        outcome = guarded_run(ws, capsys, [command, *target, "--cuda", value, "--offline"])
        assert "; fix: write --cuda as MAJOR" in assert_refused(outcome, 2, "invalid CUDA version")
    assert not ws.out.exists() and not (ws.proj / "Dockerfile").exists()


@pytest.mark.parametrize("end", LINE_ENDS, ids=end_id)
def test_a_build_tag_ending_in_a_line_terminator_is_refused_before_the_engine(
        ws: Workspace, capsys: Any, end: str) -> None:
    ws.out.mkdir()
    outcome = guarded_run(ws, capsys, ["build", str(ws.out), "--tag", "c2d-test/x:1" + end, "--quiet"])
    assert "; fix: write NAME[:TAG]" in assert_refused(outcome, 2, "invalid --tag")
    assert not any(ws.out.iterdir())


def _env_with_dependency(ws: Workspace, dependency: str) -> Path:
    env = ws.proj / "environment.yml"
    env.write_text(f"name: x\nchannels: [conda-forge]\ndependencies:\n  - python\n  - {json.dumps(dependency)}\n")
    return env


@pytest.mark.parametrize("command", ["inspect", "convert"])
@pytest.mark.parametrize("end", LINE_ENDS, ids=end_id)
@pytest.mark.parametrize(("dependency", "needle"), [
    ("numpy{end}>=1.24", "invalid package name"),  # the name ended at the terminator
    ("conda-forge::numpy{end}=1.26", "invalid package name"),
    ("numpy[channel='conda-forge{end}x']", "invalid channel"),  # a bracket channel was not checked
])
def test_a_conda_dependency_with_a_line_terminator_is_refused_at_its_place(
        ws: Workspace, capsys: Any, command: str, end: str, dependency: str, needle: str) -> None:
    env = _env_with_dependency(ws, dependency.format(end=end))
    argv = [command, str(env)] + (["-o", str(ws.out), "--offline"] if command == "convert" else [])
    line = assert_refused(guarded_run(ws, capsys, argv), 2, needle)
    assert re.search(r"environment\.yml:5:5: cannot parse conda dependency .*; fix: write it as", line), line
    assert not ws.out.exists()



@pytest.mark.parametrize("end", LINE_ENDS, ids=end_id)
def test_a_package_url_whose_file_name_hides_a_line_terminator_is_refused_at_its_place(
        ws: Workspace, capsys: Any, end: str) -> None:
    """``numpy-1.26.4-py311_0%0A.conda`` gave the build string ``py311_0\\n`` (the file name's
    parts were split, not checked)."""
    from urllib.parse import quote

    env = _env_with_dependency(ws, f"https://h.example/c/linux-64/numpy-1.26.4-py311_0{quote(end)}.conda")
    line = assert_refused(guarded_run(ws, capsys, ["inspect", str(env)]), 2, "invalid package file name")
    assert re.search(r"environment\.yml:5:5: cannot parse conda dependency .*; fix: ", line), line


@pytest.mark.parametrize("end", LINE_ENDS, ids=end_id)
@pytest.mark.parametrize(("entry", "needle"), [
    ("six{end}==1.16.0", "cannot parse pip requirement"),  # a pip name
    ("git+https://github.com/a/b@" + "a" * 40 + "#egg=six{end}x", "invalid #egg= name"),
    ("six==1.16.0 --hash=sha256:" + "a" * 32 + "{end}" + "a" * 32, "invalid --hash"),
    ("six @ https://h.example/six-1.16.0.tar.gz{end}x", "cannot parse pip requirement"),
])
def test_a_pip_entry_with_a_line_terminator_is_refused_at_its_place(
        ws: Workspace, capsys: Any, end: str, entry: str, needle: str) -> None:
    env = ws.proj / "environment.yml"
    env.write_text("name: x\nchannels: [conda-forge]\ndependencies:\n  - python\n  - pip\n  - pip:\n"
                   f"    - {json.dumps(entry.format(end=end))}\n")
    line = assert_refused(guarded_run(ws, capsys, ["convert", str(env), "-o", str(ws.out), "--offline"]), 2, needle)
    assert re.search(r"environment\.yml:7:7: .*; fix: ", line), line
    assert not ws.out.exists()

# ------------------------------------------------------------------ injection into every output

def _convert_small(ws: Workspace, capsys: Any, channel: TestChannel, env_dir: Path, *,
                   name: str = "x", extra: tuple[str, ...] = ()) -> Any:
    env_dir.mkdir(parents=True, exist_ok=True)
    env = env_dir / "environment.yml"
    env.write_text(yaml.safe_dump({"name": name, "channels": [channel.name], "dependencies": ["hello-noarch"]}))
    return guarded_run(ws, capsys, ["convert", str(env), "-o", str(ws.out), "--channel-alias", channel.alias,
                                    "--solver", "rattler", "--format", "docker", "--format", "apptainer",
                                    *extra])


def _comment_lines_only(text: str, pattern: str) -> None:
    """Every line holding ``pattern`` is a comment (the value never began a line of its own)."""
    for line in text.splitlines():
        if pattern in line:
            assert line.lstrip().startswith("#") or '"' in line, line


HOSTILE_NAMES = [
    "x\ninclude: evil.yaml",
    "x\r\nservices: {}",
    "x\x1b[31m",
    "x\u2028RUN touch /tmp/pwned",
    "x\x00y",
    "$(touch /tmp/pwned)",
    "${HOME}",
    "x' \"y",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_hostile_environment_name_stays_inside_its_values(ws: Workspace, capsys: Any,
                                                            small_channel: TestChannel, name: str) -> None:
    outcome = _convert_small(ws, capsys, small_channel, ws.proj, name=name)
    if outcome.code != 0:  # refused: the name cannot be a label value
        assert "control character" in assert_refused(outcome, 2)
        assert not ws.out.exists()
        return
    compose = yaml.safe_load((ws.out / "compose.yaml").read_text())
    assert set(compose) == {"services"}  # the project name is in .env (docker-compose 1.29)
    project = (ws.out / ".env").read_text().splitlines()[-1]
    assert re.fullmatch(r"COMPOSE_PROJECT_NAME=[a-z0-9_-]+", project)
    for file_name in ("Dockerfile", "conda2docker.def", ".dockerignore", "compose.yaml"):
        text = (ws.out / file_name).read_text()
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029]", text), file_name
        assert "\ninclude:" not in text and "\nRUN touch" not in text


@pytest.mark.parametrize("directory", ["a\ninclude: evil.yaml", "b\r\n!.git", "c\u2028d", "#e", "!f", "g*?[h]"])
def test_a_hostile_directory_name_reaches_compose_only_as_a_quoted_value(
        ws: Workspace, capsys: Any, small_channel: TestChannel, directory: str) -> None:
    outcome = _convert_small(ws, capsys, small_channel, ws.proj / directory)
    assert outcome.code == 0, outcome.err
    text = (ws.out / "compose.yaml").read_text()
    compose = yaml.safe_load(text)
    assert set(compose) == {"services"}  # the project name is in .env (docker-compose 1.29)
    for line in text.splitlines():
        assert not line.startswith(("include", "!", "services: {}")), line
    source = next(iter(compose["services"].values()))["volumes"][0]["source"]
    assert source.replace("$$", "$") == os.path.relpath(ws.proj / directory, ws.out)


def test_a_variable_longer_than_buildkit_can_read_is_refused(ws: Workspace, capsys: Any,
                                                             small_channel: TestChannel) -> None:
    env = ws.proj / "environment.yml"
    env.write_text(yaml.safe_dump({"name": "x", "channels": [small_channel.name], "dependencies": ["hello-noarch"],
                                   "variables": {"BIG": "x" * 70_000}}))
    outcome = guarded_run(ws, capsys, ["convert", str(env), "-o", str(ws.out), "--channel-alias",
                                       small_channel.alias, "--solver", "rattler"])
    assert "65,535" in assert_refused(outcome, 2)
    assert not (ws.out / "Dockerfile").exists()


@pytest.mark.parametrize("name", ["big\n!.git", "big\r!.git", "!big", "#big", " big ", "big*", "b[i]g?", "big\\"])
def test_dockerignore_patterns_match_only_the_file_they_name(tmp_path: Path, name: str) -> None:
    from conda2docker.init.dockerignore import ContextRule, render_dockerignore

    text = render_dockerignore(ContextRule(None, (name,), 1))
    patterns = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert not any(p.startswith("!") for p in patterns)
    ours = patterns[-1]
    assert "\n" not in ours and "\r" not in ours
    regex = "".join(re.escape(part[1]) if part.startswith("\\") else "." if part == "?" else
                    "[^/]*" if part == "*" else re.escape(part)
                    for part in re.findall(r"\\.|.", ours, re.S))
    assert re.fullmatch(regex, name, re.S)
    assert not re.fullmatch(regex, ".git")


# ------------------------------------------------------------------ large files: the libyaml path

@pytest.mark.parametrize("value", ["yes", "no", "on", "0777", "0o17", "1_000", "0x1F"])
def test_a_large_file_reads_its_values_as_a_small_one_does(tmp_path: Path, value: str) -> None:
    """conda reads environment files as YAML 1.2 (ruamel): `yes` stays text, `0777` is 777,
    whatever the file's size; a large file (here 200 KB of comments) is read the same way."""
    from conda2docker.read import read_input

    body = f"name: x\nvariables:\n  FLAG: {value}\ndependencies:\n  - python\n"
    small = tmp_path / "small" / "environment.yml"
    large = tmp_path / "large" / "environment.yml"
    small.parent.mkdir()
    large.parent.mkdir()
    small.write_text(body)
    large.write_text(body + "# padding\n" * 20_000)
    assert len(large.read_text()) > 128 * 1024
    small_spec, large_spec = read_input(small), read_input(large)
    assert large_spec.variables == small_spec.variables
    assert dict(large_spec.variables)["FLAG"] not in ("True", "False", "true", "false")


def test_more_items_than_the_cap_are_refused_quickly_with_the_place(ws: Workspace, capsys: Any) -> None:
    env = ws.proj / "environment.yml"
    env.write_text("name: x\ndependencies: [" + ", ".join(f"p{n}" for n in range(12_000)) + "]\n")
    line = assert_refused(guarded_run(ws, capsys, ["inspect", str(env)]), 2, "more than 10,000 YAML items")
    assert "environment.yml:2:" in line


# ------------------------------------------------------------------ local pip files while locking

LOCAL_PIP = {
    "corrupt-sdist": ("bad-1.0.tar.gz", b"not a tar", 3, "not a readable"),
    "corrupt-wheel": ("bad-1.0-py3-none-any.whl", b"not a zip", 3, "not a readable"),
    "corrupt-zip-sdist": ("bad-1.0.zip", b"PK\x03\x04broken", 3, "not a readable"),
    "fifo": ("fifo-1.0.tar.gz", None, 2, "not a regular file"),
}


@pytest.mark.never_blocks
@pytest.mark.parametrize("case", sorted(LOCAL_PIP))
def test_a_hostile_local_pip_file_is_one_line_while_locking(ws: Workspace, capsys: Any, test_channel: TestChannel,
                                                           case: str) -> None:
    name, data, code, needle = LOCAL_PIP[case]
    if data is None:
        os.mkfifo(ws.proj / name)
    else:
        (ws.proj / name).write_bytes(data)
    env = _env_with_pip_line(ws, f"./{name}")
    env.write_text(env.read_text().replace("name: x\n", f"name: x\nchannels: [{test_channel.name}]\n")
                   .replace("  - python\n", "  - python=3.11\n"))
    outcome = guarded_run(ws, capsys, ["lock", str(env), "-o", str(ws.out / "conda-lock.yml"), "--offline",
                                       "--solver", "rattler", "--channel-alias", test_channel.alias])
    assert needle in assert_refused(outcome, code)


@pytest.mark.parametrize("dependencies", ["[]", "", "\n  - pip:\n    - --index-url https://pypi.org/simple"])
def test_an_environment_without_packages_is_refused_not_converted_to_an_empty_image(
        ws: Workspace, capsys: Any, small_channel: TestChannel, dependencies: str) -> None:
    env = ws.proj / "environment.yml"
    env.write_text(f"name: x\nchannels: [{small_channel.name}]\ndependencies: {dependencies}\n")
    outcome = guarded_run(ws, capsys, ["convert", str(env), "-o", str(ws.out), "--channel-alias",
                                       small_channel.alias, "--solver", "rattler", "--offline"])
    assert "lists no packages" in assert_refused(outcome, 2, "environment.yml")
    assert not ws.out.exists()
