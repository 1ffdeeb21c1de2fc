"""The one place that talks to PyPI-compatible indexes: pages, files and core metadata.

:class:`IndexClient` lists a project's files from a simple index (PEP 691 JSON, falling
back to PEP 503 HTML) or from ``--find-links`` locations (local directories, ``file://``
URLs, HTML pages), fetches core metadata (PEP 658 ``<file>.metadata``, else the
``METADATA`` inside the wheel, else an sdist's ``PKG-INFO``) and downloads files. It
speaks ``http(s)://`` through urllib (timeouts, retries) and ``file://`` directly, and
caches on disk under ``~/.cache/conda2docker/pypi``: immutable things (metadata of a file
with a known hash) forever, index pages for ``page_ttl`` seconds (any age when offline).
"""

from __future__ import annotations

import base64
import configparser
import hashlib
import importlib
import io
import json
import os
import shutil
import ssl
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Sequence
from email.message import Message
from email.parser import BytesParser
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

from conda2docker.cachedir import cache_root
from conda2docker.credentials import (
    ENV_VAR,
    expand,
    redact,
    split_auth,
    strip_auth,
    userinfo,
)
from conda2docker.model import PipOptions
from conda2docker.processes import run_bounded
from conda2docker.values import frozen

PEP691_JSON = "application/vnd.pypi.simple.v1+json"
ACCEPT = f"{PEP691_JSON}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"
SDIST_SUFFIXES = (".tar.gz", ".zip", ".tar.bz2", ".tgz")
USER_AGENT = "conda2docker (pip resolver)"


_T = TypeVar("_T")

def default_cache_dir() -> Path:
    """Index answers and downloads (``pypi`` below :func:`cache_root`)."""
    return cache_root() / "pypi"


class FetchError(Exception):
    """A URL could not be read; ``status`` is the HTTP status when there was one."""

    def __init__(self, url: str, reason: str, status: int | None = None) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
        self.status = status


@frozen
class DistFile:
    """One distribution file a project page or find-links location lists."""

    filename: str
    url: str
    sha256: str | None = None
    requires_python: str | None = None
    yanked: bool = False
    origin: str = ""
    """The index or find-links location that listed it (for messages)."""

    @property
    def is_wheel(self) -> bool:
        return self.filename.lower().endswith(".whl")

    @property
    def is_sdist(self) -> bool:
        return self.filename.lower().endswith(SDIST_SUFFIXES)

    def name_version(self) -> tuple[NormalizedName, Version] | None:
        """The project name and version the file name declares, or None if unparseable."""
        try:
            if self.is_wheel:
                name, version, _, _ = parse_wheel_filename(self.filename)
                return name, version
            if self.filename.lower().endswith((".tar.gz", ".zip")):
                return parse_sdist_filename(self.filename)
            if self.is_sdist:  # .tar.bz2 / .tgz: same "<name>-<version>" stem rules
                stem = self.filename.rsplit(".", 2 if self.filename.endswith(".bz2") else 1)[0]
                return parse_sdist_filename(stem + ".tar.gz")
        except (InvalidSdistFilename, InvalidWheelFilename, ValueError):
            return None
        return None


@frozen
class CoreMetadata:
    """The parts of a distribution's core metadata (``METADATA``/``PKG-INFO``) we use."""

    name: str
    version: str
    requires_dist: tuple[str, ...] = ()
    requires_python: str | None = None
    metadata_version: str = "1.0"
    dynamic: tuple[str, ...] = ()

    @property
    def reliable(self) -> bool:
        """True if an sdist's PKG-INFO can be trusted for dependencies (PEP 643)."""
        try:
            new_enough = Version(self.metadata_version) >= Version("2.2")
        except ValueError:
            return False
        dynamic = {d.lower() for d in self.dynamic}
        return new_enough and not dynamic & {"requires-dist", "requires-python"}


def parse_core_metadata(data: bytes) -> CoreMetadata:
    msg: Message = BytesParser().parsebytes(data, headersonly=True)
    return CoreMetadata(
        name=str(msg.get("Name", "")).strip(),
        version=str(msg.get("Version", "")).strip(),
        requires_dist=tuple(str(v).strip() for v in msg.get_all("Requires-Dist") or ()),
        requires_python=(str(msg["Requires-Python"]).strip() or None)
        if msg.get("Requires-Python") else None,
        metadata_version=str(msg.get("Metadata-Version", "1.0")).strip(),
        dynamic=tuple(str(v).strip() for v in msg.get_all("Dynamic") or ()),
    )


_ARCHIVE_ERRORS = (zipfile.BadZipFile, tarfile.TarError, EOFError, NotImplementedError)


def wheel_metadata(data: bytes) -> bytes:
    """The ``*.dist-info/METADATA`` member of a wheel (``ValueError`` for a corrupt one)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for member in zf.namelist():
                parts = member.split("/")
                if len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] == "METADATA":
                    return zf.read(member)
    except _ARCHIVE_ERRORS as exc:
        raise ValueError(f"not a readable wheel ({exc})") from None
    raise ValueError("the wheel has no .dist-info/METADATA")


def sdist_pkg_info(data: bytes, filename: str) -> bytes | None:
    """The top-level ``PKG-INFO`` of an sdist archive, or None if it has none (``ValueError``
    for a corrupt archive)."""
    try:
        return _sdist_pkg_info(data, filename)
    except _ARCHIVE_ERRORS as exc:
        raise ValueError(f"not a readable sdist ({exc})") from None


def _sdist_pkg_info(data: bytes, filename: str) -> bytes | None:
    if filename.lower().endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for member in zf.namelist():
                if member.count("/") == 1 and member.endswith("/PKG-INFO"):
                    return zf.read(member)
        return None
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tf:
        for info in tf:
            if info.isfile() and info.name.count("/") == 1 and info.name.endswith("/PKG-INFO"):
                handle = tf.extractfile(info)
                return handle.read() if handle else None
    return None


class _LinkParser(HTMLParser):
    """Collects ``<a href>`` links (PEP 503) with their data attributes and ``<base>``."""

    def __init__(self) -> None:
        super().__init__()
        self.base: str | None = None
        self.links: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "base" and values.get("href") and self.base is None:
            self.base = values["href"]
        elif tag == "a" and values.get("href"):
            self.links.append(values)


def parse_html_links(body: bytes, page_url: str) -> list[DistFile]:
    parser = _LinkParser()
    parser.feed(body.decode("utf-8", "replace"))
    base = urljoin(page_url, parser.base) if parser.base else page_url
    files = []
    for link in parser.links:
        url, fragment = urldefrag(strip_auth(urljoin(base, str(link["href"]))))
        filename = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
        if not filename:
            continue
        algo, _, digest = fragment.partition("=")
        files.append(
            DistFile(
                filename=filename,
                url=url,
                sha256=digest.lower() if algo == "sha256" and digest else None,
                requires_python=link.get("data-requires-python") or None,
                yanked="data-yanked" in link,
                origin=redact(page_url),
            )
        )
    return files


def parse_json_page(body: bytes, page_url: str) -> list[DistFile]:
    data = json.loads(body)
    files = []
    for entry in data.get("files", []):
        url, fragment = urldefrag(strip_auth(urljoin(page_url, entry["url"])))
        hashes = entry.get("hashes") or {}
        sha = hashes.get("sha256")
        if not sha and fragment.startswith("sha256="):
            sha = fragment.partition("=")[2]
        yanked = entry.get("yanked", False)
        files.append(
            DistFile(
                filename=entry["filename"],
                url=url,
                sha256=sha.lower() if sha else None,
                requires_python=entry.get("requires-python") or None,
                yanked=bool(yanked),
                origin=redact(page_url),
            )
        )
    return files


def _listing(directory: Path, origin: str) -> list[DistFile]:
    return [
        DistFile(filename=p.name, url=p.resolve().as_uri(), origin=origin)
        for p in sorted(directory.iterdir())
        if p.is_file() and p.name.lower().endswith((".whl", *SDIST_SUFFIXES))
    ]


def _key(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


class IndexClient:
    """HTTP and ``file://`` access to indexes, with a disk cache; one instance per resolve."""

    def __init__(
        self,
        cache_dir: Path | None = None,
        *,
        timeout: float = 20.0,
        retries: int = 2,
        offline: bool = False,
        page_ttl: float = 600.0,
        use_cache: bool = True,
    ) -> None:
        self.cache_dir = cache_dir or default_cache_dir()
        self.timeout = timeout
        self.retries = retries
        self.offline = offline
        self.page_ttl = page_ttl
        self.use_cache = use_cache
        self._pages: dict[str, list[DistFile]] = {}
        self._bodies: dict[str, bytes] = {}
        self._auth: dict[str, tuple[str, str]] = {}
        """Basic-auth pairs by host, from the index URLs (their files need them too)."""

    # -- raw access ------------------------------------------------------------------

    def _remember(self, url: str) -> tuple[str, tuple[str, str] | None]:
        """``url`` with ``${NAME}`` expanded and its credentials taken out, and the basic-auth
        pair to send: its own, else one an index URL on the same host gave (as pip does)."""
        missing = [n for n in ENV_VAR.findall(userinfo(url) or "") if n not in os.environ]
        if missing:
            raise FetchError(redact(url), f"environment variable {missing[0]} is not set (the URL "
                             f"uses ${{{missing[0]}}} for its credentials)")
        target, auth = split_auth(expand(url))
        host = urlsplit(target).netloc
        if auth is not None:
            self._auth[host] = auth
        return target, auth or self._auth.get(host)

    def use_credentials_of(self, index_url: str) -> None:
        """Send ``index_url``'s credentials to its host from now on, without asking the index
        (for downloads of files a lock names, e.g. when vendoring); a ``${NAME}`` that is not
        set is left for the download to report."""
        if all(n in os.environ for n in ENV_VAR.findall(userinfo(index_url) or "")):
            self._remember(index_url)

    def _fetch(self, url: str, accept: str | None = None) -> tuple[bytes, str]:
        """GET ``url``; returns the body and its content type. Raises :class:`FetchError`.

        ``url`` may carry ``user:password@`` (or ``${NAME}`` placeholders for them): they are
        sent as basic auth, only to that host (never across a redirect), and errors show the
        URL with them cut out.
        """
        if url.startswith("file:"):
            return self._read_file_url(url)

        def body(response: Any) -> tuple[bytes, str]:
            return response.read(), response.headers.get("Content-Type", "")

        return self._open(url, body, timeout=self.timeout, accept=accept)

    def _open(self, url: str, read: Callable[[Any], _T], *, timeout: float,
              accept: str | None = None) -> _T:
        """Open ``url`` (retrying server errors) and hand the response to ``read``: the one
        way this client reaches the network. Basic auth from the URL or its host's index is
        sent to that host only (never across a redirect); errors show the URL redacted."""
        shown = redact(url)
        if self.offline:
            raise FetchError(shown, "not in the cache and --offline forbids the network")
        target, auth = self._remember(url)
        headers = {"User-Agent": USER_AGENT}
        if accept:
            headers["Accept"] = accept
        request = urllib.request.Request(target, headers=headers)
        if auth is not None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
            request.add_unredirected_header("Authorization", f"Basic {token}")
        last: FetchError | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(0.25 * 2 ** (attempt - 1))
            try:
                with urllib.request.urlopen(request, timeout=timeout) as response:
                    return read(response)
            except urllib.error.HTTPError as exc:
                last = FetchError(shown, f"HTTP {exc.code} {exc.reason}", exc.code)
                if exc.code < 500 and exc.code != 429:
                    raise last from None
            except (urllib.error.URLError, OSError) as exc:
                last = FetchError(shown, str(getattr(exc, "reason", exc)))
        assert last is not None
        raise last

    def _read_file_url(self, url: str) -> tuple[bytes, str]:
        path = Path(unquote(urlsplit(url).path))
        if path.is_dir():
            index = path / "index.html"
            if index.is_file():
                return index.read_bytes(), "text/html"
            links = "".join(f'<a href="{f.filename}">{f.filename}</a>\n' for f in _listing(path, url))
            return f"<html><body>{links}</body></html>".encode(), "text/html"
        try:
            return path.read_bytes(), "text/html" if path.suffix in (".html", ".htm") else ""
        except OSError as exc:
            status = 404 if isinstance(exc, FileNotFoundError) else None
            raise FetchError(url, exc.strerror or str(exc), status) from None

    def _cache_path(self, kind: str, key: str) -> Path:
        return self.cache_dir / kind / key[:2] / key

    def _cached(self, kind: str, key: str, max_age: float | None) -> bytes | None:
        if not self.use_cache:
            return None
        path = self._cache_path(kind, key)
        try:
            stale = max_age is not None and time.time() - path.stat().st_mtime > max_age
            if stale and not self.offline:
                return None
            return path.read_bytes()
        except OSError:
            return None

    def _store(self, kind: str, key: str, body: bytes) -> None:
        if not self.use_cache:
            return
        path = self._cache_path(kind, key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(body)
            tmp.replace(path)
        except OSError:  # a read-only cache must not break resolving
            pass

    # -- listing ---------------------------------------------------------------------

    def project_files(self, index_url: str, name: str) -> list[DistFile]:
        """The files of project ``name`` at simple index ``index_url`` ([] if it has none)."""
        url = index_url.rstrip("/") + "/" + canonicalize_name(name) + "/"
        if url in self._pages:
            return self._pages[url]
        if not url.startswith("file:") and userinfo(url):
            self._remember(url)  # a page from the disk cache: its files still need the auth
        key = _key("page", url)
        remote = not url.startswith("file:")
        cached = self._cached("pages", key, self.page_ttl) if remote else None
        if cached is not None:
            head, _, body = cached.partition(b"\n")
            files = self._parse_page(body, head.decode(), url)
        else:
            try:
                body, content_type = self._fetch(url, ACCEPT)
            except FetchError as exc:
                if exc.status in (404, 410):
                    self._pages[url] = []
                    return []
                raise
            files = self._parse_page(body, content_type, url)
            if remote:
                self._store("pages", key, content_type.encode() + b"\n" + body)
        self._pages[url] = files
        return files

    @staticmethod
    def _parse_page(body: bytes, content_type: str, url: str) -> list[DistFile]:
        if content_type.split(";")[0].strip() == PEP691_JSON:
            return parse_json_page(body, url)
        return parse_html_links(body, url)

    def find_links_files(self, location: str) -> list[DistFile]:
        """Every distribution file at a ``--find-links`` location (dir, file:// or page)."""
        if location in self._pages:
            return self._pages[location]
        if "://" not in location:
            location = Path(location).resolve().as_uri()
        path = Path(unquote(urlsplit(location).path)) if location.startswith("file:") else None
        if path is not None and path.is_dir():
            files = _listing(path, location)
        elif path is not None and path.is_file() and path.suffix not in (".html", ".htm"):
            files = [DistFile(filename=path.name, url=path.resolve().as_uri(), origin=location)]
        elif path is not None and not path.exists():
            raise FetchError(location, "no such file or directory", 404)
        else:
            body, _ = self._fetch(location, "text/html")
            files = parse_html_links(body, location)
        files = [f for f in files if f.is_wheel or f.is_sdist]
        self._pages[location] = files
        return files

    # -- files and metadata ----------------------------------------------------------

    def download(self, file: DistFile) -> bytes:
        """The bytes of ``file``, checked against its sha256 when the index gave one."""
        if file.url in self._bodies:
            return self._bodies[file.url]
        body, _ = self._fetch(file.url)
        if file.sha256 and hashlib.sha256(body).hexdigest() != file.sha256:
            raise FetchError(file.url, f"sha256 mismatch (index says {file.sha256})")
        self._bodies[file.url] = body
        return body

    def download_to(self, url: str, dest: Path, *, digest: str,
                    accept: Callable[[Path], bool]) -> bool:
        """Stream ``url`` into ``dest`` (large files: conda packages, wheels), through a disk
        cache keyed by URL and the ``digest`` the caller expects. Honours ``offline`` (the
        cache only). ``accept`` judges the file's content: a cached copy it refuses is
        dropped and fetched again, a download it refuses is left in ``dest`` but not cached.
        Returns whether the file in ``dest`` was accepted (the caller reports a refusal)."""
        cached = self._cache_path("files", _key("file", url, digest))
        if self.use_cache and cached.is_file():
            shutil.copyfile(cached, dest)
            if accept(dest):
                return True
            cached.unlink(missing_ok=True)
        if url.startswith("file:"):
            raise FetchError(redact(url), "local files are not downloaded")

        def save(response: Any) -> None:
            with dest.open("wb") as out:
                shutil.copyfileobj(response, out, 1 << 20)

        self._open(url, save, timeout=max(self.timeout, 120.0))
        if not accept(dest):
            return False
        if self.use_cache:
            try:
                cached.parent.mkdir(parents=True, exist_ok=True)
                tmp = cached.with_suffix(f".{os.getpid()}.tmp")
                shutil.copyfile(dest, tmp)
                tmp.replace(cached)
            except OSError:  # a read-only cache must not break vendoring
                pass
        return True

    def sha256(self, file: DistFile) -> str:
        """The file's sha256: the index's, else computed from its bytes."""
        return file.sha256 or hashlib.sha256(self.download(file)).hexdigest()

    def metadata(self, file: DistFile) -> bytes | None:
        """Core metadata of ``file``: PEP 658, else from inside the archive.

        Returns None for an sdist whose archive has no PKG-INFO. Cached on disk when the
        file's hash is known (the metadata of a hashed file never changes).
        """
        key = _key("metadata", file.url, file.sha256 or "")
        if file.sha256:
            cached = self._cached("metadata", key, None)
            if cached is not None:
                return cached or None
        data = self._metadata_uncached(file)
        if file.sha256:
            self._store("metadata", key, data or b"")
        return data

    def _metadata_uncached(self, file: DistFile) -> bytes | None:
        if file.is_wheel:
            if not file.url.startswith("file:"):
                try:
                    body, _ = self._fetch(file.url + ".metadata")
                    if body.lstrip().startswith(b"Metadata-Version"):
                        return body
                except FetchError as exc:
                    if exc.status is None:
                        raise
            return wheel_metadata(self.download(file))
        return sdist_pkg_info(self.download(file), file.filename)

    def cached_blob(self, kind: str, *key_parts: str) -> bytes | None:
        """A value stored with :meth:`store_blob` (e.g. metadata built from an sdist)."""
        return self._cached(kind, _key(*key_parts), None)

    def store_blob(self, kind: str, body: bytes, *key_parts: str) -> None:
        self._store(kind, _key(*key_parts), body)


# -- metadata of source trees and sdists that do not declare it statically -------------


def _toml(path: Path) -> dict[str, Any] | None:
    try:
        loads = importlib.import_module("tomllib").loads  # Python >= 3.11
    except ModuleNotFoundError:  # pragma: no cover - Python 3.10: the tomli backport
        loads = importlib.import_module("tomli").loads
    try:
        data = loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def static_tree_metadata(tree: Path) -> CoreMetadata | None:
    """Metadata from ``pyproject.toml``'s ``[project]`` when nothing we need is dynamic."""
    data = _toml(tree / "pyproject.toml")
    project = data.get("project") if data else None
    if not isinstance(project, dict) or "name" not in project:
        return None
    dynamic = {str(d).lower() for d in project.get("dynamic", ())}
    if dynamic & {"version", "dependencies", "optional-dependencies", "requires-python"}:
        return None
    if "version" not in project:
        return None
    requires = [str(r) for r in project.get("dependencies", ())]
    for extra, items in (project.get("optional-dependencies") or {}).items():
        for item in items:
            marker = f'extra == "{canonicalize_name(extra)}"'
            base, sep, old = str(item).partition(";")
            requires.append(f"{base.strip()}; ({old.strip()}) and {marker}" if sep else f"{item}; {marker}")
    return CoreMetadata(
        name=str(project["name"]),
        version=str(project["version"]),
        requires_dist=tuple(requires),
        requires_python=project.get("requires-python"),
        metadata_version="2.3",
    )


def setup_cfg_version(tree: Path) -> tuple[str, str] | None:
    """``(name, version)`` from a literal ``[metadata]`` section of ``setup.cfg``."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(tree / "setup.cfg", encoding="utf-8")
        name = parser.get("metadata", "name", fallback="").strip()
        version = parser.get("metadata", "version", fallback="").strip()
    except (configparser.Error, UnicodeDecodeError):
        return None
    if not name or not version or ":" in version:
        return None
    return name, version


def _index_flags(index_url: str | None, extra_urls: Sequence[str], find_links: Sequence[str]) -> list[str]:
    args = ["--index-url", index_url] if index_url else []
    for url in extra_urls:
        args += ["--extra-index-url", url]
    for link in find_links:
        args += ["--find-links", link]
    return args


def pip_index_args(index_urls: Sequence[str], find_links: Sequence[str]) -> list[str]:
    """pip options that point a build-requirement install at the same indexes we use
    (``${NAME}`` expanded: for a pip run on this machine, never shown or written)."""
    return [expand(a) for a in
            _index_flags(index_urls[0] if index_urls else None, index_urls[1:], find_links)]


def pip_options_args(options: PipOptions) -> tuple[str, ...]:
    """An environment's own pip index options, as pip command-line arguments for a pip run
    on this machine (``${NAME}`` expanded; never shown or written)."""
    flags = _index_flags(options.index_url, options.extra_index_urls, options.find_links)
    return tuple(expand(a) for a in flags)


def build_metadata(source: Path, pip_args: Sequence[str], *, timeout: float = 600.0) -> CoreMetadata:
    """Core metadata of a source tree or sdist, prepared by its build backend through pip.

    Runs ``pip install --dry-run --report`` (pip >= 22.2) in a subprocess, which builds the
    metadata in an isolated environment whose build requirements come from ``pip_args``'
    indexes. The machine's pip configuration is ignored so the result depends only on
    the environment's own options. Raises :class:`ValueError` with pip's last error line.
    """
    with tempfile.TemporaryDirectory(prefix="c2d-meta-") as tmp:
        report = Path(tmp) / "report.json"
        command = [
            sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
            "--no-deps", "--quiet", "--disable-pip-version-check", "--no-input",
            "--report", str(report), *pip_args,
        ]
        cafile = ssl.get_default_verify_paths().cafile
        if cafile and Path(cafile).is_file():
            command += ["--cert", cafile]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
        env["PIP_CONFIG_FILE"] = os.devnull
        try:
            done = run_bounded([*command, str(source)], text=True, timeout=timeout, env=env)
        except subprocess.TimeoutExpired:
            raise ValueError(f"preparing metadata took more than {timeout:.0f} s") from None
        if done.returncode != 0 or not report.is_file():
            lines = [ln.strip() for ln in (done.stderr or done.stdout).splitlines() if ln.strip()]
            errors = [ln for ln in lines if ln.startswith("ERROR")] or lines
            last = errors[-1].removeprefix("ERROR:").strip() if errors else ""
            raise ValueError(last or f"pip exited with {done.returncode}")
        installs = json.loads(report.read_text(encoding="utf-8")).get("install", [])
    if not installs:
        raise ValueError("pip reported no metadata")
    meta = installs[0]["metadata"]
    return CoreMetadata(
        name=str(meta.get("name", "")),
        version=str(meta.get("version", "")),
        requires_dist=tuple(meta.get("requires_dist") or ()),
        requires_python=meta.get("requires_python"),
        metadata_version=str(meta.get("metadata_version", "2.1")),
    )
