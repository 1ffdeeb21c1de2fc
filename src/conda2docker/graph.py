"""The dependency graph of a lock for one platform: why-paths, size attribution, export.

Nodes are keyed ``conda:<name>`` and ``pip:<canonical name>``; an edge ``a → b`` means
``a`` depends on ``b`` (attribute ``spec``). A pip requirement links to the pip package
of that name, or, when pip has none, to the conda package shipping that distribution
(``torch`` → ``conda:pytorch``). Roots are what the user asked for. Pure: no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import field

import networkx as nx

from conda2docker.model import Lock, LockedPackage
from conda2docker.names import canonical, conda_to_pypi
from conda2docker.values import frozen

VIRTUAL_ROOT = "<root>"
"""The node added above every root for dominator analysis; never part of a DepGraph."""

NodeAttr = str | int | bool


def node_key(manager: str, name: str) -> str:
    """The node key of a package: ``conda:numpy``, ``pip:typing-extensions``."""
    return f"{manager}:{canonical(name) if manager == 'pip' else name.lower()}"


@frozen
class DepGraph:
    """A lock's dependency graph for one platform."""

    graph: nx.DiGraph
    platform: str
    roots: tuple[str, ...]
    dangling: tuple[tuple[str, str], ...] = ()
    """Dependencies naming no package in the lock: (node, dependency name), e.g. virtual ``__glibc``."""

    def __contains__(self, key: object) -> bool:
        return key in self.graph

    def __len__(self) -> int:
        return int(self.graph.number_of_nodes())

    def package(self, key: str) -> LockedPackage:
        package: LockedPackage = self.graph.nodes[key]["package"]
        return package

    def find_exact(self, name: str) -> tuple[str, ...]:
        """The node keys of the conda and pip packages called ``name``."""
        return tuple(_keys_for_name(self.graph, name))

    def find(self, name: str) -> tuple[str, ...]:
        """Node keys matching a user-typed name: ``conda:x``/``pip:x``, or a bare name in either."""
        if name in self.graph:
            return (name,)
        found = list(self.find_exact(name))
        if not found:
            wanted = canonical(name)
            found = [k for k in self.graph if canonical(k.split(":", 1)[1]) == wanted]
        return tuple(sorted(found))


def build_graph(lock: Lock, platform: str, roots: Iterable[str] = ()) -> DepGraph:
    """The graph of ``lock`` for ``platform``; ``roots`` (names) default to ``lock.roots``."""
    packages = lock.for_platform(platform)
    graph: nx.DiGraph = nx.DiGraph(platform=platform)
    graph.add_nodes_from((p.key if p.manager == "conda" else node_key("pip", p.name), _attrs(p))
                         for p in packages)
    resolve = _resolver(packages)
    edges: list[tuple[str, str, dict[str, str]]] = []
    dangling: list[tuple[str, str]] = []
    for package in packages:
        source = node_key(package.manager, package.name)
        for dep, spec in package.dependencies.items():
            target = resolve(package.manager, dep)
            if target is None:
                dangling.append((source, dep))
            elif target != source:
                edges.append((source, target, {"spec": spec}))
    graph.add_edges_from(edges)
    root_keys = _root_keys(graph, tuple(roots) or lock.roots)
    for key in root_keys:
        graph.nodes[key]["root"] = True
    return DepGraph(graph, platform, root_keys, tuple(sorted(set(dangling))))


def _attrs(package: LockedPackage) -> dict[str, object]:
    attrs: dict[str, object] = {
        "name": package.name,
        "manager": package.manager,
        "version": package.version,
        "artifact": package.artifact,
        "url": package.url,
        "category": package.category,
        "root": False,
        "package": package,
    }
    if package.build:
        attrs["build"] = package.build
    if package.manager == "conda":  # LockedPackage.channel/.subdir, without urlsplit: 10k nodes
        parts = package.url.split("?", 1)[0].rsplit("/", 2)
        if len(parts) == 3:
            attrs["channel"], attrs["subdir"] = parts[0], parts[1]
    if package.size is not None:
        attrs["size"] = package.size
    return attrs


def _resolver(packages: tuple[LockedPackage, ...]) -> _Resolve:
    conda = {p.name.lower(): node_key("conda", p.name) for p in packages if p.manager == "conda"}
    pip = {canonical(p.name): node_key("pip", p.name) for p in packages if p.manager == "pip"}
    conda_by_pypi: dict[str, str] = {}
    for name, key in sorted(conda.items()) if pip else ():  # only pip requirements look here
        conda_by_pypi.setdefault(conda_to_pypi(name), key)
        conda_by_pypi.setdefault(canonical(name), key)
    return _Resolve(conda, pip, conda_by_pypi)


@frozen
class _Resolve:
    """The locked packages by name, conda and pip, for the graph."""
    conda: Mapping[str, str]
    pip: Mapping[str, str]
    conda_by_pypi: Mapping[str, str]

    def __call__(self, manager: str, dep: str) -> str | None:
        if manager == "conda":
            return self.conda.get(dep.lower())
        name = canonical(dep.split("[", 1)[0])
        return self.pip.get(name) or self.conda_by_pypi.get(name)


def _root_keys(graph: nx.DiGraph, names: tuple[str, ...]) -> tuple[str, ...]:
    if names:
        keys = {k for name in names for k in _keys_for_name(graph, name)}
        if keys:
            return tuple(sorted(keys))
    keys = {n for n, degree in graph.in_degree() if degree == 0}
    reached = _reachable(graph, keys)
    if len(reached) < graph.number_of_nodes():
        # A cycle nobody depends on (e.g. python <-> pip alone) needs a root too.
        rest = graph.subgraph(set(graph) - reached)
        condensed = nx.condensation(rest)
        for component, degree in condensed.in_degree():
            if degree == 0:
                keys.add(min(condensed.nodes[component]["members"]))
    return tuple(sorted(keys))


def _reachable(graph: nx.DiGraph, sources: Iterable[str]) -> set[str]:
    seen = set(sources)
    stack = list(seen)
    while stack:
        for child in graph.successors(stack.pop()):
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return seen


def _keys_for_name(graph: nx.DiGraph, name: str) -> list[str]:
    return [k for k in (node_key("conda", name), node_key("pip", name)) if k in graph]


# --- why: every path from a root to a package ---------------------------------------


@frozen
class WhyPaths:
    """Paths from roots to ``target``: the first ``limit`` found, and how many more exist."""

    target: str
    paths: tuple[tuple[str, ...], ...]
    more: int
    more_is_lower_bound: bool = False


def why(dep_graph: DepGraph, target: str, *, limit: int = 20, count_cap: int = 10_000) -> WhyPaths:
    """Every simple path from a root to ``target`` (shortest first), bounded.

    Returns up to ``limit`` paths; ``more`` counts the rest. Enumeration stops after
    ``count_cap`` more (then ``more_is_lower_bound`` is set and the shortest paths shown are
    the shortest of those enumerated). Cycles are fine: paths are simple.
    """
    graph = dep_graph.graph
    if target not in graph:
        raise KeyError(target)
    relevant = nx.ancestors(graph, target) | {target}
    sub = graph.subgraph(relevant)
    cap = count_cap + max(limit, 0)
    found: list[tuple[str, ...]] = []
    for path in _paths_from_roots(sub, dep_graph.roots, target):
        found.append(path)
        if len(found) >= cap:
            break
    found.sort(key=lambda p: (len(p), p))
    shown = tuple(found[: max(limit, 0)])
    more = len(found) - len(shown)
    return WhyPaths(target, shown, more, len(found) >= cap)


def _paths_from_roots(sub: nx.DiGraph, roots: tuple[str, ...], target: str) -> Iterator[tuple[str, ...]]:
    for root in roots:
        if root == target:
            yield (target,)
        elif root in sub:
            for path in nx.all_simple_paths(sub, root, target):
                yield tuple(path)


def shortest_chain(dep_graph: DepGraph, target: str) -> tuple[str, ...] | None:
    """The shortest path from a root to ``target``, or None when no root reaches it.

    Searches backwards from ``target`` one layer at a time, in key order, so ties always
    resolve the same way (the smallest root of the nearest layer).
    """
    graph = dep_graph.graph
    if target not in graph:
        raise KeyError(target)
    roots = set(dep_graph.roots)
    towards_target: dict[str, str | None] = {target: None}
    layer = [target]
    while layer:
        reached = [node for node in layer if node in roots]
        if reached:
            path = [min(reached)]
            while (step := towards_target[path[-1]]) is not None:
                path.append(step)
            return tuple(path)
        following: list[str] = []
        for node in layer:
            for parent in sorted(graph.predecessors(node)):
                if parent not in towards_target:
                    towards_target[parent] = node
                    following.append(parent)
        layer = sorted(following)
    return None


# --- size attribution ------------------------------------------------------------------


@frozen
class SizeReport:
    """Bytes each root alone pulls in (its dominator subtree), and what is shared."""

    per_root: Mapping[str, int]
    exclusive: Mapping[str, tuple[str, ...]]
    shared: int
    unreachable: int
    total: int
    unknown: tuple[str, ...] = field(default=())
    """Packages whose size the lock does not record (counted as 0)."""


def size_attribution(dep_graph: DepGraph) -> SizeReport:
    """Dominator-based sizes: a package counts for a root when every path to it passes that root."""
    graph = dep_graph.graph
    sizes = {n: int(graph.nodes[n].get("size", 0)) for n in graph}
    augmented = nx.DiGraph(graph.edges)
    augmented.add_nodes_from(graph)
    augmented.add_edges_from((VIRTUAL_ROOT, r) for r in dep_graph.roots)
    idom = nx.immediate_dominators(augmented, VIRTUAL_ROOT) if dep_graph.roots else {}
    children: dict[str, list[str]] = {}
    for node, parent in idom.items():
        if node != parent:
            children.setdefault(parent, []).append(node)
    per_root: dict[str, int] = {}
    exclusive: dict[str, tuple[str, ...]] = {}
    for root in dep_graph.roots:
        subtree = _subtree(children, root)
        exclusive[root] = tuple(sorted(subtree))
        per_root[root] = sum(sizes[n] for n in subtree)
    owned = {n for nodes in exclusive.values() for n in nodes}
    reached = set(idom) - {VIRTUAL_ROOT}
    return SizeReport(
        per_root=per_root,
        exclusive=exclusive,
        shared=sum(sizes[n] for n in reached - owned),
        unreachable=sum(sizes[n] for n in set(graph) - reached),
        total=sum(sizes.values()),
        unknown=tuple(sorted(n for n in graph if "size" not in graph.nodes[n])),
    )


def _subtree(children: Mapping[str, list[str]], top: str) -> set[str]:
    seen = {top}
    stack = [top]
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return seen


# --- export --------------------------------------------------------------------------

_EXPORT_KEYS = ("name", "manager", "version", "build", "artifact", "channel", "subdir", "size",
                "category", "url", "root")


def _export_attrs(graph: nx.DiGraph, node: str) -> dict[str, NodeAttr]:
    data = graph.nodes[node]
    return {k: data[k] for k in _EXPORT_KEYS if k in data}


def to_json(dep_graph: DepGraph) -> str:
    """Nodes, edges and roots as sorted JSON (stable bytes)."""
    graph = dep_graph.graph
    document = {
        "platform": dep_graph.platform,
        "roots": list(dep_graph.roots),
        "nodes": [{"id": n, **_export_attrs(graph, n)} for n in sorted(graph)],
        "edges": [
            {"source": a, "target": b, "spec": graph.edges[a, b].get("spec", "")}
            for a, b in sorted(graph.edges)
        ],
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(dep_graph: DepGraph) -> str:
    """Graphviz DOT: roots boxed, pip packages dashed; sorted so the bytes are stable."""
    graph = dep_graph.graph
    lines = [f"digraph {_dot_quote('conda2docker ' + dep_graph.platform)} {{",
             "  rankdir=LR;", '  node [shape=ellipse, fontsize=10];']
    for node in sorted(graph):
        data = graph.nodes[node]
        label = f"{data['name']}\n{data['version']}"
        style = ["shape=box", "penwidth=2"] if data.get("root") else []
        if data["manager"] == "pip":
            style.append("style=dashed")
        attrs = ", ".join([f"label={_dot_quote(label)}", *style])
        lines.append(f"  {_dot_quote(node)} [{attrs}];")
    for a, b in sorted(graph.edges):
        spec = graph.edges[a, b].get("spec", "")
        suffix = f" [tooltip={_dot_quote(spec)}]" if spec else ""
        lines.append(f"  {_dot_quote(a)} -> {_dot_quote(b)}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_graphml(dep_graph: DepGraph) -> str:
    """GraphML with scalar node attributes (readable by Gephi, yEd, networkx)."""
    graph = dep_graph.graph
    export: nx.DiGraph = nx.DiGraph()
    export.add_nodes_from((n, _export_attrs(graph, n)) for n in sorted(graph))
    export.add_edges_from((a, b, {"spec": graph.edges[a, b].get("spec", "")})
                          for a, b in sorted(graph.edges))
    return "\n".join(nx.generate_graphml(export)) + "\n"
