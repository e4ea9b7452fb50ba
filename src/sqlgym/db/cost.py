"""Workload cost: weighted templates x bindings, measured by SQLite's counters and cached exactly.

A query's plan depends only on the indexes and statistics of the tables it reads, so its cost is
cached under (query, SQL text, bindings, state of those tables). Costs are deterministic, so the
cache changes speed, never a number.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlgym.db.sqlite import Database
from sqlgym.scenarios.spec import QuerySpec, Scenario
from sqlgym.types import Measurement

WORKLOAD_BUDGET = 50_000_000  # VM steps for one statement of the scenario's own workload


class WorkloadMeter:
    """Measures a scenario's workload on a Database; one cache per scenario, shared by envs."""

    def __init__(self, scenario: Scenario, cache: dict | None = None):
        self.scenario = scenario
        self.cache: dict = {} if cache is None else cache

    def query_cost(self, db: Database, q: QuerySpec, which: str, sql: str | None = None,
                   budget: int = WORKLOAD_BUDGET) -> float:
        """Mean cost of ``q`` (or its rewrite ``sql``) over the visible or hidden bindings."""
        sql = sql or q.sql
        key = (q.id, sql, which, tuple(db.table_state(t) for t in sorted(q.tables)))
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        bindings = (db.snapshot.visible if which == "visible" else db.snapshot.hidden)[q.id]
        total = 0
        for b in bindings:
            total += db.measure(sql, b, dml=q.kind == "dml", budget=budget).cost
        cost = total / len(bindings)
        self.cache[key] = cost
        return cost

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
