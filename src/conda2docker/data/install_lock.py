"""Install exactly the packages of an explicit conda lock into a prefix, with py-rattler.

Copied into the image build context by conda2docker and run in the ``env`` stage:

    python install_lock.py LOCK PREFIX [--packages-dir DIR]

No solve happens: every line of the lock is one package file, fetched (or taken from
``--packages-dir``, the air-gapped mode), checked against the lock's hash, and linked
into PREFIX. Runs on Python >= 3.8 with only the standard library and py-rattler.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit


class LockEntry:
    def __init__(self, url: str, md5: str | None, sha256: str | None) -> None:
        self.url = url
        self.md5 = md5
        self.sha256 = sha256
        parts = urlsplit(url).path.rstrip("/").split("/")
        self.file_name = unquote(parts[-1])
        self.subdir = parts[-2] if len(parts) >= 2 else ""
        self.channel = url.rsplit("/", 2)[0]


def read_explicit(path: Path) -> list[LockEntry]:
    entries = []
    seen_marker = False
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line == "@EXPLICIT":
            seen_marker = True
            continue
        if not seen_marker:
            sys.exit(f"{path}:{number}: package line before @EXPLICIT")
        url, _, fragment = line.partition("#")
        md5 = sha256 = None
        if fragment.startswith("sha256:"):
            sha256 = fragment[len("sha256:"):]
        elif fragment:
            md5 = fragment
        entries.append(LockEntry(url, md5, sha256))
    if not seen_marker:
        sys.exit(f"{path}: not an explicit lock (no @EXPLICIT line)")
    return entries


def file_digests(path: Path) -> tuple[str, str]:
    md5, sha256 = hashlib.md5(), hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            md5.update(block)
            sha256.update(block)
    return md5.hexdigest(), sha256.hexdigest()


async def fetch(entry: LockEntry, packages_dir: Path | None, downloads: Path, client: Any) -> Path:
    if packages_dir is not None:
        local = packages_dir / entry.subdir / entry.file_name
        if not local.is_file():
            sys.exit(f"{entry.file_name}: not in {packages_dir / entry.subdir}; re-run conda2docker convert --vendor")
        return local
    if entry.url.startswith("file://"):
        return Path(unquote(urlsplit(entry.url).path))
    from rattler.package_streaming import download_to_path

    target = downloads / entry.file_name
    await download_to_path(client, entry.url, target)
    return target


def compile_noarch_python(prefix: Path) -> None:
    """Byte-compile the modules of noarch python packages, as conda and micromamba do on linking.

    Such packages ship sources only; the image's user cannot write the prefix, so without this
    every process that imports one of them would compile it again.
    """
    python = prefix / "bin" / "python"
    if not python.exists():
        return
    sources = []
    for meta in sorted((prefix / "conda-meta").glob("*.json")):
        record = json.loads(meta.read_text(encoding="utf-8"))
        if record.get("noarch") == "python":
            sources += [str(prefix / f) for f in record.get("files", [])
                        if f.endswith(".py") and "site-packages/" in f]
    if not sources:
        return
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as listing:
        listing.write("\n".join(sources) + "\n")
    try:
        done = subprocess.run([str(python), "-m", "compileall", "-q", "-j", "0", "-i", listing.name],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              check=False)
    finally:
        Path(listing.name).unlink()
    failed = done.stdout.count("***")
    note = f" ({failed} could not be compiled: files for other Python versions)" if failed else ""
    print(f"byte-compiled {len(sources)} modules of noarch python packages{note}")


async def install(lock: Path, prefix: Path, packages_dir: Path | None) -> int:
    import rattler
    from rattler import PackageRecord, RepoDataRecord
    from rattler.networking import Client
    from rattler.package_streaming import extract

    entries = read_explicit(lock)
    client = Client()
    work = Path(tempfile.mkdtemp(prefix="c2d-install-"))
    try:
        records = []
        for entry in entries:
            archive = await fetch(entry, packages_dir, work, client)
            md5, sha256 = file_digests(archive)
            if entry.md5 and entry.md5 != md5:
                sys.exit(f"{entry.file_name}: md5 {md5} does not match the lock's {entry.md5}")
            if entry.sha256 and entry.sha256 != sha256:
                sys.exit(f"{entry.file_name}: sha256 {sha256} does not match the lock's {entry.sha256}")
            unpacked = work / "meta" / entry.file_name
            extract(archive, unpacked)
            record = PackageRecord.from_index_json(
                unpacked / "info" / "index.json", size=archive.stat().st_size, sha256=sha256, md5=md5
            )
            records.append(RepoDataRecord(record, entry.file_name, archive.resolve().as_uri(), entry.channel))
            shutil.rmtree(unpacked)
        ran_scripts = True
        try:
            await rattler.install(records, target_prefix=prefix, cache_dir=work / "cache", show_progress=False,
                                  execute_link_scripts=True)
        except TypeError:  # a py-rattler without link-script support
            ran_scripts = False
            await rattler.install(records, target_prefix=prefix, cache_dir=work / "cache", show_progress=False)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"installed {len(records)} packages into {prefix}")
    report_post_link(prefix, ran_scripts)
    compile_noarch_python(prefix)
    return 0


def report_post_link(prefix: Path, ran: bool) -> None:
    """Name the packages that carry a post-link script (``bin/.NAME-post-link.sh``), and say
    whether they ran (as conda runs them) or not."""
    names = []
    for meta in sorted((prefix / "conda-meta").glob("*.json")):
        record = json.loads(meta.read_text(encoding="utf-8"))
        name = record.get("name", "")
        if f"bin/.{name}-post-link.sh" in record.get("files", []):
            names.append(name)
    if names:
        verb = "ran" if ran else "did NOT run (py-rattler without link-script support)"
        print(f"post-link scripts: {verb}: {', '.join(names)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lock", type=Path)
    parser.add_argument("prefix", type=Path)
    parser.add_argument("--packages-dir", type=Path, default=None)
    args = parser.parse_args()
    return asyncio.run(install(args.lock, args.prefix, args.packages_dir))


if __name__ == "__main__":
    sys.exit(main())
