"""The build context of a repository: an allow-list, so secrets and clutter stay out.

The repository is the build context, and everything in the context can reach the image
(``COPY . …``). So the ``.dockerignore`` ``init`` writes is an allow-list:

* in a git repository, the files git tracks (``*`` first, then one ``!path`` per tracked file,
  or per directory whose files on disk are all tracked), plus conda2docker's own support files;
* otherwise, everything minus a deny-list.

In both cases the deny-list comes last, so it wins over the allow-list: secrets (``.env``,
``.ssh/``, ``.aws/``, ``*.pem``, private keys, ``.netrc``…), version control, virtual
environments, caches, the data and output directories of paper repositories, weights and
checkpoints, and every file larger than the size threshold. Paths that a ``.dockerignore`` line
cannot state literally (control characters, a leading ``#``/``!``, surrounding spaces) are
left out of the allow-list and reported.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath

from conda2docker.image import BUILD_LOG, SUPPORT_DIR, VENDOR_DIR
from conda2docker.values import frozen

DEFAULT_THRESHOLD = 50 * 1024 * 1024
SECRETS = (".env", ".env.*", ".envrc", ".ssh", ".aws", ".azure", ".gnupg", ".netrc", ".pypirc",
           ".git-credentials", ".docker", ".kube", "*.pem", "*.key", "*.p12", "*.pfx", "id_rsa*",
           "id_dsa*", "id_ecdsa*", "id_ed25519*", "credentials.json", "*.keystore")
VCS = (".git", ".hg", ".svn")
VIRTUALENVS = (".venv", "venv", ".tox", ".nox", "node_modules", "__pypackages__", ".conda")
CACHES = ("__pycache__", ".ipynb_checkpoints", ".mypy_cache", ".pytest_cache", ".ruff_cache",
          ".cache", ".DS_Store")
DATA = ("data", "datasets", "outputs", "wandb", "mlruns", "lightning_logs", "runs", "checkpoints")
WEIGHTS = ("*.h5", "*.hdf5", "*.ckpt", "*.pt", "*.pth", "*.safetensors", "*.npz", BUILD_LOG)
# Names excluded wherever they are (any directory level).
ANYWHERE = (*SECRETS, *VCS, *VIRTUALENVS, *CACHES, *WEIGHTS)
# Never excluded by the scan: conda2docker's own support files (they must be sent).
SKIP_SCAN = (SUPPORT_DIR, VENDOR_DIR)
_UNSAFE_START = ("#", "!", " ", "\t")
_GLOB = "*?[\\"


@frozen
class ContextRule:
    """What the context holds: ``tracked`` (git) or everything, minus the deny-list and
    ``large`` (relative POSIX paths over ``threshold`` bytes)."""

    tracked: tuple[str, ...] | None
    """Allow-list entries (files or whole directories), or None when not a git repository."""
    large: tuple[str, ...] = ()
    threshold: int = DEFAULT_THRESHOLD
    always: tuple[str, ...] = ()
    """conda2docker's own files: allowed last, whether git tracks them yet or not."""
    unstatable: tuple[str, ...] = ()
    """Tracked paths a .dockerignore cannot name literally: left out of the context."""


def denied(relative: PurePosixPath) -> bool:
    """Whether the deny-list keeps ``relative`` (or one of its parents) out of the context."""
    if relative.parts and relative.parts[0] in DATA:
        return True
    return any(fnmatch.fnmatchcase(part, pattern) for part in relative.parts for pattern in ANYWHERE)


def statable(path: str) -> bool:
    """Whether a .dockerignore line can name ``path`` exactly, for every builder: docker-py
    (``conda2docker build``, docker-compose 1.x) cannot escape ``*?[\\``, so such names are
    not statable either; nor is any name Python's or Go's line reading would split (``\\x85``,
    ``\\u2028``...)."""
    return bool(path) and path == path.strip() and not path.startswith(_UNSAFE_START) and \
        len(f"x{path}x".splitlines()) == 1 and \
        all(ord(c) >= 32 and c != "\x7f" and c not in _GLOB for c in path)


def large_files(root: Path, threshold: int, skip: Iterable[Path] = ()) -> list[str]:
    """Files over ``threshold`` bytes that the deny-list does not already exclude."""
    skipped = {PurePosixPath(p.as_posix()) for p in skip}
    found = []
    for directory, subdirs, names in os.walk(root):
        here = PurePosixPath(Path(directory).relative_to(root).as_posix())
        subdirs[:] = sorted(d for d in subdirs if not denied(here / d)
                            and (here / d) not in skipped and d not in SKIP_SCAN)
        for name in sorted(names):
            relative = here / name
            path = Path(directory) / name
            if path.is_symlink() or denied(relative):
                continue
            if path.stat().st_size > threshold:
                found.append(relative.as_posix())
    return sorted(found)


def allow_list(root: Path, tracked: Sequence[str], large: Iterable[str]) -> tuple[list[str], list[str]]:
    """The allow-list entries for ``tracked`` files the deny-list leaves in, and the tracked
    paths that cannot be stated.

    A directory becomes one entry when every file under it on disk is tracked and allowed;
    otherwise its tracked files are listed one by one.
    """
    left_out = set(large)
    # A tracked path the deny-list names is never re-included: docker-py lets an exact `!path`
    # win over `**/.git` for a file inside `.git/` (it matches a parent only as deep as the
    # pattern), so the entry itself must not exist.
    files = {p for p in tracked if p not in left_out and not denied(PurePosixPath(p))}
    unstatable = sorted(p for p in files if not statable(p))
    files -= set(unstatable)
    holding = {str(parent) for f in files for parent in PurePosixPath(f).parents
               if str(parent) != "."}  # directories that hold a tracked file
    entries: list[str] = []

    def complete(directory: Path, relative: PurePosixPath) -> bool:
        try:
            children = sorted(directory.iterdir())
        except OSError:
            return False
        for child in children:
            path = relative / child.name
            if child.is_dir() and not child.is_symlink():
                if not complete(child, path):
                    return False
            elif path.as_posix() not in files:
                return False
        return bool(children)

    def walk(directory: Path, relative: PurePosixPath) -> None:
        for child in sorted(directory.iterdir()):
            path = relative / child.name
            text = path.as_posix()
            if child.is_dir() and not child.is_symlink():
                if text not in holding:
                    continue
                if statable(text) and complete(child, path):
                    entries.append(text)
                else:
                    walk(child, path)
            elif text in files:
                entries.append(text)

    walk(root, PurePosixPath())
    listed = set(entries)
    entries += sorted(f for f in files if f not in listed  # not on disk (deleted, or a link)
                      and not any(str(p) in listed for p in PurePosixPath(f).parents))
    return entries, unstatable


def render_dockerignore(rule: ContextRule) -> str:
    lines = ["# Generated by conda2docker init. The build context is the repository; only what",
             "# is listed here may reach the image."]
    if rule.tracked is not None:
        lines += ["# Allow-list: the files git tracks (commit a file to add it to the image).",
                  "*"]
        lines += ["!" + p for p in rule.tracked]
    else:
        lines.append("# Not a git repository: everything except what is listed below.")
    lines += ["# Never in the context: secrets, version control, virtual environments, caches,",
              "# data, outputs and weights (mount data at run time instead)."]
    lines += [f"**/{p}" for p in ANYWHERE]
    lines += list(DATA)
    large = list(rule.large)
    if large:
        lines.append(f"# Larger than {rule.threshold // (1024 * 1024)} MB:")
        lines += [_exclusion(p) for p in large]
    if rule.always:
        lines.append("# conda2docker's support files (the lock, scripts, vendored packages):")
        lines += ["!" + p for p in rule.always if statable(p)]
    return "\n".join(lines) + "\n"


def _exclusion(path: str) -> str:
    """A pattern that excludes ``path`` in every builder. docker-py (``conda2docker build``,
    docker-compose 1.x) cannot escape ``*?[\\``, so those — and what a reader would split or
    trim (line breaks, control characters, white space at the ends), and a leading ``!``/``#`` —
    become ``?``, which matches the one character there (it may exclude a look-alike too: on
    the safe side). :func:`conda2docker.validate.dockerignore_pattern` escapes instead, for
    BuildKit alone."""
    out = []
    for index, char in enumerate(path):
        edge = index in (0, len(path) - 1)
        if char in _GLOB or (index == 0 and char in "!#") or not char.isprintable() \
                or len(f"x{char}x".splitlines()) > 1 or (edge and char.isspace()):
            out.append("?")
        else:
            out.append(char)
    return "".join(out)
