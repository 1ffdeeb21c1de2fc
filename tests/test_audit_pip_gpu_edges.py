"""The pip and GPU audit rules at their edges: what a finding tells the user, and where.

A finding is read by a person (message, fix, evidence) and by an editor or CI annotation
(location, platform). These tests pin those fields for the P201/P202/P203/P207/P208 and
G403/G406 rules at the branches a slip would not show in the trigger/clean pairs of
tests/fixtures/audit/cases.py (issue 16, mutation testing).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from conda2docker.audit import LocalFacts, audit
from conda2docker.audit.sdists import SdistFacts
from conda2docker.errors import SourceLocation
from conda2docker.model import Finding, LockedPackage, PipOptions, PipRequirement
from conda2docker.read.piplines import parse_requirement
from conda2docker.resolve.pypi import FetchError
from fixtures.audit.cases import (
    BASE,
    ENV,
    PLATFORM,
    SHA,
    change,
    cpkg,
    ctx,
    dep,
    loc,
    lock,
    ppkg,
    req,
    spec,
)

LOCK_AT = SourceLocation(Path("/project/conda-lock.yml"))
CLIP = "https://github.com/openai/CLIP.git"
SAM = "https://github.com/facebookresearch/segment-anything.git"
FLASH_WHEEL = ("https://github.com/Dao-AILab/flash-attention/releases/download/v2.5.6/"
               "flash_attn-2.5.6+cu118torch2.1cxx11abiFALSE-cp311-cp311-linux_x86_64.whl")


def where(finding: Finding) -> tuple[Path, int | None] | None:
    return (finding.location.file, finding.location.line) if finding.location else None


def local(path: str, **facts: bool) -> dict[str, LocalFacts]:
    """What the scan of a local pip path found (keyed as the audit looks it up)."""
    return {str(ENV.parent / path): LocalFacts(ENV.parent / path, **facts)}


def path_req(path: str, line: int = 8, name: str | None = None) -> PipRequirement:
    raw = f"./{path}" + (f"#egg={name}" if name else "")
    return req(raw, "path", line=line, name=name, path=ENV.parent / path)


def pin(name: str, version: str, line: int = 8) -> PipRequirement:
    return req(f"{name}=={version}", line=line, name=name, specifier=f"=={version}")


def sdist(name: str, version: str) -> LockedPackage:
    return LockedPackage(name, version, "pip", PLATFORM,
                         f"https://files.pythonhosted.org/packages/aa/bb/{name.replace('-', '_')}-{version}.tar.gz",
                         sha256="0" * 64)


# -- G403: packages that compile CUDA kernels when built ------------------------------------


def test_a_local_tree_with_cuda_sources_is_a_cuda_extension_reported_where_it_is_written() -> None:
    """A local package whose name says nothing of CUDA is found by its source tree (.cu
    files or CUDAExtension); the finding points at its line and says why."""
    env = spec(pip=(path_req("submodules/my-rasterizer", line=9),))
    (finding,) = audit(ctx(env, local=local("submodules/my-rasterizer", cuda_sources=True)),
                       select=["G403"])
    assert finding.subject == "my-rasterizer"
    assert finding.evidence == ("CUDA sources (.cu) or CUDAExtension in its source tree",)
    assert where(finding) == (ENV, 9)
    assert finding.message == ("my-rasterizer compiles CUDA kernels when it is built: "
                               "the build needs nvcc")
    # the same tree with C sources only needs no nvcc
    assert audit(ctx(env, local=local("submodules/my-rasterizer", c_sources=True)),
                 select=["G403"]) == []


def test_a_cuda_extension_pinned_from_pypi_is_reported_and_an_ordinary_pin_is_not() -> None:
    """flash-attn has only an sdist on PyPI: an exact pin builds it with nvcc. six beside
    it is an ordinary package."""
    env = spec(pip=(pin("flash-attn", "2.5.6", line=8), pin("six", "1.16.0", line=9)))
    (finding,) = audit(ctx(env), select=["G403"])
    assert finding.subject == "flash-attn"
    assert finding.evidence == ("PyPI has only its source distribution",)
    assert where(finding) == (ENV, 8)


@pytest.mark.parametrize(("options", "fires"), [
    (PipOptions(), True),
    (PipOptions(extra_index_urls=("https://download.pytorch.org/whl/cu118",)), False),
    (PipOptions(find_links=("https://github.com/Dao-AILab/flash-attention/releases",)), False),
])
def test_a_cuda_extension_from_an_index_is_not_guessed_when_another_source_may_have_wheels(
        options: PipOptions, fires: bool) -> None:
    """An extra index or a find-links page may serve a prebuilt wheel (each one alone is
    enough): the file alone cannot tell, so no G403 is guessed."""
    env = spec(pip=(pin("flash-attn", "2.5.6"),), options=options)
    assert [f.subject for f in audit(ctx(env), select=["G403"])] == (["flash-attn"] if fires else [])


def test_a_cuda_extension_the_lock_installs_as_a_wheel_is_not_reported() -> None:
    """A prebuilt flash-attn wheel named by its URL and locked as a wheel compiles nothing."""
    env = spec(pip=(req(f"flash-attn @ {FLASH_WHEEL}", "url", name="flash-attn", url=FLASH_WHEEL),))
    locked = lock(ppkg("flash-attn", "2.5.6", FLASH_WHEEL))
    assert audit(ctx(env, locked), select=["G403"]) == []


def test_a_cuda_extension_named_by_the_url_of_a_wheel_is_not_reported_before_a_lock() -> None:
    """``flash-attn @ <release>.whl`` installs the prebuilt wheel: nothing needs nvcc. The
    same name by the URL of its sdist is built, and reported."""
    wheel = spec(pip=(req(f"flash-attn @ {FLASH_WHEEL}", "url", name="flash-attn", url=FLASH_WHEEL),))
    assert audit(ctx(wheel), select=["G403"]) == []
    source = "https://files.pythonhosted.org/packages/aa/bb/flash_attn-2.5.6.tar.gz"
    built = spec(pip=(req(f"flash-attn @ {source}", "url", name="flash-attn", url=source),))
    (finding,) = audit(ctx(built), select=["G403"])
    assert finding.evidence == (f"built from url: flash-attn @ {source}",)


@pytest.mark.parametrize("name", [None, "my-rasterizer"])
def test_a_local_cuda_tree_is_reported_with_a_lock_too_named_or_not(name: str | None) -> None:
    """The lock installs a local package from its path (built in the image), so its CUDA
    sources still need nvcc, and the CUDA the lock holds still needs a devel image (G407)."""
    env = spec(pip=(path_req("submodules/my-rasterizer", line=9, name=name),))
    locked = lock(cpkg("cuda-version", "12.7"),
                  LockedPackage("my-rasterizer", "0.0.0", "pip", PLATFORM,
                                "file:///project/submodules/my-rasterizer"))
    findings = audit(ctx(env, locked, local=local("submodules/my-rasterizer", cuda_sources=True)),
                     select=["G403", "G407"])
    assert [(f.code, f.subject) for f in findings] == [("G403", "my-rasterizer"), ("G407", "12.7")]
    assert where(findings[0]) == (ENV, 9)


FLASH_GIT = "https://github.com/Dao-AILab/flash-attention.git"


@pytest.mark.parametrize(("written", "locked", "evidence"), [
    (pin("flash-attn", "2.5.6", line=8), sdist("flash-attn", "2.5.6"),
     "sdist: https://files.pythonhosted.org/packages/aa/bb/flash_attn-2.5.6.tar.gz"),
    (req(f"git+{FLASH_GIT}@v2.5.6#egg=flash-attn", "vcs", line=8, name="flash-attn",
         url=FLASH_GIT, vcs="git", ref="v2.5.6"),
     LockedPackage("flash-attn", "2.5.6", "pip", PLATFORM, f"git+{FLASH_GIT}@{SHA}"),
     f"vcs: git+{FLASH_GIT}@{SHA}"),
])
def test_each_cuda_extension_is_reported_once_and_the_ones_after_a_locked_one_too(
        written: PipRequirement, locked: LockedPackage, evidence: str) -> None:
    """What the lock builds from source is the lock's finding, with the file the lock
    installs (not repeated for the line in the environment file); a local CUDA tree
    written after that line is still reported."""
    env = spec(pip=(written, path_req("submodules/my-rasterizer", line=9)))
    findings = audit(ctx(env, lock(locked),
                         local=local("submodules/my-rasterizer", cuda_extension=True)),
                     select=["G403"])
    assert [(f.subject, where(f)) for f in findings] == [
        ("flash-attn", (LOCK_AT.file, None)), ("my-rasterizer", (ENV, 9))]
    assert findings[0].evidence == (evidence,)


# -- G406: a GPU build without a CUDA version ------------------------------------------------


def test_a_gpu_package_without_a_cuda_version_names_the_cuda_it_is_solved_for() -> None:
    env = spec(conda=(dep("python", "3.11", line=5), dep("tensorflow-gpu", "2.4", line=6)))
    (finding,) = audit(ctx(env), select=["G406"])
    assert finding.message == ("tensorflow-gpu=2.4 means a GPU build, but no CUDA version is "
                               "named: the GPU variant is solved for CUDA 12.4")
    assert finding.evidence == ("tensorflow-gpu=2.4 is a GPU package",)
    assert where(finding) == (ENV, 6)


# -- P201: pip packages built from source ----------------------------------------------------


def test_locked_sdists_say_what_their_build_needs_for_the_lock_platform() -> None:
    """P201 from a lock (the pip resolver took an sdist): the version and platform in the
    message; the toolchains and apt packages in the fix; the file and what its build needs as
    evidence. hdbscan 0.8.29 requires Cython at run time, so its build needs Cython and a C
    compiler (not just the C compiler assumed for an unknown package); orjson is known to need
    Rust (cargo and rustc). A package the pip section pins points at its line, a dependency
    only the lock names at the lock."""
    hdbscan = replace(sdist("hdbscan", "0.8.29"), dependencies={
        "cython": ">=0.27", "numpy": ">=1.20", "scipy": ">=1.0", "scikit-learn": ">=0.20",
        "joblib": ">=1.0"})
    env = spec(pip=(pin("hdbscan", "0.8.29", line=9),))
    found = audit(ctx(env, lock(*BASE, hdbscan, sdist("orjson", "3.6.8"))), select=["P201"])
    assert [(f.subject, f.message, f.evidence, f.platform, where(f)) for f in found] == [
        ("hdbscan", "hdbscan 0.8.29 has no wheel for linux-64: it is built from source",
         ("hdbscan-0.8.29.tar.gz", "needs: c, cython; apt: build-essential (from its "
          "requirements)"), PLATFORM, (ENV, 9)),
        ("orjson", "orjson 3.6.8 has no wheel for linux-64: it is built from source",
         ("orjson-3.6.8.tar.gz", "needs: rust; apt: cargo rustc (known package)"), PLATFORM,
         (LOCK_AT.file, None)),
    ]
    assert [f.fix.split(". Or ")[0] for f in found] == [
        "the wheels stage builds it with c, cython; apt: build-essential",
        "the wheels stage builds it with rust; apt: cargo rustc"]


def _lxml(location: SourceLocation | None) -> SdistFacts:
    """What the index check of ``lxml==4.6.3`` finds for Python 3.11 on linux-64: no wheel
    (its wheels stop at CPython 3.9), an sdist of a package the table knows (C and Cython)."""
    return SdistFacts("lxml", "4.6.3", "lxml-4.6.3.tar.gz", sdist("lxml", "4.6.3").url,
                      ("c", "cython"), location=location)


def test_an_exact_pin_with_only_an_sdist_says_what_its_build_needs_before_any_lock() -> None:
    """P201 before any lock, from the index check of exact pins: the message names the pinned
    version and the target it was checked for (platform, Python, glibc); the fix every
    toolchain and every apt package (the compilers' and the package's -dev headers); the
    evidence the sdist and what it needs, and how that is known: from the table for lxml
    (its sdist is not fetched), from the sdist for a package the table does not know
    (pycocotools, C and Cython); each points at its pin."""
    cocotools = SdistFacts("pycocotools", "2.0.2", "pycocotools-2.0.2.tar.gz",
                           sdist("pycocotools", "2.0.2").url, ("c", "cython"), location=loc(10))
    env = spec(pip=(pin("lxml", "4.6.3", line=9), pin("pycocotools", "2.0.2", line=10)))
    lxml, cocotools_found = audit(ctx(env, sdists={"lxml": _lxml(loc(9)),
                                                   "pycocotools": cocotools}), select=["P201"])
    assert lxml.message == ("lxml 4.6.3 has no wheel for linux-64, Python 3.11, glibc 2.36: "
                            "it is built from source")
    assert lxml.fix.startswith("the wheels stage builds it with c, cython; apt: "
                               "build-essential libxml2-dev libxslt1-dev. ")
    assert lxml.evidence == ("lxml-4.6.3.tar.gz", "needs: c, cython; apt: build-essential "
                             "libxml2-dev libxslt1-dev (known package)")
    assert cocotools_found.evidence == ("pycocotools-2.0.2.tar.gz", "needs: c, cython; apt: "
                                        "build-essential (found in its sdist)")
    assert [where(f) for f in (lxml, cocotools_found)] == [(ENV, 9), (ENV, 10)]


def test_a_source_build_of_a_projects_own_dependency_points_at_the_lock() -> None:
    """``init`` adds the dependencies a repository's own package declares (pyproject.toml)
    with no line of the environment to point at: their P201 points at the lock."""
    env = spec(pip=(parse_requirement("lxml==4.6.3", None, ENV.parent),))
    (finding,) = audit(ctx(env, lock(*BASE), sdists={"lxml": _lxml(None)}), select=["P201"])
    assert (finding.subject, finding.location) == ("lxml", LOCK_AT)


# -- P202: VCS requirements without a pinned commit ------------------------------------------


def _git(url: str, name: str, line: int, ref: str | None = None) -> PipRequirement:
    raw = f"git+{url}" + (f"@{ref}" if ref else "")
    return req(raw, "vcs", line=line, name=name, url=url, vcs="git", ref=ref)


def test_each_unpinned_git_requirement_is_reported_once_at_its_line_with_its_url() -> None:
    """The fix's ``git ls-remote`` command needs the repository URL, not the pip line; a
    repeated requirement is reported once, and the ones after it still are."""
    env = spec(pip=(_git(CLIP, "clip", 8), _git(CLIP, "clip", 9), _git(SAM, "segment-anything", 10)))
    findings = audit(ctx(env), select=["P202"])
    assert [(f.subject, where(f), f.evidence) for f in findings] == [
        ("clip", (ENV, 8), (f"git+{CLIP}",)),
        ("segment-anything", (ENV, 10), (f"git+{SAM}",)),
    ]
    assert findings[0].message == f"clip is installed from {CLIP} without a pinned commit"
    assert findings[0].fix == (f"append @<commit sha> to the URL (git ls-remote {CLIP} HEAD "
                               "prints the current one)")


def test_an_unpinned_git_requirement_after_one_the_lock_pins_is_reported() -> None:
    env = spec(pip=(_git(CLIP, "clip", 8), _git(SAM, "segment-anything", 9)))
    locked = lock(LockedPackage("clip", "1.0", "pip", PLATFORM, f"git+{CLIP}@{SHA}"))
    assert [f.subject for f in audit(ctx(env, locked), select=["P202"])] == ["segment-anything"]


def test_a_locked_git_package_without_a_revision_is_reported_at_the_lock() -> None:
    locked = lock(LockedPackage("clip", "1.0", "pip", PLATFORM, f"git+{CLIP}"))
    (finding,) = audit(ctx(spec(), locked), select=["P202"])
    assert finding.message == f"clip is installed from git+{CLIP} without a pinned commit"
    assert finding.evidence == (f"git+{CLIP}",)
    assert finding.location == LOCK_AT
    assert finding.platform == PLATFORM


# -- P203: local paths -----------------------------------------------------------------------


def test_a_local_path_that_does_not_exist_is_said_at_its_line() -> None:
    env = spec(pip=(path_req("submodules/simple-knn", line=9),))
    (finding,) = audit(ctx(env, local=local("submodules/simple-knn", exists=False)),
                       select=["P203"])
    assert finding.evidence == ("./submodules/simple-knn", "submodules/simple-knn does not exist")
    assert where(finding) == (ENV, 9)


def test_a_local_path_says_which_toolchains_its_tree_builds_with() -> None:
    env = spec(pip=(path_req("submodules/simple-knn"),))
    (finding,) = audit(ctx(env, local=local("submodules/simple-knn", cuda_sources=True,
                                            c_sources=True)), select=["P203"])
    assert finding.evidence == ("./submodules/simple-knn", "builds with: c, c++, cuda")
    # a tree that was not scanned: the line as written, nothing guessed
    (unscanned,) = audit(ctx(env), select=["P203"])
    assert unscanned.evidence == ("./submodules/simple-knn",)


def test_a_named_local_path_in_the_file_and_the_lock_is_reported_once_at_the_file() -> None:
    env = spec(pip=(path_req("submodules/simple-knn", name="simple-knn"),))
    locked = lock(LockedPackage("simple-knn", "0.0.0", "pip", PLATFORM,
                                "file:///project/submodules/simple-knn"))
    findings = audit(ctx(env, locked), select=["P203"])
    assert [(f.subject, where(f)) for f in findings] == [("simple-knn", (ENV, 8))]


def test_a_local_path_only_the_lock_names_is_reported_at_the_lock() -> None:
    url = "file:///project/submodules/simple-knn"
    locked = lock(LockedPackage("simple-knn", "0.0.0", "pip", PLATFORM, url))
    (finding,) = audit(ctx(spec(), locked), select=["P203"])
    assert finding.message == ("simple-knn is installed from the local path "
                               "/project/submodules/simple-knn")
    assert finding.evidence == (url,)
    assert finding.location == LOCK_AT
    assert finding.platform == PLATFORM


# -- P207: pip requests that cannot be locked ------------------------------------------------


def test_a_pip_part_that_cannot_be_locked_gives_the_resolvers_reason_and_fix() -> None:
    """The resolver's change carries ``fix: …`` in its detail (see resolve/run.py); the
    finding shows the fix without that prefix, and a stock fix when there is none."""
    reason = "no release of torch matches ==1.4.0 for Python 3.11"
    failed = change("P207", "pip packages for linux-64", reason=reason,
                    detail="fix: pin python=3.8, or relax torch==1.4.0")
    (finding,) = audit(ctx(spec(changes=(failed,))), select=["P207"])
    assert finding.message == f"pip packages for linux-64 cannot be locked: {reason}"
    assert finding.fix == "pin python=3.8, or relax torch==1.4.0"
    assert finding.location == loc(3)
    bare = change("P207", "pip packages for linux-64", reason=reason, detail="")
    (finding,) = audit(ctx(spec(changes=(bare,))), select=["P207"])
    assert finding.fix == "relax the pip pins named above"


# -- P208: exact pins the index could not be asked about -------------------------------------


def test_pins_left_unchecked_are_counted_and_the_first_reason_is_given_whole() -> None:
    """Each entry is ``name==version: <the index's error>``, and that error is itself
    ``url: reason``: the message keeps the URL, so the user sees which source failed."""
    jsmin = FetchError("https://pypi.org/simple/jsmin/",
                       "not in the cache and --offline forbids the network")
    flash = FetchError("https://pypi.org/simple/flash-attn/",
                       "not in the cache and --offline forbids the network")
    unchecked = (f"jsmin==3.0.1: {jsmin}", f"flash-attn==2.5.6: {flash}")
    (finding,) = audit(ctx(spec(), unchecked=unchecked), select=["P208"])
    assert finding.subject == "pip index"
    assert finding.message == (
        "2 exact pip pin(s) could not be checked for wheels: https://pypi.org/simple/jsmin/: "
        "not in the cache and --offline forbids the network")
    assert finding.evidence == unchecked
