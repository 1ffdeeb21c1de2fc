"""Git references: which one pins a commit.

pip treats a revision as a commit only when it is a full 40-hex id (its ``looks_like_hash``);
a shorter hex string may just as well name a branch or a tag, and pip resolves it as a ref.
Git's SHA-256 object format gives 64-hex ids, which count too.
"""

from __future__ import annotations

import re

FULL_COMMIT = re.compile(r"[0-9a-fA-F]{40}(?:[0-9a-fA-F]{24})?")


def is_full_commit(ref: str | None) -> bool:
    """True for a full commit id (40 or 64 hex digits), the only git ref that cannot move."""
    return bool(ref) and FULL_COMMIT.fullmatch(ref or "") is not None
