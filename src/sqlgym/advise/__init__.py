"""Index advice for your own SQLite database: a policy plays SQLIndex-v0 on it, the result is a migration.

    python -m sqlgym.advise shop.db --workload queries.sql --out advice.sql

:func:`advise` makes the scenario from the file and the workload (``sqlgym.scenarios.from_sqlite``),
runs the reference (the greedy advisor, cached on disk by the file's content hash), plays the policy
for one episode, and reads off what it changed: the ``DROP INDEX`` / ``CREATE INDEX`` statements (and
``ANALYZE`` where the final state's statistics need it) that take the file to the state the policy left,
and every workload statement's measured cost before and after. :func:`migration` writes them as one
transaction; applied to the file (or a copy), the workload costs what the advice says it will, counter
for counter (tests/test_advise.py). The database is only ever read, unless :func:`apply` is called:
it makes ``DB.bak`` with SQLite's backup API first, then runs the migration in one transaction.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import apsw
import gymnasium as gym

from sqlgym.agents import make_policy
from sqlgym.db import fileimage
from sqlgym.db.runtime import Runtime, runtime_for
from sqlgym.db.sqlite import Database, index_sql
from sqlgym.db.userdb import from_sqlite, row_sample_note
from sqlgym.errors import ConfigError, ScenarioError
from sqlgym.scenarios.spec import QuerySpec, Scenario
from sqlgym.sqltext import quote


@dataclass(frozen=True)
class StatementCost:
    """One workload template: its mean measured cost per execution, over every observed binding."""

    id: str
    kind: str  # "select" | "dml"
    weight: float
    sql: str
    before: float
    after: float


@dataclass
class Advice:
    database: str
    sha256: str
    workload: str
    policy: str
    statements: list[str]  # the migration, in order
    costs: list[StatementCost]
    rewrites: dict[str, str] = field(default_factory=dict)  # query id -> rewritten SQL (for the application)
    left_out: tuple[str, ...] = ()
    reference_seconds: float | None = None  # None: the reference came from the cache
    note: str = ""  # what a row sample's costs mean
    steps: int = 0

    @property
    def before(self) -> float:
        return sum(c.weight * c.before for c in self.costs)

    @property
    def after(self) -> float:
        return sum(c.weight * c.after for c in self.costs)

    def as_dict(self) -> dict[str, Any]:
        return {"database": self.database, "sha256": self.sha256, "workload": self.workload, "policy": self.policy,
                "statements": self.statements, "rewrites": self.rewrites,
                "costs": [c.__dict__ for c in self.costs], "total_before": self.before, "total_after": self.after,
                "left_out": list(self.left_out), "reference_seconds": self.reference_seconds, "note": self.note,
                "migration": migration(self)}


def _mean_cost(rt: Runtime, db: Database, q: QuerySpec, sql: str | None) -> float:
    """Mean over the visible and hidden bindings together (one set when they are the same)."""
    snap = db.snapshot
    v, h = snap.visible[q.id], snap.hidden[q.id]
    mv = rt.meter.query_cost(db, q, "visible", sql)
    if v == h:
        return mv
    mh = rt.meter.query_cost(db, q, "hidden", sql)
    return (mv * len(v) + mh * len(h)) / (len(v) + len(h))


def statements_for(scenario: Scenario, db: Database) -> list[str]:
    """The DDL that takes the file to ``db``'s state: drops, then creates in the order they were made, with
    ``ANALYZE`` where the state's statistics were made by one (``Database.table_state``).

    An index the policy created is ``origin == "agent"``; one of the file's that is still there is kept.
    Under the file's own statistics, a table the policy analyzed gets ``ANALYZE`` after the creates its
    statistics cover and before the ones they do not; under fresh statistics (``statistics="analyze"``) one
    ``ANALYZE`` at the end makes every table's statistics what the scenario measured with.
    """
    out = [f"DROP INDEX {quote(n)}" for n in scenario.named_indexes if db.origin.get(n) != "scenario"]
    creates = [(n, spec) for n, spec in db.indexes.items() if db.origin.get(n) != "scenario"]
    if scenario.statistics.policy == "analyze":
        return out + [index_sql(spec, n) for n, spec in creates] + (["ANALYZE"] if out or creates else [])
    analyzed = {t.name: db.table_state(t.name)[1][1] for t in scenario.schema if db.table_state(t.name)[1][0] == "analyzed"}
    done: set[str] = set()
    for n, spec in creates:
        t = spec.table
        if t in analyzed and t not in done and spec.key() not in analyzed[t]:
            out.append(f"ANALYZE {quote(t)}")
            done.add(t)
        out.append(index_sql(spec, n))
    out += [f"ANALYZE {quote(t)}" for t in analyzed if t not in done]
    return out


def advise(database: str | Path, workload: Any, policy: str = "greedy", *, seed: int = 0, adapter: str | None = None,
           progress: Callable[[int, int, int], None] | None = None, **options: Any) -> Advice:
    """Run ``policy`` for one episode on the scenario made from ``database`` and ``workload``; never writes the file.

    ``options`` are ``from_sqlite``'s (visible, budget, max_indexes, sample, statistics, ...); ``progress``
    reports the reference's greedy search (see ``sqlgym.db.advisor.greedy``) when it is not cached.
    """
    scenario = from_sqlite(database, workload, **options)
    rt = runtime_for(scenario)
    ran: list[bool] = []

    def report(round_: int, tried: int, total: int) -> None:
        ran.append(True)  # called only while the advisor runs: not cached
        if progress is not None:
            progress(round_, tried, total)

    t0 = time.perf_counter()
    rt.compute_reference(report)
    ref_s = time.perf_counter() - t0 if ran else None
    pol = make_policy(policy, "SQLIndex-v0", adapter)
    env = gym.make("SQLIndex-v0", scenario=scenario)
    try:
        obs, info = env.reset(seed=seed)
        pol.reset(scenario, seed=seed)
        steps = 0
        while True:
            obs, _, term, trunc, info = env.step(pol.act(obs, info))
            steps += 1
            if term or trunc:
                break
        inner: Any = env.unwrapped
        final: Database = inner.db
        rewrites = dict(inner.ep.rewrites)
        base = Database(rt.snapshot, scenario)
        try:
            costs = [StatementCost(q.id, q.kind, q.weight, q.sql, _mean_cost(rt, base, q, None),
                                   _mean_cost(rt, final, q, rewrites.get(q.id))) for q in scenario.workload]
        finally:
            base.close()
        statements = statements_for(scenario, final)
    finally:
        env.close()
    src = scenario.source
    assert src is not None, "from_sqlite gives every scenario its source"
    return Advice(src.path, src.sha256, src.workload, policy, statements, costs, rewrites, src.skipped, ref_s,
                  row_sample_note(scenario), steps)


def migration(advice: Advice) -> str:
    """The advice as a SQL file: comments that say what was measured, then one transaction."""
    pct = 100 * (advice.after / advice.before - 1) if advice.before else 0.0
    lines = [f"-- sqlgym advise ({advice.policy}) for {advice.database}",
             f"-- database sha256 {advice.sha256}",
             f"-- workload {advice.workload}: cost {advice.before:,.0f} -> {advice.after:,.0f} ({pct:+.1f}%), in SQLite's "
             "counters (VM steps + 15 x page reads, weighted)",
             "-- Apply to a copy first: sqlite3 copy.db < this-file.sql"]
    if advice.note:
        lines.append(f"-- {advice.note}")
    for qid, sql in advice.rewrites.items():
        lines.append(f"-- rewrite {qid} in the application: {' '.join(sql.split())}")
    if not advice.statements:
        lines.append("-- no index change lowers the workload's cost")
        return "\n".join(lines) + "\n"
    return "\n".join([*lines, "BEGIN;", *(s + ";" for s in advice.statements), "COMMIT;"]) + "\n"


def apply(advice: Advice, database: str | Path) -> Path:
    """Apply the advice to ``database`` in one transaction, after copying it to ``<database>.bak``; returns the copy.

    Refuses if the file changed since it was measured, or if the ``.bak`` exists (it is never overwritten).
    """
    path = Path(database).expanduser().resolve()
    backup = path.with_name(path.name + ".bak")
    if backup.exists():
        raise ConfigError(f"{str(backup)!r} exists; move it away first (a backup is never overwritten)")
    if fileimage.digest(path) != advice.sha256:
        raise ScenarioError(f"{str(path)!r} changed since it was measured; run the advice again")
    src = apsw.Connection(str(path))
    try:
        dest = apsw.Connection(str(backup))
        try:
            with dest.backup("main", src, "main") as b:
                b.step()
        finally:
            dest.close()
        src.execute("BEGIN IMMEDIATE")
        try:
            for sql in advice.statements:
                src.execute(sql)
            src.execute("COMMIT")
        except apsw.Error:
            src.execute("ROLLBACK")
            raise
    finally:
        src.close()
    return backup


__all__ = ["Advice", "StatementCost", "advise", "apply", "migration", "statements_for"]
