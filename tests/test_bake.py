"""The bake plan and its HCL: names made safe, tags from the template, cache settings, quoting
that no value can escape; every file read back by python-hcl2 against bake's attributes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conda2docker.errors import InputError
from conda2docker.plan.bake import (
    BakeFile,
    BakeTarget,
    BakeVariant,
    bake_file,
    check_tag_template,
    repository,
    safe_name,
    unique_names,
)
from conda2docker.plan.instructions import PlanError
from conda2docker.render.bake import hcl_string, render_bake
from support.bake import literal, parse_bake
from support.hostile import LINE_ENDS, end_id
from support.snapshots import assert_snapshot

SHA_A = "a" * 12 + "0" * 52
SHA_B = "b" * 12 + "1" * 52


def lab() -> list[BakeVariant]:
    return [
        BakeVariant("scipy-stack", "cpu", "scipy-stack", SHA_A, ("linux-64", "linux-aarch64")),
        BakeVariant("torch", "cpu", "torch", SHA_A, ("linux-64",)),
        BakeVariant("torch", "gpu", "torch", SHA_B, ("linux-64",)),
    ]


def test_bake_file_snapshot_and_parse() -> None:
    text = render_bake(bake_file(lab(), tag_template="registry.example.org/lab/{name}:{variant}-{lock_hash}",
                                 cache="registry"))
    assert_snapshot("lab.docker-bake.hcl", text)
    parsed = parse_bake(text)
    assert parsed["group"]["default"]["targets"] == ["scipy-stack-cpu", "torch-cpu", "torch-gpu"]
    gpu = parsed["target"]["torch-gpu"]
    assert gpu["context"] == "torch" and gpu["dockerfile"] == "Dockerfile.gpu"
    assert gpu["tags"] == ["registry.example.org/lab/torch:gpu-bbbbbbbbbbbb"]
    assert gpu["cache-from"] == ["type=registry,ref=registry.example.org/lab/torch:buildcache-gpu"]
    assert gpu["cache-to"] == ["type=registry,ref=registry.example.org/lab/torch:buildcache-gpu,mode=max"]
    assert gpu["labels"]["io.conda2docker.lock.sha256"] == SHA_B
    assert gpu["labels"]["io.conda2docker.variant"] == "gpu"
    assert parsed["target"]["scipy-stack-cpu"]["platforms"] == ["linux/amd64", "linux/arm64"]


def test_default_tags_local_cache_and_no_cache() -> None:
    local = parse_bake(render_bake(bake_file(lab(), cache="local")))["target"]
    assert local["torch-cpu"]["tags"] == ["torch:cpu-aaaaaaaaaaaa"]
    assert local["torch-cpu"]["cache-from"] == ["type=local,src=.buildx-cache/torch-cpu"]
    assert local["torch-cpu"]["cache-to"] == ["type=local,dest=.buildx-cache/torch-cpu,mode=max"]
    none = parse_bake(render_bake(bake_file(lab())))["target"]
    assert "cache-from" not in none["torch-cpu"] and "cache-to" not in none["torch-cpu"]


def test_rendering_is_deterministic() -> None:
    first = render_bake(bake_file(lab(), cache="local")).encode()
    assert first == render_bake(bake_file(list(lab()), cache="local")).encode()


@pytest.mark.parametrize(("template", "why"), [
    ("registry.example.org/lab/{nam}:{variant}", "unknown placeholder"),
    ("registry.example.org/lab/{name}:{variant", "stray brace"),
    ("Registry.example.org/LAB/{name}", "image reference"),
    ("lab/{name}:${HOME}", "unknown placeholder(s) 'HOME'"),
    ("lab/{name}@sha256:" + "0" * 64, "digest"),
    ("lab/{name}:{variant}\nRUN x", "image reference"),
])
def test_bad_templates_are_refused(template: str, why: str) -> None:
    with pytest.raises(InputError, match="tag-template") as caught:
        check_tag_template(template)
    assert why in caught.value.one_line()
    assert "\n" not in caught.value.one_line()


def test_colliding_tags_and_registry_cache_without_template_are_refused() -> None:
    with pytest.raises(InputError, match="gives lab/torch:latest to both torch-cpu and torch-gpu"):
        bake_file(lab(), tag_template="lab/{name}:latest")
    with pytest.raises(InputError, match="--cache registry"):
        bake_file(lab(), cache="registry")


def test_repository_of_a_tag() -> None:
    assert repository("registry:5000/lab/env:cpu-1") == "registry:5000/lab/env"
    assert repository("registry:5000/lab/env") == "registry:5000/lab/env"
    assert repository("env:cpu") == "env"


def test_names_are_safe_and_unique() -> None:
    assert safe_name('My Env "${HOME}"/../x') == "my-env-home-x"
    assert safe_name("环境") == "env"
    assert safe_name("a" * 100) == "a" * 63
    assert unique_names(["Lab", "lab", "LAB!", "other"]) == ["lab", "lab-2", "lab-3", "other"]
    assert unique_names(["a" * 70, "a" * 70]) == ["a" * 63, "a" * 61 + "-2"]


@given(st.lists(st.text(max_size=80), min_size=1, max_size=8))
def test_any_names_become_safe_unique_targets_and_tags(raw: list[str]) -> None:
    import re

    names = unique_names(raw)
    assert len(set(names)) == len(names) == len(raw)
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", n) and len(n) <= 63 for n in names)
    bake = bake_file([BakeVariant(n, "cpu", n, SHA_A, ("linux-64",)) for n in names],
                     tag_template="registry.example.org/lab/{name}:{variant}-{lock_hash}")
    parsed = parse_bake(render_bake(bake))
    assert parsed["group"]["default"]["targets"] == [f"{n}-cpu" for n in names]


def test_targets_refuse_unsafe_names_and_contexts() -> None:
    with pytest.raises(InputError, match="target name"):
        BakeTarget('x" { ', ".", "Dockerfile", (), (), ())
    with pytest.raises(InputError, match="context"):
        BakeTarget("x-cpu", "../etc", "Dockerfile", (), (), ())
    with pytest.raises(InputError, match="environment name"):
        bake_file([BakeVariant("${x}", "cpu", "x", SHA_A, ("linux-64",))])


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=60))
def test_any_text_reads_back_as_itself(value: str) -> None:
    quoted = hcl_string(value)
    assert "${" not in quoted and "%{" not in quoted and "\n" not in quoted
    assert literal(quoted) == value
    target = BakeTarget("t-cpu", ".", "Dockerfile", (value,), (("org.example.note", value),),
                        ("linux/amd64",))
    parsed = parse_bake(render_bake(BakeFile((target,))))
    assert parsed["target"]["t-cpu"]["tags"] == [value]
    assert parsed["target"]["t-cpu"]["labels"] == {"org.example.note": value}


def test_lone_surrogates_are_refused() -> None:
    with pytest.raises(PlanError, match="surrogate"):
        hcl_string("a\ud800b")


@pytest.mark.parametrize("end", LINE_ENDS, ids=end_id)
def test_a_line_terminator_at_a_value_s_end_is_refused(end: str) -> None:
    """The tag template, an environment's name, its context and its lock digest are checked to
    their very end (``$`` let a final ``\\n`` through the name, context and digest checks)."""
    with pytest.raises(InputError, match="tag-template"):
        check_tag_template("registry.example.org/lab/{name}:{variant}" + end)
    for variant in (BakeVariant("torch" + end, "cpu", "torch", SHA_A, ("linux-64",)),
                    BakeVariant("torch", "cpu", "torch", SHA_A + end, ("linux-64",))):
        with pytest.raises(InputError) as caught:
            bake_file([variant])
        assert caught.value.fix
    with pytest.raises(InputError, match="invalid bake context"):
        BakeTarget("torch-cpu", "torch" + end, "Dockerfile", (), (), ())
