"""Quoting for each place a value can land in a Dockerfile; unsafe values are refused."""

from __future__ import annotations

import json
import re
import shlex

from conda2docker.plan.instructions import PlanError

_SAFE_PATH = re.compile(r"^[A-Za-z0-9_./+@:=,\-]+$")


def no_newlines(value: str, what: str) -> str:
    """``value`` when it holds no line break or other control character (a tab is kept)."""
    from conda2docker.validate import has_control, shown

    if has_control(value.replace("\t", " ")):
        raise PlanError(f"{what} contains a line break or control character, which a Dockerfile "
                        f"cannot hold: {shown(value)}",
                        fix="remove the control characters from the environment file")
    return value


def shell_word(value: str) -> str:
    """One argv word for a ``RUN`` shell command: single-quoted unless plainly safe."""
    return shlex.quote(no_newlines(value, "command argument"))


def double_quoted(value: str) -> str:
    """A value for ``ENV``/``LABEL``/``ARG``: double quotes, with ``\\``, ``"`` and ``$`` escaped
    so the builder's own variable substitution leaves it literal."""
    no_newlines(value, "value")
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    return f'"{escaped}"'


def path_word(value: str) -> str:
    """A path in ``COPY``/``ADD``/``WORKDIR``: only plain characters are allowed."""
    if not _SAFE_PATH.match(value):
        raise PlanError(f"unsafe path for a Dockerfile: {value!r}")
    return value


_ARG_REF = re.compile(r"\$\{[A-Z_][A-Z0-9_]*(?::-[a-z0-9]+)?\}")


def arg_word(value: str) -> str:
    """A word that may reference build args (``${APP_UID}:${APP_GID}``, ``${RUNTIME_IMAGE}``,
    ``${TARGETARCH:-amd64}``) and is otherwise a plain path-like word."""
    rest = _ARG_REF.sub("", value)
    if rest:
        path_word(rest)
    return value


def json_array(values: tuple[str, ...]) -> str:
    """Exec form (``CMD``/``ENTRYPOINT``/``COPY``): a JSON array, never parsed by a shell."""
    for value in values:
        no_newlines(value, "exec-form argument")
    return json.dumps(list(values))
