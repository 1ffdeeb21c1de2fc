"""What ``conda2docker inspect`` prints: the normalised spec and every reader change.

JSON output (``--format json``) is one object, keys in this order, stable across runs:

``format``      always ``"conda2docker-inspect"``; ``version``: ``1`` (bumped on breaking change)
``source``      the input path as given; ``kind``: environment | conda-lock | explicit | requirements
``platform``    the target platform the spec was read for
``name``        the environment name or null; ``channels``, ``platforms``: lists of strings
``conda``       list of {name, version, build, channel, matchspec, raw, location}
                (``version`` is a conda version spec, ``""`` for any; ``matchspec`` the whole
                request as one MatchSpec string)
``pip``         list of {kind, name, specifier, extras, marker, url, vcs, ref, path, editable,
                raw, location}; ``kind`` is registry | vcs | url | path
``pip_options`` {index_url, extra_index_urls, find_links, pre, other}
``variables``   object NAME → value, in file order
``changes``     list of {code, action, subject, reason, detail, location}; ``code`` is the audit
                rule (e.g. S301) or ``""`` for informational changes
``lock``        null, or {platforms, channels, packages: {platform: {conda: n, pip: n}}}

``location`` is ``"file:line:column"`` (line and column 1-based) or null.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from conda2docker.errors import SourceLocation
from conda2docker.model import EnvSpec, ReaderChange

FORMAT = "conda2docker-inspect"
VERSION = 1


def _where(location: SourceLocation | None) -> str | None:
    return None if location is None else str(location)


def _change(change: ReaderChange) -> dict[str, Any]:
    return {
        "code": change.code,
        "action": change.action,
        "subject": change.subject,
        "reason": change.reason,
        "detail": change.detail,
        "location": _where(change.location),
    }


def spec_to_json(spec: EnvSpec, platform: str) -> dict[str, Any]:
    """The documented JSON object for ``spec`` (see the module docstring)."""
    lock: dict[str, Any] | None = None
    if spec.lock is not None:
        lock = {
            "platforms": list(spec.lock.platforms),
            "channels": list(spec.lock.channels),
            "packages": {
                p: {
                    "conda": len(spec.lock.conda_packages(p)),
                    "pip": len(spec.lock.pip_packages(p)),
                }
                for p in spec.lock.platforms
            },
        }
    return {
        "format": FORMAT,
        "version": VERSION,
        "source": str(spec.source),
        "kind": spec.kind,
        "platform": platform,
        "name": spec.name,
        "channels": list(spec.channels),
        "platforms": list(spec.platforms),
        "conda": [
            {
                "name": d.name,
                "version": d.version,
                "build": d.build,
                "channel": d.channel,
                "matchspec": d.matchspec,
                "raw": d.raw.strip(),
                "location": _where(d.location),
            }
            for d in spec.conda
        ],
        "pip": [
            {
                "kind": r.kind,
                "name": r.name,
                "specifier": r.specifier,
                "extras": list(r.extras),
                "marker": r.marker,
                "url": r.url,
                "vcs": r.vcs,
                "ref": r.ref,
                "path": None if r.path is None else str(r.path),
                "editable": r.editable,
                "raw": r.raw.strip(),
                "location": _where(r.location),
            }
            for r in spec.pip
        ],
        "pip_options": {
            "index_url": spec.pip_options.index_url,
            "extra_index_urls": list(spec.pip_options.extra_index_urls),
            "find_links": list(spec.pip_options.find_links),
            "pre": spec.pip_options.pre,
            "other": list(spec.pip_options.other),
            "constraints": [
                {"constraint": c.constraint_text, "location": _where(c.location)}
                for c in spec.pip_options.constraints
            ],
        },
        "variables": dict(spec.variables),
        "changes": [_change(c) for c in spec.changes],
        "lock": lock,
    }


def render_json(spec: EnvSpec, platform: str) -> str:
    return json.dumps(spec_to_json(spec, platform), indent=2, ensure_ascii=False) + "\n"


def _short(location: SourceLocation | None, spec: EnvSpec) -> str:
    if location is None:
        return ""
    if location.file != spec.source:
        return str(location)
    if location.line is None:
        return ""
    return f"{location.line}:{location.column}" if location.column else str(location.line)


def _table(headers: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = ["  " + "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for row in rows:
        lines.append(
            "  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        )
    return lines


def render_table(spec: EnvSpec, platform: str) -> str:
    """A plain-text report for people: header, conda and pip requests, then changes."""
    out = [
        f"source     {spec.source} ({spec.kind}, read for {platform})",
        f"name       {spec.name or '-'}",
        f"channels   {', '.join(spec.channels) or '-'}",
    ]
    if spec.platforms:
        out.append(f"platforms  {', '.join(spec.platforms)}")
    if spec.lock is not None:
        counts = ", ".join(
            f"{p}: {len(spec.lock.conda_packages(p))} conda + {len(spec.lock.pip_packages(p))} pip"
            for p in spec.lock.platforms
        )
        out.append(f"lock       {counts}")
    if spec.conda:
        out += ["", f"conda ({len(spec.conda)})"]
        out += _table(
            ("NAME", "VERSION", "BUILD", "CHANNEL", "AT"),
            [
                (d.name, d.version or "*", d.build or "", d.channel or "", _short(d.location, spec))
                for d in spec.conda
            ],
        )
    if spec.pip:
        out += ["", f"pip ({len(spec.pip)})"]
        rows = []
        for r in spec.pip:
            source = r.specifier
            if r.kind == "vcs":
                source = f"{r.vcs}+{r.url}" + (f" @ {r.ref}" if r.ref else "")
            elif r.kind == "url":
                source = r.url or ""
            elif r.kind == "path":
                source = str(r.path)
            if r.marker:
                source += f" ; {r.marker}"
            name = (r.name or "?") + (f"[{','.join(r.extras)}]" if r.extras else "")
            rows.append(
                (name, r.kind + (" -e" if r.editable else ""), source, _short(r.location, spec))
            )
        out += _table(("NAME", "KIND", "SOURCE", "AT"), rows)
    options = spec.pip_options
    option_lines = [
        *([f"  index-url        {options.index_url}"] if options.index_url else []),
        *(f"  extra-index-url  {u}" for u in options.extra_index_urls),
        *(f"  find-links       {u}" for u in options.find_links),
        *(["  pre"] if options.pre else []),
        *(f"  {o}" for o in options.other),
        *(f"  constraint       {c.constraint_text}  {_short(c.location, spec)}"
          for c in options.constraints),
    ]
    if option_lines:
        out += ["", "pip options", *option_lines]
    if spec.variables:
        out += ["", "variables", *(f"  {k}={v}" for k, v in spec.variables)]
    out += ["", f"changes ({len(spec.changes)})"]
    if spec.changes:
        out += _table(
            ("CODE", "ACTION", "SUBJECT", "AT", "REASON"),
            [
                (c.code or "-", c.action, c.subject, _short(c.location, spec), c.reason)
                for c in spec.changes
            ],
        )
    else:
        out.append("  none: the file is read as written")
    return "\n".join(out) + "\n"
