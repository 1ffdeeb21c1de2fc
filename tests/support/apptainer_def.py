"""A reader of Apptainer definition files that follows Apptainer's own grammar
(``pkg/build/types/parser/deffile.go``), so tests can check generated ``.def`` files
without an apptainer binary (none exists on this machine or in CI).

The rules it applies, as Apptainer does:

* a file is split into stages at every line that starts with ``Bootstrap:`` (any case);
* in a stage, the header is every line before the first line whose first word starts
  with ``%``; header lines are ``key: value`` (``#`` starts a comment, anywhere in the
  line), keys from a fixed set;
* every later line whose first word starts with ``%`` opens a section; section names come
  from a fixed set (``%files`` may carry ``from STAGE``); the body is the lines up to the
  next section;
* ``%files`` lines are ``SOURCE [DEST]``, ``%labels`` lines ``KEY VALUE``; blank and ``#``
  lines are skipped.

Stricter than Apptainer (to catch our own mistakes): a header value cut short by ``#``, an
empty section, a duplicated ``Stage:`` name and ``%files from`` a stage not defined before
are errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

SECTIONS = frozenset({"help", "setup", "files", "labels", "environment", "pre", "post", "runscript",
                      "test", "startscript", "arguments"})
HEADER_KEYS = frozenset({"bootstrap", "from", "stage", "fingerprints", "includecmd", "mirrorurl",
                         "osversion", "include", "library", "registry", "namespace"})
_BOOTSTRAP = re.compile(r"(?mi)^bootstrap:")
_FILE_WORDS = re.compile(r'"([^"]*)"|\'([^\']*)\'|(\S+)')


class DefinitionError(ValueError):
    """The text is not a definition Apptainer accepts (or one we would not write)."""


@dataclass
class DefStage:
    header: dict[str, str]
    sections: dict[str, list[str]] = field(default_factory=dict)
    """Section title (``post``, ``files from env``…) → body lines, indentation removed."""

    @property
    def name(self) -> str | None:
        return self.header.get("stage")

    def files(self, source_stage: str | None = None) -> list[tuple[str, str]]:
        title = "files" if source_stage is None else f"files from {source_stage}"
        pairs = []
        for line in self.sections.get(title, []):
            words = [a or b or c for a, b, c in _FILE_WORDS.findall(line)]
            pairs.append((words[0], words[1] if len(words) > 1 else ""))
        return pairs

    def labels(self) -> dict[str, str]:
        pairs = (line.partition(" ") for line in self.sections.get("labels", []))
        return {key: value.strip() for key, _, value in pairs}


def _lines(text: str) -> list[str]:
    """Lines as Go's ``bufio.ScanLines`` cuts them: at ``\n`` only, a trailing ``\r`` dropped."""
    return [line.removesuffix("\r") for line in text.split("\n")]


def _meaningful(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _header(lines: list[str]) -> dict[str, str]:
    header: dict[str, str] = {}
    for line in lines:
        if not _meaningful(line):
            continue
        text = line.strip()
        kept = text.split("#", 1)[0]
        if ":" not in kept:
            raise DefinitionError(f"header key {kept!r} had no value")
        key, value = (part.strip() for part in kept.split(":", 1))
        if kept != text:
            raise DefinitionError(f"header {key}: value cut short by '#': {text!r}")
        if key.lower() not in HEADER_KEYS:
            raise DefinitionError(f"invalid header keyword found: {key}")
        header[key.lower()] = value
    return header


def _stage(text: str) -> DefStage | None:
    header_lines: list[str] = []
    sections: dict[str, list[str]] = {}
    body: list[str] | None = None
    for line in _lines(text):
        words = line.split()
        if words and words[0].startswith("%"):
            title = " ".join(words).lstrip("%")
            name = words[0].lstrip("%").lower()
            if name not in SECTIONS:
                raise DefinitionError(f"invalid section(s) specified: {name}")
            if len(words) > 1 and not (name == "files" and len(words) == 3 and words[1] == "from"):
                raise DefinitionError(f"unexpected arguments in section line {line!r}")
            body = sections.setdefault(title, [])
        elif body is None:
            header_lines.append(line)
        else:
            body.append(line)
    header = _header(header_lines)
    if not header and not sections:
        return None  # only comments (the text before the first Bootstrap:)
    cleaned: dict[str, list[str]] = {}
    for title, lines in sections.items():
        kept = [line.strip() if title in ("files", "labels") or title.startswith("files ") else
                line.removeprefix("    ") for line in lines]
        kept = [line for line in kept if _meaningful(line)] if title.startswith(("files", "labels")) else kept
        while kept and not kept[-1].strip():
            kept.pop()
        if not any(line.strip() for line in kept):
            raise DefinitionError(f"section %{title} is empty")
        cleaned[title] = kept
    return DefStage(header, cleaned)


def parse_definition(text: str) -> list[DefStage]:
    """The stages of a definition file, or :class:`DefinitionError`."""
    starts = [m.start() for m in _BOOTSTRAP.finditer(text)]
    pieces = [text[a:b] for a, b in zip([0, *starts], [*starts, len(text)], strict=True)]
    stages = [s for s in (_stage(piece) for piece in pieces) if s is not None]
    if not stages:
        raise DefinitionError("no stages found in definition file")
    seen: list[str] = []
    for stage in stages:
        if "bootstrap" not in stage.header or "from" not in stage.header:
            raise DefinitionError(f"stage {stage.name or '?'} lacks Bootstrap: or From:")
        for title in stage.sections:
            if title.startswith("files from ") and title.removeprefix("files from ") not in seen:
                raise DefinitionError(f"%{title}: no earlier stage of that name")
        if stage.name:
            if stage.name in seen:
                raise DefinitionError(f"stage {stage.name} defined twice")
            seen.append(stage.name)
    return stages
