"""One Dockerfile for several platforms: ``--platform linux-64 --platform linux-aarch64`` locks
both, the ``env`` stage picks ``conda2docker/conda-${TARGETARCH:-amd64}.lock``, the bake target
lists both platforms; what one Dockerfile cannot serve is refused with the fix.

(The image build is in ``test_multiarch_engine.py``.)
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from conda2docker.cli import main
from conda2docker.plan import PlanOptions, make_plan
from conda2docker.plan.instructions import PlanError
from conda2docker.render.dockerfile import render_dockerfile
from support.bake import parse_bake, parse_every_bake_file
from support.channel import TestChannel
from support.lint import assert_lints_clean, parse
from support.locks import BOTH, pip, two_platform_lock
from support.snapshots import assert_snapshot


@pytest.fixture(autouse=True)
def _every_bake_file_written_parses(tmp_path: Path) -> Iterator[None]:
    """Every bake file a test here writes is read back by python-hcl2 against bake's attributes."""
    yield
    parse_every_bake_file(tmp_path)




def test_one_dockerfile_picks_the_lock_by_target_arch() -> None:
    options = PlanOptions(platform="linux-64", platforms=BOTH, lock_digest="1" * 64)
    plan = make_plan(None, two_platform_lock(), options)
    text = render_dockerfile(plan)
    assert_snapshot("multiarch-micromamba.Dockerfile", text)
    assert_lints_clean(text)
    parse(text)  # BuildKit's own parser reads it
    assert "ARG TARGETARCH\nCOPY conda2docker/conda-${TARGETARCH:-amd64}.lock /tmp/c2d/conda.lock\n" in text
    files = {f.path: f.content.decode() for f in plan.context_files}
    assert "# platform: linux-64" in files["conda2docker/conda-amd64.lock"]
    assert "/linux-aarch64/python-3.11.9" in files["conda2docker/conda-arm64.lock"]
    assert plan.image_platforms == BOTH
    # the same plan made from the other platform's side is the same Dockerfile
    assert render_dockerfile(make_plan(None, two_platform_lock(), replace(options, platform="linux-aarch64"))) == text


def test_the_rattler_installer_picks_the_lock_too_and_single_platform_bytes_are_unchanged() -> None:
    options = PlanOptions(installer="rattler", platform="linux-64", platforms=BOTH)
    text = render_dockerfile(make_plan(None, two_platform_lock(), options))
    assert ("COPY conda2docker/install_lock.py /tmp/c2d/\nARG TARGETARCH\n"
            "COPY conda2docker/conda-${TARGETARCH:-amd64}.lock /tmp/c2d/conda.lock\n") in text
    assert "python /tmp/c2d/install_lock.py /tmp/c2d/conda.lock /opt/env" in text
    single = render_dockerfile(make_plan(None, two_platform_lock(), PlanOptions(platform="linux-64")))
    assert "TARGETARCH" not in single and "COPY conda2docker/conda-linux-64.lock /tmp/c2d/conda-linux-64.lock" in single


def test_wheels_of_each_architecture_are_picked_like_the_lock() -> None:
    options = PlanOptions(platform="linux-64", platforms=BOTH, vendor=True)
    plan = make_plan(None, two_platform_lock(pip_differs=True), options)
    text = render_dockerfile(plan)
    assert ("ARG TARGETARCH\nCOPY conda2docker/requirements.pip-${TARGETARCH:-amd64}.txt "
            "/tmp/c2d/requirements.pip.txt\n") in text
    assert "-r /tmp/c2d/requirements.pip.txt" in text
    assert_lints_clean(text)
    files = {f.path: f.content.decode() for f in plan.context_files}
    assert "manylinux_2_17_x86_64.whl" in files["conda2docker/requirements.pip-amd64.txt"]
    assert "manylinux_2_17_aarch64.whl" in files["conda2docker/requirements.pip-arm64.txt"]
    assert "conda2docker/requirements.pip.txt" not in files
    dests = {item.dest for item in plan.vendor_items}
    assert {"vendor/pip/numpy-1.26.4-cp311-cp311-manylinux_2_17_x86_64.whl",
            "vendor/pip/numpy-1.26.4-cp311-cp311-manylinux_2_17_aarch64.whl"} <= dests
    assert render_dockerfile(make_plan(None, two_platform_lock(pip_differs=True),
                                       replace(options, platform="linux-aarch64"))) == text


def test_what_one_dockerfile_cannot_serve_is_refused() -> None:
    lock = two_platform_lock()
    sdist = pip("odd", "1.0", "https://files.example.org/packages/odd-1.0.tar.gz", platform="linux-aarch64")
    with pytest.raises(PlanError, match=r"built from source differ between linux-64 and linux-aarch64 \(odd\)"):
        make_plan(None, replace(lock, packages=(*lock.packages, sdist)),
                  PlanOptions(platform="linux-64", platforms=BOTH))
    with pytest.raises(PlanError, match="bootstraps a Python of one platform"):
        make_plan(None, two_platform_lock(), PlanOptions(installer="rattler", vendor=True,
                                                           platform="linux-64", platforms=BOTH))
    lock = two_platform_lock()
    only_64 = replace(lock, platforms=("linux-64",),
                      packages=tuple(p for p in lock.packages if p.platform == "linux-64"))
    with pytest.raises(PlanError, match="no packages for linux-aarch64"):
        make_plan(None, only_64, PlanOptions(platform="linux-64", platforms=BOTH))


def multi_env(tmp_path: Path, channel: TestChannel) -> Path:
    env = tmp_path / "environment.yml"
    env.write_text(f"name: multi\nchannels: [{channel.name}]\ndependencies: [ca-certificates, c2d-activate]\n")
    return env


def test_convert_locks_both_platforms_and_writes_the_bake_target(
        tmp_path: Path, test_channel: TestChannel, capsys: pytest.CaptureFixture[str]) -> None:
    env = multi_env(tmp_path, test_channel)
    out = tmp_path / "out"
    code = main(["convert", str(env), "-o", str(out), "--channel-alias", test_channel.alias,
                 "--default-channels", "none", "--activation", "table",
                 "--platform", "linux-64", "--platform", "linux-aarch64"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "one Dockerfile for linux-64, linux-aarch64" in err
    from conda2docker.lockfile import read_lock

    lock = read_lock(out / "conda-lock.yml")
    assert set(lock.platforms) == set(BOTH)
    assert {p.name for p in lock.conda_packages("linux-aarch64")} == {"ca-certificates", "c2d-activate"}
    arm = (out / "conda2docker" / "conda-arm64.lock").read_text()
    assert "# platform: linux-aarch64" in arm and "ca-certificates" in arm
    assert not (out / "conda2docker" / "conda-linux-64.lock").exists()
    dockerfile = (out / "Dockerfile").read_text()
    assert "COPY conda2docker/conda-${TARGETARCH:-amd64}.lock /tmp/c2d/conda.lock" in dockerfile
    assert_lints_clean(dockerfile)
    target = parse_bake((out / "docker-bake.hcl").read_text())["target"]["multi-cpu"]
    assert target["platforms"] == ["linux/amd64", "linux/arm64"]
    assert target["context"] == "."
    digest = hashlib.sha256((out / "conda-lock.yml").read_bytes()).hexdigest()
    assert target["labels"]["io.conda2docker.lock.sha256"] == digest
    assert main(["convert", str(env), "-o", str(out), "--channel-alias", test_channel.alias,
                 "--default-channels", "none", "--activation", "table", "--check",
                 "--platform", "linux-64", "--platform", "linux-aarch64"]) == 0


def test_apptainer_with_several_platforms_is_refused_before_solving(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = tmp_path / "environment.yml"
    env.write_text("dependencies: [python]\n")
    code = main(["convert", str(env), "-o", str(tmp_path / "out"), "--format", "apptainer",
                 "--platform", "linux-64", "--platform", "linux-aarch64"])
    assert code == 2
    assert "an Apptainer definition is built for one platform" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_conda_packages_of_each_platform_are_vendored() -> None:
    lock = two_platform_lock()
    plan = make_plan(None, lock, PlanOptions(platform="linux-64", platforms=BOTH, vendor=True))
    dests = {item.dest for item in plan.vendor_items}
    assert "vendor/channel/linux-aarch64/python-3.11.9-hb806964_0_cpython.conda" in dests
    assert "vendor/channel/linux-64/python-3.11.9-hb806964_0_cpython.conda" in dests
    assert sum(1 for d in dests if "/noarch/pip-" in d) == 1  # one copy of a noarch package


def test_selectors_are_read_per_platform_as_conda_lock_reads_them(
        tmp_path: Path, test_channel: TestChannel, capsys: pytest.CaptureFixture[str]) -> None:
    """Oracle: conda-lock parses the file once per platform (its selector set: ``linux64``,
    ``aarch64``); each platform's lock holds what that reading asks for."""
    from conda_lock.src_parser.environment_yaml import parse_environment_file

    env = tmp_path / "environment.yml"
    env.write_text(f"name: sel\nchannels: [{test_channel.name}]\ndependencies:\n  - ca-certificates\n"
                   "  - chello  # [linux64]\n  - c2d-activate  # [aarch64]\n")
    mapping = tmp_path / "mapping.json"
    mapping.write_text("{}")
    oracle = parse_environment_file(env, list(BOTH), mapping_url=str(mapping))
    asked = {p: {d.name for d in deps} for p, deps in oracle.dependencies.items()}
    assert asked == {"linux-64": {"ca-certificates", "chello"},
                     "linux-aarch64": {"ca-certificates", "c2d-activate"}}
    out = tmp_path / "out"
    assert main(["convert", str(env), "-o", str(out), "--channel-alias", test_channel.alias,
                 "--default-channels", "none", "--activation", "table",
                 "--platform", "linux-64", "--platform", "linux-aarch64"]) == 0
    assert "each platform is locked from its own reading of the file" in capsys.readouterr().err
    from conda2docker.lockfile import read_lock

    lock = read_lock(out / "conda-lock.yml")
    assert {p: {pkg.name for pkg in lock.conda_packages(p)} for p in BOTH} == asked
    arm = (out / "conda2docker" / "conda-arm64.lock").read_text()
    assert "c2d-activate" in arm and "chello" not in arm
    assert main(["convert", str(env), "-o", str(out), "--channel-alias", test_channel.alias,
                 "--default-channels", "none", "--activation", "table", "--check",
                 "--platform", "linux-64", "--platform", "linux-aarch64"]) == 0
    # `lock` reads the file per platform too
    locked = tmp_path / "conda-lock.yml"
    assert main(["lock", str(env), "-o", str(locked), "--channel-alias", test_channel.alias,
                 "--default-channels", "none", "--platform", "linux-64", "--platform", "linux-aarch64"]) == 0
    by_lock = read_lock(locked)
    assert {p: {pkg.name for pkg in by_lock.conda_packages(p)} for p in BOTH} == asked


def test_real_records_lock_for_both_architectures(tmp_path: Path, snapshot_channels: Path) -> None:
    """conda-forge's real linux-64 and linux-aarch64 records (the shared snapshot, read through
    --mirror as a mirror of metadata): each explicit lock holds its own architecture's builds."""
    env = tmp_path / "environment.yml"
    env.write_text("name: sci\nchannels: [conda-forge]\ndependencies: [python=3.12, numpy, pandas]\n")
    out = tmp_path / "out"
    assert main(["convert", str(env), "-o", str(out), "--offline", "--activation", "table",
                 "--mirror", f"conda-forge={(snapshot_channels / 'conda-forge').as_uri()}",
                 "--platform", "linux-64", "--platform", "linux-aarch64"]) == 0
    amd = (out / "conda2docker" / "conda-amd64.lock").read_text()
    arm = (out / "conda2docker" / "conda-arm64.lock").read_text()
    assert "/conda-forge/linux-64/numpy-" in amd and "/linux-aarch64/" not in amd
    assert "/conda-forge/linux-aarch64/numpy-" in arm and "/linux-64/" not in arm
    assert "https://conda.anaconda.org/conda-forge/linux-aarch64/python-3.12" in arm
    assert "COPY conda2docker/conda-${TARGETARCH:-amd64}.lock" in (out / "Dockerfile").read_text()
    target = parse_bake((out / "docker-bake.hcl").read_text())["target"]["sci-cpu"]
    assert target["platforms"] == ["linux/amd64", "linux/arm64"]


def test_a_lock_input_of_both_platforms_gives_each_its_packages(tmp_path: Path) -> None:
    from conda2docker.lockfile import write_conda_lock

    path = tmp_path / "in" / "conda-lock.yml"
    write_conda_lock(two_platform_lock(pip_differs=True), path)
    out = tmp_path / "out"
    assert main(["convert", str(path), "-o", str(out), "--platform", "linux-64", "--platform", "linux-aarch64"]) == 0
    arm = (out / "conda2docker" / "conda-arm64.lock").read_text()
    assert "# platform: linux-aarch64" in arm and "/linux-aarch64/python-3.11.9" in arm
    assert "aarch64.whl" in (out / "conda2docker" / "requirements.pip-arm64.txt").read_text()
    assert 'CMD ["/opt/env/bin/python"]' in (out / "Dockerfile").read_text()
