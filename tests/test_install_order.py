"""The explicit lock the image installs lists dependencies first, and keeps an explicit input's order.

conda writes explicit files dependencies-first (``conda list --explicit``), conda-lock renders
them in topological order, and micromamba installs an explicit file in its order; so the
order is part of what is installed. Property checks over every shared lock (../shared/locks):
conda-lock files (dependency data in the file), pixi.lock files (``depends`` lists), and
explicit files (no dependency data: their own order must survive).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from conda2docker.lockfile import (
    install_order,
    read_conda_lock,
    read_explicit,
    render_explicit,
    split_conda_file_name,
)
from conda2docker.model import Lock, LockedPackage
from support.shared import shared_path

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _locks(pattern: str) -> list[Path]:
    found = sorted(shared_path("locks").glob(pattern))
    if not found:
        pytest.skip(f"no {pattern} in ../shared/locks")
    return found


def _violations(order: Sequence[LockedPackage]) -> list[str]:
    """Packages placed before one of their dependencies, except inside a dependency cycle."""
    position = {p.name: i for i, p in enumerate(order)}
    graph = nx.DiGraph()
    graph.add_nodes_from(position)
    graph.add_edges_from((p.name, d) for p in order for d in p.dependencies if d in position)
    cyclic = {n for component in nx.strongly_connected_components(graph) if len(component) > 1
              for n in component}
    return [f"{p.name} before {d}" for p in order for d in p.dependencies
            if d in position and position[d] > position[p.name]
            and not (p.name in cyclic and d in cyclic)]


def _check(packages: Iterable[LockedPackage], where: str) -> int:
    packages = list(packages)
    order = install_order(packages)
    assert sorted(p.name for p in order) == sorted({p.name for p in packages}), where
    assert _violations(order) == [], where
    names = [p.name for p in order]
    if "python" in names:
        after_python = names.index("python")
        needs_python = [p.name for p in order if "python" in p.dependencies]
        assert all(names.index(n) > after_python for n in needs_python), where
    # stable: the same packages in another order give the same install order
    assert [p.name for p in install_order(list(reversed(packages)))] == names, where
    return len(order)


def test_conda_lock_files_install_dependencies_first() -> None:
    checked = 0
    for path in _locks("*conda-lock*.yml"):
        lock = read_conda_lock(path)
        for platform in lock.platforms:
            checked += _check(lock.conda_packages(platform), f"{path.name} {platform}") > 0
    assert checked >= 20


_SPEC_NAME = re.compile(r"^([A-Za-z0-9_.\-]+)")


def _pixi_packages(data: dict[str, Any]) -> dict[tuple[str, str, str], list[LockedPackage]]:
    """(environment, platform) → conda packages with their ``depends`` names, from a pixi.lock."""
    records: dict[str, dict[str, Any]] = {}
    for entry in data.get("packages") or []:
        if not isinstance(entry, dict):
            continue
        url = entry.get("conda") or (entry.get("url") if entry.get("kind") == "conda" else None)
        if isinstance(url, str):
            records[url] = entry
    result: dict[tuple[str, str, str], list[LockedPackage]] = {}
    for env_name, env in (data.get("environments") or {}).items():
        for platform, items in ((env or {}).get("packages") or {}).items():
            packages = []
            for item in items or []:
                url = item.get("conda") if isinstance(item, dict) else None
                entry = records.get(url) if isinstance(url, str) else None
                if entry is None:
                    continue
                parts = split_conda_file_name(url.rsplit("/", 1)[-1])
                name = entry.get("name") or (parts[0] if parts else None)
                if not name:
                    continue
                depends = {}
                for spec in entry.get("depends") or []:
                    found = _SPEC_NAME.match(str(spec))
                    if found:
                        depends[found[1]] = str(spec)
                packages.append(LockedPackage(name=str(name), version="0", manager="conda",
                                              platform=platform, url=url, dependencies=depends))
            if packages:
                result[(str(env_name), str(platform), "")] = packages
    return result


def test_pixi_locks_install_dependencies_first() -> None:
    checked = 0
    for path in _locks("*pixi.lock"):
        data = yaml.load(path.read_text(), Loader=LOADER)
        for (env, platform, _), packages in _pixi_packages(data).items():
            if any(p.dependencies for p in packages):
                checked += _check(packages, f"{path.name} {env} {platform}") > 0
    assert checked >= 50


def _urls(text: str) -> list[str]:
    return [line.split("#")[0] for line in text.splitlines() if re.match(r"^[a-z]+://", line)]


def test_explicit_inputs_keep_their_order() -> None:
    for path in _locks("*.lock"):
        if path.name.endswith("pixi.lock"):
            continue
        lock = read_explicit(path)
        [platform] = lock.platforms
        assert _urls(render_explicit(lock, platform)) == _urls(path.read_text()), path.name


def test_explicit_inputs_are_in_dependency_order_by_their_conda_lock() -> None:
    """pangeo's explicit files beside their conda-lock.yml: the explicit order the image
    installs (theirs, kept) puts no package before a dependency the conda-lock.yml names."""
    checked = 0
    for path in _locks("pangeo-data__*__conda-linux-64.lock"):
        paired = path.with_name(path.name.replace("conda-linux-64.lock", "conda-lock.yml"))
        if not paired.is_file():
            continue
        depends = {p.url: p.dependencies
                   for p in read_conda_lock(paired).conda_packages("linux-64")}
        lock = read_explicit(path)
        order = [LockedPackage(name=p.name, version=p.version, manager="conda",
                               platform="linux-64", url=p.url,
                               dependencies=depends.get(p.url, {}))
                 for p in _reordered(lock)]
        assert _violations(order) == [], path.name
        checked += 1
    assert checked >= 3


def _reordered(lock: Lock) -> list[LockedPackage]:
    by_url = {p.url: p for p in lock.packages}
    return [by_url[url] for url in _urls(render_explicit(lock, "linux-64"))]


def test_python_precedes_the_noarch_packages_of_an_explicit_input() -> None:
    """The issue's case: sorting by name put python after noarch packages that need it."""
    [path] = _locks("mamba-org__mamba__*minrk*linux-64.lock")
    names = [p.name for p in _reordered(read_explicit(path))]
    assert names.index("python") < names.index("pip")
    assert names.index("libgomp") < names.index("_openmp_mutex")


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 25).flatmap(lambda n: st.tuples(
    st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3 * n))))
def test_any_dependency_graph_installs_dependencies_first(graph: tuple[int, list[tuple[int, int]]]) -> None:
    count, edges = graph
    deps: dict[int, set[int]] = {i: set() for i in range(count)}
    for a, b in edges:
        if a != b:
            deps[a].add(b)
    packages = [LockedPackage(name=f"p{i:02d}", version="1", manager="conda", platform="linux-64",
                              url=f"https://x/linux-64/p{i:02d}-1-0.conda",
                              dependencies={f"p{d:02d}": "" for d in sorted(deps[i])})
                for i in range(count)]
    order = install_order(packages)
    assert sorted(p.name for p in order) == sorted(p.name for p in packages)
    assert _violations(order) == []
    assert [p.name for p in install_order(order)] == [p.name for p in order]  # a fixed point


@settings(max_examples=40, deadline=None)
@given(st.permutations([f"pkg{i}" for i in range(12)]))
def test_an_order_without_dependency_data_is_kept(names: list[str]) -> None:
    packages = [LockedPackage(name=n, version="1", manager="conda", platform="linux-64",
                              url=f"https://x/linux-64/{n}-1-0.conda") for n in names]
    assert [p.name for p in install_order(packages)] == names
