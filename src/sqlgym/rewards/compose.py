"""Weighted sums of named reward functions; each part is logged in ``info["reward_parts"]``."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from numbers import Real
from typing import Any, cast

from sqlgym.errors import ConfigError

RewardFn = Callable[[Any], float]


class Composite:
    """``Composite([("shaping", 1.0, fn), ...])(transition) -> (total, {name: weighted part})``.

    >>> Composite([("one", 2.0, lambda t: 1.0)])(None)
    (2.0, {'one': 2.0})

    Picklable when every part's function is (module-level functions and classes, not lambdas).
    Raises ``ConfigError`` for a part that is not ``(name, weight, fn)`` or a repeated name.
    """

    def __init__(self, parts: Iterable[tuple[str, float, RewardFn]]):
        self.parts = tuple(_part(i, p) for i, p in enumerate(parts))
        names = [n for n, _, _ in self.parts]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ConfigError(f"reward part names must be unique; repeated: {repeated} (parts: {names})")

    def __call__(self, transition) -> tuple[float, dict[str, float]]:
        out = {name: float(weight * fn(transition)) for name, weight, fn in self.parts}
        return float(sum(out.values())), out

    def __repr__(self) -> str:
        return "Composite(" + ", ".join(f"{n}*{w}" for n, w, _ in self.parts) + ")"


def _part(i: int, part) -> tuple[str, float, RewardFn]:
    if not isinstance(part, (tuple, list)) or len(part) != 3:
        raise ConfigError(f"reward part {i}: expected (name, weight, fn), got {part!r}")
    name, weight, fn = part
    if not isinstance(name, str) or not name:
        raise ConfigError(f"reward part {i}: the name must be a non-empty string, got {name!r}")
    if isinstance(weight, bool) or not isinstance(weight, Real) or not math.isfinite(weight):
        raise ConfigError(f"reward part {name!r}: the weight must be a finite number, got {weight!r}")
    if not callable(fn):
        raise ConfigError(f"reward part {name!r}: fn must be callable (transition -> float), got {fn!r}")
    return name, cast(float, weight), fn
