"""Findings as text: a terminal table, JSON, Markdown (audit.md) or SARIF."""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from conda2docker.choices import ReportFormat
from conda2docker.errors import SourceLocation
from conda2docker.model import Finding, Severity

FORMATS: tuple[ReportFormat, ...] = ("table", "json", "markdown", "sarif")


def show_location(location: SourceLocation | None, root: Path | None = None) -> str:
    """``file:line:col``, the file relative to ``root`` when it lies inside it."""
    if location is None:
        return ""
    file = location.file
    if root is not None:
        with contextlib.suppress(ValueError):
            file = _resolved(file).relative_to(_resolved(root))
    return str(SourceLocation(file, location.line, location.column))


@lru_cache(maxsize=64)
def _resolved(path: Path) -> Path:
    """``path.resolve()``, once per report (a report names the same few files for every
    finding; each resolution is a system call per path component)."""
    return path.resolve()


def summary(findings: Sequence[Finding]) -> str:
    """``3 findings: 1 error, 1 warning, 1 info`` (or ``no findings``)."""
    if not findings:
        return "no findings"
    counts = Counter(f.severity for f in findings)
    parts = [f"{counts[s]} {s.value}{'s' if counts[s] != 1 and s is not Severity.INFO else ''}"
             for s in Severity if counts[s]]
    noun = "finding" if len(findings) == 1 else "findings"
    return f"{len(findings)} {noun}: {', '.join(parts)}"


def render_table(findings: Sequence[Finding], root: Path | None = None) -> str:
    lines: list[str] = []
    for finding in findings:
        where = show_location(finding.location, root)
        platform = f" ({finding.platform})" if finding.platform else ""
        head = f"{where}: " if where else ""
        lines.append(f"{head}{finding.code} [{finding.severity.value}] {finding.message}{platform}")
        for item in finding.evidence:
            lines.append(f"    evidence: {item}")
        lines.append(f"    fix: {finding.fix}")
    lines.append(summary(findings))
    return "\n".join(lines) + "\n"


def finding_to_dict(finding: Finding, root: Path | None = None) -> dict[str, object]:
    location = finding.location
    return {
        "code": finding.code,
        "severity": finding.severity.value,
        "subject": finding.subject,
        "message": finding.message,
        "fix": finding.fix,
        "evidence": list(finding.evidence),
        "platform": finding.platform,
        "location": None if location is None else {
            "file": show_location(SourceLocation(location.file), root),
            "line": location.line,
            "column": location.column,
        },
    }


def render_json(findings: Sequence[Finding], root: Path | None = None) -> str:
    counts = Counter(f.severity.value for f in findings)
    document = {
        "findings": [finding_to_dict(f, root) for f in findings],
        "summary": {s.value: counts.get(s.value, 0) for s in Severity},
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(findings: Sequence[Finding], root: Path | None = None) -> str:
    """audit.md: a summary table by rule, then each finding with its evidence and fix."""
    lines = ["# Audit", "", f"{summary(findings).capitalize()}.", ""]
    if findings:
        counts = Counter((f.code, f.severity.value) for f in findings)
        lines += ["| rule | severity | count |", "|---|---|---|"]
        lines += [f"| [{code}](#{code.lower()}) | {severity} | {n} |"
                  for (code, severity), n in sorted(counts.items())]
    current = ""
    for finding in findings:
        if finding.code != current:
            current = finding.code
            lines += ["", f"## {current}", ""]
        where = show_location(finding.location, root)
        platform = f" ({finding.platform})" if finding.platform else ""
        lines.append(f"- **{_md(finding.subject)}**{platform}: {_md(finding.message)}")
        if where:
            lines.append(f"  - at `{where}`")
        lines += [f"  - evidence: `{_md(item)}`" for item in finding.evidence]
        lines.append(f"  - fix: {_md(finding.fix)}")
    return "\n".join(lines) + "\n"


def render_report(findings: Sequence[Finding], fmt: str, *, root: Path | None = None) -> str:
    """Render findings as ``table``, ``json``, ``markdown`` or ``sarif``."""
    _resolved.cache_clear()  # links resolve as they are now
    if fmt == "table":
        return render_table(findings, root)
    if fmt == "json":
        return render_json(findings, root)
    if fmt == "markdown":
        return render_markdown(findings, root)
    if fmt == "sarif":
        from conda2docker.audit.sarif import render_sarif

        return render_sarif(findings, root)
    raise ValueError(f"unknown report format {fmt!r}; expected one of {', '.join(FORMATS)}")
