"""Index advice from the workload's predicates, and the greedy what-if advisor on measured cost.

Candidates come from sqlglot's parse of each statement (equality, range, sort and group columns,
join keys, covering variants). The greedy advisor really creates each candidate, measures the
workload with SQLite's counters, and keeps the best move (create, or drop a scenario index) until no
move helps by at least ``min_gain`` of the baseline, within the storage budget and index count.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import apsw
from sqlglot import exp

from sqlgym.db.cost import WorkloadMeter
from sqlgym.db.sqlite import Database
from sqlgym.scenarios.spec import Scenario
from sqlgym.sqltext import parse
from sqlgym.types import IndexSpec


@dataclass
class Roles:
    """Where each column of one table appears in one statement."""

    eq: list[str] = field(default_factory=list)
    range: list[str] = field(default_factory=list)
    sort: list[str] = field(default_factory=list)
    group: list[str] = field(default_factory=list)
    used: list[str] = field(default_factory=list)

    def add(self, role: str, col: str) -> None:
        lst = getattr(self, role)
        if col not in lst:
            lst.append(col)


def _resolver(tree: exp.Expression, tables: dict[str, tuple[str, ...]]):
    aliases = {}
    for t in tree.find_all(exp.Table):
        if t.name.lower() in tables:
            aliases[(t.alias_or_name or t.name).lower()] = t.name.lower()
            aliases.setdefault(t.name.lower(), t.name.lower())
    present = set(aliases.values())

    def resolve(col: exp.Column) -> tuple[str, str] | None:
        name = col.name.lower()
        if col.table:
            t = aliases.get(col.table.lower())
            return (t, name) if t and name in tables[t] else None
        owners = [t for t in sorted(present) if name in tables[t]]
        return (owners[0], name) if len(owners) == 1 else None

    return resolve


def statement_roles(sql: str, tables: dict[str, tuple[str, ...]]) -> dict[str, Roles]:
    """Table -> Roles for one statement (unresolvable or wrapped columns are ignored on purpose)."""
    tree = parse(sql).tree
    resolve = _resolver(tree, tables)
    out: dict[str, Roles] = {}

    def mark(node, role):
        if isinstance(node, exp.Column) and (tc := resolve(node)):
            out.setdefault(tc[0], Roles()).add(role, tc[1])

    for node in tree.walk():
        if isinstance(node, (exp.EQ, exp.Is)):
            mark(node.left, "eq")
            mark(node.right, "eq")
        elif isinstance(node, exp.In):
            mark(node.this, "eq")
        elif isinstance(node, (exp.GT, exp.GTE, exp.LT, exp.LTE)):
            mark(node.left, "range")
            mark(node.right, "range")
        elif isinstance(node, (exp.Between, exp.Like)):
            mark(node.this, "range")
        elif isinstance(node, exp.Ordered):
            mark(node.this, "sort")
        elif isinstance(node, exp.Group):
            for e in node.expressions:
                mark(e, "group")
        if isinstance(node, exp.Column):
            mark(node, "used")
    if isinstance(tree, (exp.Update, exp.Delete, exp.Insert)):
        return {}  # writes gain nothing from new indexes on their target; their WHERE is covered below
    return out


def candidates(scenario: Scenario) -> list[IndexSpec]:
    """Every index the workload's predicates suggest, up to the scenario's width limit."""
    width = scenario.constraints.max_columns
    tables = scenario.tables
    seen: dict[tuple, IndexSpec] = {}

    pks = {t.name: {c.name for c in t.columns if c.primary_key} for t in scenario.schema}

    def add(table: str, cols) -> None:
        cols = tuple(dict.fromkeys(cols))[:width]
        if cols and cols[0] not in pks[table] and (table, cols) not in seen:
            seen[(table, cols)] = IndexSpec(table, cols)

    for q in scenario.workload:
        sql = q.sql
        if q.kind == "dml":
            # an UPDATE/DELETE finds its rows like a SELECT does; index its WHERE too
            tree = parse(sql).tree
            where = tree.args.get("where")
            if where is None:
                continue
            table = next(iter(q.tables)) if len(q.tables) == 1 else None
            if table is None:
                continue
            sql = f"SELECT 1 FROM {table} {where.sql(dialect='sqlite')}"
        for table, r in statement_roles(sql, tables).items():
            eq, rest = r.eq[:3], r.range + r.sort + r.group
            for c in eq + rest:
                add(table, [c])
            for perm in itertools.permutations(eq, min(len(eq), width)):
                add(table, perm)
                for c in rest:
                    add(table, [*perm, c])
                add(table, [*perm, *r.sort])
                add(table, [*perm, *r.group])
            if r.group:
                add(table, r.group)
            if r.sort:
                add(table, r.sort)
            # covering variants: the best access path plus every other column the statement reads
            for base in ([*eq, *r.range[:1]], [*eq, *r.sort], [*eq, *r.group], r.range[:1], r.range[:1] + eq):
                if base:
                    add(table, base + [c for c in r.used if c not in base])
    return list(seen.values())


def ranked_candidates(scenario: Scenario, k: int) -> list[IndexSpec]:
    """At most ``k`` of :func:`candidates`, a deterministic order: narrow first, then by the weight of the
    statements whose predicates use the leading column, then by name (what a fixed action list needs)."""
    total = sum(q.weight for q in scenario.workload) or 1.0
    lead: dict[tuple[str, str], float] = {}
    for q in scenario.workload:
        if q.kind != "select":
            continue
        for table, r in statement_roles(q.sql, scenario.tables).items():
            for c in set(r.eq + r.range + r.sort + r.group):
                lead[(table, c)] = lead.get((table, c), 0.0) + q.weight / total
    pool = candidates(scenario)
    pool.sort(key=lambda c: (-lead.get((c.table, c.columns[0]), 0.0), len(c.columns), c.table, c.columns))
    return pool[:k]


_SAFE = re.compile(r"[^a-z0-9_]+")


def default_index_name(spec: IndexSpec, taken: set[str] | None = None) -> str:
    base = "ix_" + _SAFE.sub("_", f"{spec.table}_{'_'.join(spec.columns)}".lower())[:50]
    name, i = base, 2
    while taken and name in taken:
        name, i = f"{base}_{i}", i + 1
    return name


@dataclass(frozen=True)
class Move:
    kind: str  # "create" | "drop"
    index: IndexSpec | None = None
    name: str | None = None


def budget_bytes(scenario: Scenario, table_bytes: int) -> int:
    return int(scenario.constraints.storage_budget * table_bytes)


def feasible(db: Database, scenario: Scenario) -> bool:
    return (len(db.indexes) <= scenario.constraints.max_indexes
            and db.storage_bytes() <= budget_bytes(scenario, db.snapshot.table_bytes))


def apply(db: Database, move: Move) -> str:
    """Apply a move; returns the index name it created or dropped."""
    if move.kind == "create":
        assert move.index is not None, "a create move names its index"
        name = move.name or default_index_name(move.index, set(db.indexes))
        db.create_index(move.index, name)
        return name
    assert move.name is not None, "a drop move names the index it drops"
    db.drop_index(move.name)
    return move.name


def undo(db: Database, move: Move, name: str, done: list[Move]) -> None:
    """Exactly the state before ``move``: dropping what was created is exact; a dropped index (and,
    under stale statistics, its statistics rows) is brought back by restoring and replaying ``done``."""
    if move.kind == "create":
        db.drop_index(name)
    else:
        db.restore()
        for mv in done:
            apply(db, mv)


def greedy(db: Database, meter: WorkloadMeter, *, min_gain: float = 0.005, max_rounds: int = 12,
           progress: Callable[[int, int, int], None] | None = None) -> list[Move]:
    """Greedy what-if search from the database as built (it restores it); leaves the moves applied.

    ``progress(round, moves tried so far, moves in the round)`` is called before each move is tried (a progress bar)."""
    db.restore()
    scenario = meter.scenario
    pool = candidates(scenario)
    baseline = meter.workload_cost(db, "visible")
    current = baseline
    moves: list[Move] = []
    for _ in range(max_rounds):
        have = {ix.key() for ix in db.indexes.values()}
        options = [Move("create", c) for c in pool if c.key() not in have]
        options += [Move("drop", name=n) for n in sorted(db.indexes)]
        best: tuple[float, int, Move] | None = None
        for tried, mv in enumerate(options, start=1):
            if progress is not None:
                progress(len(moves) + 1, tried - 1, len(options))
            try:
                name = apply(db, mv)
            except apsw.Error:
                continue
            if feasible(db, scenario):
                cost = meter.workload_cost(db, "visible")
                size = db.storage_bytes()
                if best is None or (cost, size) < (best[0], best[1]):
                    best = (cost, size, Move(mv.kind, mv.index, name))
            undo(db, mv, name, moves)
        if best is None or current - best[0] < min_gain * baseline:
            break
        apply(db, best[2])
        current = best[0]
        moves.append(best[2])
    return moves
