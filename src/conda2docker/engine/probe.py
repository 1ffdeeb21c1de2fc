"""The probe that ``conda2docker verify`` runs INSIDE an image, with the image's own Python.

This file is sent as the ``-c`` program of ``<prefix>/bin/python -I`` (see
:mod:`conda2docker.engine.verify`); it imports only the standard library and keeps to syntax
that Python 3.8 accepts, because it runs on whatever interpreter the environment holds.
It does no judging: it reports facts as one JSON document on stdout, after a marker line.

Modes (``argv[1]``), each with a JSON request in ``argv[2]``:

``facts`` {prefix, compilers, cache_paths, source_paths}
    The interpreter, compilers found on PATH or in the prefix, cache and build-source paths
    that exist, conda package archives in the prefix, the ``conda-meta`` records and every
    ``*.dist-info`` in site-packages (top-level modules, console scripts).
``run`` {commands: [{id, argv, timeout}]}
    Who runs (uid, gid, name, home, whether home is writable), then each command with stdin
    closed and a time-out: exit code, the tail of its output, seconds.
"""

from __future__ import annotations

import contextlib
import csv
import glob
import io
import json
import os
import pwd
import shutil
import subprocess
import sys
import time
from typing import Any

MARKER = "===conda2docker-probe==="
_ARCHIVES = (".conda", ".tar.bz2")
_MAX_LISTED = 50
_TAIL = 2000


def _site_dirs(prefix: str) -> list[str]:
    return sorted(glob.glob(os.path.join(prefix, "lib", "python*", "site-packages")))


def _module_of(entry: str) -> str | None:
    """The importable top-level name a RECORD / conda-meta path under site-packages provides."""
    parts = entry.replace("\\", "/").split("/")
    head = parts[0]
    if not head or head.startswith(".") or head in ("..", "__pycache__", "bin"):
        return None
    if head.endswith((".dist-info", ".egg-info", ".data", ".pth", ".egg-link")):
        return None
    if len(parts) > 1:
        return head if head.isidentifier() else None
    for suffix in (".py", ".pyc"):
        if head.endswith(suffix):
            name = head[: -len(suffix)]
            return name if name.isidentifier() else None
    if head.endswith(".so") or head.endswith(".pyd"):
        name = head.split(".", 1)[0]
        return name if name.isidentifier() else None
    return None


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return ""


def _metadata_field(text: str, field: str) -> str:
    for line in text.splitlines():
        if not line.strip():
            break
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() == field:
            return value.strip()
    return ""


def _console_scripts(text: str) -> list[list[str]]:
    scripts: list[list[str]] = []
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
        elif section == "console_scripts" and "=" in line and not line.startswith("#"):
            name, _, value = line.partition("=")
            scripts.append([name.strip(), value.strip()])
    return scripts


def _dist_info(site: str, directory: str) -> dict[str, Any]:
    path = os.path.join(site, directory)
    metadata = _read(os.path.join(path, "METADATA"))
    top_level = [t.strip() for t in _read(os.path.join(path, "top_level.txt")).splitlines() if t.strip()]
    record_top: list[str] = []
    for row in csv.reader(io.StringIO(_read(os.path.join(path, "RECORD")))):
        if row:
            module = _module_of(row[0])
            if module and module not in record_top:
                record_top.append(module)
    return {
        "dir": directory,
        "site": site,
        "name": _metadata_field(metadata, "name"),
        "version": _metadata_field(metadata, "version"),
        "top_level": top_level,
        "record_top": record_top,
        "console_scripts": _console_scripts(_read(os.path.join(path, "entry_points.txt"))),
        "installer": _read(os.path.join(path, "INSTALLER")).strip(),
        "has_record": os.path.isfile(os.path.join(path, "RECORD")),
    }


def _conda_meta(prefix: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for path in sorted(glob.glob(os.path.join(prefix, "conda-meta", "*.json"))):
        try:
            with open(path, encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError):
            continue
        if not isinstance(data, dict):
            continue
        site_top: list[str] = []
        dist_infos: list[str] = []
        for entry in data.get("files") or []:
            text = str(entry)
            marker = text.find("site-packages/")
            if marker < 0:
                continue
            rest = text[marker + len("site-packages/") :]
            head = rest.split("/", 1)[0]
            if head.endswith(".dist-info") and head not in dist_infos:
                dist_infos.append(head)
            module = _module_of(rest)
            if module and module not in site_top:
                site_top.append(module)
        records.append({
            "name": str(data.get("name", "")),
            "version": str(data.get("version", "")),
            "build": str(data.get("build", "")),
            "fn": str(data.get("fn", "")),
            "site_top": site_top,
            "dist_infos": dist_infos,
            "file_count": len(data.get("files") or []),
            "depends": [str(d).split()[0] for d in data.get("depends") or [] if str(d).strip()],
        })
    return records


def _archives(prefix: str) -> list[str]:
    found: list[str] = []
    for root, dirs, files in os.walk(prefix):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in files:
            if name.endswith(_ARCHIVES):
                found.append(os.path.join(root, name))
                if len(found) >= _MAX_LISTED:
                    return found
    return found


def _size(path: str) -> int:
    if os.path.isfile(path):
        return os.path.getsize(path)
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
    return total


def facts(request: dict[str, Any]) -> dict[str, Any]:
    prefix = str(request["prefix"])
    search = [*os.environ.get("PATH", "").split(os.pathsep), os.path.join(prefix, "bin")]
    compilers: list[dict[str, str]] = []
    for name in request.get("compilers", []):
        for directory in search:
            candidate = os.path.join(directory, name)
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                compilers.append({"name": name, "path": candidate})
                break
    for pattern in request.get("compiler_globs", []):
        for candidate in sorted(glob.glob(os.path.join(prefix, pattern))):
            if all(c["path"] != candidate for c in compilers):
                compilers.append({"name": os.path.basename(candidate), "path": candidate})
    present = []
    for path in request.get("cache_paths", []) + request.get("source_paths", []):
        expanded = os.path.expanduser(path)
        for match in sorted(glob.glob(expanded)) if any(c in expanded for c in "*?[") else [expanded]:
            if os.path.lexists(match):
                present.append({"path": match, "bytes": _size(match)})
    dist_infos = [
        _dist_info(site, entry)
        for site in _site_dirs(prefix)
        for entry in sorted(os.listdir(site))
        if entry.endswith(".dist-info")
    ]
    return {
        "python": {"executable": sys.executable, "version": sys.version.split()[0], "prefix": sys.prefix},
        "path": os.environ.get("PATH", ""),
        "compilers": compilers,
        "present": present,
        "archives": _archives(prefix),
        "conda_meta": _conda_meta(prefix),
        "dist_infos": dist_infos,
        "site_dirs": _site_dirs(prefix),
    }


def _identity() -> dict[str, Any]:
    uid, gid = os.getuid(), os.getgid()
    try:
        entry = pwd.getpwuid(uid)
        name, home = entry.pw_name, entry.pw_dir
    except KeyError:
        name, home = "", os.environ.get("HOME", "")
    writable = bool(home) and os.path.isdir(home) and os.access(home, os.W_OK)
    return {"uid": uid, "gid": gid, "name": name, "home": home, "home_writable": writable}


def run(request: dict[str, Any]) -> dict[str, Any]:
    results = []
    for command in request.get("commands", []):
        argv = [str(a) for a in command["argv"]]
        timeout = float(command.get("timeout", 30))
        start = time.monotonic()
        record: dict[str, Any] = {"id": command["id"], "argv": argv, "timed_out": False}
        if shutil.which(argv[0]) is None and not os.path.isfile(argv[0]):
            record.update(code=127, output=f"{argv[0]}: not found", seconds=0.0)
            results.append(record)
            continue
        try:
            done = subprocess.run(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                timeout=timeout, check=False,
            )
            record.update(code=done.returncode, output=done.stdout.decode("utf-8", "replace")[-_TAIL:])
        except subprocess.TimeoutExpired as exc:
            out = exc.output.decode("utf-8", "replace") if isinstance(exc.output, bytes) else ""
            record.update(code=None, timed_out=True, output=out[-_TAIL:])
        except OSError as exc:
            record.update(code=126, output=str(exc))
        record["seconds"] = round(time.monotonic() - start, 3)
        results.append(record)
    return {"identity": _identity(), "results": results}


def main(argv: list[str]) -> int:
    mode, request = argv[1], json.loads(argv[2])
    answer = facts(request) if mode == "facts" else run(request)
    sys.stdout.write(MARKER + "\n" + json.dumps(answer) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
