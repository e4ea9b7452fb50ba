"""Agent SQL is untrusted: every hostile statement is refused or stopped, and nothing changes."""

from __future__ import annotations

import os

import apsw
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sqlgym.db.sandbox import BudgetExceeded

HOSTILE = [
    ("ATTACH creates a file", "ATTACH DATABASE 'evil.db' AS evil"),
    ("VACUUM INTO writes a file", "VACUUM INTO 'copy.db'"),
    ("PRAGMA writes change the connection", "PRAGMA query_only = 0"),
    ("PRAGMA writable_schema", "PRAGMA writable_schema = 1"),
    ("load_extension runs native code", "SELECT load_extension('libevil')"),
    ("statistics are the library's", "INSERT INTO sqlite_stat1 VALUES ('orders', NULL, '1')"),
    ("stat rows cannot be deleted", "DELETE FROM sqlite_stat1"),
    ("reads may not write", "DELETE FROM orders"),
    ("reads may not update", "UPDATE orders SET amount = 0"),
    ("no DDL", "DROP TABLE orders"),
    ("no new tables", "CREATE TABLE x(a)"),
    ("no indexes behind the env's back", "CREATE INDEX i ON orders(status)"),
    ("no triggers", "CREATE TRIGGER t AFTER INSERT ON orders BEGIN DELETE FROM orders; END"),
    ("no ANALYZE", "ANALYZE"),
    ("no transactions", "BEGIN IMMEDIATE"),
    ("recursive CTE without end", "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) SELECT COUNT(*) FROM r"),
    ("cross join of everything", "SELECT COUNT(*) FROM orders a, orders b, orders c"),
    ("huge blob", "SELECT length(randomblob(1000000000))"),
    ("two statements", "SELECT 1; DROP TABLE orders"),
]


def _fingerprint(db):
    rows = db.query("SELECT COUNT(*), SUM(amount) FROM orders", budget=None, mode="admin")[1]
    schema = db.query("SELECT type, name, sql FROM sqlite_schema ORDER BY name", budget=None, mode="admin")[1]
    return rows, schema


@pytest.mark.parametrize("reason,sql", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_sql_is_refused_and_changes_nothing(db, tmp_path, monkeypatch, reason, sql):
    monkeypatch.chdir(tmp_path)
    before = _fingerprint(db)
    with pytest.raises((apsw.Error, BudgetExceeded)):
        db.query(sql, budget=2_000_000)
    assert _fingerprint(db) == before, reason
    assert os.listdir(tmp_path) == [], f"{reason}: a file was created"


def test_budget_stops_statement_and_connection_keeps_working(db):
    with pytest.raises(BudgetExceeded):
        db.query("WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) SELECT COUNT(*) FROM r", budget=100_000)
    assert db.query("SELECT COUNT(*) FROM customers", budget=1_000_000)[1] == [(3000,)]


def test_read_only_pragmas_are_allowed(db):
    cols, rows, _ = db.query("PRAGMA table_info(orders)", budget=100_000)
    assert [r[1] for r in rows][:2] == ["id", "customer_id"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(
    st.text(max_size=200),
    st.builds(lambda a, b: f"{a} {b}", st.sampled_from(["SELECT", "WITH", "PRAGMA", "ATTACH", "INSERT INTO", "VACUUM", "DROP", "CREATE"]), st.text(max_size=80)),
))
def test_random_sql_never_escapes(db, sql):
    before = _fingerprint(db)
    try:
        db.query(sql, budget=200_000, max_rows=20)
    except (apsw.Error, BudgetExceeded, ValueError, OverflowError):
        pass
    assert _fingerprint(db) == before
