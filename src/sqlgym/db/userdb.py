"""SQLIndex-v0 on your own database: a scenario made from a SQLite file and the workload its application ran.

``from_sqlite(path, workload)`` reads the file once, read-only (``sqlgym.db.fileimage``), reads the
schema from it, turns the logged statements into templates and observed bindings
(``sqlgym.scenarios.querylog``), and checks every template with SQLite itself on the file's data, the
way the meter will run it. A statement that cannot be used is left out with a ``SqlgymWarning`` that
lists it and why (it does not parse, names a table the file does not have, is not a SELECT or a
write, fails, is not deterministic, or runs past the per-statement VM-step budget); nothing usable
left, or no read left, is a ``ScenarioError``.

What the scenario holds, and how it differs from a generated one:

- the starting state is the file: its indexes (those an index spec can state: plain columns, no
  DESC, COLLATE or expressions, are the agent's to drop; others stay as they are and are listed as
  fixed), its statistics as they are (``statistics="file"``: nothing re-analyzes on its own, as in
  production; ``"analyze"``: fresh ANALYZE at the start and after each index change);
- bindings are the literals the statements were logged with, dealt into visible and hidden ones by
  ``seed``; a template logged with one binding is measured on it for both;
- a rewrite is checked on this data and on a second instance holding *the same rows* stored in
  another physical order, with unordered scans reversed (there is no second generated instance of
  a user's data; see ``fileimage.reordered``). That catches rewrites that depend on row order, not
  ones that are right only on the values this file happens to hold;
- foreign keys are not enforced while writes are measured (SQLite's default, per connection).
"""

from __future__ import annotations

import hashlib
import re
import warnings
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import apsw
import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from sqlgym.db import fileimage
from sqlgym.db.cost import WORKLOAD_BUDGET, WorkloadMeter
from sqlgym.db.guards import nondeterministic_reason
from sqlgym.db.runtime import runtime_for
from sqlgym.db.sandbox import BudgetExceeded, Sandbox
from sqlgym.db.sqlite import Database, build_snapshot
from sqlgym.db.validate import check_prepares
from sqlgym.errors import ConfigError, ScenarioError, SqlgymError, SqlgymWarning
from sqlgym.scenarios.querylog import (
    Rejected,
    Template,
    read_workload,
    split_bindings,
    template_ids,
    templates,
)
from sqlgym.scenarios.sources import SQLITE_OPTIONS, parse_sqlite_id, sqlite_id
from sqlgym.scenarios.spec import (
    ColumnSpec,
    Constraints,
    FileSource,
    QuerySpec,
    Scenario,
    Statistics,
    TableSpec,
)
from sqlgym.sqltext import parse, quote
from sqlgym.types import IndexSpec

STATISTICS = {"file": "stale", "analyze": "analyze"}  # from_sqlite's statistics= -> Statistics.policy
MAX_SHOWN = 20  # skipped statements listed in a warning or error
_DATE_CALL = re.compile(r"\b(date|time|datetime|julianday|unixepoch|strftime|timediff)\s*\(", re.I)
_SCENARIOS: OrderedDict[tuple, Scenario] = OrderedDict()  # made scenarios, by file state and options
MAX_CACHED = 16


def from_uri(scenario_id: str) -> Scenario:
    """``sqlite:///abs/path.db?workload=/abs/queries.sql[&visible=..&seed=..&sample=..]`` -> its scenario."""
    path, options = parse_sqlite_id(scenario_id)
    workload = options.pop("workload")
    return from_sqlite(path, workload, **options)  # its id is the canonical form of this one


def _stat(p: Path) -> tuple:
    try:
        s = p.stat()
    except OSError:
        return ()
    return (s.st_size, s.st_mtime_ns, s.st_ino)


def _key(path: Path, workload, options: dict) -> tuple:
    if isinstance(workload, (str, Path)) and "\n" not in str(workload):
        w: Any = (str(workload), _stat(Path(workload).expanduser()))
    elif isinstance(workload, str):
        w = workload
    else:
        w = tuple(workload) if all(isinstance(s, str) for s in workload) else None
    return (str(path), _stat(path), _stat(Path(str(path) + "-wal")), w, tuple(sorted(options.items())))


def from_sqlite(path: str | Path, workload: str | Path | Sequence[str], *, visible: float = 0.5,
                budget: float | None = None, max_indexes: int | None = None, max_columns: int = 3, seed: int = 0,
                sample: float | None = None, max_bytes: int | None = None, bindings: int = 16,
                max_steps: int | None = None, statistics: str = "file", scenario_id: str | None = None,
                description: str | None = None, difficulty: str = "user") -> Scenario:
    """A scenario on the SQLite file ``path`` and ``workload`` (see the module docstring and
    ``sqlgym.scenarios.from_sqlite``). Made once per file state and options in a process."""
    options = dict(visible=visible, budget=budget, max_indexes=max_indexes, max_columns=max_columns, seed=seed,
                   sample=sample, max_bytes=max_bytes, bindings=bindings, max_steps=max_steps, statistics=statistics)
    _check_options(options)
    p = Path(path).expanduser().resolve()
    key = _key(p, workload, {**options, "id": scenario_id, "description": description, "difficulty": difficulty})
    hit = _SCENARIOS.get(key) if key[3] is not None else None
    if hit is not None:
        _SCENARIOS.move_to_end(key)
        return hit
    scenario = _make(p, workload, options, scenario_id, description, difficulty)
    if key[3] is not None:
        _SCENARIOS[key] = scenario
        while len(_SCENARIOS) > MAX_CACHED:
            _SCENARIOS.popitem(last=False)
    return scenario


def _check_options(o: dict) -> None:
    def bad(name: str, what: str) -> ConfigError:
        return ConfigError(f"from_sqlite: {name} must be {what}, not {o[name]!r}")

    if not (isinstance(o["visible"], (int, float)) and 0 < o["visible"] <= 1):
        raise bad("visible", "a fraction in (0, 1]")
    if o["sample"] is not None and not (isinstance(o["sample"], (int, float)) and 0 < o["sample"] <= 1):
        raise bad("sample", "a fraction in (0, 1] of each table's rows, or None")
    if o["budget"] is not None and not (isinstance(o["budget"], (int, float)) and o["budget"] > 0):
        raise bad("budget", "a positive fraction of the tables' bytes, or None")
    for name, lo in (("max_indexes", 1), ("max_columns", 1), ("seed", 0), ("bindings", 1), ("max_steps", 2),
                     ("max_bytes", 1)):
        v = o[name]
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < lo):
            raise bad(name, f"a whole number >= {lo}" + (", or None" if name != "seed" and name != "bindings" else ""))
    if o["statistics"] not in STATISTICS:
        raise bad("statistics", "'file' (the file's statistics, as they are) or 'analyze' (fresh ANALYZE)")


# -- the file's schema ------------------------------------------------------------------------------
def _columns(conn: apsw.Connection, table: str, fks: dict[str, str]) -> tuple[ColumnSpec, ...]:
    cols = []
    for r in conn.execute(f"PRAGMA table_xinfo({quote(table)})"):
        if r[6] not in (0, 2, 3):  # hidden columns of virtual tables
            continue
        name = str(r[1]).lower()
        # only the column a primary-key index leads with: an index leading with a later key column is new
        cols.append(ColumnSpec(name, str(r[2] or ""), {}, primary_key=int(r[5]) == 1, references=fks.get(name)))
    return tuple(cols)


def _foreign_keys(conn: apsw.Connection, table: str) -> dict[str, str]:
    out = {}
    for r in conn.execute(f"PRAGMA foreign_key_list({quote(table)})"):
        target = r[4]
        if target is None:  # REFERENCES t: t's primary key
            pk = [x[1] for x in conn.execute(f"PRAGMA table_info({quote(r[2])})") if x[5] == 1]
            target = pk[0] if pk else "rowid"
        out[str(r[3]).lower()] = f"{str(r[2]).lower()}.{str(target).lower()}"
    return out


def _index_spec(name: str, table: str, sql: str, columns: tuple[str, ...]) -> IndexSpec | None:
    """The spec that re-creates this index exactly, or None when a spec cannot say it (expressions, DESC,
    COLLATE): such an index stays as it is, the agent's to use but not to drop."""
    try:
        tree = sqlglot.parse_one(sql, read="sqlite")
    except (SqlglotError, RecursionError, ValueError):
        return None
    index = tree.this if isinstance(tree, exp.Create) else None
    params = index.args.get("params") if isinstance(index, exp.Index) else None
    if params is None:
        return None
    cols = []
    for o in params.args.get("columns") or []:
        if not isinstance(o, exp.Ordered) or o.args.get("desc") or not isinstance(o.this, exp.Column) or o.this.table:
            return None
        if o.this.name.lower() not in columns:
            return None
        cols.append(o.this.name.lower())
    where = params.args.get("where")
    where_sql = where.this.sql(dialect="sqlite") if isinstance(where, exp.Where) else None
    if not cols or len(set(cols)) != len(cols):
        return None
    return IndexSpec(table, tuple(cols), bool(tree.args.get("unique")), where_sql, name)


class _Schema:
    """What the file holds: tables (lower-cased names, as the agent and the advisor use them), indexes,
    views (with the base tables they read) and the tables that have triggers."""

    def __init__(self, conn: apsw.Connection):
        rows = [(str(t), str(n), str(tb), str(s or "")) for t, n, tb, s in
                conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY rowid")]
        self.real: dict[str, str] = {}  # lower-case table name -> as stored
        tables: list[TableSpec] = []
        for kind, name, _, _ in rows:
            if kind == "table" and not name.lower().startswith("sqlite_"):
                count: Any = conn.execute(f"SELECT COUNT(*) FROM {quote(name)}").fetchall()[0][0]
                tables.append(TableSpec(name.lower(), int(count), _columns(conn, name, _foreign_keys(conn, name))))
                self.real[name.lower()] = name
        self.tables = tuple(tables)
        cols = {t.name: t.column_names for t in tables}
        self.indexes: list[IndexSpec] = []
        self.fixed: list[str] = []
        for kind, name, table, sql in rows:
            if kind == "index" and sql and table.lower() in cols:
                spec = _index_spec(name, table.lower(), sql, cols[table.lower()])
                (self.indexes.append(spec) if spec else self.fixed.append(name))
        self.view_sql = {n.lower(): s for k, n, _, s in rows if k == "view"}
        self.triggers = {tb.lower() for k, _, tb, _ in rows if k == "trigger"}
        self._views: dict[str, frozenset[str]] = {}

    def base_tables(self, names: frozenset[str], seen: frozenset[str] = frozenset()) -> tuple[frozenset[str], list[str]]:
        """(base tables read, names that are neither tables nor views) for a statement's table names."""
        out: set[str] = set()
        missing: list[str] = []
        for n in sorted(names):
            if n in self.real:
                out.add(n)
            elif n in self.view_sql and n not in seen:
                if n not in self._views:
                    try:
                        inner = parse(self.view_sql[n]).tables - {n}
                    except SqlgymError:
                        inner = frozenset()
                    base, _ = self.base_tables(frozenset(inner), seen | {n})
                    self._views[n] = base
                out |= self._views[n]
            elif n not in seen:
                missing.append(n)
        return frozenset(out), missing


# -- checking the workload ------------------------------------------------------------------------
def _static(t: Template, schema: _Schema, sandbox: Sandbox) -> tuple[QuerySpec | None, str]:
    """The template as a query spec, or why it cannot be one (before anything runs)."""
    facts = parse(t.sql)
    own = sorted(n for n in facts.tables if n.startswith("sqlite_"))
    if own:
        return None, f"reads SQLite's own tables ({', '.join(own)}), which no index serves"
    tables, missing = schema.base_tables(facts.tables)
    if missing:
        return None, f"names {'a table' if len(missing) == 1 else 'tables'} the database does not have: {', '.join(missing)}"
    why = nondeterministic_reason(t.first)
    if why:
        return None, f"is not deterministic ({why}); measured SQL must be"
    mode = "read" if facts.kind == "select" else "write"
    try:
        check_prepares(sandbox, mode, "EXPLAIN " + t.sql, {p: None for p in facts.params}, "", "it")
    except ScenarioError as e:
        return None, str(e).removeprefix(": ")
    if facts.kind == "dml" and facts.tables & schema.triggers:  # a table's or a view's (INSTEAD OF) triggers
        tables = frozenset(schema.real)  # a trigger may write any table: its plan may depend on any
    if not tables:
        return None, "reads no table"
    return QuerySpec("", t.sql, t.weight, {p: {"observed": True} for p in facts.params}, facts.kind, tables,
                     facts.ordered), ""


def _date_words(b: dict) -> bool:
    """A binding that could make a date/time function read the clock or the time zone."""
    return any(isinstance(v, str) and v.strip().lower() in ("now", "localtime", "utc", "subsec", "subsecond")
               for v in b.values())


def _writes_that_run(db: Database, q: QuerySpec, bindings: tuple[dict, ...]) -> tuple[tuple[dict, ...], str]:
    """The bindings on which the write ``q`` runs (inside the meter's rolled-back savepoint), and why any failed
    (a logged INSERT of a key that exists, say): those are left out, the others kept."""
    ok, why = [], ""
    for b in bindings:
        try:
            db.measure(q.sql, b, dml=True, budget=WORKLOAD_BUDGET)
            ok.append(b)
        except BudgetExceeded:
            why = f"runs past the per-statement budget of {WORKLOAD_BUDGET:,} VM steps (too slow to measure)"
        except (apsw.Error, SqlgymError) as e:
            why = f"fails in SQLite ({type(e).__name__}: {e})"
    return tuple(ok), why


def _read_fails(meter: WorkloadMeter, db: Database, q: QuerySpec) -> str:
    """Why the read ``q`` cannot be measured on every binding as the file is, or '' (its costs are then
    in ``meter``'s cache). The meter caps a statement at the budget; here, where the scenario starts, a
    statement that reaches it is left out instead."""
    try:
        for which in ("visible", "hidden"):
            meter.query_cost(db, q, which)
    except (apsw.Error, SqlgymError) as e:
        return f"fails in SQLite ({type(e).__name__}: {e})"
    if q.id in meter.capped:
        return f"runs past the per-statement budget of {WORKLOAD_BUDGET:,} VM steps (too slow to measure)"
    return ""


def _make(path: Path, workload, o: dict, scenario_id: str | None, description: str | None,
          difficulty: str) -> Scenario:
    size = fileimage.check_file(path)
    limit = o["max_bytes"] or fileimage.MAX_BYTES
    if o["sample"] is None and size > limit:
        raise ScenarioError(
            f"{str(path)!r} holds {size / 2**20:,.1f} MiB, over the limit of {limit / 2**20:,.0f} MiB for reading a file "
            f"whole (an env on it holds about 4 times the file in memory, 5.5 times at its peak). Pass "
            f"sample=0.1 (or ?sample=0.1) to use a row sample read straight from the file, or max_bytes= to raise "
            f"the limit (SQLGYM_MAX_DB_BYTES for every scenario)")
    sha = fileimage.digest(path)
    analyze = o["statistics"] == "analyze"
    key = (str(path), sha, o["sample"], analyze)
    image = fileimage._IMAGES.get(key) or fileimage.remember(key, fileimage.read_image(path, o["sample"], analyze))

    logged, rejected, label = read_workload(workload)
    ts, more = templates(logged)
    rejected += more
    conn = apsw.Connection(":memory:")
    try:
        conn.deserialize("main", image)
        schema = _Schema(conn)
        if not schema.tables:
            raise ScenarioError(f"{str(path)!r} has no tables")
        sandbox = Sandbox(conn)
        checked: list[tuple[QuerySpec, Template]] = []
        for t in ts:
            spec, why = _static(t, schema, sandbox)
            if spec is None:
                rejected.append(Rejected(t.where, t.first, why))
            else:
                checked.append((spec, t))
        specs = [(replace(q, id=qid), t) for (q, t), qid in zip(checked, template_ids([t for _, t in checked]))]
    finally:
        conn.close()

    visible: dict[str, tuple[dict, ...]] = {}
    hidden: dict[str, tuple[dict, ...]] = {}
    for q, t in specs:
        pool = list(t.bindings.values())
        if _DATE_CALL.search(q.sql):  # a bound 'now' would make it read the clock
            pool = [b for b in pool if not _date_words(b)]
        if pool:
            visible[q.id], hidden[q.id] = split_bindings(pool, o["visible"], o["seed"], q.sql, o["bindings"])
    specs = [(q, t) for q, t in specs if q.id in visible]

    source = FileSource(str(path), sha, o["sample"], visible, hidden, label)
    draft = _scenario(path, schema, [q for q, _ in specs], source, o, scenario_id, description, difficulty)
    kept: list[QuerySpec] = []
    meter = WorkloadMeter(draft)
    if specs:
        db = Database(build_snapshot(draft), draft)
        try:
            for q, t in specs:
                if q.kind == "dml":
                    vis, why = _writes_that_run(db, q, visible[q.id])
                    hid, why_h = _writes_that_run(db, q, hidden[q.id]) if hidden[q.id] != visible[q.id] else (vis, "")
                    why = why or why_h or "no binding runs"
                    visible[q.id], hidden[q.id] = vis, hid
                else:
                    why = _read_fails(meter, db, q)
                if not visible[q.id] or not hidden[q.id] or q.kind == "select" and why:
                    rejected.append(Rejected(t.where, t.first, why))
                    continue
                kept.append(q)
        finally:
            db.close()
    _report(rejected, kept, label)
    source = FileSource(str(path), sha, o["sample"], {q.id: visible[q.id] for q in kept},
                        {q.id: hidden[q.id] for q in kept}, label, tuple(str(r) for r in rejected))
    scenario = _scenario(path, schema, kept, source, o, scenario_id, description, difficulty)
    # what the reads cost as the file is was measured just now, on the same bindings: the runtime's meter
    # starts with it (a cost cache changes speed, never a number)
    reads = {q.id for q in kept if q.kind == "select"}
    runtime_for(scenario).meter.cache.update({k: v for k, v in meter.cache.items() if k[0] in reads})
    return scenario


def _report(rejected: list[Rejected], kept: list[QuerySpec], label: str) -> None:
    shown = "\n  ".join(str(r) for r in rejected[:MAX_SHOWN])
    more = f"\n  ... and {len(rejected) - MAX_SHOWN} more" if len(rejected) > MAX_SHOWN else ""
    if not kept:
        raise ScenarioError(f"the workload {label} has no statement that can be measured"
                            + (f"; left out:\n  {shown}{more}" if rejected else " (it is empty)"))
    if not any(q.kind == "select" for q in kept):
        raise ScenarioError(f"the workload {label} has no reads (SELECT) that can be measured: an index is judged "
                            f"by the reads it speeds up against the writes it slows down"
                            + (f"; left out:\n  {shown}{more}" if rejected else ""))
    if rejected:
        warnings.warn(f"{len(rejected)} piece(s) of the workload {label} left out:\n  {shown}{more}",
                      SqlgymWarning, stacklevel=4)


def _scenario(path: Path, schema: _Schema, workload: list[QuerySpec], source: FileSource, o: dict,
              scenario_id: str | None, description: str | None, difficulty: str) -> Scenario:
    table_bytes, index_bytes = _bytes(source, o["statistics"] == "analyze", schema)
    budget = o["budget"] if o["budget"] is not None else max(1.0, index_bytes / max(1, table_bytes) + 0.5)
    max_indexes = o["max_indexes"] if o["max_indexes"] is not None else len(schema.indexes) + 6
    max_steps = o["max_steps"] if o["max_steps"] is not None else min(200, 20 + len(workload))
    writes = sum(q.kind == "dml" for q in workload)
    fixed = f" Indexes kept as they are (expressions, DESC or COLLATE): {', '.join(schema.fixed)}." if schema.fixed else ""
    text = description or (
        f"The database {path.name} and the workload its application runs ({len(workload)} statements, {writes} of "
        f"them writes) are slow; measure, find what the workload needs, and make it cheaper.{fixed}")
    if scenario_id is None:
        wl = source.workload if Path(source.workload).is_absolute() else \
            "inline:" + hashlib.sha256("\n".join(q.sql for q in workload).encode()).hexdigest()[:12]
        scenario_id = sqlite_id(path, wl, {k: v for k, v in o.items() if k in SQLITE_OPTIONS and v != _DEFAULTS.get(k)})
    counts = [len(v) for v in source.visible.values()] or [1]
    return Scenario(
        id=scenario_id, difficulty=difficulty, split="user", description=text,
        lesson="A user's database: no known answer; the greedy advisor's configuration is the reference.",
        seed=o["seed"], schema=schema.tables, workload=tuple(workload), indexes=tuple(schema.indexes),
        statistics=Statistics(STATISTICS[o["statistics"]]),
        constraints=Constraints(float(budget), int(max_indexes), int(o["max_columns"]), True),
        visible_bindings=max(counts), hidden_bindings=max(len(v) for v in source.hidden.values()) if source.hidden else 1,
        max_steps=int(max_steps), family="file", archetype="file", source=source)


_DEFAULTS = {"visible": 0.5, "budget": None, "max_indexes": None, "max_columns": 3, "seed": 0, "sample": None,
             "max_bytes": None, "bindings": 16, "max_steps": None, "statistics": "file"}


def _bytes(source: FileSource, analyze: bool, schema: _Schema) -> tuple[int, int]:
    """(bytes of the tables, bytes of the droppable indexes) in the image."""
    image = fileimage.image_for(source.path, source.sha256, source.sample, analyze)
    conn = apsw.Connection(":memory:")
    try:
        conn.deserialize("main", image)
        sizes = {str(n).lower(): int(s) for n, s in conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name")}
    finally:
        conn.close()
    tables = sum(sizes.get(n, 0) for n in schema.real)
    indexes = sum(sizes.get(str(ix.name).lower(), 0) for ix in schema.indexes)
    return tables, indexes


def row_sample_note(scenario: Scenario) -> str:
    """One line on what a sampled scenario's costs mean (for reports)."""
    src = scenario.source
    if src is None or src.sample is None:
        return ""
    return (f"Costs are measured on a {src.sample:.0%} row sample: joins of sampled tables match fewer rows and "
            f"plans can differ from those on the whole file.")


__all__ = ["from_sqlite", "from_uri", "row_sample_note"]
