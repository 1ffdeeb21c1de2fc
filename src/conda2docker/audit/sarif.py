"""SARIF 2.1.0 output (GitHub code scanning and other SARIF viewers)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from conda2docker import __version__
from conda2docker.audit.registry import Rule, all_rules
from conda2docker.audit.report import show_location
from conda2docker.errors import SourceLocation
from conda2docker.model import Finding, Severity

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
DOCS = "https://github.com/conda2docker/conda2docker/blob/main/docs/rules.md"


def _rule(rule: Rule) -> dict[str, object]:
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.message},
        "fullDescription": {"text": rule.why},
        "help": {"text": f"Fix: {rule.fix}", "markdown": f"**Fix:** {rule.fix}"},
        "helpUri": f"{DOCS}#{rule.code.lower()}",
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {"tags": [rule.name]},
    }


def _location(location: SourceLocation, root: Path | None) -> dict[str, object]:
    path = Path(show_location(SourceLocation(location.file), root))
    uri = path.as_uri() if path.is_absolute() else path.as_posix()
    physical: dict[str, object] = {"artifactLocation": {"uri": uri}}
    if location.line is not None:
        region: dict[str, int] = {"startLine": location.line}
        if location.column is not None:
            region["startColumn"] = location.column
        physical["region"] = region
    return {"physicalLocation": physical}


def _result(finding: Finding, index: int, root: Path | None) -> dict[str, object]:
    result: dict[str, object] = {
        "ruleId": finding.code,
        "ruleIndex": index,
        "level": LEVELS[finding.severity],
        "message": {"text": f"{finding.message}. Fix: {finding.fix}"},
        "properties": {"subject": finding.subject, "evidence": list(finding.evidence),
                       **({"platform": finding.platform} if finding.platform else {})},
    }
    if finding.location is not None:
        result["locations"] = [_location(finding.location, root)]
    return result


def render_sarif(findings: Sequence[Finding], root: Path | None = None) -> str:
    rules = all_rules()
    index = {r.code: i for i, r in enumerate(rules)}
    document = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "conda2docker",
                        "version": __version__,
                        "informationUri": DOCS,
                        "rules": [_rule(r) for r in rules],
                    }
                },
                "results": [_result(f, index[f.code], root) for f in findings],
            }
        ],
    }
    return json.dumps(document, indent=2) + "\n"
