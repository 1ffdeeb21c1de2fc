"""The build context init's .dockerignore gives, computed by docker-py's own matcher (the one
``conda2docker build`` sends through): secrets, VCS, virtualenvs and caches stay out; in a git
repository only tracked files go in; user files are never lost (kept beside init's, or
backed up before --force replaces them); --dry-run says it all."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path, PurePosixPath

import pytest
from docker.utils.build import exclude_paths
from hypothesis import example, given, settings
from hypothesis import strategies as st

from conda2docker.cli import main
from conda2docker.errors import InputError
from conda2docker.init.dockerignore import ContextRule, allow_list, denied, render_dockerignore
from conda2docker.init.targets import (
    Backup,
    back_up,
    choose_targets,
    read_record,
    render_record,
)
from conda2docker.init.tracked import tracked_files
from conda2docker.lockfile import read_conda_lock, write_conda_lock
from support.locks import lock_pure_conda
from support.shared import shared_path

SECRETS = (".env", ".ssh/id_rsa", ".aws/credentials", "secrets.pem", "sub/.env.local",
           "keys/id_ed25519", ".netrc")
CLUTTER = (".git/config", ".venv/bin/python", "node_modules/x/index.js", "pkg/__pycache__/a.pyc",
           "data/raw.csv", "model.ckpt", ".ipynb_checkpoints/a.ipynb")
KEPT = ("README.md", "analysis.ipynb", "src/paper/__init__.py", "conda2docker/install_lock.py",
        "vendor/cacert.pem", "environment.yml")


def make_repo(root: Path, names: tuple[str, ...]) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{name}\n")


def context_of(root: Path, rule: ContextRule) -> set[str]:
    text = render_dockerignore(rule)
    patterns = [line for line in text.splitlines() if line and not line.startswith("#")]
    return {p for p in exclude_paths(str(root), patterns) if (root / p).is_file()}


def test_deny_list_keeps_secrets_and_clutter_out(tmp_path: Path) -> None:
    make_repo(tmp_path, SECRETS + CLUTTER + KEPT)
    sent = context_of(tmp_path, ContextRule(None, always=("conda2docker", "vendor")))
    assert not sent & set(SECRETS + CLUTTER)
    assert set(KEPT) <= sent


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@t", "HOME": str(root), "PATH": "/usr/bin:/bin"})


@pytest.fixture()
def git_repo(tmp_path: Path) -> Path:
    pytest.importorskip("shutil").which("git") or pytest.skip("git is not installed")
    make_repo(tmp_path, ("README.md", "src/paper/__init__.py", "src/paper/model.py", "notes.txt",
                         "results/table.csv", ".env"))
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "README.md", "src", "results/table.csv", ".env")
    make_repo(tmp_path, ("src/paper/scratch.py", "untracked.txt", ".ssh/id_rsa"))
    return tmp_path


def test_git_repository_sends_only_tracked_files(git_repo: Path) -> None:
    tracked, why = tracked_files(git_repo)
    assert tracked is not None, why
    entries, unstatable = allow_list(git_repo, tracked, ())
    assert unstatable == []
    assert "results" in entries  # every file of results/ is tracked: one entry
    assert "src/paper/__init__.py" in entries  # src/ holds an untracked file: listed one by one
    make_repo(git_repo, ("conda2docker/install_lock.py",))
    sent = context_of(git_repo, ContextRule(tuple(entries), always=("conda2docker", "vendor")))
    assert sent == {"README.md", "src/paper/__init__.py", "src/paper/model.py",
                    "results/table.csv", "conda2docker/install_lock.py"}  # .env: tracked, still out


def test_git_configuration_of_the_repository_runs_nothing(git_repo: Path) -> None:
    marker = git_repo / "fsmonitor-ran"
    hook = git_repo / "hook.sh"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\n")
    hook.chmod(0o755)
    git(git_repo, "config", "core.fsmonitor", str(hook))
    tracked, _ = tracked_files(git_repo)
    assert tracked is not None and not marker.exists()


def test_not_a_git_repository(tmp_path: Path) -> None:
    assert tracked_files(tmp_path) == (None, "not a git repository (no .git)")


_NAME = st.text(st.characters(codec="utf-8", exclude_characters="/\0"), min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(names=st.lists(st.lists(_NAME, min_size=1, max_size=3), min_size=1, max_size=8))
@example(names=[[".git", "0"]])  # docker-py lets `!.git/0` win over `**/.git`: never listed
def test_allow_list_sends_exactly_the_tracked_statable_files(tmp_path_factory: pytest.TempPathFactory,
                                                             names: list[list[str]]) -> None:
    root = tmp_path_factory.mktemp("repo")
    files: set[str] = set()
    for parts in names:
        if any(p in (".", "..") for p in parts):
            continue
        relative = "/".join(parts)
        path = root / relative
        try:
            if any(parent.is_file() for parent in path.parents if parent != root) or path.is_dir():
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("x")
        except OSError:
            continue
        files.add(relative)
    tracked = sorted(files)[::2]  # every other file is "tracked"
    entries, unstatable = allow_list(root, tracked, ())
    sent = context_of(root, ContextRule(tuple(entries)))
    expected = {f for f in tracked if f not in unstatable and not denied(PurePosixPath(f))}
    assert sent == expected


def test_user_files_are_kept_and_init_names_its_own(tmp_path: Path) -> None:
    make_repo(tmp_path, ("Dockerfile", "docker-compose.yml", ".dockerignore"))
    targets = choose_targets(tmp_path, "Dockerfile")
    assert (str(targets.dockerfile), str(targets.compose), str(targets.dockerignore)) == (
        "Dockerfile.conda2docker", "compose.conda2docker.yaml",
        "Dockerfile.conda2docker.dockerignore")
    (tmp_path / "Dockerfile").write_text("# Generated by conda2docker 0.1 `init`\nFROM x\n")
    (tmp_path / "docker-compose.yml").unlink()
    (tmp_path / ".dockerignore").unlink()
    targets = choose_targets(tmp_path, "Dockerfile")
    assert (str(targets.dockerfile), str(targets.compose), str(targets.dockerignore)) == (
        "Dockerfile", "compose.yaml", ".dockerignore")
    assert targets.kept == ()


def test_force_takes_the_standard_names_and_backs_up_the_users_files_first(tmp_path: Path) -> None:
    make_repo(tmp_path, ("Dockerfile", "Dockerfile.orig", "compose.yaml", "docker-compose.yml",
                         ".dockerignore"))
    (tmp_path / "Dockerfile.orig").write_text("an older backup\n")
    targets = choose_targets(tmp_path, "Dockerfile", force=True)
    assert (str(targets.dockerfile), str(targets.compose), str(targets.dockerignore)) == (
        "Dockerfile", "compose.yaml", ".dockerignore")
    assert targets.backups == (Backup(Path("Dockerfile"), Path("Dockerfile.orig.1")),
                               Backup(Path("compose.yaml"), Path("compose.yaml.orig")),
                               Backup(Path(".dockerignore"), Path(".dockerignore.orig")))
    assert targets.kept == (Path("docker-compose.yml"),)  # another name: left beside ours
    # A backup made in between (another run) is never overwritten: the next free name is used.
    (tmp_path / "compose.yaml.orig").write_text("made meanwhile\n")
    (tmp_path / "Dockerfile").unlink()
    (tmp_path / "Dockerfile").symlink_to("elsewhere")  # a link is kept as a link
    done = back_up(tmp_path, targets.backups)
    assert [str(b.backup) for b in done] == ["Dockerfile.orig.1", "compose.yaml.orig.1",
                                             ".dockerignore.orig"]
    assert (tmp_path / "Dockerfile.orig").read_text() == "an older backup\n"
    assert (tmp_path / "compose.yaml.orig").read_text() == "made meanwhile\n"
    assert (tmp_path / "compose.yaml.orig.1").read_text() == "compose.yaml\n"
    assert os.readlink(tmp_path / "Dockerfile.orig.1") == "elsewhere"
    assert not any((tmp_path / n).exists() or (tmp_path / n).is_symlink()
                   for n in ("Dockerfile", "compose.yaml", ".dockerignore"))
    # init's own files are regenerated in place: nothing to back up.
    (tmp_path / "Dockerfile").write_text("# Generated by conda2docker 0.1 `init`\nFROM x\n")
    assert choose_targets(tmp_path, "Dockerfile", force=True).backups == ()


def test_force_backs_up_a_file_of_inits_edited_by_hand(tmp_path: Path) -> None:
    generated = b"# Generated by conda2docker 0.1 `init`\nFROM x\n"
    for name in ("Dockerfile", "compose.yaml"):
        (tmp_path / name).write_bytes(generated)
    record_path = tmp_path / "generated.json"
    record_path.write_bytes(render_record({Path("Dockerfile"): generated,
                                           Path("compose.yaml"): generated}))
    record = read_record(record_path)
    assert choose_targets(tmp_path, "Dockerfile", force=True, record=record).backups == ()
    (tmp_path / "Dockerfile").write_bytes(generated + b"RUN my-edit\n")
    targets = choose_targets(tmp_path, "Dockerfile", force=True, record=record)
    assert targets.backups == (Backup(Path("Dockerfile"), Path("Dockerfile.orig")),)
    assert choose_targets(tmp_path, "Dockerfile", force=True).backups == ()  # no record: unknown
    for bad in (b"[1]", b"{\"Dockerfile\": \"abc\"}", b"not json", b"\xff"):
        record_path.write_bytes(bad)
        assert read_record(record_path) == {}


def test_force_backs_up_a_lock_conda2docker_did_not_write(tmp_path: Path) -> None:
    lock = Path("conda-lock.yml")
    (tmp_path / lock).write_text("# This lock file was generated by conda-lock\nmetadata:\n"
                                 "  custom_metadata: null\n")
    targets = choose_targets(tmp_path, "Dockerfile", force=True, lock=lock)
    assert targets.backups == (Backup(lock, Path("conda-lock.yml.orig")),)
    (tmp_path / lock).write_text("metadata:\n  custom_metadata:\n    generator: conda2docker\n")
    assert choose_targets(tmp_path, "Dockerfile", force=True, lock=lock).backups == ()
    assert choose_targets(tmp_path, "Dockerfile", force=True).backups == ()


def test_force_replaces_a_lock_conda2docker_wrote_without_a_backup(tmp_path: Path) -> None:
    """init --force knows a lock conda2docker wrote by the generator the lock records (a real
    five-platform lock written again carries it as early), and keeps no backup of it; the
    same lock as conda-lock wrote it is backed up."""
    lock = Path("conda-lock.yml")
    write_conda_lock(lock_pure_conda(), tmp_path / lock)
    assert choose_targets(tmp_path, "Dockerfile", force=True, lock=lock).backups == ()
    real = shared_path("locks", "Cantera__cantera-papers__conda-lock.yml")
    write_conda_lock(read_conda_lock(real), tmp_path / lock)
    assert choose_targets(tmp_path, "Dockerfile", force=True, lock=lock).backups == ()
    (tmp_path / lock).write_text(real.read_text())
    assert choose_targets(tmp_path, "Dockerfile", force=True, lock=lock).backups == (
        Backup(lock, Path("conda-lock.yml.orig")),)


def test_force_knows_its_lock_however_long_the_metadata(tmp_path: Path) -> None:
    """The generator line comes after the lock's channels, platforms and sources: a lock of
    conda2docker's listing many environment files is still known (no backup), while the same
    words anywhere but on the metadata's own line (a source's path, a package) are not."""
    lock = Path("conda-lock.yml")
    write_conda_lock(lock_pure_conda(), tmp_path / lock)
    text = (tmp_path / lock).read_text()
    sources = "".join(f"  - labs/group-{n:03d}/projects/analysis/environment.yml\n" for n in range(300))
    long_head = text.replace("  sources:\n", "  sources:\n" + sources, 1)
    assert long_head.index("generator: conda2docker") > 8192
    (tmp_path / lock).write_text(long_head)
    assert choose_targets(tmp_path, "Dockerfile", force=True, lock=lock).backups == ()
    backed_up = (Backup(lock, Path("conda-lock.yml.orig")),)
    not_ours = text.replace("    generator: conda2docker\n", "    generator: conda-lock\n", 1)
    assert not_ours != text
    for foreign in (
        not_ours.replace("  sources:\n", "  sources:\n  - 'generator: conda2docker'\n", 1),
        not_ours.replace("package:\n", "package:\n# generator: conda2docker\n", 1),
        not_ours + "    generator: conda2docker\n",  # in the packages, not the metadata
    ):
        (tmp_path / lock).write_text(foreign)
        assert choose_targets(tmp_path, "Dockerfile", force=True, lock=lock).backups == backed_up


def test_force_that_cannot_back_up_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").mkdir()  # a directory cannot be hard-linked: no backup, no write
    targets = choose_targets(tmp_path, "Dockerfile", force=True)
    with pytest.raises(InputError, match=r"cannot keep a backup of your Dockerfile.*init wrote nothing"):
        back_up(tmp_path, targets.backups)
    assert (tmp_path / "Dockerfile").is_dir() and not (tmp_path / "Dockerfile.orig").exists()


def test_force_backs_up_by_copy_where_links_are_refused(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    make_repo(tmp_path, ("Dockerfile", ".dockerignore"))
    (tmp_path / ".dockerignore").unlink()
    (tmp_path / ".dockerignore").symlink_to("shared.dockerignore")

    def no_links(*_args: object, **_kwargs: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)  # a filesystem without hard links
    done = back_up(tmp_path, choose_targets(tmp_path, "Dockerfile", force=True).backups)
    assert [str(b.backup) for b in done] == ["Dockerfile.orig", ".dockerignore.orig"]
    assert (tmp_path / "Dockerfile.orig").read_text() == "Dockerfile\n"
    assert os.readlink(tmp_path / ".dockerignore.orig") == "shared.dockerignore"
    assert not (tmp_path / "Dockerfile").exists()


def test_dry_run_with_force_names_each_backup(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    make_repo(tmp_path, ("Dockerfile", "Dockerfile.orig", "requirements.txt"))
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert main(["init", str(tmp_path), "--dry-run", "--force"]) == 0
    err = capsys.readouterr().err
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before
    assert "replace Dockerfile" in err
    assert "back up Dockerfile as Dockerfile.orig.1 (yours, kept) before replacing it" in err
    (tmp_path / "Dockerfile.conda2docker").write_text("# Generated by conda2docker 0.1 `init`\n")
    assert main(["init", str(tmp_path), "--dry-run", "--force"]) == 0
    assert "Dockerfile.conda2docker (init's, from a run beside your files) is no longer used" \
        in capsys.readouterr().err


def test_dry_run_lists_every_write_and_every_skip(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    make_repo(tmp_path, ("Dockerfile", "compose.yaml", "requirements.txt", ".env"))
    (tmp_path / "binder").mkdir()
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert main(["init", str(tmp_path), "--dry-run", "--vendor", "--readme"]) == 0
    err = capsys.readouterr().err
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before
    for line in ("write   Dockerfile.conda2docker", "write   compose.conda2docker.yaml",
                 "write   Dockerfile.conda2docker.dockerignore", "write   conda-lock.yml",
                 "write   conda2docker/environment.yml", "skip Dockerfile (yours, kept)",
                 "skip compose.yaml (yours, kept)", "write   vendor", "write   README.md"):
        assert line in err, err
    assert "binder/" not in err.split("files:")[1]
    assert "build context: everything but secrets" in err


def test_dry_run_knows_an_inferred_environment_is_up_to_date(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from conda2docker.init.survey import survey

    make_repo(tmp_path, ("requirements.txt",))
    inferred = survey(tmp_path).plan.inferred
    assert inferred is not None
    (tmp_path / "conda2docker").mkdir()
    (tmp_path / "conda2docker" / "environment.yml").write_text(inferred.text)
    assert main(["init", str(tmp_path), "--dry-run"]) == 0
    assert "keep    (up to date) conda2docker/environment.yml" in capsys.readouterr().err
    (tmp_path / "conda2docker" / "environment.yml").write_text(inferred.text + "# edited\n")
    assert main(["init", str(tmp_path), "--dry-run"]) == 0
    assert "refuse (exists; --force to replace) conda2docker/environment.yml" in capsys.readouterr().err
