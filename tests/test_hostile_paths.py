"""Hostile locks against the file system: traversal, symlinks in the output, host files pulled
into the context, user files deleted. Every case runs the real CLI and asserts the exit code,
the one-line error and that nothing outside the output directory changed.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest

from support.hostile import (
    Workspace,
    assert_refused,
    base_lock,
    conda_entry,
    lock_text,
    make_workspace,
    package_file,
    pip_entry,
    run_cli,
    tree_state,
)

MD5 = "0" * 32
SHA = "1" * 64


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return make_workspace(tmp_path)


def convert(ws: Workspace, capsys: Any, *extra: str, name: str = "conda-lock.yml") -> Any:
    return run_cli(["convert", str(ws.proj / name), "-o", str(ws.out), *extra], capsys)


def outside_unchanged(ws: Workspace, before: dict[str, Any]) -> None:
    assert tree_state(ws.root, skip=ws.out) == before


# ------------------------------------------------------------------ traversal through names

TRAVERSING_CONDA_URLS = [
    "https://h.example/c/linux-64/..%2F..%2F..%2Fvictim%2Fx-1-0.conda",
    "https://h.example/c/linux-64/..%2f..%2fvictim%2fx-1-0.conda",
    "https://h.example/c/linux-64/%2E%2E%2F%2E%2E%2Fx-1-0.conda",
    "https://h.example/c/linux-64/..%5C..%5Cx-1-0.conda",
    "https://h.example/c/%2e%2e/x-1-0.conda",
    "https://h.example/c/../../x-1-0.conda",
    "https://h.example/c/linux-64/..",
    "https://h.example/c/linux-64/x-1-0.conda%00.txt",
    "https://h.example/c/linux-64/x%0A-1-0.conda",
    "https://h.example/c/linux-64/.x-1-0.conda",
    "https://h.example/c/linux%2F..%2F..-64/x-1-0.conda",
    "https://h.example/c/%2Fetc/x-1-0.conda",
    "file:///etc/x-1-0.conda/..",
    "https://h.example/c/linux-64/%2Fetc%2Fpasswd",
    "https://h.example/c/linux-64/x-1-0.conda/",
]


@pytest.mark.parametrize("url", TRAVERSING_CONDA_URLS)
def test_a_conda_url_that_would_leave_the_context_is_refused(ws: Workspace, capsys: Any, url: str) -> None:
    (ws.proj / "conda-lock.yml").write_text(base_lock(ws, conda_entry("x", url, md5=MD5, sha256=SHA)))
    before = tree_state(ws.root, skip=ws.out)
    outcome = convert(ws, capsys, "--vendor")
    line = assert_refused(outcome, 2, "conda-lock.yml")
    assert "\n" not in line
    outside_unchanged(ws, before)
    assert not ws.out.exists()


TRAVERSING_PIP_URLS = [
    "https://files.example/..%2F..%2F..%2Fvictim%2Fsecret-1.tar.gz",
    "https://files.example/..%2f..%2fx-1.tar.gz",
    "https://files.example/a/..%5C..%5Cx-1.tar.gz",
    "https://files.example/a/%2E%2E/x-1.tar.gz",
    "https://files.example/../x-1-py3-none-any.whl",
    "https://files.example/%2Fetc%2Fx-1-py3-none-any.whl",
    "https://files.example/x%0A-1.tar.gz",
    "https://files.example/.x-1.tar.gz",
    "https://files.example/x-1.tar.gz#subdirectory=../../victim",
    "https://files.example/x-1.tar.gz#a b",
]


@pytest.mark.parametrize("url", TRAVERSING_PIP_URLS)
def test_a_pip_url_that_would_leave_the_context_is_refused(ws: Workspace, capsys: Any, url: str) -> None:
    quoted = "'" + url + "'"
    (ws.proj / "conda-lock.yml").write_text(base_lock(ws, pip_entry("x", quoted, sha256=SHA)))
    before = tree_state(ws.root, skip=ws.out)
    assert_refused(convert(ws, capsys, "--vendor"), 2, "conda-lock.yml")
    outside_unchanged(ws, before)


@pytest.mark.parametrize("line", [
    "https://h.example/c/linux-64/..%2F..%2Fvictim%2Fx-1-0.conda#" + MD5,
    "https://h.example/c/%2e%2e/x-1-0.conda#" + MD5,
    "file:///etc/shadow",
    "https://h.example/c/linux-64/x-1-0.conda#" + MD5 + "#" + MD5,
    "https://h.example/c/linux-64/x-1-0.conda#not-an-md5",
    "https://h.example/c/linux-64/x-1-0.conda#sha256:zz",
    "not a url",
    "ftp://h.example/c/linux-64/x-1-0.conda#" + MD5,
    "javascript:alert(1)/linux-64/x-1-0.conda",
    "# pip x @ https://files.example/..%2F..%2Fvictim%2Fx-1.tar.gz",
    "# pip x @ https://files.example/x-1.tar.gz#md5=" + MD5,
    "# pip x @ https://files.example/x-1.tar.gz#sha256=nothex",
    "# pip x @ data:text/plain,x",
    "# platform: ../../victim",
])
def test_explicit_lock_lines_that_would_escape_are_refused(ws: Workspace, capsys: Any, line: str) -> None:
    url, md5, _ = package_file(ws, "zlib-1.3.1-h0_0.conda", b"zlib")
    (ws.proj / "explicit.txt").write_text(f"@EXPLICIT\n{url}#{md5}\n{line}\n")
    before = tree_state(ws.root, skip=ws.out)
    assert_refused(convert(ws, capsys, "--vendor", name="explicit.txt"), 2, "explicit.txt:")
    outside_unchanged(ws, before)


# ------------------------------------------------------------------ symlinks in the output

@pytest.mark.parametrize("link", ["conda2docker", "vendor", "vendor/channel", "vendor/channel/linux-64",
                                  "Dockerfile", "compose.yaml", ".dockerignore", "audit.md",
                                  "conda-lock.yml", "vendor/channel/linux-64/zlib-1.3.1-h0_0.conda",
                                  "conda2docker/conda-linux-64.lock"])
def test_a_symlink_in_the_output_is_never_followed_outside(ws: Workspace, capsys: Any, link: str) -> None:
    (ws.proj / "conda-lock.yml").write_text(base_lock(ws))
    target = ws.victim / ("secret.txt" if "." in link.rsplit("/", 1)[-1] else ".ssh")
    path = ws.out / link
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(target)
    before = tree_state(ws.root, skip=ws.out)
    assert_refused(convert(ws, capsys, "--vendor", "--force"), 2, "outside the output directory")
    outside_unchanged(ws, before)


@pytest.mark.parametrize("link", ["Dockerfile", "vendor", "conda2docker"])
def test_a_dangling_symlink_in_the_output_is_never_followed(ws: Workspace, capsys: Any, link: str) -> None:
    (ws.proj / "conda-lock.yml").write_text(base_lock(ws))
    ws.out.mkdir()
    (ws.out / link).symlink_to(ws.victim / "created-by-attack")
    before = tree_state(ws.root, skip=ws.out)
    assert_refused(convert(ws, capsys, "--vendor", "--force"), 2, "outside the output directory")
    outside_unchanged(ws, before)
    assert not (ws.victim / "created-by-attack").exists()


def test_a_symlink_inside_the_output_that_stays_inside_is_fine(ws: Workspace, capsys: Any) -> None:
    (ws.proj / "conda-lock.yml").write_text(base_lock(ws))
    (ws.out / "real-vendor").mkdir(parents=True)
    (ws.out / "vendor").symlink_to("real-vendor")
    outcome = convert(ws, capsys, "--vendor")
    assert outcome.code == 0, outcome.err
    assert (ws.out / "real-vendor" / "channel" / "linux-64" / "zlib-1.3.1-h0_0.conda").is_file()


# ------------------------------------------------------------------ host files into the context

def local_package(root: Path, name: str = "mypkg") -> Path:
    package = root / name
    (package / "src").mkdir(parents=True)
    (package / "pyproject.toml").write_text('[project]\nname = "mypkg"\nversion = "1"\n')
    (package / "src" / "mod.py").write_text("VALUE = 1\n")
    return package


def python_lock(ws: Workspace, *more: str) -> str:
    """python and pip from a remote channel (never fetched: these tests do not vendor them)."""
    entries = [conda_entry(name, f"https://conda.example/c/linux-64/{name}-3.11.0-h0_0.conda",
                           md5=hashlib.md5(name.encode()).hexdigest())
               for name in ("python", "pip")]
    return lock_text([*entries, *more])


@pytest.mark.parametrize("where", ["victim/.ssh", "victim", "/"])
def test_a_local_pip_directory_outside_the_input_tree_is_refused(ws: Workspace, capsys: Any, where: str) -> None:
    source = ws.root / where if where != "/" else Path("/")
    url = source.as_uri()
    (ws.proj / "conda-lock.yml").write_text(python_lock(ws, pip_entry("mypkg", url)))
    before = tree_state(ws.root, skip=ws.out)
    line = assert_refused(convert(ws, capsys), 2, "lies outside", "--allow-path")
    assert "TOP-SECRET" not in line
    outside_unchanged(ws, before)
    assert not (ws.out / "sources").exists()
    assert not (ws.out / "Dockerfile").exists(), "refused before anything is written"


def test_allow_path_names_a_trusted_directory(ws: Workspace, capsys: Any) -> None:
    package = local_package(ws.root / "shared")
    (ws.proj / "conda-lock.yml").write_text(python_lock(ws, pip_entry("mypkg", package.as_uri())))
    assert_refused(convert(ws, capsys), 2, "lies outside")
    outcome = convert(ws, capsys, "--allow-path", str(ws.root / "shared"))
    assert outcome.code == 0, outcome.err
    assert (ws.out / "sources" / "mypkg" / "src" / "mod.py").read_text() == "VALUE = 1\n"


@pytest.mark.never_blocks
def test_a_local_source_inside_the_input_tree_is_copied_without_escaping_links(
        ws: Workspace, capsys: Any) -> None:
    package = local_package(ws.proj)
    (package / "leak").symlink_to(ws.victim / "secret.txt")
    (package / "leakdir").symlink_to(ws.victim / ".ssh")
    (package / "dangling").symlink_to(ws.victim / "missing")
    (package / "inner").symlink_to("pyproject.toml")
    os.mkfifo(package / "fifo")
    (ws.proj / "conda-lock.yml").write_text(python_lock(ws, pip_entry("mypkg", package.as_uri())))
    before = tree_state(ws.root, skip=ws.out)
    outcome = convert(ws, capsys)
    assert outcome.code == 0, outcome.err
    copied = ws.out / "sources" / "mypkg"
    assert (copied / "src" / "mod.py").is_file()
    assert (copied / "inner").read_text() == (package / "pyproject.toml").read_text()
    for absent in ("leak", "leakdir", "dangling", "fifo"):
        assert not os.path.lexists(copied / absent), absent
    assert "TOP-SECRET" not in "".join(p.read_text(errors="replace") for p in ws.out.rglob("*")
                                       if p.is_file())
    outside_unchanged(ws, before)


@pytest.mark.parametrize("entry", [
    lambda ws: pip_entry("secret", (ws.victim / "secret-1.tar.gz").as_uri(),
                         sha256=hashlib.sha256(b"x").hexdigest()),
    lambda ws: pip_entry("secret", (ws.victim / "secret-1-py3-none-any.whl").as_uri(),
                         sha256=hashlib.sha256(b"x").hexdigest()),
])
def test_a_local_pip_archive_outside_the_input_tree_is_not_vendored(ws: Workspace, capsys: Any, entry: Any) -> None:
    for name in ("secret-1.tar.gz", "secret-1-py3-none-any.whl"):
        (ws.victim / name).write_bytes(b"x")
    (ws.proj / "conda-lock.yml").write_text(python_lock(ws, entry(ws)))
    before = tree_state(ws.root, skip=ws.out)
    assert_refused(convert(ws, capsys, "--vendor"), 2, "outside", "--allow-path")
    outside_unchanged(ws, before)
    assert not [p for p in ws.out.rglob("secret*")] if ws.out.exists() else True


@pytest.mark.parametrize("hashes", [{}, {"md5": None, "sha256": None}])
def test_a_vendored_file_without_a_hash_is_refused(ws: Workspace, capsys: Any, hashes: dict[str, Any]) -> None:
    url, _, _ = package_file(ws, "nohash-1-0.conda", b"anything")
    (ws.proj / "conda-lock.yml").write_text(base_lock(ws, conda_entry("nohash", url)))
    before = tree_state(ws.root, skip=ws.out)
    assert_refused(convert(ws, capsys, "--vendor"), 2, "no hash")
    outside_unchanged(ws, before)
    assert not (ws.out / "Dockerfile").exists()


def test_a_pip_file_without_a_hash_is_not_vendored(ws: Workspace, capsys: Any) -> None:
    (ws.proj / "conda-lock.yml").write_text(
        python_lock(ws, pip_entry("six", "https://files.example/six-1-py3-none-any.whl")))
    assert_refused(convert(ws, capsys, "--vendor"), 2, "no hash")


@pytest.mark.parametrize("ref", ["main", "v1.0", "758ea19", "HEAD", "-b", "--upload-pack=touch"])
def test_a_git_source_is_vendored_only_when_pinned_to_a_full_commit(ws: Workspace, capsys: Any, ref: str) -> None:
    (ws.proj / "conda-lock.yml").write_text(
        python_lock(ws, pip_entry("g", f"'git+https://git.example/g.git@{ref}'")))
    before = tree_state(ws.root, skip=ws.out)
    assert_refused(convert(ws, capsys, "--vendor"), 2, "full commit")
    outside_unchanged(ws, before)


@pytest.mark.parametrize("which", ["md5", "sha256"])
def test_a_file_that_fails_its_hash_is_deleted(ws: Workspace, capsys: Any, which: str) -> None:
    url, _, _ = package_file(ws, "bad-1-0.conda", b"real bytes")
    wrong = {"md5": ("f" * 32, None), "sha256": (None, "e" * 64)}[which]
    (ws.proj / "conda-lock.yml").write_text(
        base_lock(ws, conda_entry("bad", url, md5=wrong[0], sha256=wrong[1])))
    before = tree_state(ws.root, skip=ws.out)
    line = assert_refused(convert(ws, capsys, "--vendor"), 3, f"{which}", "not kept")
    assert "bad-1-0.conda" in line
    assert not (ws.out / "vendor" / "channel" / "linux-64" / "bad-1-0.conda").exists()
    assert not [p for p in (ws.out / "vendor").rglob(".bad*")]
    outside_unchanged(ws, before)


@pytest.mark.never_blocks
def test_a_special_file_as_a_local_channel_package_is_refused_without_blocking(
        ws: Workspace, capsys: Any) -> None:
    fifo = ws.chan / "linux-64" / "fifo-1-0.conda"
    fifo.parent.mkdir(parents=True)
    os.mkfifo(fifo)
    (ws.proj / "conda-lock.yml").write_text(
        base_lock(ws, conda_entry("fifo", fifo.as_uri(), md5=MD5)))
    assert_refused(convert(ws, capsys, "--vendor"), 3, "not a regular file")


# ------------------------------------------------------------------ user files never lost

def test_user_files_in_a_sources_directory_are_kept_without_force(ws: Workspace, capsys: Any) -> None:
    package = local_package(ws.proj)
    (ws.proj / "conda-lock.yml").write_text(python_lock(ws, pip_entry("mypkg", package.as_uri())))
    assert convert(ws, capsys).code == 0
    mine = ws.out / "sources" / "mypkg" / "my-notes.txt"
    mine.write_text("mine\n")
    assert_refused(convert(ws, capsys), 1, "--force")
    assert mine.read_text() == "mine\n"
    assert convert(ws, capsys, "--force").code == 0
    assert not mine.exists()


def test_an_unchanged_sources_copy_is_left_alone(ws: Workspace, capsys: Any) -> None:
    package = local_package(ws.proj)
    (ws.proj / "conda-lock.yml").write_text(python_lock(ws, pip_entry("mypkg", package.as_uri())))
    assert convert(ws, capsys).code == 0
    first = tree_state(ws.out)
    assert convert(ws, capsys).code == 0
    assert tree_state(ws.out) == first


def test_force_keeps_a_read_only_file_read_only(ws: Workspace, capsys: Any) -> None:
    (ws.proj / "conda-lock.yml").write_text(base_lock(ws))
    assert convert(ws, capsys).code == 0
    dockerfile = ws.out / "Dockerfile"
    dockerfile.write_text("# mine\n")
    dockerfile.chmod(0o444)
    assert_refused(convert(ws, capsys), 1, "--force")
    assert convert(ws, capsys, "--force").code == 0
    assert dockerfile.stat().st_mode & 0o777 == 0o444
    assert dockerfile.read_text() != "# mine\n"


@pytest.mark.never_blocks
def test_a_fifo_in_place_of_an_output_file_never_blocks(ws: Workspace, capsys: Any) -> None:
    (ws.proj / "conda-lock.yml").write_text(base_lock(ws))
    ws.out.mkdir()
    os.mkfifo(ws.out / "Dockerfile")
    assert_refused(convert(ws, capsys), 1, "Dockerfile", "--force")
    assert convert(ws, capsys, "--force").code == 0
    assert (ws.out / "Dockerfile").is_file()


# ------------------------------------------------------------------ single output files

@pytest.mark.parametrize("command", [["audit", "--output"], ["graph", "--output"]])
def test_a_report_file_that_is_a_symlink_is_never_followed(ws: Workspace, capsys: Any, command: list[str]) -> None:
    (ws.proj / "conda-lock.yml").write_text(base_lock(ws))
    report = ws.proj / "report.txt"
    report.symlink_to(ws.victim / "secret.txt")
    before = tree_state(ws.root, skip=ws.out)
    outcome = run_cli([command[0], str(ws.proj / "conda-lock.yml"), command[1], str(report)], capsys)
    assert_refused(outcome, 2, "outside the output directory")
    assert tree_state(ws.root, skip=ws.out) == before


def test_a_build_log_that_is_a_symlink_is_never_followed(ws: Workspace, capsys: Any) -> None:
    from conda2docker.engine.build import build_image
    from conda2docker.errors import InputError

    ws.out.mkdir()
    (ws.out / "Dockerfile").write_text("FROM scratch\n")
    (ws.out / "build.log").symlink_to(ws.victim / "secret.txt")
    before = tree_state(ws.root, skip=ws.out)
    with pytest.raises(InputError, match="outside the output directory"):
        build_image(ws.out, tag="c2d-h15-never-built", client=object())  # type: ignore[arg-type]
    assert tree_state(ws.root, skip=ws.out) == before


def test_packages_from_a_local_channel_are_vendored_without_being_asked(ws: Workspace, capsys: Any) -> None:
    """A file:// URL cannot be fetched by any docker build: the context carries the file."""
    (ws.proj / "conda-lock.yml").write_text(base_lock(ws))
    outcome = convert(ws, capsys)
    assert outcome.code == 0, outcome.err
    assert "local file:// URLs" in outcome.err and "vendored" in outcome.err
    assert (ws.out / "vendor" / "channel" / "linux-64" / "zlib-1.3.1-h0_0.conda").is_file()
    explicit = (ws.out / "conda2docker" / "conda-linux-64.lock").read_text()
    assert ws.chan.as_uri() not in explicit  # the build installs the copy in the context


@pytest.mark.parametrize("where", ["/proc/c2d-h15-out", "/dev/null/out", "/proc/self/fd/0/out"])
def test_an_output_that_cannot_be_written_is_one_line(ws: Workspace, capsys: Any, where: str) -> None:
    (ws.proj / "conda-lock.yml").write_text(base_lock(ws))
    before = tree_state(ws.root, skip=ws.out)
    outcome = run_cli(["convert", str(ws.proj / "conda-lock.yml"), "-o", where], capsys)
    assert outcome.code in (1, 2), outcome.err
    assert len(outcome.error_lines) == 1 and "Traceback" not in outcome.err
    assert tree_state(ws.root, skip=ws.out) == before


def test_an_output_given_as_a_dangling_symlink_is_created_where_it_points(ws: Workspace, capsys: Any) -> None:
    """The user named that link: its target is the output (nothing else is written)."""
    (ws.proj / "conda-lock.yml").write_text(base_lock(ws))
    link = ws.proj / "out-link"
    link.symlink_to(ws.proj / "real-out")
    assert run_cli(["convert", str(ws.proj / "conda-lock.yml"), "-o", str(link)], capsys).code == 0
    assert (ws.proj / "real-out" / "Dockerfile").is_file()


@pytest.mark.parametrize("pyproject", [
    "build-system = 1\n", "[build-system]\nrequires = 5\n", "[build-system]\nrequires = [1, 2]\n",
    '[build-system]\nrequires = ["--index-url=https://evil", "x\\ny"]\n', "not toml [[[\n", "\x00\x01",
])
def test_build_requirements_of_a_hostile_pyproject_are_safe(tmp_path: Path, pyproject: str) -> None:
    from conda2docker.context import DEFAULT_BUILD_REQUIRES, build_requires

    (tmp_path / "pyproject.toml").write_text(pyproject)
    requires = build_requires(tmp_path)
    assert all(not r.startswith("-") and "\n" not in r for r in requires)
    assert requires in (DEFAULT_BUILD_REQUIRES, ())  # nothing hostile is kept


@pytest.mark.parametrize("data", [b"not a tar", b"\x1f\x8b\x08broken gzip", b""])
def test_build_requirements_of_a_corrupt_archive_are_the_default(tmp_path: Path, data: bytes) -> None:
    from conda2docker.context import DEFAULT_BUILD_REQUIRES, build_requires

    for name in ("x-1.tar.gz", "x-1.zip"):
        (tmp_path / name).write_bytes(data)
        assert build_requires(tmp_path / name) == DEFAULT_BUILD_REQUIRES


@pytest.mark.parametrize("fmt", ["dot", "json", "graphml"])
def test_a_graph_of_names_differing_only_in_case_is_written(ws: Workspace, capsys: Any, fmt: str) -> None:
    entries = [conda_entry(name, f"https://c.example/c/linux-64/{name}-1-h0_0.conda", md5=MD5,
                           extra="") .replace("dependencies: {}", f"dependencies: {deps}")
               for name, deps in (("Python", "{}"), ("numpy", "{python: '>=3'}"), ("python", "{Python: ''}"))]
    (ws.proj / "conda-lock.yml").write_text(lock_text(entries))
    outcome = run_cli(["graph", str(ws.proj / "conda-lock.yml"), "--format", fmt], capsys)
    assert outcome.code == 0, outcome.err
    assert "Python" in outcome.out


def test_a_local_wheel_inside_the_tree_is_vendored_without_being_asked(ws: Workspace, capsys: Any) -> None:
    wheel = ws.proj / "wheels" / "mywheel-1.0-py3-none-any.whl"
    wheel.parent.mkdir()
    wheel.write_bytes(b"wheel bytes")
    sha = hashlib.sha256(b"wheel bytes").hexdigest()
    entries = []
    for name in ("python", "pip"):  # from the local channel: vendoring needs no network
        url, md5, sha_conda = package_file(ws, f"{name}-3.11.0-h0_0.conda", name.encode())
        entries.append(conda_entry(name, url, md5=md5, sha256=sha_conda))
    (ws.proj / "conda-lock.yml").write_text(lock_text([*entries, pip_entry("mywheel", wheel.as_uri(), sha256=sha)]))
    before = tree_state(ws.root, skip=ws.out)
    outcome = convert(ws, capsys)
    assert outcome.code == 0, outcome.err
    assert "local file:// URLs" in outcome.err
    assert (ws.out / "vendor" / "pip" / wheel.name).read_bytes() == b"wheel bytes"
    assert ws.proj.as_uri() not in (ws.out / "conda2docker" / "requirements.pip.txt").read_text()
    assert tree_state(ws.root, skip=ws.out) == before
