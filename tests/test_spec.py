"""Scenario specs load, validate with clear messages, and expose what research code inspects."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

import sqlgym
from sqlgym.db.validate import check_scenario_sql
from sqlgym.errors import ScenarioError
from sqlgym.scenarios.generator import generate
from sqlgym.scenarios.spec import scenario_from_dict
from tests.conftest import TINY

MISSING = object()  # as a value in a BAD row: delete the field instead


def test_tiny_spec_views(tiny):
    assert tiny.tables["orders"][:2] == ("id", "customer_id")
    assert tiny.queries["q1"].startswith("SELECT id, country")
    w1 = next(q for q in tiny.workload if q.id == "w1")
    assert w1.kind == "dml" and w1.tables == frozenset({"orders"})
    q3 = next(q for q in tiny.workload if q.id == "q3")
    assert q3.ordered


def _broken(path, value):
    d = copy.deepcopy(TINY)
    target = d
    for p in path[:-1]:
        target = target[p]
    if value is MISSING:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return d


BROKEN = [
    ("unknown generator", ["tables", 0, "columns", 1, "gen"], {"kind": "zipff"}, "kind 'zipff'"),
    ("unknown table in SQL", ["queries", 0, "sql"], "SELECT * FROM clients", "unknown tables"),
    ("SQL that does not parse", ["queries", 0, "sql"], "SELEC FROM", "does not parse"),
    ("parameter without generator", ["queries", 0, "params"], {}, "without a generator"),
    ("bad difficulty", ["difficulty"], "trivial", "difficulty"),
    ("fk to a later table", ["tables", 0, "columns", 0, "gen"], {"kind": "fk", "table": "orders"}, "fk table"),
    ("unknown constraint", ["constraints"], {"budget": 1}, "unknown constraints"),
    ("unknown param column", ["queries", 0, "params"], {"e": {"column": "customers.mail"}}, "unknown column"),
]


@pytest.mark.parametrize("why,path,value,message", BROKEN, ids=[b[0] for b in BROKEN])
def test_invalid_specs_say_what_is_wrong(why, path, value, message):
    with pytest.raises(ScenarioError, match=message):
        scenario_from_dict(_broken(path, value))


# One row per bad field: (why, path in TINY, bad value, the field the message must name, the reason).
# Each of these used to load and then fail at reset, or to fail with a TypeError/ValueError/KeyError.
T0, T1 = ["tables", 0], ["tables", 1]  # customers(id, email, country), orders(id, customer_id, status, amount, note)
C1 = [*T1, "columns"]
G = [*T1, "columns", 1, "gen"]  # orders.customer_id: fk customers, zipf
Q = ["queries"]
X = ["indexes", 0]  # ix_orders_note on orders(note)
BAD = [
    # the scenario
    ("unknown top-level field", ["budget"], 3, "scenario 'test/tiny'", r"unknown field.*budget.*allowed: id"),
    ("id not a string", ["id"], 5, "scenario.id", "expected a string"),
    ("split not allowed", ["split"], "dev", ".split", "not in"),
    ("description not a string", ["description"], ["slow"], ".description", "expected a string"),
    ("negative seed", ["seed"], -1, ".seed", ">= 0"),
    ("seed is a bool", ["seed"], True, ".seed", "expected an integer"),
    ("max_steps as a string", ["max_steps"], "12", ".max_steps", "expected an integer"),
    ("max_steps out of range", ["max_steps"], 500, ".max_steps", r"2\.\.200"),
    ("no visible bindings", ["bindings"], {"visible": 0}, ".bindings.visible", r"1\.\.50"),
    ("hidden bindings not whole", ["bindings"], {"hidden": 2.5}, ".bindings.hidden", "expected an integer"),
    ("unknown bindings field", ["bindings"], {"shown": 3}, ".bindings", "unknown field.*shown"),
    ("statistics policy", ["statistics"], {"policy": "never"}, ".statistics.policy", "'analyze' or 'stale'"),
    ("analyzed fraction 0", ["statistics"], {"policy": "stale", "analyzed_fraction": 0}, ".statistics.analyzed_fraction", r"\(0, 1\]"),
    ("analyzed fraction as a string", ["statistics"], {"analyzed_fraction": "0.5"}, ".statistics.analyzed_fraction", "expected"),
    ("unknown statistics field", ["statistics"], {"polcy": "stale"}, ".statistics", "unknown field.*polcy"),
    ("max_indexes as a string", ["constraints", "max_indexes"], "4", ".constraints.max_indexes", "expected an integer"),
    ("negative storage budget", ["constraints", "storage_budget"], -1, ".constraints.storage_budget", "positive"),
    ("max_columns 0", ["constraints", "max_columns"], 0, ".constraints.max_columns", ">= 1"),
    ("allow_rewrites not a bool", ["constraints", "allow_rewrites"], "yes", ".constraints.allow_rewrites", "true or false"),
    # tables and columns
    ("no tables", ["tables"], [], ".tables", "must not be empty"),
    ("table not a mapping", T0, "customers", ".tables[0]", "expected a mapping"),
    ("unknown table field", [*T0, "primary"], "id", ".tables[0]", "unknown field.*primary"),
    ("rows as a string", [*T0, "rows"], "3000", ".tables[0].rows", "expected an integer"),
    ("zero rows", [*T0, "rows"], 0, ".tables[0].rows", "1..2,000,000"),
    ("too many rows", [*T0, "rows"], 3_000_000, ".tables[0].rows", "1..2,000,000"),
    ("table name not snake_case", [*T0, "name"], "Customers", ".tables[0].name", "lower_snake_case"),
    ("no columns", [*T0, "columns"], [], ".tables[0].columns", "must not be empty"),
    ("column type", [*C1, 2, "type"], "VARCHAR", ".columns[2].type", "not in"),
    ("unknown column field", [*C1, 2, "nullable"], True, ".columns[2]", "unknown field.*nullable"),
    ("primary_key not a bool", [*C1, 2, "primary_key"], "yes", ".columns[2].primary_key", "true or false"),
    ("primary key on repeated values", [*C1, 2, "primary_key"], True, ".columns[2].primary_key", "unique values"),
    ("references an unknown table", [*C1, 1, "references"], "clients.id", ".columns[1].references", "table.column"),
    ("gen not a mapping", [*C1, 2, "gen"], "choice", ".columns[2].gen", "expected a mapping"),
    # generators: each kind's parameters
    ("dist typo", [*G, "dist"], "zipff", "tables[1].columns[1].gen.dist", "allowed: uniform, zipf"),
    ("zipf exponent <= 0", [*G, "s"], -1, ".gen.s", r"\(0, 20\]"),
    ("s without zipf", [*C1, 4, "gen", "s"], 1.0, "columns[4].gen.s", "only used with dist: zipf"),
    ("null_fraction above 1", [*C1, 3, "gen", "null_fraction"], 1.5, ".gen.null_fraction", r"\[0, 1\]"),
    ("null_fraction as a string", [*C1, 3, "gen", "null_fraction"], "0.1", ".gen.null_fraction", "finite number"),
    ("NULLs in a primary key", [*T0, "columns", 0, "gen", "null_fraction"], 0.1, "columns[0].gen.null_fraction", "primary key"),
    ("field another kind reads", [*C1, 3, "gen", "values"], ["a"], "columns[3].gen", "unknown field.*for kind 'real'"),
    ("int without high", [*C1, 3, "gen"], {"kind": "int", "low": 1}, "columns[3].gen", "missing required field 'high'"),
    ("int low > high", [*C1, 3, "gen"], {"kind": "int", "low": 5, "high": 1}, ".gen.high", "must be >= low"),
    ("int bound as a string", [*C1, 3, "gen"], {"kind": "int", "low": "1", "high": 5}, ".gen.low", "integer"),
    ("int zipf over too many values", [*C1, 3, "gen"], {"kind": "int", "low": 0, "high": 10**8, "dist": "zipf"},
     ".gen.dist", "at most 2,000,000"),
    ("real low > high", [*C1, 3, "gen"], {"kind": "real", "low": 500, "high": 1}, ".gen.high", "must be >= low"),
    ("real with a zipf dist", [*C1, 3, "gen"], {"kind": "real", "dist": "zipf"}, ".gen.dist", "uniform, lognormal"),
    ("lognormal sigma < 0", [*C1, 3, "gen"], {"kind": "real", "dist": "lognormal", "sigma": -1}, ".gen.sigma", ">= 0"),
    ("lognormal with low", [*C1, 3, "gen"], {"kind": "real", "dist": "lognormal", "low": 1}, ".gen.low", "not used with dist"),
    ("round as a string", [*C1, 3, "gen"], {"kind": "real", "round": "2"}, ".gen.round", "integer in 0..15"),
    ("choice without values", [*T0, "columns", 2, "gen"], {"kind": "choice"}, "columns[2].gen", "missing required field 'values'"),
    ("choice with no values", [*T0, "columns", 2, "gen", "values"], [], ".gen.values", "non-empty list"),
    ("choice value a bool (YAML on/off)", [*T0, "columns", 2, "gen", "values"], ["us", True], ".gen.values[1]", "quote"),
    ("choice value an unbindable date", [*T0, "columns", 2, "gen", "values"], [dt.date(2021, 1, 1)], ".gen.values[0]", "quote"),
    ("choice value beyond 64 bits", [*T0, "columns", 2, "gen", "values"], [10**20], ".gen.values[0]", "64 bits"),
    ("weights of another length", [*C1, 2, "gen", "weights"], [1, 2], ".gen.weights", "list of 3 numbers"),
    ("negative weight", [*C1, 2, "gen", "weights"], [1, -2, 7], ".gen.weights", r"numbers in \[0"),
    ("all weights 0", [*C1, 2, "gen", "weights"], [0, 0, 0], ".gen.weights", "not all 0"),
    ("text prefix not a string", [*C1, 4, "gen", "prefix"], 5, ".gen.prefix", "expected a string"),
    ("text cardinality 0", [*C1, 4, "gen", "cardinality"], 0, ".gen.cardinality", ">= 1"),
    ("cardinality with unique", [*T0, "columns", 1, "gen", "cardinality"], 10, ".gen.cardinality", "not used with unique"),
    ("unique as a string", [*T0, "columns", 1, "gen", "unique"], "true", ".gen.unique", "true or false"),
    ("fk to an unknown table", [*G, "table"], "clients", ".gen.table", "defined earlier"),
    ("date that does not parse", [*C1, 4, "gen"], {"kind": "date", "start": "2021-13-01"}, ".gen.start", "ISO date"),
    ("date with a time", [*C1, 4, "gen"], {"kind": "date", "start": dt.datetime(2021, 1, 1, 10)}, ".gen.start", "ISO date"),
    ("date with 0 days", [*C1, 4, "gen"], {"kind": "date", "days": 0}, ".gen.days", "integer in 1.."),
    ("dates past the calendar", [*C1, 4, "gen"], {"kind": "date", "start": "9999-01-01", "days": 1000}, ".gen.days", "1..365"),
    ("sorted as a string", [*C1, 4, "gen"], {"kind": "date", "sorted": "yes"}, ".gen.sorted", "true or false"),
    ("derived from an unknown column", [*C1, 4, "gen"], {"kind": "derived", "column": "nope"}, ".gen.column", "unknown column"),
    ("derived from itself", [*C1, 4, "gen"], {"kind": "derived", "column": "note"}, ".gen.column", "later or unknown"),
    ("derived mod 0", [*C1, 4, "gen"], {"kind": "derived", "column": "status", "mod": 0}, ".gen.mod", ">= 1"),
    # queries
    ("no queries", Q, [], ".queries", "must not be empty"),
    ("unknown query field", [*Q, 0, "hint"], "x", ".queries[0]", "unknown field.*hint"),
    ("sql not a string", [*Q, 0, "sql"], 5, ".queries[0].sql", "expected a string"),
    ("unknown column in SQL", [*Q, 0, "sql"], "SELECT id, nope FROM customers WHERE email = :e", ".queries[0].sql", "no such column"),
    ("positional parameter", [*Q, 0, "sql"], "SELECT id FROM customers WHERE email = ?", ".queries[0].sql", "no name"),
    ("DDL in the workload", [*Q, 0, "sql"], "CREATE TABLE x (a)", ".queries[0].sql", "must be SELECT"),
    ("a function the sandbox denies", [*Q, 0, "sql"], "SELECT load_extension(:e) FROM customers", ".queries[0].sql",
     "not authorized"),
    ("nested too deeply", [*Q, 0, "sql"], "SELECT " + "(" * 300 + ":e" + ")" * 300 + " FROM customers",
     ".queries[0].sql", "nested too deeply"),
    ("zero weight", [*Q, 0, "weight"], 0, ".queries[0].weight", "positive"),
    ("weight as a string", [*Q, 0, "weight"], "2", ".queries[0].weight", "expected a number"),
    ("duplicate query id", [*Q, 1, "id"], "q1", ".queries", "duplicate query ids"),
    ("empty query id", [*Q, 0, "id"], " ", ".queries[0].id", "must not be empty"),
    # parameters
    ("param not a mapping", [*Q, 0, "params", "e"], "customers.email", ".params.e", "expected a mapping"),
    ("param with two generators", [*Q, 0, "params", "e"], {"column": "customers.email", "values": ["a"]}, ".params.e",
     "exactly one of"),
    ("unknown param field", [*Q, 0, "params", "e"], {"column": "customers.email", "note": 1}, ".params.e", "unknown field.*note"),
    ("param column without a table", [*Q, 0, "params", "e"], {"column": "email"}, ".params.e.column", "'table.column'"),
    ("int range of one number", [*Q, 3, "params", "c"], {"int": [1]}, ".params.c.int", r"\[lo, hi\]"),
    ("int range reversed", [*Q, 3, "params", "c"], {"int": [5, 1]}, ".params.c.int", "must be <= hi"),
    ("int range of floats", [*Q, 3, "params", "c"], {"int": [1.5, 3]}, ".params.c.int", "two integers"),
    ("real range of strings", [*Q, 2, "params", "a"], {"real": ["1", "2"]}, ".params.a.real", "two finite numbers"),
    ("real range reversed", [*Q, 2, "params", "a"], {"real": [400, 100]}, ".params.a.real", "must be <= hi"),
    ("no values", [*Q, 1, "params", "s"], {"values": []}, ".params.s.values", "non-empty list"),
    ("a null value", [*Q, 1, "params", "s"], {"values": ["paid", None]}, ".params.s.values[1]", "string or a finite number"),
    ("a date object value", [*Q, 1, "params", "s"], {"values": [dt.date(2021, 1, 1)]}, ".params.s.values[0]", "quote dates"),
    ("date that does not parse", [*Q, 2, "params", "a"], {"date": ["2021-01-01", "soon"]}, ".params.a.date[1]", "ISO date"),
    ("date range reversed", [*Q, 2, "params", "a"], {"date": ["2022-01-01", "2021-01-01"]}, ".params.a.date", "after the last"),
    ("date range of one", [*Q, 2, "params", "a"], {"date": ["2021-01-01"]}, ".params.a.date", "two ISO dates"),
    ("plus on an unknown param", [*Q, 2, "params", "a"], {"plus": ["b", 1]}, ".params.a.plus", "unknown parameter 'b'"),
    ("plus on itself", [*Q, 2, "params", "a"], {"plus": ["a", 1]}, ".params.a.plus", "unknown parameter 'a'"),
    ("plus not a pair", [*Q, 1, "params", "s"], {"plus": "c"}, ".params.s.plus", r"\[parameter, number\]"),
    ("plus a string amount", [*Q, 1, "params", "s"], {"plus": ["c", "x"]}, ".params.s.plus", "finite number"),
    ("plus on text values", [*Q, 1, "params", "c"], {"plus": ["s", 1]}, ".params.c.plus", "numeric or date"),
    ("plus on a text column", [*Q, 1, "params"], {"c": {"column": "orders.status"}, "s": {"plus": ["c", 1]}},
     ".params.s.plus", "numeric or date"),
    ("plus past the calendar", [*Q, 1, "params"], {"c": {"date": ["9999-12-01", "9999-12-30"]}, "s": {"plus": ["c", 10]}},
     ".params.s.plus", "leaves the calendar"),
    ("plus past 64-bit integers", [*Q, 1, "params"], {"c": {"int": [1, 2**63 - 1]}, "s": {"plus": ["c", 1]}},
     ".params.s.plus", "64-bit"),
    # indexes
    ("index not a mapping", X, "note", ".indexes[0]", "expected a mapping"),
    ("unknown index field", [*X, "partial"], "x", ".indexes[0]", "unknown field.*partial"),
    ("index name missing", [*X, "name"], MISSING, ".indexes[0]", "missing required field 'name'"),
    ("index name reserved", [*X, "name"], "sqlite_x", ".indexes[0].name", "sqlite_"),
    ("index named like a table", [*X, "name"], "orders", ".indexes", "differ from table names"),
    ("index on an unknown table", [*X, "table"], "clients", ".indexes[0].table", "unknown table"),
    ("index on an unknown column", [*X, "columns"], ["nope"], ".indexes[0].columns", "unknown table or column"),
    ("index without columns", [*X, "columns"], [], ".indexes[0].columns", "must not be empty"),
    ("index column twice", [*X, "columns"], ["note", "note"], ".indexes[0].columns", "twice"),
    ("unique as a string", [*X, "unique"], "yes", ".indexes[0].unique", "true or false"),
    ("unique on repeated values", [*X, "unique"], True, ".indexes[0].unique", "unique by construction"),
    ("where not a string", [*X, "where"], 5, ".indexes[0].where", "expected a string"),
    ("where on an unknown column", [*X, "where"], "nope > 1", ".indexes[0].where", "no such column"),
    ("where with a second statement", [*X, "where"], "note > 1; DROP TABLE orders", ".indexes[0].where", "one SQL"),
    ("where SQLite refuses", [*X, "where"], "random() > 0", ".indexes[0].where", "non-deterministic"),
]


@pytest.mark.parametrize("why,path,value,field,reason", BAD, ids=[b[0] for b in BAD])
def test_every_bad_field_is_a_scenario_error_naming_it(why, path, value, field, reason):
    """Fields are checked on load; SQL that only SQLite can judge (an unknown column) when an env is made."""
    with pytest.raises(ScenarioError, match=reason) as info:
        check_scenario_sql(scenario_from_dict(_broken(path, value)))
    assert field in str(info.value), f"{why}: the message does not name {field!r}: {info.value}"


def test_what_validates_is_kept_as_written(tiny):
    assert scenario_from_dict(copy.deepcopy(TINY)) == tiny
    ok = _broken(["queries", 1, "params"], {"c": {"column": "orders.customer_id"}, "s": {"plus": ["c", 2]}})
    assert scenario_from_dict(ok).workload[1].params["s"] == {"plus": ["c", 2]}


def test_sql_only_sqlite_can_judge_fails_when_the_env_is_made():
    import gymnasium as gym

    spec = scenario_from_dict(_broken(["queries", 0, "sql"], "SELECT id, nope FROM customers WHERE email = :e"))
    with pytest.raises(ScenarioError, match="no such column"):
        gym.make("SQLIndex-v0", scenario=spec)


def test_generated_scenarios_validate():
    for n in range(300):
        sc = generate(n)
        assert sc.id == f"generator://index/{n}"


def test_curated_catalogue():
    ids = sqlgym.list_scenarios("SQLIndex-v0", split="curated")
    scenarios = [sqlgym.load_scenario(i) for i in ids]
    by = {d: sum(s.difficulty == d for s in scenarios) for d in ("easy", "medium", "hard")}
    assert len(ids) >= 15 and all(v >= 5 for v in by.values()), by
    sc = sqlgym.load_scenario("easy/point_lookup")
    assert sc.id == "easy/point_lookup" and sc.split == "curated" and sc.tables and sc.queries
    fixes = ("create index", "add an index", "add index", "drop index", "drop the", "analyze", "rewrite")
    hints = [(s.id, f) for s in scenarios for f in fixes if f in s.description.lower()]
    assert not hints, f"descriptions state the symptom, never the fix: {hints}"


def test_unknown_names_are_clear_errors():
    with pytest.raises(sqlgym.ScenarioNotFound, match="Did you mean 'easy/point_lookup'"):
        sqlgym.load_scenario("easy/point_lookpu")
    with pytest.raises(sqlgym.ConfigError, match="Valid: curated, train, validation, test"):
        sqlgym.list_scenarios("SQLIndex-v0", split="tset")
    with pytest.raises(sqlgym.ConfigError, match="Did you mean 'SQLIndex-v0'"):
        sqlgym.list_scenarios("SQLIndx-v0")


# -- SQL text that does not parse is one error, a ValueError too ---------------------------------------
DEEP = [
    ("300 nested parentheses", "SELECT " + "(" * 300 + "1" + ")" * 300),
    ("300 nested function calls", "SELECT " + "abs(" * 300 + "1" + ")" * 300),
    ("nested subqueries", "SELECT * FROM " + "(SELECT * FROM " * 300 + "t" + ")" * 300),
    ("not SQL", "SELEC FROM"),
    ("two statements", "SELECT 1; SELECT 2"),
]


@pytest.mark.parametrize("why,sql", DEEP, ids=[d[0] for d in DEEP])
def test_unparsable_sql_is_an_sql_parse_error(why, sql):
    from sqlgym.errors import SqlgymError, SQLParseError
    from sqlgym.sqltext import parse

    with pytest.raises(SQLParseError) as info:
        parse(sql)
    assert isinstance(info.value, SqlgymError) and isinstance(info.value, ValueError)  # old `except ValueError` still works
    if "nested" in why:
        assert "nested too deeply" in str(info.value)
    assert parse("SELECT 1").kind == "select"  # the parser is fine afterwards
