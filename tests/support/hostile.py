"""Helpers for the hostile-input suites (tests/test_hostile_*.py).

Each case runs the real CLI (``conda2docker.cli.main``) in a workspace laid out as an attacker
would meet it::

    ws/proj/         the input (environment file or lock) and whatever it names
    ws/proj/out/     the output directory (the only place the tool may write)
    ws/victim/       files a hostile input tries to read, overwrite or delete

and asserts three things: the exit code, the error as exactly one line on stderr (no
traceback), and that nothing outside ``ws/proj/out`` changed (a checksum of the whole
workspace, types, modes and link targets included, before and after).
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conda2docker.cli import main

LINE_ENDS = ("\n", "\r", "\r\n", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")
"""Every line terminator ``str.splitlines`` knows. A ``$``-anchored pattern let a final ``\\n``
through; the others are kept out by the patterns' character classes, and tested so they stay out."""


def end_id(end: str) -> str:
    """A test id naming a line terminator by its code points (``U+000D-U+000A``).

    ``ids=repr`` gave ids with backslashes that pytest escapes once more each time a module is
    collected again in the same process, so the mutation run could not select those tests by id.
    """
    return "-".join(f"U+{ord(c):04X}" for c in end)

VICTIM_FILES = {
    "secret.txt": "TOP-SECRET-VALUE\n",
    "x-1-0.conda": "victim package\n",
    ".ssh/id_rsa": "-----BEGIN PRIVATE KEY-----\n",
}


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.startswith("conda2docker: error:")]


@dataclass(frozen=True)
class Workspace:
    root: Path

    @property
    def proj(self) -> Path:
        return self.root / "proj"

    @property
    def out(self) -> Path:
        return self.proj / "out"

    @property
    def victim(self) -> Path:
        return self.root / "victim"

    @property
    def chan(self) -> Path:
        return self.proj / "chan"


def make_workspace(tmp_path: Path) -> Workspace:
    ws = Workspace(tmp_path / "ws")
    ws.proj.mkdir(parents=True)
    for name, text in VICTIM_FILES.items():
        path = ws.victim / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return ws


def tree_state(root: Path, skip: Path | None = None) -> dict[str, tuple[Any, ...]]:
    """Every entry under ``root`` (except ``skip``): type, permission bits and content digest
    or link target. Never follows links, never opens special files."""
    state: dict[str, tuple[Any, ...]] = {}
    for directory, dirs, files in os.walk(root, followlinks=False):
        here = Path(directory)
        if skip is not None and (here == skip or skip in here.parents):
            dirs[:] = []
            continue
        for name in sorted([*dirs, *files]):
            path = here / name
            if skip is not None and path == skip:
                continue
            info = path.lstat()
            key = path.relative_to(root).as_posix()
            mode = stat.S_IMODE(info.st_mode)
            if stat.S_ISLNK(info.st_mode):
                state[key] = ("link", os.readlink(path))
            elif stat.S_ISREG(info.st_mode):
                state[key] = ("file", mode, hashlib.sha256(path.read_bytes()).hexdigest())
            elif stat.S_ISDIR(info.st_mode):
                state[key] = ("dir", mode)
            else:
                state[key] = ("special", mode)
    return state


def run_cli(argv: list[str], capsys: Any) -> Outcome:
    capsys.readouterr()
    code = main(argv)
    captured = capsys.readouterr()
    return Outcome(code, captured.out, captured.err)


def assert_refused(outcome: Outcome, code: int, *needles: str) -> str:
    """Exit ``code``, exactly one ``conda2docker: error:`` line holding every needle, no
    traceback anywhere."""
    assert "Traceback" not in outcome.err + outcome.out, outcome.err
    assert outcome.code == code, (outcome.code, outcome.err)
    lines = outcome.error_lines
    assert len(lines) == 1, outcome.err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


def conda_entry(name: str, url: str, *, md5: str | None = None, sha256: str | None = None,
                platform: str = "linux-64", extra: str = "") -> str:
    hashes = ", ".join(f"{k}: '{v}'" for k, v in (("md5", md5), ("sha256", sha256)) if v)
    return (f"- name: {name}\n  version: '1'\n  manager: conda\n  platform: {platform}\n"
            f"  dependencies: {{}}\n  url: {url}\n  hash: {{{hashes}}}\n"
            f"  category: main\n  optional: false\n{extra}")


def pip_entry(name: str, url: str, *, sha256: str | None = None, extra: str = "") -> str:
    hashes = f"sha256: '{sha256}'" if sha256 else ""
    return (f"- name: {name}\n  version: '1'\n  manager: pip\n  platform: linux-64\n"
            f"  dependencies: {{}}\n  url: {url}\n  hash: {{{hashes}}}\n"
            f"  category: main\n  optional: false\n{extra}")


def lock_text(entries: list[str], *, channels: str = "[conda-forge]") -> str:
    return ("version: 1\nmetadata:\n  platforms: [linux-64]\n"
            f"  channels: {channels}\n  content_hash: {{linux-64: x}}\n"
            "  sources: [environment.yml]\npackage:\n" + "".join(entries))


def package_file(ws: Workspace, file_name: str, data: bytes, subdir: str = "linux-64") -> tuple[str, str, str]:
    """A conda package file in the workspace's local channel: (file:// URL, md5, sha256)."""
    path = ws.chan / subdir / file_name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path.as_uri(), hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest()


def base_lock(ws: Workspace, *more: str) -> str:
    """A lock of one real (tiny) package from the local channel, plus ``more`` entries."""
    url, md5, sha = package_file(ws, "zlib-1.3.1-h0_0.conda", b"zlib package bytes")
    return lock_text([conda_entry("zlib", url, md5=md5, sha256=sha), *more])
