"""What the environment's conda packages already provide to pip."""

from __future__ import annotations

from collections.abc import Iterable

from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from conda2docker.model import LockedPackage
from conda2docker.names import conda_to_pypi, is_mapped_conda_name, pypi_to_conda
from conda2docker.values import frozen

# -- what the conda packages provide -----------------------------------------------------


@frozen
class CondaProvided:
    """A distribution the conda packages already install."""
    conda_name: str
    version: str

    @property
    def parsed(self) -> Version | None:
        try:
            return Version(self.version)
        except InvalidVersion:
            return None

    def satisfies(self, specifier: SpecifierSet) -> bool:
        parsed = self.parsed
        return parsed is None or specifier.contains(parsed, prereleases=True)


def conda_provides(packages: Iterable[LockedPackage]) -> dict[NormalizedName, CondaProvided]:
    """PyPI distributions the conda packages install, by canonical PyPI name.

    A conda package counts when the grayskull table names it, or it depends on python, or
    its dependencies are unknown (explicit locks); never ``python`` itself, and never when
    its PyPI name belongs to another conda package (conda ``tzdata`` ≠ PyPI ``tzdata``).
    """
    provided: dict[NormalizedName, CondaProvided] = {}
    for pkg in packages:
        if pkg.manager != "conda" or pkg.name == "python" or pkg.name.startswith("__"):
            continue
        pypi = canonicalize_name(conda_to_pypi(pkg.name))
        if canonicalize_name(pypi_to_conda(pypi)) != canonicalize_name(pkg.name):
            continue
        pythonic = any(dep in ("python", "python_abi") for dep in pkg.dependencies)
        if is_mapped_conda_name(pkg.name) or pythonic or not pkg.dependencies:
            provided[pypi] = CondaProvided(pkg.name, pkg.version)
    return provided


