"""``--hash`` in a pip: block pins exactly that file, as pip's hash-checking mode does.

pip installs a requirement carrying ``--hash`` only from a file with one of those digests
(``pip install -r``; "Hash-checking mode" in pip's user guide). The resolver here takes only
such files, an index without one is an error at the line, and a lock (made or reused) whose
file differs is an error at the line. Real files from the loopback index (tests/support).
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import pytest

from conda2docker.errors import ResolveError
from conda2docker.model import EnvSpec, LockedPackage
from conda2docker.read.environment import parse_environment
from conda2docker.resolve.pip import PipTarget, resolve_pip
from conda2docker.resolve.pypi import IndexClient
from conda2docker.resolve.run import check_pip_hashes
from support.pypi_index import LocalIndex


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _env(tmp_path: Path, *lines: str) -> EnvSpec:
    path = tmp_path / "environment.yml"
    body = "".join(f"      - {line}\n" for line in lines)
    path.write_text(f"dependencies:\n  - python=3.11\n  - pip\n  - pip:\n{body}")
    return parse_environment(path.read_bytes(), path, platform="linux-64")


def _lock(spec: EnvSpec, local_pypi: LocalIndex, tmp_path: Path) -> tuple[LockedPackage, ...]:
    options = replace(spec.pip_options, index_url=local_pypi.url)
    return resolve_pip(spec.pip, options, PipTarget(), conda_packages=(), base_dir=tmp_path,
                       index=IndexClient(tmp_path / "cache")).packages


def test_the_hash_chooses_the_file(local_pypi: LocalIndex, tmp_path: Path) -> None:
    [unpinned] = _lock(_env(tmp_path, "c2d-pure"), local_pypi, tmp_path)
    assert unpinned.file_name == "c2d_pure-1.1-py3-none-any.whl"  # the newest wheel
    sdist = next(local_pypi.files_dir.glob("c2d_pure-1.0.tar.gz"))
    spec = _env(tmp_path, f"c2d-pure --hash=sha256:{_sha(sdist)}")
    assert spec.pip[0].hashes == (f"sha256:{_sha(sdist)}",)
    [pinned] = _lock(spec, local_pypi, tmp_path)
    assert (pinned.version, pinned.file_name, pinned.sha256) == ("1.0", sdist.name, _sha(sdist))
    check_pip_hashes(spec, [pinned])


def test_a_hash_no_file_has_is_an_error_at_its_line(local_pypi: LocalIndex, tmp_path: Path) -> None:
    spec = _env(tmp_path, "c2d-pure==1.1 --hash=sha256:" + "0" * 64)
    with pytest.raises(ResolveError) as caught:
        _lock(spec, local_pypi, tmp_path)
    assert "no file of c2d-pure" in caught.value.message
    assert caught.value.location is not None and caught.value.location.line == 5
    assert "pip hash FILE" in (caught.value.fix or "")


def test_a_lock_whose_file_differs_is_an_error_naming_the_line(
    local_pypi: LocalIndex, tmp_path: Path
) -> None:
    wheel = next(local_pypi.files_dir.glob("c2d_pure-1.1-*.whl"))
    spec = _env(tmp_path, f"c2d-pure==1.1 --hash=sha256:{_sha(wheel)}")
    [locked] = _lock(spec, local_pypi, tmp_path)
    check_pip_hashes(spec, [locked])
    other = replace(locked, url=locked.url.replace(wheel.name, "c2d_pure-1.1.tar.gz"),
                    sha256="f" * 64)
    with pytest.raises(ResolveError) as caught:
        check_pip_hashes(spec, [other])
    line = caught.value.one_line()
    assert line.startswith(f"{tmp_path / 'environment.yml'}:5:")
    assert "c2d_pure-1.1.tar.gz" in line and "--update c2d-pure" in line


def test_only_non_sha256_hashes_cannot_be_checked(local_pypi: LocalIndex, tmp_path: Path) -> None:
    spec = _env(tmp_path, "c2d-pure==1.1 --hash=sha512:" + "a" * 128)
    with pytest.raises(ResolveError, match="no sha256 --hash"):
        _lock(spec, local_pypi, tmp_path)
