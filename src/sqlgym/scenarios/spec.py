"""Scenarios are data: frozen dataclasses, loaded from plain dicts (YAML) and validated on load."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlgym.errors import ScenarioError
from sqlgym.scenarios.datagen import GENERATORS
from sqlgym.sqltext import parse
from sqlgym.types import IndexSpec

DIFFICULTIES = ("easy", "medium", "hard")
SPLITS = ("curated", "train", "validation", "test")
TYPES = ("INTEGER", "REAL", "TEXT")
PARAM_KINDS = ("column", "int", "real", "values", "date", "plus")
NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    type: str
    gen: Mapping[str, Any]
    primary_key: bool = False
    references: str | None = None  # "table.column"


@dataclass(frozen=True)
class TableSpec:
    name: str
    rows: int
    columns: tuple[ColumnSpec, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


@dataclass(frozen=True)
class QuerySpec:
    id: str
    sql: str
    weight: float = 1.0
    params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    kind: str = "select"  # derived: "select" | "dml"
    tables: frozenset[str] = frozenset()  # derived
    ordered: bool = False  # derived: outermost ORDER BY


@dataclass(frozen=True)
class Constraints:
    storage_budget: float = 1.0  # index bytes allowed, as a fraction of the tables' bytes
    max_indexes: int = 4  # indexes the agent may have created at once
    max_columns: int = 3  # columns per index
    allow_rewrites: bool = True


@dataclass(frozen=True)
class Statistics:
    policy: str = "analyze"  # "analyze": ANALYZE at build and after each index; "stale": see below
    analyzed_fraction: float = 1.0  # "stale": ANALYZE ran when this fraction of rows was loaded


@dataclass(frozen=True)
class Scenario:
    """A validated index-tuning scenario. ``tables`` and ``queries`` are the views research code uses."""

    id: str
    difficulty: str
    split: str
    description: str  # what the agent is told at reset: the symptom, never the fix
    lesson: str  # for humans reading the catalogue; never shown to the agent
    seed: int
    schema: tuple[TableSpec, ...]
    workload: tuple[QuerySpec, ...]
    indexes: tuple[IndexSpec, ...] = ()
    statistics: Statistics = Statistics()
    constraints: Constraints = Constraints()
    visible_bindings: int = 4
    hidden_bindings: int = 4
    max_steps: int = 20
    family: str = "curated"  # generator metadata: archetype / template families
    archetype: str = "curated"

    @property
    def tables(self) -> dict[str, tuple[str, ...]]:
        """Table name -> column names."""
        return {t.name: t.column_names for t in self.schema}

    @property
    def queries(self) -> dict[str, str]:
        """Query id -> SQL text."""
        return {q.id: q.sql for q in self.workload}

    def table(self, name: str) -> TableSpec:
        for t in self.schema:
            if t.name == name:
                return t
        raise KeyError(name)


def _require(cond: bool, where: str, msg: str) -> None:
    if not cond:
        raise ScenarioError(f"{where}: {msg}")


def _get(d: Mapping, key: str, where: str, default: Any = ..., types: type | tuple = object) -> Any:
    if key not in d:
        _require(default is not ..., where, f"missing required field {key!r}")
        return default
    value = d[key]
    _require(isinstance(value, types), f"{where}.{key}", f"expected {types}, got {type(value).__name__}")
    return value


def _column(d: Mapping, where: str, tables_so_far: set[str]) -> ColumnSpec:
    name = _get(d, "name", where, types=str)
    _require(bool(NAME.match(name)), where, f"column name {name!r} must be lower_snake_case")
    ctype = _get(d, "type", where, "INTEGER", str).upper()
    _require(ctype in TYPES, where, f"type {ctype!r} not in {TYPES}")
    gen = dict(_get(d, "gen", where, types=Mapping))
    kind = gen.get("kind")
    _require(kind in GENERATORS, f"{where}.gen", f"kind {kind!r} not in {sorted(GENERATORS)}")
    if kind == "fk":
        _require(gen.get("table") in tables_so_far, f"{where}.gen", "fk table must be defined earlier")
    references = d.get("references") or (f"{gen['table']}.id" if kind == "fk" else None)
    return ColumnSpec(name, ctype, gen, bool(d.get("primary_key", kind == "serial")), references)


def _param(name: str, d: Mapping, where: str, tables: dict[str, TableSpec], names: set[str]) -> dict:
    kinds = [k for k in PARAM_KINDS if k in d]
    _require(len(kinds) == 1, where, f"a parameter needs exactly one of {PARAM_KINDS}")
    if "column" in d:
        t, _, c = str(d["column"]).partition(".")
        _require(t in tables and c in tables[t].column_names, where, f"unknown column {d['column']!r}")
    if "plus" in d:
        ref, _amount = d["plus"]
        _require(ref in names and ref != name, where, f"'plus' refers to unknown parameter {ref!r}")
    return dict(d)


def _query(d: Mapping, where: str, tables: dict[str, TableSpec]) -> QuerySpec:
    qid = _get(d, "id", where, types=str)
    sql = _get(d, "sql", where, types=str).strip()
    try:
        facts = parse(sql)
    except ValueError as e:
        raise ScenarioError(f"{where} ({qid}): SQL does not parse: {e}") from None
    _require(facts.kind in ("select", "dml"), where, "workload statements must be SELECT or INSERT/UPDATE/DELETE")
    unknown = facts.tables - set(tables)
    _require(not unknown, where, f"unknown tables {sorted(unknown)}")
    params = dict(_get(d, "params", where, {}, Mapping))
    missing = facts.params - set(params)
    _require(not missing, where, f"parameters without a generator: {sorted(missing)}")
    checked = {k: _param(k, v, f"{where}.params.{k}", tables, set(params)) for k, v in params.items()}
    weight = float(_get(d, "weight", where, 1.0, (int, float)))
    _require(weight > 0, where, "weight must be positive")
    return QuerySpec(qid, sql, weight, checked, facts.kind, facts.tables, facts.ordered)


def scenario_from_dict(d: Mapping[str, Any], *, default_split: str = "curated") -> Scenario:
    """Build and validate a Scenario; raises ScenarioError naming the field at fault."""
    _require(isinstance(d, Mapping), "scenario", "must be a mapping")
    sid = _get(d, "id", "scenario", types=str)
    where = f"scenario {sid!r}"
    difficulty = _get(d, "difficulty", where, types=str)
    _require(difficulty in DIFFICULTIES, where, f"difficulty {difficulty!r} not in {DIFFICULTIES}")
    split = _get(d, "split", where, default_split, str)
    _require(split in SPLITS, where, f"split {split!r} not in {SPLITS}")

    schema: list[TableSpec] = []
    for i, td in enumerate(_get(d, "tables", where, types=list)):
        tw = f"{where}.tables[{i}]"
        tname = _get(td, "name", tw, types=str)
        _require(bool(NAME.match(tname)) and not tname.startswith("sqlite"), tw, f"bad table name {tname!r}")
        rows = _get(td, "rows", tw, types=int)
        _require(1 <= rows <= 2_000_000, tw, "rows must be between 1 and 2,000,000")
        known = {t.name for t in schema}
        cols = tuple(_column(cd, f"{tw}.columns[{j}]", known) for j, cd in enumerate(_get(td, "columns", tw, types=list)))
        names = [c.name for c in cols]
        _require(len(set(names)) == len(names), tw, "duplicate column names")
        _require(sum(c.primary_key for c in cols) <= 1, tw, "at most one primary key column")
        for c in cols:
            if c.gen["kind"] == "derived":
                _require(c.gen.get("column") in names[: names.index(c.name)], tw, f"{c.name}: derived from a later or unknown column")
        schema.append(TableSpec(tname, rows, cols))
    _require(len({t.name for t in schema}) == len(schema), where, "duplicate table names")
    tables = {t.name: t for t in schema}

    workload = tuple(_query(q, f"{where}.queries[{i}]", tables) for i, q in enumerate(_get(d, "queries", where, types=list)))
    _require(len({q.id for q in workload}) == len(workload), where, "duplicate query ids")
    _require(any(q.kind == "select" for q in workload), where, "the workload needs at least one SELECT")

    indexes = []
    for i, xd in enumerate(_get(d, "indexes", where, [], list)):
        xw = f"{where}.indexes[{i}]"
        t = _get(xd, "table", xw, types=str)
        cols = tuple(_get(xd, "columns", xw, types=list))
        _require(t in tables and all(c in tables[t].column_names for c in cols) and cols, xw, "unknown table or column")
        indexes.append(IndexSpec(t, cols, bool(xd.get("unique", False)), xd.get("where"), _get(xd, "name", xw, types=str)))

    st = dict(_get(d, "statistics", where, {}, Mapping))
    stats = Statistics(str(st.get("policy", "analyze")), float(st.get("analyzed_fraction", 1.0)))
    _require(stats.policy in ("analyze", "stale"), where, "statistics.policy must be 'analyze' or 'stale'")
    _require(0 < stats.analyzed_fraction <= 1, where, "statistics.analyzed_fraction must be in (0, 1]")

    cd = dict(_get(d, "constraints", where, {}, Mapping))
    unknown_c = set(cd) - set(Constraints.__dataclass_fields__)
    _require(not unknown_c, where, f"unknown constraints {sorted(unknown_c)}")
    constraints = Constraints(**cd)
    _require(constraints.storage_budget > 0 and constraints.max_indexes >= 1 and constraints.max_columns >= 1,
             where, "constraints must be positive")

    b = dict(_get(d, "bindings", where, {}, Mapping))
    visible, hidden = int(b.get("visible", 4)), int(b.get("hidden", 4))
    _require(1 <= visible <= 50 and 1 <= hidden <= 50, where, "bindings.visible and .hidden must be 1..50")
    max_steps = _get(d, "max_steps", where, 20, int)
    _require(2 <= max_steps <= 200, where, "max_steps must be 2..200")

    return Scenario(
        id=sid, difficulty=difficulty, split=split,
        description=str(d.get("description", "")).strip(), lesson=str(d.get("lesson", "")).strip(),
        seed=_get(d, "seed", where, 0, int), schema=tuple(schema), workload=workload, indexes=tuple(indexes),
        statistics=stats, constraints=constraints, visible_bindings=visible, hidden_bindings=hidden,
        max_steps=max_steps, family=str(d.get("family", "curated")), archetype=str(d.get("archetype", "curated")),
    )
