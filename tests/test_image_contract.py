"""The image contract links what the plan writes to what ``verify`` and ``build`` read.

Each test takes a Dockerfile the plan renders, reads it back as the engine would record the
built image (``Config.Env``, ``Config.Labels``, ``Config.User``) and checks that ``verify``'s
reading of that configuration arrives at the plan's own values. A constant changed in one
place only (a new prefix, a label renamed, a staging directory moved) fails here.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from dockerfile_parse import DockerfileParser

from conda2docker import image as contract
from conda2docker import verify_checks as vc
from conda2docker.image import DOCKERFILE_NAMES
from conda2docker.model import EnvSpec
from conda2docker.plan import BuildPlan, PlanOptions, make_plan
from conda2docker.plan.instructions import AddArchive, Copy
from conda2docker.render.dockerfile import render_dockerfile
from support.locks import lock_with_builds, lock_with_pip_wheels

SPEC = EnvSpec(source=Path("/work/environment.yml"), name="demo")
PLANS = {
    "cpu-builds": (lock_with_builds, PlanOptions(lock_digest="ab" * 32)),
    "cpu-rattler-vendor": (lock_with_builds, PlanOptions(installer="rattler", vendor=True,
                                                        lock_digest="cd" * 32)),
    "gpu": (lock_with_pip_wheels, PlanOptions(variant="gpu", cuda_version="12.4",
                                              lock_digest="ef" * 32)),
    "other-prefix": (lock_with_pip_wheels, PlanOptions(prefix="/srv/env", uid=2000, gid=2000)),
}


def _plan(case: str) -> tuple[BuildPlan, PlanOptions]:
    make_lock, options = PLANS[case]
    return make_plan(SPEC, make_lock(), options), options


def _engine_config(text: str, args: dict[str, str]) -> dict[str, object]:
    """What the engine records for the final stage of ``text``: Env, Labels, User."""
    parser = DockerfileParser(fileobj=io.BytesIO(text.encode()), build_args=args)
    users = [i["value"] for i in parser.structure if i["instruction"] == "USER"]
    user = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], users[-1])
    return {"Env": [f"{k}={v}" for k, v in parser.envs.items()], "Labels": parser.labels,
            "User": user}


def _arg_defaults(text: str) -> dict[str, str]:
    return dict(re.findall(r'^ARG (\w+)="([^"]*)"$', text, flags=re.M))


@pytest.mark.parametrize("case", sorted(PLANS))
def test_verify_reads_back_what_the_plan_writes(case: str) -> None:
    plan, options = _plan(case)
    text = render_dockerfile(plan)
    seen = vc.image_facts(_engine_config(text, _arg_defaults(text)), "amd64")
    assert seen.prefix == plan.prefix == options.prefix
    assert seen.python == f"{plan.prefix}/bin/python"
    assert seen.platform == plan.platform
    assert seen.label_digest == options.lock_digest
    assert seen.variant == plan.variant
    assert seen.dockerfile == DOCKERFILE_NAMES[plan.variant]
    assert seen.user == f"{options.uid}:{options.gid}"


@pytest.mark.parametrize("case", sorted(PLANS))
def test_verify_looks_for_caches_in_the_home_the_plan_creates(case: str) -> None:
    plan, _ = _plan(case)
    text = render_dockerfile(plan)
    home = re.search(r"--home-dir (\S+)", text)
    assert home is not None
    seen = vc.image_facts(_engine_config(text, _arg_defaults(text)), "amd64")
    assert f"{home.group(1)}/.cache/pip" in seen.cache_paths
    assert f"{plan.prefix}/pkgs" in seen.cache_paths
    assert plan.runtime.workdir.startswith(home.group(1) + "/")


@pytest.mark.parametrize("case", sorted(PLANS))
def test_every_build_only_path_is_a_leftover_verify_looks_for(case: str) -> None:
    """Paths the build stages write outside the prefix are ones verify checks the runtime
    does not carry, and the runtime copies only into the prefix."""
    plan, _ = _plan(case)
    written: set[str] = set()
    for stage in plan.stages:
        for instruction in stage.instructions:
            if isinstance(instruction, AddArchive) or (
                    isinstance(instruction, Copy) and stage.name != "runtime"):
                written.add(instruction.dest)
        if stage.name == "runtime":
            copies = [i for i in stage.instructions if isinstance(i, Copy)]
            assert copies and all(c.dest.rstrip("/") == plan.prefix for c in copies)
    outside = {p for p in written if not p.startswith(plan.prefix)}
    leftovers = vc.SOURCE_PATHS
    uncovered = {p for p in outside if not any(p == root or p.startswith(root.rstrip("/") + "/")
                                                for root in (*leftovers, contract.CUDA_EXT_PREFIX))}
    assert not uncovered


def test_the_contract_is_the_one_spelling() -> None:
    """No module of the package spells a contract value of its own."""
    source = Path(contract.__file__).parent
    values = [contract.PREFIX, contract.STAGING, contract.PIP_PREFIX, contract.BOOTSTRAP_PREFIX,
              contract.LABEL_LOCK_SHA256, contract.LABEL_VARIANT, '"Dockerfile.gpu"',
              contract.PROJECT_PREFIX, contract.CUDA_EXT_PREFIX, contract.RUNTIME_IMAGE,
              contract.PIP_CACHE, contract.CONDA_PKGS_DIR, contract.CUDA_HOME, contract.BUILD_LOG,
              contract.LOCK_NAMES["gpu"], contract.AUDIT_NAMES["cpu"], contract.BUILD_IMAGE]
    offenders = []
    for path in sorted(source.rglob("*.py")):
        if path.name == "image.py" or "data" in path.relative_to(source).parts:
            continue
        code = "\n".join(line for line in path.read_text(encoding="utf-8").splitlines()
                         if not line.lstrip().startswith(("#", '"""', "``", "*")))
        offenders += [f"{path.relative_to(source)}: {v}" for v in values
                      if re.search(re.escape(v if v.startswith('"') else f'"{v}"'), code)]
    assert not offenders
