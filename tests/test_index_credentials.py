"""Index credentials: ``${NAME}`` expanded as pip expands it, and written nowhere.

pip expands ``${NAME}`` (upper case, digits, ``_``) in requirement-file lines from the
environment and leaves an undefined one as written (``pip/_internal/req/req_file.py``); it
sends an index URL's ``user:password@`` as HTTP basic auth, also for the files that index
links to. conda-lock's own fixture ``tests/test-pip-repositories`` uses the same kind of URL
(``http://$PIP_USER:$PIP_PASSWORD@private-pypi.org/api/pypi/simple``). The index here is the
loopback one of tests/support, requiring basic auth.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conda2docker.cli import main
from conda2docker.credentials import (
    expand,
    index_auth,
    literal_credentials,
    placeholders,
    redact,
    strip_auth,
)
from conda2docker.errors import ResolveError
from conda2docker.model import EnvSpec
from conda2docker.read.environment import parse_environment
from conda2docker.resolve.pip import PipTarget, resolve_pip
from conda2docker.resolve.pypi import IndexClient
from support.channel import TestChannel
from support.pypi_index import LocalIndex, start_local_index

USER, PASSWORD = "c2d-reader", "pw-Zq81-never-printed"
AUTH_URL = "http://${C2D_PIP_USER}:${C2D_PIP_PASSWORD}@127.0.0.1:{port}/simple/"


def test_expansion_follows_pips_rule() -> None:
    env = {"TOKEN": "t0k", "USER_1": "me"}
    assert expand("https://${USER_1}:${TOKEN}@host/simple", env) == "https://me:t0k@host/simple"
    assert expand("${UNSET}/x", env) == "${UNSET}/x"  # left as written, as pip does
    assert expand("$TOKEN ${token}", env) == "$TOKEN ${token}"  # only ${UPPER_CASE}


@pytest.mark.parametrize(
    ("url", "shown", "stripped", "names", "literal"),
    [
        ("http://${U}:${P}@host/simple", "http://****@host/simple", "http://host/simple",
         ("U", "P"), False),
        ("https://user:secret@host/simple", "https://****@host/simple", "https://host/simple",
         (), True),
        ("git+https://${GITHUB_TOKEN}@github.com/o/r.git", "git+https://****@github.com/o/r.git",
         "git+https://github.com/o/r.git", ("GITHUB_TOKEN",), False),
        ("https://pypi.org/simple", "https://pypi.org/simple", "https://pypi.org/simple", (), False),
    ],
)
def test_urls_are_shown_and_stored_without_credentials(
    url: str, shown: str, stripped: str, names: tuple[str, ...], literal: bool
) -> None:
    assert redact(f"cannot reach {url} (401)") == f"cannot reach {shown} (401)"
    assert strip_auth(url) == stripped
    assert placeholders(url) == names
    assert literal_credentials(url) is literal


def test_only_placeholder_credentials_are_carried_into_a_build() -> None:
    assert index_auth(["http://${U}:${P}@a.example/simple", "https://u:pw@b.example/simple",
                       None, "https://pypi.org/simple"]) == (("a.example", "${U}:${P}"),)


@pytest.fixture(scope="module")
def private_index(local_pypi: LocalIndex) -> Iterator[LocalIndex]:
    with start_local_index(local_pypi.files_dir, auth=(USER, PASSWORD)) as index:
        yield index


def _env(tmp_path: Path, index: LocalIndex, *lines: str, channel: str | None = None) -> Path:
    path = tmp_path / "environment.yml"
    channels = f"channels: [{channel}]\n" if channel else ""
    url = AUTH_URL.replace("{port}", str(index.port))
    body = "".join(f"      - {line}\n" for line in (f"--index-url {url}", *lines))
    path.write_text(f"{channels}dependencies:\n  - python=3.11\n  - pip\n  - pip:\n{body}")
    return path


def _spec(path: Path) -> EnvSpec:
    return parse_environment(path.read_bytes(), path, platform="linux-64")


def _resolve(spec: EnvSpec, tmp_path: Path) -> list[str]:
    result = resolve_pip(spec.pip, spec.pip_options, PipTarget(), conda_packages=(),
                         base_dir=tmp_path, index=IndexClient(tmp_path / "cache", retries=0))
    return [p.url for p in result.packages]


def test_a_private_index_is_read_with_the_expanded_credentials(
    private_index: LocalIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("C2D_PIP_USER", USER)
    monkeypatch.setenv("C2D_PIP_PASSWORD", PASSWORD)
    spec = _spec(_env(tmp_path, private_index, "c2d-needs==2.0"))
    assert "${C2D_PIP_PASSWORD}" in (spec.pip_options.index_url or "")  # kept as written
    urls = _resolve(spec, tmp_path)
    assert sorted(u.rsplit("/", 1)[-1] for u in urls) == [
        "c2d_needs-2.0-py3-none-any.whl", "c2d_pure-1.1-py3-none-any.whl"]
    assert all(u.startswith(f"http://127.0.0.1:{private_index.port}/files/") for u in urls)
    assert not any(PASSWORD in u or USER in u for u in urls)


@pytest.mark.parametrize(
    ("password", "problem"),
    [("wrong-password", "401"), (None, "environment variable C2D_PIP_PASSWORD is not set")],
)
def test_refused_or_missing_credentials_are_named_never_printed(
    private_index: LocalIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    password: str | None, problem: str,
) -> None:
    monkeypatch.setenv("C2D_PIP_USER", USER)
    if password is None:
        monkeypatch.delenv("C2D_PIP_PASSWORD", raising=False)
    else:
        monkeypatch.setenv("C2D_PIP_PASSWORD", password)
    with pytest.raises(ResolveError) as caught:
        _resolve(_spec(_env(tmp_path, private_index, "c2d-pure")), tmp_path)
    line = caught.value.one_line()
    assert problem in line
    assert USER not in line and PASSWORD not in line and "wrong-password" not in line


def test_without_credentials_the_index_refuses(private_index: LocalIndex, tmp_path: Path) -> None:
    path = tmp_path / "environment.yml"
    path.write_text("dependencies:\n  - python=3.11\n  - pip\n  - pip:\n"
                    f"      - --index-url {private_index.url}\n      - c2d-pure\n")
    with pytest.raises(ResolveError) as caught:
        _resolve(_spec(path), tmp_path)
    assert "401" in caught.value.message and "${USER}:${PASSWORD}@" in (caught.value.fix or "")


def test_convert_writes_no_credential_and_the_build_takes_them_as_build_args(
    private_index: LocalIndex, test_channel: TestChannel, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("C2D_PIP_USER", USER)
    monkeypatch.setenv("C2D_PIP_PASSWORD", PASSWORD)
    env = _env(tmp_path, private_index, "c2d-pure==1.1", channel=test_channel.name)
    out = tmp_path / "out"
    # --mirror, not --channel-alias: the lock keeps canonical channel URLs, so the build fetches
    # every file itself (a file:// channel would be vendored whole, credentials never needed)
    argv = ["convert", str(env), "-o", str(out), "--mirror",
            f"{test_channel.name}={test_channel.path.as_uri()}", "--default-channels", "none"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    for text in (captured.out, captured.err):
        assert PASSWORD not in text and USER not in text
    for path in out.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert PASSWORD.encode() not in data and USER.encode() not in data, path
    requirements = (out / "conda2docker" / "requirements.pip.txt").read_text()
    assert (f"c2d-pure @ http://${{C2D_PIP_USER}}:${{C2D_PIP_PASSWORD}}@127.0.0.1:"
            f"{private_index.port}/files/c2d_pure-1.1-py3-none-any.whl --hash=sha256:") in requirements
    lock = (out / "conda-lock.yml").read_text()
    assert f"url: http://127.0.0.1:{private_index.port}/files/c2d_pure-1.1-py3-none-any.whl" in lock
    dockerfile = (out / "Dockerfile").read_text()
    pip_stage = dockerfile[dockerfile.index(" AS pip"):dockerfile.index(" AS runtime")]
    assert "ARG C2D_PIP_USER\n" in pip_stage and "ARG C2D_PIP_PASSWORD\n" in pip_stage
    assert "ARG C2D_PIP" not in dockerfile[dockerfile.index(" AS runtime"):]
    assert "build args C2D_PIP_USER, C2D_PIP_PASSWORD" in captured.err
    assert main([*argv, "--check"]) == 0  # the same bytes again


def test_credentials_written_out_are_used_but_never_carried(
    private_index: LocalIndex, test_channel: TestChannel, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = tmp_path / "environment.yml"
    env.write_text(f"channels: [{test_channel.name}]\ndependencies:\n  - python=3.11\n  - pip\n"
                   f"  - pip:\n      - --index-url http://{USER}:{PASSWORD}@127.0.0.1:"
                   f"{private_index.port}/simple/\n      - c2d-pure==1.1\n")
    out = tmp_path / "out"
    assert main(["convert", str(env), "-o", str(out), "--channel-alias", test_channel.alias,
                 "--default-channels", "none"]) == 0
    captured = capsys.readouterr()
    assert PASSWORD not in captured.out + captured.err
    assert "http://****@127.0.0.1" in captured.err and "not carried into the build" in captured.err
    for path in out.rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path
    assert main(["inspect", str(env)]) == 0
    assert PASSWORD not in capsys.readouterr().out


def test_real_pip_installs_from_the_generated_file_with_the_build_args(
    private_index: LocalIndex, test_channel: TestChannel, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What the pip stage runs, on this machine: pip expands the placeholders from the
    variables the build args become, and the index lets it in; without them it cannot."""
    import os
    import subprocess
    import sys

    monkeypatch.setenv("C2D_PIP_USER", USER)
    monkeypatch.setenv("C2D_PIP_PASSWORD", PASSWORD)
    env = _env(tmp_path, private_index, "c2d-pure==1.1", channel=test_channel.name)
    out = tmp_path / "out"
    assert main(["convert", str(env), "-o", str(out), "--mirror",
                 f"{test_channel.name}={test_channel.path.as_uri()}",
                 "--default-channels", "none"]) == 0  # canonical URLs: nothing vendored
    requirements = out / "conda2docker" / "requirements.pip.txt"
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("PIP_", "C2D_PIP_"))} | {"PIP_CONFIG_FILE": os.devnull}

    def download(extra: dict[str, str], dest: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--no-index", "--no-cache-dir",
             "--disable-pip-version-check", "--require-hashes", "-r", str(requirements),
             "-d", str(tmp_path / dest)],
            capture_output=True, text=True, env={**clean, **extra}, timeout=120, check=False,
        )

    done = download({"C2D_PIP_USER": USER, "C2D_PIP_PASSWORD": PASSWORD}, "dl")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "dl" / "c2d_pure-1.1-py3-none-any.whl").is_file()
    refused = download({}, "refused")
    assert refused.returncode != 0
    assert PASSWORD not in refused.stdout + refused.stderr
