"""Is a rewritten query the same query? Compared by results, on two independent databases.

A rewrite counts only if it is one SELECT over the same base tables, uses only the original's
parameters, and returns the same bag of rows (the same sequence when the original's outermost query
has ORDER BY) for every visible and hidden binding, on the scenario's database and on a second,
independently generated instance of it (other data, rows stored in another physical order).
A rewrite must also be deterministic (:func:`sqlgym.db.guards.nondeterministic_reason`, and the
sandbox's deterministic flavour while it runs): its cost and its rows may not depend on the clock,
the time zone or the run. The rewrite runs under the agent deadline; the original does not.
"""

from __future__ import annotations

from collections import Counter

from sqlgym.db.guards import nondeterministic_reason
from sqlgym.db.sandbox import AGENT_DEADLINE_S, AgentSQLError, BudgetExceeded, NonDeterministicSQL
from sqlgym.db.sqlite import Database
from sqlgym.scenarios.spec import QuerySpec
from sqlgym.sqltext import parse

MAX_COMPARE_ROWS = 200_000


def normalize_value(v):
    """2.0 equals 2; other floats to 10 significant digits (plans sum in different orders)."""
    if isinstance(v, float):
        if v.is_integer():
            return int(v)
        return float(f"{v:.10g}")
    if isinstance(v, bytes):
        return v.hex()
    return v


def _rows(db: Database, sql: str, binding: dict, budget: int, deadline_s: float | None = None) -> list[tuple]:
    _, rows, total = db.query(sql, binding, budget=budget, max_rows=MAX_COMPARE_ROWS, deadline_s=deadline_s,
                              deterministic=True)
    if total > MAX_COMPARE_ROWS:
        raise AgentSQLError(f"the query returns more than {MAX_COMPARE_ROWS:,} rows")
    return [tuple(normalize_value(v) for v in r) for r in rows]


def same_result(a: list[tuple], b: list[tuple], ordered: bool) -> bool:
    if ordered:
        return a == b
    return Counter(map(repr, a)) == Counter(map(repr, b))


def static_check(q: QuerySpec, new_sql: str) -> str | None:
    """Why ``new_sql`` cannot be a rewrite of ``q``, or None."""
    if q.kind != "select":
        return f"{q.id} is a write; only SELECT queries can be rewritten"
    try:
        facts = parse(new_sql)
    except ValueError as e:
        return f"the rewrite does not parse: {e}"
    if facts.kind != "select":
        return "a rewrite must be a single SELECT statement"
    if facts.tables != q.tables:
        return f"a rewrite must read the same tables {sorted(q.tables)}, not {sorted(facts.tables)}"
    extra = facts.params - set(q.params)
    if extra:
        return f"the rewrite uses parameters the query does not have: {sorted(extra)}"
    return None


def check_rewrite(dbs: list[Database], q: QuerySpec, new_sql: str, budget: int) -> str | None:
    """None if the rewrite is equivalent on every binding of every database, else the reason."""
    why = static_check(q, new_sql)
    if why:
        return why
    why = nondeterministic_reason(new_sql)
    if why:
        return f"the rewrite is not deterministic: {why}"
    used = parse(new_sql).params
    for db in dbs:
        shown = len(db.snapshot.visible[q.id]) if db.snapshot.instance == 0 else 0  # the agent saw these
        bindings = db.snapshot.visible[q.id] + db.snapshot.hidden[q.id]
        for i, b in enumerate(bindings):
            try:
                want = _rows(db, q.sql, b, budget=10 * budget)
                got = _rows(db, new_sql, {k: v for k, v in b.items() if k in used}, budget=budget,
                            deadline_s=AGENT_DEADLINE_S)
            except BudgetExceeded as e:
                return f"the rewrite was stopped: {e}"
            except NonDeterministicSQL as e:
                return f"the rewrite is not deterministic: {e}"
            except Exception as e:  # noqa: BLE001 - any SQLite error in agent SQL is an observation
                return f"the rewrite failed: {type(e).__name__}: {e}"
            if not same_result(want, got, q.ordered):
                which = "the scenario's database" if db.snapshot.instance == 0 else "a second instance of the database"
                # never a hidden binding's values: fed back, they would reveal what the terminal reward measures
                binding = f"binding {b}" if i < shown else "a hidden binding"
                return f"the rewrite returns different rows from the original on {which} ({binding})"
    return None
