"""Seeded column generators: a scenario's data is a pure function of its spec and seed.

Each generator takes ``(rng, n, params, columns)`` where ``columns`` holds the arrays already made
for this table and the row counts of earlier tables, and returns a list of Python values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np

Generator = Callable[[np.random.Generator, int, dict, dict], list]


def _ranks(rng: np.random.Generator, n: int, k: int, params: dict) -> np.ndarray:
    """n draws from range(k): uniform, or zipf-like (popular values spread over the range)."""
    dist = params.get("dist", "uniform")
    if dist == "uniform":
        return rng.integers(0, k, size=n)
    if dist == "zipf":
        s = float(params.get("s", 1.2))
        p = 1.0 / np.arange(1, k + 1) ** s
        draws = rng.choice(k, size=n, p=p / p.sum())
        return rng.permutation(k)[draws]
    raise ValueError(f"dist must be 'uniform' or 'zipf', not {dist!r}")


def serial(rng, n, params, ctx):
    return list(range(1, n + 1))


def integer(rng, n, params, ctx):
    low, high = int(params["low"]), int(params["high"])
    return [low + int(v) for v in _ranks(rng, n, high - low + 1, params)]


def real(rng, n, params, ctx):
    if params.get("dist") == "lognormal":
        vals = rng.lognormal(float(params.get("mean", 3.0)), float(params.get("sigma", 1.0)), size=n)
    else:
        vals = rng.uniform(float(params.get("low", 0.0)), float(params.get("high", 1.0)), size=n)
    return [round(float(v), int(params.get("round", 2))) for v in vals]


def choice(rng, n, params, ctx):
    values = list(params["values"])
    weights = params.get("weights")
    p = None if weights is None else np.asarray(weights, dtype=float) / float(np.sum(weights))
    idx = rng.choice(len(values), size=n, p=p)
    return [values[i] for i in idx]


def text(rng, n, params, ctx):
    prefix = str(params.get("prefix", "v"))
    if params.get("unique"):
        return [f"{prefix}{i}" for i in rng.permutation(n) + 1]
    k = int(params.get("cardinality", 100))
    return [f"{prefix}{int(i) + 1}" for i in _ranks(rng, n, k, params)]


def foreign_key(rng, n, params, ctx):
    k = ctx["rows"][params["table"]]
    return [int(v) + 1 for v in _ranks(rng, n, k, params)]


def date(rng, n, params, ctx):
    start = dt.date.fromisoformat(str(params.get("start", "2020-01-01")))
    days = int(params.get("days", 1460))
    offsets = _ranks(rng, n, days, params)
    if params.get("sorted"):
        offsets = np.sort(offsets)
    return [(start + dt.timedelta(days=int(o))).isoformat() for o in offsets]


def derived(rng, n, params, ctx):
    """A column correlated with another: ``prefix + (source % mod)`` or ``source % mod``."""
    source = ctx["columns"][params["column"]]
    mod = int(params.get("mod", 10))
    prefix = params.get("prefix")

    def f(v):
        key = (v if isinstance(v, int) else sum(map(ord, str(v)))) % mod
        return f"{prefix}{key}" if prefix is not None else key

    return [None if v is None else f(v) for v in source]


GENERATORS: dict[str, Generator] = {
    "serial": serial,
    "int": integer,
    "real": real,
    "choice": choice,
    "text": text,
    "fk": foreign_key,
    "date": date,
    "derived": derived,
}


def generate_column(rng: np.random.Generator, n: int, gen: dict, ctx: dict) -> list[Any]:
    """Values for one column, with ``null_fraction`` applied last."""
    values = GENERATORS[gen["kind"]](rng, n, gen, ctx)
    nf = float(gen.get("null_fraction", 0.0))
    if nf > 0:
        mask = rng.random(n) < nf
        values = [None if m else v for v, m in zip(values, mask)]
    return values
