"""Seeded column generators: a scenario's data is a pure function of its spec and seed.

Each generator takes ``(rng, n, params, columns)`` where ``columns`` holds the arrays already made
for this table and the row counts of earlier tables, and returns a list of Python values.

``check_gen`` validates a ``gen`` mapping against what its generator reads, so a spec that loads
never fails here. The parameters, by ``kind`` (every kind also takes ``null_fraction`` in [0, 1]):

- ``serial``: none (1..rows).
- ``int``: ``low``, ``high`` (integers, low <= high), ``dist``, ``s``.
- ``real``: ``dist`` ``uniform`` (``low`` <= ``high``, default 0 and 1) or ``lognormal`` (``mean``,
  ``sigma`` >= 0); ``round`` (0..15 digits, default 2).
- ``choice``: ``values`` (a non-empty list of strings and numbers), ``weights`` (as many numbers in
  [0, 1e12], not all 0).
- ``text``: ``prefix`` (a string), then ``unique: true`` (every value once) or ``cardinality``
  (distinct values, default 100) with ``dist`` and ``s``.
- ``fk``: ``table`` (an earlier table; values are 1..its rows), ``dist``, ``s``.
- ``date``: ``start`` (an ISO date, default 2020-01-01), ``days`` (>= 1, default 1460), ``sorted``
  (bool), ``dist``, ``s``.
- ``derived``: ``column`` (an earlier column of the same table), ``mod`` (>= 1, default 10), ``prefix``.

``dist`` is ``uniform`` (the default) or ``zipf``; ``s`` (in (0, 20], default 1.2) only goes with ``zipf``,
which draws from at most 2,000,000 distinct values.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from numbers import Integral, Real
from typing import Any, NoReturn

import numpy as np

from sqlgym.errors import ScenarioError

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
    raise ScenarioError(f"gen.dist: must be 'uniform' or 'zipf', not {dist!r}")


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


# -- validation -------------------------------------------------------------------------------------
DISTS = ("uniform", "zipf")
REAL_DISTS = ("uniform", "lognormal")
MAX_ZIPF_VALUES = 2_000_000  # zipf builds arrays of this size; also the most rows a table may have
MAX_ZIPF_S = 20.0
MAX_WEIGHT = 1e12  # choice weights are summed as 64-bit integers
INT64 = (-(2**63), 2**63 - 1)
_RANKED = ("dist", "s")
PARAMS: dict[str, tuple[str, ...]] = {  # what each generator reads, besides kind and null_fraction
    "serial": (),
    "int": ("low", "high", *_RANKED),
    "real": ("dist", "low", "high", "mean", "sigma", "round"),
    "choice": ("values", "weights"),
    "text": ("prefix", "unique", "cardinality", *_RANKED),
    "fk": ("table", *_RANKED),
    "date": ("start", "days", "sorted", *_RANKED),
    "derived": ("column", "mod", "prefix"),
}


def _fail(where: str, msg: str) -> NoReturn:
    raise ScenarioError(f"{where}: {msg}")


def is_int(v: Any) -> bool:
    """A whole number, and not a bool (YAML's ``yes``/``on`` are bools)."""
    return isinstance(v, Integral) and not isinstance(v, bool)


def is_number(v: Any) -> bool:
    """A finite int or float, not a bool."""
    return isinstance(v, Real) and not isinstance(v, bool) and math.isfinite(v)


def is_scalar(v: Any) -> bool:
    """A value SQLite stores as given: a string, a finite float, or an integer that fits in 64 bits."""
    if isinstance(v, str):
        return True
    if is_int(v):
        return INT64[0] <= v <= INT64[1]
    return is_number(v)


def parse_date(v: Any, where: str) -> dt.date:
    """An ISO date as the generators and bindings read it (``fromisoformat(str(v))``)."""
    if isinstance(v, (str, dt.date)) and not isinstance(v, dt.datetime):
        try:
            return dt.date.fromisoformat(str(v))
        except ValueError:
            pass
    _fail(where, f"expected an ISO date such as 2024-01-31, got {v!r}")


def _int(gen: Mapping, key: str, where: str, default: int, lo: int, hi: int | None = None) -> int:
    v = gen.get(key, default)
    if not is_int(v) or v < lo or (hi is not None and v > hi):
        if lo == INT64[0] and hi == INT64[1]:
            allowed = "an integer within 64 bits"
        elif hi is None or hi == INT64[1]:
            allowed = f"an integer >= {lo:,}"
        else:
            allowed = f"an integer in {lo:,}..{hi:,}"
        _fail(f"{where}.{key}", f"expected {allowed}, got {v!r}")
    return int(v)


def _number(gen: Mapping, key: str, where: str, default: float) -> float:
    v = gen.get(key, default)
    if not is_number(v):
        _fail(f"{where}.{key}", f"expected a finite number, got {v!r}")
    return float(v)


def _bool(gen: Mapping, key: str, where: str) -> bool:
    v = gen.get(key, False)
    if not isinstance(v, bool):
        _fail(f"{where}.{key}", f"expected true or false, got {v!r}")
    return v


def _ranked(gen: Mapping, where: str, k: int) -> None:
    """``dist``/``s`` as ``_ranks`` reads them, for draws from ``k`` distinct values."""
    dist = gen.get("dist", "uniform")
    if dist not in DISTS:
        _fail(f"{where}.dist", f"{dist!r} is not allowed; allowed: {', '.join(DISTS)}")
    if dist == "zipf":
        s = _number(gen, "s", where, 1.2)
        if not 0 < s <= MAX_ZIPF_S:
            _fail(f"{where}.s", f"the zipf exponent must be in (0, {MAX_ZIPF_S:g}], got {gen['s']!r}")
        if k > MAX_ZIPF_VALUES:
            _fail(f"{where}.dist", f"zipf draws from at most {MAX_ZIPF_VALUES:,} distinct values, not {k:,}")
    elif "s" in gen:
        _fail(f"{where}.s", "only used with dist: zipf")


def _scalar_list(v: Any, where: str, what: str) -> list:
    if not isinstance(v, (list, tuple)) or not v:
        _fail(where, f"expected a non-empty list of {what}, got {v!r}")
    for i, x in enumerate(v):
        if not is_scalar(x):
            hint = " (quote dates and yes/no/on/off in YAML)" if isinstance(x, (bool, dt.date)) else ""
            _fail(f"{where}[{i}]", f"expected a string or a finite number (integers within 64 bits), got {x!r}{hint}")
    return list(v)


def check_gen(gen: Any, where: str, *, rows: Mapping[str, int], columns: Sequence[str]) -> None:
    """Raise ``ScenarioError`` (naming ``where.<field>``) unless ``gen`` is a generator spec that runs.

    ``rows``: row counts of the tables defined earlier (what ``fk`` may name); ``columns``: the
    columns defined earlier in the same table (what ``derived`` may name).
    """
    if not isinstance(gen, Mapping):
        _fail(where, f"expected a mapping with a 'kind', got {gen!r}")
    kind = gen.get("kind")
    if not isinstance(kind, str) or kind not in GENERATORS:
        _fail(f"{where}.kind", f"kind {kind!r} not in {sorted(GENERATORS)}")
    unknown = sorted(str(k) for k in gen if k not in ("kind", "null_fraction", *PARAMS[kind]))
    if unknown:
        allowed = ", ".join(("null_fraction", *PARAMS[kind]))
        _fail(where, f"unknown field(s) {unknown} for kind {kind!r}; allowed: {allowed}")
    nf = _number(gen, "null_fraction", where, 0.0)
    if not 0 <= nf <= 1:
        _fail(f"{where}.null_fraction", f"expected a fraction in [0, 1], got {nf!r}")

    if kind == "int":
        for key in ("low", "high"):
            if key not in gen:
                _fail(where, f"missing required field {key!r} (kind int takes low and high)")
        low = _int(gen, "low", where, 0, INT64[0], INT64[1])
        high = _int(gen, "high", where, 0, INT64[0], INT64[1])
        if low > high:
            _fail(f"{where}.high", f"high ({high}) must be >= low ({low})")
        if high - low >= INT64[1]:
            _fail(where, "high - low must fit in a 64-bit integer")
        _ranked(gen, where, high - low + 1)
    elif kind == "real":
        dist = gen.get("dist", "uniform")
        if dist not in REAL_DISTS:
            _fail(f"{where}.dist", f"{dist!r} is not allowed for kind real; allowed: {', '.join(REAL_DISTS)}")
        unused = ("mean", "sigma") if dist == "uniform" else ("low", "high")
        for key in unused:
            if key in gen:
                _fail(f"{where}.{key}", f"not used with dist {dist}; uniform takes low/high, lognormal mean/sigma")
        if dist == "uniform":
            lo, hi = _number(gen, "low", where, 0.0), _number(gen, "high", where, 1.0)
            if lo > hi:
                _fail(f"{where}.high", f"high ({hi}) must be >= low ({lo})")
        else:
            _number(gen, "mean", where, 3.0)
            if _number(gen, "sigma", where, 1.0) < 0:
                _fail(f"{where}.sigma", f"must be >= 0, got {gen['sigma']!r}")
        _int(gen, "round", where, 2, 0, 15)
    elif kind == "choice":
        if "values" not in gen:
            _fail(where, "missing required field 'values' (kind choice)")
        values = _scalar_list(gen["values"], f"{where}.values", "strings or numbers")
        if "weights" in gen:
            w = gen["weights"]
            if not isinstance(w, (list, tuple)) or len(w) != len(values):
                _fail(f"{where}.weights", f"expected a list of {len(values)} numbers (one per value), got {w!r}")
            if not all(is_number(x) and 0 <= x <= MAX_WEIGHT for x in w) or not sum(w) > 0:
                _fail(f"{where}.weights", f"expected numbers in [0, {MAX_WEIGHT:g}], not all 0, got {w!r}")
    elif kind == "text":
        if not isinstance(gen.get("prefix", "v"), str):
            _fail(f"{where}.prefix", f"expected a string, got {gen['prefix']!r}")
        if _bool(gen, "unique", where):
            for key in ("cardinality", "dist", "s"):
                if key in gen:
                    _fail(f"{where}.{key}", "not used with unique: true (every value is drawn once)")
        else:
            _ranked(gen, where, _int(gen, "cardinality", where, 100, 1, INT64[1]))
    elif kind == "fk":
        table = gen.get("table")
        if not isinstance(table, str) or table not in rows:
            _fail(f"{where}.table", f"fk table must be defined earlier; got {table!r}, defined: {sorted(rows)}")
        _ranked(gen, where, rows[table])
    elif kind == "date":
        start = parse_date(gen.get("start", "2020-01-01"), f"{where}.start")
        days = _int(gen, "days", where, 1460, 1, (dt.date.max - start).days + 1)
        _bool(gen, "sorted", where)
        _ranked(gen, where, days)
    elif kind == "derived":
        col = gen.get("column")
        if not isinstance(col, str) or col not in columns:
            _fail(f"{where}.column", f"derived from a later or unknown column {col!r}; earlier columns: {list(columns)}")
        _int(gen, "mod", where, 10, 1, INT64[1])
        if gen.get("prefix") is not None and not isinstance(gen["prefix"], str):
            _fail(f"{where}.prefix", f"expected a string, got {gen['prefix']!r}")


def value_range(gen: Mapping, rows: int, table_rows: Mapping[str, int]) -> tuple[str, tuple | None]:
    """What a validated generator's values are, for checks on arithmetic over them.

    ``("number", (lo, hi))``, ``("date", (first, last))`` (ISO strings), or ``("text", None)``; the
    range is None where it is not bounded or not known (floats). ``rows``: the table's row count;
    ``table_rows``: row counts of the tables an ``fk`` may name.
    """
    kind = gen["kind"]
    if kind == "serial":
        return "number", (1, rows)
    if kind == "int":
        return "number", (int(gen["low"]), int(gen["high"]))
    if kind == "fk":
        return "number", (1, table_rows[gen["table"]])
    if kind == "real":
        return "number", None
    if kind == "derived":
        return ("number", (0, int(gen.get("mod", 10)) - 1)) if gen.get("prefix") is None else ("text", None)
    if kind == "date":
        first = dt.date.fromisoformat(str(gen.get("start", "2020-01-01")))
        return "date", (first, first + dt.timedelta(days=int(gen.get("days", 1460)) - 1))
    if kind == "choice":
        values = list(gen["values"])
        if all(not isinstance(v, str) for v in values):
            return "number", (min(values), max(values))
        try:
            days = [dt.date.fromisoformat(v) for v in values]
        except (TypeError, ValueError):
            return "text", None
        return "date", (min(days), max(days))
    return "text", None


def unique_values(gen: Mapping) -> bool:
    """Whether a validated generator draws every non-NULL value at most once."""
    return gen["kind"] == "serial" or (gen["kind"] == "text" and gen.get("unique") is True)
