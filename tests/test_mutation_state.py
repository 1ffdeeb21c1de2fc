"""The mutation run's verdicts survive the machine: ``scripts/mutation_state.py`` saves mutmut's
verdicts and function hashes to ``benchmarks/mutation/verdicts.json`` and seeds a new
``mutants/`` from them (issue 16: a lost machine used to lose ten hours of verdicts)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "mutation_state.py"
# The keys mutmut 3.8.1's SourceFileMutationData.load reads (it asserts there are no others).
META_KEYS = {"exit_code_by_key", "hash_by_function_name", "type_check_error_by_key",
             "durations_by_key", "estimated_durations_by_key"}
MODULE = "src/conda2docker/read/decode.py"


def meta(verdicts: dict[str, int | None], hashes: dict[str, str]) -> dict[str, Any]:
    return {"exit_code_by_key": verdicts, "hash_by_function_name": hashes,
            "type_check_error_by_key": {}, "durations_by_key": {k: 1.5 for k in verdicts},
            "estimated_durations_by_key": {k: 2.0 for k in verdicts}}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "scripts").mkdir()
    shutil.copy2(SCRIPT, tmp_path / "scripts" / SCRIPT.name)
    return tmp_path


def run(tree: Path, command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(tree / "scripts" / SCRIPT.name), command],
                          cwd=tree, capture_output=True, text=True, check=False, timeout=60)


def write_meta(tree: Path, module: str, data: dict[str, Any]) -> Path:
    path = tree / "mutants" / f"{module}.meta"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=4), encoding="utf-8")
    return path


def test_verdicts_saved_then_seeded_on_a_new_machine_come_back_whole(tree: Path) -> None:
    verdicts = {"conda2docker.read.decode.x_size_text__mutmut_2": 1,
                "conda2docker.read.decode.x_size_text__mutmut_1": 0,
                "conda2docker.read.decode.x__decode__mutmut_7": None}
    hashes = {"x_size_text": "ab12", "x__decode": "cd34"}
    write_meta(tree, MODULE, meta(verdicts, hashes))

    saved = run(tree, "save")
    assert saved.returncode == 0, saved.stderr
    assert "saved 2 of 3 verdicts" in saved.stdout
    record = tree / "benchmarks" / "mutation" / "verdicts.json"
    first = record.read_bytes()
    assert json.loads(first) == {MODULE: {"functions": hashes, "verdicts": verdicts}}
    assert run(tree, "save").returncode == 0
    assert record.read_bytes() == first  # deterministic bytes: a re-save is no diff to commit

    shutil.rmtree(tree / "mutants")  # the machine is lost; the repository is not
    assert run(tree, "seed").returncode == 0
    seeded = json.loads((tree / "mutants" / f"{MODULE}.meta").read_text(encoding="utf-8"))
    assert set(seeded) == META_KEYS
    assert seeded["exit_code_by_key"] == verdicts
    assert seeded["hash_by_function_name"] == hashes


def test_seeding_never_overwrites_the_results_of_a_run_in_progress(tree: Path) -> None:
    record = tree / "benchmarks" / "mutation" / "verdicts.json"
    record.parent.mkdir(parents=True)
    record.write_text(json.dumps({MODULE: {"functions": {"x_f": "old"},
                                           "verdicts": {"conda2docker.read.decode.x_f__mutmut_1": 0}}}))
    live = write_meta(tree, MODULE, meta({"conda2docker.read.decode.x_f__mutmut_1": 1}, {"x_f": "new"}))
    before = live.read_bytes()
    assert run(tree, "seed").returncode == 0
    assert live.read_bytes() == before


def test_nothing_to_save_is_an_error_not_an_empty_record(tree: Path) -> None:
    record = tree / "benchmarks" / "mutation" / "verdicts.json"
    record.parent.mkdir(parents=True)
    record.write_text("{}")
    result = run(tree, "save")
    assert result.returncode == 2
    assert "no mutants/src/**/*.py.meta" in result.stderr
    assert record.read_text() == "{}"


def test_forget_removes_the_kept_run_and_an_unknown_command_is_refused(tree: Path) -> None:
    state = tree / "benchmarks" / "mutation"
    state.mkdir(parents=True)
    for name in ("verdicts.json", "segments.txt", "load.txt"):
        (state / name).write_text("x")
    assert run(tree, "forget").returncode == 0
    assert not any(state.iterdir())
    refused = run(tree, "sav")
    assert refused.returncode == 2 and "usage:" in refused.stderr


def test_a_seeded_meta_loads_in_mutmut(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data_module = pytest.importorskip("mutmut.mutation.data", reason="mutmut is not a test dependency")
    record = tree / "benchmarks" / "mutation" / "verdicts.json"
    record.parent.mkdir(parents=True)
    record.write_text(json.dumps({MODULE: {"functions": {"x_f": "h"},
                                           "verdicts": {"conda2docker.read.decode.x_f__mutmut_1": 1}}}))
    assert run(tree, "seed").returncode == 0
    monkeypatch.chdir(tree)  # mutmut reads mutants/ from the working directory
    loaded = data_module.SourceFileMutationData(path=MODULE)
    loaded.load()
    assert loaded.exit_code_by_key == {"conda2docker.read.decode.x_f__mutmut_1": 1}
    assert loaded.hash_by_function_name == {"x_f": "h"}
