"""The local PyPI index stand-in: PEP 503/691/658 over real, locally built distributions."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

from support.pypi_index import JSON_TYPE, LocalIndex, start_local_index

PIP_ACCEPT = f"{JSON_TYPE}, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01"


def fetch(url: str, accept: str | None = None) -> tuple[int, str, bytes]:
    req = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.headers.get("Content-Type", ""), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("Content-Type", ""), err.read()


def project_json(index: LocalIndex, name: str) -> dict[str, object]:
    status, ctype, body = fetch(index.project_url(name), JSON_TYPE)
    assert status == 200
    assert ctype == JSON_TYPE
    doc: dict[str, object] = json.loads(body)
    return doc


def pip(*args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The test venv's pip, isolated from the machine's pip.conf (find-links, extra indexes)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1")
    return subprocess.run(
        [sys.executable, "-m", "pip", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


def test_fixture_contract(local_pypi: LocalIndex) -> None:
    assert local_pypi.host == "127.0.0.1"
    assert local_pypi.url == f"http://127.0.0.1:{local_pypi.port}/simple/"
    names = sorted(p.name for p in local_pypi.files_dir.iterdir())
    expected = [
        "c2d_cext-0.1.tar.gz",
        "c2d_linux-0.9-cp{v}-cp{v}-manylinux_2_17_x86_64.whl",
        "c2d_linux-1.0-cp{v}-cp{v}-manylinux_2_39_x86_64.whl",
        "c2d_needs-2.0-py3-none-any.whl",
        "c2d_pure-1.0-py3-none-any.whl",
        "c2d_pure-1.0.tar.gz",
        "c2d_pure-1.1-py3-none-any.whl",
        "c2d_pure-1.1.tar.gz",
        "c2d_sdistonly-0.5.tar.gz",
    ]
    v = f"{sys.version_info[0]}{sys.version_info[1]}"
    assert [n for n in names if n.startswith("c2d")] == [e.format(v=v) for e in expected]
    assert any(re.fullmatch(r"setuptools-[\d.]+-py3-none-any\.whl", n) for n in names)
    assert any(re.fullmatch(r"wheel-[\d.]+-py3-none-any\.whl", n) for n in names)


def test_pep691_json_hashes_match_the_bytes(local_pypi: LocalIndex) -> None:
    doc = project_json(local_pypi, "c2d-pure")
    assert doc["meta"] == {"api-version": "1.1"}
    assert doc["name"] == "c2d-pure"
    assert doc["versions"] == ["1.0", "1.1"]
    files = doc["files"]
    assert isinstance(files, list)
    assert sorted(f["filename"] for f in files) == [
        "c2d_pure-1.0-py3-none-any.whl",
        "c2d_pure-1.0.tar.gz",
        "c2d_pure-1.1-py3-none-any.whl",
        "c2d_pure-1.1.tar.gz",
    ]
    for f in files:
        status, _, data = fetch(f["url"])
        assert status == 200
        assert hashlib.sha256(data).hexdigest() == f["hashes"]["sha256"]
        assert f["size"] == len(data)
        assert f["requires-python"] == ">=3.8"
        assert f["yanked"] is False
        if f["filename"].endswith(".whl"):
            status, _, meta = fetch(f["url"] + ".metadata")
            assert status == 200
            assert f["core-metadata"] == {"sha256": hashlib.sha256(meta).hexdigest()}
            with zipfile.ZipFile(local_pypi.files_dir / f["filename"]) as zf:
                assert meta == zf.read(f"c2d_pure-{f['filename'].split('-')[1]}.dist-info/METADATA")
        else:
            assert f["core-metadata"] is False
            assert fetch(f["url"] + ".metadata")[0] == 404


def test_pep503_html_links(local_pypi: LocalIndex) -> None:
    status, ctype, body = fetch(local_pypi.project_url("c2d-needs"))
    assert status == 200
    assert ctype.startswith("application/vnd.pypi.simple.v1+html")
    page = body.decode()
    (link,) = re.findall(r"<a [^>]*>c2d_needs-2\.0-py3-none-any\.whl</a>", page)
    digest = hashlib.sha256((local_pypi.files_dir / "c2d_needs-2.0-py3-none-any.whl").read_bytes())
    assert f"#sha256={digest.hexdigest()}" in link
    assert 'data-requires-python="&gt;=3.8"' in link
    assert re.search(r'data-core-metadata="sha256=[0-9a-f]{64}"', link)
    status, ctype, _ = fetch(local_pypi.project_url("c2d-needs"), "text/html")
    assert (status, ctype.split(";")[0]) == (200, "text/html")


def test_root_index_and_negotiation(local_pypi: LocalIndex) -> None:
    status, ctype, body = fetch(local_pypi.url, PIP_ACCEPT)
    assert (status, ctype) == (200, JSON_TYPE)
    projects = {p["name"] for p in json.loads(body)["projects"]}
    assert {"c2d-pure", "c2d-cext", "c2d-needs", "c2d-linux", "setuptools", "wheel"} <= projects
    status, _, body = fetch(local_pypi.url)
    assert status == 200
    assert b'<a href="c2d-pure/">c2d-pure</a>' in body
    assert fetch(local_pypi.url, "application/xml")[0] == 406
    assert fetch(local_pypi.project_url("no-such-project"))[0] == 404
    # PEP 503: non-normalized names redirect to the normalized URL (urllib follows it)
    status, _, body = fetch(f"{local_pypi.url}C2D_Pure/", JSON_TYPE)
    assert status == 200
    assert json.loads(body)["name"] == "c2d-pure"


def test_pip_download_from_the_index(local_pypi: LocalIndex, tmp_path: Path) -> None:
    proc = pip(
        "download",
        "--no-deps",
        "--no-cache-dir",
        "--index-url",
        local_pypi.url,
        "-d",
        tmp_path,
        "c2d-pure==1.0",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (got,) = tmp_path.iterdir()
    assert got.name == "c2d_pure-1.0-py3-none-any.whl"
    assert got.read_bytes() == (local_pypi.files_dir / got.name).read_bytes()


def test_pip_resolves_dependencies_and_runs_console_script(
    local_pypi: LocalIndex, tmp_path: Path
) -> None:
    target = tmp_path / "site"
    proc = pip(
        "install", "--no-cache-dir", "--index-url", local_pypi.url, "--target", target, "c2d-needs"
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (target / "c2d_pure-1.1.dist-info").is_dir()  # newest satisfying c2d-pure>=1.0
    code = "import c2d_needs, c2d_pure; print(c2d_needs.describe()); c2d_pure.main()"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=target,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(target)},
    ).stdout
    assert out.splitlines() == ["c2d-needs uses c2d-pure 1.1", "c2d-pure 1.1"]
    script = (target / "bin" / "c2d-pure").read_text()
    assert "from c2d_pure import main" in script


def test_sdist_only_project_has_no_wheel(local_pypi: LocalIndex, tmp_path: Path) -> None:
    proc = pip(
        "install",
        "--no-cache-dir",
        "--only-binary",
        ":all:",
        "--index-url",
        local_pypi.url,
        "--target",
        tmp_path,
        "c2d-cext",
    )
    assert proc.returncode != 0
    assert "from versions: none" in proc.stderr
    files = project_json(local_pypi, "c2d-cext")["files"]
    assert isinstance(files, list)
    assert [f["filename"] for f in files] == ["c2d_cext-0.1.tar.gz"]


def manylinux_platforms(glibc_minor: int) -> list[str]:
    """``--platform`` options for a glibc 2.<minor> x86_64 target.

    pip (23.x at least) does not expand ``--platform manylinux_2_36_x86_64`` to the older
    ``manylinux_2_*`` tags that such a system also accepts, so list them all.
    """
    args: list[str] = []
    for minor in range(glibc_minor, 4, -1):
        args += ["--platform", f"manylinux_2_{minor}_x86_64"]
    return args


def test_manylinux_tag_newer_than_base_glibc(local_pypi: LocalIndex, tmp_path: Path) -> None:
    """For a glibc 2.36 target (Debian bookworm) pip skips the manylinux_2_39 wheel."""
    v = f"{sys.version_info[0]}{sys.version_info[1]}"
    common = [
        "download",
        "--no-deps",
        "--no-cache-dir",
        "--only-binary",
        ":all:",
        "--index-url",
        local_pypi.url,
        "--implementation",
        "cp",
        "--python-version",
        v,
        "--abi",
        f"cp{v}",
    ]
    proc = pip(*common, *manylinux_platforms(36), "-d", tmp_path / "a", "c2d-linux")
    assert proc.returncode == 0, proc.stderr
    assert [p.name for p in (tmp_path / "a").iterdir()] == [
        f"c2d_linux-0.9-cp{v}-cp{v}-manylinux_2_17_x86_64.whl"
    ]
    proc = pip(*common, *manylinux_platforms(36), "-d", tmp_path / "c", "c2d-linux==1.0")
    assert proc.returncode != 0
    assert "from versions: 0.9" in proc.stderr
    proc = pip(*common, *manylinux_platforms(39), "-d", tmp_path / "b", "c2d-linux")
    assert proc.returncode == 0, proc.stderr
    assert [p.name for p in (tmp_path / "b").iterdir()] == [
        f"c2d_linux-1.0-cp{v}-cp{v}-manylinux_2_39_x86_64.whl"
    ]


def test_start_local_index_on_any_directory(tmp_path: Path) -> None:
    src = tmp_path / "dists"
    src.mkdir()
    with zipfile.ZipFile(src / "demo_pkg-0.5-py3-none-any.whl", "w") as zf:
        zf.writestr(
            "demo_pkg-0.5.dist-info/METADATA",
            "Metadata-Version: 2.1\nName: demo-pkg\nVersion: 0.5\nRequires-Python: >=3.9\n",
        )
    with start_local_index(src) as index:
        files = project_json(index, "demo-pkg")["files"]
        assert isinstance(files, list)
        assert [f["requires-python"] for f in files] == [">=3.9"]
        port = index.port
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/simple/", timeout=2)


@pytest.mark.slow
def test_sdist_builds_offline_with_find_links(local_pypi: LocalIndex, tmp_path: Path) -> None:
    """pip's isolated build env gets setuptools from the index directory: no network needed."""
    proc = pip(
        "wheel",
        "--no-deps",
        "--no-cache-dir",
        "--no-index",
        "--find-links",
        local_pypi.files_dir,
        "-w",
        tmp_path,
        "c2d-cext",
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (wheel,) = tmp_path.glob("c2d_cext-0.1-*.whl")
    code = "import c2d_cext; print(c2d_cext.add(2, 3))"
    target = tmp_path / "unpacked"
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(target)
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=target, check=False
    )
    assert (proc.returncode, proc.stdout) == (0, "5\n"), proc.stderr
