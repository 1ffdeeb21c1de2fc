"""Credentials in conda channel URLs: read with them, never write them.

The oracles are conda-lock's own code and tests: a channel URL is recorded as
``conda_lock.models.channel.Channel.from_string`` records it (``${NAME}`` placeholders and
``used_env_vars``; the cases of conda-lock's ``models/test_channel.py`` and of its docstrings),
the lock is read back by conda-lock's reader, and a token segment is what conda's
``split_anaconda_token`` takes (the examples of its docstring). Where conda-lock writes a
credential as it is (no variable holds it), conda2docker refuses the channel instead.

A real HTTP channel serves the small test channel under ``/t/<token>/`` and behind basic auth,
so the solver reads it with the credentials and the lock, the context and the messages are
checked for them.
"""

from __future__ import annotations

import base64
import functools
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from conda2docker.credentials import channel_lock_form, redact, without_placeholders
from conda2docker.validate import UnsafeValue, check_channel_name, check_conda_url
from support.channel import TestChannel
from support.hostile import Workspace, assert_refused, make_workspace, run_cli, tree_state
from support.lint import ACCEPTED, assert_lints_clean, hadolint

TOKEN = "tk-S3cr3tT0ken-4242"
USER, PASSWORD = "alice", "PA55-w0rd-S3cr3t"
SECRETS = (TOKEN, PASSWORD)


# ------------------------------------------------------------------ the lock form, by conda-lock


@pytest.mark.parametrize(("environ", "url"), [
    # conda_lock/models/test_channel.py::test_url_auth_info: placeholders and values agree
    ({"TOKEN": "tokTOK123", "USER": "user123", "PASSWORD": "pass123"},
     "http://$USER:$PASSWORD@host/prefix/t/$TOKEN/suffix"),
    ({"TOKEN": "tokTOK123", "USER": "user123", "PASSWORD": "pass123"},
     "http://user123:pass123@host/prefix/t/tokTOK123/suffix"),
    # Channel.from_string's docstring
    ({"MY_A_REPO_TOKEN": "tk-123-456"}, "https://host.com/t/tk-123-456/channel"),
    ({"MY_A_USERNAME": "user", "MY_A_PASSWORD": "pass"}, "https://user:pass@host.com/channel"),
    ({}, "https://host.com/t/$MY_REPO_TOKEN/channel"),
    ({}, "https://host.com/t/${MY_REPO_TOKEN}/channel"),
    # test_detect_used_env_var: names ending in the preferred suffixes first
    ({"AKEY": "a", "ATOKEN": "a", "A": "a"}, "https://host/t/a/channel"),
    ({"AKEY": "a", "A": "a"}, "https://host/t/a/channel"),
    ({"A": "a"}, "https://host/t/a/channel"),
    ({}, "https://conda.anaconda.org/conda-forge"),
    ({}, "conda-forge"),
])
def test_a_channel_is_recorded_as_conda_lock_records_it(
        monkeypatch: pytest.MonkeyPatch, environ: dict[str, str], url: str) -> None:
    from conda_lock.models.channel import Channel

    for name in list(os.environ):
        monkeypatch.delenv(name)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    theirs = Channel.from_string(url)
    ours = channel_lock_form(url)
    assert ours.written_out == ()
    assert (ours.lock_url, ours.used_env_vars) == (theirs.url, theirs.used_env_vars)


@pytest.mark.parametrize(("url", "written"), [
    # conda's split_anaconda_token examples: whatever follows /t/ is the token
    ("https://1.2.3.4/t/tk-123-456/path", ("token",)),
    ("https://some.domain/api/t/tk-123-456/path", ("token",)),
    ("https://10.2.3.4:8080/conda/t/tk-123-45", ("token",)),
    (f"https://conda.anaconda.org/t/{TOKEN}/private", ("token",)),
    (f"https://{USER}:{PASSWORD}@host/channel", ("user", "password")),
    (f"https://{TOKEN}@host/channel", ("user",)),  # a lone user part is often a token
    (f"https://{USER}:${{PASSWORD_VAR}}@host/channel", ()),  # a user name beside a placeholder
    ("https://1.2.3.4/path", ()),
])
def test_credentials_no_variable_holds_are_found(url: str, written: tuple[str, ...]) -> None:
    """conda-lock would write these into the lock as they are ("Token URL detected without env
    var" is only logged); conda2docker refuses them."""
    assert channel_lock_form(url, {}).written_out == written


def test_messages_mask_tokens_of_any_length_and_keep_placeholders() -> None:
    assert redact("cannot read https://1.2.3.4/t/tk-12/path") == "cannot read https://1.2.3.4/t/***/path"
    assert redact(f"https://h/api/t/{TOKEN}") == "https://h/api/t/***"
    assert redact("https://h/t/${MY_TOKEN}/c") == "https://h/t/${MY_TOKEN}/c"
    assert redact(f"https://{USER}:{PASSWORD}@h/c") == "https://****@h/c"
    assert redact("/home/me/t/project/environment.yml") == "/home/me/t/project/environment.yml"


def test_redacting_a_hostile_build_line_takes_linear_time() -> None:
    """``redact`` reads every build log line; its patterns were quadratic in a line of URLs
    without a space (8,000 repetitions took 15 s, 16,000 four times that). 2 MB now take well
    under a second; the bound only tells a hang from a pass."""
    import time

    start = time.perf_counter()
    assert redact("https://h/" * 200_000 + f"t/{TOKEN}/c").endswith("https://h/t/***/c")
    assert redact("a" * 1_000_000 + f"://u:{PASSWORD}@h") == "a" * 1_000_000 + "://****@h"
    assert time.perf_counter() - start < 60


def test_placeholders_are_accepted_only_where_credentials_go() -> None:
    check_channel_name("https://${U}:${P}@host/t/${T}/channel")
    check_conda_url("https://host/t/${T}/channel/noarch/a-1-0.conda")
    assert without_placeholders("https://${U}:$P@h/t/${T}/c") == "https://x:x@h/t/x/c"
    for bad in ("https://host/${T}/channel/noarch/a-1-0.conda",  # pip and shells would expand it
                "https://host/t/${T}x/channel/noarch/a-1-0.conda",
                "https://host/t/${T;x}/channel/noarch/a-1-0.conda",
                f"https://host/t/{TOKEN}/channel/noarch/a-1-0.conda"):
        with pytest.raises(UnsafeValue) as caught:
            check_conda_url(bad)
        assert TOKEN not in str(caught.value)


# ------------------------------------------------------------------ a served private channel


@dataclass(frozen=True)
class PrivateChannel:
    base: str
    """``http://127.0.0.1:PORT``"""
    requests: list[tuple[str, bool]]

    @property
    def token_url(self) -> str:
        return f"{self.base}/t/{TOKEN}/c2d-test"

    @property
    def basic_host(self) -> str:
        return self.base.removeprefix("http://")


@contextmanager
def serve(root: Path) -> Iterator[PrivateChannel]:
    """The channels under ``root`` behind a token (``/t/TOKEN/c2d-test``) and behind basic auth
    (``/basic/c2d-test``); anything else is refused. Nothing is cacheable: tests serve
    different channels at the same URLs (a port is used again), and the solver's cache is
    shared by every test run on the machine."""
    requests: list[tuple[str, bool]] = []
    expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()

    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, *_args: Any) -> None:
            pass

        def end_headers(self) -> None:
            self.send_header("Cache-Control", "no-store")
            super().end_headers()

        def do_GET(self) -> None:
            del self.headers["If-Modified-Since"]  # never a 304 from a copy of another channel
            authorized = self.headers.get("Authorization") == expected
            requests.append((self.path, authorized))
            if self.path.startswith(f"/t/{TOKEN}/"):
                self.path = self.path.removeprefix(f"/t/{TOKEN}")
                super().do_GET()
            elif self.path.startswith("/basic/") and authorized:
                self.path = self.path.removeprefix("/basic")
                super().do_GET()
            else:
                self.send_error(401 if self.path.startswith("/basic/") else 403)

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield PrivateChannel(f"http://127.0.0.1:{server.server_address[1]}", requests)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def private_channel(small_channel: TestChannel) -> Iterator[PrivateChannel]:
    with serve(small_channel.root) as served:
        yield served


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    for name in [n for n in os.environ if n.startswith("C2D_CHAN_")]:
        monkeypatch.delenv(name)
    return make_workspace(tmp_path)


def run(ws: Workspace, capsys: Any, argv: list[str]) -> Any:
    before = tree_state(ws.root, skip=ws.out)
    outcome = run_cli(argv, capsys)
    assert tree_state(ws.root, skip=ws.out) == before
    for secret in SECRETS:
        assert secret not in outcome.out + outcome.err
    return outcome


def env_file(ws: Workspace, channel: str) -> Path:
    path = ws.proj / "environment.yml"
    path.write_text(f"name: private\nchannels:\n  - {channel}\ndependencies:\n  - hello-noarch\n")
    return path


LOCK_ARGS = ["--platform", "linux-64", "--default-channels", "none", "--solver", "rattler"]


def assert_no_secret_under(root: Path) -> list[Path]:
    files = [p for p in root.rglob("*") if p.is_file()]
    for path in files:
        data = path.read_bytes()
        for secret in SECRETS:
            assert secret.encode() not in data, path
    return files


def test_a_token_written_out_is_refused_at_its_line(
        ws: Workspace, capsys: Any, private_channel: PrivateChannel) -> None:
    env = env_file(ws, private_channel.token_url)
    outcome = run(ws, capsys, ["lock", str(env), "-o", str(ws.out / "conda-lock.yml"), *LOCK_ARGS])
    assert_refused(outcome, 2, f"{env}:3:5: channel {private_channel.base}/t/***/c2d-test holds its "
                   "token written out", "fix: write each as a ${NAME} placeholder")
    assert not ws.out.exists()


def test_a_password_written_out_is_refused(ws: Workspace, capsys: Any, private_channel: PrivateChannel) -> None:
    env = env_file(ws, f"http://{USER}:{PASSWORD}@{private_channel.basic_host}/basic/c2d-test")
    outcome = run(ws, capsys, ["convert", str(env), "-o", str(ws.out), *LOCK_ARGS])
    assert_refused(outcome, 2, f"{env}:3:5: channel http://****@", "user and password written out")


def test_a_token_a_variable_holds_becomes_that_variable_in_the_lock(
        ws: Workspace, capsys: Any, private_channel: PrivateChannel, monkeypatch: pytest.MonkeyPatch) -> None:
    """conda-lock's rule: the value written out is found in ``$C2D_CHAN_TOKEN`` and recorded as
    ``${C2D_CHAN_TOKEN}``; conda-lock's reader reads the lock; no file holds the token."""
    from conda_lock.lockfile import parse_conda_lock_file

    monkeypatch.setenv("C2D_CHAN_TOKEN", TOKEN)
    env = env_file(ws, private_channel.token_url)
    lock = ws.out / "conda-lock.yml"
    assert run(ws, capsys, ["lock", str(env), "-o", str(lock), *LOCK_ARGS]).code == 0
    assert_no_secret_under(ws.out)
    parsed = parse_conda_lock_file(lock)
    placeholder = f"{private_channel.base}/t/${{C2D_CHAN_TOKEN}}/c2d-test"
    assert [(c.url, c.used_env_vars) for c in parsed.metadata.channels] == [(placeholder, ("C2D_CHAN_TOKEN",))]
    assert {p.name for p in parsed.package} == {"hello-noarch", "chello"}
    assert all(p.url.startswith(placeholder + "/") for p in parsed.package)
    assert any(path.startswith(f"/t/{TOKEN}/") for path, _ in private_channel.requests)  # read with it


def test_placeholders_round_trip_through_lock_convert_and_the_build_args(
        ws: Workspace, capsys: Any, private_channel: PrivateChannel, monkeypatch: pytest.MonkeyPatch) -> None:
    from conda_lock.lockfile import parse_conda_lock_file

    monkeypatch.setenv("C2D_CHAN_USER", USER)
    monkeypatch.setenv("C2D_CHAN_PASSWORD", PASSWORD)
    channel = f"http://${{C2D_CHAN_USER}}:${{C2D_CHAN_PASSWORD}}@{private_channel.basic_host}/basic/c2d-test"
    env = env_file(ws, channel)
    outcome = run(ws, capsys, ["convert", str(env), "-o", str(ws.out), "--installer", "micromamba", *LOCK_ARGS])
    assert outcome.code == 0, outcome.err
    files = assert_no_secret_under(ws.out)
    assert ws.out / "Dockerfile" in files
    parsed = parse_conda_lock_file(ws.out / "conda-lock.yml")
    assert [(c.url, c.used_env_vars) for c in parsed.metadata.channels] == [
        (channel, ("C2D_CHAN_PASSWORD", "C2D_CHAN_USER"))]
    explicit = (ws.out / "conda2docker" / "conda-linux-64.lock").read_text()
    assert explicit.count(channel + "/") == 2
    dockerfile = (ws.out / "Dockerfile").read_text()
    env_stage = dockerfile.split("AS env\n", 1)[1].split("\n# ---", 1)[0]
    assert "ARG C2D_CHAN_PASSWORD\nARG C2D_CHAN_USER\nRUN awk " in env_stage
    assert "C2D_CHAN" not in dockerfile.split("AS runtime\n", 1)[1]
    assert ("#         channel credentials are build args: --build-arg C2D_CHAN_PASSWORD (its value from "
            "your environment), and C2D_CHAN_USER\n") in dockerfile
    buildkit = ws.out / "buildkit"
    assert run(ws, capsys, ["convert", str(ws.out / "conda-lock.yml"), "-o", str(buildkit), "--installer",
                            "micromamba", "--buildkit"]).code == 0
    secret_stage = (buildkit / "Dockerfile").read_text().split("AS env\n", 1)[1].split("\n# ---", 1)[0]
    assert "ARG C2D_CHAN" not in secret_stage
    assert ("--mount=type=secret,id=C2D_CHAN_PASSWORD --mount=type=secret,id=C2D_CHAN_USER awk "
            in secret_stage)
    assert ("#         channel credentials are BuildKit secrets: --secret id=C2D_CHAN_PASSWORD,"
            "env=C2D_CHAN_PASSWORD (and C2D_CHAN_USER)\n") in (buildkit / "Dockerfile").read_text()
    assert_lints_clean((buildkit / "Dockerfile").read_text())
    findings = {f["code"] for f in hadolint(dockerfile) if f["level"] in ("error", "warning")}
    assert findings <= ACCEPTED | {"DL3064"}  # ARG for a secret: the legacy builder has no other way
    assert "build args C2D_CHAN_PASSWORD, C2D_CHAN_USER" in outcome.err + outcome.out

    # The lock written is read back (ours and conda-lock's reader agree) and converts to the
    # same files; locking again with it finds it current.
    again = ws.out / "again"
    assert run(ws, capsys, ["convert", str(ws.out / "conda-lock.yml"), "-o", str(again),
                            "--installer", "micromamba"]).code == 0
    assert (again / "conda2docker" / "conda-linux-64.lock").read_text() == explicit
    assert (again / "Dockerfile").read_text().split("AS env\n", 1)[1].split("\n# ---", 1)[0] == env_stage
    lock = ws.out / "conda-lock.yml"
    text = lock.read_text()
    assert run(ws, capsys, ["lock", str(env), "-o", str(lock), *LOCK_ARGS]).code == 0
    assert lock.read_text() == text
    monkeypatch.delenv("C2D_CHAN_USER")  # a current lock is reused: nothing reads the channel
    assert run(ws, capsys, ["lock", str(env), "-o", str(lock), *LOCK_ARGS]).code == 0
    assert lock.read_text() == text
    outcome = run(ws, capsys, ["lock", str(env), "-o", str(lock), *LOCK_ARGS, "--update", "chello"])
    assert_refused(outcome, 2, "takes its credentials from ${C2D_CHAN_USER}, which is not set")


def test_a_placeholder_that_is_not_set_is_named(ws: Workspace, capsys: Any, private_channel: PrivateChannel) -> None:
    env = env_file(ws, f"{private_channel.base}/t/${{C2D_CHAN_TOKEN}}/c2d-test")
    outcome = run(ws, capsys, ["lock", str(env), "-o", str(ws.out / "conda-lock.yml"), *LOCK_ARGS])
    assert_refused(outcome, 2, "takes its credentials from ${C2D_CHAN_TOKEN}, which is not set",
                   "fix: export C2D_CHAN_TOKEN=")


def test_vendoring_downloads_with_the_variable_and_writes_no_secret(
        ws: Workspace, capsys: Any, private_channel: PrivateChannel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("C2D_CHAN_TOKEN", TOKEN)
    env = env_file(ws, f"{private_channel.base}/t/${{C2D_CHAN_TOKEN}}/c2d-test")
    lock = ws.out / "lock" / "conda-lock.yml"
    assert run(ws, capsys, ["lock", str(env), "-o", str(lock), *LOCK_ARGS]).code == 0
    outcome = run(ws, capsys, ["convert", str(lock), "-o", str(ws.out / "image"), "--vendor"])
    assert outcome.code == 0, outcome.err
    files = assert_no_secret_under(ws.out)
    assert any(p.name.startswith("chello-") for p in files)
    assert "ARG C2D_CHAN_TOKEN" not in (ws.out / "image" / "Dockerfile").read_text()  # vendored: no download

    monkeypatch.delenv("C2D_CHAN_TOKEN")
    outcome = run(ws, capsys, ["convert", str(lock), "-o", str(ws.out / "again"), "--vendor"])
    assert_refused(outcome, 2, "takes its channel's credentials from ${C2D_CHAN_TOKEN}, which is not set")


# ------------------------------------------------------------------ hostile locks


@pytest.mark.parametrize(("where", "url", "said"), [
    ("package", f"https://conda.anaconda.org/t/{TOKEN}/private/noarch/a-1-0.conda",
     "https://conda.anaconda.org/t/***/private/noarch/a-1-0.conda' holds its channel's token written out"),
    ("package", f"https://{USER}:{PASSWORD}@host/private/noarch/a-1-0.conda",
     "holds its channel's user and password written out"),
    ("package", "https://host/${HOME}/noarch/a-1-0.conda", "holds whitespace, quotes"),
    ("package", "https://host/t/<TOKEN>/private/noarch/a-1-0.conda", "holds a token masked when the file "
     "was exported (conda writes <TOKEN>, mamba ***** or **********)"),
    ("package", "https://host/t/*****/private/noarch/a-1-0.conda", "holds a token masked"),
    ("package", "https://host/t/**********/private/noarch/a-1-0.conda", "holds a token masked"),
    ("package", "https://host/t/${A}}/x/noarch/a-1-0.conda", "holds whitespace, quotes"),
    ("channel", f"https://conda.anaconda.org/t/{TOKEN}/private", "metadata.channels: "
     "'https://conda.anaconda.org/t/***/private' holds its credentials written out"),
])
def test_a_lock_holding_credentials_or_stray_placeholders_is_refused_at_the_value(
        ws: Workspace, capsys: Any, where: str, url: str, said: str) -> None:
    channel = url if where == "channel" else "https://conda.anaconda.org/private"
    package = url if where == "package" else "https://conda.anaconda.org/private/noarch/a-1-0.conda"
    lock = ws.proj / "conda-lock.yml"
    lock.write_text(
        "version: 1\nmetadata:\n  content_hash: {linux-64: x}\n  channels:\n"
        f"  - url: '{channel}'\n    used_env_vars: []\n  platforms: [linux-64]\n  sources: [environment.yml]\n"
        "package:\n- name: a\n  version: '1'\n  manager: conda\n  platform: linux-64\n  dependencies: {}\n"
        f"  url: '{package}'\n  hash: {{md5: '{'0' * 32}'}}\n  category: main\n  optional: false\n")
    outcome = run(ws, capsys, ["convert", str(lock), "-o", str(ws.out)])
    number = next(n for n, text in enumerate(lock.read_text().splitlines(), 1) if url in text)
    assert_refused(outcome, 2, f"{lock}:{number}:", said)
    assert not ws.out.exists()


def test_a_credential_is_put_in_literally_from_a_build_arg_or_a_secret(
        tmp_path: Path, docker_client: Any, base_image: str) -> None:
    """The generated expansion runs in the image's own awk (mawk in Debian), one pass, values
    literal (``&``, ``\\1``, ``/``, a ``${NAME}`` inside a value), from a build arg (the
    legacy builder) or a BuildKit secret file (``/run/secrets/NAME``, final line break
    dropped); a value not given stops it, naming it."""
    import docker

    from conda2docker.plan.env import expand_credentials

    names = ("C2D_CHAN_PASSWORD", "C2D_CHAN_USER")
    step = expand_credentials("/tmp/c2d/x.lock", names).text
    lock = "@EXPLICIT\nhttp://${C2D_CHAN_USER}:${C2D_CHAN_PASSWORD}@h/c/noarch/a-1-0.conda#0\n"
    script = f'mkdir -p /tmp/c2d && printf "%s" "$LOCK" > /tmp/c2d/x.lock && {step} && cat /tmp/c2d/x.lock'

    def run_step(environment: dict[str, str], secrets: dict[str, str] | None = None) -> str:
        volumes = {}
        for name, value in (secrets or {}).items():
            (tmp_path / name).write_text(value)
            volumes[str(tmp_path / name)] = {"bind": f"/run/secrets/{name}", "mode": "ro"}
        output: bytes = docker_client.containers.run(
            base_image, ["sh", "-c", script], network_mode="none", remove=True, stderr=True,
            environment={"LOCK": lock, **environment}, volumes=volumes)
        return output.decode()

    expected = "@EXPLICIT\nhttp://al&ice:p\\1/${C2D_CHAN_USER}@h/c/noarch/a-1-0.conda#0\n"
    assert run_step({"C2D_CHAN_USER": "al&ice", "C2D_CHAN_PASSWORD": "p\\1/${C2D_CHAN_USER}"}) == expected
    assert run_step({}, {"C2D_CHAN_USER": "al&ice\n", "C2D_CHAN_PASSWORD": "p\\1/${C2D_CHAN_USER}"}) == expected
    with pytest.raises(docker.errors.ContainerError) as failed:
        run_step({"C2D_CHAN_USER": "x"})
    assert "C2D_CHAN_PASSWORD is not given (channel credentials of the lock): pass --build-arg " \
        "C2D_CHAN_PASSWORD (--secret id=C2D_CHAN_PASSWORD with BuildKit)" in str(failed.value)


def test_an_image_builds_from_a_tokened_lock_and_holds_no_token(
        ws: Workspace, capsys: Any, test_channel: TestChannel, docker_client: Any, base_image: str,
        image_tag_factory: Callable[[str], str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The air-gapped path end to end: lock from the tokened channel, vendor with the variable
    (the bootstrap python too), build with no network and no credentials; no file under the
    output, no line of the build log and no layer's history holds the token."""
    from support.engine import run_in_image

    monkeypatch.setenv("C2D_CHAN_TOKEN", TOKEN)
    with serve(test_channel.root) as served:
        env = env_file(ws, f"{served.base}/t/${{C2D_CHAN_TOKEN}}/c2d-test")
        lock = ws.out / "lock" / "conda-lock.yml"
        assert run(ws, capsys, ["lock", str(env), "-o", str(lock), *LOCK_ARGS]).code == 0
        image = ws.out / "image"
        outcome = run(ws, capsys, ["convert", str(lock), "-o", str(image), "--installer", "rattler", "--vendor"])
        assert outcome.code == 0, outcome.err
    monkeypatch.delenv("C2D_CHAN_TOKEN")
    tag = image_tag_factory("tokened-lock")
    assert run(ws, capsys, ["build", str(image), "--tag", tag, "--network", "none", "--quiet"]).code == 0
    assert_no_secret_under(ws.out)
    assert (image / "build.log").is_file()
    history = docker_client.images.get(tag).history()
    assert not any(TOKEN in str(layer.get("CreatedBy", "")) for layer in history)
    code, output = run_in_image(docker_client, tag, ["hello-noarch"])
    assert code == 0 and "hello from chello" in output, output


def test_the_build_log_and_the_error_hold_no_credential_a_step_prints(
        ws: Workspace, capsys: Any, docker_client: Any, base_image: str,
        image_tag_factory: Callable[[str], str]) -> None:
    """A download error in the env stage prints the URL the build put the credentials into;
    build.log and the one-line error show it redacted."""
    context = ws.out / "ctx"
    context.mkdir(parents=True)
    (context / "Dockerfile").write_text(
        f"FROM {base_image}\nARG C2D_CHAN_TOKEN\nARG C2D_CHAN_PASSWORD\n"
        'RUN echo "error downloading https://h/t/${C2D_CHAN_TOKEN}/c/noarch/a-1-0.conda and '
        'http://alice:${C2D_CHAN_PASSWORD}@h/c/noarch/a-1-0.conda" && exit 1\n')
    outcome = run(ws, capsys, ["build", str(context), "--tag", image_tag_factory("leaky-step"),
                               "--network", "none", "--quiet", "--build-arg", f"C2D_CHAN_TOKEN={TOKEN}",
                               "--build-arg", f"C2D_CHAN_PASSWORD={PASSWORD}"])
    assert outcome.code == 4
    log = (context / "build.log").read_text()
    assert "error downloading https://h/t/***/c/noarch/a-1-0.conda and http://****@h/c" in log
    assert_no_secret_under(ws.out)


@pytest.mark.parametrize("how", ["mirror", "alias"])
def test_a_mirror_or_channel_alias_with_credentials_keeps_them_out_of_the_lock(
        ws: Workspace, capsys: Any, private_channel: PrivateChannel, monkeypatch: pytest.MonkeyPatch,
        how: str) -> None:
    """``--mirror NAME=URL`` is only where the solver reads (its token written out is fine: the
    lock keeps the canonical URLs); ``--channel-alias`` gives the lock's URLs, so its token is
    a placeholder, as in ``channels:``."""
    monkeypatch.setenv("C2D_CHAN_TOKEN", TOKEN)
    env = env_file(ws, "c2d-test")
    lock = ws.out / "conda-lock.yml"
    if how == "mirror":
        extra, expected = ["--mirror", f"c2d-test={private_channel.token_url}"], "https://conda.anaconda.org/c2d-test"
    else:
        extra = ["--channel-alias", f"{private_channel.base}/t/${{C2D_CHAN_TOKEN}}"]
        expected = f"{private_channel.base}/t/${{C2D_CHAN_TOKEN}}/c2d-test"
    assert run(ws, capsys, ["lock", str(env), "-o", str(lock), *LOCK_ARGS, *extra]).code == 0
    assert_no_secret_under(ws.out)
    text = lock.read_text()
    assert f"- url: {expected}\n" in text
    assert text.count(f"url: {expected}/") == 2


def test_a_token_written_out_in_a_channel_option_is_refused(
        ws: Workspace, capsys: Any, private_channel: PrivateChannel) -> None:
    env = env_file(ws, "nodefaults")
    outcome = run(ws, capsys, ["lock", str(env), "-o", str(ws.out / "conda-lock.yml"), *LOCK_ARGS,
                               "--channel", private_channel.token_url])
    assert_refused(outcome, 2, f"error: channel {private_channel.base}/t/***/c2d-test holds its token written out")
    assert not ws.out.exists()
