"""What a repository's ``postBuild`` asks of the image, read statically (never run).

repo2docker runs ``postBuild`` in an image that has ``mamba``/``conda`` and ``nodejs``: a
``mamba install make`` line installs into the (kernel) environment at build time, and ``npm
install --global …`` works because its base environment ships nodejs. conda2docker's image
holds one locked environment, so ``init`` reads those lines instead:

* the packages of each ``mamba|micromamba|conda install`` line (also ``update``) are locked into
  the environment with everything else (one solve, hash-checked, offline with ``--vendor``);
  while postBuild runs, ``mamba``/``conda``/``micromamba`` are a small check (``data/
  postbuild_conda.sh``) that finds them there, and fails naming any it does not find (a line
  init could not read: ``$VARIABLES``, ``--file``, ``env update``);
* ``nodejs`` is added when postBuild calls ``npm``, ``npx``, ``node``, ``yarn``, ``jlpm`` or
  ``jupyter labextension install``, as repo2docker's base environment has it.

Each command of a line (split on ``;``, ``&&``, ``||``, ``|``, ``(``, ``)``, after ``\\``
continuations are joined and comments dropped; redirections left out, as the shell does) is read
on its own; ``sudo``, ``env``, ``command``, ``VAR=value`` and ``if``/``then``/``do``… prefixes are
skipped.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path, PurePosixPath

from conda2docker.errors import InputError, SourceLocation
from conda2docker.model import CondaDependency
from conda2docker.values import frozen

INSTALLERS = frozenset({"mamba", "micromamba", "conda"})
NODE_TOOLS = frozenset({"npm", "npx", "node", "yarn", "jlpm"})
NODEJS = "nodejs"
_INSTALL = frozenset({"install", "update", "upgrade"})
_VALUE_OPTIONS = frozenset({"-c", "--channel", "-n", "--name", "-p", "--prefix", "--file",
                            "--root-prefix", "-r"})
_TARGET_OPTIONS = frozenset({"-n", "--name", "-p", "--prefix"})
_PREFIXES = frozenset({"sudo", "env", "command", "exec", "time", "nohup", "if", "then", "else",
                       "elif", "while", "until", "do", "!", "{"})
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_UNREADABLE = re.compile(r"[$`]")


@frozen
class PostBuildNeeds:
    """What ``postBuild`` needs in the environment, and what init could not read."""

    conda: tuple[CondaDependency, ...] = ()
    """The packages its install lines name, located at their line in postBuild."""
    installers: tuple[str, ...] = ()
    """The installer names it calls (``mamba``, ``conda``, ``micromamba``)."""
    node: bool = False
    """It calls npm, npx, node, yarn, jlpm or ``jupyter labextension install``."""
    channels: tuple[str, ...] = ()
    """Channels its install lines name with ``-c`` (reported: the environment's own are used)."""
    unread: tuple[str, ...] = ()
    """Install commands init could not read, as ``line N: text``."""
    other_targets: tuple[str, ...] = ()
    """Install commands aimed at another environment (``-n``/``-p``): the one environment is used."""


def _logical_lines(text: str) -> list[tuple[int, str, tuple[tuple[int, int], ...]]]:
    """``(first line number, text, ((offset, line number), …))`` with backslash continuations
    joined; the pairs say where in the joined text each physical line starts."""
    out: list[tuple[int, str, tuple[tuple[int, int], ...]]] = []
    pending: list[str] = []
    starts: list[tuple[int, int]] = []
    offset = 0
    for number, line in enumerate(text.splitlines(), start=1):
        starts.append((offset, number))
        if line.endswith("\\"):
            pending.append(line[:-1])
            offset += len(line)  # the backslash becomes the joining space
            continue
        pending.append(line)
        out.append((starts[0][1], " ".join(pending), tuple(starts)))
        pending, starts, offset = [], [], 0
    if pending:
        out.append((starts[0][1], " ".join(pending), tuple(starts)))
    return out


def _location(post_build: Path, line: str, starts: tuple[tuple[int, int], ...],
              word: str) -> SourceLocation:
    """Where ``word`` is in postBuild (its physical line and column)."""
    index = line.find(word)
    if index < 0:
        return SourceLocation(post_build, starts[0][1])
    offset, number = max((s for s in starts if s[0] <= index), key=lambda s: s[0])
    return SourceLocation(post_build, number, index - offset + 1)


def _commands(line: str) -> list[list[str]] | None:
    """The simple commands of one shell line as word lists, or None when shlex cannot read it."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    try:
        words = list(lexer)
    except ValueError:
        return None
    commands: list[list[str]] = [[]]
    redirect = False
    for word in words:
        if redirect:  # the file of a redirection, as the shell reads it
            redirect = False
        elif set(word) <= set("<>&") and set(word) & set("<>"):
            redirect = True
            current = commands[-1]
            if current and current[-1].isdigit():  # 2>&1: the descriptor, not a word
                current.pop()
        elif set(word) <= set(";&|()"):
            commands.append([])
        else:
            commands[-1].append(word)
    out = []
    for command in commands:
        while command and (command[0] in _PREFIXES or _ASSIGNMENT.match(command[0])):
            command = command[1:]
        if command:
            out.append(command)
    return out


def _install_words(words: list[str], where: str, channels: list[str], unread: list[str],
                   targets: list[str]) -> list[str]:
    """The package specs of an install command's words; its channels, unreadable options
    (``--file``) and other-environment options (``-n``, ``-p``) go to the lists given."""
    specs: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        option, _, value = word.partition("=") if word.startswith("--") else (word, "", "")
        if option in _VALUE_OPTIONS:
            if not value:
                index += 1
                value = words[index] if index < len(words) else ""
            if option in ("-c", "--channel"):
                channels.append(value)
            elif option in _TARGET_OPTIONS:
                targets.append(where)
            elif option == "--file":
                unread.append(where)
        elif not word.startswith("-"):
            specs.append(word)
        index += 1
    return specs


def _shown(number: int, line: str) -> str:
    """``line N: text`` fit for a message: credentials redacted, control characters dropped,
    at most 120 characters."""
    from conda2docker.credentials import redact

    text = "".join(c if c.isprintable() else " " for c in redact(line.strip()))
    return f"line {number}: {text[:117] + '...' if len(text) > 120 else text}"


def _name(word: str) -> str:
    return PurePosixPath(word).name


def read_post_build(root: Path, post_build: Path) -> PostBuildNeeds:
    """Read ``post_build`` (relative to ``root``): its installer and node calls."""
    from conda2docker.credentials import redact
    from conda2docker.read.condaspec import parse_conda_spec
    from conda2docker.read.decode import MAX_REQUIREMENTS_FILE, read_limited

    # A regular file within the limit, never a FIFO or device; any bytes (it is a script).
    data = read_limited(root / post_build, limit=MAX_REQUIREMENTS_FILE, what="postBuild",
                        location=SourceLocation(post_build))
    text = data.decode("utf-8", errors="replace")
    conda: list[CondaDependency] = []
    installers: set[str] = set()
    channels: list[str] = []
    unread: list[str] = []
    targets: list[str] = []
    node = False
    for number, line, starts in _logical_lines(text):
        commands = _commands(line)
        if commands is None:
            if any(re.search(rf"\b{name}\b", line) for name in INSTALLERS):
                unread.append(_shown(number, line))
            continue
        for words in commands:
            tool = _name(words[0])
            if tool in NODE_TOOLS or words[:3] == ["jupyter", "labextension", "install"]:
                node = True
            if tool not in INSTALLERS:
                continue
            installers.add(tool)
            rest = words[1:]
            if rest[:1] == ["env"] or (rest and rest[0] not in _INSTALL):
                if rest[:1] == ["env"] or rest[:1] == ["create"]:
                    unread.append(_shown(number, line))
                continue  # clean, list, info, config…: the check answers them
            specs = _install_words(rest[1:], _shown(number, line), channels, unread, targets)
            for spec in specs:
                if _UNREADABLE.search(spec):
                    unread.append(_shown(number, line))
                    continue
                location = _location(post_build, line, starts, spec)
                try:
                    conda.append(parse_conda_spec(spec, location).dependency)
                except InputError as error:
                    raise InputError(
                        f"{tool} install {spec!r}: {error.message}",
                        fix=error.fix or "correct the package spec in postBuild",
                        location=location,
                    ) from error
    return PostBuildNeeds(
        conda=tuple(conda), installers=tuple(sorted(installers)), node=node,
        channels=tuple(dict.fromkeys(redact(c) for c in channels if c)),
        unread=tuple(dict.fromkeys(unread)), other_targets=tuple(dict.fromkeys(targets)),
    )


def notes(post_build: Path, needs: PostBuildNeeds) -> list[str]:
    """One line per decision, for the report and ``--dry-run``."""
    lines = []
    if needs.conda:
        names = ", ".join(d.raw.strip() for d in needs.conda)
        lines.append(f"{post_build} installs {names} with {'/'.join(needs.installers)}: locked "
                     "into the environment (one solve); while postBuild runs, mamba/conda only "
                     "check they are there")
    elif needs.installers:
        lines.append(f"{post_build} calls {', '.join(needs.installers)}: while it runs they "
                     "check the locked environment (the image holds one; they install nothing)")
    for item in needs.unread:
        lines.append(f"{post_build} {item}: not read (variables, --file, env update/create); its "
                     "packages are not locked, so the check fails the build: list them in the "
                     "environment file")
    for item in needs.other_targets:
        lines.append(f"{post_build} {item}: aimed at another environment; the image has one, "
                     "where its packages are locked")
    if needs.channels:
        lines.append(f"{post_build} names channels {', '.join(needs.channels)}: the environment's "
                     "channels are used; add them there if its packages need them")
    if needs.node:
        lines.append(f"{post_build} calls npm/node: nodejs is in the environment (repo2docker's "
                     "base environment has it)")
    return lines
