"""The cost meter: SQLite's counters, deterministic, writes rolled back, cache exact."""

from __future__ import annotations

from sqlgym.db.cost import WorkloadMeter
from sqlgym.db.sqlite import build_snapshot
from sqlgym.types import IndexSpec


def _q(tiny, qid):
    return next(q for q in tiny.workload if q.id == qid)


def test_same_statement_same_counters_across_restores(db, tiny):
    q = _q(tiny, "q2")
    b = db.snapshot.visible["q2"][0]
    first = db.measure(q.sql, b, dml=False, budget=10**8)
    db.restore()
    assert db.measure(q.sql, b, dml=False, budget=10**8) == first
    assert first.fullscan_steps > 0 and first.page_reads > 0


def test_snapshot_is_deterministic(tiny):
    a, b = build_snapshot(tiny), build_snapshot(tiny)
    assert a.image == b.image and a.visible == b.visible and a.hidden == b.hidden
    assert build_snapshot(tiny, instance=1).image != a.image


def test_writes_are_measured_and_rolled_back(db, tiny):
    w = _q(tiny, "w1")
    n = db.query("SELECT COUNT(*) FROM orders", budget=None)[1][0][0]
    c0 = db.measure(w.sql, db.snapshot.visible["w1"][0], dml=True, budget=10**7).cost
    db.create_index(IndexSpec("orders", ("status", "amount")), "ix_extra")
    c1 = db.measure(w.sql, db.snapshot.visible["w1"][0], dml=True, budget=10**7).cost
    assert db.query("SELECT COUNT(*) FROM orders", budget=None)[1][0][0] == n
    assert c1 > c0, "an index makes every insert more expensive"


def test_index_lowers_cost_and_cache_is_exact(db, tiny):
    meter = WorkloadMeter(tiny)
    base = meter.workload_cost(db, "visible")
    db.create_index(IndexSpec("customers", ("email",)), "ix_email")
    tuned = meter.workload_cost(db, "visible")
    assert tuned < base
    fresh = WorkloadMeter(tiny).workload_cost(db, "visible")  # no cache
    assert fresh == tuned
    db.drop_index("ix_email")
    assert meter.workload_cost(db, "visible") == base


def test_cost_does_not_depend_on_what_was_created_and_dropped_before(db, tiny):
    """Dropped indexes must leave no trace (no freelist), or cached costs would depend on history."""
    meter = WorkloadMeter(tiny)
    target = IndexSpec("orders", ("customer_id", "status"))
    db.create_index(target, "ix_target")
    fresh = WorkloadMeter(tiny).workload_cost(db, "visible")
    db.restore()
    for i, cols in enumerate([("status",), ("amount", "status"), ("note", "amount")]):
        db.create_index(IndexSpec("orders", cols), f"ix_tmp{i}")
    for i in range(3):
        db.drop_index(f"ix_tmp{i}")
    db.create_index(target, "ix_target")
    assert meter.workload_cost(db, "visible") == fresh
