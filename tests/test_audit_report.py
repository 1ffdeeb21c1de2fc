"""Report formats (table, json, markdown, SARIF 2.1.0) and docs/rules.md freshness."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conda2docker.audit import all_rules, audit, render_report
from conda2docker.audit.docs import main as docs_main
from conda2docker.audit.docs import render_rules_page
from conda2docker.audit.report import summary
from conda2docker.model import Finding
from fixtures.audit.cases import CASES

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def findings() -> list[Finding]:
    found = {f for case in CASES.values() for f in audit(case.trigger)}
    return sorted(found, key=lambda f: (f.code, f.subject))


def test_sarif_shape(findings: list[Finding]) -> None:
    document = json.loads(render_report(findings, "sarif"))
    assert document["version"] == "2.1.0"
    assert document["$schema"].endswith("sarif-2.1.0.json")
    (run,) = document["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "conda2docker" and driver["version"]
    rule_ids = [r["id"] for r in driver["rules"]]
    assert rule_ids == [r.code for r in all_rules()]
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert rule["defaultConfiguration"]["level"] in {"error", "warning", "note"}
    assert len(run["results"]) == len(findings)
    with_location = 0
    for result, finding in zip(run["results"], findings, strict=True):
        assert result["ruleId"] == finding.code
        assert rule_ids[result["ruleIndex"]] == finding.code
        assert result["level"] in {"error", "warning", "note"}
        assert result["message"]["text"]
        if finding.location is not None:
            with_location += 1
            physical = result["locations"][0]["physicalLocation"]
            assert physical["artifactLocation"]["uri"]
            if finding.location.line is not None:
                assert physical["region"]["startLine"] == finding.location.line
        else:
            assert "locations" not in result
    assert with_location > 0


def test_sarif_uses_relative_uris_under_root(findings: list[Finding]) -> None:
    document = json.loads(render_report(findings, "sarif", root=Path("/project")))
    uris = {loc["physicalLocation"]["artifactLocation"]["uri"]
            for result in document["runs"][0]["results"] for loc in result.get("locations", [])}
    assert "environment.yml" in uris
    assert all(not u.startswith("/") for u in uris)


def test_json_report_round_trips(findings: list[Finding]) -> None:
    document = json.loads(render_report(findings, "json"))
    assert [f["code"] for f in document["findings"]] == [f.code for f in findings]
    assert sum(document["summary"].values()) == len(findings)


def test_table_and_markdown_name_every_finding(findings: list[Finding]) -> None:
    table = render_report(findings, "table")
    markdown = render_report(findings, "markdown")
    for finding in findings:
        assert f"{finding.code} [{finding.severity.value}] {finding.message}" in table
        assert f"## {finding.code}" in markdown
    assert table.endswith(f"\n{summary(findings)}\n")
    assert summary(findings).startswith(f"{len(findings)} findings: ")
    assert render_report([], "table") == "no findings\n"
    assert markdown.startswith("# Audit\n")


def test_unknown_format_is_rejected() -> None:
    with pytest.raises(ValueError, match="yaml"):
        render_report([], "yaml")


def test_rules_page_on_disk_is_fresh() -> None:
    on_disk = REPO / "docs" / "rules.md"
    assert on_disk.read_text(encoding="utf-8") == render_rules_page(), (
        "docs/rules.md is stale: run python -m conda2docker.audit.docs --write"
    )


def test_rules_page_has_a_section_per_rule() -> None:
    page = render_rules_page()
    for rule in all_rules():
        assert f"### {rule.code}\n" in page
        assert rule.why in page and rule.example in page


def test_docs_check_flags_a_stale_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "rules.md"
    assert docs_main(["--check", "--path", str(path)]) == 1
    assert "missing" in capsys.readouterr().err
    assert docs_main(["--write", "--path", str(path)]) == 0
    assert docs_main(["--check", "--path", str(path)]) == 0
    path.write_text(path.read_text() + "edited\n")
    assert docs_main(["--check", "--path", str(path)]) == 1
    assert "stale" in capsys.readouterr().err
