"""The embedded solver against the shared snapshot of real channel metadata."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from conda2docker.errors import InputError, ResolveError
from conda2docker.model import CondaDependency, EnvSpec
from conda2docker.resolve import ResolveOptions, require_complete, resolve
from conda2docker.resolve.channels import (
    canonical_url,
    expand_channel,
    expand_channels,
    parse_mirror,
)
from support.channel import TestChannel

ENV = Path("/work/environment.yml")


def spec(*deps: str, channels: tuple[str, ...] = ("conda-forge",)) -> EnvSpec:
    parsed = []
    for text in deps:
        name, _, rest = text.partition(" ")
        version, _, build = rest.partition(" ")
        channel, _, bare = name.rpartition("::")
        parsed.append(CondaDependency(name=bare, version=version, build=build or None,
                                      channel=channel or None, raw=text))
    return EnvSpec(source=ENV, channels=channels, conda=tuple(parsed))


def alias(snapshot: Path) -> ResolveOptions:
    return ResolveOptions(channel_alias=snapshot.as_uri())


# ----------------------------------------------------------------- channel names


def test_channel_alias_maps_names_like_conda() -> None:
    [ref] = expand_channel("conda-forge", channel_alias="file:///srv/channels/")
    assert ref.source_url == ref.canonical_url == "file:///srv/channels/conda-forge"
    [plain] = expand_channel("bioconda")
    assert plain.canonical_url == "https://conda.anaconda.org/bioconda"
    assert [r.name for r in expand_channel("defaults")] == ["pkgs/main", "pkgs/r"]
    assert expand_channel("https://example.org/chan/")[0].canonical_url == "https://example.org/chan"


def test_mirror_reads_elsewhere_but_keeps_canonical_urls() -> None:
    refs = expand_channels(["conda-forge", "nodefaults"], mirrors={"conda-forge": "file:///m/cf"})
    assert [(r.canonical_url, r.source_url) for r in refs] == [
        ("https://conda.anaconda.org/conda-forge", "file:///m/cf")
    ]
    assert canonical_url("file:///m/cf/noarch/x-1-0.conda", refs) == (
        "https://conda.anaconda.org/conda-forge/noarch/x-1-0.conda"
    )
    assert parse_mirror("conda-forge=https://m.example/cf") == ("conda-forge", "https://m.example/cf")
    with pytest.raises(InputError) as info:
        parse_mirror("conda-forge")
    assert "--mirror NAME=URL" in info.value.one_line()


# ----------------------------------------------------------------- solving


def test_solves_a_scientific_stack_on_the_snapshot(snapshot_channels: Path) -> None:
    resolution = resolve(spec("python 3.11.*", "numpy", "pandas"), alias(snapshot_channels))
    lock = resolution.lock
    names = {p.name for p in lock.packages}
    assert {"python", "numpy", "pandas", "libzlib"} <= names
    python = next(p for p in lock.packages if p.name == "python")
    assert python.version.startswith("3.11.")
    assert all(p.md5 and p.sha256 for p in lock.packages)
    assert all(p.url.startswith(snapshot_channels.as_uri() + "/conda-forge/") for p in lock.packages)
    assert lock.roots == ("python", "numpy", "pandas")
    assert not resolution.unavailable


def test_mirror_solve_records_canonical_urls(snapshot_channels: Path) -> None:
    options = ResolveOptions(mirrors=(("conda-forge", (snapshot_channels / "conda-forge").as_uri()),))
    lock = resolve(spec("python 3.12.*"), options).lock
    assert all(p.url.startswith("https://conda.anaconda.org/conda-forge/") for p in lock.packages)


def test_missing_packages_are_named_not_crashed(snapshot_channels: Path) -> None:
    resolution = resolve(spec("python 3.11.*", "no-such-package-xyz"), alias(snapshot_channels))
    assert [u.name for u in resolution.unavailable] == ["no-such-package-xyz"]
    assert any(p.name == "python" for p in resolution.lock.packages)
    with pytest.raises(ResolveError, match="no-such-package-xyz"):
        require_complete(resolution)


def test_unsolvable_pins_are_explained_with_what_to_relax(snapshot_channels: Path) -> None:
    with pytest.raises(ResolveError) as info:
        resolve(spec("python 3.11.*", "numpy <1.24"), alias(snapshot_channels))
    message = info.value.one_line()
    assert "cannot solve for linux-64" in message
    assert "numpy" in message and "relax" in message


def test_foreign_build_strings_are_relaxed_with_a_change(snapshot_channels: Path) -> None:
    exported = spec("python 3.11.*", "numpy * py311hdeadbeef_0")
    resolution = resolve(exported, alias(snapshot_channels))
    assert any(p.name == "numpy" for p in resolution.lock.packages)
    [change] = [c for c in resolution.changes if c.code == "R503"]
    assert change.subject == "numpy" and "py311hdeadbeef_0" in change.reason


def test_several_platforms_in_one_lock(snapshot_channels: Path) -> None:
    options = replace(alias(snapshot_channels), platforms=("linux-64", "linux-aarch64"))
    lock = resolve(spec("python 3.12.*", "numpy"), options).lock
    assert lock.platforms == ("linux-64", "linux-aarch64")
    assert {p.platform for p in lock.packages} == {"linux-64", "linux-aarch64"}
    arm = {p.subdir for p in lock.for_platform("linux-aarch64")}
    assert "linux-aarch64" in arm and "linux-64" not in arm


def test_cuda_virtual_package_selects_gpu_builds(snapshot_channels: Path) -> None:
    gpu = replace(alias(snapshot_channels), cuda="12.4")
    torch = next(p for p in resolve(spec("pytorch"), gpu).lock.packages if p.name == "pytorch")
    assert "cuda" in (torch.build or "")
    cpu_torch = next(p for p in resolve(spec("pytorch"), alias(snapshot_channels)).lock.packages
                     if p.name == "pytorch")
    assert "cuda" not in (cpu_torch.build or "")


def test_unchanged_inputs_reuse_the_lock_and_update_resolves_again(snapshot_channels: Path) -> None:
    options = alias(snapshot_channels)
    first = resolve(spec("python 3.11.*", "numpy"), options)
    again = resolve(spec("python 3.11.*", "numpy"), replace(options, existing=first.lock))
    assert again.reused and again.lock.packages == first.lock.packages
    changed = resolve(spec("python 3.11.*", "numpy", "scipy"), replace(options, existing=first.lock))
    assert not changed.reused
    kept = {p.name: p.version for p in changed.lock.packages}
    assert kept["numpy"] == {p.name: p.version for p in first.lock.packages}["numpy"]
    updated = resolve(spec("python 3.11.*", "numpy"),
                      replace(options, existing=first.lock, update=("numpy",)))
    assert not updated.reused


def test_unreachable_channel_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ResolveError) as info:
        resolve(spec("python"), ResolveOptions(channel_alias=(tmp_path / "nothing").as_uri()))
    assert "--channel-alias" in info.value.one_line() or "channel" in info.value.one_line()


def test_non_linux_platform_is_refused() -> None:
    with pytest.raises(InputError, match="containers run Linux"):
        resolve(spec("python"), ResolveOptions(platforms=("osx-arm64",)))


def test_offline_uses_local_channels_and_fails_fast_for_remote_ones(snapshot_channels: Path,
                                                                     tmp_path: Path) -> None:
    local = replace(alias(snapshot_channels), offline=True)
    assert any(p.name == "python" for p in resolve(spec("python 3.11.*"), local).lock.packages)
    with pytest.raises(ResolveError) as info:  # an empty cache of the test's own: nothing to use
        resolve(spec("python"), ResolveOptions(offline=True, cache_dir=tmp_path / "empty-cache"))
    assert "--offline" in info.value.one_line()


def test_channel_specific_specs_come_from_that_channel(snapshot_channels: Path) -> None:
    pytorch_stack = spec("python 3.10.*", "pytorch::pytorch 2.1.*", "pytorch::pytorch-cuda 11.8.*",
                         channels=("pytorch", "nvidia/label/cuda-11.8.0", "nvidia", "conda-forge"))
    lock = resolve(pytorch_stack, replace(alias(snapshot_channels), cuda="11.8")).lock
    torch = next(p for p in lock.packages if p.name == "pytorch")
    assert torch.url.startswith(snapshot_channels.as_uri() + "/pytorch/")
    assert torch.version.startswith("2.1.")


def test_strict_priority_refuses_what_disabled_priority_allows(snapshot_channels: Path) -> None:
    mix = spec("python 3.10.*", "pytorch 2.1.*", "pytorch-cuda 11.8.*",
               channels=("conda-forge", "pytorch", "nvidia"))
    options = replace(alias(snapshot_channels), cuda="11.8")
    with pytest.raises(ResolveError):
        resolve(mix, options)
    lock = resolve(mix, replace(options, priority="disabled")).lock
    assert any(p.name == "pytorch-cuda" for p in lock.packages)


def test_conda_lock_backend_needs_a_conda_binary(snapshot_channels: Path) -> None:
    from conda2docker.resolve.condalock import find_conda

    if find_conda() is not None:
        lock = resolve(spec("python 3.11.*"), ResolveOptions(solver="conda-lock")).lock
        assert any(p.name == "python" and p.md5 for p in lock.packages)
        return
    with pytest.raises(ResolveError) as info:
        resolve(spec("python"), ResolveOptions(solver="conda-lock"))
    assert "micromamba" in info.value.one_line()


@pytest.mark.skipif(
    __import__("shutil").which("micromamba") is None and __import__("shutil").which("conda") is None,
    reason="no conda/mamba/micromamba binary on PATH: the conda-lock backend cannot run here",
)
def test_conda_lock_backend_gives_the_same_lock_format(tmp_path: Path) -> None:
    from conda2docker.lockfile import read_conda_lock, write_conda_lock

    lock = resolve(spec("python 3.11.*"), ResolveOptions(solver="conda-lock")).lock
    write_conda_lock(lock, tmp_path / "conda-lock.yml")
    assert read_conda_lock(tmp_path / "conda-lock.yml").packages


def test_an_unknown_channel_is_left_out_and_its_packages_named(snapshot_channels: Path) -> None:
    env = spec("python 3.11.*", "numpy", "rusty1s::pytorch-scatter",
               channels=("rusty1s", "conda-forge"))
    resolution = resolve(env, alias(snapshot_channels))
    [change] = [c for c in resolution.changes if c.code == "C106"]
    assert change.subject == "rusty1s"
    assert [u.name for u in resolution.unavailable] == ["pytorch-scatter"]
    assert any(p.name == "numpy" for p in resolution.lock.packages)


def test_local_channel_of_real_packages(small_channel: TestChannel) -> None:
    lock = resolve(spec("hello-noarch", channels=(small_channel.name,)),
                   ResolveOptions(channel_alias=small_channel.root.as_uri())).lock
    assert {p.name for p in lock.packages} == {"hello-noarch", "chello"}
    chello = next(p for p in lock.packages if p.name == "chello")
    assert chello.url == f"{small_channel.url}/linux-64/{chello.file_name}"
    assert dict(next(p for p in lock.packages if p.name == "hello-noarch").dependencies).keys() == {"chello"}


@pytest.mark.parametrize(("cuda", "build"), [(None, "cpu_0"), ("12.4", "cuda12_0"), ("11.8", "cpu_0")])
def test_gpu_builds_follow_the_cuda_virtual_package(small_channel: TestChannel, cuda: str | None,
                                                    build: str) -> None:
    options = ResolveOptions(channel_alias=small_channel.root.as_uri(), cuda=cuda)
    [tool] = resolve(spec("gpu-tool", channels=(small_channel.name,)), options).lock.packages
    assert tool.build == build


def test_the_lock_on_disk_is_reused_while_inputs_hold_and_a_broken_one_is_resolved_again(
    small_channel: TestChannel, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from conda2docker.cli import main

    env = tmp_path / "environment.yml"
    env.write_text(f"channels: [{small_channel.name}]\ndependencies: [hello-noarch]\n")
    out = tmp_path / "conda-lock.yml"
    argv = ["lock", str(env), "-o", str(out), "--channel-alias", small_channel.root.as_uri()]
    assert main(argv) == 0
    first = out.read_bytes()
    capsys.readouterr()
    assert main(argv) == 0
    assert "up to date (inputs unchanged)" in capsys.readouterr().out
    assert out.read_bytes() == first
    reused = resolve(spec("hello-noarch", channels=(small_channel.name,)),
                     ResolveOptions(channel_alias=small_channel.root.as_uri(), existing_path=out))
    assert reused.reused
    out.write_text("version: 1\npackage: [\n")
    assert main([*argv, "--force"]) == 0
    assert out.read_bytes() == first


def test_a_record_naming_a_dependency_twice_keeps_both_constraints() -> None:
    """A record's ``depends`` may name a package twice (``python >=3.9`` and ``python <3.13``, or
    a bare name beside a pinned one): the lock holds every constraint, joined with ``,`` as
    conda-lock writes them, and a bare mention adds nothing."""
    from rattler import BuildString, PackageRecord, RepoDataRecord

    from conda2docker.resolve.conda import _to_locked

    record = RepoDataRecord(
        PackageRecord("demo", "1.0", BuildString("0"), 0, "linux-64",
                      depends=["python >=3.9", "numpy", "python <3.13", "libzlib", "libzlib >=1.3",
                               "numpy", "  openssl   >=3 "],
                      md5=bytes(16), sha256=bytes(32), size=1),
        "demo-1.0-0.conda", "https://conda.anaconda.org/conda-forge/linux-64/demo-1.0-0.conda",
        "https://conda.anaconda.org/conda-forge")
    locked = _to_locked(record, "linux-64", ())
    assert locked.dependencies == {"python": ">=3.9,<3.13", "numpy": "", "libzlib": ">=1.3",
                                   "openssl": ">=3"}
