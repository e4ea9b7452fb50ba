"""Workload cost: weighted templates x bindings, measured by SQLite's counters and cached exactly.

A query's plan depends only on the indexes and statistics of the tables it reads, so its cost is
cached under (query, SQL text, bindings, state of those tables). Costs are deterministic, so the
cache changes speed, never a number.
"""

from __future__ import annotations

from collections.abc import Mapping

import apsw

from sqlgym.db.sandbox import BudgetExceeded
from sqlgym.db.sqlite import Database
from sqlgym.errors import SqlgymError
from sqlgym.scenarios.spec import QuerySpec, Scenario
from sqlgym.types import Measurement

WORKLOAD_BUDGET = 50_000_000  # VM steps for one statement of the scenario's own workload


class WorkloadMeter:
    """Measures a scenario's workload on a Database; one cache per scenario, shared by envs."""

    def __init__(self, scenario: Scenario, cache: dict | None = None):
        self.scenario = scenario
        self.cache: dict = {} if cache is None else cache
        self.failed: set[tuple] = set()  # cache keys at which a rewrite failed and the original's cost counted
        self.runs: dict[tuple, int] = {}  # (sql, which, binding index, compiled program) -> one execution's cost
        self.capped: set[str] = set()  # query ids that ran into the budget in some state (and cost the budget)

    def query_cost(self, db: Database, q: QuerySpec, which: str, sql: str | None = None,
                   budget: int = WORKLOAD_BUDGET) -> float:
        """Mean cost of ``q`` (or its rewrite ``sql``) over the visible or hidden bindings.

        A rewrite was checked when it was accepted, but the database changes after that (an index it
        named is dropped, a plan changes): if it fails now, it costs what the original costs, and
        ``failed`` records it, so re-measuring never raises on agent SQL.
        """
        sql = sql or q.sql
        key = self._key(db, q, which, sql)
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        bindings = (db.snapshot.visible if which == "visible" else db.snapshot.hidden)[q.id]
        try:
            cost = sum(self._run_cost(db, q, which, i, sql, b, budget) for i, b in enumerate(bindings)) / len(bindings)
        except (apsw.Error, BudgetExceeded, SqlgymError):
            if sql == q.sql:
                raise  # the scenario's own workload failing is a bug, not agent input
            self.failed.add(key)
            cost = self.query_cost(db, q, which, None, budget)
        self.cache[key] = cost
        return cost

    def _run_cost(self, db: Database, q: QuerySpec, which: str, i: int, sql: str, binding, budget: int) -> int:
        """One execution's cost. A read whose compiled program (for this binding, and with the B-trees it
        opens) was measured before costs what it cost then: the same program on the same data runs the same
        VM steps and reads the same pages. So an index no plan uses costs no execution to judge. Writes are
        always run (an index on their table changes their program anyway)."""
        if q.kind == "dml":
            return self._measure(db, q, sql, binding, budget)
        key = (sql, which, i, db.program(sql, binding))
        hit = self.runs.get(key)
        if hit is None:
            if len(self.runs) > 200_000:
                self.runs.clear()
            hit = self.runs[key] = self._measure(db, q, sql, binding, budget)
        return hit

    def _measure(self, db: Database, q: QuerySpec, sql: str, binding, budget: int) -> int:
        """One execution, measured. The scenario's own statement stopped at the VM-step budget costs the
        budget: it ran within it where the scenario was made (a file's workload is checked so), and an
        index can make a plan far slower; the stop is at a fixed step count, so the cost is still exact.
        A rewrite stopped there raises (it then costs what the original costs)."""
        try:
            return db.measure(sql, binding, dml=q.kind == "dml", budget=budget).cost
        except BudgetExceeded as e:
            if sql != q.sql or type(e) is not BudgetExceeded:  # memory or a deadline: not a step count
                raise
            self.capped.add(q.id)
            return budget

    @staticmethod
    def _key(db: Database, q: QuerySpec, which: str, sql: str) -> tuple:
        return (q.id, sql, which, tuple(db.table_state(t) for t in sorted(q.tables)))

    def rewrite_fails(self, db: Database, q: QuerySpec, sql: str) -> bool:
        """Whether the rewrite ``sql`` of ``q`` fell back to the original's cost in the database's current state."""
        return any(self._key(db, q, which, sql) in self.failed for which in ("visible", "hidden"))

    def workload_cost(self, db: Database, which: str, rewrites: Mapping[str, str] | None = None) -> float:
        rewrites = rewrites or {}
        return sum(q.weight * self.query_cost(db, q, which, rewrites.get(q.id)) for q in self.scenario.workload)

    def measure(self, db: Database, rewrites: Mapping[str, str] | None = None, hidden: bool = True) -> Measurement:
        """Visible (and, if asked, hidden) workload cost plus storage of the database's current state."""
        return Measurement(
            cost=self.workload_cost(db, "visible", rewrites),
            hidden_cost=self.workload_cost(db, "hidden", rewrites) if hidden else None,
            storage_bytes=db.storage_bytes(),
            n_indexes=len(db.indexes),
        )
