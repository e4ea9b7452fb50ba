"""Scenario specs load, validate with clear messages, and expose what research code inspects."""

from __future__ import annotations

import copy

import pytest

import sqlgym
from sqlgym.errors import ScenarioError
from sqlgym.scenarios.spec import scenario_from_dict
from tests.conftest import TINY


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
