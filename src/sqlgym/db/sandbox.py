"""Agent SQL is untrusted: an authorizer per purpose, hard limits, and a VM-step budget.

Modes:
- ``read``: SELECT only (plus PRAGMAs that can only read, like table_info); what agent queries run under.
- ``write``: ``read`` plus INSERT/UPDATE/DELETE on user tables and SAVEPOINT; for workload DML,
  which always runs inside a savepoint that is rolled back.
- ``admin``: the library's own statements (build, CREATE INDEX it generated, ANALYZE, dbstat).
Every mode denies ATTACH/DETACH (which also covers ``VACUUM INTO``) and ``load_extension``.
"""

from __future__ import annotations

import apsw

READ_PRAGMAS = frozenset({"table_info", "table_xinfo", "index_list", "index_info", "index_xinfo", "foreign_key_list"})
DENIED_FUNCTIONS = frozenset({"load_extension", "fts3_tokenizer"})
READ_OPS = frozenset({apsw.SQLITE_SELECT, apsw.SQLITE_READ, apsw.SQLITE_RECURSIVE, apsw.SQLITE_FUNCTION})
WRITE_OPS = READ_OPS | {apsw.SQLITE_INSERT, apsw.SQLITE_UPDATE, apsw.SQLITE_DELETE, apsw.SQLITE_SAVEPOINT}
ALWAYS_DENIED = frozenset({apsw.SQLITE_ATTACH, apsw.SQLITE_DETACH})

# Limits set on every connection the agent's SQL touches.
LIMITS = {
    apsw.SQLITE_LIMIT_ATTACHED: 0,
    apsw.SQLITE_LIMIT_LENGTH: 5_000_000,  # largest string or blob (randomblob(1e12) fails fast)
    apsw.SQLITE_LIMIT_SQL_LENGTH: 100_000,
    apsw.SQLITE_LIMIT_EXPR_DEPTH: 200,
}
PROGRESS_EVERY = 1000  # VM steps between progress-handler calls


class BudgetExceeded(Exception):
    """A statement ran past its VM-step budget and was interrupted."""


class Sandbox:
    """Installs the authorizer, limits and step budget on one connection; ``mode`` switches purpose."""

    def __init__(self, conn: apsw.Connection):
        self.conn = conn
        self.mode = "admin"
        self.budget: int | None = None
        self._ticks = 0
        for limit, value in LIMITS.items():
            conn.limit(limit, value)
        conn.authorizer = self._authorize
        conn.set_progress_handler(self._progress, PROGRESS_EVERY)

    def _authorize(self, op, p1, p2, dbname, trigger):
        if op in ALWAYS_DENIED:
            # sqlite3_deserialize() runs "ATTACH x AS main" internally; only restore() sets this mode
            return apsw.SQLITE_OK if self.mode == "restore" and p1 == "x" else apsw.SQLITE_DENY
        if op == apsw.SQLITE_FUNCTION:
            return apsw.SQLITE_DENY if (p2 or "").lower() in DENIED_FUNCTIONS else apsw.SQLITE_OK
        if self.mode == "admin":
            return apsw.SQLITE_OK
        if op == apsw.SQLITE_PRAGMA:
            return apsw.SQLITE_OK if (p1 or "").lower() in READ_PRAGMAS else apsw.SQLITE_DENY  # all take a name, none sets
        if op in (apsw.SQLITE_INSERT, apsw.SQLITE_UPDATE, apsw.SQLITE_DELETE) and (p1 or "").lower().startswith("sqlite_"):
            return apsw.SQLITE_DENY
        allowed = WRITE_OPS if self.mode == "write" else READ_OPS
        return apsw.SQLITE_OK if op in allowed else apsw.SQLITE_DENY

    def _progress(self) -> bool:
        self._ticks += 1
        return self.budget is not None and self._ticks * PROGRESS_EVERY > self.budget

    def run(self, mode: str, budget: int | None, fn, *args):
        """Call ``fn(*args)`` under ``mode`` with a VM-step ``budget``; interrupts become BudgetExceeded."""
        prev = (self.mode, self.budget)
        self.mode, self.budget, self._ticks = mode, budget, 0
        try:
            return fn(*args)
        except apsw.InterruptError:
            raise BudgetExceeded(f"stopped after about {self._ticks * PROGRESS_EVERY:,} VM steps (budget {budget:,})") from None
        finally:
            self.mode, self.budget = prev
