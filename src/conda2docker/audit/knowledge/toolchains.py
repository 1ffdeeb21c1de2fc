"""What building a Python package from source needs: compilers and -dev headers.

From the package name (a table of well-known packages) and, for local trees, from the
files found there. The apt names are Debian bookworm's.
"""

from __future__ import annotations

from collections.abc import Iterable

from conda2docker.cuda.facts import CUDA_EXTENSIONS
from conda2docker.names import canonical
from conda2docker.values import frozen

TOOLCHAIN_APT: dict[str, tuple[str, ...]] = {
    "c": ("build-essential",),
    "c++": ("build-essential",),
    "fortran": ("gfortran",),
    "rust": ("cargo", "rustc"),
    "cmake": ("cmake",),
    "meson": ("meson", "ninja-build"),
    "cython": (),
    "cuda": (),
}
"""apt packages for each toolchain; cython comes from PyPI (build isolation), nvcc from a CUDA devel base."""

_KNOWN: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # name: (toolchains, -dev headers and tools)
    "cartopy": (("c++",), ("libgeos-dev", "libproj-dev")),
    "cffi": (("c",), ("libffi-dev",)),
    "cryptography": (("rust", "c"), ("libssl-dev", "libffi-dev", "pkg-config")),
    "dbus-python": (("c",), ("libdbus-1-dev", "libglib2.0-dev", "pkg-config")),
    "dlib": (("c++", "cmake"), ("libopenblas-dev",)),
    "fiona": (("c++",), ("libgdal-dev",)),
    "gdal": (("c++",), ("libgdal-dev",)),
    "gssapi": (("c",), ("libkrb5-dev",)),
    "h5py": (("c", "cython"), ("libhdf5-dev", "pkg-config")),
    "htseq": (("c++", "cython"), ()),
    "jiter": (("rust",), ()),
    "lightgbm": (("c++", "cmake"), ()),
    "llama-cpp-python": (("c++", "cmake"), ()),
    "lxml": (("c", "cython"), ("libxml2-dev", "libxslt1-dev")),
    "mpi4py": (("c",), ("libopenmpi-dev",)),
    "mysqlclient": (("c",), ("default-libmysqlclient-dev", "pkg-config")),
    "netcdf4": (("c", "cython"), ("libnetcdf-dev", "libhdf5-dev")),
    "orjson": (("rust",), ()),
    "pillow": (("c",), ("libjpeg-dev", "zlib1g-dev")),
    "polars": (("rust",), ()),
    "psycopg2": (("c",), ("libpq-dev",)),
    "pyaudio": (("c",), ("portaudio19-dev",)),
    "pycairo": (("c",), ("libcairo2-dev", "pkg-config")),
    "pycurl": (("c",), ("libcurl4-openssl-dev", "libssl-dev")),
    "pydantic-core": (("rust",), ()),
    "pygobject": (("c",), ("libgirepository1.0-dev", "libcairo2-dev", "pkg-config")),
    "pygraphviz": (("c",), ("graphviz-dev",)),
    "pyodbc": (("c++",), ("unixodbc-dev",)),
    "pyproj": (("c", "cython"), ("libproj-dev", "proj-bin")),
    "pysam": (("c", "cython"), ("zlib1g-dev", "libbz2-dev", "liblzma-dev", "libcurl4-openssl-dev")),
    "python-ldap": (("c",), ("libldap2-dev", "libsasl2-dev")),
    "python-snappy": (("c++",), ("libsnappy-dev",)),
    "pyzmq": (("c++", "cython"), ("libzmq3-dev",)),
    "rasterio": (("c++", "cython"), ("libgdal-dev",)),
    "rpds-py": (("rust",), ()),
    "safetensors": (("rust",), ()),
    "scipy": (("c", "c++", "fortran", "cython"), ("libopenblas-dev", "pkg-config")),
    "shapely": (("c", "cython"), ("libgeos-dev",)),
    "tiktoken": (("rust",), ()),
    "tokenizers": (("rust",), ()),
    "watchfiles": (("rust",), ()),
    "xmlsec": (("c",), ("libxmlsec1-dev", "pkg-config")),
}

_BUILD_HINTS: dict[str, tuple[str, ...]] = {
    # a requirement that betrays the build system → toolchains
    "cython": ("c", "cython"),
    "pybind11": ("c++",),
    "nanobind": ("c++",),
    "setuptools-rust": ("rust",),
    "maturin": ("rust",),
    "scikit-build": ("c++", "cmake"),
    "scikit-build-core": ("c++", "cmake"),
    "cmake": ("cmake",),
    "numpy": ("c",),
    "cffi": ("c",),
    "torch": ("c++",),
}


@frozen
class BuildNeeds:
    """Toolchains and apt packages a source build needs, and how we know."""

    toolchains: tuple[str, ...]
    apt: tuple[str, ...]
    basis: str

    def describe(self) -> str:
        tools = ", ".join(self.toolchains) or "no compiler (pure Python)"
        return f"{tools}; apt: {' '.join(self.apt) or '-'} ({self.basis})"


def _needs(toolchains: Iterable[str], extra_apt: Iterable[str], basis: str) -> BuildNeeds:
    chains = tuple(sorted(set(toolchains)))
    apt = {a for chain in chains for a in TOOLCHAIN_APT.get(chain, ())} | set(extra_apt)
    return BuildNeeds(chains, tuple(sorted(apt)), basis)


def build_needs(
    name: str, requires: Iterable[str] = (), *, local: Iterable[str] | None = None
) -> BuildNeeds:
    """What building ``name`` from source needs.

    ``requires`` are its declared requirements (lock ``dependencies``); ``local`` the
    toolchains found in a local source tree. Unknown packages are assumed to carry a C
    extension: the wheels stage gets a compiler, the runtime stage never does.
    """
    key = canonical(name)
    if key in CUDA_EXTENSIONS:
        return _needs(("c++", "cuda"), (), "a CUDA extension")
    if key in _KNOWN:
        chains, apt = _KNOWN[key]
        return _needs(chains, apt, "known package")
    if local is not None:
        return _needs(local, (), "found in its source tree")
    hinted = {c for req in requires for c in _BUILD_HINTS.get(canonical(req), ())}
    if hinted:
        return _needs(hinted, (), "from its requirements")
    return _needs(("c",), (), "assumed: may have a C extension")


def sdist_needs(name: str, toolchains: Iterable[str]) -> BuildNeeds:
    """What building ``name`` needs when its exact pin was checked for an sdist: the toolchains
    found in the sdist, plus the -dev headers the table knows for it. No toolchain: pure
    Python, no apt. A package the table knows (CUDA extensions included) is never looked into
    (:mod:`conda2docker.sdist_check` takes the table's toolchains), and the basis says so."""
    chains = set(toolchains)
    key = canonical(name)
    extra = _KNOWN[key][1] if key in _KNOWN and chains else ()
    if not chains:
        basis = "pure Python (its sdist)"
    elif key in CUDA_EXTENSIONS:
        basis = "a CUDA extension"
    elif key in _KNOWN:
        basis = "known package"
    else:
        basis = "found in its sdist"
    return _needs(chains, extra, basis)


def known_toolchains(name: str) -> tuple[str, ...] | None:
    """The toolchains the table knows ``name`` to need (CUDA extensions included), else None."""
    key = canonical(name)
    if key in CUDA_EXTENSIONS:
        return ("c++", "cuda")
    return tuple(sorted(_KNOWN[key][0])) if key in _KNOWN else None
