"""Text helpers for observations: numbers people can read, only the Text space's charset, and a Text space
that Gymnasium's AsyncVectorEnv reads back correctly (:class:`TextSpace`)."""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.vector.utils import read_from_shared_memory, write_to_shared_memory

CHARSET = frozenset(string.printable)
MAX_OBS = 16_000
MAX_ACTION = 16_000


def clean(text: str, limit: int = MAX_OBS) -> str:
    """Replace characters outside the charset and cut to ``limit`` (observations must fit the space)."""
    out = "".join(c if c in CHARSET else "?" for c in text)
    if len(out) > limit:
        out = out[: limit - 20] + "\n... (truncated)"
    return out or "(empty)"


def num(x: float) -> str:
    return f"{x:,.0f}"


def size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def table(rows: list[list], header: list[str]) -> str:
    """A plain fixed-width table."""
    cells = [header] + [["NULL" if v is None else str(v) for v in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


class TextSpace(spaces.Text):
    """Gymnasium's ``Text``, plus an ``AsyncVectorEnv`` that sees each step's observations.

    Gymnasium 1.x reads a ``Text`` space's shared memory once, into a tuple of strings, when the
    ``AsyncVectorEnv`` is made, and hands that same tuple back after every reset and step (a ``Box``
    reads back as a view, which is why only text goes stale). For this class the read gives a live
    sequence of the sub-envs' current observations (a tuple after the vector env's usual copy), and
    observations of ASCII characters are written and read as arrays, not a character at a time.
    """


class LiveTexts(Sequence):
    """The current observations in an ``AsyncVectorEnv``'s shared memory for a :class:`TextSpace`."""

    def __init__(self, space: TextSpace, memory: Any, n: int) -> None:
        self._space, self._memory, self._n = space, memory, n

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i):
        if isinstance(i, slice):
            return tuple(self)[i]
        if not -self._n <= i < self._n:
            raise IndexError(i)
        rows = np.frombuffer(self._memory.get_obj(), dtype=np.int32).reshape(self._n, self._space.max_length)
        return _decode(self._space, rows[i])

    def __deepcopy__(self, memo) -> tuple[str, ...]:
        return tuple(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and tuple(self) == tuple(other)

    def __repr__(self) -> str:
        return repr(tuple(self))


def _codes(space: spaces.Text) -> tuple[np.ndarray, np.ndarray] | None:
    """(character index -> byte, byte -> character index or -1) when every character is ASCII, else None."""
    cached = space.__dict__.get("_sqlgym_codes")
    if cached is None:
        chars = space.character_list
        if all(ord(c) < 128 for c in chars):
            to_byte = np.frombuffer("".join(chars).encode("ascii"), dtype=np.uint8)
            to_index = np.full(128, -1, dtype=np.int32)
            to_index[to_byte] = np.arange(len(chars), dtype=np.int32)
            cached = (to_byte, to_index)
        else:
            cached = ()
        space.__dict__["_sqlgym_codes"] = cached
    return cached or None


def _decode(space: spaces.Text, row: np.ndarray) -> str:
    codes = _codes(space)
    kept = row[row < len(space.character_set)]
    if codes is None:
        return "".join(space.character_list[v] for v in kept)
    return codes[0][kept].tobytes().decode("ascii")


@read_from_shared_memory.register(TextSpace)
def _read_live(space: TextSpace, shared_memory: Any, n: int = 1) -> LiveTexts:
    return LiveTexts(space, shared_memory, n)


@write_to_shared_memory.register(TextSpace)
def _write_fast(space: TextSpace, index: int, values: str, shared_memory: Any) -> None:
    size = space.max_length
    row = np.frombuffer(shared_memory.get_obj(), dtype=np.int32)[index * size:(index + 1) * size]
    codes = _codes(space)
    if codes is None or not values.isascii() or len(values) > size:
        np.copyto(row, np.asarray(spaces.flatten(space, values)))  # gymnasium's way (and its errors)
        return
    idx = codes[1][np.frombuffer(values.encode("ascii"), dtype=np.uint8)]
    if (idx < 0).any():
        np.copyto(row, np.asarray(spaces.flatten(space, values)))
        return
    row[: len(idx)] = idx
    row[len(idx):] = len(space.character_set)
