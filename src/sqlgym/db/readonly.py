"""A database the agent may only read: an in-memory copy under the sandbox, one statement at a time.

Text-to-SQL episodes never write, so one copy serves every episode: the authorizer allows reads
only and ``PRAGMA query_only`` is set as a second wall. Agent statements run under the sandbox's
bounds (steps, wall time, memory, see :mod:`sqlgym.db.sandbox`); the agent's length limit is raised
to the largest record the database stores (up to the library's 5 MB), so every stored value stays
readable.
"""

from __future__ import annotations

import re

import apsw

from sqlgym.db import guards
from sqlgym.db.sandbox import AGENT_DEADLINE_S, LIMITS, AgentSQLError, NonDeterministicSQL, Sandbox, keep_rows
from sqlgym.sqltext import quote

# string literals, quoted identifiers and comments, where a ';' does not end a statement (SQLite's lexer rules)
_OPAQUE = re.compile(r"""'(?:[^']|'')*'?|"(?:[^"]|"")*"?|`[^`]*`?|\[[^\]]*\]?|--[^\n]*|/\*.*?(?:\*/|\Z)""", re.S)


def statement_count(sql: str) -> int:
    """Statements in ``sql``: the non-blank pieces between ';' outside literals, identifiers and comments."""
    return sum(1 for piece in _OPAQUE.sub(" ", sql).split(";") if piece.strip())


class ReadOnlyDatabase:
    """``image`` (bytes from ``Connection.serialize``) opened read-only in memory."""

    def __init__(self, image: bytes):
        self.conn = apsw.Connection(":memory:")
        self.sandbox = Sandbox(self.conn)
        self.sandbox.run("restore", None, self.conn.deserialize, "main", image)
        self.sandbox.run("admin", None, self.conn.execute, "PRAGMA query_only = 1")
        (largest,) = self._admin("SELECT COALESCE(MAX(mx_payload), 0) FROM dbstat WHERE aggregate = TRUE")[0]
        length = self.sandbox.agent_limits[apsw.SQLITE_LIMIT_LENGTH]
        if largest > length:
            self.sandbox.set_agent_limit(apsw.SQLITE_LIMIT_LENGTH, min(int(largest), LIMITS[apsw.SQLITE_LIMIT_LENGTH]))
        rows = self._admin("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        self.tables: list[str] = [r[0] for r in rows]
        self._lower = {t.lower(): t for t in self.tables}
        self._counts: dict[str, int] = {}

    def _admin(self, sql: str, params: tuple = ()) -> list[tuple]:
        return self.sandbox.run("admin", None, lambda: list(self.conn.execute(sql, params)))

    def table(self, name: str) -> str | None:
        """The table's real name (case-insensitive match), or None."""
        return self._lower.get(name.strip().strip('"`[]').lower())

    def row_count(self, table: str) -> int:
        if table not in self._counts:
            self._counts[table] = int(self._admin(f"SELECT COUNT(*) FROM {quote(table)}")[0][0])
        return self._counts[table]

    def columns(self, table: str) -> list[tuple[str, str, bool]]:
        """(name, declared type, is primary key) per column."""
        return [(r[1], r[2] or "", bool(r[5])) for r in self._admin(f"PRAGMA table_info({quote(table)})")]

    def foreign_keys(self, table: str) -> list[tuple[str, str, str]]:
        """(column, referenced table, referenced column) per foreign key."""
        out = []
        for r in self._admin(f"PRAGMA foreign_key_list({quote(table)})"):
            target = r[4]
            if target is None:  # REFERENCES t without a column: t's primary key
                pk = [c for c, _, is_pk in self.columns(r[2]) if is_pk] if self.table(r[2]) else []
                target = pk[0] if pk else "rowid"
            out.append((r[3], r[2], target))
        return out

    def create_statements(self) -> list[str]:
        """The CREATE TABLE text of every table, as the schema was written."""
        return [r[0] for r in self._admin(
            "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]

    def run(self, sql: str, *, budget: int, max_rows: int, deadline_s: float | None = AGENT_DEADLINE_S,
            deterministic: bool = False) -> tuple[list[str], list[tuple], int]:
        """One read-only statement: (column names, first ``max_rows`` rows, total rows).

        Raises ``AgentSQLError`` for more than one statement or a result too large to keep,
        ``BudgetExceeded`` past ``budget`` VM steps, ``DeadlineExceeded`` (a ``BudgetExceeded``) past
        ``deadline_s`` seconds (None: no deadline, for gold queries), ``MemoryBudgetExceeded`` past
        the memory bound, ``NonDeterministicSQL`` with ``deterministic`` for SQL whose result could
        change with the clock, the zone or the run (:func:`sqlgym.db.guards.nondeterministic_reason`
        plus the authorizer), and ``apsw.Error`` for anything SQLite or the sandbox refuses.
        """
        n = statement_count(sql)
        if n != 1:
            raise AgentSQLError(f"send exactly one SQL statement, not {n}")
        if deterministic:
            why = guards.nondeterministic_reason(sql)
            if why:
                raise NonDeterministicSQL(why)

        def go():
            cur = self.conn.execute(sql, prepare_flags=self.sandbox.prepare_flags)
            try:
                names = [d[0] for d in cur.get_description()]
            except apsw.ExecutionCompleteError:
                names = []
            kept, total = keep_rows(cur, max_rows)
            return names, kept, total

        return self.sandbox.run("read", budget, go, deadline_s=deadline_s, deterministic=deterministic)

    def close(self) -> None:
        self.conn.close()


def image_of_file(path: str) -> bytes:
    """Read a SQLite file without ever opening it for writing (immutable, read-only URI)."""
    import pathlib
    import urllib.parse

    uri = "file:" + urllib.parse.quote(str(pathlib.Path(path).resolve())) + "?mode=ro&immutable=1"
    src = apsw.Connection(uri, flags=apsw.SQLITE_OPEN_READONLY | apsw.SQLITE_OPEN_URI)
    try:
        return src.serialize("main")
    finally:
        src.close()
