"""resolve_pip against the loopback index of real distributions (``local_pypi``), no internet."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from conda2docker.errors import ResolveError
from conda2docker.model import LockedPackage, PipOptions, PipRequirement
from conda2docker.resolve.pip import PipResolution, PipTarget, resolve_pip
from conda2docker.resolve.pypi import IndexClient
from support.pypi_index import LocalIndex


def registry(text: str) -> PipRequirement:
    """A ``pip:`` line as the reader gives it (registry kind)."""
    parsed = Requirement(text)
    return PipRequirement(
        kind="registry", raw=text, name=parsed.name, specifier=str(parsed.specifier),
        extras=tuple(sorted(parsed.extras)), marker=str(parsed.marker) if parsed.marker else None,
    )


def conda(name: str, version: str, *deps: str) -> LockedPackage:
    return LockedPackage(
        name=name, version=version, manager="conda", platform="linux-64",
        url=f"https://example.invalid/linux-64/{name}-{version}-0.conda", md5="0" * 32,
        dependencies={d: "" for d in deps},
    )


@pytest.fixture
def client(tmp_path: Path) -> IndexClient:
    return IndexClient(tmp_path / "cache")


def lock(
    local_pypi: LocalIndex, client: IndexClient, *lines: str, glibc: str = "2.36",
    conda_packages: tuple[LockedPackage, ...] = (), pre: bool = False,
) -> PipResolution:
    return resolve_pip(
        [registry(line) for line in lines], PipOptions(index_url=local_pypi.url, pre=pre),
        PipTarget(glibc=glibc), conda_packages=conda_packages, base_dir=Path.cwd(), index=client,
    )


def by_name(result: PipResolution) -> dict[str, LockedPackage]:
    return {p.name: p for p in result.packages}


def test_transitive_dependency_pulls_newest_wheel_with_true_hash(local_pypi: LocalIndex, client: IndexClient) -> None:
    result = lock(local_pypi, client, "c2d-needs")
    pkgs = by_name(result)
    assert sorted(pkgs) == ["c2d-needs", "c2d-pure"]
    pure = pkgs["c2d-pure"]
    assert (pure.version, pure.artifact, pure.manager, pure.platform) == ("1.1", "wheel", "pip", "linux-64")
    assert pure.file_name == "c2d_pure-1.1-py3-none-any.whl"
    for pkg in pkgs.values():
        data = (local_pypi.files_dir / pkg.file_name).read_bytes()
        assert pkg.sha256 == hashlib.sha256(data).hexdigest()
        assert pkg.url.startswith(local_pypi.base_url) and "#" not in pkg.url
    assert dict(pkgs["c2d-needs"].dependencies) == {"c2d-pure": ">=1.0"}
    assert result.satisfied_by_conda == ()


def test_exact_pin(local_pypi: LocalIndex, client: IndexClient) -> None:
    pkgs = by_name(lock(local_pypi, client, "c2d-pure==1.0", "c2d-needs"))
    assert pkgs["c2d-pure"].version == "1.0"
    assert pkgs["c2d-pure"].file_name == "c2d_pure-1.0-py3-none-any.whl"


def test_sdist_only_package_locks_the_sdist(local_pypi: LocalIndex, client: IndexClient) -> None:
    (pkg,) = lock(local_pypi, client, "c2d-cext").packages
    assert (pkg.name, pkg.version, pkg.artifact) == ("c2d-cext", "0.1", "sdist")
    assert pkg.url.endswith("/c2d_cext-0.1.tar.gz")
    assert pkg.sha256 == hashlib.sha256((local_pypi.files_dir / pkg.file_name).read_bytes()).hexdigest()


def test_wheel_for_newer_glibc_is_skipped_and_recorded(local_pypi: LocalIndex, client: IndexClient) -> None:
    result = lock(local_pypi, client, "c2d-linux", glibc="2.36")
    (pkg,) = result.packages
    assert (pkg.version, pkg.file_name) == ("0.9", "c2d_linux-0.9-cp311-cp311-manylinux_2_17_x86_64.whl")
    (change,) = [c for c in result.changes if c.code == "S304"]
    assert change.subject == "c2d-linux"
    assert "1.0" in change.reason and "2.39" in change.reason and "2.36" in change.reason


def test_newer_glibc_takes_the_newer_wheel(local_pypi: LocalIndex, client: IndexClient) -> None:
    result = lock(local_pypi, client, "c2d-linux", glibc="2.39")
    assert [(p.version, p.artifact) for p in result.packages] == [("1.0", "wheel")]
    assert not [c for c in result.changes if c.code == "S304"]


def test_pinned_wheel_for_newer_glibc_is_explained(local_pypi: LocalIndex, client: IndexClient) -> None:
    with pytest.raises(ResolveError) as info:
        lock(local_pypi, client, "c2d-linux==1.0", glibc="2.36")
    text = info.value.one_line()
    assert "c2d-linux" in text and "glibc >= 2.39" in text and "no sdist" in text
    assert "available: 0.9, 1.0" in text
    assert "base image with glibc >= 2.39" in text


def test_other_arch_has_no_wheel(local_pypi: LocalIndex, client: IndexClient) -> None:
    target = PipTarget(platform="linux-aarch64")
    with pytest.raises(ResolveError, match="no wheel for linux-aarch64 cp311"):
        resolve_pip([registry("c2d-linux")], PipOptions(index_url=local_pypi.url), target,
                    conda_packages=(), base_dir=Path.cwd(), index=client)


def test_conda_package_satisfies_the_pip_requirement(local_pypi: LocalIndex, client: IndexClient) -> None:
    packages = (conda("python", "3.11.7"), conda("c2d-pure", "1.0", "python"))
    result = lock(local_pypi, client, "c2d-needs", "c2d-pure>=1.0", conda_packages=packages)
    assert [p.name for p in result.packages] == ["c2d-needs"]
    assert result.satisfied_by_conda == (("c2d-pure", "c2d-pure"),)
    (change,) = [c for c in result.changes if c.code == "P204"]
    assert change.subject == "c2d-pure" and "1.0" in change.reason


def test_dependency_satisfied_by_conda_is_not_an_audit_finding(
    local_pypi: LocalIndex, client: IndexClient
) -> None:
    """Only pip: lines the user wrote get P204 (its fix is 'remove it from the pip section')."""
    packages = (conda("c2d-pure", "1.1", "python"),)
    result = lock(local_pypi, client, "c2d-needs", conda_packages=packages)
    assert [p.name for p in result.packages] == ["c2d-needs"]
    assert result.satisfied_by_conda == (("c2d-pure", "c2d-pure"),)
    assert result.changes == ()


def test_conda_version_conflict_names_both_sides(local_pypi: LocalIndex, client: IndexClient) -> None:
    packages = (conda("c2d-pure", "1.0", "python"),)
    with pytest.raises(ResolveError) as info:
        lock(local_pypi, client, "c2d-pure>1.0", conda_packages=packages)
    text = info.value.one_line()
    assert "c2d-pure>1.0" in text and "conda package c2d-pure 1.0" in text and "fix:" in text


def test_explicit_pip_pin_overrides_conda(local_pypi: LocalIndex, client: IndexClient) -> None:
    packages = (conda("c2d-pure", "1.0", "python"),)
    result = lock(local_pypi, client, "c2d-pure==1.1", conda_packages=packages)
    assert [(p.name, p.version) for p in result.packages] == [("c2d-pure", "1.1")]
    assert result.satisfied_by_conda == ()
    assert [c.code for c in result.changes] == ["P205"]


def test_transitive_conflict_with_conda_is_reported(local_pypi: LocalIndex, client: IndexClient) -> None:
    packages = (conda("c2d-pure", "0.5", "python"),)
    with pytest.raises(ResolveError) as info:
        lock(local_pypi, client, "c2d-needs", conda_packages=packages)
    text = info.value.one_line()
    assert "c2d-needs 2.0 requires c2d-pure>=1.0" in text and "conda package c2d-pure 0.5" in text


def test_marker_false_for_target_is_dropped(local_pypi: LocalIndex, client: IndexClient) -> None:
    result = lock(local_pypi, client, 'c2d-cext; sys_platform == "win32"',
                  'c2d-pure; python_version >= "3.8"')
    assert [p.name for p in result.packages] == ["c2d-pure"]
    (change,) = result.changes
    assert (change.code, change.action, change.subject) == ("S305", "dropped", "c2d-cext")


def test_missing_version_lists_what_exists(local_pypi: LocalIndex, client: IndexClient) -> None:
    with pytest.raises(ResolveError) as info:
        lock(local_pypi, client, "c2d-pure==9.9")
    text = info.value.one_line()
    assert text.startswith("pip: no version of c2d-pure matches ==9.9 (available: 1.0, 1.1) at ")
    assert local_pypi.url in text and "; fix: " in text


def test_unknown_package(local_pypi: LocalIndex, client: IndexClient) -> None:
    with pytest.raises(ResolveError, match=r"no package named c2d-nonesuch at http://127\.0\.0\.1"):
        lock(local_pypi, client, "c2d-nonesuch")


def test_conflicting_requirements_show_both_chains(local_pypi: LocalIndex, client: IndexClient) -> None:
    with pytest.raises(ResolveError) as info:
        lock(local_pypi, client, "c2d-pure==1.0", "c2d-needs", "c2d-pure==1.1")
    text = info.value.one_line()
    assert text.startswith("pip: conflicting requirements for c2d-pure: ")
    assert "c2d-pure==1.0 (from the pip: section)" in text
    assert "c2d-pure==1.1 (from the pip: section)" in text


def test_find_links_directory_alone(local_pypi: LocalIndex, client: IndexClient, tmp_path: Path) -> None:
    empty = tmp_path / "empty-index"
    empty.mkdir()
    options = PipOptions(index_url=empty.as_uri(), find_links=(str(local_pypi.files_dir),))
    result = resolve_pip([registry("c2d-needs")], options, PipTarget(), conda_packages=(),
                         base_dir=tmp_path, index=client)
    pkgs = by_name(result)
    assert pkgs["c2d-pure"].url == (local_pypi.files_dir / "c2d_pure-1.1-py3-none-any.whl").resolve().as_uri()
    assert pkgs["c2d-pure"].sha256 == hashlib.sha256(
        (local_pypi.files_dir / "c2d_pure-1.1-py3-none-any.whl").read_bytes()).hexdigest()


def test_unreachable_index(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/simple/"
    client = IndexClient(tmp_path, retries=1, timeout=2)
    with pytest.raises(ResolveError) as info:
        resolve_pip([registry("c2d-pure")], PipOptions(index_url=url), PipTarget(),
                    conda_packages=(), base_dir=tmp_path, index=client)
    text = info.value.one_line()
    assert f"cannot reach the package index {url}" in text
    assert "--offline" in text and "mirror" in text


def test_offline_uses_the_cache(local_pypi: LocalIndex, tmp_path: Path) -> None:
    online = IndexClient(tmp_path / "cache")
    first = lock(local_pypi, online, "c2d-needs")
    offline = IndexClient(tmp_path / "cache", offline=True)
    assert lock(local_pypi, offline, "c2d-needs") == first
    with pytest.raises(ResolveError, match="--offline forbids the network"):
        lock(local_pypi, IndexClient(tmp_path / "cold", offline=True), "c2d-needs")


# -- property: whatever gets locked satisfies every specifier that points at it --------------

PROJECTS = ("c2d-pure", "c2d-needs", "c2d-linux", "c2d-cext")
VERSIONS = ("0.1", "0.9", "1.0", "1.1", "2.0")
#: what the index holds, and the lowest glibc each version's files install on
UNIVERSE = {
    "c2d-pure": {"1.0": "0", "1.1": "0"},
    "c2d-needs": {"2.0": "0"},
    "c2d-linux": {"0.9": "2.17", "1.0": "2.39"},
    "c2d-cext": {"0.1": "0"},
}

specifiers = st.lists(
    st.tuples(st.sampled_from(("==", "!=", ">=", "<=", ">", "<", "~=")), st.sampled_from(VERSIONS)),
    max_size=2,
).map(lambda items: ",".join(op + v for op, v in items))
requirement_sets = st.lists(
    st.tuples(st.sampled_from(PROJECTS), specifiers), min_size=1, max_size=4
)


def _installable(name: str, glibc: str, spec: SpecifierSet) -> list[str]:
    return [
        v for v, need in UNIVERSE[name].items()
        if Version(need) <= Version(glibc) and spec.contains(v)
    ]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(requirements=requirement_sets, glibc=st.sampled_from(("2.17", "2.36", "2.39")))
def test_property_locked_versions_satisfy_all_specifiers(
    local_pypi: LocalIndex, tmp_path: Path, requirements: list[tuple[str, str]], glibc: str
) -> None:
    client = IndexClient(tmp_path / "property-cache")
    lines = [name + spec for name, spec in requirements]
    wanted: dict[str, SpecifierSet] = {}
    for name, spec in requirements:
        wanted[name] = wanted.get(name, SpecifierSet()) & SpecifierSet(spec)
    if "c2d-needs" in wanted:
        wanted["c2d-pure"] = wanted.get("c2d-pure", SpecifierSet()) & SpecifierSet(">=1.0")
    solvable = all(_installable(n, glibc, s) for n, s in wanted.items())
    try:
        result = lock(local_pypi, client, *lines, glibc=glibc)
    except ResolveError as exc:
        assert not solvable, f"{lines} (glibc {glibc}) is solvable but failed: {exc.one_line()}"
        assert exc.one_line().startswith("pip: ") and "fix:" in exc.one_line()
        return
    assert solvable, f"{lines} (glibc {glibc}) is not solvable, yet locked {result.packages}"
    pkgs = by_name(result)
    assert set(pkgs) == set(wanted)
    for name, combined in wanted.items():
        assert combined.contains(pkgs[name].version), (name, combined, pkgs[name].version)
        # no cross constraints here beyond c2d-needs → c2d-pure, so the newest fit is chosen
        assert pkgs[name].version == max(_installable(name, glibc, combined), key=Version)
    for pkg in pkgs.values():
        for dep, dep_spec in pkg.dependencies.items():
            assert SpecifierSet("" if dep_spec == "*" else dep_spec).contains(pkgs[dep].version)


def constrained(local_pypi: LocalIndex, client: IndexClient, lines: tuple[str, ...],
                constraints: tuple[str, ...], **kwargs: tuple[LockedPackage, ...]) -> PipResolution:
    options = PipOptions(index_url=local_pypi.url, constraints=tuple(registry(c) for c in constraints))
    return resolve_pip([registry(line) for line in lines], options, PipTarget(),
                       conda_packages=kwargs.get("conda_packages", ()), base_dir=Path.cwd(),
                       index=client)


def test_a_constraint_limits_a_transitive_dependency(local_pypi: LocalIndex, client: IndexClient) -> None:
    assert by_name(lock(local_pypi, client, "c2d-needs"))["c2d-pure"].version == "1.1"
    pkgs = by_name(constrained(local_pypi, client, ("c2d-needs",), ("c2d-pure<1.1",)))
    assert pkgs["c2d-pure"].version == "1.0"
    # A constraint on a package nothing requires installs nothing; a false marker drops it.
    pkgs = by_name(constrained(local_pypi, client, ("c2d-needs",),
                               ("c2d-cext==0.1", "c2d-pure<1.1; sys_platform == 'win32'")))
    assert set(pkgs) == {"c2d-needs", "c2d-pure"} and pkgs["c2d-pure"].version == "1.1"


def test_a_constraint_that_leaves_nothing_names_itself(local_pypi: LocalIndex, client: IndexClient) -> None:
    with pytest.raises(ResolveError) as info:
        constrained(local_pypi, client, ("c2d-needs",), ("c2d-pure<1.0",))
    assert "the constraint c2d-pure<1.0 leaves no version of c2d-pure" in info.value.message
    assert "available: 1.0, 1.1" in info.value.message
    packages = (conda("python", "3.11.7"), conda("c2d-pure", "1.1", "python"))
    with pytest.raises(ResolveError) as info:
        constrained(local_pypi, client, ("c2d-needs",), ("c2d-pure==1.0",), conda_packages=packages)
    assert "conda package c2d-pure 1.1 provides it" in info.value.message
