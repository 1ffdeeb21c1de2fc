"""What ``conda2docker verify`` checks in a built image, and how it judges what it saw.

Pure: no engine, no I/O. :mod:`conda2docker.engine.verify` gathers the facts inside the
image (with :mod:`conda2docker.engine.probe`) and hands them here; everything that decides
pass / warn / fail / skip, and the report's JSON and table forms, lives in this module so it can be
tested without an engine.

The JSON report (``--format json``) is documented in ``docs/verify.md``; :data:`SCHEMA` names
its version.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import field
from typing import Any, Literal

from packaging.utils import canonicalize_name

from conda2docker import image as contract
from conda2docker.activation import Activation
from conda2docker.values import frozen

SCHEMA = "conda2docker.verify/1"

Status = Literal["pass", "warn", "fail", "skip"]

#: Compilers that must not be in a runtime image (on PATH or in the prefix).
COMPILERS: tuple[str, ...] = (
    "gcc", "cc", "g++", "c++", "gfortran", "nvcc", "clang",
    "x86_64-conda-linux-gnu-gcc", "x86_64-conda-linux-gnu-cc", "x86_64-conda-linux-gnu-g++",
    "aarch64-conda-linux-gnu-gcc", "powerpc64le-conda-linux-gnu-gcc",
)
#: Compiler-looking files in the prefix, relative to it (conda's cross-compiler names).
COMPILER_GLOBS: tuple[str, ...] = (
    "bin/*-conda-linux-gnu-gcc", "bin/*-conda-linux-gnu-cc", "bin/*-conda-linux-gnu-g++",
    "bin/*-conda-linux-gnu-gfortran", "bin/nvcc", "targets/*/bin/nvcc",
)
#: Flags an entry point may be run with: nothing else is ever passed.
SAFE_FLAGS: tuple[str, ...] = ("--version", "--help")
#: Console scripts never run (they ignore the flags above, or start a long-lived process).
UNSAFE_ENTRY_POINTS: frozenset[str] = frozenset({"jupyter-lab", "jupyter-notebook", "ipython", "ipython3"})
DEFAULT_TIMEOUT = 20.0


def cache_paths(prefix: str, home: str | None = None) -> tuple[str, ...]:
    """Package and download caches a runtime image must not carry."""
    paths = [
        contract.CONDA_PKGS_DIR, f"{prefix}/pkgs", contract.PIP_CACHE, "/root/.cache/rattler",
        "/root/.cache/mamba", "/root/.cache/conda", "/root/.conda/pkgs",
    ]
    if home and home not in ("/", "/root"):
        paths += [f"{home}/.cache/pip", f"{home}/.cache/rattler", f"{home}/.conda/pkgs"]
    return tuple(dict.fromkeys(paths))


#: What the build left in /tmp or beside the prefix that a runtime must not carry.
SOURCE_PATHS: tuple[str, ...] = contract.BUILD_LEFTOVERS


@frozen
class ImageFacts:
    """What ``verify`` reads from an image's configuration, through the image contract."""

    prefix: str
    platform: str
    user: str
    label_digest: str | None
    variant: str | None
    cache_paths: tuple[str, ...]

    @property
    def python(self) -> str:
        return f"{self.prefix}/bin/python"

    @property
    def dockerfile(self) -> str:
        """The Dockerfile of the context that built this image (by its variant label)."""
        return contract.dockerfile_name(self.variant)


def image_facts(config: Mapping[str, Any], architecture: str, prefix: str | None = None) -> ImageFacts:
    """Read an image's ``Config`` (Env, Labels, User) and ``Architecture`` by the contract."""
    from conda2docker.platforms import platform_of_image

    env = dict(str(item).partition("=")[::2] for item in config.get("Env") or [])
    labels = dict(config.get("Labels") or {})
    chosen = prefix or env.get("CONDA_PREFIX") or contract.PREFIX
    return ImageFacts(
        prefix=chosen,
        platform=platform_of_image(architecture),
        user=str(config.get("User") or ""),
        label_digest=labels.get(contract.LABEL_LOCK_SHA256),
        variant=labels.get(contract.LABEL_VARIANT),
        cache_paths=(*cache_paths(chosen, contract.home_dir()), f"{contract.home_dir('*')}/.cache/pip"),
    )


# --------------------------------------------------------------------------- results


@frozen
class Check:
    """One judged check. ``id`` is unique in a report, e.g. ``import:c2d-pure``."""

    id: str
    kind: str
    subject: str
    status: Status
    detail: str
    data: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "subject": self.subject, "status": self.status,
                "detail": self.detail, "data": dict(self.data)}


@frozen
class Layer:
    """One entry of ``image.history()`` with the stage it is attributed to."""

    id: str
    created_by: str
    size: int
    stage: str

    @property
    def instruction(self) -> str:
        return short_instruction(self.created_by)


@frozen
class StageSize:
    """An intermediate stage image built with ``target=``."""

    name: str
    base: str
    image_id: str
    size: int
    added: int | None


@frozen
class SizeReport:
    """An image's size, its base's and its largest layers."""
    total: int
    base: str | None
    base_size: int
    layers: tuple[Layer, ...]
    stages: tuple[StageSize, ...] = ()

    @property
    def own_size(self) -> int:
        return self.total - self.base_size

    def by_stage(self) -> dict[str, int]:
        totals: dict[str, int] = {"base": self.base_size}
        for layer in self.layers:
            if layer.stage != "base":
                totals[layer.stage] = totals.get(layer.stage, 0) + layer.size
        return totals

    def as_json(self) -> dict[str, Any]:
        return {
            "total_bytes": self.total,
            "base": {"image": self.base, "bytes": self.base_size},
            "own_bytes": self.own_size,
            "by_stage": self.by_stage(),
            "layers": [
                {"id": layer.id, "stage": layer.stage, "instruction": layer.instruction,
                 "bytes": layer.size}
                for layer in self.layers if layer.stage != "base"
            ],
            "stages": [
                {"name": s.name, "base": s.base, "image_id": s.image_id, "size_bytes": s.size,
                 "added_bytes": s.added}
                for s in self.stages
            ],
        }


@frozen
class Report:
    """The results of ``verify`` for one image."""
    image: Mapping[str, Any]
    lock: Mapping[str, Any]
    checks: tuple[Check, ...]
    sizes: SizeReport | None

    @property
    def ok(self) -> bool:
        return not any(c.status == "fail" for c in self.checks)

    def counts(self) -> dict[str, int]:
        counts = {"pass": 0, "warn": 0, "fail": 0, "skip": 0}
        for check in self.checks:
            counts[check.status] += 1
        return counts

    def as_json(self) -> dict[str, Any]:
        counts = self.counts()
        return {
            "schema": SCHEMA,
            "image": dict(self.image),
            "lock": dict(self.lock),
            "checks": [c.as_json() for c in self.checks],
            "sizes": self.sizes.as_json() if self.sizes else None,
            "summary": {"ok": self.ok, "passed": counts["pass"], "warned": counts["warn"],
                        "failed": counts["fail"], "skipped": counts["skip"]},
        }


# --------------------------------------------------------------------------- packages


@frozen
class Expected:
    """A package the lock (or the image's own records) says is installed."""

    name: str
    version: str
    manager: Literal["conda", "pip"]
    build: str | None = None


def expected_from_lock(packages: Iterable[Any]) -> tuple[Expected, ...]:
    """From :class:`conda2docker.model.LockedPackage` objects of one platform."""
    return tuple(
        Expected(p.name, p.version, "pip" if p.manager == "pip" else "conda", p.build)
        for p in packages
    )


def expected_from_facts(facts: Mapping[str, Any]) -> tuple[Expected, ...]:
    """What the image itself records: conda-meta, plus dist-infos no conda package owns."""
    records = list(facts.get("conda_meta", []))
    owned = {d for r in records for d in r.get("dist_infos", [])}
    out = [Expected(r["name"], r["version"], "conda", r.get("build") or None) for r in records]
    out += [
        Expected(d["name"] or d["dir"].split("-")[0], d["version"], "pip")
        for d in facts.get("dist_infos", []) if d["dir"] not in owned
    ]
    return tuple(out)


def _dist_index(facts: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    index: dict[str, Mapping[str, Any]] = {}
    for dist in facts.get("dist_infos", []):
        name = dist.get("name") or dist["dir"].rsplit("-", 1)[0]
        index.setdefault(canonicalize_name(name), dist)
    return index


def _conda_index(facts: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {r["name"]: r for r in facts.get("conda_meta", [])}


def judge_lock(
    expected: Sequence[Expected],
    facts: Mapping[str, Any],
    *,
    label: str | None,
    lock_sha256: str | None,
) -> Check:
    """Every locked package is installed at its locked version (and build, for conda)."""
    conda, dists = _conda_index(facts), _dist_index(facts)
    missing: list[str] = []
    different: list[str] = []
    for package in expected:
        if package.manager == "conda":
            record = conda.get(package.name)
            if record is None:
                missing.append(package.name)
            elif record["version"] != package.version or (
                package.build and record.get("build") and record["build"] != package.build
            ):
                different.append(f"{package.name} {record['version']}-{record.get('build')} "
                                 f"(lock: {package.version}-{package.build})")
        else:
            dist = dists.get(canonicalize_name(package.name))
            if dist is None:
                missing.append(package.name)
            elif package.version and not _same_version(dist["version"], package.version):
                different.append(f"{package.name} {dist['version']} (lock: {package.version})")
    problems = []
    if missing:
        problems.append("not installed: " + ", ".join(sorted(missing)))
    if different:
        problems.append("different: " + "; ".join(sorted(different)))
    if lock_sha256 is not None and label is not None and label != lock_sha256:
        problems.append(f"image label {contract.LABEL_LOCK_SHA256}={label[:12]}… but the lock "
                        f"file hashes to {lock_sha256[:12]}…")
    n_conda = sum(p.manager == "conda" for p in expected)
    data = {"missing": sorted(missing), "different": sorted(different), "conda": n_conda,
            "pip": len(expected) - n_conda}
    if problems:
        return Check("lock", "lock", "lock", "fail", "; ".join(problems), data)
    return Check("lock", "lock", "lock", "pass",
                 f"{n_conda} conda + {len(expected) - n_conda} pip packages installed as locked", data)


def _same_version(a: str, b: str) -> bool:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


@frozen
class ImportPlan:
    """What to import for one package, or why nothing is imported."""

    package: str
    manager: str
    modules: tuple[str, ...]
    source: str
    skip: str | None = None
    dist_dirs: tuple[str, ...] = ()


def _public(names: Iterable[str]) -> tuple[str, ...]:
    names = [n for n in dict.fromkeys(names) if n.isidentifier()]
    public = [n for n in names if not n.startswith("_")]
    return tuple(public or names)


def plan_imports(
    expected: Sequence[Expected],
    facts: Mapping[str, Any],
    fallback: Any = None,
) -> list[ImportPlan]:
    """The import names of every Python package in ``expected``.

    From the image's metadata: a dist-info's ``top_level.txt``, else its ``RECORD``, else the
    ``site-packages`` files of the conda package. ``fallback(pypi_name) -> tuple[str, ...]``
    (``names.import_names``) is used only for a Python package whose metadata lists no files.
    """
    if fallback is None:
        from conda2docker.names import import_names as fallback
    conda, dists = _conda_index(facts), _dist_index(facts)
    by_dir = {d["dir"]: d for d in facts.get("dist_infos", [])}
    plans: list[ImportPlan] = []
    for package in expected:
        if package.manager == "conda":
            record = conda.get(package.name)
            if record is None:
                plans.append(ImportPlan(package.name, "conda", (), "", skip="not installed"))
                continue
            owned = [by_dir[d] for d in record.get("dist_infos", []) if d in by_dir]
            modules = _public(m for d in owned for m in (d["top_level"] or d["record_top"]))
            source = "top_level.txt/RECORD" if modules else ""
            if not modules and record.get("site_top"):
                modules, source = _public(record["site_top"]), "conda-meta files"
            if not modules and record.get("file_count", 0) == 0 and "python" in record.get("depends", ()):
                from conda2docker.names import conda_to_pypi

                modules, source = tuple(fallback(conda_to_pypi(package.name))), "name map"
            if not modules:
                reason = "no importable module" if owned else "no Python module (not a Python package)"
                plans.append(ImportPlan(package.name, "conda", (), "", skip=reason))
                continue
            plans.append(ImportPlan(package.name, "conda", modules, source,
                                    dist_dirs=tuple(d["dir"] for d in owned)))
        else:
            dist = dists.get(canonicalize_name(package.name))
            if dist is None:
                plans.append(ImportPlan(package.name, "pip", (), "", skip="not installed"))
                continue
            modules = _public(dist["top_level"] or dist["record_top"])
            source = "top_level.txt" if dist["top_level"] else "RECORD"
            if not modules and not dist["record_top"] and not dist.get("has_record", True):
                modules, source = tuple(fallback(package.name)), "name map"
            if not modules:
                plans.append(ImportPlan(package.name, "pip", (), "", skip="no importable module",
                                        dist_dirs=(dist["dir"],)))
                continue
            plans.append(ImportPlan(package.name, "pip", modules, source, dist_dirs=(dist["dir"],)))
    return plans


IMPORT_PROGRAM = "import importlib, sys\nfor m in sys.argv[1:]:\n    importlib.import_module(m)\n"


def import_command(python: str, plan: ImportPlan, timeout: float) -> dict[str, Any]:
    return {"id": f"import:{plan.package}", "argv": [python, "-c", IMPORT_PROGRAM, *plan.modules],
            "timeout": timeout}


def judge_import(plan: ImportPlan, result: Mapping[str, Any] | None) -> Check:
    cid = f"import:{plan.package}"
    data = {"modules": list(plan.modules), "source": plan.source, "manager": plan.manager}
    if plan.skip:
        return Check(cid, "import", plan.package, "skip", plan.skip, data)
    if result is None:
        return Check(cid, "import", plan.package, "fail", "the import was not run", data)
    modules = ", ".join(plan.modules)
    if result.get("timed_out"):
        return Check(cid, "import", plan.package, "fail", f"import {modules} timed out", data)
    if result.get("code") == 0:
        return Check(cid, "import", plan.package, "pass", f"import {modules}", data)
    return Check(cid, "import", plan.package, "fail",
                 f"import {modules} failed: {last_line(result.get('output', ''))}", data)


# --------------------------------------------------------------------------- entry points


@frozen
class EntryPoint:
    """A console script a locked package declares."""
    name: str
    target: str
    package: str


def entry_points(plans: Sequence[ImportPlan], facts: Mapping[str, Any]) -> list[EntryPoint]:
    """Console scripts declared by the Python packages of the lock (from ``entry_points.txt``)."""
    by_dir = {d["dir"]: d for d in facts.get("dist_infos", [])}
    found: dict[str, EntryPoint] = {}
    for plan in plans:
        for directory in plan.dist_dirs:
            dist = by_dir.get(directory)
            for name, target in (dist or {}).get("console_scripts", []):
                found.setdefault(name, EntryPoint(name, target, plan.package))
    return sorted(found.values(), key=lambda e: e.name)


def entry_point_commands(prefix: str, point: EntryPoint, timeout: float) -> list[dict[str, Any]]:
    return [
        {"id": f"entry:{point.name}:{flag}", "argv": [f"{prefix}/bin/{point.name}", flag],
         "timeout": timeout}
        for flag in SAFE_FLAGS
    ]


def judge_entry_point(
    point: EntryPoint, results: Mapping[str, Mapping[str, Any]], skip: Iterable[str] = ()
) -> Check:
    cid = f"entry:{point.name}"
    data: dict[str, Any] = {"package": point.package, "target": point.target}
    if point.name in UNSAFE_ENTRY_POINTS or point.name in set(skip):
        return Check(cid, "entry-point", point.name, "skip", "not run (on the skip list)", data)
    tried = []
    for flag in SAFE_FLAGS:
        result = results.get(f"entry:{point.name}:{flag}")
        if result is None:
            continue
        if result.get("code") == 0:
            data["flag"] = flag
            return Check(cid, "entry-point", point.name, "pass",
                         f"{point.name} {flag}: {last_line(result.get('output', '')) or 'exit 0'}", data)
        if result.get("code") == 127:
            return Check(cid, "entry-point", point.name, "fail",
                         f"{point.name} is declared by {point.package} but not installed", data)
        outcome = "timed out" if result.get("timed_out") else f"exit {result.get('code')}"
        tried.append(f"{flag}: {outcome} ({last_line(result.get('output', ''))})")
    if not tried:
        return Check(cid, "entry-point", point.name, "fail", "was not run", data)
    return Check(cid, "entry-point", point.name, "fail", "; ".join(tried), data)


# --------------------------------------------------------------------------- the image


def judge_python(facts: Mapping[str, Any] | None, prefix: str, error: str | None = None) -> Check:
    if facts is None:
        return Check("python", "python", prefix, "fail",
                     f"the environment's Python did not run: {error or 'no output'}")
    python = facts.get("python", {})
    data = dict(python)
    if python.get("prefix") != prefix:
        return Check("python", "python", prefix, "fail",
                     f"sys.prefix is {python.get('prefix')!r}, expected {prefix!r}", data)
    return Check("python", "python", prefix, "pass",
                 f"Python {python.get('version')} at {python.get('executable')}", data)


def judge_user(config_user: str, identity: Mapping[str, Any] | None) -> Check:
    data = {"config_user": config_user, **(identity or {})}
    if identity is None:
        if config_user in ("", "0", "root") or config_user.startswith(("0:", "root:")):
            return Check("user", "user", config_user or "root", "fail",
                         "the image runs as root (no USER)", data)
        return Check("user", "user", config_user, "skip", "could not run a probe as the image's user", data)
    uid, name = identity.get("uid"), identity.get("name") or "?"
    if uid == 0:
        return Check("user", "user", "root", "fail", "the image runs as root: add a USER", data)
    if not identity.get("name"):
        return Check("user", "user", str(uid), "fail",
                     f"uid {uid} has no /etc/passwd entry (tools calling getpwuid break)", data)
    home = identity.get("home") or "?"
    writable = "writable" if identity.get("home_writable") else "NOT writable"
    return Check("user", "user", name, "pass", f"uid {uid} ({name}), home {home} {writable}", data)


def judge_activation(activation: Activation | None, error: str | None = None) -> Check:
    """The image's ``ENV`` against what the packages' activate.d scripts set when sourced in
    the image: a variable they would still change is missing (or wrong) in the image."""
    if activation is None:
        return Check("activation", "activation", "activate.d", "warn",
                     f"the activation scripts could not be evaluated: {error or 'no output'}")
    data = {"scripts": list(activation.scripts), "set": dict(activation.set), "unset": list(activation.unset)}
    if not activation.scripts:
        return Check("activation", "activation", "activate.d", "skip",
                     "no etc/conda/activate.d scripts in the environment", data)
    missing = [f"{name}={value}" for name, value in activation.set] + [f"-{n}" for n in activation.unset]
    if missing:
        return Check("activation", "activation", "activate.d", "fail",
                     f"the image's ENV differs from what its {len(activation.scripts)} activate.d "
                     f"script(s) set: {', '.join(missing)}; fix: convert again with --vendor (it "
                     "measures them) or set these with ENV", data)
    return Check("activation", "activation", "activate.d", "pass",
                 f"{len(activation.scripts)} activate.d script(s) sourced: the image's ENV already "
                 "holds what they set", data)


def judge_compilers(facts: Mapping[str, Any]) -> Check:
    found = [c["path"] for c in facts.get("compilers", [])]
    if found:
        return Check("compilers", "hygiene", "compilers", "fail",
                     "compilers in the runtime: " + ", ".join(found), {"found": found})
    return Check("compilers", "hygiene", "compilers", "pass",
                 "no compiler on PATH or in the prefix", {"found": []})


def judge_caches(facts: Mapping[str, Any], caches: Iterable[str]) -> Check:
    cache_set = set(caches)
    present = [p for p in facts.get("present", []) if p["path"] in cache_set]
    archives = list(facts.get("archives", []))
    data = {"present": present, "archives": archives}
    if present or archives:
        parts = [f"{p['path']} ({human(p['bytes'])})" for p in present]
        if archives:
            parts.append(f"{len(archives)} package archive(s), e.g. {archives[0]}")
        return Check("caches", "hygiene", "caches", "fail", "package caches: " + ", ".join(parts), data)
    return Check("caches", "hygiene", "caches", "pass", "no package caches or archives", data)


def judge_sources(facts: Mapping[str, Any], sources: Iterable[str] = SOURCE_PATHS) -> Check:
    source_set = set(sources)
    present = [p for p in facts.get("present", []) if p["path"] in source_set]
    if present:
        return Check("sources", "hygiene", "build sources", "fail",
                     "build leftovers: " + ", ".join(f"{p['path']} ({human(p['bytes'])})" for p in present),
                     {"present": present})
    return Check("sources", "hygiene", "build sources", "pass",
                 "no build sources (" + ", ".join(sorted(source_set)) + ")", {"present": []})


def judge_gpu(
    variant: str | None,
    runtimes: Iterable[str],
    results: Mapping[str, Mapping[str, Any]] | None,
) -> Check:
    runtimes = sorted(runtimes)
    data: dict[str, Any] = {"variant": variant, "runtimes": runtimes}
    if variant != "gpu":
        return Check("gpu", "gpu", "cuda", "skip", f"{variant or 'unknown'} variant: no GPU expected", data)
    if "nvidia" not in runtimes:
        return Check("gpu", "gpu", "cuda", "skip",
                     "no NVIDIA container runtime on this engine (Runtimes: "
                     + (", ".join(runtimes) or "none") + "): run verify on a GPU host", data)
    if results is None:
        return Check("gpu", "gpu", "cuda", "fail", "the GPU probe did not run", data)
    failures = []
    for cid, result in sorted(results.items()):
        if result.get("code") != 0:
            failures.append(f"{' '.join(result.get('argv', [cid]))}: {last_line(result.get('output', ''))}")
    if failures:
        return Check("gpu", "gpu", "cuda", "fail", "; ".join(failures), data)
    return Check("gpu", "gpu", "cuda", "pass", "CUDA visible: " + ", ".join(sorted(results)), data)


def gpu_commands(prefix: str, has_torch: bool, timeout: float) -> list[dict[str, Any]]:
    commands: list[dict[str, Any]] = [{"id": "gpu:nvidia-smi", "argv": ["nvidia-smi", "-L"], "timeout": timeout}]
    if has_torch:
        commands.append({
            "id": "gpu:torch",
            "argv": [f"{prefix}/bin/python", "-c",
                     "import torch, sys; ok = torch.cuda.is_available(); print('cuda', ok); sys.exit(0 if ok else 1)"],
            "timeout": timeout,
        })
    return commands


# --------------------------------------------------------------------------- locale and TLS

# Both run with the environment's Python as the image's user; Python 3.8 syntax, stdlib only.
LOCALE_PROGRAM = """\
import json, locale, os, sys
facts = {"LANG": os.environ.get("LANG"), "LC_ALL": os.environ.get("LC_ALL"), "error": None}
try:
    locale.setlocale(locale.LC_ALL, "")
except locale.Error as exc:
    facts["error"] = str(exc)
facts["encoding"] = locale.getpreferredencoding(False)
facts["filesystem"] = sys.getfilesystemencoding()
print(json.dumps(facts))
"""
TLS_PROGRAM = """\
import json, os
try:
    import ssl
except ImportError as exc:
    print(json.dumps({"error": str(exc)}))
    raise SystemExit(0)
paths = ssl.get_default_verify_paths()
capath = paths.capath or paths.openssl_capath
entries = len(os.listdir(capath)) if capath and os.path.isdir(capath) else 0
print(json.dumps({"openssl": ssl.OPENSSL_VERSION, "cafile": paths.cafile or paths.openssl_cafile,
                  "capath": capath, "capath_entries": entries,
                  "loaded": len(ssl.create_default_context().get_ca_certs())}))
"""


def runtime_commands(python: str, timeout: float) -> list[dict[str, Any]]:
    """The locale and TLS checks, as commands for the probe's ``run`` mode."""
    return [{"id": "runtime:locale", "argv": [python, "-c", LOCALE_PROGRAM], "timeout": timeout},
            {"id": "runtime:tls", "argv": [python, "-c", TLS_PROGRAM], "timeout": timeout}]


def _program_facts(result: Mapping[str, Any] | None) -> tuple[dict[str, Any] | None, str]:
    """The JSON a runtime program printed last, or None and why there is none."""
    if result is None:
        return None, "did not run"
    output = str(result.get("output", ""))
    if result.get("code") != 0:
        return None, f"exit {result.get('code')}: {last_line(output)}"
    for line in reversed(output.splitlines()):
        if line.startswith("{"):
            try:
                facts = json.loads(line)
            except ValueError:
                break
            if isinstance(facts, dict):
                return facts, ""
    return None, f"unexpected output: {last_line(output) or 'none'}"


def judge_locale(result: Mapping[str, Any] | None) -> Check:
    facts, why = _program_facts(result)
    if facts is None:
        return Check("locale", "runtime", "locale", "fail", f"the locale check failed: {why}")
    lang = facts.get("LC_ALL") or facts.get("LANG") or "unset"
    if facts.get("error"):
        return Check("locale", "runtime", "locale", "fail",
                     f"locale {lang} is not installed ({facts['error']}): set LANG=C.UTF-8", facts)
    encoding = str(facts.get("encoding") or "")
    if encoding.lower().replace("-", "") != "utf8":
        return Check("locale", "runtime", "locale", "warn",
                     f"locale {lang} encodes text as {encoding or 'unknown'}, not UTF-8: "
                     "set LANG=C.UTF-8", facts)
    return Check("locale", "runtime", "locale", "pass", f"{lang}, {encoding}", facts)


def judge_tls(result: Mapping[str, Any] | None) -> Check:
    facts, why = _program_facts(result)
    if facts is None:
        return Check("tls", "runtime", "tls", "fail", f"the TLS check failed: {why}")
    if facts.get("error"):
        return Check("tls", "runtime", "tls", "warn",
                     f"the environment's Python has no ssl module ({facts['error']}): no HTTPS "
                     "from Python; add openssl to the environment", facts)
    loaded, entries = int(facts.get("loaded") or 0), int(facts.get("capath_entries") or 0)
    if not loaded and not entries:
        return Check("tls", "runtime", "tls", "warn",
                     f"no CA certificates at {facts.get('cafile')} or {facts.get('capath')}: "
                     "HTTPS clients cannot verify servers; add ca-certificates to the "
                     "environment (or the runtime image)", facts)
    found = f"{loaded} CA certificates" if loaded else f"{entries} entries in {facts.get('capath')}"
    return Check("tls", "runtime", "tls", "pass", f"{facts.get('openssl')}, {found}", facts)


# --------------------------------------------------------------------------- sizes


_NOP = re.compile(r"^/bin/sh -c #\(nop\)\s*")
_RUN = re.compile(r"^(?:\|\d+ (?:\S+=\S* )*)?/bin/sh -c ")


def short_instruction(created_by: str) -> str:
    """``/bin/sh -c #(nop) COPY dir:… in /opt/env`` → ``COPY dir:… in /opt/env``; RUN otherwise."""
    text = created_by.strip()
    if _NOP.match(text):
        return _NOP.sub("", text)
    if _RUN.match(text):
        return "RUN " + _RUN.sub("", text)
    return text or "(base)"


@frozen
class StageText:
    """One ``FROM … AS name`` block of a Dockerfile."""

    name: str
    base: str
    instructions: tuple[str, ...]


def logical_lines(text: str) -> list[str]:
    lines: list[str] = []
    current = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1].rstrip() + " "
            continue
        current += stripped
        lines.append(current.strip())
        current = ""
    if current.strip():
        lines.append(current.strip())
    return lines


_VAR = re.compile(r"\$(?:\{(\w+)\}|(\w+))")


def parse_stages(text: str, build_args: Mapping[str, str] | None = None) -> list[StageText]:
    """The stages of a Dockerfile, with ``FROM`` bases resolved from global ARG defaults."""
    args: dict[str, str] = {}
    stages: list[tuple[str, str, list[str]]] = []
    for line in logical_lines(text):
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            words = [w for w in rest.split() if not w.startswith("--")]
            base = _VAR.sub(lambda m: args.get(m[1] or m[2], ""), words[0]) if words else ""
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else str(len(stages))
            stages.append((name, base, []))
        elif stages:
            stages[-1][2].append(line)
        elif keyword == "ARG":
            key, _, value = rest.strip().partition("=")
            args[key] = (build_args or {}).get(key, _unquote(value))
    return [StageText(n, b, tuple(i)) for n, b, i in stages]


def _unquote(value: str) -> str:
    try:
        parts = shlex.split(value)
    except ValueError:
        return value
    return parts[0] if parts else ""


_COPY_FROM = re.compile(r"^COPY\s+(?:--\S+\s+)*--from=(\S+)", re.IGNORECASE)


def split_history(
    history: Sequence[Mapping[str, Any]],
    runtime: StageText | None = None,
    base_image: tuple[str, int] | None = None,
) -> tuple[str | None, int, list[Layer]]:
    """(base image, base size, layers newest first) from ``image.history()`` (newest first).

    The base is where the runtime stage's own instructions end: counted from the Dockerfile
    when given (the classic builder writes one history entry per instruction), else the first
    older entry that carries a tag (the ``FROM`` image, e.g. ``debian:bookworm-slim``), else
    ``base_image`` (its name and how many history entries it has: Podman's history carries no
    tags, so the engine module finds the base by the image ids in it).
    Layers the runtime copied ``--from=<stage>`` are attributed to that stage.
    """
    entries = list(history)
    cut: int | None = None
    if runtime is not None and 0 < len(runtime.instructions) <= len(entries):
        cut = len(runtime.instructions)
    if cut is None:
        cut = next((i for i, e in enumerate(entries) if i > 0 and e.get("Tags")), None)
    if cut is None and base_image is not None and 0 < base_image[1] < len(entries):
        cut = len(entries) - base_image[1]
        entries = [*entries[:cut], {**entries[cut], "Tags": [base_image[0]]}, *entries[cut + 1:]]
    if cut is None:
        cut = len(entries)
    base_entries = entries[cut:]
    base_tags = list(base_entries[0].get("Tags") or []) if base_entries else []
    base: str | None = runtime.base if runtime is not None else None
    if base_tags and base not in base_tags:
        base = base_tags[0]
    own = entries[:cut]
    stages_of: list[str] = ["runtime"] * len(own)
    if runtime is not None and len(runtime.instructions) == len(own):
        for i, instruction in enumerate(reversed(runtime.instructions)):
            match = _COPY_FROM.match(instruction)
            if match:
                stages_of[i] = match[1]
    layers = [
        Layer(str(e.get("Id", "")), str(e.get("CreatedBy", "")), int(e.get("Size", 0)), stage)
        for e, stage in zip(own, stages_of, strict=False)
    ]
    layers += [
        Layer(str(e.get("Id", "")), str(e.get("CreatedBy", "")), int(e.get("Size", 0)), "base")
        for e in base_entries
    ]
    return base, sum(int(e.get("Size", 0)) for e in base_entries), layers


def stage_sizes(
    stages: Sequence[StageText], images: Mapping[str, tuple[str, int]], bases: Mapping[str, int]
) -> list[StageSize]:
    """Each built stage's size and what it adds over the image it starts ``FROM``.

    ``images``: stage name → (image id, size); ``bases``: external base image → size.
    """
    out = []
    for stage in stages:
        if stage.name not in images:
            continue
        image_id, size = images[stage.name]
        parent = images[stage.base][1] if stage.base in images else bases.get(stage.base)
        out.append(StageSize(stage.name, stage.base, image_id, size,
                             size - parent if parent is not None else None))
    return out


# --------------------------------------------------------------------------- output


def human(size: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if abs(size) < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"  # pragma: no cover - the loop returns


def last_line(text: str) -> str:
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    return lines[-1][:200] if lines else ""


_MARK = {"pass": "ok  ", "warn": "WARN", "fail": "FAIL", "skip": "skip"}


def render_table(report: Report) -> str:
    """The human-readable report: checks, then sizes, then the verdict."""
    image = report.image
    lines = [f"image   {image.get('ref')} ({str(image.get('id', ''))[:19]})",
             f"lock    {report.lock.get('source')}: {report.lock.get('detail', '')}", ""]
    non_python = [c for c in report.checks
                  if c.kind == "import" and c.status == "skip" and c.detail.startswith("no Python module")]
    for check in report.checks:
        if check in non_python:
            continue
        lines.append(f"{_MARK[check.status]}  {check.kind:<12} {check.subject:<24} {check.detail}")
    if non_python:
        names = ", ".join(c.subject for c in non_python)
        lines.append(f"skip  {'import':<12} {len(non_python)} non-Python conda packages: {names}")
    if report.sizes is not None:
        sizes = report.sizes
        lines += ["", f"size    {human(sizes.total)} total = {human(sizes.base_size)} base "
                      f"({sizes.base or 'unknown'}) + {human(sizes.own_size)} own layers"]
        for stage, size in sizes.by_stage().items():
            if stage != "base":
                lines.append(f"        {stage:<10} {human(size):>10}  (layers in the runtime image)")
        for layer in sizes.layers:
            if layer.stage != "base" and layer.size:
                lines.append(f"          {human(layer.size):>10}  [{layer.stage}] {layer.instruction[:70]}")
        for stage_size in sizes.stages:
            added = f"+{human(stage_size.added)} over {stage_size.base}" if stage_size.added is not None else ""
            lines.append(f"stage   {stage_size.name:<10} {human(stage_size.size):>10}  {added}")
    counts = report.counts()
    verdict = "PASSED" if report.ok else "FAILED"
    lines += ["", f"{verdict}: {counts['pass']} passed, {counts['warn']} warned, {counts['fail']} failed, "
                  f"{counts['skip']} skipped"]
    return "\n".join(lines) + "\n"
