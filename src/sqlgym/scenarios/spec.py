"""Scenarios are data: frozen dataclasses, loaded from plain dicts (YAML) and validated on load."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlgym.errors import ScenarioError, SQLParseError
from sqlgym.scenarios.datagen import (
    INT64,
    check_gen,
    is_int,
    is_number,
    is_scalar,
    parse_date,
    unique_values,
    value_range,
)
from sqlgym.sqltext import parse, quote
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
class FileSource:
    """Where a scenario's data comes from when it is not generated: a SQLite file (``sqlgym.db.userdb``).

    Pure data, so that a scenario stays a value: the file's content hash (with its ``-wal``) is part
    of the scenario's fingerprint, so a changed file is a different scenario and never meets a stale
    cached reference. ``visible`` and ``hidden`` are the workload's observed parameter bindings (the
    literals each template was logged with), in place of drawn ones.
    """

    path: str
    sha256: str
    sample: float | None  # None: every row; else the fraction of each table's rows kept
    visible: Mapping[str, tuple[Mapping[str, Any], ...]]  # query id -> bindings the agent sees
    hidden: Mapping[str, tuple[Mapping[str, Any], ...]]  # query id -> bindings only the terminal reward sees
    workload: str = ""  # where the statements came from (a path, or "a list of N statements")
    skipped: tuple[str, ...] = ()  # workload statements left out, each with why


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
    source: FileSource | None = None  # data read from a file instead of generated from ``schema``

    @property
    def tables(self) -> dict[str, tuple[str, ...]]:
        """Table name -> column names."""
        return {t.name: t.column_names for t in self.schema}

    @property
    def queries(self) -> dict[str, str]:
        """Query id -> SQL text."""
        return {q.id: q.sql for q in self.workload}

    @property
    def named_indexes(self) -> dict[str, IndexSpec]:
        """The scenario's own indexes by name, in order (validation makes every one named)."""
        return {str(ix.name): ix for ix in self.indexes}

    def table(self, name: str) -> TableSpec:
        for t in self.schema:
            if t.name == name:
                return t
        raise KeyError(name)


# -- validation -------------------------------------------------------------------------------------
# Every check raises ScenarioError("<field path>: <what is wrong>; <what is allowed>"), so that a spec
# that loads never fails later (at build, reset or measurement).
TOP_FIELDS = ("id", "difficulty", "split", "description", "lesson", "seed", "tables", "queries", "indexes",
              "statistics", "constraints", "bindings", "max_steps", "family", "archetype")
TABLE_FIELDS = ("name", "rows", "columns")
COLUMN_FIELDS = ("name", "type", "gen", "primary_key", "references")
QUERY_FIELDS = ("id", "sql", "weight", "params")
INDEX_FIELDS = ("name", "table", "columns", "unique", "where")
STATISTICS_FIELDS = ("policy", "analyzed_fraction")
BINDINGS_FIELDS = ("visible", "hidden")
POLICIES = ("analyze", "stale")
MAX_ROWS = 2_000_000
_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false", list: "a list",
               tuple: "a tuple", type(None): "null"}


def _require(cond: bool, where: str, msg: str) -> None:
    if not cond:
        raise ScenarioError(f"{where}: {msg}")


def _type_name(types: type | tuple) -> str:
    types = types if isinstance(types, tuple) else (types,)
    if int in types and float in types:
        types = tuple(t for t in types if t is not int)  # "a number" says both
    return " or ".join(_TYPE_NAMES.get(t, "a mapping" if t is Mapping else t.__name__) for t in types)


def _has_type(value: Any, types: type | tuple) -> bool:
    types = types if isinstance(types, tuple) else (types,)
    if isinstance(value, bool) and bool not in types and object not in types:
        return False  # YAML's yes/no/on/off are bools: never an int or a float here
    if int in types and is_int(value):
        return True
    if float in types and is_number(value):
        return True
    return isinstance(value, tuple(t for t in types if t not in (int, float)))


def _get(d: Mapping, key: str, where: str, default: Any = ..., types: type | tuple = object) -> Any:
    if key not in d:
        _require(default is not ..., where, f"missing required field {key!r}")
        return default
    value = d[key]
    _require(_has_type(value, types), f"{where}.{key}", f"expected {_type_name(types)}, got {value!r}")
    return value


def _int_in(d: Mapping, key: str, where: str, default: Any, lo: int, hi: int) -> int:
    value = _get(d, key, where, default, int)
    _require(lo <= value <= hi, f"{where}.{key}", f"must be an integer in {lo:,}..{hi:,}, got {value!r}")
    return value


def _mapping(value: Any, where: str, fields: tuple[str, ...] | None = None) -> Mapping:
    _require(isinstance(value, Mapping), where, f"expected a mapping, got {value!r}")
    if fields is not None:
        unknown = sorted(str(k) for k in value if k not in fields)
        _require(not unknown, where, f"unknown field(s) {unknown}; allowed: {', '.join(fields)}")
    return value


def _list(d: Mapping, key: str, where: str, default: Any = ..., nonempty: bool = False) -> list:
    value = _get(d, key, where, default, (list, tuple))
    _require(not nonempty or len(value) > 0, f"{where}.{key}", "must not be empty")
    return list(value)


def _column(d: Any, where: str, rows_so_far: Mapping[str, int], earlier: list[str]) -> ColumnSpec:
    _mapping(d, where, COLUMN_FIELDS)
    name = _get(d, "name", where, types=str)
    _require(bool(NAME.match(name)), f"{where}.name", f"column name {name!r} must be lower_snake_case")
    ctype = _get(d, "type", where, "INTEGER", str).upper()
    _require(ctype in TYPES, f"{where}.type", f"type {ctype!r} not in {TYPES}")
    gen = dict(_get(d, "gen", where, types=Mapping))
    check_gen(gen, f"{where}.gen", rows=rows_so_far, columns=earlier)
    kind = gen["kind"]
    primary_key = _get(d, "primary_key", where, kind == "serial", bool)
    if primary_key:
        _require(unique_values(gen), f"{where}.primary_key",
                 "a primary key needs unique values: gen kind serial, or kind text with unique: true")
        _require(ctype != "INTEGER" or kind == "serial", f"{where}.primary_key",
                 "an INTEGER primary key holds integers: use gen kind serial (or type TEXT)")
        _require(not gen.get("null_fraction"), f"{where}.gen.null_fraction", "a primary key column has no NULLs")
    references = _get(d, "references", where, None, (str, type(None))) or (f"{gen['table']}.id" if kind == "fk" else None)
    return ColumnSpec(name, ctype, gen, bool(primary_key), references)


def _table(td: Any, tw: str, schema: list[TableSpec]) -> TableSpec:
    _mapping(td, tw, TABLE_FIELDS)
    tname = _get(td, "name", tw, types=str)
    _require(bool(NAME.match(tname)) and not tname.startswith("sqlite"), f"{tw}.name",
             f"bad table name {tname!r}: lower_snake_case, not starting with 'sqlite'")
    rows = _int_in(td, "rows", tw, ..., 1, MAX_ROWS)
    rows_so_far = {t.name: t.rows for t in schema}
    cols: list[ColumnSpec] = []
    for j, cd in enumerate(_list(td, "columns", tw, nonempty=True)):
        cols.append(_column(cd, f"{tw}.columns[{j}]", rows_so_far, [c.name for c in cols]))
    names = [c.name for c in cols]
    _require(len(set(names)) == len(names), tw, "duplicate column names")
    _require(sum(c.primary_key for c in cols) <= 1, tw, "at most one primary key column")
    for j, c in enumerate(cols):
        if c.references is not None:
            rt, dot, rc = c.references.partition(".")
            target = {t.name: t.column_names for t in schema} | {tname: tuple(names)}
            _require(bool(dot) and rt in target and rc in target[rt], f"{tw}.columns[{j}].references",
                     f"{c.references!r} must be 'table.column' naming a column of this or an earlier table")
    return TableSpec(tname, rows, tuple(cols))


def _pair(value: Any, where: str, ok, what: str) -> tuple:
    _require(isinstance(value, (list, tuple)) and len(value) == 2 and all(ok(v) for v in value), where,
             f"expected [lo, hi], two {what}, got {value!r}")
    return tuple(value)


def _param(name: str, d: Any, where: str, tables: dict[str, TableSpec], earlier: dict[str, tuple]) -> tuple:
    """Check one parameter spec; returns (and ``earlier`` holds) what it draws and its range if known."""
    _require(isinstance(name, str) and bool(name), where, f"parameter names are strings, got {name!r}")
    _require(isinstance(d, Mapping), where, f"expected a mapping with one of {PARAM_KINDS}, got {d!r}")
    kinds = [k for k in PARAM_KINDS if k in d]
    _require(len(kinds) == 1, where, f"a parameter needs exactly one of {PARAM_KINDS}")
    kind = kinds[0]
    extra = sorted(str(k) for k in d if k != kind)
    _require(not extra, where, f"unknown field(s) {extra}; a parameter is exactly one of {PARAM_KINDS}")
    value, at = d[kind], f"{where}.{kind}"
    if kind == "column":
        t, _, c = str(value).partition(".")
        _require(isinstance(value, str) and t in tables and c in tables[t].column_names, at,
                 f"unknown column {value!r}; expected 'table.column'")
    elif kind == "int":
        lo, hi = _pair(value, at, lambda v: is_int(v) and INT64[0] <= v <= INT64[1], "integers")
        _require(lo <= hi, at, f"lo ({lo}) must be <= hi ({hi})")
    elif kind == "real":
        lo, hi = _pair(value, at, is_number, "finite numbers")
        _require(lo <= hi, at, f"lo ({lo}) must be <= hi ({hi})")
    elif kind == "values":
        _require(isinstance(value, (list, tuple)) and len(value) > 0, at, f"expected a non-empty list, got {value!r}")
        for i, v in enumerate(value):
            _require(is_scalar(v), f"{at}[{i}]", f"expected a string or a finite number (integers within 64 bits), "
                     f"got {v!r} (quote dates and yes/no/on/off in YAML)")
    elif kind == "date":
        _require(isinstance(value, (list, tuple)) and len(value) == 2, at,
                 f"expected [first, last], two ISO dates, got {value!r}")
        lo, hi = (parse_date(v, f"{at}[{i}]") for i, v in enumerate(value))
        _require(lo <= hi, at, f"the first date ({lo}) must not be after the last ({hi})")
    else:  # plus: [param, amount] -- the value of an earlier parameter plus a number (days, for a date)
        _require(isinstance(value, (list, tuple)) and len(value) == 2, at,
                 f"expected [parameter, number], got {value!r}")
        ref, amount = value
        _require(isinstance(ref, str) and ref != name and ref in earlier, at,
                 f"'plus' refers to unknown parameter {ref!r}; it must name a parameter defined before {name!r}")
        _require(is_number(amount), at, f"the amount must be a finite number, got {amount!r}")
        base, span = earlier[ref]
        _require(base in ("number", "date"), at,
                 f"'plus' needs a numeric or date parameter; {ref!r} draws {base} values")
        if span is None:
            return base, None
        if base == "date":
            try:
                return base, tuple(day + dt.timedelta(days=int(amount)) for day in span)
            except OverflowError:
                raise ScenarioError(f"{at}: {ref!r} plus {amount} days leaves the calendar") from None
        span = (span[0] + amount, span[1] + amount)
        _require(not (is_int(amount) and all(is_int(v) for v in span)) or INT64[0] <= span[0] and span[1] <= INT64[1],
                 at, f"{ref!r} plus {amount} leaves SQLite's 64-bit integers")
        return base, span
    if kind == "column":
        t, _, c = value.partition(".")
        col = next(x for x in tables[t].columns if x.name == c)
        if float(col.gen.get("null_fraction", 0)) > 0.5:
            return "mostly NULL", None  # 'plus' on a draw that found only NULLs would fail
        return value_range(col.gen, tables[t].rows, {n: x.rows for n, x in tables.items()})
    if kind == "int":
        return "number", (lo, hi)
    if kind == "real":
        return "number", None
    if kind == "date":
        return "date", (lo, hi)
    return value_range({"kind": "choice", "values": value}, 0, {})


def _query(d: Any, where: str, tables: dict[str, TableSpec]) -> QuerySpec:
    _mapping(d, where, QUERY_FIELDS)
    qid = _get(d, "id", where, types=str)
    _require(bool(qid.strip()), f"{where}.id", "must not be empty")
    sql = _get(d, "sql", where, types=str).strip()
    try:
        facts = parse(sql)
    except SQLParseError as e:
        raise ScenarioError(f"{where}.sql ({qid}): SQL does not parse: {e}") from None
    _require(facts.kind in ("select", "dml"), f"{where}.sql",
             "workload statements must be SELECT or INSERT/UPDATE/DELETE")
    unknown = facts.tables - set(tables)
    _require(not unknown, f"{where}.sql", f"unknown tables {sorted(unknown)}")
    params = dict(_get(d, "params", where, {}, Mapping))
    missing = facts.params - set(params)
    _require(not missing, f"{where}.params", f"parameters without a generator: {sorted(missing)}")
    # 'plus' parameters are drawn after the others (and in order among themselves): check them that way
    order = sorted(params, key=lambda k: isinstance(params[k], Mapping) and "plus" in params[k])
    earlier: dict[str, tuple] = {}
    for k in order:
        earlier[k] = _param(k, params[k], f"{where}.params.{k}", tables, earlier)
    checked = {k: dict(v) for k, v in params.items()}
    weight = _get(d, "weight", where, 1.0, (int, float))
    _require(weight > 0, f"{where}.weight", f"weight must be a positive number, got {weight!r}")
    return QuerySpec(qid, sql, float(weight), checked, facts.kind, facts.tables, facts.ordered)


def _index(xd: Any, xw: str, tables: dict[str, TableSpec]) -> IndexSpec:
    _mapping(xd, xw, INDEX_FIELDS)
    name = _get(xd, "name", xw, types=str)
    _require(bool(name.strip()) and not name.lower().startswith("sqlite_"), f"{xw}.name",
             f"bad index name {name!r}: non-empty, not starting with 'sqlite_'")
    t = _get(xd, "table", xw, types=str)
    _require(t in tables, f"{xw}.table", f"unknown table {t!r}; tables: {sorted(tables)}")
    cols = tuple(_list(xd, "columns", xw, nonempty=True))
    bad = [c for c in cols if not isinstance(c, str) or c not in tables[t].column_names]
    _require(not bad, f"{xw}.columns", f"unknown table or column {bad}; columns of {t}: {list(tables[t].column_names)}")
    _require(len(set(cols)) == len(cols), f"{xw}.columns", "a column appears twice")
    unique = _get(xd, "unique", xw, False, bool)
    if unique:
        gens = {c.name: c.gen for c in tables[t].columns}
        _require(any(unique_values(gens[c]) for c in cols), f"{xw}.unique",
                 "a UNIQUE index needs a column whose values are unique by construction "
                 "(gen kind serial, or text with unique: true), or building it would fail")
    where = _get(xd, "where", xw, None, (str, type(None)))
    if where is not None:
        _require(bool(where.strip()), f"{xw}.where", "must not be empty (leave it out for a full index)")
        try:
            parse(f"SELECT 1 FROM {quote(t)} WHERE {where}")
        except SQLParseError as e:
            raise ScenarioError(f"{xw}.where: not one SQL expression: {e}") from None
    return IndexSpec(t, cols, bool(unique), where, name)


def _statistics(d: Mapping, where: str) -> Statistics:
    st = _mapping(_get(d, "statistics", where, {}, Mapping), f"{where}.statistics", STATISTICS_FIELDS)
    sw = f"{where}.statistics"
    policy = _get(st, "policy", sw, "analyze", str)
    _require(policy in POLICIES, f"{sw}.policy", f"statistics.policy must be 'analyze' or 'stale', got {policy!r}")
    fraction = _get(st, "analyzed_fraction", sw, 1.0, (int, float))
    _require(0 < fraction <= 1, f"{sw}.analyzed_fraction", "statistics.analyzed_fraction must be in (0, 1]")
    return Statistics(str(policy), float(fraction))


def _constraints(d: Mapping, where: str) -> Constraints:
    cd = dict(_get(d, "constraints", where, {}, Mapping))
    cw = f"{where}.constraints"
    unknown_c = sorted(str(k) for k in set(cd) - set(Constraints.__dataclass_fields__))
    _require(not unknown_c, cw, f"unknown constraints {unknown_c}; allowed: {', '.join(Constraints.__dataclass_fields__)}")
    budget = _get(cd, "storage_budget", cw, 1.0, (int, float))
    _require(budget > 0, f"{cw}.storage_budget", f"must be a positive number (a fraction of the tables' bytes), got {budget!r}")
    for key in ("max_indexes", "max_columns"):
        v = _get(cd, key, cw, 1, int)
        _require(v >= 1, f"{cw}.{key}", f"must be an integer >= 1, got {v!r}")
    _get(cd, "allow_rewrites", cw, True, bool)
    return Constraints(**cd)


def create_table_sql(t: TableSpec) -> str:
    """CREATE TABLE for a validated table, every identifier quoted."""
    cols = []
    for c in t.columns:
        col = f"{quote(c.name)} {c.type}"
        if c.primary_key:
            col += " PRIMARY KEY"
        if c.references:
            rt, _, rc = c.references.partition(".")
            col += f" REFERENCES {quote(rt)}({quote(rc)})"
        cols.append(col)
    return f"CREATE TABLE {quote(t.name)} ({', '.join(cols)})"


def create_index_sql(spec: IndexSpec) -> str:
    """CREATE INDEX for a validated index spec, every identifier quoted."""
    cols = ", ".join(quote(c) for c in spec.columns)
    where = f" WHERE {spec.where}" if spec.where else ""
    unique = "UNIQUE " if spec.unique else ""
    return f"CREATE {unique}INDEX {quote(spec.name or 'idx')} ON {quote(spec.table)} ({cols}){where}"


def scenario_from_dict(d: Mapping[str, Any], *, default_split: str = "curated") -> Scenario:
    """Build and validate a Scenario; raises ScenarioError naming the field at fault and what is allowed.

    SQLite itself then prepares every statement when an env is made (``sqlgym.db.validate``): that is
    what catches an unknown column, which sqlglot's parse cannot.
    """
    _require(isinstance(d, Mapping), "scenario", "must be a mapping")
    sid = _get(d, "id", "scenario", types=str)
    _require(bool(sid.strip()), "scenario.id", "must not be empty")
    where = f"scenario {sid!r}"
    _mapping(d, where, TOP_FIELDS)
    difficulty = _get(d, "difficulty", where, types=str)
    _require(difficulty in DIFFICULTIES, f"{where}.difficulty", f"difficulty {difficulty!r} not in {DIFFICULTIES}")
    split = _get(d, "split", where, default_split, str)
    _require(split in SPLITS, f"{where}.split", f"split {split!r} not in {SPLITS}")
    text = {k: _get(d, k, where, default, str) for k, default in
            (("description", ""), ("lesson", ""), ("family", "curated"), ("archetype", "curated"))}

    schema: list[TableSpec] = []
    for i, td in enumerate(_list(d, "tables", where, nonempty=True)):
        schema.append(_table(td, f"{where}.tables[{i}]", schema))
    _require(len({t.name for t in schema}) == len(schema), f"{where}.tables", "duplicate table names")
    tables = {t.name: t for t in schema}

    query_where = [f"{where}.queries[{i}]" for i in range(len(_list(d, "queries", where, nonempty=True)))]
    workload = tuple(_query(q, qw, tables) for q, qw in zip(d["queries"], query_where))
    _require(len({q.id for q in workload}) == len(workload), f"{where}.queries", "duplicate query ids")
    _require(any(q.kind == "select" for q in workload), f"{where}.queries", "the workload needs at least one SELECT")

    index_where = [f"{where}.indexes[{i}]" for i in range(len(_list(d, "indexes", where, [])))]
    indexes = [_index(xd, xw, tables) for xd, xw in zip(d.get("indexes", []), index_where)]
    names = [str(ix.name).lower() for ix in indexes]
    clash = sorted({n for n in names if names.count(n) > 1} | (set(names) & set(tables)))
    _require(not clash, f"{where}.indexes", f"index names must be unique and differ from table names: {clash}")

    stats = _statistics(d, where)
    constraints = _constraints(d, where)
    b = _mapping(_get(d, "bindings", where, {}, Mapping), f"{where}.bindings", BINDINGS_FIELDS)
    visible = _int_in(b, "visible", f"{where}.bindings", 4, 1, 50)
    hidden = _int_in(b, "hidden", f"{where}.bindings", 4, 1, 50)
    max_steps = _int_in(d, "max_steps", where, 20, 2, 200)
    seed = _get(d, "seed", where, 0, int)
    _require(seed >= 0, f"{where}.seed", f"must be an integer >= 0, got {seed!r}")

    return Scenario(
        id=sid, difficulty=difficulty, split=split,
        description=text["description"].strip(), lesson=text["lesson"].strip(),
        seed=seed, schema=tuple(schema), workload=workload, indexes=tuple(indexes),
        statistics=stats, constraints=constraints, visible_bindings=int(visible), hidden_bindings=int(hidden),
        max_steps=max_steps, family=text["family"], archetype=text["archetype"],
    )


_FINGERPRINTS: dict[int, tuple[Scenario, str]] = {}


def _jsonable(o):
    return sorted(o) if isinstance(o, (set, frozenset)) else str(o)


def fingerprint(scenario: Scenario) -> str:
    """A stable hash of everything in the spec (for on-disk caches)."""
    hit = _FINGERPRINTS.get(id(scenario))
    if hit is not None and hit[0] is scenario:
        return hit[1]
    d = dataclasses.asdict(scenario)
    if d["source"] is None:
        del d["source"]  # generated scenarios: the fingerprints (and cached references) they had before files
    blob = json.dumps(d, sort_keys=True, default=_jsonable)
    fp = hashlib.sha256(blob.encode()).hexdigest()[:16]
    if len(_FINGERPRINTS) > 4096:
        _FINGERPRINTS.clear()
    _FINGERPRINTS[id(scenario)] = (scenario, fp)
    return fp
