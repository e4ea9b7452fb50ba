"""A scenario's database in memory: built once from the spec, snapshotted, restored on reset.

``build_snapshot`` is the slow path (data generation, seconds at most); ``Database.restore`` is the
fast one (``deserialize`` of the snapshot bytes, about a millisecond).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import apsw
import numpy as np

from sqlgym.db import fileimage
from sqlgym.db.sandbox import LIMITS, Sandbox, keep_rows
from sqlgym.scenarios.datagen import generate_column
from sqlgym.scenarios.spec import Scenario, TableSpec
from sqlgym.sqltext import quote
from sqlgym.types import IndexSpec, QueryCost

Binding = dict[str, Any]


@dataclass(frozen=True)
class Snapshot:
    """The built database as bytes, plus the parameter bindings drawn with it."""

    scenario_id: str
    instance: int
    image: bytes
    visible: dict[str, tuple[Binding, ...]]  # query id -> bindings the agent sees
    hidden: dict[str, tuple[Binding, ...]]  # query id -> bindings only the terminal reward sees
    row_counts: dict[str, int]
    table_bytes: int
    reverse_scans: bool = False  # PRAGMA reverse_unordered_selects on its connections (a file's second instance)
    largest_value: int = 0  # bytes of the largest stored value, where it is over the agent's length limit


def _create_table_sql(t: TableSpec, rowid_key: bool = True) -> str:
    """CREATE TABLE for a spec. ``rowid_key=False`` (second instances) declares an INTEGER PRIMARY KEY
    as ``PRIMARY KEY DESC``, which SQLite does not make the rowid: the key keeps its values and stays
    a primary key (with its own index), but rows are stored in the order they were inserted."""
    cols = []
    for c in t.columns:
        col = f"{quote(c.name)} {c.type}"
        if c.primary_key:
            col += " PRIMARY KEY" if rowid_key or c.type.strip().upper() != "INTEGER" else " PRIMARY KEY DESC"
        if c.references:
            rt, _, rc = c.references.partition(".")
            col += f" REFERENCES {quote(rt)}({quote(rc)})"
        cols.append(col)
    return f"CREATE TABLE {quote(t.name)} ({', '.join(cols)})"


def index_sql(spec: IndexSpec, name: str) -> str:
    """CREATE INDEX for a validated spec, every identifier quoted."""
    cols = ", ".join(quote(c) for c in spec.columns)
    where = f" WHERE {spec.where}" if spec.where else ""
    unique = "UNIQUE " if spec.unique else ""
    return f"CREATE {unique}INDEX {quote(name)} ON {quote(spec.table)} ({cols}){where}"


def _draw_param(rng: np.random.Generator, spec: dict, data: dict, drawn: Binding) -> Any:
    if "column" in spec:
        t, _, c = spec["column"].partition(".")
        values = data[t][c]
        for _ in range(100):
            v = values[int(rng.integers(len(values)))]
            if v is not None:
                return v
        return None
    if "int" in spec:
        lo, hi = spec["int"]
        return int(rng.integers(int(lo), int(hi) + 1))
    if "real" in spec:
        lo, hi = spec["real"]
        return round(float(rng.uniform(float(lo), float(hi))), 2)
    if "values" in spec:
        return spec["values"][int(rng.integers(len(spec["values"])))]
    if "date" in spec:
        lo, hi = (dt.date.fromisoformat(str(x)) for x in spec["date"])
        return (lo + dt.timedelta(days=int(rng.integers((hi - lo).days + 1)))).isoformat()
    ref, amount = spec["plus"]
    base = drawn[ref]
    if isinstance(base, str):
        return (dt.date.fromisoformat(base) + dt.timedelta(days=int(amount))).isoformat()
    return base + amount


def _draw_bindings(rng, scenario: Scenario, data: dict, count: int) -> dict[str, tuple[Binding, ...]]:
    out = {}
    for q in scenario.workload:
        rows = []
        for _ in range(count):
            b: Binding = {}
            # 'plus' parameters refer to others, so draw them last
            for name, spec in sorted(q.params.items(), key=lambda kv: "plus" in kv[1]):
                b[name] = _draw_param(rng, dict(spec), data, b)
            rows.append(b)
        out[q.id] = tuple(rows)
    return out


def _load(conn: apsw.Connection, scenario: Scenario, data: dict, fraction: float = 1.0, rowid_keys: bool = True) -> None:
    """Tables, rows (a leading ``fraction`` of each table), then the scenario's indexes, then ANALYZE.

    Indexes are built after the data, packed as CREATE INDEX packs them, so an index the agent drops
    and re-creates is the same B-tree it was.
    """
    # No freelist: a dropped index's pages are released at commit, so page reads (writes allocate
    # pages) depend on what the database holds, never on what was created and dropped before.
    conn.execute("PRAGMA auto_vacuum = FULL")
    for t in scenario.schema:
        conn.execute(_create_table_sql(t, rowid_keys))
    with conn:
        for t in scenario.schema:
            hi = max(1, int(t.rows * fraction))
            cols = [data[t.name][c.name][:hi] for c in t.columns]
            marks = ", ".join("?" for _ in t.columns)
            conn.executemany(f"INSERT INTO {quote(t.name)} VALUES ({marks})", zip(*cols))
        for ix in scenario.indexes:
            conn.execute(index_sql(ix, ix.name or "idx"))
    conn.execute("ANALYZE")


def _stale_statistics(conn: apsw.Connection, scenario: Scenario, data: dict, rowid_keys: bool = True) -> None:
    """Replace the statistics with those ANALYZE gave when only a fraction of the rows existed."""
    early = apsw.Connection(":memory:")
    _load(early, scenario, data, scenario.statistics.analyzed_fraction, rowid_keys)
    with conn:
        for stat in ("sqlite_stat1", "sqlite_stat4"):
            rows = list(early.execute(f"SELECT * FROM {stat}"))
            conn.execute(f"DELETE FROM {stat}")
            if rows:
                marks = ", ".join("?" for _ in rows[0])
                conn.executemany(f"INSERT INTO {stat} VALUES ({marks})", rows)
    early.close()


def build_snapshot(scenario: Scenario, instance: int = 0) -> Snapshot:
    """Generate the data (seeded by the scenario's seed and ``instance``), load it, snapshot it.

    Instance 0 is the scenario's database. Every other instance differs from it in everything a
    correct rewrite must not depend on: other data (another seed), and rows stored in another
    physical order: each table's rows are inserted in a permutation drawn from the seed, and an
    INTEGER PRIMARY KEY is declared so that it is not the rowid (see ``_create_table_sql``), so
    rowids, scan order and the order of index entries with equal keys all differ. Values, primary
    keys included, are kept as generated. Second instances are only ever compared, never measured.
    """
    if scenario.source is not None:
        return _file_snapshot(scenario, instance)
    rng = np.random.default_rng([scenario.seed, instance])
    data: dict[str, dict[str, list]] = {}
    rows: dict[str, int] = {}
    for t in scenario.schema:
        cols: dict[str, list] = {}
        for c in t.columns:
            cols[c.name] = generate_column(rng, t.rows, dict(c.gen), {"columns": cols, "rows": rows})
        data[t.name], rows[t.name] = cols, t.rows
    if instance:
        prng = np.random.default_rng([scenario.seed, instance, 2])
        for t in scenario.schema:
            order = prng.permutation(t.rows).tolist()
            data[t.name] = {name: [col[i] for i in order] for name, col in data[t.name].items()}
    conn = apsw.Connection(":memory:")
    _load(conn, scenario, data, rowid_keys=instance == 0)
    if scenario.statistics.policy == "stale":
        _stale_statistics(conn, scenario, data, rowid_keys=instance == 0)
    marks = ",".join("?" * len(rows))
    table_bytes: Any = conn.execute(f"SELECT SUM(pgsize) FROM dbstat WHERE name IN ({marks})", tuple(rows)).fetchall()[0][0]
    brng = np.random.default_rng([scenario.seed, instance, 1])
    visible = _draw_bindings(brng, scenario, data, scenario.visible_bindings)
    hidden = _draw_bindings(brng, scenario, data, scenario.hidden_bindings)
    image = conn.serialize("main")
    conn.close()
    return Snapshot(scenario.id, instance, image, visible, hidden, rows, int(table_bytes))


def _file_snapshot(scenario: Scenario, instance: int) -> Snapshot:
    """A scenario read from a file (``sqlgym.db.userdb``): its image, and for instance 1 the same rows stored
    in another order (``fileimage.reordered``; a user's data has no second generated instance)."""
    src = scenario.source
    assert src is not None, "only file scenarios have a source"
    image = fileimage.image_for(src.path, src.sha256, src.sample, scenario.statistics.policy == "analyze")
    if instance:
        image = fileimage.reordered(image)
    conn = apsw.Connection(":memory:")
    try:
        conn.deserialize("main", image)
        names = [t.name for t in scenario.schema]
        marks = ",".join("?" * len(names))
        table_bytes: Any = conn.execute(f"SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE lower(name) IN ({marks})",
                                        names).fetchall()[0][0]
        largest: Any = conn.execute("SELECT COALESCE(MAX(mx_payload), 0) FROM dbstat WHERE aggregate = TRUE").fetchall()[0][0]
    finally:
        conn.close()
    visible = {k: tuple(dict(b) for b in v) for k, v in src.visible.items()}
    hidden = {k: tuple(dict(b) for b in v) for k, v in src.hidden.items()}
    return Snapshot(scenario.id, instance, image, visible, hidden, {t.name: t.rows for t in scenario.schema},
                    int(table_bytes), reverse_scans=bool(instance), largest_value=int(largest))


class Database:
    """A live connection on a snapshot, with the sandbox installed and SQLite's counters read out."""

    def __init__(self, snapshot: Snapshot, scenario: Scenario):
        self.snapshot = snapshot
        self.scenario = scenario
        # No statement cache: a cached statement run after DDL is re-prepared inside its first step, and
        # the failed start counts as VM steps, so a cost would depend on what ran before (history).
        self.conn = apsw.Connection(":memory:", statementcachesize=0)
        self.sandbox = Sandbox(self.conn)
        if snapshot.largest_value > self.sandbox.agent_limits[apsw.SQLITE_LIMIT_LENGTH]:  # every stored value readable
            self.sandbox.set_agent_limit(apsw.SQLITE_LIMIT_LENGTH,
                                         min(snapshot.largest_value, LIMITS[apsw.SQLITE_LIMIT_LENGTH]))
        if snapshot.reverse_scans:
            self.sandbox.run("admin", None, self.conn.execute, "PRAGMA reverse_unordered_selects = ON")
        self._profile: dict | None = None
        self.conn.trace_v2(apsw.SQLITE_TRACE_PROFILE, self._on_profile)
        self._size_cache: dict[tuple, int] = {}
        self.restore()

    # -- lifecycle -------------------------------------------------------------------------------
    def restore(self) -> None:
        """Back to the snapshot: data, indexes and statistics as built."""
        self.sandbox.run("restore", None, self.conn.deserialize, "main", self.snapshot.image)
        # load the schema and statistics now, so the first measured statement does not pay for it
        self.sandbox.run("admin", None, lambda: self.conn.execute("SELECT COUNT(*) FROM sqlite_schema").fetchall())
        self.indexes: dict[str, IndexSpec] = dict(self.scenario.named_indexes)
        self.origin: dict[str, str] = {name: "scenario" for name in self.indexes}
        # What the planner's statistics for each table are: ("analyzed", index keys at the last ANALYZE)
        # or, for stale statistics, ("build", the build-time indexes whose stale rows still exist).
        stale = self.scenario.statistics.policy == "stale"
        self._stats: dict[str, tuple] = {
            t.name: ("build", self._index_keys(t.name)) if stale else ("analyzed", self._index_keys(t.name))
            for t in self.scenario.schema}

    def close(self) -> None:
        self.conn.close()

    def _on_profile(self, event: dict) -> None:
        self._profile = event.get("stmt_status")

    # -- state -----------------------------------------------------------------------------------
    def _index_keys(self, table: str) -> tuple:
        return tuple(ix.key() for ix in self.indexes.values() if ix.table == table)

    def table_state(self, table: str) -> tuple:
        """Everything the plan of a query on ``table`` depends on: its indexes (in order) and stats."""
        return (self._index_keys(table), self._stats[table])

    def index_bytes(self, name: str) -> int:
        key = self.indexes[name].key()
        if key not in self._size_cache:
            (size,) = self.sandbox.run(
                "admin", None, lambda: self.conn.execute("SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name = ?", (name,)).fetchone())
            self._size_cache[key] = int(size)
        return self._size_cache[key]

    def storage_bytes(self) -> int:
        return sum(self.index_bytes(n) for n in self.indexes)

    # -- the library's own DDL ---------------------------------------------------------------------
    def create_index(self, spec: IndexSpec, name: str, origin: str = "agent") -> None:
        """Create a validated index; raises apsw.Error (e.g. UNIQUE on duplicate data)."""
        self.sandbox.run("admin", None, self.conn.execute, index_sql(spec, name))
        self.indexes[name] = spec
        self.origin[name] = origin
        if self.scenario.statistics.policy == "analyze":
            self.analyze(spec.table)

    def drop_index(self, name: str) -> None:
        table = self.indexes[name].table
        self.sandbox.run("admin", None, self.conn.execute, f"DROP INDEX {quote(name)}")
        key = self.indexes.pop(name).key()
        self.origin.pop(name, None)
        if self.scenario.statistics.policy == "analyze":
            self.analyze(table)
        else:  # DROP INDEX deletes that index's statistics rows
            kind, keys = self._stats[table]
            self._stats[table] = (kind, tuple(k for k in keys if k != key))

    def analyze(self, table: str) -> None:
        """Refresh statistics for one table (the agent may ask; it may never write sqlite_stat*)."""
        self.sandbox.run("admin", None, self.conn.execute, f"ANALYZE {quote(table)}")
        self._stats[table] = ("analyzed", self._index_keys(table))

    # -- running SQL -------------------------------------------------------------------------------
    def query(self, sql: str, params: Binding | Sequence = (), *, budget: int | None, max_rows: int | None = None,
              mode: str = "read", deadline_s: float | None = None,
              deterministic: bool = False) -> tuple[list[str], list[tuple], int]:
        """Run one statement under the sandbox: (column names, first ``max_rows`` rows, total rows).

        ``deadline_s`` bounds its wall time (``DeadlineExceeded``); ``deterministic`` denies
        non-deterministic functions (``NonDeterministicSQL``). Rows kept are capped in cells and bytes
        (``MemoryBudgetExceeded``).
        """

        def go():
            cur = self.conn.execute(sql, params, prepare_flags=self.sandbox.prepare_flags)
            names = _column_names(cur)
            kept, total = keep_rows(cur, max_rows)
            return names, kept, total

        return self.sandbox.run(mode, budget, go, deadline_s=deadline_s, deterministic=deterministic)

    def measure(self, sql: str, params: Binding, *, dml: bool, budget: int, deadline_s: float | None = None) -> QueryCost:
        """SQLite's counters for one execution; DML runs inside a savepoint that is rolled back.

        Measured SQL must be deterministic (the sandbox's deterministic flavour: a cost must not differ
        between runs) and is prepared fresh, never taken from the statement cache. ``deadline_s`` (default none) is for agent SQL only: a wall-time stop must end
        as an invalid action, never as a cost.
        """
        status = self.conn.status

        def go():
            # reset here, inside the run: starting it may execute a statement (temp_store) of its own
            status(apsw.SQLITE_DBSTATUS_CACHE_HIT, True)
            status(apsw.SQLITE_DBSTATUS_CACHE_MISS, True)
            self._profile = None
            flags = self.sandbox.prepare_flags
            if dml:
                self.conn.execute("SAVEPOINT sqlgym_measure", prepare_flags=flags)
            try:
                # prepared fresh (cost model v2): a cached statement that DDL expired is re-prepared
                # inside its first step, and a cost must not depend on what ran before
                for _ in self.conn.execute(sql, params, prepare_flags=flags, can_cache=False):
                    pass
                pages = status(apsw.SQLITE_DBSTATUS_CACHE_HIT)[0] + status(apsw.SQLITE_DBSTATUS_CACHE_MISS)[0]
                return pages, self._profile or {}
            finally:
                # the rollback must never be stopped; an interrupted or out-of-memory DML statement
                # has rolled the whole transaction back already (savepoint included)
                if dml:
                    self.sandbox.disarm()
                    if self.conn.in_transaction:
                        self.conn.execute("ROLLBACK TO sqlgym_measure", prepare_flags=flags)
                        self.conn.execute("RELEASE sqlgym_measure", prepare_flags=flags)

        pages, prof = self.sandbox.run("write" if dml else "read", budget, go, deadline_s=deadline_s, deterministic=True)
        return QueryCost(
            vm_steps=int(prof.get("SQLITE_STMTSTATUS_VM_STEP", 0)),
            page_reads=int(pages),
            fullscan_steps=int(prof.get("SQLITE_STMTSTATUS_FULLSCAN_STEP", 0)),
            sorts=int(prof.get("SQLITE_STMTSTATUS_SORT", 0)),
            autoindex=int(prof.get("SQLITE_STMTSTATUS_AUTOINDEX", 0)),
        )

    def program(self, sql: str, params: Binding) -> tuple:
        """The statement's compiled program for this binding (EXPLAIN, prepared as ``measure`` prepares it), with
        what each cursor opens: the B-tree at that root page (table, or index name and definition). The schema
        cookie an OP_Transaction checks is left out: it changes with any DDL, the program's work does not."""
        rows = self.query("EXPLAIN " + sql, params, budget=1_000_000, mode="write", deterministic=True)[1]
        ops = tuple((r[1], r[2], r[3], None if r[1] == "Transaction" else r[4], r[5], r[6]) for r in rows)
        roots = {int(r[3]) for r in rows if r[1] in ("OpenRead", "OpenWrite", "ReopenIdx") and isinstance(r[3], int)}
        if not roots:
            return ops
        marks = ",".join("?" * len(roots))
        trees = self.query(f"SELECT rootpage, type, name, tbl_name FROM sqlite_schema WHERE rootpage IN ({marks})",
                           tuple(sorted(roots)), budget=None, mode="admin")[1]
        return ops, tuple(sorted((r, t, n, tb, self.indexes[n].key() if n in self.indexes else None)
                                 for r, t, n, tb in trees))

    def explain(self, sql: str, params: Binding) -> list[tuple[int, int, str]]:
        """EXPLAIN QUERY PLAN rows (id, parent, detail)."""
        rows = self.sandbox.run("write", 1_000_000,
                                lambda: list(self.conn.execute("EXPLAIN QUERY PLAN " + sql, params)))
        return [(int(r[0]), int(r[1]), str(r[3])) for r in rows]


def _column_names(cur: apsw.Cursor) -> list[str]:
    try:
        return [d[0] for d in cur.get_description()]
    except apsw.ExecutionCompleteError:  # a statement that returned no rows has finished already
        return []
