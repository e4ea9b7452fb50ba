"""Whatever an agent sends, step() returns an observation in the space: a property over arbitrary values,
on every registered environment."""

from __future__ import annotations

import json

import gymnasium as gym
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sqlgym  # noqa: F401  (registers the ids)
from sqlgym.tasks import TASKS

ITEMS = {"scenario": "medium/nonsargable_rewrite", "question": "pet_shop/001"}

scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=40))
keys = st.one_of(st.text(max_size=12), st.integers(), st.booleans(), st.none())
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                        st.dictionaries(keys, inner, max_size=4)), max_leaves=12)
ACTION_NAMES = sorted({n for t in TASKS for n in ("list_tables", "create_index", "rewrite_query", "answer", "query",
                                                  "describe", "drop_index", "inspect_query", "submit_report")})
shaped = st.builds(lambda k, p: {"action_type": k, "payload": p}, st.sampled_from(ACTION_NAMES),
                   st.dictionaries(st.sampled_from(["table", "columns", "sql", "name", "where", "query_id", "new_sql",
                                                    "unique", "n", "refresh", "summary"]), values, max_size=4))
actions = st.one_of(values, shaped, shaped.map(json.dumps), st.text(max_size=200),
                    st.dictionaries(keys, values, max_size=5), st.binary(max_size=20))


def _env(env_id):
    t = TASKS[env_id]
    return gym.make(env_id, **t.env_kwargs(ITEMS[t.item]))


@pytest.mark.parametrize("env_id", sorted(TASKS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(batch=st.lists(actions, min_size=1, max_size=6))
def test_step_never_raises_on_any_action_value(env_id, batch):
    env = _env(env_id)
    obs, info = env.reset(seed=0)
    for a in batch:
        obs, reward, terminated, truncated, info = env.unwrapped.step(a)
        assert env.observation_space.contains(obs)
        assert isinstance(reward, float)
        if terminated or truncated:
            obs, info = env.reset(seed=0)
    env.close()


@pytest.mark.parametrize("env_id", sorted(TASKS))
def test_deeply_nested_input_is_an_observation(env_id):
    env = _env(env_id)
    env.reset(seed=0)
    deep = "[" * 100_000 + "]" * 100_000
    nested_sql = "SELECT " + "abs(" * 400 + "1" + ")" * 400
    where = "(" * 60 + "status = 'x'" + ")" * 60
    cases = [deep, {"action_type": "query", "payload": {"sql": nested_sql}},
             {"action_type": "answer", "payload": {"sql": nested_sql}},
             {"action_type": "create_index", "payload": {"table": "orders", "columns": ["customer_id"], "where": where}},
             {"action_type": "rewrite_query", "payload": {"query_id": "q1", "new_sql": nested_sql}},
             {1: 2, "action_type": "query"}, {None: None}]
    for a in cases:
        obs, *_ = env.unwrapped.step(a)
        assert env.observation_space.contains(obs)
        env.reset(seed=0)


def test_a_rejected_rewrite_never_names_a_hidden_binding():
    env = gym.make("SQLIndex-v0", scenario="medium/nonsargable_rewrite")
    env.reset(seed=0)
    snap, sc = env.unwrapped.rt.snapshot, env.unwrapped.scenario
    q = next(q for q in sc.workload if q.kind == "select" and q.params)
    param = sorted(q.params)[0]
    seen = sorted({str(b[param]) for b in snap.visible[q.id]})
    hidden = {str(b[param]) for b in snap.hidden[q.id]} - set(seen)
    assert hidden, "the scenario should have hidden values the agent has not seen"
    listed = ", ".join("'" + v.replace("'", "''") + "'" for v in seen)
    sql = q.sql.replace("GROUP BY", f"AND :{param} IN ({listed}) GROUP BY") if "GROUP BY" in q.sql else \
        f"{q.sql} AND :{param} IN ({listed})"
    obs, *_, info = env.step(json.dumps({"action_type": "rewrite_query", "payload": {"query_id": q.id, "new_sql": sql}}))
    assert not info["action_valid"] and "a hidden binding" in obs
    assert not any(v in obs for v in hidden), obs


def _episode_with_rewrites() -> list:
    env = gym.make("SQLIndex-v0", scenario="medium/nonsargable_rewrite")
    env.reset(seed=5)
    sc = env.unwrapped.scenario
    q = next(q for q in sc.workload if q.kind == "select" and "GROUP BY" in q.sql)
    acts = [
        {"action_type": "rewrite_query", "payload": {"query_id": q.id, "new_sql": q.sql.replace("GROUP BY", "AND random() IS NOT NULL GROUP BY")}},
        {"action_type": "rewrite_query", "payload": {"query_id": q.id, "new_sql": q.sql.replace("GROUP BY", "AND strftime('%s', 'now') > '0' GROUP BY")}},
        {"action_type": "create_index", "payload": {"table": sc.schema[0].name, "columns": [sc.schema[0].columns[1].name]}},
        {"action_type": "rewrite_query", "payload": {"query_id": q.id, "new_sql": q.sql.replace("SELECT", "SELECT /* same */", 1)}},
        {"action_type": "submit_report", "payload": {"summary": "done"}},
    ]
    out = []
    for a in acts:
        obs, r, term, trunc, info = env.step(json.dumps(a))
        out.append([r, info["action_valid"], info["cost"], info.get("hidden_cost")])
    return out


def test_rewrites_with_random_or_the_clock_are_refused_and_rewards_repeat_in_another_process():
    import subprocess
    import sys

    here = _episode_with_rewrites()
    assert [valid for _, valid, _, _ in here][:2] == [False, False], "random() and 'now' are refused"
    code = "import json; from tests.test_robustness import _episode_with_rewrites as f; print(json.dumps(f()))"
    there = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    assert here == there


GUARD_CASES = [  # (sql, refused?, why)
    ("SELECT name FROM stores WHERE id NOT IN (SELECT o.store_id FROM orders o "
     "WHERE strftime('%Y', o.order_date) = '2024')", False, "a base table's column inside a subquery is stored data"),
    ("SELECT date(order_date) FROM orders", False, "a stored date"),
    ("SELECT date(o.order_date) FROM orders o JOIN (SELECT 1 AS k) s ON 1", False, "qualified by a base table"),
    ("WITH t(x) AS (SELECT 'now') SELECT date(x) FROM t", True, "a CTE can compute 'now'"),
    ("SELECT date(t.x) FROM (SELECT 'now' AS x) t", True, "a subquery in FROM can compute 'now'"),
    ("SELECT date(k) FROM orders o JOIN (SELECT 'now' AS k) s ON 1", True, "a bare name may be the subquery's"),
    ("SELECT date('now')", True, "the clock"),
]


@pytest.mark.parametrize("sql, refused, why", GUARD_CASES, ids=[c[2] for c in GUARD_CASES])
def test_nondeterminism_guard(sql, refused, why):
    from sqlgym.db.guards import nondeterministic_reason

    assert (nondeterministic_reason(sql) is not None) == refused, why


def test_the_gold_policy_is_right_on_every_test_question():
    from sqlgym.eval import harness

    res = harness.run("gold", "test", env_id="Text2SQL-v0")
    assert res["summary"]["ex"] == 1.0, [r["scenario"] for r in res["records"] if not r["final"]["correct"]]
