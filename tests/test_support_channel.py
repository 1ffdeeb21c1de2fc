"""The local conda channel stand-in: real packages that solve, install and run."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, cast

import pytest
import rattler
from rattler import (
    BuildString,
    Channel,
    ChannelConfig,
    GenericVirtualPackage,
    MatchSpec,
    PackageName,
    RepoDataRecord,
    Version,
)

from support.channel import (
    CHANNEL_NAME,
    RECIPES,
    ChannelBuildError,
    TestChannel,
    build_recipe,
    build_small_channel,
    host_glibc_version,
)
from support.engine import run_in_image
from support.pypi_index import LocalIndex

if TYPE_CHECKING:
    from collections.abc import Callable

    import docker


def virtual(**versions: str) -> list[GenericVirtualPackage]:
    """``virtual(glibc="2.28", cuda="12.4")`` -> [__unix, __linux, __glibc 2.28, __cuda 12.4]."""
    pkgs = [
        GenericVirtualPackage(PackageName("__unix"), Version("0"), BuildString("0")),
        GenericVirtualPackage(PackageName("__linux"), Version("6.1"), BuildString("0")),
    ]
    pkgs += [
        GenericVirtualPackage(PackageName(f"__{name}"), Version(ver), BuildString("0"))
        for name, ver in versions.items()
    ]
    return pkgs


def solve(
    channel: TestChannel | Channel | str,
    specs: list[str],
    virtual_packages: list[GenericVirtualPackage],
) -> list[RepoDataRecord]:
    source = channel.url if isinstance(channel, TestChannel) else channel
    return asyncio.run(
        rattler.solve(
            sources=[source],
            specs=[MatchSpec(s, strict=False) for s in specs],
            platforms=["linux-64", "noarch"],
            virtual_packages=virtual_packages,
        )
    )


def install(records: list[RepoDataRecord], prefix: Path, pkgs_cache: Path) -> None:
    asyncio.run(
        rattler.install(records, target_prefix=prefix, cache_dir=pkgs_cache, show_progress=False)
    )


def by_name(records: list[RepoDataRecord]) -> dict[str, RepoDataRecord]:
    return {r.name.normalized: r for r in records}


def run(cmd: list[str | Path], **kwargs: object) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "CONDA", "PIP_"))}
    env["PIP_CONFIG_FILE"] = os.devnull
    proc = subprocess.run(  # type: ignore[call-overload]
        [str(c) for c in cmd], capture_output=True, text=True, env=env, check=False, **kwargs
    )
    return cast("subprocess.CompletedProcess[str]", proc)


# -------------------------------------------------------------------------------------------
# small channel: chello, hello-noarch, gpu-tool
# -------------------------------------------------------------------------------------------


def test_small_channel_layout(small_channel: TestChannel) -> None:
    assert small_channel.name == CHANNEL_NAME == "c2d-test"
    assert small_channel.url == (small_channel.root / "c2d-test").as_uri()
    assert small_channel.alias == small_channel.root.as_uri()
    assert small_channel.python_version is None
    assert set(small_channel.packages) == {"chello", "hello-noarch", "gpu-tool"}
    for subdir in ("linux-64", "noarch"):
        repodata = json.loads((small_channel.path / subdir / "repodata.json").read_text())
        assert repodata["info"]["subdir"] == subdir
    for pkg in small_channel.path.glob("*/*.conda"):
        assert pkg.stat().st_mode & 0o044 == 0o044, f"{pkg} is not world-readable"


def test_hello_noarch_pulls_chello_and_runs(small_channel: TestChannel, tmp_path: Path) -> None:
    records = solve(small_channel, ["hello-noarch"], virtual(glibc="2.36"))
    names = by_name(records)
    assert set(names) == {"hello-noarch", "chello"}
    assert names["hello-noarch"].subdir == "noarch"
    assert names["chello"].subdir == "linux-64"
    assert str(names["chello"].version) == "0.1.0"
    assert names["chello"].url.startswith(small_channel.url + "/linux-64/")

    prefix = tmp_path / "env"
    install(records, prefix, tmp_path / "pkgs")
    proc = run([prefix / "bin" / "hello-noarch"])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["hello from chello 0.1.0", "hello from hello-noarch 1.0"]
    # chello is a real ELF executable compiled for this machine
    assert (prefix / "bin" / "chello").read_bytes()[:4] == b"\x7fELF"


def test_channel_name_resolves_under_the_alias(small_channel: TestChannel) -> None:
    config = ChannelConfig(channel_alias=small_channel.alias + "/")
    channel = Channel(small_channel.name, config)
    records = solve(channel, ["chello"], virtual(glibc="2.17"))
    assert [r.name.normalized for r in records] == ["chello"]


@pytest.mark.parametrize(
    ("virtuals", "spec", "expected"),
    [
        ({"cuda": "12.4", "glibc": "2.28"}, "gpu-tool", "cuda12_0"),
        ({"glibc": "2.28"}, "gpu-tool", "cpu_0"),
        ({"cuda": "11.8", "glibc": "2.28"}, "gpu-tool", "cpu_0"),
        ({"cuda": "12.4", "glibc": "2.17"}, "gpu-tool", "cpu_0"),
        ({"cuda": "12.4", "glibc": "2.28"}, "gpu-tool=*=cuda*", "cuda12_0"),
        ({"glibc": "2.28"}, "gpu-tool=*=cpu*", "cpu_0"),
    ],
)
def test_gpu_tool_variant_follows_virtual_packages(
    small_channel: TestChannel, virtuals: dict[str, str], spec: str, expected: str
) -> None:
    records = solve(small_channel, [spec], virtual(**virtuals))
    assert [(r.name.normalized, str(r.build)) for r in records] == [("gpu-tool", expected)]


def test_gpu_tool_without_glibc_is_unsatisfiable(small_channel: TestChannel) -> None:
    with pytest.raises(Exception, match="__glibc"):
        solve(small_channel, ["gpu-tool"], [])


def test_cuda_build_is_unsatisfiable_without_cuda(small_channel: TestChannel) -> None:
    with pytest.raises(Exception, match="__cuda"):
        solve(small_channel, ["gpu-tool=*=cuda12_0"], virtual(glibc="2.36"))


def test_failed_build_shows_the_real_log(tmp_path: Path) -> None:
    recipe = tmp_path / "broken"
    recipe.mkdir()
    (recipe / "recipe.yaml").write_text(
        "package: {name: broken, version: '1.0'}\n"
        "build:\n"
        "  noarch: generic\n"
        "  script:\n"
        '    - "echo compiler says: missing-header.h not found"\n'
        "    - exit 7\n"
    )
    with pytest.raises(ChannelBuildError) as err:
        build_recipe(recipe, tmp_path / "out")
    message = str(err.value)
    assert "compiler says: missing-header.h not found" in message
    assert "conda_build.log" in message


def test_warm_cache_is_fast(small_channel: TestChannel) -> None:
    start = time.perf_counter()
    again = build_small_channel(small_channel.root.parent)
    assert time.perf_counter() - start < 1.0
    assert again == small_channel


def test_runnable_as_a_script(small_channel: TestChannel) -> None:
    script = Path(__file__).parent / "support" / "channel.py"
    proc = run(
        [sys.executable, script, "--small", "--cache-dir", small_channel.root.parent],
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(small_channel.root)


# -------------------------------------------------------------------------------------------
# full channel: python, pip, setuptools, wheel, packaging, ca-certificates, c2d-greet, c2d-activate
# -------------------------------------------------------------------------------------------

GLIBC = host_glibc_version()


@pytest.mark.slow
def test_full_channel_contents(test_channel: TestChannel) -> None:
    assert test_channel.python_version == ".".join(map(str, sys.version_info[:3]))
    expected = {
        "chello",
        "hello-noarch",
        "gpu-tool",
        "python",
        "python_abi",
        "pip",
        "setuptools",
        "wheel",
        "packaging",
        "ca-certificates",
        "c2d-greet",
        "c2d-activate",
    }
    assert set(test_channel.packages) == expected
    repodata = json.loads((test_channel.path / "linux-64" / "repodata.json").read_text())
    abi = [r for r in repodata["packages.conda"].values() if r["name"] == "python_abi"]
    major_minor = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert [
        (r["version"], r["build"].endswith(f"_cp{major_minor.replace('.', '')}")) for r in abi
    ] == [(major_minor, True)]
    noarch = json.loads((test_channel.path / "noarch" / "repodata.json").read_text())
    kinds = {r["name"]: r.get("noarch") for r in noarch["packages.conda"].values()}
    assert kinds == {
        "pip": "python",
        "setuptools": "python",
        "wheel": "python",
        "packaging": "python",
        "c2d-greet": "python",
        "hello-noarch": "generic",
        "ca-certificates": "generic",
        "c2d-activate": "generic",
    }


@pytest.fixture(scope="module")
def python_env(test_channel: TestChannel, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """python + pip + setuptools + wheel + c2d-greet + ca-certificates installed in a prefix."""
    base = tmp_path_factory.mktemp("pyenv")
    specs = [
        f"python {test_channel.python_version}",
        "pip",
        "wheel",
        "setuptools",
        "c2d-greet",
        "ca-certificates",
        "python_abi",
    ]
    records = solve(test_channel, specs, virtual(glibc=GLIBC))
    names = by_name(records)
    assert {"python", "pip", "setuptools", "wheel", "packaging", "c2d-greet"} <= set(names)
    prefix = base / "A"
    install(records, prefix, base / "pkgs")
    return prefix


@pytest.mark.slow
def test_python_is_real_and_self_contained(python_env: Path, test_channel: TestChannel) -> None:
    check = RECIPES / "python" / "check_python.py"
    proc = run([python_env / "bin" / "python", check, str(test_channel.python_version)])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert Path(report["prefix"]) == python_env
    assert report["libs_outside_prefix"] == []
    assert report["openssl"].startswith("OpenSSL")
    # the package bundles every non-glibc library the interpreter needs
    for lib in ("libssl.so.3", "libcrypto.so.3", "libsqlite3.so.0", "libffi.so.8"):
        assert (python_env / "lib" / lib).is_file(), lib

    proc = run([python_env / "bin" / "python", "-c", "import ssl, sqlite3, ctypes; print('ok')"])
    assert (proc.returncode, proc.stdout) == (0, "ok\n"), proc.stderr
    assert (python_env / "ssl" / "cacert.pem").stat().st_size > 1000


@pytest.mark.slow
def test_noarch_python_packages_work(python_env: Path) -> None:
    proc = run([python_env / "bin" / "c2d-greet"])
    assert (proc.returncode, proc.stdout) == (0, "greetings from c2d-greet 1.0\n"), proc.stderr
    proc = run([python_env / "bin" / "pip", "--version"])
    assert proc.returncode == 0, proc.stderr
    assert str(python_env / "lib") in proc.stdout
    proc = run([python_env / "bin" / "python", "-m", "pip", "list", "--format=json"])
    assert proc.returncode == 0, proc.stderr
    listed = {d["name"].lower() for d in json.loads(proc.stdout)}
    assert {"pip", "setuptools", "wheel", "packaging", "c2d-greet"} <= listed
    proc = run([python_env / "bin" / "wheel", "version"])
    assert proc.returncode == 0, proc.stderr


@pytest.mark.slow
def test_python_survives_moving_the_prefix(python_env: Path, tmp_path: Path) -> None:
    moved = tmp_path / "somewhere" / "else" / "B"
    moved.parent.mkdir(parents=True)
    shutil.copytree(python_env, moved, symlinks=True)
    check = RECIPES / "python" / "check_python.py"
    proc = run([moved / "bin" / "python", check, "--moved"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert Path(report["prefix"]) == moved
    assert report["libs_outside_prefix"] == []


@pytest.mark.slow
def test_python_builds_a_c_extension_offline(
    python_env: Path, local_pypi: LocalIndex, tmp_path: Path
) -> None:
    """The packaged headers + sysconfig compile an sdist's C extension (build isolation offline)."""
    out = tmp_path / "wheels"
    proc = run(
        [
            python_env / "bin" / "python",
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-index",
            "--no-cache-dir",
            "--find-links",
            local_pypi.files_dir,
            "-w",
            out,
            "c2d-cext",
        ],
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (wheel,) = out.glob("c2d_cext-0.1-cp*.whl")
    target = tmp_path / "site"
    proc = run(
        [
            python_env / "bin" / "python",
            "-m",
            "pip",
            "install",
            "--no-index",
            "--target",
            target,
            wheel,
        ]
    )
    assert proc.returncode == 0, proc.stderr
    proc = run(
        [python_env / "bin" / "python", "-c", "import c2d_cext; print(c2d_cext.add(2, 40))"],
        cwd=target,
    )
    assert (proc.returncode, proc.stdout) == (0, "42\n"), proc.stderr


@pytest.mark.slow
def test_python_runs_in_a_minbase_image(
    test_channel: TestChannel,
    docker_client: docker.DockerClient,
    base_image: str,
    image_tag_factory: Callable[[str], str],
    tmp_path: Path,
) -> None:
    """Staged on the host for /opt/env, copied into debian:bookworm-slim, run as a non-root user.

    The minbase image has glibc but no libssl3/libsqlite3/libffi: the package bundles them.
    """
    records = solve(test_channel, ["python", "c2d-greet", "ca-certificates"], virtual(glibc=GLIBC))
    ctx = tmp_path / "ctx"
    asyncio.run(
        rattler.install(
            records,
            target_prefix=ctx / "env",
            alternative_target_prefix="/opt/env",
            cache_dir=tmp_path / "pkgs",
            show_progress=False,
        )
    )
    shutil.copyfile(RECIPES / "python" / "check_python.py", ctx / "check_python.py")
    (ctx / "Dockerfile").write_text(
        f"FROM {base_image}\n"
        "COPY env /opt/env\n"
        "COPY check_python.py /opt/check_python.py\n"
        "USER 10001\n"
    )
    tag = image_tag_factory("support-channel-python")
    docker_client.images.build(path=str(ctx), tag=tag, rm=True, network_mode="none")
    version = str(test_channel.python_version)
    code, out = run_in_image(
        docker_client, tag, ["/opt/env/bin/python", "/opt/check_python.py", version]
    )
    assert code == 0, out
    report = json.loads(out.splitlines()[0])
    assert report["prefix"] == "/opt/env"
    assert report["libs_outside_prefix"] == []
    code, out = run_in_image(docker_client, tag, ["/opt/env/bin/c2d-greet"])
    assert (code, out) == (0, "greetings from c2d-greet 1.0\n")
