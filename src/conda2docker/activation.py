"""Activation variables measured from the packages themselves (pure: no engine, no I/O).

conda activation sources ``<prefix>/etc/conda/activate.d/*.sh``; the image sets the result
with ``ENV`` instead, so that no activation (and no shell wrapper) is needed. The scripts are
channel-supplied code: they are evaluated only inside a container (the ``env`` stage or the
built image, see :mod:`conda2docker.engine.activation`), never on the host. This module holds
what both sides share:

* :data:`EVALUATE_SCRIPT`, the fixed shell program run in that container: it lists the scripts,
  dumps the environment (``env -0``), sources every script in name order as conda does, and
  dumps it again;
* :func:`parse_evaluation`: that output → :class:`Activation` (what the scripts set or unset,
  without the scripts' own bookkeeping such as ``_CONDA_SET_GDAL_DATA`` or ``CONDA_BACKUP_CC``);
* the ``activation.env`` file that keeps a measurement next to the Dockerfile, tied to the
  lock's digest, so ``convert`` (and ``--check``) give the same bytes again without an engine.
"""

from __future__ import annotations

import re

from conda2docker.image import ACTIVATION_FILE
from conda2docker.values import frozen

__all__ = ["ACTIVATION_FILE", "Activation", "EvaluationError", "differences", "evaluate_argv",
           "is_bookkeeping", "parse_evaluation", "read_activation_file", "render_activation_file"]


_SCRIPTS = "C2D-ACTIVATION-SCRIPTS"
_BEFORE = "C2D-ACTIVATION-BEFORE"
_AFTER = "C2D-ACTIVATION-AFTER"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")
_LIST_SPLIT = re.compile(r"[:\s]+")
_SHELL_OWN = frozenset({"PWD", "OLDPWD", "SHLVL", "_", "SHELL", "HOSTNAME", "HOME"})

EVALUATE_SCRIPT = f"""prefix="$1"
printf '%s\\0' {_SCRIPTS}
for f in "$prefix"/etc/conda/activate.d/*.sh; do [ -f "$f" ] && printf '%s\\0' "$f"; done
printf '%s\\0' {_BEFORE}
env -0
for f in "$prefix"/etc/conda/activate.d/*.sh; do [ -f "$f" ] && . "$f" >&2; done
printf '%s\\0' {_AFTER}
env -0
"""
"""Run as ``sh -c LAUNCHER c2d PREFIX`` (see :func:`evaluate_argv`); stdout is NUL-separated."""


def evaluate_argv(prefix: str) -> list[str]:
    """The container command: the scripts are sourced by bash where the image has it (as
    conda's bash activation does), else by ``sh``."""
    launcher = 'exec "$(command -v bash || command -v sh)" -c "$0" c2d "$1"'
    return ["/bin/sh", "-c", launcher, EVALUATE_SCRIPT, prefix]


class EvaluationError(ValueError):
    """The container's output is not what :data:`EVALUATE_SCRIPT` prints."""


@frozen
class Activation:
    """What the packages' activation scripts change in the environment."""

    scripts: tuple[str, ...]
    """The scripts sourced, as paths inside the image, in order."""
    set: tuple[tuple[str, str], ...] = ()
    """Variables the scripts set or changed, by name."""
    unset: tuple[str, ...] = ()
    """Variables the scripts removed."""


def is_bookkeeping(name: str) -> bool:
    """A variable activation scripts use for themselves (to restore on deactivation), or the
    shell's own: not part of the environment a program needs."""
    return (name.startswith(("_", "CONDA_BACKUP_")) or name.endswith("_CONDA_BACKUP")
            or name in _SHELL_OWN)


def _already_there(old: str | None, new: str) -> bool:
    """A list variable (``PATH``, ``XML_CATALOG_FILES``) that a script extended with entries
    it already had: sourcing a script twice changes nothing that matters."""
    if not old or old not in new:
        return False
    return set(_LIST_SPLIT.split(new)) <= set(_LIST_SPLIT.split(old))


def _environment(items: list[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if sep and _NAME.match(name):
            env[name] = value
    return env


def parse_evaluation(output: bytes) -> Activation:
    """The output of :data:`EVALUATE_SCRIPT` → what the scripts changed."""
    items = output.decode("utf-8", "surrogateescape").split("\0")
    try:
        start, before, after = items.index(_SCRIPTS), items.index(_BEFORE), items.index(_AFTER)
    except ValueError:
        raise EvaluationError("the activation scripts' evaluation printed no result") from None
    if not start < before < after:
        raise EvaluationError("the activation scripts' evaluation printed its parts out of order")
    scripts = tuple(items[start + 1:before])
    old = _environment(items[before + 1:after])
    new = _environment(items[after + 1:])
    changed = tuple(sorted((k, v) for k, v in new.items()
                           if old.get(k) != v and not is_bookkeeping(k) and not _already_there(old.get(k), v)))
    removed = tuple(sorted(k for k in old if k not in new and not is_bookkeeping(k)))
    return Activation(scripts, changed, removed)


def render_activation_file(activation: Activation, lock_sha256: str) -> str:
    """``activation.env``: the measured variables, for this lock only."""
    lines = [
        "# conda2docker: the variables the activate.d scripts of this lock's packages set,",
        "# evaluated inside the env stage's container. convert reads this file while the lock's",
        "# digest below matches; delete it to measure again.",
        f"# lock-sha256: {lock_sha256}",
        *(f"# script: {_one_line(script)}" for script in activation.scripts),
        *(f"# left out, a line break no Dockerfile ENV can hold: {name}"
          for name, value in activation.set if _one_line(value) != value),
        *(f"{name}={value}" for name, value in activation.set if _one_line(value) == value),
    ]
    return "\n".join(lines) + "\n"


def _one_line(text: str) -> str:
    return text.replace("\n", " ").replace("\r", " ")


def read_activation_file(text: str, lock_sha256: str | None) -> tuple[tuple[str, str], ...] | None:
    """The variables of an ``activation.env`` made for this lock; None when it was made for
    another lock (or is not such a file)."""
    digest = None
    pairs: list[tuple[str, str]] = []
    for line in text.split("\n"):
        if line.startswith("# lock-sha256: "):
            digest = line.removeprefix("# lock-sha256: ").strip()
        elif line and not line.startswith("#"):
            name, sep, value = line.partition("=")
            if not sep or not _NAME.match(name):
                return None
            pairs.append((name, value))
    if digest is None or digest != lock_sha256:
        return None
    return tuple(pairs)


def differences(activation: Activation, image_env: dict[str, str]) -> list[str]:
    """What an image's ``ENV`` lacks of what the scripts set (``NAME=VALUE`` or ``-NAME``)."""
    found = [f"{name}={value}" for name, value in activation.set if image_env.get(name) != value]
    found += [f"-{name}" for name in activation.unset if name in image_env]
    return found
