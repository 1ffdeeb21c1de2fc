"""plan_inputs: the audit's findings as the build plan's BuildGaps."""

from __future__ import annotations

from conda2docker.audit import AuditContext, LocalFacts, audit, plan_inputs
from fixtures.audit.cases import BASE, ENV, PLATFORM, _path_req, cpkg, ctx, lock, ppkg, spec

SDIST = "https://files.example.org/p/orjson-3.6.8.tar.gz"


def test_gaps_of_a_gpu_lock_with_source_builds() -> None:
    locked = lock(
        *BASE,
        cpkg("cudatoolkit", "11.8.0"),
        cpkg("pytorch", "2.1.0", "cuda118py311h3b8d1c1_300"),
        ppkg("orjson", "3.6.8", SDIST),
        ppkg("flash-attn", "2.3.3", "https://files.example.org/p/flash_attn-2.3.3.tar.gz",
             deps={"torch": "*"}),
        ppkg("clip", "1.0", "git+https://github.com/openai/CLIP.git@a1d0717"),
        ppkg("opencv-python", "4.9.0.80"),
    )
    context = ctx(spec(), locked)
    gaps = plan_inputs(audit(context), locked, PLATFORM)
    sdists = {b.name: b for b in gaps.sdist_packages}
    assert set(sdists) == {"flash-attn", "orjson"}
    assert sdists["orjson"].toolchains == ("rust",)
    assert sdists["orjson"].apt_packages == ("cargo", "rustc")
    assert sdists["orjson"].source == SDIST and sdists["orjson"].version == "3.6.8"
    assert sdists["flash-attn"].cuda and "cuda" in sdists["flash-attn"].toolchains
    assert [b.name for b in gaps.vcs_packages] == ["clip"]
    assert gaps.cuda_extensions == ("flash-attn",)
    assert gaps.needs_gpu and gaps.cuda_version == "11.8" and gaps.min_driver == "520.61.05"
    assert gaps.system_libraries == ("libgl1", "libglib2.0-0")
    assert gaps.needs_wheels_stage
    assert "build-essential" in gaps.build_apt_packages and "cargo" in gaps.build_apt_packages


def test_gaps_of_local_cuda_extension_use_the_scanned_facts() -> None:
    requirement = _path_req("submodules/my-rasterizer")
    facts = {str(requirement.path): LocalFacts(requirement.path, cuda_sources=True)}  # type: ignore[arg-type]
    env = spec(pip=(requirement,))
    context = AuditContext.build(env, local=facts)
    gaps = plan_inputs(audit(context), None, PLATFORM, spec=env, local=facts)
    (build,) = gaps.local_packages
    assert build.source == str(ENV.parent / "submodules/my-rasterizer")
    assert build.cuda and build.toolchains == ("c++", "cuda")
    assert gaps.cuda_extensions == ("my-rasterizer",)
    assert gaps.needs_gpu


def test_ignored_findings_leave_no_gap() -> None:
    locked = lock(*BASE, ppkg("opencv-python", "4.9.0.80"), ppkg("orjson", "3.6.8", SDIST))
    findings = audit(ctx(spec(), locked), ignore=["S303", "P201"])
    gaps = plan_inputs(findings, locked, PLATFORM)
    assert gaps.system_libraries == () and gaps.sdist_packages == ()
    assert not gaps.needs_wheels_stage and not gaps.needs_gpu


def test_a_plain_conda_lock_has_no_gaps() -> None:
    locked = lock(*BASE, cpkg("numpy", "1.26.4"))
    gaps = plan_inputs(audit(ctx(spec(), locked)), locked, PLATFORM)
    assert gaps.source_builds == () and gaps.cuda_version is None and gaps.unavailable == ()
