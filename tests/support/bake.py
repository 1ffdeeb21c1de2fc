"""Reading a generated bake file back with a real HCL parser (python-hcl2), checked against the
attributes BuildKit's bake documents (docs.docker.com/build/bake/reference).

python-hcl2 keeps string literals as written (quotes and escapes included): :func:`literal`
decodes one the way HCL does, and refuses a live ``${`` interpolation or ``%{`` directive.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

#: bake's documented target attributes (the reference's "Target" table).
TARGET_ATTRIBUTES = frozenset({
    "args", "annotations", "attest", "cache-from", "cache-to", "call", "context", "contexts",
    "description", "dockerfile-inline", "dockerfile", "entitlements", "extra-hosts", "inherits",
    "labels", "matrix", "name", "network", "no-cache-filter", "no-cache", "output", "platforms",
    "pull", "secret", "shm-size", "ssh", "tags", "target", "ulimits",
})
GROUP_ATTRIBUTES = frozenset({"targets", "description"})
_ESCAPE = re.compile(r'\\(?:u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|(["\\nrt]))')
_SIMPLE = {'"': '"', "\\": "\\", "n": "\n", "r": "\r", "t": "\t"}


def literal(raw: str) -> str:
    """The value of an HCL quoted string as python-hcl2 returns it (``'"…"'``)."""
    assert raw.startswith('"') and raw.endswith('"') and len(raw) >= 2, raw
    body = raw[1:-1]
    live = re.search(r"(?<!\$)\$\{|(?<!%)%\{", body.replace("$${", "").replace("%%{", ""))
    assert live is None, f"interpolation or directive in {raw!r}"

    def decode(match: re.Match[str]) -> str:
        if match.group(3):
            return _SIMPLE[match.group(3)]
        return chr(int(match.group(1) or match.group(2), 16))

    return _ESCAPE.sub(decode, body.replace("$${", "${").replace("%%{", "%{"))


def parse_bake(text: str) -> dict[str, Any]:
    """``{"group": {name: {...}}, "target": {name: {attr: value}}}`` with every string decoded;
    asserts that only documented blocks and attributes appear."""
    import hcl2
    from hcl2.utils import SerializationOptions

    parsed = hcl2.loads(text, serialization_options=SerializationOptions(with_comments=False))
    assert set(parsed) <= {"group", "target", "variable", "function"}, set(parsed)
    result: dict[str, dict[str, dict[str, Any]]] = {"group": {}, "target": {}}
    for kind, allowed in (("group", GROUP_ATTRIBUTES), ("target", TARGET_ATTRIBUTES)):
        for block in parsed.get(kind, []):
            for raw_name, body in block.items():
                name = literal(raw_name)
                assert name not in result[kind], f"{kind} {name} defined twice"
                attributes = {k: v for k, v in body.items() if not k.startswith("__")}
                unknown = set(attributes) - allowed
                assert not unknown, f"{kind} {name}: undocumented attributes {unknown}"
                result[kind][name] = {k: _decoded(v) for k, v in attributes.items()}
    return result


def _decoded(value: Any) -> Any:
    if isinstance(value, str):
        return literal(value)
    if isinstance(value, list):
        return [_decoded(v) for v in value]
    if isinstance(value, dict):
        return {literal(k): _decoded(v) for k, v in value.items() if not k.startswith("__")}
    return value


def parse_every_bake_file(root: Path) -> int:
    """Parse every ``docker-bake.hcl`` under ``root`` (a test's temporary directory), as the
    modules that write them do after each test; how many there were."""
    found = sorted(root.rglob("docker-bake.hcl"))
    for path in found:
        parse_bake(path.read_text(encoding="utf-8"))
    return len(found)
