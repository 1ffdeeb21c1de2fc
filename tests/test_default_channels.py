"""Default channels appended as conda appends its configured ones, unless ``nodefaults``.

``conda env create`` solves with the file's channels followed by the channels of the
installing machine's configuration (``defaults`` for Anaconda, ``conda-forge`` for
Miniforge); ``nodefaults`` in the file turns that off (conda-lock's fixture
``tests/test-env-nodefaults`` and conda's ``conda/env/specs`` handle it the same way).
``--default-channels`` says which configuration the image stands for.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from conda2docker.errors import InputError, ResolveError
from conda2docker.model import CondaDependency, EnvSpec
from conda2docker.resolve import ResolveOptions, require_complete, resolve
from conda2docker.resolve.channels import parse_default_channels
from conda2docker.resolve.run import channel_names
from support.channel import TestChannel

ENV = Path("/work/environment.yml")


def spec(*channels: str, deps: tuple[str, ...] = ()) -> EnvSpec:
    conda = []
    for text in deps:
        name, _, version = text.partition(" ")
        conda.append(CondaDependency(name=name, version=version, raw=text))
    return EnvSpec(source=ENV, channels=channels, conda=tuple(conda))


@pytest.mark.parametrize(
    ("channels", "defaults", "expected", "code"),
    [
        (("nvidia",), ("conda-forge",), ("nvidia", "conda-forge"), "C107"),
        (("pytorch", "nvidia"), ("defaults",), ("pytorch", "nvidia", "defaults"), "C107"),
        (("nvidia", "nodefaults"), ("conda-forge",), ("nvidia",), None),
        (("nodefaults", "conda-forge"), ("defaults",), ("conda-forge",), None),
        (("conda-forge",), ("conda-forge",), ("conda-forge",), None),
        (("bioconda", "conda-forge"), ("conda-forge", "bioconda"), ("bioconda", "conda-forge"), None),
        ((), ("conda-forge",), ("conda-forge",), "C105"),
        ((), ("defaults",), ("defaults",), "C105"),
        (("nvidia",), (), ("nvidia",), None),
    ],
)
def test_channels_as_conda_env_create_builds_them(
    channels: tuple[str, ...], defaults: tuple[str, ...], expected: tuple[str, ...], code: str | None
) -> None:
    names, changes = channel_names(spec(*channels), ResolveOptions(default_channels=defaults))
    assert names == expected
    assert [c.code for c in changes] == ([code] if code else [])
    if code:
        added = [n for n in expected if n not in channels]
        assert changes[0].subject == ", ".join(added)
        assert changes[0].action == "added"


def test_no_channel_at_all_is_an_error_with_the_fix() -> None:
    with pytest.raises(ResolveError) as caught:
        channel_names(spec("nodefaults"), ResolveOptions(default_channels=()))
    assert "--default-channels" in caught.value.one_line()


@pytest.mark.parametrize(
    ("text", "names"),
    [("conda-forge", ("conda-forge",)), ("defaults", ("defaults",)),
     ("conda-forge, bioconda", ("conda-forge", "bioconda")), ("none", ()), ("", ()),
     ("https://example.org/chan", ("https://example.org/chan",))],
)
def test_default_channels_option(text: str, names: tuple[str, ...]) -> None:
    assert parse_default_channels(text) == names


@pytest.mark.parametrize("text", ["nodefaults", "bad name", "conda-forge,none"])
def test_bad_default_channels_are_input_errors(text: str) -> None:
    with pytest.raises(InputError):
        parse_default_channels(text)


def test_a_vendor_only_channel_list_solves_with_the_default_appended(snapshot_channels: Path) -> None:
    env = spec("nvidia", deps=("python 3.11.*", "cuda-cudart"))
    alias = snapshot_channels.as_uri()
    with pytest.raises(ResolveError):  # what conda2docker did before: python is in no channel
        require_complete(resolve(env, ResolveOptions(channel_alias=alias, default_channels=())))
    resolution = require_complete(resolve(env, ResolveOptions(channel_alias=alias)))
    origin = {p.name: p.channel for p in resolution.lock.packages}
    assert origin["cuda-cudart"].endswith("/nvidia")  # type: ignore[union-attr]
    assert origin["python"].endswith("/conda-forge")  # type: ignore[union-attr]
    assert [c.subject for c in resolution.changes if c.code == "C107"] == ["conda-forge"]
    assert resolution.lock.channels[-1].endswith("/conda-forge")


def test_an_unreadable_default_channel_is_left_out_with_a_note(small_channel: TestChannel) -> None:
    env = spec(small_channel.name, deps=("hello-noarch",))
    resolution = resolve(env, ResolveOptions(channel_alias=small_channel.root.as_uri()))
    assert {p.name for p in resolution.lock.packages} == {"hello-noarch", "chello"}
    notes = [(c.code, c.action, c.subject) for c in resolution.changes if c.code.startswith("C10")]
    assert notes == [("C107", "added", "conda-forge"), ("C107", "ignored", "conda-forge")]


def test_the_note_is_the_same_when_the_lock_is_reused(small_channel: TestChannel) -> None:
    env = spec(small_channel.name, deps=("hello-noarch",))
    options = ResolveOptions(channel_alias=small_channel.root.as_uri())
    fresh = resolve(env, options)
    assert not any(c.endswith("/conda-forge") for c in fresh.lock.channels)
    reused = resolve(env, replace(options, existing=fresh.lock))
    assert reused.reused
    assert reused.changes == fresh.changes


def test_nodefaults_in_a_real_file_reaches_resolve(snapshot_channels: Path, tmp_path: Path) -> None:
    from conda2docker.read.environment import parse_environment

    path = tmp_path / "environment.yml"
    options = ResolveOptions(channel_alias=snapshot_channels.as_uri())
    path.write_text("channels: [nvidia, nodefaults]\ndependencies: [python=3.11, cuda-cudart]\n")
    with_marker = parse_environment(path.read_bytes(), path, platform="linux-64")
    assert channel_names(with_marker, options) == (("nvidia",), [])
    resolution = resolve(with_marker, options)
    assert [u.name for u in resolution.unavailable] == ["python"]  # as conda would fail
    path.write_text("channels: [nvidia]\ndependencies: [python=3.11, cuda-cudart]\n")
    without = parse_environment(path.read_bytes(), path, platform="linux-64")
    assert require_complete(resolve(without, options)).lock.packages
