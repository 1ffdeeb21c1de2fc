"""Every pattern check of an untrusted value holds to the value's very end.

Python's ``$`` also matches before a final line break, so ``^[0-9a-f]{64}$`` accepted a
digest followed by ``\\n``: a lock's hash, a package name or an image reference could carry
a line break into a generated file. The checks anchor with ``\\Z``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from conda2docker import validate
from conda2docker.errors import InputError
from conda2docker.plan import PlanOptions, checked_options, instructions
from conda2docker.plan.gpu import check_cuda_version
from conda2docker.render.quoting import arg_word, path_word
from support.hostile import LINE_ENDS, end_id
from support.locks import lock_with_pip_wheels

GOOD: list[tuple[Callable[[Any], str], str]] = [
    (validate.check_md5, "0" * 32),
    (validate.check_sha256, "A" * 64),
    (validate.check_conda_name, "python"),
    (validate.check_pip_name, "six"),
    (validate.check_image_reference, "nvidia/cuda:12.4.1-devel-ubuntu22.04@sha256:" + "a" * 64),
    (validate.check_conda_url, "https://h.example/c/linux-64/x-1-0.conda"),
    (validate.check_pip_url, "https://h.example/six-1.16.0-py2.py3-none-any.whl#sha256=ab"),
    (instructions.check_sha256, "a" * 64),
    (instructions.check_env_name, "PATH"),
    (instructions.check_label_key, "org.opencontainers.image.title"),
    (instructions.check_stage_name, "env"),
    (instructions.check_debian_package, "libgomp1"),
    (instructions.check_pip_name, "six"),
    (check_cuda_version, "12.4"),
    (path_word, "/opt/conda2docker/env"),
    (arg_word, "${APP_UID}:${APP_GID}"),
]


@pytest.mark.parametrize(("check", "value"), GOOD, ids=[c.__name__ + ":" + v[:20] for c, v in GOOD])
@pytest.mark.parametrize("end", LINE_ENDS, ids=end_id)
def test_a_value_is_accepted_alone_and_refused_with_a_final_line_break(
        check: Callable[[Any], str], value: str, end: str) -> None:
    assert check(value) in (value, value.lower())
    with pytest.raises(InputError):
        check(value + end)


@pytest.mark.parametrize("field", ["prefix", "user_name", "support_dir", "cuda_arch_list", "cuda_version"])
@pytest.mark.parametrize("end", LINE_ENDS, ids=end_id)
def test_a_plan_option_with_a_line_terminator_is_refused_with_its_fix(field: str, end: str) -> None:
    """``PlanOptions`` values land in ``ENV``/``ARG``/``COPY``/``USER`` lines; the plan checks
    each one whole (``/opt/env\\n`` passed the old ``$``-anchored prefix check)."""
    lock = lock_with_pip_wheels()
    value = getattr(PlanOptions(), field) or "12.4"
    assert checked_options(lock, PlanOptions(**{field: value}))
    with pytest.raises(instructions.PlanError) as raised:
        checked_options(lock, PlanOptions(**{field: value + end}))
    assert raised.value.fix


def test_one_sha256_pattern_serves_the_lock_readers_and_the_plan() -> None:
    """The readers accept either case and return lowercase; the plan takes only lowercase,
    which is what the readers return: one pattern, ``validate.SHA256_HEX``."""
    digest = validate.check_sha256("AB" * 32)
    assert digest == "ab" * 32 and instructions.check_sha256(digest) == digest
    with pytest.raises(instructions.PlanError):
        instructions.check_sha256("AB" * 32)


def _classifiers() -> list[tuple[str, Callable[[str], object], str, object, object]]:
    """(what, classify, value, its class, the class of ``value`` + a line terminator)."""
    from pathlib import Path

    from conda2docker.activation import parse_evaluation
    from conda2docker.cuda import facts
    from conda2docker.lockfile import split_conda_file_name
    from conda2docker.read.condaspec import python_version_of
    from conda2docker.read.specfile import is_pip_file_name
    from conda2docker.resolve.pip.target import is_free_threaded

    def measured(name: str) -> object:
        marks = "C2D-ACTIVATION-SCRIPTS\0C2D-ACTIVATION-BEFORE\0C2D-ACTIVATION-AFTER\0"
        return parse_evaluation(f"{marks}{name}=1\0".encode()).set

    return [
        ("conda file name", split_conda_file_name, "numpy-1.26.4-py311_0.conda",
         ("numpy", "1.26.4", "py311_0"), None),
        ("exact python pin", python_version_of, "3.11", "3.11", None),
        ("cuda library", facts.is_cuda_conda, "libcublas-dev", True, False),
        ("free-threaded build", is_free_threaded, "h0_cp313t", True, False),
        ("pip file name", lambda name: is_pip_file_name(Path(name + ".txt")), "dev-requirements", True, False),
        ("activation variable", measured, "CUDA_HOME", (("CUDA_HOME", "1"),), ()),
    ]


@pytest.mark.parametrize("end", ["\n", "\u2028"], ids=end_id)
@pytest.mark.parametrize("case", range(len(_classifiers())), ids=[c[0] for c in _classifiers()])
def test_a_classifier_holds_to_the_value_s_end(case: int, end: str) -> None:
    """Values that decide what a file, a package or a variable is: with a final line
    terminator they are not the thing they name."""
    _, classify, value, good, bad = _classifiers()[case]
    assert classify(value) == good
    assert classify(value + end) == bad


@pytest.mark.parametrize("text", ["python-3.11\n", "python-3.11\r\n", "python-3.11"])
def test_runtime_txt_is_read_line_by_line_so_its_own_line_break_is_no_part_of_the_version(
        tmp_path: Any, text: str) -> None:
    from conda2docker.init.configfiles import read_runtime

    path = tmp_path / "runtime.txt"
    path.write_bytes(text.encode())
    assert read_runtime(path) == "3.11"


DOLLAR_KEPT = {
    ("audit/registry.py", r"^[A-Z][1-9]\d\d$"): "the rule codes of our own source, not an input",
    ("engine/build.py", r"^Step (?P<n>\d+)/(?P<total>\d+) : (?P<instruction>.*)$"): "one build-log line",
    ("engine/build.py", r"^\s*---> Using cache\s*$|^--> Using cache\b"): "one build-log line",
    ("engine/build.py", r"^(?:\[\d+/\d+\] )?STEP (?P<n>\d+)/(?P<total>\d+): (?P<instruction>.*)$"):
        "one build-log line (podman)",
    ("engine/build.py", r'^building at STEP "(?P<instruction>[^"]*)": .*exit status (?P<code>\d+)\s*$'):
        "one build-log line (podman)",
    ("engine/bake.py", r"^#(?P<n>\d+) ERROR: (?P<message>.*)$"): "one line of buildx bake's output",
    ("engine/bake.py", r"^ERROR: (?P<message>.*)$"): "one line of buildx bake's output",
    ("engine/bake.py", r"^ERROR: target (?P<name>[A-Za-z0-9_-]+): (?P<message>.*)$"):
        "one line of buildx bake's output",
    ("engine/build.py", r"(?:-\d[^/]*)?(?:\.tar\.gz|\.zip|\.whl|\.conda|\.tar\.bz2)$"):
        "a word cut from one build-log line (a message, not a value)",
    ("lockfile.py", r"^#\s*pip\s+(?P<name>[A-Za-z0-9._-]+)\s*@\s*(?P<url>\S+)$"):
        "one line of an explicit lock (splitlines); its values are checked by check_locked_package",
    ("read/piplines.py", r"(^|\s+)#.*$"): "removes a comment from one line; the rest is stripped",
    ("read/selectors.py", r"#\s*\[([^\[\]]+)\]\s*(?:#.*)?$"): "one line of an environment file",
    ("read/specfile.py", r"^#\s*platform:\s*(\S+)\s*$"): "one stripped line of a spec file",
    ("read/specfile.py", r"^[A-Za-z0-9_.\-]+\s+[0-9*][^\s;@]*(\s+\S+)?$"): "one line: which syntax",
    ("read/specfile.py", r"^\S+\.(conda|tar\.bz2)(#\S*)?$"): "one line: which syntax",
    ("render/apptainer.py", "{}(?=/|$|[\\s'\\\"])"): "the plan's own generated command text",
}
"""The ``$`` anchors left in ``src``, each with why: its subject is one line of a text already
split at its line breaks, or not an input. ``re.MULTILINE`` scans are left out (``$`` is each
line's end there, as intended)."""


def _dollar_patterns() -> set[tuple[str, str]]:
    import ast
    import re
    from pathlib import Path

    import conda2docker

    root = Path(conda2docker.__file__).parent
    anchor = re.compile(r"(?<!\\)\$")

    def text(node: ast.AST) -> str:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.JoinedStr):
            return "".join(text(value) for value in node.values)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return text(node.left) + text(node.right)
        return "{}"

    found = set()
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "re"
                    and node.func.attr in {"compile", "match", "search", "fullmatch", "sub", "subn",
                                           "split", "findall", "finditer"}
                    and node.args and "MULTILINE" not in ast.dump(node)):
                pattern = text(node.args[0])
                if anchor.search(re.sub(r"\[(?:\\.|[^\]\\])*\]", "", pattern)):  # not in a [class]
                    found.add((path.relative_to(root).as_posix(), pattern))
    return found


def test_every_dollar_anchor_left_in_src_is_a_line_scan_with_its_reason() -> None:
    """A new pattern check of an input value anchors with ``\\Z``; a ``$`` that is meant (a
    line scan) is added to :data:`DOLLAR_KEPT` with its reason."""
    assert _dollar_patterns() == set(DOLLAR_KEPT)
