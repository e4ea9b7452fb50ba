"""A scenario's SQL, checked by SQLite itself before anything is built.

sqlglot is more lenient than SQLite: this is what catches an unknown column, a partial-index WHERE
that SQLite refuses, a ``?`` placeholder, or a workload statement the sandbox would deny. The empty
schema and indexes are created in memory and every statement is prepared (``EXPLAIN``) under the
same sandbox the workload runs under; it costs about half a millisecond a scenario.
"""

from __future__ import annotations

import apsw

from sqlgym.db.sandbox import Sandbox
from sqlgym.errors import ScenarioError
from sqlgym.scenarios.spec import Scenario, create_index_sql, create_table_sql, fingerprint

_CHECKED: set[str] = set()


def check_scenario_sql(scenario: Scenario) -> None:
    """Raise ScenarioError naming the index or statement SQLite refuses (checked once per scenario id and spec)."""
    if scenario.source is not None:
        return  # checked against the file's own schema and data when it was made (sqlgym.db.userdb)
    key = fingerprint(scenario)
    if key in _CHECKED:
        return
    where = f"scenario {scenario.id!r}"
    conn = apsw.Connection(":memory:")
    sandbox = Sandbox(conn)
    try:
        for t in scenario.schema:
            conn.execute(create_table_sql(t))
        for i, ix in enumerate(scenario.indexes):
            check_prepares(sandbox, "admin", create_index_sql(ix), {}, f"{where}.indexes[{i}]" + (".where" if ix.where else ""),
                     f"index {ix.name!r}")
        for i, q in enumerate(scenario.workload):
            mode = "read" if q.kind == "select" else "write"
            check_prepares(sandbox, mode, "EXPLAIN " + q.sql, {p: None for p in q.params}, f"{where}.queries[{i}].sql",
                     f"statement {q.id!r}")
    finally:
        conn.close()
    _CHECKED.add(key)


def check_prepares(sandbox: Sandbox, mode: str, sql: str, bindings: dict, where: str, what: str) -> None:
    """Prepare and run ``sql`` (an EXPLAIN) under ``mode``; a ScenarioError ``"<where>: <why>"`` if SQLite refuses it."""
    seen: list[str] = []

    def one_statement(cursor, statement, _bindings):
        seen.append(statement)
        return len(seen) == 1

    cur = sandbox.conn.cursor()
    cur.exec_trace = one_statement
    try:
        sandbox.run(mode, 1_000_000, lambda: cur.execute(sql, bindings).fetchall())
    except apsw.ExecTraceAbort:
        raise ScenarioError(f"{where}: {what} must be exactly one SQL statement") from None
    except KeyError as e:
        raise ScenarioError(f"{where}: {what} uses parameter {e.args[0]!r}, which has no generator") from None
    except (apsw.Error, apsw.BindingsError) as e:
        raise ScenarioError(f"{where}: SQLite refuses {what}: {e}") from None
