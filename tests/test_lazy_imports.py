"""What the user's commands load: conda-lock and pydantic only for the conda-lock backend,
the index client only for pip work (speed targets themselves live in benchmarks/)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conda2docker.lockfile import write_conda_lock
from support.locks import lock_with_builds, lock_with_pip_wheels

HEAVY = ("pydantic", "conda_lock", "networkx", "importlib.metadata")


def _loaded_after(code: str, *args: str) -> list[str]:
    script = (
        "import sys\n" + code + "\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True,
                          check=False, cwd=Path(__file__).parent)
    assert done.returncode == 0, done.stderr[-2000:]
    return eval(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_writing_a_lock_loads_neither_conda_lock_nor_pydantic(tmp_path: Path) -> None:
    code = ("from pathlib import Path\nfrom support.locks import lock_with_builds\n"
            "from conda2docker.lockfile import write_conda_lock\n"
            "write_conda_lock(lock_with_builds(), Path(sys.argv[1]))")
    assert _loaded_after(code, str(tmp_path / "conda-lock.yml")) == []
    assert lock_with_builds().packages  # the lock written above is a real one


def test_convert_of_a_lock_loads_none_of_the_heavy_libraries(tmp_path: Path) -> None:
    lock = tmp_path / "conda-lock.yml"
    write_conda_lock(lock_with_pip_wheels(), lock)
    code = ("from conda2docker.cli import main\n"
            "assert main(['convert', sys.argv[1], '-o', sys.argv[2]]) == 0")
    assert _loaded_after(code, str(lock), str(tmp_path / "out")) == []


def test_the_rattler_version_planned_is_the_installed_one() -> None:
    from importlib.metadata import version

    from conda2docker.convert import plan_rattler_version

    assert plan_rattler_version() == version("py-rattler")


def test_parsing_every_option_of_lock_and_convert_loads_no_pydantic(tmp_path: Path) -> None:
    """Choices (``--channel-priority``, ``--solver``, ``--installer``, ``--format``…) included."""
    code = ("from conda2docker.cli import main\n"
            "main(['lock', 'missing.yml', '--channel-priority', 'flexible', '--solver', 'rattler',"
            " '-p', 'linux-64', '--offline'])\n"
            "main(['convert', 'missing.yml', '-o', sys.argv[1], '--installer', 'rattler', '--gpu',"
            " 'no', '--format', 'docker', '--format', 'apptainer', '--uid', '5'])")
    assert "pydantic" not in _loaded_after(code, str(tmp_path / "out"))


def test_audit_and_graph_read_only_the_target_platforms_of_a_lock(tmp_path: Path) -> None:
    """``load_input`` (audit, graph) skips a lock's macOS entries; its platforms stay listed."""
    from conda2docker.model import Lock
    from conda2docker.pipeline import load_input
    from conda2docker.resolve import ResolveOptions
    from support.locks import base_conda

    lock = Lock(packages=(*base_conda("linux-64"), *base_conda("linux-aarch64"),
                          *base_conda("osx-arm64")),
                platforms=("linux-64", "linux-aarch64", "osx-arm64"), channels=("conda-forge",))
    path = tmp_path / "conda-lock.yml"
    write_conda_lock(lock, path)
    spec, resolution = load_input(path, ResolveOptions())
    assert spec.lock is not None and resolution is not None
    assert {p.platform for p in spec.lock.packages} == {"linux-64", "linux-aarch64"}
    assert spec.lock.platforms == ("linux-64", "linux-aarch64", "osx-arm64")
    assert sorted(resolution.lock.for_platform("linux-aarch64"), key=lambda p: p.name) == sorted(
        lock.for_platform("linux-aarch64"), key=lambda p: p.name)
