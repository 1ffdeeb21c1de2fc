"""PyPI wheels as conda packages, for the test channels: a small generic converter.

:func:`convert_wheels` turns a set of wheels (a whole dependency closure, already resolved and
pinned) into linux-64 conda packages for one CPython X.Y, the way a conda package of a Python
distribution is laid out:

* the wheel's files go into ``lib/pythonX.Y/site-packages``; its ``.data`` directory's schemes
  go where pip puts them (``purelib``/``platlib`` → site-packages, ``scripts`` → ``bin``,
  ``data`` → the prefix itself, so ``share/jupyter/...`` and ``etc/jupyter/...`` land in place,
  ``headers`` → ``include/pythonX.Y/<name>``);
* ``console_scripts`` and ``gui_scripts`` entry points become ``bin/`` scripts. conda-build
  writes them with the build prefix in the shebang and records it for the installer to
  replace; here each script finds its interpreter next to itself (a ``/bin/sh`` preamble that
  Python reads as a string), so no prefix is recorded and the package installs anywhere;
* ``depends``: ``python X.Y.*``, ``__glibc >=A.B`` for a manylinux wheel (its oldest tag), and
  every ``Requires-Dist`` whose marker holds for CPython X.Y on linux x86_64, under its conda
  name (:func:`conda2docker.names.pypi_to_conda`, e.g. ``typing-extensions`` →
  ``typing_extensions``) with its version specifier when conda reads it the same way; a
  requirement with extras (``jsonschema[format-nongpl]``) also depends on what those extras
  add, as conda-forge's ``*-with-*`` packages do;
* the ``.dist-info`` says ``INSTALLER: conda`` and its ``RECORD`` lists the installed paths
  (pip can uninstall or upgrade the package, as it can conda-forge's).

Deterministic: files are written in archive order, the timestamp is fixed
(``support.channel._ASSEMBLE_TIMESTAMP``), nothing is compiled. Every dependency must be one of
the converted packages or a name in ``provided`` (the channel's own ``python``, ``pip``, …),
else :class:`ValueError` names it: a closure with a hole fails at build time, not at a solve.
"""

from __future__ import annotations

import base64
import csv
import email.parser
import hashlib
import io
import shutil
import stat
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.tags import sys_tags
from packaging.utils import NormalizedName, canonicalize_name, parse_wheel_filename

from conda2docker.init.infer import conda_version
from conda2docker.names import pypi_to_conda

#: The ``/bin/sh`` preamble of an entry point script: the shell runs the ``exec`` line (the
#: python next to the script's real path), Python reads the two lines as a string.
LAUNCHER = (
    "#!/bin/sh\n"
    "'''exec' \"$(dirname -- \"$(readlink -f -- \"$0\")\")/python\" \"$0\" \"$@\"\n"
    "' '''\n"
)


@dataclass(frozen=True)
class Wheel:
    """A wheel's metadata, read once."""

    path: Path
    name: NormalizedName
    version: str
    requires: tuple[Requirement, ...]
    min_glibc: str | None

    @property
    def conda_name(self) -> str:
        return pypi_to_conda(self.name)


def _glibc(path: Path) -> str | None:
    """The oldest glibc among a manylinux wheel's tags (None for a pure or non-linux wheel)."""
    legacy = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}
    found: list[tuple[int, int]] = []
    for tag in parse_wheel_filename(path.name)[3]:
        platform = tag.platform
        if platform.startswith("manylinux_"):
            major, minor = platform.split("_")[1:3]
            found.append((int(major), int(minor)))
        elif platform.split("_", 1)[0] in legacy:
            found.append(legacy[platform.split("_", 1)[0]])
    return ".".join(map(str, min(found))) if found else None


def read_wheel(path: Path) -> Wheel:
    with zipfile.ZipFile(path) as archive:
        meta_name = next(n for n in archive.namelist()
                         if n.count("/") == 1 and n.endswith(".dist-info/METADATA"))
        meta = email.parser.BytesParser().parsebytes(archive.read(meta_name))
    requires = tuple(Requirement(r) for r in meta.get_all("Requires-Dist") or ())
    return Wheel(path, canonicalize_name(str(meta["Name"])), str(meta["Version"]), requires,
                 _glibc(path))


def _major_minor(python: str) -> str:
    return ".".join(python.split(".")[:2])


def marker_environment(python: str) -> dict[str, str]:
    """PEP 508 marker values of CPython ``python`` (X.Y.Z, or X.Y meaning X.Y.0) on linux
    x86_64."""
    full = python if python.count(".") >= 2 else f"{python}.0"
    return {
        "implementation_name": "cpython", "implementation_version": full,
        "os_name": "posix", "platform_machine": "x86_64", "platform_release": "",
        "platform_system": "Linux", "platform_version": "", "python_full_version": full,
        "platform_python_implementation": "CPython", "python_version": _major_minor(python),
        "sys_platform": "linux",
    }


def _applies(marker: Marker | None, env: Mapping[str, str], extra: str = "") -> bool:
    return marker is None or marker.evaluate({**env, "extra": extra})


def conda_depends(wheel: Wheel, wheels: Mapping[NormalizedName, Wheel], python: str) -> list[str]:
    """The conda ``depends`` of ``wheel`` (see the module docstring), sorted."""
    env = marker_environment(python)
    depends = {"python": f"python {_major_minor(python)}.*"}
    if wheel.min_glibc:
        depends["__glibc"] = f"__glibc >={wheel.min_glibc}"
    pending = [(r, "") for r in wheel.requires]
    seen_extras: set[tuple[str, str]] = set()
    while pending:
        requirement, extra = pending.pop(0)
        if not _applies(requirement.marker, env, extra):
            continue
        if extra and _applies(requirement.marker, env):
            continue  # not the extra's own: the package's, already among its depends
        name = canonicalize_name(requirement.name)
        conda_name = pypi_to_conda(name)
        version = conda_version(str(requirement.specifier)) if requirement.specifier else ""
        current = depends.get(conda_name)
        if current is None or current == conda_name:
            depends[conda_name] = f"{conda_name} {version}" if version else conda_name
        elif version:  # both ranges hold
            held = current.split(" ", 1)[1].split(",")
            depends[conda_name] = ",".join([current, *(v for v in version.split(",")
                                                       if v not in held)])
        for wanted in sorted(requirement.extras):
            key = (name, canonicalize_name(wanted))
            if key in seen_extras or name not in wheels:
                continue
            seen_extras.add(key)
            pending += [(r, key[1]) for r in wheels[name].requires]
    depends.pop(wheel.conda_name, None)
    return sorted(depends.values())


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def _entry_points(text: str) -> list[tuple[str, str]]:
    """(command, ``module:attr``) of the console and gui scripts of an entry_points.txt."""
    import configparser

    parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(text)
    found = []
    for group in ("console_scripts", "gui_scripts"):
        if parser.has_section(group):
            found += [(k.strip(), v.split("[", 1)[0].strip()) for k, v in parser.items(group)]
    return sorted(found)


def entry_point_script(target: str) -> str:
    """The ``bin/`` script of the entry point ``module:attr`` (``attr`` may be dotted)."""
    module, _, attr = target.partition(":")
    if not module or not attr:
        raise ValueError(f"entry point {target!r} is not module:attr")
    return (LAUNCHER + "import sys\n"
            + f"from {module} import {attr.split('.', 1)[0]}\n"
            + f"if __name__ == '__main__':\n    sys.exit({attr}())\n")


def _stage(wheel: Wheel, files: Path, python: str) -> None:
    """Lay the wheel's files out under ``files`` as installed in a prefix."""
    site = PurePosixPath("lib") / f"python{python}" / "site-packages"
    data_dir = f"{wheel.path.name.split('-')[0]}-{wheel.path.name.split('-')[1]}.data/"
    written: list[tuple[PurePosixPath, bytes]] = []
    dist_info = ""
    entry_points = ""

    def write(rel: PurePosixPath, data: bytes, executable: bool) -> None:
        target = files / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        target.chmod(0o755 if executable else 0o644)
        written.append((rel, data))

    with zipfile.ZipFile(wheel.path) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            name = info.filename
            data = archive.read(info)
            executable = bool((info.external_attr >> 16) & stat.S_IXUSR)
            if name.startswith(data_dir):
                scheme, _, rest = name[len(data_dir):].partition("/")
                if scheme in ("purelib", "platlib"):
                    rel = site / rest
                elif scheme == "scripts":
                    rel, executable = PurePosixPath("bin") / rest, True
                    if data.startswith(b"#!python"):
                        data = LAUNCHER.encode() + data.split(b"\n", 1)[1]
                elif scheme == "data":
                    rel = PurePosixPath(rest)
                elif scheme == "headers":
                    rel = PurePosixPath("include") / f"python{python}" / wheel.name / rest
                else:
                    raise ValueError(f"{wheel.path.name}: unknown .data scheme {scheme!r}")
                write(rel, data, executable)
                continue
            top = name.split("/", 1)[0]
            if top.endswith(".dist-info") and name.count("/") == 1:
                dist_info = top
                leaf = name.split("/", 1)[1]
                if leaf == "RECORD":
                    continue
                if leaf == "entry_points.txt":
                    entry_points = data.decode()
            write(site / name, data, executable)
    for command, target in _entry_points(entry_points):
        write(PurePosixPath("bin") / command, entry_point_script(target).encode(), True)
    write(site / dist_info / "INSTALLER", b"conda\n", False)
    record = io.StringIO()
    out = csv.writer(record, lineterminator="\n")
    site_depth = len(site.parts)
    for rel, data in written:
        shown = (rel.relative_to(site).as_posix() if rel.parts[:site_depth] == site.parts
                 else "/".join([".."] * site_depth + list(rel.parts)))
        out.writerow([shown, _record_hash(data), len(data)])
    out.writerow([f"{dist_info}/RECORD", "", ""])
    (files / site / dist_info / "RECORD").write_text(record.getvalue())


def download_wheels(cache_dir: Path, pins: Mapping[str, str]) -> dict[str, Path]:
    """The wheels of ``pins`` (``{name: version}``) from the cache of
    :func:`support.channel.pypi_downloads` (same directory, same lock), downloading the missing
    ones with a single ``pip download --no-deps --only-binary :all:`` (one process for a whole
    closure instead of one per wheel)."""
    import subprocess
    import sys
    import tempfile

    from support.channel import file_lock

    dl_dir = cache_dir / "pypi-downloads"
    dl_dir.mkdir(parents=True, exist_ok=True)

    here = set(sys_tags())

    def cached(name: str, version: str) -> list[Path]:
        prefix = f"{name.replace('-', '_')}-{version}-".lower()
        return sorted(p for p in dl_dir.glob("*.whl") if p.name.lower().startswith(prefix)
                      and here & parse_wheel_filename(p.name)[3])

    with file_lock(cache_dir / ".pypi-downloads.lock"):
        missing = [f"{n}=={v}" for n, v in pins.items() if not cached(n, v)]
        if missing:
            with tempfile.TemporaryDirectory(dir=dl_dir) as tmp:
                cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary",
                       ":all:", "--disable-pip-version-check", "-q", "-d", tmp, *missing]
                proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
                if proc.returncode:
                    raise RuntimeError(f"pip download of {len(missing)} wheels failed (PyPI is "
                                       f"needed once for a cold cache):\n{proc.stderr}")
                for whl in Path(tmp).glob("*.whl"):
                    whl.rename(dl_dir / whl.name)
        found = {}
        for name, version in pins.items():
            hits = cached(name, version)
            if not hits:
                raise RuntimeError(f"no wheel for {name}=={version} in {dl_dir}")
            found[name] = hits[0]
    return found


def convert_wheels(
    wheel_files: Iterable[Path], output_dir: Path, work: Path, *, python: str,
    provided: Iterable[str] = (), timestamp: object = None,
) -> list[Path]:
    """Convert every wheel (a closed set) to a linux-64 conda package in ``output_dir/linux-64``.

    ``python``: the channel's CPython, X.Y.Z (markers are evaluated for it) or X.Y.
    ``provided``: conda names already in the channel that dependencies may name. Returns the
    packages written.
    """
    from rattler_build import assemble_package

    wheels = {w.name: w for w in map(read_wheel, wheel_files)}
    known = set(provided) | {w.conda_name for w in wheels.values()} | {"python", "__glibc"}
    depends = {name: conda_depends(w, wheels, python) for name, w in wheels.items()}
    missing = sorted({f"{d.split()[0]} (of {n})" for n, ds in depends.items() for d in ds
                      if d.split()[0] not in known})
    if missing:
        raise ValueError(f"dependencies outside the converted set: {', '.join(missing)}")
    (output_dir / "linux-64").mkdir(parents=True, exist_ok=True)
    built = []
    for name in sorted(wheels):
        wheel = wheels[name]
        files = work / f"{name}-files"
        _stage(wheel, files, _major_minor(python))
        out = assemble_package(
            name=wheel.conda_name, version=wheel.version, target_platform="linux-64",
            build_string=f"py{_major_minor(python).replace('.', '')}_0", output_dir=output_dir / "linux-64",
            files_dir=files, depends=depends[name], timestamp=timestamp,  # type: ignore[arg-type]
            summary=f"{wheel.name} {wheel.version}, from its PyPI wheel (conda2docker tests)",
            detect_prefix=False, compression_level=3,
        )
        shutil.rmtree(files)
        built.append(Path(out.path))
    return built
