"""Lock categories: ``convert`` installs ``main`` only, as micromamba installs a conda-lock.yml.

micromamba (``micromamba create -f conda-lock.yml``) installs the ``main`` category unless
``--category`` adds others; ``conda-lock install`` adds ``dev`` unless ``--no-dev``. conda2docker
follows micromamba (the image's installer), takes ``--category NAME`` (repeatable) for the
rest, and says what it left out. conda-lock's v1 format lists a package once per category
(``LockedDependency.to_v1`` in conda-lock), so a package in ``main`` and ``dev`` is installed
once.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conda2docker.cli import main
from conda2docker.errors import InputError
from conda2docker.lockfile import (
    lock_categories,
    read_conda_lock,
    select_categories,
)
from conda2docker.model import Lock, LockedPackage
from support.shared import shared_path

CF = "https://conda.anaconda.org/conda-forge"


def pkg(name: str, category: str, platform: str = "linux-64") -> LockedPackage:
    return LockedPackage(name=name, version="1.0", manager="conda", platform=platform,
                         url=f"{CF}/linux-64/{name}-1.0-0.conda", md5="0" * 32,
                         build="0", category=category, optional=category != "main")


def test_main_only_and_each_package_once() -> None:
    lock = Lock(packages=(pkg("python", "main"), pkg("six", "main"), pkg("six", "dev"),
                          pkg("pytest", "dev"), pkg("pluggy", "dev"), pkg("sphinx", "docs")),
                platforms=("linux-64",))
    assert lock_categories(lock) == ("main", "dev", "docs")
    chosen, left_out = select_categories(lock, ("main",))
    assert [p.name for p in chosen.packages] == ["python", "six"]
    assert left_out == {"dev": 2, "docs": 1}
    chosen, left_out = select_categories(lock, ("main", "dev"))
    assert [p.name for p in chosen.packages] == ["python", "six", "pytest", "pluggy"]
    assert left_out == {"docs": 1}
    everything, left_out = select_categories(lock, ("main", "dev", "docs"))
    assert len(everything.packages) == 5 and left_out == {}


def test_an_unknown_category_names_the_locks_categories() -> None:
    lock = Lock(packages=(pkg("python", "main"), pkg("pytest", "dev")), platforms=("linux-64",))
    with pytest.raises(InputError) as caught:
        select_categories(lock, ("main", "test"))
    assert "it has: main, dev" in caught.value.message


def test_a_lock_written_by_conda_lock_with_two_categories(tmp_path: Path) -> None:
    from conda_lock.lockfile import write_conda_lock_file
    from conda_lock.lockfile.v2prelim.models import (
        HashModel,
        LockedDependency,
        Lockfile,
        LockMeta,
        TimeMeta,
    )

    def dep(name: str, categories: set[str]) -> LockedDependency:
        return LockedDependency(
            name=name, version="1.0", manager="conda", platform="linux-64", dependencies={},
            url=f"{CF}/noarch/{name}-1.0-0.conda", hash=HashModel(md5="0" * 32),
            categories=categories,
        )

    lockfile = Lockfile(
        package=[dep("python", {"main"}), dep("six", {"main", "dev"}), dep("pytest", {"dev"})],
        metadata=LockMeta(content_hash={"linux-64": "x"}, channels=["conda-forge"],
                          platforms=["linux-64"], sources=["environment.yml"],
                          time_metadata=TimeMeta.create()),
    )
    path = tmp_path / "conda-lock.yml"
    write_conda_lock_file(lockfile, path, metadata_choices=None, include_help_text=False)
    lock = read_conda_lock(path)
    assert sorted(p.name for p in lock.packages) == ["pytest", "python", "six", "six"]
    chosen, left_out = select_categories(lock, ("main",))
    assert sorted(p.name for p in chosen.packages) == ["python", "six"]
    assert left_out == {"dev": 1}


def _explicit_urls(out: Path) -> list[str]:
    text = (out / "conda2docker" / "conda-linux-64.lock").read_text()
    return [line for line in text.splitlines() if line.startswith("https://")]


def test_convert_of_a_real_lock_installs_main_and_says_what_it_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lock = shared_path("locks", "Cantera__cantera-papers__conda-lock.yml")  # main + dev
    assert main(["convert", str(lock), "-o", str(tmp_path / "main")]) == 0
    err = capsys.readouterr().err
    assert "left out 56 package(s) of category dev (add them with --category dev)" in err
    main_urls = _explicit_urls(tmp_path / "main")
    assert len(main_urls) == 72  # the lock's linux-64 conda entries of category main
    assert main(["convert", str(lock), "-o", str(tmp_path / "dev"), "--category", "dev"]) == 0
    assert "left out" not in capsys.readouterr().err
    dev_urls = _explicit_urls(tmp_path / "dev")
    assert len(dev_urls) == 128 and set(main_urls) < set(dev_urls)
    # the conda-lock.yml written beside the Dockerfile is the input, every category kept
    assert (tmp_path / "main" / "conda-lock.yml").read_text() == lock.read_text()


def test_unknown_category_and_category_without_a_lock_are_input_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lock = shared_path("locks", "Cantera__cantera-papers__conda-lock.yml")
    assert main(["convert", str(lock), "-o", str(tmp_path / "x"), "--category", "test"]) == 2
    assert "the lock has no category 'test' (it has: main, dev)" in capsys.readouterr().err
    env = tmp_path / "environment.yml"
    env.write_text("channels: [conda-forge]\ndependencies: [python=3.11]\n")
    assert main(["convert", str(env), "-o", str(tmp_path / "y"), "--category", "dev"]) == 2
    assert "--category applies to a conda-lock.yml input" in capsys.readouterr().err
