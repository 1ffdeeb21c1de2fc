"""Template placeholders left in a file that was meant to be rendered first."""

from __future__ import annotations

import re

_PLACEHOLDER = re.compile(
    r"\$\{[A-Za-z_][A-Za-z0-9_]*\}"  # ${VAR}
    r"|\$[A-Za-z_][A-Za-z0-9_]*"  # $VAR, $condaEnvName
    r"|\{\{[^{}]*\}\}"  # {{ jinja }}
    r"|@[A-Za-z_][A-Za-z0-9_]*@"  # @AUTOCONF@
)


def find_placeholder(text: str) -> str | None:
    """The first template placeholder in ``text`` (``$name``, ``${NAME}``, ``{{ x }}``, ``@X@``)."""
    match = _PLACEHOLDER.search(text)
    return match.group(0) if match else None
