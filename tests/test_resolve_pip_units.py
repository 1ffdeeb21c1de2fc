"""The pieces under resolve_pip: target tags and markers, what conda provides, and the
index client (PEP 691 vs PEP 503, find-links, PEP 658, disk cache, retries)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.utils import canonicalize_name
from packaging.version import Version

from conda2docker.resolve.pip import (
    PipTarget,
    conda_provides,
    glibc_needed,
    platform_tags,
    wheel_priority,
)
from conda2docker.resolve.pypi import (
    ACCEPT,
    CoreMetadata,
    DistFile,
    FetchError,
    IndexClient,
    parse_core_metadata,
    parse_html_links,
    static_tree_metadata,
    wheel_metadata,
)
from support.pypi_index import LocalIndex, start_local_index
from test_resolve_pip import conda

# -- target ---------------------------------------------------------------------------------


def test_platform_tags_follow_the_target_glibc_not_the_host() -> None:
    tags = platform_tags(PipTarget(glibc="2.36"))
    assert tags[0] == "manylinux_2_36_x86_64" and tags[-1] == "linux_x86_64"
    assert {"manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"} <= set(tags)
    assert "manylinux_2_37_x86_64" not in tags
    arm = platform_tags(PipTarget(platform="linux-aarch64", glibc="2.28"))
    assert arm[0] == "manylinux_2_28_aarch64" and "manylinux_2_17_aarch64" in arm
    assert "manylinux_2_16_aarch64" not in arm


@pytest.mark.parametrize(
    ("filename", "target", "installs", "needs"),
    [
        ("x-1-cp311-cp311-manylinux_2_39_x86_64.whl", PipTarget(glibc="2.36"), False, "2.39"),
        ("x-1-cp311-cp311-manylinux_2_39_x86_64.whl", PipTarget(glibc="2.39"), True, None),
        ("x-1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", PipTarget(), True, None),
        ("x-1-cp38-abi3-manylinux2014_x86_64.whl", PipTarget(), True, None),
        ("x-1-cp38-abi3-manylinux2014_x86_64.whl", PipTarget(glibc="2.12"), False, "2.17"),
        ("x-1-cp311-cp311-manylinux1_x86_64.whl", PipTarget(glibc="2.5"), True, None),
        ("x-1-cp312-cp312-manylinux_2_17_x86_64.whl", PipTarget(), False, None),  # other Python
        ("x-1-cp311-cp311-manylinux_2_39_x86_64.whl", PipTarget(platform="linux-aarch64"), False, None),
        ("x-1-cp311-cp311-musllinux_1_2_x86_64.whl", PipTarget(), False, None),
        ("x-1-py3-none-any.whl", PipTarget(python_version="3.12.1"), True, None),
        ("x-1-cp311-cp311-macosx_11_0_arm64.whl", PipTarget(platform="osx-arm64"), True, None),
    ],
)
def test_wheel_compatibility(filename: str, target: PipTarget, installs: bool, needs: str | None) -> None:
    assert (wheel_priority(filename, target) is not None) == installs
    assert glibc_needed(filename, target) == needs


def test_more_specific_wheels_rank_first() -> None:
    target = PipTarget()
    native = wheel_priority("x-1-cp311-cp311-manylinux_2_17_x86_64.whl", target)
    pure = wheel_priority("x-1-py3-none-any.whl", target)
    assert native is not None and pure is not None and native < pure


def test_markers_are_evaluated_for_the_target() -> None:
    env = PipTarget(platform="linux-aarch64", python_version="3.10.4").marker_environment()
    assert Marker('sys_platform == "linux" and platform_machine == "aarch64"').evaluate(env)
    assert not Marker('python_version >= "3.11"').evaluate(env)
    assert Marker('python_full_version == "3.10.4"').evaluate(env)
    assert not Marker('sys_platform == "win32"').evaluate(env)


# -- conda ----------------------------------------------------------------------------------


def test_what_conda_packages_provide() -> None:
    provided = conda_provides([
        conda("python", "3.11.7"),  # never
        conda("tzdata", "2024a"),  # PyPI's tzdata is conda's python-tzdata
        conda("cmake", "3.30.0", "libgcc", "zlib"),  # not a Python package
        conda("pytorch", "2.3.0", "python", "numpy"),
        conda("pyyaml", "6.0.1", "python"),  # not in the table, but depends on python
        conda("requests", "2.32.3"),  # dependencies unknown (explicit lock): assumed
        conda("python-tzdata", "2024.1", "python"),
    ])
    assert {name: (p.conda_name, p.version) for name, p in provided.items()} == {
        "torch": ("pytorch", "2.3.0"),
        "pyyaml": ("pyyaml", "6.0.1"),
        "requests": ("requests", "2.32.3"),
        "tzdata": ("python-tzdata", "2024.1"),
    }
    assert provided[canonicalize_name("torch")].parsed == Version("2.3.0")


# -- index client ---------------------------------------------------------------------------


def test_json_and_html_pages_agree(local_pypi: LocalIndex, tmp_path: Path) -> None:
    client = IndexClient(tmp_path)
    from_json = client.project_files(local_pypi.url, "C2D_Pure")
    body, content_type = client._fetch(local_pypi.project_url("c2d-pure"), "text/html")
    assert content_type.startswith("text/html")
    from_html = parse_html_links(body, local_pypi.project_url("c2d-pure"))
    key = lambda f: (f.filename, f.url, f.sha256, f.requires_python, f.yanked)  # noqa: E731
    assert sorted(map(key, from_json)) == sorted(map(key, from_html))
    assert len(from_json) == 4 and all(f.sha256 for f in from_json)
    assert client.project_files(local_pypi.url, "c2d-nonesuch") == []


def test_pep658_metadata_matches_the_wheel(local_pypi: LocalIndex, tmp_path: Path) -> None:
    client = IndexClient(tmp_path)
    (wheel,) = [f for f in client.project_files(local_pypi.url, "c2d-needs") if f.is_wheel]
    served = client.metadata(wheel)
    assert served == wheel_metadata((local_pypi.files_dir / wheel.filename).read_bytes())
    assert parse_core_metadata(served or b"").requires_dist == ("c2d-pure>=1.0",)
    assert list((tmp_path / "metadata").rglob("*")), "metadata of a hashed file is cached"
    local = DistFile(wheel.filename, (local_pypi.files_dir / wheel.filename).as_uri())
    assert client.metadata(local) == served  # file:// wheel: read from inside the archive


def test_find_links_locations(local_pypi: LocalIndex, tmp_path: Path) -> None:
    client = IndexClient(tmp_path)
    listed = {f.filename for f in client.find_links_files(str(local_pypi.files_dir))}
    assert "c2d_cext-0.1.tar.gz" in listed and "c2d_pure-1.1-py3-none-any.whl" in listed
    one = local_pypi.files_dir / "c2d_cext-0.1.tar.gz"
    assert [f.filename for f in client.find_links_files(one.as_uri())] == [one.name]
    page = {f.filename for f in client.find_links_files(local_pypi.project_url("c2d-linux"))}
    assert page == {"c2d_linux-0.9-cp311-cp311-manylinux_2_17_x86_64.whl",
                    "c2d_linux-1.0-cp311-cp311-manylinux_2_39_x86_64.whl"}
    with pytest.raises(FetchError):
        client.find_links_files(str(tmp_path / "absent"))


def test_pages_are_cached_on_disk_for_their_ttl(local_pypi: LocalIndex, tmp_path: Path) -> None:
    with start_local_index(local_pypi.files_dir) as private:
        first = IndexClient(tmp_path).project_files(private.url, "c2d-pure")
    # the server is gone: a fresh client answers from the disk cache while it is fresh
    assert IndexClient(tmp_path).project_files(private.url, "c2d-pure") == first
    assert IndexClient(tmp_path, offline=True, page_ttl=0).project_files(private.url, "c2d-pure") == first
    with pytest.raises(FetchError):
        IndexClient(tmp_path, page_ttl=0, retries=0, timeout=2).project_files(private.url, "c2d-pure")


@pytest.fixture
def flaky_server() -> Iterator[tuple[str, list[str]]]:
    """Answers 503 to the first request for each path, then a one-link HTML page."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            seen.append(self.headers.get("Accept", ""))
            if len(seen) == 1:
                self.send_error(503)
                return
            body = b'<a href="/f/c2d_x-1.0-py3-none-any.whl#sha256=ab">c2d_x</a>'
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple/", seen
    finally:
        server.shutdown()
        server.server_close()


def test_retries_server_errors_and_asks_for_pep691(flaky_server: tuple[str, list[str]], tmp_path: Path) -> None:
    url, seen = flaky_server
    (f,) = IndexClient(tmp_path, retries=1).project_files(url, "c2d-x")
    assert (f.filename, f.sha256, f.url) == ("c2d_x-1.0-py3-none-any.whl", "ab", url.replace("/simple/", "/f/") + f.filename)
    assert seen == [ACCEPT, ACCEPT] and ACCEPT.startswith("application/vnd.pypi.simple.v1+json")


# -- metadata -------------------------------------------------------------------------------


def test_static_pyproject_metadata(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "P"\nversion = "1.2"\nrequires-python = ">=3.9"\n'
        'dependencies = ["a>=1"]\n'
        '[project.optional-dependencies]\nX = ["b", "c; python_version < \'3.12\'"]\n'
    )
    meta = static_tree_metadata(tmp_path)
    assert meta is not None and (meta.name, meta.version, meta.requires_python) == ("P", "1.2", ">=3.9")
    assert meta.requires_dist == (
        "a>=1", 'b; extra == "x"', "c; (python_version < '3.12') and extra == \"x\"",
    )
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "P"\ndynamic = ["version"]\n')
    assert static_tree_metadata(tmp_path) is None


@pytest.mark.parametrize(
    ("version", "dynamic", "reliable"),
    [("2.1", (), False), ("2.2", (), True), ("2.4", ("Requires-Dist",), False), ("2.3", ("License",), True)],
)
def test_sdist_metadata_trust(version: str, dynamic: tuple[str, ...], reliable: bool) -> None:
    assert CoreMetadata("p", "1", metadata_version=version, dynamic=dynamic).reliable is reliable


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("c2d_pure-1.1-py3-none-any.whl", ("c2d-pure", "1.1")),
        ("c2d_pure-1.0.tar.gz", ("c2d-pure", "1.0")),
        ("Foo.Bar-2.0rc1.zip", ("foo-bar", "2.0rc1")),
        ("legacy-0.3.tar.bz2", ("legacy", "0.3")),
        ("not-a-dist.txt", None),
    ],
)
def test_file_names(filename: str, expected: tuple[str, str] | None) -> None:
    found = DistFile(filename, "file:///x/" + filename).name_version()
    assert (None if found is None else (found[0], str(found[1]))) == expected


@pytest.mark.parametrize(("filename", "glibc", "needs"), [
    # the lowest glibc any of its tags needs, whatever the order of the tags
    ("x-1-cp311-cp311-manylinux1_x86_64.manylinux2010_x86_64.manylinux_2_28_x86_64.whl", "2.4", "2.5"),
    ("x-1-cp311-cp311-manylinux_2_28_x86_64.manylinux2010_x86_64.manylinux1_x86_64.whl", "2.4", "2.5"),
    ("x-1-cp311-cp311-manylinux2014_x86_64.manylinux2010_x86_64.whl", "2.4", "2.12"),
    ("x-1-cp311-cp311-manylinux_2_40_x86_64.manylinux2014_x86_64.whl", "2.12", "2.17"),
    # tags for other systems or architectures say nothing about the glibc this target needs
    ("x-1-cp311-cp311-musllinux_1_2_x86_64.macosx_11_0_x86_64.win_amd64.manylinux_2_40_x86_64.whl",
     "2.36", "2.40"),
    ("x-1-cp311-cp311-musllinux_1_1_x86_64.manylinux_2_41_x86_64.manylinux_2_39_aarch64.linux_armv7l.whl",
     "2.36", "2.41"),
    ("x-1-cp311-cp311-win_amd64.musllinux_1_1_x86_64.linux_armv7l.manylinux_2_38_x86_64.whl",
     "2.36", "2.38"),
    ("x-1-cp311-cp311-macosx_11_0_arm64.manylinux_2_37_x86_64.manylinux_2_39_aarch64.whl",
     "2.36", "2.37"),
])
def test_the_glibc_a_wheel_needs_is_the_lowest_of_its_linux_tags(filename: str, glibc: str,
                                                                 needs: str) -> None:
    target = PipTarget(glibc=glibc)
    assert wheel_priority(filename, target) is None
    assert glibc_needed(filename, target) == needs
