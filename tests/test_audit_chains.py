"""Findings about a dependency nobody asked for name the request that pulled it in."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from conda2docker.audit import audit
from conda2docker.model import Finding
from fixtures.audit.cases import BASE, ctx, lock, ppkg, req, spec


def _evidence(findings: list[Finding], code: str, subject: str) -> tuple[str, ...]:
    [finding] = [f for f in findings if f.code == code and f.subject == subject]
    return tuple(finding.evidence)


def test_a_transitive_dependency_names_its_shortest_chain() -> None:
    locked = lock(*BASE,
                  ppkg("viewer", deps={"imaging": ">=1", "widgets": ""}),
                  ppkg("widgets", deps={"imaging": ""}),
                  ppkg("imaging", deps={"opencv-python": ">=4"}),
                  ppkg("opencv-python", "4.9.0.80"))
    findings = audit(ctx(spec(pip=(req("viewer", name="viewer"),)), locked), select=["S303"])
    evidence = _evidence(findings, "S303", "opencv-python")
    assert evidence[-1] == "pulled in by viewer -> imaging"
    assert sum(e.startswith("pulled in by") for e in evidence) == 1


def test_a_requested_package_has_no_chain() -> None:
    locked = lock(*BASE, ppkg("opencv-python", "4.9.0.80"))
    requested = spec(pip=(req("opencv-python==4.9.0.80", name="opencv-python"),))
    evidence = _evidence(audit(ctx(requested, locked), select=["S303"]), "S303", "opencv-python")
    assert not any(e.startswith("pulled in by") for e in evidence)


def test_a_package_no_request_reaches_has_no_chain() -> None:
    locked = lock(*BASE, ppkg("opencv-python", "4.9.0.80"))
    evidence = _evidence(audit(ctx(spec(), locked), select=["S303"]), "S303", "opencv-python")
    assert not any(e.startswith("pulled in by") for e in evidence)


def test_the_graph_is_built_only_when_a_finding_needs_a_chain() -> None:
    script = textwrap.dedent("""
        import sys
        from conda2docker.audit import audit
        from fixtures.audit.cases import BASE, ctx, lock, ppkg, req, spec

        clean = ctx(spec(), lock(*BASE))
        assert audit(clean) and "networkx" not in sys.modules
        locked = lock(*BASE, ppkg("viewer", deps={"opencv-python": ""}), ppkg("opencv-python"))
        audit(ctx(spec(pip=(req("viewer", name="viewer"),)), locked))
        assert "networkx" in sys.modules
    """)
    tests = str(Path(__file__).parent)
    done = subprocess.run([sys.executable, "-c", script], cwd=tests, capture_output=True, text=True,
                          env={"PYTHONPATH": tests, "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
