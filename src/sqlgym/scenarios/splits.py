"""Generated scenarios split by a hash of their index; the test split also holds out families."""

from __future__ import annotations

import hashlib

# Only test scenarios may use these: a test score then measures generalisation to unseen
# query shapes and an unseen schema archetype, not memory.
HELD_OUT_FAMILIES = ("or_pair", "join_group")
HELD_OUT_ARCHETYPES = ("snowflake",)


def split_of(n: int) -> str:
    h = int.from_bytes(hashlib.sha256(f"sqlgym-index-{n}".encode()).digest()[:4], "big") % 100
    return "train" if h < 70 else ("validation" if h < 85 else "test")
