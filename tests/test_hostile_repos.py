"""Hostile repositories for ``init``: links in place of the files it writes, file names that
would add a ``.dockerignore`` rule. Each case asserts the exit code, the one-line error and
that nothing outside the repository's declared outputs changed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from support.channel import TestChannel
from support.hostile import Workspace, assert_refused, end_id, make_workspace, run_cli, tree_state


def write_repo(ws: Workspace, channel: TestChannel) -> Path:
    repo = ws.proj
    (repo / "environment.yml").write_text(
        f"name: paper\nchannels: [{channel.name}]\ndependencies:\n  - hello-noarch\n")
    return repo


def init(ws: Workspace, capsys: Any, channel: TestChannel, *extra: str) -> Any:
    return run_cli(["init", str(ws.proj), "--channel-alias", channel.alias, *extra], capsys)


@pytest.mark.parametrize("link", ["Dockerfile", "compose.yaml", ".dockerignore", "conda-lock.yml",
                                  "conda2docker", "README.md"])
def test_a_link_in_place_of_an_init_output_is_never_followed(
        tmp_path: Path, capsys: Any, small_channel: TestChannel, link: str) -> None:
    ws = make_workspace(tmp_path)
    write_repo(ws, small_channel)
    target = ws.victim / ("secret.txt" if "." in link else ".ssh")
    (ws.proj / link).symlink_to(target)
    before = tree_state(ws.victim)
    outcome = init(ws, capsys, small_channel, "--force", "--readme")
    if link in ("Dockerfile", "compose.yaml", ".dockerignore", "conda-lock.yml"):
        # A file of the user's (a link counts; a lock conda2docker did not write): --force keeps
        # it, as a link, under <name>.orig and writes init's own file in its place; the link's
        # target is never written.
        assert outcome.code == 0, outcome.err
        kept = ws.proj / f"{link}.orig"
        assert kept.is_symlink() and kept.readlink() == target
        assert not (ws.proj / link).is_symlink() and (ws.proj / link).is_file()
    else:
        assert_refused(outcome, 2, "outside the output directory")
    assert tree_state(ws.victim) == before
    assert "TOP-SECRET" not in "".join(p.read_text(errors="replace") for p in ws.proj.rglob("*")
                                       if p.is_file() and not p.is_symlink())


@pytest.mark.parametrize("name", ["big\n!.git", "!big", "#big", "big*"])
def test_a_large_file_with_a_hostile_name_is_excluded_by_exactly_one_pattern(
        tmp_path: Path, capsys: Any, small_channel: TestChannel, name: str) -> None:
    ws = make_workspace(tmp_path)
    write_repo(ws, small_channel)
    with (ws.proj / name).open("wb") as handle:
        handle.truncate(2 * 1024 * 1024)
    before = tree_state(ws.victim)
    outcome = init(ws, capsys, small_channel, "--large-file-mb", "1")
    assert outcome.code == 0, outcome.err
    lines = (ws.proj / ".dockerignore").read_text().splitlines()
    # Only conda2docker's own support files are re-included (not a git repository: deny-list).
    assert [line for line in lines if line.startswith("!")] == ["!conda2docker", "!vendor"]
    assert "!.git" not in lines and "**/.git" in lines
    assert tree_state(ws.victim) == before


@pytest.mark.parametrize(("name", "content", "where"), [
    ("requirements.txt", b"numpy\n\xff\xfe bad\n", "requirements.txt:2:1"),
    ("apt.txt", b"libgl1\n\xc3\n", "apt.txt:2:1"),
    ("runtime.txt", b"python-3.999999999999999999999\n", "runtime.txt:1:1"),
    ("runtime.txt", b"python-3.11\n\xff", "runtime.txt:2:1"),
])
def test_a_repository_file_that_is_not_what_it_claims_is_one_line_at_its_place(
        tmp_path: Path, capsys: Any, name: str, content: bytes, where: str) -> None:
    """Non-UTF-8 text and absurd Python versions in the small repo2docker files: one line at
    the file's own line (never a traceback, never a line of a file init made itself)."""
    ws = make_workspace(tmp_path)
    (ws.proj / name).write_bytes(content)
    before = tree_state(ws.victim)
    outcome = run_cli(["init", str(ws.proj), "--dry-run"], capsys)
    assert_refused(outcome, 2, where)
    assert tree_state(ws.victim) == before


@pytest.mark.parametrize("end", ["\n", "\r", "\u2028"], ids=end_id)
def test_a_file_name_ending_in_a_line_terminator_is_not_the_environment(
        tmp_path: Path, capsys: Any, small_channel: TestChannel, end: str) -> None:
    """``environment-dev.yml\\n`` is shorter than ``environment-devel.yml`` and once passed the
    variant check (``$`` matched before its final line break): it would have been the
    environment, its name in the generated files."""
    ws = make_workspace(tmp_path)
    (ws.proj / "environment-devel.yml").write_text(
        f"name: paper\nchannels: [{small_channel.name}]\ndependencies:\n  - hello-noarch\n")
    (ws.proj / f"environment-dev.yml{end}").write_text("name: evil\ndependencies:\n  - not-in-any-channel\n")
    before = tree_state(ws.victim)
    outcome = init(ws, capsys, small_channel)
    assert outcome.code == 0, outcome.err
    assert "environment-devel.yml" in outcome.out + outcome.err
    for made in ("Dockerfile", "compose.yaml", ".dockerignore", "conda-lock.yml"):
        text = (ws.proj / made).read_text()
        assert "evil" not in text and "not-in-any-channel" not in text, made
        assert "environment-dev.yml\n" not in text and "environment-dev.yml\r" not in text, made
    assert tree_state(ws.victim) == before


@pytest.mark.parametrize("end", ["\n", "\r", "\x0b", "\x0c", "\x1c", "\x85", "\u2028", "\u2029"], ids=end_id)
def test_runtime_txt_is_one_version_whatever_line_terminator_follows_it(
        tmp_path: Path, capsys: Any, end: str) -> None:
    """repo2docker reads the first line; a terminator ends the version, and what follows is
    never part of it (nor of anything init would write)."""
    ws = make_workspace(tmp_path)
    (ws.proj / "runtime.txt").write_text(f"python-3.11{end}RUN touch /tmp/pwned\n", newline="")
    before = tree_state(ws.root)
    outcome = run_cli(["init", str(ws.proj), "--dry-run"], capsys)
    assert outcome.code == 0, outcome.err
    assert "python=3.11 (runtime.txt)" in outcome.out + outcome.err
    assert "pwned" not in outcome.out + outcome.err
    assert tree_state(ws.root) == before
