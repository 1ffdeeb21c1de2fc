"""Plain environment files are composed by libyaml with YAML 1.2's core resolution: the result
is what ruamel's round-trip reading gives (values, their types, positions), or ruamel reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conda2docker.errors import InputError
from conda2docker.read import read_input, yamlpos
from support.shared import SHARED

SOURCE = Path("environment.yml")
REPO = Path(__file__).parents[1]


def _shape(value: Any) -> Any:
    """A loaded document as plain data: each scalar with its builtin type and its text (the
    reader uses both), each collection with its ``lc.data`` positions."""
    if isinstance(value, dict):
        return ("map", [(_shape(k), _shape(v)) for k, v in value.items()], value.lc.data)
    if isinstance(value, list):
        return ("seq", [_shape(v) for v in value], value.lc.data)
    kind = next(t for t in (bool, int, float, str, type(None), object) if isinstance(value, t))
    return (kind.__name__, str(value), yamlpos.scalar_text(value))


def _both(text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    def outcome() -> Any:
        try:
            return _shape(yamlpos.load_yaml(text, SOURCE)[0])
        except InputError as error:
            return error.one_line()

    monkeypatch.setattr(yamlpos, "CORE_FIRST", False)
    ruamel = outcome()
    monkeypatch.setattr(yamlpos, "CORE_FIRST", True)
    return outcome(), ruamel


PLAIN_CASES = [
    "a: 1.10", "a: 0777", "a: 08", "a: +1", "a: -0", "a: 1.", "a: .5", "a: -.5", "a: 3.10",
    "a: yes", "a: No", "a: on", "a: ~", "a: NULL", "a: ''", "a:", "a: True", "a: FALSE",
    "a: 1:20", "a: 0o17", "a: 0x1F", "a: 0b101", "a: 1_000", "a: 1e3", "a: 1.0e3", "a: .inf",
    "a: .NaN", "a: 2001-12-14", "a: 2001-12-14 10:00:00", "a: =", "a: <<", "<<: {a: 1}",
    "a: 1\na: 2", "? [a]\n: b", "a: 'x", "- a\n- b: c\n  d: [1, 2]\n", "", "# only\n",
    "name: x\nchannels:\n  - conda-forge\ndependencies:\n  - python=3.10\n  - numpy >=1.2\n"
    "  - pip:\n    - requests==2.31  # pinned\n",
]


@pytest.mark.parametrize("text", PLAIN_CASES)
def test_libyaml_reads_as_ruamel_does(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    core, ruamel = _both(text, monkeypatch)
    assert core == ruamel


def test_plain_files_do_not_load_ruamel() -> None:
    import subprocess
    import sys

    code = ("import sys\nfrom pathlib import Path\nfrom conda2docker.read import yamlpos\n"
            "print(yamlpos.load_yaml('name: x\\ndependencies: [python=3.11, numpy]\\n',"
            " Path('e.yml'))[0]['dependencies'][0], 'ruamel.yaml' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["python=3.11", "False"]


def test_what_libyaml_is_unsure_of_goes_to_ruamel() -> None:
    for text in ("a: 0x1F", "a: 1e3", "a: 2001-12-14", "<<: {a: 1}", "a: 1\na: 2", "? [a]\n: b"):
        assert yamlpos._load_core(text) is yamlpos._UNSURE, text
    for text in ("a: &x 1\nb: *x", "a: !foo x", "%YAML 1.1\n---\na: yes", "a: 'x"):
        assert not yamlpos._check_size(text, SOURCE), text


scalar_text = st.text(alphabet="0123456789+-._:eExXoObB~ aytnfuTFNl'\"#=<!&*[]{},", max_size=8)
documents = st.lists(st.tuples(st.sampled_from(["a", "b", "1", "yes", "x y"]), scalar_text,
                               st.booleans()), max_size=4)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(items=documents)
def test_generated_yaml_reads_the_same_both_ways(items: list[tuple[str, str, bool]],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    lines = [f"{key}:\n  - {value}" if as_list else f"{key}: {value}" for key, value, as_list in items]
    core, ruamel = _both("\n".join(lines) + "\n", monkeypatch)
    assert core == ruamel


def _env_files() -> list[Path]:
    found = sorted((REPO / "tests" / "fixtures" / "envs").glob("*.y*ml"))
    found += sorted((REPO / "sample_envs").glob("*/environment.y*ml"))
    corpus = SHARED / "corpus" / "envs"
    if corpus.is_dir():
        found += sorted(p for p in corpus.iterdir() if p.is_file())
    return [p for p in found if "lock" not in p.name]


@pytest.mark.parametrize("path", _env_files(), ids=lambda p: p.name)
def test_every_real_file_reads_the_same_both_ways(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def outcome() -> Any:
        try:
            return read_input(path)
        except InputError as error:
            return error.one_line()

    monkeypatch.setattr(yamlpos, "CORE_FIRST", False)
    ruamel = outcome()
    monkeypatch.setattr(yamlpos, "CORE_FIRST", True)
    assert outcome() == ruamel
