"""Keep mutmut's verdicts in the repository, so that a run survives the machine it ran on.

mutmut keeps its results in ``mutants/`` (not tracked): one ``*.py.meta`` file per mutated
module, with each mutant's exit code and a hash of every function's source. A lost machine
loses hours of verdicts. ``save`` copies the verdicts and hashes to
``benchmarks/mutation/verdicts.json`` (tracked); ``seed`` writes them back as meta files where
``mutants/`` has none, and mutmut then keeps the verdict of every function whose hash is
unchanged and checks again only the mutants of functions changed since.

    python scripts/mutation_state.py save | seed | forget
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TypedDict

from conda2docker.outputs import atomic_write

REPO = Path(__file__).resolve().parents[1]
MUTANTS = REPO / "mutants"
STATE = REPO / "benchmarks" / "mutation"
VERDICTS = STATE / "verdicts.json"

class ModuleRecord(TypedDict):
    functions: dict[str, str]  # function name -> hash of its source, as mutmut computes it
    verdicts: dict[str, int | None]  # mutant name -> mutmut's exit code (None: not checked)


Record = dict[str, ModuleRecord]  # keyed by the module's path, src/conda2docker/...


def read_metas() -> Record:
    record: Record = {}
    for meta in sorted(MUTANTS.glob("src/**/*.py.meta")):
        module = meta.relative_to(MUTANTS).as_posix().removesuffix(".meta")
        try:
            data = json.loads(meta.read_text(encoding="utf-8"))
        except json.JSONDecodeError:  # mutmut rewrites a meta file in place after each mutant
            time.sleep(1)
            data = json.loads(meta.read_text(encoding="utf-8"))
        record[module] = {
            "functions": dict(sorted(data.get("hash_by_function_name", {}).items())),
            "verdicts": dict(sorted(data.get("exit_code_by_key", {}).items())),
        }
    return record


def save() -> int:
    record = read_metas()
    if not record:
        print("mutation_state: no mutants/src/**/*.py.meta to save", file=sys.stderr)
        return 2
    atomic_write(VERDICTS, (json.dumps(record, indent=1, sort_keys=True) + "\n").encode())
    decided = sum(v is not None for r in record.values() for v in r["verdicts"].values())
    total = sum(len(r["verdicts"]) for r in record.values())
    print(f"mutation_state: saved {decided} of {total} verdicts to {VERDICTS.relative_to(REPO)}")
    return 0


def seed() -> int:
    if not VERDICTS.is_file():
        return 0
    record: Record = json.loads(VERDICTS.read_text(encoding="utf-8"))
    seeded = 0
    for module, entry in record.items():
        meta = MUTANTS / f"{module}.meta"
        if meta.exists():
            continue
        atomic_write(meta, json.dumps({
            "exit_code_by_key": entry["verdicts"],
            "hash_by_function_name": entry["functions"],
            "type_check_error_by_key": {},
            "durations_by_key": {},
            "estimated_durations_by_key": {},
        }, indent=4).encode())
        seeded += 1
    if seeded:
        print(f"mutation_state: seeded {seeded} module(s) from {VERDICTS.relative_to(REPO)}")
    return 0


def forget() -> int:
    for name in ("verdicts.json", "segments.txt", "load.txt"):
        (STATE / name).unlink(missing_ok=True)
    return 0


def main(argv: list[str]) -> int:
    commands = {"save": save, "seed": seed, "forget": forget}
    if len(argv) != 1 or argv[0] not in commands:
        print(f"usage: {Path(__file__).name} {'|'.join(commands)}", file=sys.stderr)
        return 2
    return commands[argv[0]]()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
