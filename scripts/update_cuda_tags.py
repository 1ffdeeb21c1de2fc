#!/usr/bin/env python3
"""Refresh conda2docker's table of published ``nvidia/cuda`` tags (package data).

NVIDIA lists the tags of its CUDA images in two files of gitlab.com/nvidia/container-images/cuda:
``doc/supported-tags.md`` and ``doc/unsupported-tags.md`` (end of life, still listed). This
script reads both (paths or http(s) URLs), keeps every ``VERSION-FLAVOUR-OS`` tag of the
flavours conda2docker uses (``base``, ``runtime``, ``devel``; not the cuDNN ones), and writes
``src/conda2docker/data/nvidia_cuda_tags.json`` sorted, so a refresh is a readable diff.

Digests: the docs carry none. ``--digests`` asks the registry (Docker Hub's token service and
``registry-1.docker.io``) for the manifest digest of each devel/runtime tag; without it, or when
the registry is unreachable, the last known digest of a tag (from the current table) is kept.

    python scripts/update_cuda_tags.py \\
        --supported https://gitlab.com/nvidia/container-images/cuda/-/raw/master/doc/supported-tags.md \\
        --unsupported https://gitlab.com/nvidia/container-images/cuda/-/raw/master/doc/unsupported-tags.md \\
        --source "gitlab.com/nvidia/container-images/cuda@master"
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

TABLE = Path(__file__).resolve().parents[1] / "src" / "conda2docker" / "data" / "nvidia_cuda_tags.json"
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


def build_table(supported: set[str], unsupported: set[str], previous: dict[str, dict[str, object]],
                source: str, digests: dict[str, str]) -> dict[str, object]:
    tags: dict[str, dict[str, object]] = {}
    for tag in sorted(supported | unsupported, key=sort_key):
        entry: dict[str, object] = {"status": "supported" if tag in supported else "unsupported"}
        digest = digests.get(tag) or previous.get(tag, {}).get("digest")
        entry["digest"] = digest if isinstance(digest, str) else None
        tags[tag] = entry
    return {
        "repository": "nvidia/cuda",
        "source": source,
        "updated": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
        "tags": tags,
    }


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
    parser.add_argument("--supported", required=True, help="path or URL of doc/supported-tags.md")
    parser.add_argument("--unsupported", required=True, help="path or URL of doc/unsupported-tags.md")
    parser.add_argument("--source", required=True, help="where the two files come from (recorded)")
    parser.add_argument("--digests", action="store_true", help="ask Docker Hub for devel/runtime digests")
    parser.add_argument("-o", "--output", type=Path, default=TABLE)
    args = parser.parse_args(argv)

    supported = parse_tags(read_text(args.supported))
    unsupported = parse_tags(read_text(args.unsupported)) - supported
    if not supported:
        print("no tags found in the supported list: wrong file?", file=sys.stderr)
        return 1
    previous: dict[str, dict[str, object]] = {}
    if args.output.exists():
        previous = json.loads(args.output.read_text(encoding="utf-8")).get("tags", {})
    digests: dict[str, str] = {}
    if args.digests:
        with urllib.request.urlopen(TOKEN, timeout=30) as answer:
            token = json.loads(answer.read())["token"]
        for tag in sorted(supported):
            if re.search(r"-(runtime|devel)-", tag) and (digest := registry_digest(tag, token)):
                digests[tag] = digest
    table = build_table(supported, unsupported, previous, args.source, digests)
    args.output.write_text(render(table), encoding="utf-8")
    count = len(table["tags"])  # type: ignore[arg-type]
    print(f"{args.output}: {count} tags ({len(supported)} supported), {len(digests)} digests fetched")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
