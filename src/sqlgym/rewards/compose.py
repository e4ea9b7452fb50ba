"""Weighted sums of named reward functions; each part is logged in ``info["reward_parts"]``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

RewardFn = Callable[[Any], float]


class Composite:
    """``Composite([("shaping", 1.0, fn), ...])(transition) -> (total, {name: weighted part})``.

    >>> Composite([("one", 2.0, lambda t: 1.0)])(None)
    (2.0, {'one': 2.0})
    """

    def __init__(self, parts: Iterable[tuple[str, float, RewardFn]]):
        self.parts = tuple(parts)
        names = [n for n, _, _ in self.parts]
        if len(set(names)) != len(names):
            raise ValueError(f"reward part names must be unique: {names}")

    def __call__(self, transition) -> tuple[float, dict[str, float]]:
        out = {name: float(weight * fn(transition)) for name, weight, fn in self.parts}
        return float(sum(out.values())), out

    def __repr__(self) -> str:
        return "Composite(" + ", ".join(f"{n}*{w}" for n, w, _ in self.parts) + ")"
