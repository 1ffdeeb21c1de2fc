"""Plan commands as POSIX shell text, shared by the Dockerfile and Apptainer renderers."""

from __future__ import annotations

from conda2docker.plan.instructions import Command, Shell
from conda2docker.render.quoting import no_newlines, shell_word


def command_text(command: Command) -> str:
    """One command: a fixed snippet as written, an argv tuple quoted word by word."""
    if isinstance(command, Shell):
        return no_newlines(command.text, "shell snippet")
    return " ".join(shell_word(word) for word in command)


def and_chain(commands: tuple[Command, ...], continuation: str) -> str:
    """Commands joined with ``&&`` so the first failure stops the step."""
    return (" &&" + continuation).join(command_text(c) for c in commands)
