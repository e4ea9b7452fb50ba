"""What the planner does with a database: which index each workload statement's plan uses, column
statistics, and the shape a partial index's WHERE clause may take."""

from __future__ import annotations

import re
from collections.abc import Mapping

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from sqlgym.db.sqlite import Database, index_sql
from sqlgym.scenarios.spec import Scenario
from sqlgym.sqltext import quote
from sqlgym.types import IndexSpec

PLAN_INDEX = re.compile(r"USING (?:COVERING )?INDEX (\S+)")
WHERE_NODES = (exp.Column, exp.Identifier, exp.Literal, exp.Boolean, exp.Null, exp.EQ, exp.NEQ, exp.GT, exp.GTE,
               exp.LT, exp.LTE, exp.And, exp.Or, exp.Not, exp.Paren, exp.In, exp.Between, exp.Is, exp.Like,
               exp.Neg, exp.Add, exp.Sub, exp.Mul, exp.Div)
MAX_WHERE = 2_000  # characters of a partial index's WHERE


def index_users(db: Database, scenario: Scenario, sql_of: Mapping[str, str]) -> dict[str, list[str]]:
    """Index name -> the workload statements whose plan (on their first visible binding) uses it.

    ``sql_of`` maps a query id to the SQL that runs for it now (a rewrite, or the original)."""
    used: dict[str, list[str]] = {}
    for q in scenario.workload:
        for _, _, detail in db.explain(sql_of.get(q.id, q.sql), db.snapshot.visible[q.id][0]):
            for name in PLAN_INDEX.findall(detail):
                used.setdefault(name, []).append(q.id)
    return used


def column_stats(db: Database, table: str, columns: tuple[str, ...]) -> list[tuple[str, int, int]]:
    """(column, distinct values, NULLs) per column of ``table`` as built (one full scan; cache it)."""
    sql = ("SELECT " + ", ".join(f"COUNT(DISTINCT {quote(c)}), SUM({quote(c)} IS NULL)" for c in columns)
           + f" FROM {quote(table)}")
    (row,) = db.query(sql, budget=None, mode="admin")[1]
    return [(c, int(row[2 * i]), int(row[2 * i + 1] or 0)) for i, c in enumerate(columns)]


def index_bytes(db: Database, spec: IndexSpec) -> int:
    """The bytes an index on ``spec`` takes, by building it on ``db`` and dropping it again (no ANALYZE:
    the size is a property of the data, not a what-if cost). Use a scratch copy of the database."""
    name = "sqlgym_size_probe"
    db.sandbox.run("admin", None, db.conn.execute, index_sql(spec, name))
    try:
        (size,) = db.sandbox.run("admin", None, lambda: db.conn.execute(
            "SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name = ?", (name,)).fetchone())
    finally:
        db.sandbox.run("admin", None, db.conn.execute, f"DROP INDEX {quote(name)}")
    return int(size)


def partial_where(where: str, columns: tuple[str, ...]) -> tuple[str | None, str | None]:
    """(the WHERE as SQLite text, None) when it uses only ``columns``, constants and comparisons, else (None, why)."""
    if len(where) > MAX_WHERE:
        return None, f"a partial index WHERE may be at most {MAX_WHERE:,} characters"
    try:
        cond = sqlglot.condition(where, dialect="sqlite")
        nodes = list(cond.walk())
    except (SqlglotError, ValueError, RecursionError) as e:
        return None, f"the WHERE clause does not parse: {str(e).splitlines()[0] if str(e) else type(e).__name__}"
    for node in nodes:
        if not isinstance(node, WHERE_NODES):
            return None, f"a partial index WHERE may use columns, constants and comparisons only, not {node.key}"
        if isinstance(node, exp.Column) and node.name not in columns:
            return None, f"unknown column {node.name!r} in WHERE"
    try:
        return cond.sql(dialect="sqlite"), None
    except RecursionError:
        return None, "the WHERE clause is nested too deeply"
