"""The dependency graph: nodes and edges across managers, roots, why-paths, sizes, export."""

from __future__ import annotations

import itertools
import json
import random

import networkx as nx
import pytest

from conda2docker.graph import (
    build_graph,
    node_key,
    shortest_chain,
    size_attribution,
    to_dot,
    to_graphml,
    to_json,
    why,
)
from conda2docker.model import Lock
from fixtures.audit.cases import PLATFORM, cpkg, lock, ppkg


def sample() -> Lock:
    """app -> {numpy, requests}; python <-> pip (a cycle); pip torch -> conda pytorch."""
    return lock(
        cpkg("python", "3.11.9", deps={"pip": "", "libzlib": ">=1.2", "__glibc": ">=2.17"}, size=30),
        cpkg("pip", "24.0", deps={"python": ">=3.8"}, size=2),
        cpkg("libzlib", "1.3.1", size=1),
        cpkg("numpy", "1.26.4", deps={"python": ">=3.11", "libblas": ">=3.9"}, size=8),
        cpkg("libblas", "3.9.0", size=20),
        cpkg("pytorch", "2.1.0", deps={"numpy": "", "python": ""}, size=500),
        ppkg("Requests", "2.31.0", deps={"urllib3": "<3", "charset_normalizer": ">=2"}),
        ppkg("urllib3", "2.2.1"),
        ppkg("charset-normalizer", "3.3.2"),
        ppkg("lightning", "2.2.0", deps={"torch": ">=2", "numpy": ">1", "requests": "*"}),
        roots=("numpy", "lightning", "python"),
    )


def test_nodes_edges_and_cross_manager_links() -> None:
    graph = build_graph(sample(), PLATFORM)
    g = graph.graph
    assert len(graph) == 10
    assert g.nodes["conda:numpy"]["version"] == "1.26.4"
    assert g.nodes["pip:requests"]["manager"] == "pip"
    assert g.nodes["conda:numpy"]["channel"] == "https://conda.anaconda.org/conda-forge"
    assert g.nodes["conda:numpy"]["subdir"] == PLATFORM
    assert g.edges["conda:numpy", "conda:libblas"]["spec"] == ">=3.9"
    assert g.has_edge("pip:requests", "pip:charset-normalizer")  # canonical names
    assert g.has_edge("pip:lightning", "conda:pytorch")  # torch → pytorch via the name map
    assert g.has_edge("pip:lightning", "conda:numpy")  # pip has no numpy: conda's
    assert g.has_edge("conda:python", "conda:pip") and g.has_edge("conda:pip", "conda:python")
    assert graph.dangling == (("conda:python", "__glibc"),)
    assert graph.roots == ("conda:numpy", "conda:python", "pip:lightning")
    assert graph.find("Lightning") == ("pip:lightning",)
    assert graph.find("charset_normalizer") == ("pip:charset-normalizer",)


def test_roots_default_to_sources_and_cover_unreached_cycles() -> None:
    locked = lock(cpkg("a", deps={"b": ""}), cpkg("b"), cpkg("python", deps={"pip": ""}),
                  cpkg("pip", deps={"python": ""}))
    graph = build_graph(locked, PLATFORM)
    assert graph.roots == ("conda:a", "conda:pip")


def test_platform_filter() -> None:
    assert len(build_graph(sample(), "linux-aarch64")) == 0


def test_why_lists_paths_through_cycles_and_bounds_them() -> None:
    graph = build_graph(sample(), PLATFORM)
    result = why(graph, "conda:libzlib")
    assert result.paths[0] == ("conda:python", "conda:libzlib")
    assert ("conda:numpy", "conda:python", "conda:libzlib") in result.paths
    assert ("pip:lightning", "conda:pytorch", "conda:numpy", "conda:python", "conda:libzlib") in result.paths
    assert all(len(set(p)) == len(p) for p in result.paths)
    assert result.more == 0
    bounded = why(graph, "conda:libzlib", limit=2)
    assert len(bounded.paths) == 2 and bounded.more == len(result.paths) - 2
    assert bounded.paths == result.paths[:2]
    capped = why(graph, "conda:libzlib", limit=1, count_cap=1)
    assert capped.more_is_lower_bound and capped.more == 1
    with pytest.raises(KeyError):
        why(graph, "conda:nope")


def test_shortest_chain_agrees_with_the_first_why_path() -> None:
    graph = build_graph(sample(), PLATFORM)
    for target in sorted(graph.graph):
        paths = why(graph, target, limit=1).paths
        chain = shortest_chain(graph, target)
        assert (chain is None) == (not paths), target
        if chain is not None:
            assert len(chain) == len(paths[0]) and chain[0] in graph.roots and chain[-1] == target
            assert all(graph.graph.has_edge(a, b) for a, b in itertools.pairwise(chain))
    assert shortest_chain(graph, "conda:numpy") == ("conda:numpy",)  # a root is its own chain
    assert shortest_chain(graph, "pip:urllib3") == ("pip:lightning", "pip:requests", "pip:urllib3")
    with pytest.raises(KeyError):
        shortest_chain(graph, "conda:nope")


def test_shortest_chain_breaks_ties_by_key_and_ignores_unreached_nodes() -> None:
    locked = lock(cpkg("zeta", deps={"lib": ""}), cpkg("alpha", deps={"mid": ""}),
                  cpkg("mid", deps={"lib": ""}), cpkg("beta", deps={"lib": ""}), cpkg("lib"),
                  cpkg("orphan", deps={"lib": ""}), roots=("zeta", "alpha", "beta"))
    graph = build_graph(locked, PLATFORM)
    assert shortest_chain(graph, "conda:lib") == ("conda:beta", "conda:lib")
    assert shortest_chain(graph, "conda:orphan") is None
    shuffled = lock(*reversed(locked.packages), roots=("beta", "alpha", "zeta"))
    assert shortest_chain(build_graph(shuffled, PLATFORM), "conda:lib") == ("conda:beta", "conda:lib")


def test_sizes_by_dominators() -> None:
    graph = build_graph(sample(), PLATFORM)
    report = size_attribution(graph)
    # pytorch (500) is reached only through lightning; libblas only through numpy;
    # python's subtree (python, pip, libzlib) is reached from every root → its own root.
    assert report.per_root["pip:lightning"] == 500
    assert report.per_root["conda:numpy"] == 8 + 20
    assert report.per_root["conda:python"] == 30 + 2 + 1
    assert report.exclusive["pip:lightning"] == (
        "conda:pytorch", "pip:charset-normalizer", "pip:lightning", "pip:requests", "pip:urllib3")
    assert report.total == 561 and report.shared == 0 and report.unreachable == 0
    assert "pip:requests" in report.unknown


def test_sizes_with_a_shared_dependency() -> None:
    locked = lock(cpkg("a", deps={"c": ""}, size=1), cpkg("b", deps={"c": ""}, size=2),
                  cpkg("c", size=100), cpkg("orphan", size=7), roots=("a", "b"))
    report = size_attribution(build_graph(locked, PLATFORM))
    assert report.per_root == {"conda:a": 1, "conda:b": 2}
    assert report.shared == 100 and report.unreachable == 7


def test_json_export_is_stable_and_complete() -> None:
    graph = build_graph(sample(), PLATFORM)
    text = to_json(graph)
    assert text == to_json(build_graph(sample(), PLATFORM))
    document = json.loads(text)
    assert document["roots"] == list(graph.roots)
    assert len(document["nodes"]) == 10 and len(document["edges"]) == graph.graph.number_of_edges()
    assert {"source": "pip:lightning", "target": "conda:pytorch", "spec": ">=2"} in document["edges"]


def test_graphml_export_parses_back() -> None:
    graph = build_graph(sample(), PLATFORM)
    parsed = nx.parse_graphml(to_graphml(graph))
    assert set(parsed) == set(graph.graph)
    assert parsed.nodes["conda:numpy"]["version"] == "1.26.4"
    assert parsed.nodes["conda:numpy"]["root"] is True


def test_dot_export_quotes_and_marks_roots() -> None:
    locked = lock(cpkg("a", deps={'b"q': ""}), cpkg('b"q'), roots=("a",))
    dot = to_dot(build_graph(locked, PLATFORM))
    assert dot.startswith('digraph "conda2docker linux-64" {')
    assert '"conda:a" [label="a\\n1.0", shape=box, penwidth=2];' in dot
    assert '"conda:a" -> "conda:b\\"q";' in dot
    assert dot.rstrip().endswith("}")


def test_node_key_canonicalises_pip_only() -> None:
    assert node_key("pip", "Typing_Extensions") == "pip:typing-extensions"
    assert node_key("conda", "ruamel.yaml") == "conda:ruamel.yaml"


def test_ten_thousand_nodes_and_their_sizes() -> None:
    """Scale is measured in benchmarks/scale.py; here only that a large graph is right."""
    rng = random.Random(6)
    n = 10_000
    packages = [
        cpkg(f"p{i}", deps={f"p{j}": "" for j in rng.sample(range(i + 1, n), min(4, n - i - 1))})
        for i in range(n)
    ]
    locked = lock(*packages)
    graph = build_graph(locked, PLATFORM)
    assert len(graph) == n and graph.graph.number_of_edges() > 3 * n
    report = size_attribution(graph)
    assert sum(report.per_root.values()) + report.shared + report.unreachable == report.total
