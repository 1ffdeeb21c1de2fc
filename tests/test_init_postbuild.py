"""postBuild read statically (its install lines locked, nodejs when it calls npm) and the check
that stands for ``mamba``/``conda`` while it runs (the real script, run by ``sh``)."""

from __future__ import annotations

import subprocess
from importlib.resources import files
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conda2docker.errors import InputError
from conda2docker.init.postbuild import read_post_build


def needs_of(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    (tmp_path / "postBuild").write_text(text)
    return read_post_build(tmp_path, Path("postBuild"))


def test_install_lines_become_located_conda_dependencies(tmp_path: Path) -> None:
    needs = needs_of(tmp_path, (
        "#!/bin/bash\nset -ex\n"
        "mamba install -y make  # a comment\n"
        "conda install --yes -c bioconda 'samtools>=1.10' \\\n    conda-forge::htop && echo ok\n"
        "sudo /opt/conda/bin/micromamba install -n kernel -y jq\n"
        "mamba clean --all; conda list\n"
        "conda env update -f environment.yml\n"
        "mamba install $EXTRA\n"
        "echo mamba install nothing\n"
    ))
    assert [(d.name, d.version, d.channel) for d in needs.conda] == [
        ("make", "", None), ("samtools", ">=1.10", None), ("htop", "", "conda-forge"),
        ("jq", "", None)]
    assert [(d.location.line, d.location.column) for d in needs.conda if d.location] == [
        (3, 18), (4, 34), (5, 5), (6, 53)]
    assert needs.installers == ("conda", "mamba", "micromamba")
    assert needs.channels == ("bioconda",)
    assert needs.other_targets == ("line 6: sudo /opt/conda/bin/micromamba install -n kernel -y jq",)
    assert needs.unread == ("line 8: conda env update -f environment.yml",
                            "line 9: mamba install $EXTRA")
    assert not needs.node


def test_lines_shown_keep_no_secret_and_no_control_character(tmp_path: Path) -> None:
    needs = needs_of(tmp_path, "#!/bin/sh\nmamba install -c https://me:s3cret@conda.example/ch"
                               " $PKG  # \x1b[2J\n")
    assert needs.channels == ("https://****@conda.example/ch",)
    assert needs.unread == ("line 2: mamba install -c https://****@conda.example/ch $PKG  #  [2J",)


@pytest.mark.parametrize(("text", "names"), [
    ("if ! mamba install -y make > /dev/null 2>&1; then exit 1; fi", ["make"]),
    ("(cd /tmp && conda install -y jq)", ["jq"]),
    ("for x in a; do mamba install -y htop 2>/dev/null; done", ["htop"]),
    ("mamba install -y numpy>=1.2", ["numpy"]),  # unquoted: the shell redirects to "=1.2"
    ("mamba install -y 'numpy>=1.2' &>log", ["numpy"]),
])
def test_install_commands_inside_shell_syntax(tmp_path: Path, text: str, names: list[str]) -> None:
    needs = needs_of(tmp_path, f"#!/bin/bash\n{text}\n")
    assert [d.name for d in needs.conda] == names and not needs.unread


@pytest.mark.parametrize("line", ["npm install --global configurable-http-proxy",
                                  "cd js && npx webpack", "jlpm build",
                                  "jupyter labextension install @jupyter-widgets/jupyterlab-manager"])
def test_node_tools_ask_for_nodejs(tmp_path: Path, line: str) -> None:
    assert needs_of(tmp_path, f"#!/bin/sh\n{line}\n").node


def test_no_installer_no_node(tmp_path: Path) -> None:
    needs = needs_of(tmp_path, "#!/bin/sh\npip install pytest\necho 'npm is great' > notes\n")
    assert not needs.node and not needs.installers and not needs.conda


def test_a_bad_spec_is_one_located_line(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        needs_of(tmp_path, "#!/bin/sh\n\nmamba install 'numpy=>>1'\n")
    assert str(caught.value.location) == "postBuild:3:16"
    assert "mamba install 'numpy=>>1'" in caught.value.message


WORDS = st.sampled_from(["mamba", "conda", "install", "-y", "-c", "conda-forge", "make", "'a b'",
                         "\"", "'", "\\", "$X", "`x`", "&&", ";", "|", ">", "2>&1", "(", ")",
                         "#", "npm", "-n", "env", "numpy>=1", "--file", "=", "::", "\n", "if",
                         "then", "é", "\x00"])


@settings(max_examples=200, deadline=None)
@given(st.lists(WORDS | st.text(max_size=8), max_size=30))
def test_any_postbuild_reads_or_fails_with_one_located_line(words: list[str]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "postBuild").write_bytes(" ".join(words).encode("utf-8", "surrogatepass"))
        try:
            needs = read_post_build(root, Path("postBuild"))
        except InputError as error:
            assert error.location is not None and error.location.line is not None
            return
        for dependency in needs.conda:
            assert dependency.location is not None and dependency.location.line
            assert dependency.name and "$" not in dependency.raw


CHECK = files("conda2docker").joinpath("data/postbuild_conda.sh").read_text()


def run_check(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    bindir = tmp_path / "bin"
    if not bindir.exists():
        bindir.mkdir()
        (bindir / "mamba").write_text(CHECK)
        (bindir / "mamba").chmod(0o755)
        (bindir / "conda").symlink_to("mamba")
        meta = tmp_path / "env" / "conda-meta"
        meta.mkdir(parents=True)
        for name in ("make-4.3-h0_0", "make-extra-1.0-0", "python-3.11.7-h_0"):
            (meta / f"{name}.json").write_text("{}")
    return subprocess.run(["sh", str(bindir / argv[0]), *argv[1:]], capture_output=True, text=True,
                          env={"CONDA_PREFIX": str(tmp_path / "env"), "PATH": "/usr/bin:/bin"},
                          check=False)


def test_check_passes_what_is_locked_and_names_what_is_not(tmp_path: Path) -> None:
    ok = run_check(tmp_path, "mamba", "install", "-y", "-c", "conda-forge", "make>=4", "Python=3.11")
    assert ok.returncode == 0 and "already in the locked environment" in ok.stderr
    assert ": make python" in ok.stderr
    missing = run_check(tmp_path, "conda", "install", "-y", "make", "numpy")
    assert missing.returncode == 1 and "not in the locked environment" in missing.stderr
    assert missing.stderr.split("\n")[0].endswith(": numpy")
    (tmp_path / "env" / "conda-meta" / "make-4.3-h0_0.json").unlink()  # make-extra is not make
    assert run_check(tmp_path, "mamba", "install", "make").returncode == 1
    assert run_check(tmp_path, "mamba", "clean", "--all").returncode == 0
    assert run_check(tmp_path, "mamba", "install", "--file", "pkgs.txt").returncode == 1
    listed = run_check(tmp_path, "conda", "list")
    assert listed.stdout.splitlines() == ["make-extra 1.0 0", "python 3.11.7 h_0"]
    other = run_check(tmp_path, "conda", "activate", "base")
    assert other.returncode == 2 and "one locked environment" in other.stderr


def test_postbuild_is_read_bounded_and_as_bytes(tmp_path: Path) -> None:
    (tmp_path / "postBuild").write_bytes(b"#!/bin/sh\n# caf\xe9\nmamba install -y make\n")
    assert [d.name for d in read_post_build(tmp_path, Path("postBuild")).conda] == ["make"]
    with (tmp_path / "postBuild").open("r+b") as handle:
        handle.truncate(11 * 1024 * 1024)
    with pytest.raises(InputError) as caught:
        read_post_build(tmp_path, Path("postBuild"))
    assert str(caught.value.location) == "postBuild" and "limit" in caught.value.message


def test_the_check_is_copied_from_the_support_directory(tmp_path: Path) -> None:
    """With ``--output docker``, the check is written and copied under ``docker/conda2docker``."""
    import shutil

    from conda2docker.init.dockerignore import ContextRule
    from conda2docker.init.render import render_init
    from conda2docker.init.stages import CHECK_SCRIPT, ImageOptions
    from conda2docker.init.survey import survey
    from conda2docker.plan import PlanOptions
    from test_init_repo2docker import FIXTURES, hand_lock

    repo = tmp_path / "repo"
    shutil.copytree(FIXTURES / "conda" / "py36-postBuild", repo)
    found = survey(repo)
    rendered = render_init(found.plan, found.spec, hand_lock(found.spec), b"lock\n",
                           PlanOptions(lock_digest="0" * 64), ImageOptions(support=Path("docker")),
                           context=ContextRule(None))
    assert Path("docker") / "conda2docker" / CHECK_SCRIPT in rendered.files
    dockerfile = rendered.files[Path("Dockerfile")].decode()
    assert f"COPY docker/conda2docker/{CHECK_SCRIPT} /tmp/c2d/postbuild-bin/mamba" in dockerfile
