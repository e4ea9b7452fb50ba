"""Do two query results match? Execution accuracy (EX) as the project's docs/architecture.md defines it.

Gold and predicted SQL run on the same read-only database with the same step budget (an error or
an overrun is wrong). Values are normalised (2.0 equals 2, other floats to 10 significant digits,
bytes as hex text, strings exact). Rows compare as bags (duplicates count), in sequence only when
the gold's outermost query has ORDER BY. Columns may come in another order; their number must match.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlgym.db.equivalence import normalize_value

MAX_PERMUTATIONS = 2_000  # column orders tried when several columns hold the same values


@dataclass(frozen=True)
class Result:
    """What a query returned: its column count and normalised rows."""

    columns: int
    rows: tuple[tuple, ...]

    @classmethod
    def of(cls, columns: int, rows: Iterable[Sequence]) -> Result:
        return cls(columns, tuple(tuple(normalize_value(v) for v in r) for r in rows))


def _column_orders(gold: Result, pred: Result, as_set: bool):
    """Orders of pred's columns whose per-column values match gold's column for column."""
    def sig(rows, j):
        vals = (r[j] for r in rows)
        return frozenset(vals) if as_set else Counter(vals)

    gsig = [sig(gold.rows, j) for j in range(gold.columns)]
    psig = [sig(pred.rows, j) for j in range(pred.columns)]
    options = [[k for k in range(pred.columns) if psig[k] == gsig[j]] for j in range(gold.columns)]
    tried = 0

    def extend(prefix: list[int]):
        nonlocal tried
        if len(prefix) == gold.columns:
            tried += 1
            yield tuple(prefix)
            return
        for k in options[len(prefix)]:
            if k not in prefix and tried < MAX_PERMUTATIONS:
                yield from extend(prefix + [k])

    yield from extend([])


def execution_match(gold: Result, pred: Result, ordered: bool = False, *, as_set: bool = False) -> bool:
    """True when ``pred`` returns what ``gold`` returns (see the module docstring).

    ``as_set`` compares sets of rows instead of bags (for comparison with papers that do); order is
    then ignored too.
    """
    if gold.columns != pred.columns:
        return False
    if not as_set and len(gold.rows) != len(pred.rows):
        return False
    if gold.columns == 0:
        return True
    want = set(gold.rows) if as_set else (list(gold.rows) if ordered else Counter(gold.rows))
    for order in _column_orders(gold, pred, as_set):
        rows = [tuple(r[k] for k in order) for r in pred.rows]
        got = set(rows) if as_set else (rows if ordered else Counter(rows))
        if got == want:
            return True
    return False


def row_f1(gold: Result, pred: Result) -> float:
    """Partial credit: F1 of the bags of rows (columns in the order given), 0 when column counts differ."""
    if gold.columns != pred.columns or not gold.rows or not pred.rows:
        return float(gold.rows == pred.rows and gold.columns == pred.columns)
    overlap = sum((Counter(gold.rows) & Counter(pred.rows)).values())
    if overlap == 0:
        return 0.0
    p, r = overlap / len(pred.rows), overlap / len(gold.rows)
    return 2 * p * r / (p + r)
