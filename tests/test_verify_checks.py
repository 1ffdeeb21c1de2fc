"""verify_checks: what to check and how to judge it, without an engine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from conda2docker import verify_checks as vc
from conda2docker.engine import probe


def dist(name: str, version: str, *, top: list[str] | None = None, record: list[str] | None = None,
         scripts: list[list[str]] | None = None, directory: str | None = None) -> dict[str, Any]:
    return {
        "dir": directory or f"{name.replace('-', '_')}-{version}.dist-info", "site": "/opt/env/lib/python3.11/site-packages",
        "name": name, "version": version, "top_level": top or [], "record_top": record or [],
        "console_scripts": scripts or [], "installer": "pip", "has_record": True,
    }


def record(name: str, version: str, build: str = "0", *, dist_infos: list[str] | None = None,
           site_top: list[str] | None = None, files: int = 3, depends: list[str] | None = None) -> dict[str, Any]:
    return {"name": name, "version": version, "build": build, "fn": f"{name}-{version}-{build}.conda",
            "site_top": site_top or [], "dist_infos": dist_infos or [], "file_count": files,
            "depends": depends or []}


FACTS: dict[str, Any] = {
    "python": {"executable": "/opt/env/bin/python", "version": "3.11.7", "prefix": "/opt/env"},
    "compilers": [],
    "present": [],
    "archives": [],
    "conda_meta": [
        record("python", "3.11.7", "h2dfada6_0"),
        record("chello", "0.1.0"),
        record("c2d-greet", "1.0", "pyh_0", dist_infos=["c2d_greet-1.0.dist-info"], site_top=["c2d_greet"]),
        record("pip", "26.3", "pyh_0", dist_infos=["pip-26.3.dist-info"], site_top=["pip"]),
        record("setuptools", "84.2.1", "pyh_0", dist_infos=["setuptools-84.2.1.dist-info"],
               site_top=["setuptools", "pkg_resources", "_distutils_hack"]),
    ],
    "dist_infos": [
        dist("c2d-greet", "1.0", top=["c2d_greet"], scripts=[["c2d-greet", "c2d_greet:main"]]),
        dist("pip", "26.3", top=["pip"], scripts=[["pip", "pip._internal.cli.main:main"], ["pip3", "pip._internal.cli.main:main"]]),
        dist("setuptools", "84.2.1", top=["_distutils_hack", "pkg_resources", "setuptools"]),
        dist("c2d-pure", "1.0", record=["c2d_pure"], scripts=[["c2d-pure", "c2d_pure:main"]]),
        dist("c2d-data", "0.1"),
    ],
}


def expected() -> tuple[vc.Expected, ...]:
    return vc.expected_from_facts(FACTS)


def test_expected_from_facts_splits_conda_and_pip() -> None:
    got = {(e.name, e.manager) for e in expected()}
    assert ("c2d-greet", "conda") in got and ("c2d-pure", "pip") in got and ("c2d-data", "pip") in got
    assert ("pip", "pip") not in got  # the conda package owns pip's dist-info


def test_import_plan_uses_metadata_and_skips_non_python() -> None:
    plans = {p.package: p for p in vc.plan_imports(expected(), FACTS, fallback=lambda n: ("fallback",))}
    assert plans["c2d-greet"].modules == ("c2d_greet",)
    assert plans["setuptools"].modules == ("pkg_resources", "setuptools")  # private names dropped
    assert plans["c2d-pure"].modules == ("c2d_pure",) and plans["c2d-pure"].source == "RECORD"
    assert plans["chello"].skip == "no Python module (not a Python package)"
    assert plans["python"].skip is not None
    assert plans["c2d-data"].skip == "no importable module"


def test_import_plan_falls_back_to_the_name_map_when_metadata_lists_no_files() -> None:
    # conda-pypi's grayskull map: 21cmfast installs the module py21cmfast
    facts = {"conda_meta": [record("21cmfast", "3.0", files=0, depends=["python", "numpy"])], "dist_infos": []}
    plans = vc.plan_imports([vc.Expected("21cmfast", "3.0", "conda")], facts)
    assert plans[0].modules == ("py21cmfast",) and plans[0].source == "name map"
    facts["conda_meta"][0]["depends"] = ["libgcc"]  # not a Python package: no guess
    assert vc.plan_imports([vc.Expected("21cmfast", "3.0", "conda")], facts)[0].skip


def test_import_results_are_judged() -> None:
    plan = vc.ImportPlan("c2d-pure", "pip", ("c2d_pure",), "RECORD")
    assert vc.judge_import(plan, {"code": 0, "output": ""}).status == "pass"
    failed = vc.judge_import(plan, {"code": 1, "output": "Traceback\nModuleNotFoundError: No module named 'x'"})
    assert failed.status == "fail" and "No module named 'x'" in failed.detail
    assert vc.judge_import(plan, {"code": None, "timed_out": True, "output": ""}).status == "fail"
    assert vc.judge_import(plan, None).status == "fail"


def test_entry_points_come_from_the_lock_packages_and_use_only_safe_flags() -> None:
    plans = vc.plan_imports(expected(), FACTS, fallback=lambda n: ())
    points = vc.entry_points(plans, FACTS)
    assert [p.name for p in points] == ["c2d-greet", "c2d-pure", "pip", "pip3"]
    commands = vc.entry_point_commands("/opt/env", points[0], 5)
    assert {c["argv"][1] for c in commands} == set(vc.SAFE_FLAGS)
    assert all(len(c["argv"]) == 2 and c["timeout"] == 5 for c in commands)


def test_entry_point_judgement() -> None:
    point = vc.EntryPoint("tool", "tool:main", "tool")
    version_fails = {"entry:tool:--version": {"code": 2, "output": "unknown option"},
                     "entry:tool:--help": {"code": 0, "output": "usage: tool"}}
    check = vc.judge_entry_point(point, version_fails)
    assert check.status == "pass" and check.data["flag"] == "--help"
    both_fail = {"entry:tool:--version": {"code": 1, "output": "boom"},
                 "entry:tool:--help": {"code": None, "timed_out": True, "output": ""}}
    check = vc.judge_entry_point(point, both_fail)
    assert check.status == "fail" and "timed out" in check.detail and "boom" in check.detail
    missing = {"entry:tool:--version": {"code": 127, "output": "not found"}}
    assert "not installed" in vc.judge_entry_point(point, missing).detail
    assert vc.judge_entry_point(point, {}, skip=["tool"]).status == "skip"


def test_lock_judgement_finds_missing_and_different_versions_and_label_mismatch() -> None:
    lock = [vc.Expected("python", "3.11.7", "conda", "h2dfada6_0"), vc.Expected("chello", "0.2.0", "conda"),
            vc.Expected("gone", "1", "conda"), vc.Expected("c2d_pure", "1.0.0", "pip")]
    check = vc.judge_lock(lock, FACTS, label="a" * 64, lock_sha256="a" * 64)
    assert check.status == "fail"
    assert check.data["missing"] == ["gone"]
    assert "chello 0.1.0" in check.detail and "c2d_pure" not in check.detail  # 1.0 == 1.0.0
    ok = vc.judge_lock(lock[:1], FACTS, label="a" * 64, lock_sha256="a" * 64)
    assert ok.status == "pass"
    mismatch = vc.judge_lock(lock[:1], FACTS, label="a" * 64, lock_sha256="b" * 64)
    assert mismatch.status == "fail" and "label" in mismatch.detail


@pytest.mark.parametrize(
    ("config_user", "identity", "status"),
    [
        ("10001:10001", {"uid": 10001, "gid": 10001, "name": "app", "home": "/home/app", "home_writable": True}, "pass"),
        ("", {"uid": 0, "gid": 0, "name": "root", "home": "/root", "home_writable": True}, "fail"),
        ("4242", {"uid": 4242, "gid": 4242, "name": "", "home": "", "home_writable": False}, "fail"),
        ("", None, "fail"),
        ("10001", None, "skip"),
    ],
)
def test_user_judgement(config_user: str, identity: dict[str, Any] | None, status: str) -> None:
    assert vc.judge_user(config_user, identity).status == status


def test_hygiene_judgements() -> None:
    assert vc.judge_compilers(FACTS).status == "pass"
    dirty = {**FACTS, "compilers": [{"name": "gcc", "path": "/usr/bin/gcc"}],
             "present": [{"path": "/root/.cache/pip", "bytes": 2_000_000}, {"path": "/tmp/c2d", "bytes": 10}],
             "archives": ["/opt/env/pkgs/x-1-0.conda"]}
    compilers = vc.judge_compilers(dirty)
    assert compilers.status == "fail" and "/usr/bin/gcc" in compilers.detail
    caches = vc.judge_caches(dirty, vc.cache_paths("/opt/env", "/home/app"))
    assert caches.status == "fail" and "/root/.cache/pip (2.0 MB)" in caches.detail and "x-1-0.conda" in caches.detail
    assert vc.judge_sources(dirty).status == "fail"
    assert vc.judge_caches(FACTS, vc.cache_paths("/opt/env")).status == "pass"


def test_python_judgement_checks_the_prefix() -> None:
    assert vc.judge_python(FACTS, "/opt/env").status == "pass"
    assert vc.judge_python(FACTS, "/opt/other").status == "fail"
    assert "exec failed" in vc.judge_python(None, "/opt/env", "exec failed").detail


def test_gpu_is_skipped_with_a_reason_without_the_nvidia_runtime() -> None:
    check = vc.judge_gpu("gpu", ["runc"], None)
    assert check.status == "skip" and "no NVIDIA container runtime" in check.detail and "runc" in check.detail
    assert vc.judge_gpu("cpu", ["nvidia", "runc"], None).status == "skip"
    ok = vc.judge_gpu("gpu", ["nvidia"], {"gpu:nvidia-smi": {"code": 0, "output": "GPU 0"}})
    assert ok.status == "pass"
    bad = vc.judge_gpu("gpu", ["nvidia"], {"gpu:torch": {"code": 1, "argv": ["python"], "output": "cuda False"}})
    assert bad.status == "fail"
    assert [c["id"] for c in vc.gpu_commands("/opt/env", True, 5)] == ["gpu:nvidia-smi", "gpu:torch"]


DOCKERFILE = """\
# comment
ARG RUNTIME_IMAGE="debian:bookworm-slim"
ARG BUILD_IMAGE="buildpack-deps:bookworm"

FROM ${RUNTIME_IMAGE} AS env
RUN echo a && \\
    echo b

FROM env AS pip
RUN true

FROM ${RUNTIME_IMAGE} AS runtime
ARG APP_UID="10001"
RUN useradd app
COPY --from=env /opt/env /opt/env
COPY --from=pip /opt/pip/ /opt/env/
USER ${APP_UID}
"""


def test_parse_stages_resolves_bases_and_joins_continuations() -> None:
    stages = vc.parse_stages(DOCKERFILE)
    assert [(s.name, s.base) for s in stages] == [
        ("env", "debian:bookworm-slim"), ("pip", "env"), ("runtime", "debian:bookworm-slim")]
    assert stages[0].instructions == ("RUN echo a && echo b",)
    assert len(stages[2].instructions) == 5
    assert vc.parse_stages(DOCKERFILE, {"RUNTIME_IMAGE": "x:1"})[0].base == "x:1"


HISTORY = [  # newest first, as image.history() returns it
    {"Id": "sha256:6", "CreatedBy": "/bin/sh -c #(nop)  USER 10001", "Size": 0, "Tags": ["me:1"]},
    {"Id": "sha256:5", "CreatedBy": "/bin/sh -c #(nop) COPY dir:aa in /opt/env/ ", "Size": 3000, "Tags": None},
    {"Id": "sha256:4", "CreatedBy": "/bin/sh -c #(nop) COPY dir:bb in /opt/env ", "Size": 55_000_000, "Tags": None},
    {"Id": "sha256:3", "CreatedBy": "|1 APP_UID=10001 /bin/sh -c useradd app", "Size": 9000, "Tags": None},
    {"Id": "sha256:2", "CreatedBy": "/bin/sh -c #(nop)  ARG APP_UID=10001", "Size": 0, "Tags": None},
    {"Id": "sha256:1", "CreatedBy": "", "Size": 117_000_000, "Tags": ["debian:bookworm-slim"]},
]


def test_history_split_without_dockerfile_uses_the_tagged_base() -> None:
    base, base_size, layers = vc.split_history(HISTORY)
    assert base == "debian:bookworm-slim" and base_size == 117_000_000
    assert {layer.stage for layer in layers} == {"runtime", "base"}
    aliased = [*HISTORY[:-1], {**HISTORY[-1], "Tags": ["ci/minbase:1", "debian:bookworm-slim"]}]
    assert vc.split_history(aliased)[0] == "ci/minbase:1"  # no Dockerfile: the first tag
    assert vc.split_history(aliased, vc.parse_stages(DOCKERFILE)[-1])[0] == "debian:bookworm-slim"
    assert layers[3].instruction == "RUN useradd app"


def test_history_split_without_tags_uses_the_base_the_engine_found() -> None:
    # Podman: no entry carries a tag; the engine module names the base and its history's length.
    untagged = [{**e, "Tags": None} for e in HISTORY]
    assert vc.split_history(untagged)[:2] == (None, 0)
    base, base_size, layers = vc.split_history(untagged, base_image=("docker.io/library/debian:bookworm-slim", 1))
    assert (base, base_size) == ("docker.io/library/debian:bookworm-slim", 117_000_000)
    assert [layer.stage for layer in layers] == ["runtime"] * 5 + ["base"]
    assert vc.split_history(untagged, base_image=("x", 6))[:2] == (None, 0)  # not shorter: not a base


def test_history_split_with_dockerfile_attributes_copies_to_stages() -> None:
    runtime = vc.parse_stages(DOCKERFILE)[-1]
    untagged = [{**e, "Tags": None} for e in HISTORY]
    base, base_size, layers = vc.split_history(untagged, runtime)
    assert base == "debian:bookworm-slim" and base_size == 117_000_000
    report = vc.SizeReport(sum(e["Size"] for e in HISTORY), base, base_size, tuple(layers))
    assert report.by_stage() == {"base": 117_000_000, "pip": 3000, "env": 55_000_000, "runtime": 9000}
    assert report.own_size == 55_012_000


def test_stage_sizes_subtract_the_parent() -> None:
    stages = vc.parse_stages(DOCKERFILE)
    sizes = vc.stage_sizes(stages, {"env": ("sha256:e", 300), "pip": ("sha256:p", 310)},
                           {"debian:bookworm-slim": 100})
    assert [(s.name, s.added) for s in sizes] == [("env", 200), ("pip", 10)]


def test_report_json_round_trips_and_counts() -> None:
    checks = (vc.judge_compilers(FACTS), vc.judge_user("", None), vc.judge_gpu("cpu", [], None))
    sizes = vc.SizeReport(100, "base:1", 60, (vc.Layer("x", "RUN true", 40, "runtime"),))
    report = vc.Report({"ref": "me:1", "id": "sha256:6"}, {"source": "image", "detail": "d"}, checks, sizes)
    data = json.loads(json.dumps(report.as_json()))
    assert data["schema"] == vc.SCHEMA
    assert data["summary"] == {"ok": False, "passed": 1, "warned": 0, "failed": 1, "skipped": 1}
    assert {c["status"] for c in data["checks"]} == {"pass", "fail", "skip"}
    assert data["sizes"]["own_bytes"] == 40 and data["sizes"]["by_stage"] == {"base": 60, "runtime": 40}
    table = vc.render_table(report)
    assert "FAIL  user" in table and table.rstrip().endswith("FAILED: 1 passed, 0 warned, 1 failed, 1 skipped")


def test_short_instruction() -> None:
    assert vc.short_instruction("/bin/sh -c #(nop) COPY dir:x in /opt/env ") == "COPY dir:x in /opt/env"
    assert vc.short_instruction("|2 A=1 B=2 /bin/sh -c echo hi") == "RUN echo hi"


# --------------------------------------------------------------------------- the probe, run here


def test_probe_reads_a_fake_prefix(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "lib" / "python3.11" / "site-packages"
    info = site / "tool-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tool\nVersion: 1.0\n\nbody: x\n")
    (info / "RECORD").write_text("tool/__init__.py,,\ntool_ext.cpython-311-x86_64-linux-gnu.so,,\n"
                                 "../../../bin/tool,,\ntool-1.0.dist-info/METADATA,,\n")
    (info / "entry_points.txt").write_text("[console_scripts]\ntool = tool:main\n[gui_scripts]\nx = y\n")
    meta = tmp_path / "conda-meta"
    meta.mkdir()
    (meta / "tool-1.0-0.json").write_text(json.dumps({
        "name": "tool", "version": "1.0", "build": "0", "depends": ["python >=3.8"],
        "files": ["lib/python3.11/site-packages/tool/__init__.py",
                  "lib/python3.11/site-packages/tool-1.0.dist-info/METADATA", "bin/tool"]}))
    (tmp_path / "pkgs").mkdir()
    (tmp_path / "pkgs" / "tool-1.0-0.conda").write_bytes(b"x" * 10)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gcc = bin_dir / "x86_64-conda-linux-gnu-gcc"
    gcc.write_text("#!/bin/sh\n")
    gcc.chmod(0o755)
    monkeypatch.setenv("PATH", "/nonexistent")
    facts = probe.facts({"prefix": str(tmp_path), "compilers": ["gcc", "x86_64-conda-linux-gnu-gcc"],
                         "compiler_globs": list(vc.COMPILER_GLOBS), "cache_paths": [str(tmp_path / "pkgs")],
                         "source_paths": ["/nonexistent/c2d"]})
    assert facts["dist_infos"][0]["record_top"] == ["tool", "tool_ext"]
    assert facts["dist_infos"][0]["console_scripts"] == [["tool", "tool:main"]]
    assert facts["conda_meta"][0]["dist_infos"] == ["tool-1.0.dist-info"]
    assert facts["conda_meta"][0]["depends"] == ["python"]
    assert [c["path"] for c in facts["compilers"]] == [str(gcc)]
    assert facts["present"] == [{"path": str(tmp_path / "pkgs"), "bytes": 10}]
    assert facts["archives"] == [str(tmp_path / "pkgs" / "tool-1.0-0.conda")]


def test_probe_runs_commands_with_a_timeout() -> None:
    import sys

    answer = probe.run({"commands": [
        {"id": "ok", "argv": [sys.executable, "-c", "print('hi')"], "timeout": 10},
        {"id": "slow", "argv": [sys.executable, "-c", "import time; time.sleep(5)"], "timeout": 0.5},
        {"id": "missing", "argv": ["/nonexistent/tool", "--version"], "timeout": 1},
    ]})
    results = {r["id"]: r for r in answer["results"]}
    assert results["ok"]["code"] == 0 and results["ok"]["output"].strip() == "hi"
    assert results["slow"]["timed_out"] and results["slow"]["code"] is None
    assert results["missing"]["code"] == 127
    assert isinstance(answer["identity"]["uid"], int)


# --------------------------------------------------------------------------- locale and TLS


def run_here(program: str, **env: str) -> dict[str, Any]:
    """A runtime program run by this machine's Python, shaped as the probe reports it."""
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          check=False, env={**os.environ, **env})
    return {"code": done.returncode, "output": done.stdout + done.stderr}


def test_locale_and_tls_programs_pass_on_a_host_with_a_ca_bundle() -> None:
    locale_check = vc.judge_locale(run_here(vc.LOCALE_PROGRAM, LANG="C.UTF-8", LC_ALL=""))
    assert locale_check.status == "pass" and locale_check.detail == "C.UTF-8, UTF-8"
    tls = vc.judge_tls(run_here(vc.TLS_PROGRAM))
    assert tls.status == "pass" and ("CA certificates" in tls.detail or "entries in" in tls.detail)


def test_a_missing_locale_fails_and_a_non_utf8_one_warns() -> None:
    missing = vc.judge_locale(run_here(vc.LOCALE_PROGRAM, LANG="xx_XX.UTF-8", LC_ALL=""))
    assert missing.status == "fail" and "xx_XX.UTF-8 is not installed" in missing.detail
    ascii_only = vc.judge_locale(run_here(vc.LOCALE_PROGRAM, LANG="C", LC_ALL="C",
                                          PYTHONUTF8="0", PYTHONCOERCECLOCALE="0"))
    assert ascii_only.status == "warn" and "not UTF-8" in ascii_only.detail


def test_no_ca_bundle_warns_with_the_fix(tmp_path: Any) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    tls = vc.judge_tls(run_here(vc.TLS_PROGRAM, SSL_CERT_FILE=str(tmp_path / "none.pem"),
                                SSL_CERT_DIR=str(empty)))
    assert tls.status == "warn" and "add ca-certificates" in tls.detail
    no_ssl = vc.judge_tls({"code": 0, "output": '{"error": "No module named \'_ssl\'"}\n'})
    assert no_ssl.status == "warn" and "no ssl module" in no_ssl.detail


def test_a_runtime_program_that_crashes_fails() -> None:
    assert vc.judge_tls({"code": 1, "output": "Segmentation fault\n"}).status == "fail"
    assert vc.judge_locale(None).status == "fail"
    assert vc.judge_locale({"code": 0, "output": "garbage\n"}).detail.endswith("garbage")
