"""The reference for `lock` and `convert`: a bare py-rattler solve of an environment file's
conda specs, as a whole process.

    python benchmarks/bare_solve.py ENV_FILE CHANNEL_ROOT [PLATFORM]

It reads the file with PyYAML's C loader, turns each string dependency into a MatchSpec,
maps every channel name to CHANNEL_ROOT/<name> (as ``--channel-alias`` does), and solves
for PLATFORM (linux-64) with the same container virtual packages conda2docker uses. No
validation, no lock, no output but the number of records: the least any tool must do.
Imports nothing from conda2docker, so its start-up is the solver's alone.
"""

from __future__ import annotations

import asyncio
import os
import sys


def main(env_file: str, channel_root: str, platform: str = "linux-64") -> int:
    import yaml
    from rattler import (
        BuildString,
        Channel,
        GenericVirtualPackage,
        MatchSpec,
        PackageName,
        Version,
        solve,
    )

    with open(env_file, encoding="utf-8") as handle:
        data = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    channels = [Channel(f"{channel_root.rstrip('/')}/{name}")
                for name in data.get("channels") or ["conda-forge"] if name != "nodefaults"]
    specs = [MatchSpec(d, strict=False) for d in data.get("dependencies") or [] if isinstance(d, str)]
    machine = {"linux-64": "x86_64", "linux-aarch64": "aarch64", "linux-ppc64le": "ppc64le"}[platform]
    virtual = [GenericVirtualPackage(PackageName(n), Version(v), BuildString(b)) for n, v, b in (
        ("__unix", "0", "0"), ("__linux", "5.15", "0"), ("__glibc", "2.36", "0"),
        ("__archspec", "1", machine))]
    records = asyncio.run(solve(sources=channels, specs=specs, platforms=[platform, "noarch"],
                                virtual_packages=virtual, timestamp_policy="allow-missing"))
    print(len(records))
    return 0


if __name__ == "__main__":
    code = main(*sys.argv[1:])
    sys.stdout.flush()
    os._exit(code)  # as conda2docker does once rattler's runtime is loaded
