"""The procedural generator: deterministic, honours the held-out rule, and always leaves headroom."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import gymnasium as gym
import pytest

import sqlgym
from sqlgym.db.advisor import statement_roles
from sqlgym.scenarios.catalog import fingerprint, load_scenario
from sqlgym.scenarios.generator import ARCHETYPES, FAMILIES, generate
from sqlgym.scenarios.splits import HELD_OUT_ARCHETYPES, HELD_OUT_FAMILIES, split_of


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("SQLGYM_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def n_of(scenario_id: str) -> int:
    return int(scenario_id.rsplit("/", 1)[1])


def holds_out(sc) -> bool:
    return sc.archetype in HELD_OUT_ARCHETYPES or any(f in HELD_OUT_FAMILIES for f in sc.family.split("+"))


# -- determinism --------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [0, 3, 17, 123, 4096])
def test_same_n_gives_the_same_scenario(n):
    first = generate(n)
    generate.cache_clear()
    again = generate(n)
    assert again is not first  # really generated twice, not served from the cache
    assert again == first
    assert fingerprint(again) == fingerprint(first)
    assert load_scenario(f"generator://index/{n}") == first


def test_same_scenario_in_another_process():
    ns = [0, 3, 17, 123]
    code = ("import json; from sqlgym.scenarios.catalog import fingerprint; "
            "from sqlgym.scenarios.generator import generate; "
            f"print(json.dumps([fingerprint(generate(n)) for n in {ns}]))")
    # a different hash seed: nothing may depend on hash() of strings
    env = {**os.environ, "PYTHONHASHSEED": "4242"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert json.loads(out.stdout) == [fingerprint(generate(n)) for n in ns]


@pytest.mark.parametrize("n", [-1, "3", 2.0, True])
def test_a_bad_index_is_a_config_error(n):
    with pytest.raises(sqlgym.ConfigError, match="generator index"):
        generate(n)
    with pytest.raises(sqlgym.ScenarioNotFound):
        load_scenario("generator://index/-1")


def test_the_package_exposes_the_stages():
    """generator/ is split by stage; each module imports only the ones before it."""
    import ast
    import importlib

    order = ["vocab", "schema", "templates", "workload"]
    for i, name in enumerate(order):
        mod = importlib.import_module(f"sqlgym.scenarios.generator.{name}")
        imported = {node.module.rsplit(".", 1)[1] for node in ast.walk(ast.parse(open(mod.__file__).read()))
                    if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlgym.scenarios.generator.")}
        assert imported <= set(order[:i]), (name, imported)
    import sqlgym.scenarios.generator as g

    assert g.generate is importlib.import_module("sqlgym.scenarios.generator.workload").generate
    assert set(g.TEMPLATES) == set(g.FAMILIES) and set(g.ANCHORS) <= set(g.FAMILIES)


# -- shape and metadata ---------------------------------------------------------------------------------
@pytest.mark.parametrize("n", range(0, 400, 7))
def test_metadata_and_limits(n):
    sc = generate(n)
    families = sc.family.split("+")
    assert sc.id == f"generator://index/{n}" and sc.split == split_of(n)
    assert sc.archetype in ARCHETYPES and set(families) <= set(FAMILIES) and 1 <= len(families) <= 4
    assert 2 <= len(sc.schema) <= 8 and 2 <= len(sc.workload) <= 5
    assert all(500 <= t.rows <= 30_000 for t in sc.schema)
    c = sc.constraints
    assert 0.3 <= c.storage_budget <= 1.5 and 2 <= c.max_columns <= 3
    assert len(sc.indexes) + 1 <= c.max_indexes <= 5
    if sc.difficulty == "easy":
        assert len(sc.schema) <= 3 and len(sc.workload) == 2 and len(families) == 1
    # the description states symptoms, never the fix
    assert "index" not in sc.description.lower() and sc.description


def test_every_difficulty_and_archetype_occurs():
    scs = [generate(n) for n in range(300)]
    assert {s.difficulty for s in scs} == {"easy", "medium", "hard"}
    assert {s.archetype for s in scs} == set(ARCHETYPES)
    assert {f for s in scs for f in s.family.split("+")} == set(FAMILIES)


@pytest.mark.parametrize("n", range(0, 300, 3))
def test_shipped_indexes_are_useless_to_reads(n):
    """A trap index may only touch columns no SELECT mentions (so it never hides the headroom)."""
    sc = generate(n)
    for ix in sc.indexes:
        assert any(q.kind == "dml" and ix.table in q.tables for q in sc.workload)  # it sits where writes go
        for q in sc.workload:
            if q.kind == "select":
                roles = statement_roles(q.sql, sc.tables).get(ix.table)
                assert roles is None or not set(ix.columns) & set(roles.used), (q.sql, ix)


# -- splits and the held-out rule -------------------------------------------------------------------------
@pytest.mark.parametrize("split,count", [("train", 60), ("validation", 30)])
def test_train_and_validation_never_see_held_out(split, count):
    for sid in sqlgym.list_scenarios("SQLIndex-v0", split=split, n=count):
        sc = load_scenario(sid)
        assert sc.split == split
        assert not holds_out(sc), (sid, sc.archetype, sc.family)


def test_test_split_mostly_holds_out():
    scs = [load_scenario(sid) for sid in sqlgym.list_scenarios("SQLIndex-v0", split="test", n=40)]
    assert all(s.split == "test" for s in scs)
    assert sum(holds_out(s) for s in scs) >= len(scs) / 2


def test_splits_partition_the_ids():
    lists = {s: [n_of(i) for i in sqlgym.list_scenarios("SQLIndex-v0", split=s, n=k)]
             for s, k in (("train", 70), ("validation", 15), ("test", 15))}
    covered = min(max(ns) for ns in lists.values())  # every index below this is in some list
    for n in range(covered):
        homes = [s for s, ns in lists.items() if n in ns]
        assert homes == [split_of(n)]


# -- headroom: the reference is clearly better than the baseline -------------------------------------------
def _headroom_ids() -> list[str]:
    ids = []
    for split, k in (("train", 3), ("validation", 2), ("test", 3)):
        ids += sqlgym.list_scenarios("SQLIndex-v0", split=split, n=k)
    return ids


@pytest.mark.parametrize("sid", _headroom_ids())
def test_reference_beats_baseline(sid):
    from sqlgym.db.runtime import runtime_for
    from sqlgym.db.sqlite import Database

    sc = load_scenario(sid)
    rt = runtime_for(sc)
    db = Database(rt.snapshot, sc)
    try:
        base = rt.baseline(db)
        ref = rt.reference.measurement
        assert ref.cost < 0.8 * base.cost, (sid, sc.family, ref.cost, base.cost)
        # the anchor statement (always first) reads a big table and its bindings find rows
        q = sc.workload[0]
        assert max(rt.snapshot.row_counts[t] for t in q.tables) >= 8_000
        hits = [db.query(q.sql, b, budget=None, mode="admin")[2] for b in rt.snapshot.visible[q.id]]
        assert any(hits), (sid, q.sql)
    finally:
        db.close()


# -- through Gymnasium ------------------------------------------------------------------------------------
def test_env_resets_and_steps_on_a_generated_scenario():
    env = gym.make("SQLIndex-v0", scenario="generator://index/3")
    try:
        obs, info = env.reset(seed=0)
        assert obs and info["scenario"] == "generator://index/3"
        assert info["reference_cost"] < info["baseline_cost"]
        for action in ({"action_type": "list_queries", "payload": {}},
                       {"action_type": "inspect_query", "payload": {"query_id": "q1"}}):
            obs, reward, terminated, truncated, info = env.step(json.dumps(action))
            assert info["action_valid"], obs
            assert not terminated and not truncated
    finally:
        env.close()
