"""Reading a hostile-sized environment file: a file just under the 10 MB cap
(``conda2docker.read.decode.MAX_ENV_FILE``) is answered in under 5 s (issue 15: no hang on
untrusted input). Three shapes: one long ``dependencies:`` list and the same size over
``pip:`` lines and ``variables:`` (both refused at the 10,000-item cap of
``read.yamlpos.MAX_NODES`` without being built), and 9,000 dependencies padded to 10 MB with
comments (read in full)."""

from __future__ import annotations

import contextlib
import json
import tempfile
from pathlib import Path

from common import call_seconds

TARGET_SECONDS = 5.0


def _conda_heavy(limit: int) -> str:
    lines = ["name: big", "channels: [conda-forge]", "dependencies:"]
    size, number = sum(len(line) + 1 for line in lines), 0
    while True:
        line = f"  - pkg{number}>=1.{number % 97},<2"
        if size + len(line) + 1 > limit:
            break
        lines.append(line)
        size += len(line) + 1
        number += 1
    return "\n".join(lines) + "\n"


def _mixed(limit: int) -> str:
    head = ["name: big", "channels: [conda-forge]", "dependencies:", "  - python", "  - pip", "  - pip:"]
    pip, variables = [], ["variables:"]
    size, number = sum(len(line) + 1 for line in head) + 11, 0
    while True:
        a = f"    - pypkg{number}[extra]>=1.{number % 13}; python_version >= '3.8'"
        b = f"  VAR_{number}: 'value {number} with some text'"
        if size + len(a) + len(b) + 2 > limit:
            break
        pip.append(a)
        variables.append(b)
        size += len(a) + len(b) + 2
        number += 1
    return "\n".join([*head, *pip, *variables]) + "\n"


def _accepted(limit: int) -> str:
    """Just under both caps: 9,000 dependencies (under the 10,000-item cap) and long comments
    filling the file to 10 MB."""
    lines = ["name: big", "channels: [conda-forge]", "dependencies:"]
    lines += [f"  - pkg{number}>=1.{number % 97},<2" for number in range(9000)]
    body = "\n".join(lines) + "\n"
    filler = "# " + "x" * 998 + "\n"
    return body + filler * ((limit - len(body)) // len(filler))


def _read(path: Path) -> None:
    """Read ``path``; a refusal at a cap counts (it is the answer the user gets)."""
    from conda2docker.errors import InputError
    from conda2docker.read import read_input

    with contextlib.suppress(InputError):
        read_input(path)


def run() -> dict[str, object]:
    from conda2docker.read.decode import MAX_ENV_FILE

    figures: dict[str, object] = {"name": "10 MB environment file, read", "target": f"< {TARGET_SECONDS} s"}
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for shape, make in (("conda_list", _conda_heavy), ("pip_and_variables", _mixed),
                            ("accepted_9000_deps", _accepted)):
            path = Path(tmp) / f"{shape}.yml"
            path.write_text(make(MAX_ENV_FILE - 1))
            seconds = call_seconds(lambda path=path: _read(path), repeat=3)  # type: ignore[misc]
            figures[f"{shape}_bytes"] = path.stat().st_size
            figures[f"{shape}_seconds"] = round(seconds, 2)
            worst = max(worst, seconds)
    figures["seconds"] = round(worst, 2)
    figures["met"] = worst < TARGET_SECONDS
    return figures


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
