"""Text helpers for observations: numbers people can read, and only the Text space's charset."""

from __future__ import annotations

import string

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
