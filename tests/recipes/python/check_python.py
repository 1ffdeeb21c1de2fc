"""Checks run against an installed `python` test package (recipe tests and tests/test_support_*).

Usage: python check_python.py [EXPECTED_VERSION] [--moved]. Prints one JSON line; exits non-zero
on failure. --moved: the prefix was moved after installation, so sysconfig's recorded prefix (set
at install time) is expected to be stale.
"""

import ctypes
import json
import os
import platform
import sqlite3
import ssl
import sys
import sysconfig
import zlib
from pathlib import Path


def mapped_libraries() -> list[str]:
    """Shared objects mapped into this process (Linux /proc/self/maps)."""
    with Path("/proc/self/maps").open() as fh:
        paths = {line.split()[-1] for line in fh if ".so" in line}
    return sorted(paths)


def main() -> int:
    import _ctypes  # noqa: F401  (libffi)
    import bz2  # noqa: F401
    import hashlib
    import lzma  # noqa: F401

    prefix = os.path.realpath(sys.prefix)
    libs = mapped_libraries()
    needs_bundle = ("libssl", "libcrypto", "libsqlite3", "libffi", "libpython")
    outside = [
        p
        for p in libs
        if Path(p).name.startswith(needs_bundle) and not Path(p).resolve().is_relative_to(prefix)
    ]
    report = {
        "version": platform.python_version(),
        "prefix": sys.prefix,
        "executable": sys.executable,
        "openssl": ssl.OPENSSL_VERSION,
        "sqlite": sqlite3.sqlite_version,
        "ctypes": ctypes.sizeof(ctypes.c_void_p),
        "zlib": zlib.ZLIB_RUNTIME_VERSION,
        "sha256": hashlib.sha256(b"").hexdigest()[:8],
        "sysconfig_prefix": sysconfig.get_config_var("prefix"),
        "libs_outside_prefix": outside,
    }
    print(json.dumps(report))
    errors = []
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    moved = "--moved" in sys.argv[1:]
    if args and report["version"] != args[0]:
        errors.append(f"version {report['version']} != {args[0]}")
    if outside:
        errors.append(f"libraries loaded from outside the prefix: {outside}")
    if not moved and os.path.realpath(sysconfig.get_config_var("prefix")) != prefix:
        errors.append(f"sysconfig prefix {sysconfig.get_config_var('prefix')!r} != {prefix!r}")
    for e in errors:
        print("ERROR:", e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
