"""A local PyPI-compatible index on loopback, serving REAL distributions built from tests/pypi_src.

Session fixture ``local_pypi`` -> :class:`LocalIndex`:

* ``url``: ``http://127.0.0.1:<port>/simple/``: PEP 503 HTML, or PEP 691 JSON when the client
  asks for ``application/vnd.pypi.simple.v1+json``; every file link carries ``#sha256=``,
  ``data-requires-python`` and (wheels) PEP 658/714 ``data-core-metadata``; ``<file>.metadata``
  is served for wheels.
* ``start_local_index(files_dir, auth=(user, password))``: the same, requiring HTTP basic auth
  on every request (401 otherwise), as a private index does.
* ``files_dir``: the distribution files (also a ``--find-links`` directory). Treat as read-only:
  it is the shared cache.
* ``host`` / ``port``.

Distributions (built with setuptools from a cached PyPI setuptools wheel, no network after that):

=============  ========  ==========================================================================
c2d-pure       1.0, 1.1  wheel + sdist; module ``c2d_pure``; console script ``c2d-pure``
c2d-cext       0.1       sdist only; C extension ``c2d_cext.add(a, b)``
c2d-sdistonly  0.5       sdist only, pure Python; console script ``c2d-sdistonly``
c2d-needs      2.0       wheel; requires ``c2d-pure>=1.0``
c2d-linux      1.0       wheel ``cpXY-cpXY-manylinux_2_39_x86_64`` (newer than bookworm's glibc 2.36)
c2d-linux      0.9       wheel ``cpXY-cpXY-manylinux_2_17_x86_64``
setuptools, wheel        PyPI wheels, for offline build isolation (``pip wheel --no-index``)
=============  ========  ==========================================================================

Outside pytest: ``build_pypi_files(cache_dir)`` and the context manager
``start_local_index(files_dir)``; ``python tests/support/pypi_index.py [--serve]``.
"""

from __future__ import annotations

import argparse
import base64
import csv
import email.parser
import hashlib
import html
import io
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar, cast
from urllib.parse import quote, unquote, urlsplit

import pytest
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

if __package__ in (None, ""):  # run as a script: make ``support`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from support.channel import (
    PYPI_PINS,
    cached_build,
    default_cache_dir,
    pypi_downloads,
    tree_digest,
)

PYPI_SRC = Path(__file__).resolve().parents[1] / "pypi_src"
JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_TYPE = "application/vnd.pypi.simple.v1+html"
DIST_SUFFIXES = (".whl", ".tar.gz", ".zip")
# Reproducible archives: setuptools honours SOURCE_DATE_EPOCH for wheel member timestamps.
_SOURCE_DATE_EPOCH = "1704067200"  # 2024-01-01
# Placeholder version in tests/pypi_src/*/pyproject.toml, replaced by each release's version.
_TEMPLATE_VERSION = '"0+template"'


@dataclass(frozen=True)
class Release:
    """One release built from ``tests/pypi_src/<project>``."""

    project: str
    version: str
    wheel: bool = True
    sdist: bool = False
    # retag the (platform) wheel to this, e.g. manylinux_2_39_x86_64
    platform_tag: str | None = None


RELEASES: tuple[Release, ...] = (
    Release("c2d-pure", "1.0", wheel=True, sdist=True),
    Release("c2d-pure", "1.1", wheel=True, sdist=True),
    Release("c2d-cext", "0.1", wheel=False, sdist=True),
    Release("c2d-sdistonly", "0.5", wheel=False, sdist=True),
    Release("c2d-needs", "2.0"),
    Release("c2d-linux", "1.0", platform_tag="manylinux_2_39_x86_64"),
    Release("c2d-linux", "0.9", platform_tag="manylinux_2_17_x86_64"),
)
#: PyPI wheels copied into the index for offline build isolation.
BUILD_TOOLS = ("setuptools", "wheel")


@dataclass(frozen=True)
class LocalIndex:
    """A running local index. ``url`` ends with ``/simple/``."""

    __test__: ClassVar[bool] = False

    url: str
    files_dir: Path
    host: str
    port: int

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def project_url(self, project: str) -> str:
        return f"{self.url}{canonicalize_name(project)}/"


# --------------------------------------------------------------------------------------------
# Building the distributions
# --------------------------------------------------------------------------------------------

_BUILD_SCRIPT = """
import sys
from setuptools import build_meta
kind, out = sys.argv[1], sys.argv[2]
print(build_meta.build_wheel(out) if kind == "wheel" else build_meta.build_sdist(out))
"""


def _run_backend(kind: str, src: Path, out: Path, toolpath: Path) -> Path:
    """Run setuptools' PEP 517 hook in a clean interpreter (``-S``: no site-packages)."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "SETUPTOOLS_", "PYTHON"))
    }
    env.update(PYTHONPATH=str(toolpath), SOURCE_DATE_EPOCH=_SOURCE_DATE_EPOCH)
    proc = subprocess.run(
        [sys.executable, "-S", "-c", _BUILD_SCRIPT, kind, str(out)],
        cwd=src,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode:
        raise RuntimeError(
            f"building the {kind} of {src.name} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
        )
    return out / proc.stdout.strip().splitlines()[-1]


def _record_line(name: str, data: bytes) -> list[str]:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return [name, f"sha256={digest}", str(len(data))]


def retag_wheel(wheel: Path, platform_tag: str) -> Path:
    """Rewrite a platform wheel's tag (file name, ``WHEEL`` ``Tag:`` lines, ``RECORD``).

    Like ``wheel tags --platform-tag``; keeps the python and abi tags.
    """
    name, version, py_tag, abi_tag, _plat = wheel.name[: -len(".whl")].split("-")
    new_tag = f"{py_tag}-{abi_tag}-{platform_tag}"
    new_path = wheel.with_name(f"{name}-{version}-{new_tag}.whl")
    with zipfile.ZipFile(wheel) as zin:
        infos = zin.infolist()
        contents = {i.filename: zin.read(i) for i in infos}
    dist_info = next(n.split("/")[0] for n in contents if n.endswith(".dist-info/WHEEL"))
    wheel_meta = contents[f"{dist_info}/WHEEL"].decode()
    lines = [ln for ln in wheel_meta.splitlines() if not ln.startswith("Tag:")]
    lines.append(f"Tag: {new_tag}")
    contents[f"{dist_info}/WHEEL"] = ("\n".join(lines) + "\n").encode()
    record_name = f"{dist_info}/RECORD"
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for info in infos:
        if info.filename == record_name:
            writer.writerow([record_name, "", ""])
        elif not info.is_dir():
            writer.writerow(_record_line(info.filename, contents[info.filename]))
    contents[record_name] = buf.getvalue().encode()
    with zipfile.ZipFile(new_path, "w", compression=zipfile.ZIP_DEFLATED) as zout:
        for info in infos:
            zout.writestr(info, contents[info.filename])
    wheel.unlink()
    return new_path


def _build_release(release: Release, toolpath: Path, work: Path, out: Path) -> list[Path]:
    src = work / f"{release.project}-{release.version}"
    shutil.copytree(PYPI_SRC / release.project, src)
    pyproject = src / "pyproject.toml"
    text = pyproject.read_text()
    if _TEMPLATE_VERSION in text:
        pyproject.write_text(text.replace(_TEMPLATE_VERSION, f'"{release.version}"'))
    built: list[Path] = []
    if release.sdist:
        built.append(_run_backend("sdist", src, out, toolpath))
    if release.wheel:
        whl = _run_backend("wheel", src, out, toolpath)
        if release.platform_tag:
            whl = retag_wheel(whl, release.platform_tag)
        built.append(whl)
    return built


def _build_files(dest: Path, cache_dir: Path) -> None:
    tools = pypi_downloads(cache_dir, {k: PYPI_PINS[k] for k in BUILD_TOOLS})
    files = dest / "files"
    files.mkdir()
    with tempfile.TemporaryDirectory(prefix="c2d-pypi-") as work_str:
        work = Path(work_str)
        toolpath = work / "buildtools"
        with zipfile.ZipFile(tools["setuptools"]) as zf:  # a pure wheel: unzipping installs it
            zf.extractall(toolpath)
        for release in RELEASES:
            _build_release(release, toolpath, work, files)
    for whl in tools.values():
        shutil.copyfile(whl, files / whl.name)


def _pypi_key() -> str:
    extra = [
        f"python={sys.version}",
        f"platform={sysconfig.get_platform()}",
        *(f"{k}=={PYPI_PINS[k]}" for k in BUILD_TOOLS),
        *(repr(r) for r in RELEASES),
    ]
    return tree_digest([PYPI_SRC, Path(__file__).resolve()], extra)


def build_pypi_files(cache_dir: Path | None = None) -> Path:
    """Build (or reuse) the distributions; returns the files directory."""
    cache = cache_dir or default_cache_dir()
    root = cached_build(cache, f"pypi-{_pypi_key()}", lambda dest: _build_files(dest, cache))
    return root / "files"


# --------------------------------------------------------------------------------------------
# Serving
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DistFile:
    filename: str
    project: str  # canonical name
    version: str
    sha256: str
    size: int
    mtime: float
    requires_python: str | None
    metadata: bytes | None  # core metadata (wheels only; PEP 658)

    @property
    def metadata_sha256(self) -> str | None:
        return hashlib.sha256(self.metadata).hexdigest() if self.metadata is not None else None


def _split_filename(filename: str) -> tuple[str, str] | None:
    if filename.endswith(".whl"):
        parts = filename[:-4].split("-")
        return (parts[0], parts[1]) if len(parts) in (5, 6) else None
    for suffix in (".tar.gz", ".zip"):
        if filename.endswith(suffix):
            stem = filename[: -len(suffix)]
            if "-" in stem:
                name, version = stem.rsplit("-", 1)
                return name, version
    return None


def _read_metadata(path: Path) -> bytes | None:
    try:
        if path.name.endswith(".whl"):
            with zipfile.ZipFile(path) as zf:
                for n in zf.namelist():
                    if n.count("/") == 1 and n.endswith(".dist-info/METADATA"):
                        return zf.read(n)
        elif path.name.endswith(".tar.gz"):
            with tarfile.open(path) as tf:
                for m in tf.getmembers():
                    if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO"):
                        fh = tf.extractfile(m)
                        return fh.read() if fh else None
        elif path.name.endswith(".zip"):
            with zipfile.ZipFile(path) as zf:
                for n in zf.namelist():
                    if n.count("/") == 1 and n.endswith("/PKG-INFO"):
                        return zf.read(n)
    except (OSError, zipfile.BadZipFile, tarfile.TarError):
        return None
    return None


class _Catalog:
    """The files of a directory, rescanned on each request (cheap; cached by size and mtime)."""

    def __init__(self, files_dir: Path) -> None:
        self.files_dir = files_dir
        self._lock = threading.Lock()
        self._cache: dict[str, DistFile] = {}

    def _describe(self, path: Path) -> DistFile | None:
        st = path.stat()
        cached = self._cache.get(path.name)
        if cached and cached.size == st.st_size and cached.mtime == st.st_mtime:
            return cached
        split = _split_filename(path.name)
        if split is None:
            return None
        metadata = _read_metadata(path)
        requires_python = None
        if metadata is not None:
            msg = email.parser.BytesParser().parsebytes(metadata, headersonly=True)
            requires_python = msg.get("Requires-Python")
        dist = DistFile(
            filename=path.name,
            project=canonicalize_name(split[0]),
            version=split[1],
            sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
            size=st.st_size,
            mtime=st.st_mtime,
            requires_python=requires_python,
            metadata=metadata if path.name.endswith(".whl") else None,
        )
        self._cache[path.name] = dist
        return dist

    def files(self) -> list[DistFile]:
        with self._lock:
            out = []
            for path in sorted(self.files_dir.iterdir()):
                if path.is_file() and path.name.endswith(DIST_SUFFIXES):
                    dist = self._describe(path)
                    if dist is not None:
                        out.append(dist)
            return out

    def projects(self) -> dict[str, list[DistFile]]:
        by_project: dict[str, list[DistFile]] = {}
        for dist in self.files():
            by_project.setdefault(dist.project, []).append(dist)
        return by_project


def _version_key(v: str) -> tuple[int, Version | str]:
    try:
        return (1, Version(v))
    except InvalidVersion:
        return (0, v)


def _negotiate(accept: str | None) -> str | None:
    """Pick JSON or HTML from an Accept header (PEP 691); None if nothing acceptable."""
    if not accept:
        return HTML_TYPE
    best: tuple[float, int, str] | None = None
    for order, item in enumerate(accept.split(",")):
        parts = [p.strip() for p in item.split(";")]
        mtype, q = parts[0].lower(), 1.0
        for param in parts[1:]:
            if param.startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
        chosen = {
            JSON_TYPE: JSON_TYPE,
            HTML_TYPE: HTML_TYPE,
            "application/vnd.pypi.simple.latest+json": JSON_TYPE,
            "application/vnd.pypi.simple.latest+html": HTML_TYPE,
            "text/html": "text/html",
            "*/*": HTML_TYPE,
        }.get(mtype)
        if chosen and q > 0 and (best is None or (q, -order) > (best[0], best[1])):
            best = (q, -order, chosen)
    return best[2] if best else None


def _make_handler(
    catalog: _Catalog, auth: tuple[str, str] | None = None
) -> type[BaseHTTPRequestHandler]:
    expected = (
        "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode() if auth else None
    )

    class Handler(BaseHTTPRequestHandler):
        server_version = "c2d-local-pypi/1.0"
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # quiet in tests
            pass

        def do_HEAD(self) -> None:
            self._dispatch(head=True)

        def do_GET(self) -> None:
            self._dispatch(head=False)

        # -- helpers -----------------------------------------------------------------------
        def _send(self, status: int, body: bytes, ctype: str, head: bool, **headers: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Vary", "Accept")
            for k, v in headers.items():
                self.send_header(k.replace("_", "-"), v)
            self.end_headers()
            if not head:
                self.wfile.write(body)

        def _error(self, status: HTTPStatus, head: bool, detail: str = "") -> None:
            body = f"{status.value} {status.phrase}{': ' + detail if detail else ''}\n".encode()
            self._send(status.value, body, "text/plain; charset=utf-8", head)

        def _base(self) -> str:
            address = cast("tuple[str, int]", self.server.server_address)
            host, port = address[0], address[1]
            return f"http://{host}:{port}"

        def _dispatch(self, head: bool) -> None:
            if expected is not None and self.headers.get("Authorization") != expected:
                self._send(HTTPStatus.UNAUTHORIZED.value, b"401 Unauthorized\n",
                           "text/plain; charset=utf-8", head,
                           WWW_Authenticate='Basic realm="c2d-local-pypi"')
                return
            path = unquote(urlsplit(self.path).path)
            if path in ("/simple", "/"):
                self._redirect("/simple/", head)
            elif path == "/simple/":
                self._index(head)
            elif path.startswith("/simple/"):
                name = path[len("/simple/") :].strip("/")
                if "/" in name or not name:
                    self._error(HTTPStatus.NOT_FOUND, head)
                elif name != canonicalize_name(name) or not path.endswith("/"):
                    self._redirect(f"/simple/{canonicalize_name(name)}/", head)  # PEP 503
                else:
                    self._project(name, head)
            elif path.startswith("/files/"):
                self._file(path[len("/files/") :], head)
            else:
                self._error(HTTPStatus.NOT_FOUND, head)

        def _redirect(self, location: str, head: bool) -> None:
            self._send(HTTPStatus.MOVED_PERMANENTLY, b"", "text/plain", head, Location=location)

        def _content_type(self, head: bool) -> str | None:
            ctype = _negotiate(self.headers.get("Accept"))
            if ctype is None:
                self._error(HTTPStatus.NOT_ACCEPTABLE, head, "use " + JSON_TYPE)
            return ctype

        def _index(self, head: bool) -> None:
            ctype = self._content_type(head)
            if ctype is None:
                return
            names = sorted(catalog.projects())
            if ctype == JSON_TYPE:
                doc = {"meta": {"api-version": "1.1"}, "projects": [{"name": n} for n in names]}
                self._send(200, json.dumps(doc).encode(), JSON_TYPE, head)
                return
            links = "\n".join(f'<a href="{quote(n)}/">{html.escape(n)}</a><br/>' for n in names)
            body = _html_page("Simple index", links)
            self._send(200, body, f"{ctype}; charset=utf-8", head)

        def _project(self, name: str, head: bool) -> None:
            dists = catalog.projects().get(name)
            if not dists:
                self._error(HTTPStatus.NOT_FOUND, head, f"no project {name!r}")
                return
            ctype = self._content_type(head)
            if ctype is None:
                return
            base = self._base()
            if ctype == JSON_TYPE:
                doc = {
                    "meta": {"api-version": "1.1"},
                    "name": name,
                    "versions": sorted({d.version for d in dists}, key=_version_key),
                    "files": [_json_file(d, base) for d in dists],
                }
                self._send(200, json.dumps(doc).encode(), JSON_TYPE, head)
                return
            links = "\n".join(_html_link(d, base) for d in dists)
            body = _html_page(f"Links for {name}", links)
            self._send(200, body, f"{ctype}; charset=utf-8", head)

        def _file(self, filename: str, head: bool) -> None:
            want_metadata = filename.endswith(".metadata")
            real = filename[: -len(".metadata")] if want_metadata else filename
            match = next((d for d in catalog.files() if d.filename == real), None)
            if match is None:
                self._error(HTTPStatus.NOT_FOUND, head)
                return
            if want_metadata:
                if match.metadata is None:
                    self._error(HTTPStatus.NOT_FOUND, head, "no metadata for this file")
                else:
                    self._send(200, match.metadata, "text/plain; charset=utf-8", head)
                return
            data = (catalog.files_dir / real).read_bytes()
            ctype = "application/zip" if real.endswith((".whl", ".zip")) else "application/gzip"
            self._send(200, data, ctype, head)

    return Handler


def _file_url(dist: DistFile, base: str) -> str:
    return f"{base}/files/{quote(dist.filename)}"


def _json_file(dist: DistFile, base: str) -> dict[str, object]:
    meta: dict[str, str] | bool = (
        {"sha256": dist.metadata_sha256} if dist.metadata_sha256 is not None else False
    )
    uploaded = datetime.fromtimestamp(dist.mtime, tz=timezone.utc)
    return {
        "filename": dist.filename,
        "url": _file_url(dist, base),
        "hashes": {"sha256": dist.sha256},
        "requires-python": dist.requires_python,
        "size": dist.size,
        "upload-time": uploaded.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "yanked": False,
        "core-metadata": meta,
        "dist-info-metadata": meta,
    }


def _html_link(dist: DistFile, base: str) -> str:
    attrs = [f'href="{html.escape(_file_url(dist, base))}#sha256={dist.sha256}"']
    if dist.requires_python:
        attrs.append(f'data-requires-python="{html.escape(dist.requires_python)}"')
    if dist.metadata_sha256:
        attrs.append(f'data-dist-info-metadata="sha256={dist.metadata_sha256}"')
        attrs.append(f'data-core-metadata="sha256={dist.metadata_sha256}"')
    return f"<a {' '.join(attrs)}>{html.escape(dist.filename)}</a><br/>"


def _html_page(title: str, body: str) -> bytes:
    return (
        "<!DOCTYPE html>\n<html>\n<head>\n"
        '<meta name="pypi:repository-version" content="1.1">\n'
        f"<title>{html.escape(title)}</title>\n</head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1>\n{body}\n</body>\n</html>\n"
    ).encode()


@contextmanager
def start_local_index(
    files_dir: Path, host: str = "127.0.0.1", *, auth: tuple[str, str] | None = None
) -> Iterator[LocalIndex]:
    """Serve ``files_dir`` as a PEP 503/691 index on ``host`` (ephemeral port) until exit;
    with ``auth`` every request needs that HTTP basic-auth ``(user, password)`` (else 401),
    as a private index does."""
    files_dir = Path(files_dir).resolve()
    if not files_dir.is_dir():
        raise FileNotFoundError(files_dir)
    server = ThreadingHTTPServer((host, 0), _make_handler(_Catalog(files_dir), auth))
    server.daemon_threads = True
    port = int(server.server_address[1])
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.1},
        daemon=True,
        name=f"local-pypi-{port}",
    )
    thread.start()
    try:
        yield LocalIndex(
            url=f"http://{host}:{port}/simple/", files_dir=files_dir, host=host, port=port
        )
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def local_pypi() -> Iterator[LocalIndex]:
    """The local index over the built test distributions (see the module docstring)."""
    with start_local_index(build_pypi_files()) as index:
        yield index


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build (and optionally serve) the local index.")
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--serve", action="store_true", help="serve until interrupted")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    files = build_pypi_files(args.cache_dir)
    print(files)
    print(f"# built/reused in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    if args.serve:
        with start_local_index(files) as index:
            print(f"# serving {index.url} (Ctrl-C to stop)", file=sys.stderr)
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
