"""P204/P205 (a package from both conda and pip) at their edges: what the finding says.

The trigger/clean pairs in tests/fixtures/audit/cases.py show that the rules fire; these
tests pin what the user reads — the conda package named in the message, the evidence, the
line the finding points at and the platform it is shown for — for both sources of a
finding: the pip resolver's record of what it did (a lock), and the environment file's
pins compared without a lock (issue 16, mutation testing).
"""

from __future__ import annotations

from pathlib import Path

from conda2docker.audit import audit
from conda2docker.audit.report import render_table
from conda2docker.model import Finding, PipRequirement, ReaderChange, Resolution
from fixtures.audit.cases import BASE, ENV, PLATFORM, cpkg, ctx, dep, loc, lock, ppkg, req, spec


def where(finding: Finding) -> tuple[Path, int | None] | None:
    return (finding.location.file, finding.location.line) if finding.location else None


def pin(name: str, version: str = "", line: int = 8) -> PipRequirement:
    specifier = f"=={version}" if version else ""
    return req(f"{name}{specifier}", line=line, name=name, specifier=specifier)


# -- what the pip resolver recorded while locking -------------------------------------------


def test_a_pip_line_conda_already_satisfies_is_reported_at_that_line_naming_the_conda_package() -> None:
    """The resolver found ``torch`` (pip line 9) satisfied by conda's ``pytorch``: the
    finding names both, points at line 9 and keeps the resolver's reason as evidence."""
    env = spec(conda=(dep("python", "3.11"), dep("pytorch", "2.1.0")),
               pip=(pin("torch", line=9),))
    locked = lock(*BASE, cpkg("pytorch", "2.1.0"))
    reason = ("pip requirement torch is satisfied by conda package pytorch 2.1.0; "
              "pip does not install it again")
    mapped = ReaderChange("mapped", "torch", reason, "P204", "", loc(9))
    (finding,) = audit(ctx(env, locked, Resolution(env, locked, changes=(mapped,))),
                       select=["P204", "P205"])
    assert finding.code == "P204"
    assert finding.message == "pip requirement torch duplicates the conda package pytorch"
    assert finding.fix == ("remove torch from the pip section; the conda package pytorch "
                           "provides it")
    assert finding.evidence == (f"mapped: {reason}",)
    assert where(finding) == (ENV, 9)


def test_a_pip_pin_over_a_conda_package_is_reported_once_at_the_pip_line() -> None:
    """The resolver installed torch 2.2.0 over conda's pytorch 2.1.0 because the pip section
    pins it: one finding (not a second one from comparing the lock), at the pip line, naming
    the conda package and why the versions differ."""
    env = spec(conda=(dep("python", "3.11"), dep("pytorch", "2.1.0")),
               pip=(pin("torch", "2.2.0", line=10),))
    locked = lock(*BASE, cpkg("pytorch", "2.1.0"), ppkg("torch", "2.2.0"))
    reason = ("pip installs torch (torch==2.2.0) over conda package pytorch 2.1.0: "
              "the pip section pins it (2.2.0)")
    added = ReaderChange("added", "torch", reason, "P205", "", loc(10))
    (finding,) = audit(ctx(env, locked, Resolution(env, locked, changes=(added,))),
                       select=["P204", "P205"])
    assert finding.code == "P205"
    assert finding.message == ("pip installs torch over the conda package pytorch "
                               "(the pip section pins its own version)")
    assert finding.fix.endswith("or pin the conda package pytorch to the version pip needs")
    assert finding.evidence == (f"added: {reason}",)
    assert where(finding) == (ENV, 10)


# -- comparing a lock ------------------------------------------------------------------------


def test_a_lock_with_both_twins_names_versions_line_and_platform() -> None:
    """torch from pip over conda's pytorch, found in the lock: the finding says both
    versions, points at the pip line and is shown for the lock's platform."""
    env = spec(conda=(dep("python", "3.11"), dep("pytorch")), pip=(pin("torch", line=11),))
    locked = lock(*BASE, cpkg("pytorch", "2.1.0"), ppkg("torch", "2.2.0"))
    (finding,) = audit(ctx(env, locked), select=["P204", "P205"])
    assert finding.code == "P205"
    assert finding.message == ("pip installs torch over the conda package pytorch "
                               "(conda 2.1.0, pip 2.2.0)")
    assert finding.evidence == ("conda: pytorch 2.1.0", "pip: torch 2.2.0")
    assert where(finding) == (ENV, 11)
    assert finding.platform == PLATFORM
    assert f"(conda 2.1.0, pip 2.2.0) ({PLATFORM})" in render_table([finding])


def test_a_locked_duplicate_is_shown_for_the_lock_platform() -> None:
    locked = lock(*BASE, cpkg("pytorch", "2.1.0"), ppkg("torch", "2.1.0"))
    (finding,) = audit(ctx(spec(), locked), select=["P204"])
    assert finding.message == "pip requirement torch duplicates the conda package pytorch"
    assert finding.evidence == ("conda: pytorch 2.1.0", "pip: torch 2.1.0")
    assert finding.platform == PLATFORM
    assert where(finding) == (Path("/project/conda-lock.yml"), None)  # no pip line: the lock


def test_every_doubled_package_of_a_lock_is_reported_by_its_own_rule() -> None:
    """Checked in name order: a package of the other rule first does not end the check."""
    locked = lock(*BASE, cpkg("numpy", "1.26.4"), ppkg("numpy", "1.26.4"),
                  cpkg("pillow", "10.2.0"), ppkg("pillow", "10.3.0"),
                  cpkg("six", "1.16.0"), ppkg("six", "1.16.0"),
                  cpkg("tzdata", "2024a"), ppkg("tzdata", "2024.2"))
    found = [(f.code, f.subject) for f in audit(ctx(spec(), locked), select=["P204", "P205"])]
    assert sorted(found) == [("P204", "numpy"), ("P204", "six"),
                             ("P205", "pillow"), ("P205", "tzdata")]


# -- the environment file alone (no lock) ----------------------------------------------------


def test_an_unpinned_side_is_shown_as_any_version() -> None:
    """Without a lock the versions are the file's pins; a side without an exact pin is
    shown as (any), and the finding holds for every platform (none is named)."""
    env = spec(conda=(dep("python", "3.11"), dep("numpy", "1.26.4")), pip=(pin("numpy", line=9),))
    (finding,) = audit(ctx(env), select=["P204"])
    assert finding.evidence == ("conda: numpy 1.26.4", "pip: numpy (any)")
    assert finding.platform is None
    assert where(finding) == (ENV, 9)
    env = spec(conda=(dep("python", "3.11"), dep("numpy")), pip=(pin("numpy", "1.26.4"),))
    (finding,) = audit(ctx(env), select=["P204"])
    assert finding.evidence == ("conda: numpy (any)", "pip: numpy 1.26.4")
    assert finding.message == "pip requirement numpy duplicates the conda package numpy"


def test_pins_that_differ_in_the_file_are_reported_for_every_platform() -> None:
    env = spec(conda=(dep("python", "3.11"), dep("pytorch", "1.11.0")),
               pip=(pin("torch", "1.13.1", line=12),))
    (finding,) = audit(ctx(env), select=["P205"])
    assert finding.platform is None
    assert where(finding) == (ENV, 12)
    assert finding.evidence == ("conda: pytorch 1.11.0", "pip: torch 1.13.1")


def test_every_doubled_pip_line_of_the_file_is_checked() -> None:
    """Lines that are no registry requirement (a VCS URL) and doubles of the other rule
    come first; the lines after them are still compared with the conda pins."""
    clip = req("git+https://github.com/openai/CLIP.git", "vcs", line=8, name="clip",
               url="https://github.com/openai/CLIP.git", vcs="git")
    env = spec(conda=(dep("python", "3.11"), dep("numpy", "1.26.4"), dep("scipy", "1.11.4"),
                      dep("pytorch", "2.1.0")),
               pip=(clip, pin("scipy", "1.12.0", line=9), pin("numpy", "1.26.4", line=10),
                    pin("pillow", line=11), pin("torch", "2.1.0", line=12)))
    found = [(f.code, f.subject, where(f)) for f in audit(ctx(env), select=["P204", "P205"])]
    assert sorted(found) == [("P204", "numpy", (ENV, 10)), ("P204", "torch", (ENV, 12)),
                             ("P205", "scipy", (ENV, 9))]
    # P205 over the lines in the other order: a P204 double first
    env = spec(conda=env.conda, pip=(clip, pin("numpy", "1.26.4", line=9),
                                     pin("scipy", "1.12.0", line=10)))
    found = [(f.code, f.subject, where(f)) for f in audit(ctx(env), select=["P204", "P205"])]
    assert sorted(found) == [("P204", "numpy", (ENV, 9)), ("P205", "scipy", (ENV, 10))]
