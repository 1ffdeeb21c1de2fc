#!/usr/bin/env python3
"""Refresh conda2docker's table of published ``nvidia/cuda`` tags (package data).

NVIDIA lists the tags of its CUDA images in two files of gitlab.com/nvidia/container-images/cuda:
``doc/supported-tags.md`` and ``doc/unsupported-tags.md`` (end of life, still listed). This
script reads both (paths or http(s) URLs), keeps every ``VERSION-FLAVOUR-OS`` tag of the
flavours conda2docker uses (``base``, ``runtime``, ``devel``; not the cuDNN ones), and writes
``src/conda2docker/data/nvidia_cuda_tags.json`` sorted, so a refresh is a readable diff.

Digests: the docs carry none. Three places give a tag its digest, the first that has one wins:

1. ``--digests`` asks the registry (Docker Hub's token service and ``registry-1.docker.io``)
   for the digest each devel/runtime tag resolves to now (the multi-platform index).
2. The recorded sightings, ``scripts/nvidia_cuda_digests.json`` (``--sightings``): pins of
   ``nvidia/cuda:TAG@sha256:…`` found in public repositories, each with its repository, path,
   commit and date; the newest sighting of an index digest per tag is the last known digest.
   ``--harvest GIT_DIR --repository OWNER/NAME`` prints the sightings of one clone's history
   (every added line that pins a Docker Hub ``nvidia/cuda`` tag by digest), to be added there.
3. The current table: a digest is never dropped because a source is unreachable.

    python scripts/update_cuda_tags.py \\
        --supported https://gitlab.com/nvidia/container-images/cuda/-/raw/master/doc/supported-tags.md \\
        --unsupported https://gitlab.com/nvidia/container-images/cuda/-/raw/master/doc/unsupported-tags.md \\
        --source "gitlab.com/nvidia/container-images/cuda@master"
    python scripts/update_cuda_tags.py            # merge the recorded sightings only

The output is deterministic: the same inputs give the same bytes (``updated`` changes only
with the table's content, to ``--date`` or today).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TABLE = HERE.parent / "src" / "conda2docker" / "data" / "nvidia_cuda_tags.json"
SIGHTINGS = HERE / "nvidia_cuda_digests.json"
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}\Z")
COMMIT = re.compile(r"^[0-9a-f]{40}\Z")
REPOSITORY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*\Z")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}\Z")
KINDS = ("index", "manifest", "unknown")
"""``index``: the multi-platform digest a tag resolves to (what ``docker pull TAG`` uses);
``manifest``: one platform's manifest; ``unknown``: the source does not say."""
#: A pin of a Docker Hub ``nvidia/cuda`` tag: not ``nvcr.io/nvidia/cuda`` or another mirror.
PIN = re.compile(
    r"(?<![\w./-])(?:(?:docker\.io|index\.docker\.io|registry-1\.docker\.io)/)?nvidia/cuda:"
    r"(?P<tag>\d{1,2}\.\d{1,2}(?:\.\d{1,3})?-(?:base|runtime|devel)-[a-z]+\d+(?:\.\d+)?)"
    r"@(?P<digest>sha256:[0-9a-f]{64})(?![0-9a-f])"
)
#: Commits by these bots pin the digest the registry answers for the tag: the index.
DIGEST_BOTS = re.compile(r"dependabot|renovate|^(?:build\(deps\): )?bump nvidia/cuda|"
                         r"update nvidia/cuda.* digest", re.IGNORECASE)
TAG = re.compile(
    r"`(?P<tag>(?P<version>\d{1,2}\.\d{1,2}(?:\.\d{1,3})?)-"
    r"(?P<flavour>base|runtime|devel)-(?P<os>[a-z]+\d+(?:\.\d+)?))`"
)
REGISTRY = "https://registry-1.docker.io/v2/nvidia/cuda/manifests/{tag}"
TOKEN = "https://auth.docker.io/token?service=registry.docker.io&scope=repository:nvidia/cuda:pull"
ACCEPT = ", ".join((
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
))


def read_text(where: str) -> str:
    if re.match(r"^https?://", where):
        with urllib.request.urlopen(where, timeout=60) as answer:
            return str(answer.read().decode())
    return Path(where).read_text(encoding="utf-8")


def parse_tags(markdown: str) -> set[str]:
    """Every ``VERSION-FLAVOUR-OS`` tag named in one of NVIDIA's tag lists."""
    return {m["tag"] for m in TAG.finditer(markdown)}


def registry_digest(tag: str, token: str) -> str | None:
    request = urllib.request.Request(REGISTRY.format(tag=tag), method="HEAD",
                                     headers={"Authorization": f"Bearer {token}", "Accept": ACCEPT})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            digest = answer.headers.get("Docker-Content-Digest")
    except OSError as error:
        print(f"{tag}: no digest ({error})", file=sys.stderr)
        return None
    return digest if digest and re.match(r"^sha256:[0-9a-f]{64}$", digest) else None


def read_sightings(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """The recorded sightings and one line per problem (``file: sightings[N].field: what``)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    sightings = data.get("sightings") if isinstance(data, dict) else None
    if not isinstance(sightings, list):
        return [], [f"{path}: no 'sightings' list"]
    problems: list[str] = []
    checks: dict[str, Callable[[Any], bool]] = {"tag": lambda v: isinstance(v, str) and TAG.fullmatch(f"`{v}`") is not None,
              "digest": lambda v: isinstance(v, str) and DIGEST.match(v) is not None,
              "kind": lambda v: v in KINDS,
              "repository": lambda v: isinstance(v, str) and REPOSITORY.match(v) is not None,
              "path": lambda v: isinstance(v, str) and bool(v) and "\n" not in v,
              "commit": lambda v: isinstance(v, str) and COMMIT.match(v) is not None,
              "date": lambda v: v is None or (isinstance(v, str) and DATE.match(v) is not None)}
    for index, sighting in enumerate(sightings):
        if not isinstance(sighting, dict):
            problems.append(f"{path}: sightings[{index}]: not an object")
            continue
        for field, valid in checks.items():
            if not valid(sighting.get(field)):
                problems.append(f"{path}: sightings[{index}].{field}: invalid {sighting.get(field)!r}")
    return [s for s in sightings if isinstance(s, dict)], problems


def last_known(sightings: list[dict[str, Any]], tags: set[str]) -> dict[str, dict[str, Any]]:
    """Per tag of ``tags``, its newest sighting of an index (or unstated) digest: dated before
    undated, an index before an unstated kind, then by digest so the choice never depends on
    the record's order."""
    best: dict[str, dict[str, Any]] = {}
    for sighting in sightings:
        if sighting["tag"] not in tags or sighting["kind"] == "manifest":
            continue
        rank = (sighting.get("date") or "", sighting["kind"] == "index", sighting["digest"])
        held = best.get(sighting["tag"])
        if held is None or rank > (held.get("date") or "", held["kind"] == "index", held["digest"]):
            best[sighting["tag"]] = sighting
    return best


def seen_text(sighting: dict[str, Any]) -> str:
    """Where a sighting was made, in one line: ``owner/name@abcdef123456 path (2025-03-15)``."""
    date = f" ({sighting['date']})" if sighting.get("date") else ""
    return f"{sighting['repository']}@{sighting['commit'][:12]} {sighting['path']}{date}"


def build_table(supported: set[str], unsupported: set[str], previous: dict[str, dict[str, object]],
                source: str, digests: dict[str, str], sightings: list[dict[str, Any]] | None = None,
                checked: str = "") -> dict[str, object]:
    """The table: NVIDIA's tags with their statuses, and per tag the digest from Docker Hub
    (``digests``, asked on ``checked``), else from the newest sighting, else the previous one."""
    tags: dict[str, dict[str, object]] = {}
    seen = last_known(sightings or [], supported | unsupported)
    for tag in sorted(supported | unsupported, key=sort_key):
        entry: dict[str, object] = {"status": "supported" if tag in supported else "unsupported"}
        old = previous.get(tag, {})
        if tag in digests:
            entry.update(digest=digests[tag], kind="index",
                         seen=f"Docker Hub ({checked})" if checked else "Docker Hub")
        elif tag in seen:
            entry.update(digest=seen[tag]["digest"], kind=seen[tag]["kind"], seen=seen_text(seen[tag]))
        elif isinstance(old.get("digest"), str):
            entry.update({k: old[k] for k in ("digest", "kind", "seen") if k in old})
        else:
            entry["digest"] = None
        tags[tag] = entry
    return {"repository": "nvidia/cuda", "source": source, "updated": "", "tags": tags}


def harvest(git_dir: Path, repository: str) -> Iterator[dict[str, Any]]:
    """Every pin of a Docker Hub ``nvidia/cuda`` tag by digest that a commit of ``git_dir``
    added, as sightings (one per commit, path, tag and digest), oldest first."""
    done = subprocess.run(
        ["git", "-C", str(git_dir), "log", "--all", "--reverse", "-p", "--no-color", "--no-renames",
         "-G", r"nvidia/cuda:[^ ]*@sha256:[0-9a-f]{64}", "--format=@@@ %H %cs %s"],
        check=False, capture_output=True, text=True, errors="replace")
    if done.returncode != 0:  # a partial clone (missing blobs): what was read still counts
        print(f"{git_dir}: git log stopped: {done.stderr.strip()[:200]}", file=sys.stderr)
    log = done.stdout
    commit = date = subject = path = ""
    found: set[tuple[str, str, str, str]] = set()
    for line in log.splitlines():
        if line.startswith("@@@ "):
            commit, date, subject = [*line[4:].split(" ", 2), ""][:3]
        elif line.startswith("+++ "):
            path = line[6:] if line.startswith("+++ b/") else ""
        elif line.startswith("+") and path:
            for pin in PIN.finditer(line):
                key = (commit, path, pin["tag"], pin["digest"])
                if key in found:
                    continue
                found.add(key)
                bot = DIGEST_BOTS.search(subject) is not None
                yield {"tag": pin["tag"], "digest": pin["digest"], "kind": "index" if bot else "unknown",
                       "basis": (f"pinned by a dependency bot ({subject[:80]}): the digest the tag "
                                 "resolved to" if bot else "a pin as written; its kind is not stated"),
                       "repository": repository, "path": path, "commit": commit, "date": date}


def sort_key(tag: str) -> tuple[tuple[int, ...], str]:
    match = TAG.match(f"`{tag}`")
    assert match is not None
    return tuple(int(p) for p in match["version"].split(".")), tag


def render(table: dict[str, object]) -> str:
    """JSON with one line per tag, so a refresh reads as a diff of tags."""
    head = {k: v for k, v in table.items() if k != "tags"}
    tags: dict[str, object] = table["tags"]  # type: ignore[assignment]
    lines = [f"  {json.dumps(tag)}: {json.dumps(entry, sort_keys=True)}" for tag, entry in tags.items()]
    top = ",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in head.items())
    return "{\n" + top + ',\n  "tags": {\n' + ",\n".join("  " + line for line in lines) + "\n  }\n}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--supported", help="path or URL of doc/supported-tags.md")
    parser.add_argument("--unsupported", help="path or URL of doc/unsupported-tags.md")
    parser.add_argument("--source", help="where the two files come from (recorded)")
    parser.add_argument("--digests", action="store_true", help="ask Docker Hub for devel/runtime digests")
    parser.add_argument("--sightings", type=Path, default=SIGHTINGS,
                        help="the recorded last known digests (default: %(default)s)")
    parser.add_argument("--harvest", type=Path, metavar="GIT_DIR",
                        help="print the sightings found in a git clone's history, and stop")
    parser.add_argument("--repository", help="OWNER/NAME of the --harvest clone")
    parser.add_argument("--date", help="the table's 'updated' date when its content changes (default: today)")
    parser.add_argument("-o", "--output", type=Path, default=TABLE)
    args = parser.parse_args(argv)

    if args.harvest:
        if not args.repository or not REPOSITORY.match(args.repository):
            parser.error("--harvest needs --repository OWNER/NAME")
        for sighting in harvest(args.harvest, args.repository):
            print(json.dumps(sighting, sort_keys=True))
        return 0
    lists = (args.supported, args.unsupported, args.source)
    if any(lists) and not all(lists):
        parser.error("--supported, --unsupported and --source go together")
    current: dict[str, Any] = {}
    if args.output.exists():
        current = json.loads(args.output.read_text(encoding="utf-8"))
    previous: dict[str, dict[str, object]] = current.get("tags", {})
    if all(lists):
        supported = parse_tags(read_text(args.supported))
        unsupported = parse_tags(read_text(args.unsupported)) - supported
        source = args.source
    else:
        supported = {t for t, e in previous.items() if e.get("status") == "supported"}
        unsupported = set(previous) - supported
        source = str(current.get("source", ""))
    if not supported:
        print("no tags found in the supported list: wrong file?", file=sys.stderr)
        return 1
    sightings: list[dict[str, Any]] = []
    if args.sightings.exists():
        sightings, problems = read_sightings(args.sightings)
        if problems:
            print("\n".join(problems), file=sys.stderr)
            return 1
    digests: dict[str, str] = {}
    today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    if args.digests:
        with urllib.request.urlopen(TOKEN, timeout=30) as answer:
            token = json.loads(answer.read())["token"]
        for tag in sorted(supported):
            if re.search(r"-(runtime|devel)-", tag) and (digest := registry_digest(tag, token)):
                digests[tag] = digest
    table = build_table(supported, unsupported, previous, source, digests, sightings,
                        args.date or today)
    unchanged = {**table, "updated": ""} == {**current, "updated": ""}
    table["updated"] = current.get("updated", "") if unchanged else (args.date or today)
    args.output.write_text(render(table), encoding="utf-8")
    tags: dict[str, dict[str, object]] = table["tags"]  # type: ignore[assignment]
    known = sum(1 for e in tags.values() if e.get("digest"))
    print(f"{args.output}: {len(tags)} tags ({len(supported)} supported), {known} with a last known "
          f"digest ({len(digests)} from Docker Hub now)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
