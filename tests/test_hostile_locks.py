"""Hostile lock files: type confusion in every field, values that would inject a line or an
option into a generated file, and hypothesis-generated locks. Each case runs ``convert`` and
asserts the exit code, one error line (never a traceback) and an untouched workspace.
"""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support.hostile import Workspace, assert_refused, make_workspace, run_cli, tree_state

CF = "https://conda.anaconda.org/conda-forge"


def _md5(seed: str) -> str:
    return hashlib.md5(seed.encode()).hexdigest()


def _sha(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()


def good_lock() -> dict[str, Any]:
    """A valid conda-lock v1 document: python, pip, numpy and one pip wheel."""
    packages: list[dict[str, Any]] = []
    for name, version, build in (("python", "3.11.9", "h0_cpython"), ("pip", "24.2", "pyh0_0"),
                                 ("numpy", "1.26.4", "py311h0_0")):
        file_name = f"{name}-{version}-{build}.conda"
        packages.append({
            "name": name, "version": version, "manager": "conda", "platform": "linux-64",
            "dependencies": {"python": ">=3.11"} if name != "python" else {},
            "url": f"{CF}/linux-64/{file_name}", "hash": {"md5": _md5(file_name), "sha256": _sha(file_name)},
            "category": "main", "optional": False,
        })
    packages.append({
        "name": "six", "version": "1.16.0", "manager": "pip", "platform": "linux-64",
        "dependencies": {}, "url": "https://files.example/six-1.16.0-py2.py3-none-any.whl",
        "hash": {"sha256": _sha("six")}, "category": "main", "optional": False,
    })
    return {
        "version": 1,
        "metadata": {"content_hash": {"linux-64": _sha("x")}, "channels": [{"url": "conda-forge", "used_env_vars": []}],
                     "platforms": ["linux-64"], "sources": ["environment.yml"]},
        "package": packages,
    }


def set_path(document: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(document)
    keys: list[Any] = [int(k) if k.isdigit() else k for k in path.split(".")]
    target: Any = doc
    for key in keys[:-1]:
        target = target[key]
    target[keys[-1]] = value
    return doc


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return make_workspace(tmp_path)


def convert_doc(ws: Workspace, capsys: Any, document: Any, *extra: str) -> Any:
    lock = ws.proj / "conda-lock.yml"
    lock.write_text(yaml.safe_dump(document, sort_keys=False) if not isinstance(document, str) else document)
    before = tree_state(ws.root, skip=ws.out)
    outcome = run_cli(["convert", str(lock), "-o", str(ws.out), *extra], capsys)
    assert tree_state(ws.root, skip=ws.out) == before
    return outcome


def test_the_good_lock_converts(ws: Workspace, capsys: Any) -> None:
    outcome = convert_doc(ws, capsys, good_lock())
    assert outcome.code == 0, outcome.err
    assert (ws.out / "Dockerfile").is_file()


# (field, hostile value, the words the one error line must hold)
TYPE_CONFUSION: list[tuple[str, Any, str]] = [
    ("version", [1], "version"),
    ("version", "1", "version"),
    ("version", True, "version"),
    ("version", 2, "version"),
    ("version", None, "version"),
    ("metadata", [1], "metadata"),
    ("metadata", "x", "metadata"),
    ("metadata.platforms", 5, "metadata.platforms"),
    ("metadata.platforms", "linux-64", "metadata.platforms"),
    ("metadata.platforms", [["linux-64"]], "metadata.platforms"),
    ("metadata.platforms", ["../x"], "metadata.platforms"),
    ("metadata.platforms", ["linux-64\nFROM evil"], "metadata.platforms"),
    ("metadata.channels", 5, "metadata.channels"),
    ("metadata.channels", "conda-forge", "metadata.channels"),
    ("metadata.channels", [5], "metadata.channels"),
    ("metadata.channels", [{"url": ["x"]}], "metadata.channels"),
    ("metadata.channels", ["conda forge"], "channel"),
    ("metadata.channels", ["conda-forge\n- evil"], "channel"),
    ("metadata.channels", ["javascript://x"], "scheme"),
    ("metadata.content_hash", ["x"], "metadata.content_hash"),
    ("metadata.content_hash", "x", "metadata.content_hash"),
    ("metadata.content_hash", {"linux-64": ["x"]}, "content_hash"),
    ("metadata.content_hash", {"linux-64": "a\nb"}, "content_hash"),
    ("metadata.sources", 5, "metadata.sources"),
    ("metadata.sources", [["x"]], "metadata.sources"),
    ("metadata.custom_metadata", [1], "custom_metadata"),
    ("metadata.custom_metadata", {"conda2docker.roots": "not json"}, "conda2docker.roots"),
    ("metadata.custom_metadata", {"conda2docker.roots": "{\"a\": 1}"}, "conda2docker.roots"),
    ("metadata.custom_metadata", {"conda2docker.roots": "[1, 2]"}, "conda2docker.roots"),
    ("package", "x", "package"),
    ("package", {"a": 1}, "package"),
    ("package.0", "x", "not a mapping"),
    ("package.0", [1], "not a mapping"),
    ("package.0.name", "", "name"),
    ("package.0.name", ["python"], "name"),
    ("package.0.name", "py thon", "conda package name"),
    ("package.0.name", "python\nRUN evil", "conda package name"),
    ("package.3.name", "six; rm -rf /", "pip package name"),
    ("package.3.name", "--index-url", "pip package name"),
    ("package.0.version", ["3"], "version"),
    ("package.0.version", "3.11\nFROM x", "control character"),
    ("package.0.manager", "npm", "unknown manager"),
    ("package.0.manager", ["conda"], "unknown manager"),
    ("package.3.platform", ["linux-64"], "platform"),
    ("package.3.platform", {"a": 1}, "platform"),
    ("package.0.url", 5, "url"),
    ("package.0.url", ["x"], "url"),
    ("package.0.url", "not a url", "conda package URL"),
    ("package.0.url", f"{CF}/linux-64/python-3.11.9-h0_cpython.conda\n{CF}/linux-64/evil-1-0.conda",
     "conda package URL"),
    ("package.0.url", f"{CF}/linux-64/python-3.11.9-h0_cpython.conda#{'0' * 32}", "fragment"),
    ("package.0.url", f"{CF}/linux-64/python-3.11.9-h0_cpython.conda %23{'0' * 32}", "conda package URL"),
    ("package.0.url", "ftp://h.example/c/linux-64/python-3.11.9-h0_cpython.conda", "scheme"),
    ("package.0.url", "data:,linux-64/python-3.11.9-h0_cpython.conda", "scheme"),
    ("package.0.url", "linux-64/python-3.11.9-h0_cpython.conda", "scheme"),
    ("package.0.url", f"{CF}/linux-64/python-3.11.9-h0_cpython.txt", "conda package file name"),
    ("package.0.url", f"{CF}/LINUX 64/python-3.11.9-h0_cpython.conda", "conda package URL"),
    ("package.0.url", f"{CF}/linux-64/python-3.11.9-h0_cpython.conda\u2028", "conda package URL"),
    ("package.0.url", f"{CF}/linux-64/pyth\u00f6n-3.11.9-h0_cpython.conda", "conda package URL"),
    ("package.0.url", "https://" + "a" * 5000 + "/linux-64/x-1-0.conda", "too long"),
    ("package.3.url", "https://files.example/six-1.16.0.whl --index-url https://evil", "pip package URL"),
    ("package.3.url", "https://files.example/six.whl\n--extra-index-url https://evil", "pip package URL"),
    ("package.3.url", "javascript:alert(1)", "scheme"),
    ("package.3.url", "https://files.example/six-1.16.0-py2.py3-none-any.whl#sha256=a b", "pip package URL"),
    ("package.0.hash", "abc", "hash"),
    ("package.0.hash", ["abc"], "hash"),
    ("package.0.hash", {"md5": 5}, "md5"),
    ("package.0.hash", {"md5": ["x"]}, "hash"),
    ("package.0.hash", {"md5": "xyz"}, "md5"),
    ("package.0.hash", {"md5": "0" * 31}, "md5"),
    ("package.0.hash", {"md5": "0" * 32 + "\nx"}, "md5"),
    ("package.0.hash", {"sha256": "z" * 64}, "sha256"),
    ("package.3.hash", {"sha256": "0" * 63}, "sha256"),
    ("package.3.hash", {"sha256": "0" * 64 + "\n"}, "sha256"),
    ("package.0.hash", {"md5": "0" * 32 + "\n"}, "md5"),
    ("package.3.name", "six\n", "pip package name"),
    ("package.3.hash", {"sha256": "0" * 64 + " --hash=sha256:" + "1" * 64}, "sha256"),
    ("package.0.dependencies", ["python"], "dependencies"),
    ("package.0.dependencies", "python", "dependencies"),
    ("package.1.dependencies", {"python": ">=3\nRUN x"}, "control character"),
    ("package.0.category", "main\nx", "control character"),
]


@pytest.mark.parametrize(("field", "value", "needle"), TYPE_CONFUSION,
                         ids=[f"{f}={v!r}"[:60].replace("\\", "/") for f, v, _ in TYPE_CONFUSION])
def test_type_confusion_in_a_lock_field_is_one_line(ws: Workspace, capsys: Any, field: str, value: Any,
                                                     needle: str) -> None:
    outcome = convert_doc(ws, capsys, set_path(good_lock(), field, value))
    line = assert_refused(outcome, 2, "conda-lock.yml")
    assert needle.lower() in line.lower(), line
    assert not (ws.out / "Dockerfile").exists()


@pytest.mark.parametrize("text", [
    "", "null\n", "[]\n", "5\n", "'x'\n", "package: 5\nversion: 1\n", "{version: 1, package: [[]]}\n",
    "version: 1\npackage:\n- name: x\n  manager: conda\n", "\x00\x01\x02", "version: 1\npackage: !!python/object:os.system x\n",
    "version: 1\npackage: &a [*a]\n", "a: &a [*a, *a, *a]\nb: *a\n",
])
def test_a_lock_that_is_not_a_lock_is_one_line(ws: Workspace, capsys: Any, text: str) -> None:
    outcome = convert_doc(ws, capsys, text)
    assert_refused(outcome, 2)


def test_the_generated_files_hold_no_injected_line(ws: Workspace, capsys: Any) -> None:
    """A pip name and URL at the edge of what is valid reach the requirement file as one line."""
    document = set_path(good_lock(), "package.3.url",
                        "https://files.example/p/six-1.16.0-py2.py3-none-any.whl?a=1&b=%0A--index-url")
    outcome = convert_doc(ws, capsys, document)
    assert outcome.code == 0, outcome.err
    requirements = (ws.out / "conda2docker" / "requirements.pip.txt").read_text().splitlines()
    assert len(requirements) == 1 and requirements[0].startswith("six @ https://files.example/")
    explicit = (ws.out / "conda2docker" / "conda-linux-64.lock").read_text().splitlines()
    assert [line for line in explicit if not line.startswith("#")][1:] == [
        line for line in explicit if line.startswith("https://")]


# ------------------------------------------------------------------ hypothesis: generated locks

SAFE_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), SAFE_TEXT,
                    st.lists(SAFE_TEXT, max_size=2), st.dictionaries(SAFE_TEXT, SAFE_TEXT, max_size=2))
FIELDS = ["name", "version", "manager", "platform", "url", "hash", "dependencies", "category",
          "optional", "build"]


@st.composite
def hostile_locks(draw: Any) -> dict[str, Any]:
    """A valid lock with some fields of some packages (and of the metadata) replaced."""
    document = good_lock()
    for _ in range(draw(st.integers(1, 4))):
        index = draw(st.integers(0, len(document["package"]) - 1))
        field = draw(st.sampled_from(FIELDS))
        document["package"][index][field] = draw(SCALARS)
    if draw(st.booleans()):
        key = draw(st.sampled_from(["platforms", "channels", "content_hash", "sources", "custom_metadata"]))
        document["metadata"][key] = draw(SCALARS)
    return document


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=hostile_locks())
def test_any_mangled_lock_gives_success_or_one_line_per_problem(tmp_path: Path, capsys: Any, document: dict[str, Any]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory(dir=tmp_path) as tmp:
        ws = make_workspace(Path(tmp))
        outcome = convert_doc(ws, capsys, document)
        assert "Traceback" not in outcome.err
        if outcome.code != 0:
            assert outcome.code in (1, 2, 3), outcome.err
            assert outcome.error_lines, outcome.err
            if len(outcome.error_lines) > 1:  # the reader's: one line per problem, placed, fixable
                for line in outcome.error_lines:
                    assert "; fix: " in line and "conda-lock.yml:" in line, outcome.err
        else:
            for path in ws.out.rglob("*"):
                if path.is_file():
                    assert all(ord(c) >= 32 or c in "\n\t" for c in path.read_text(errors="replace")), path


def test_a_bad_package_is_located_at_its_value(ws: Workspace, capsys: Any) -> None:
    document = set_path(good_lock(), "package.2.url", f"{CF}/linux-64/..%2F..%2Fnumpy-1-0.conda")
    outcome = convert_doc(ws, capsys, document)
    line = assert_refused(outcome, 2, "package 'numpy'")
    text = (ws.proj / "conda-lock.yml").read_text().splitlines()
    number, column = map(int, line.split("conda-lock.yml:")[1].split(":")[:2])
    assert text[number - 1].startswith("  url: ") and column == len("  url: ") + 1


def test_every_bad_entry_of_a_lock_is_reported_at_once(ws: Workspace, capsys: Any) -> None:
    """Three broken packages, two broken fields in one, a broken metadata value: one line for
    each problem, each at its own line and column, in file order; still refused."""
    document = good_lock()
    document["metadata"]["platforms"] = ["linux-64", "../x"]
    document["package"][0]["url"] = "ftp://h.example/c/linux-64/python-3.11.9-h0_cpython.conda"
    document["package"][2]["hash"] = {"md5": "xyz", "sha256": "z" * 64}
    document["package"][2]["version"] = "1\nRUN evil"
    document["package"][3]["name"] = "six; rm -rf /"
    document["package"].insert(1, "not a package")
    outcome = convert_doc(ws, capsys, document)
    assert outcome.code == 2 and "Traceback" not in outcome.err
    lines = outcome.error_lines
    text = (ws.proj / "conda-lock.yml").read_text().splitlines()
    places = [tuple(map(int, line.split("conda-lock.yml:")[1].split(":")[:2])) for line in lines]
    assert places == sorted(places) and len(set(places)) == len(places) == 7, outcome.err
    written = [text[number - 1][column - 1:] for number, column in places]
    values = ["../x", "ftp://h.example/", "not a package", "1", "xyz", "z" * 64, "six; rm -rf /"]
    assert all(w.lstrip("'").startswith(v) for w, v in zip(written, values, strict=True)), written
    needles = ["invalid platform '../x'", "package 'python': conda package URL", "package #2 is not a mapping",
               "package 'numpy': version contains", "package 'numpy': invalid md5",
               "package 'numpy': invalid sha256", "invalid pip package name 'six; rm -rf /'"]
    for needle, line in zip(needles, lines, strict=True):
        assert needle in line and "; fix: " in line, (needle, line)
    assert not (ws.out / "Dockerfile").exists()
