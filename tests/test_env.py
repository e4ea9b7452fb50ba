"""SQLIndex-v0 as research code uses it: Gymnasium's contract, bad input, exploits, determinism."""

from __future__ import annotations

import json
import subprocess
import sys

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sqlgym  # noqa: F401  (registers the ids)


def act(kind, **payload):
    return json.dumps({"action_type": kind, "payload": payload})


def play(env, actions, seed=0):
    obs, info = env.reset(seed=seed)
    total, out = 0.0, []
    for a in actions:
        obs, r, term, trunc, info = env.step(a)
        total += r
        out.append((obs, r, info))
        if term or trunc:
            break
    return total, out


@pytest.fixture
def env(tiny):
    e = gym.make("SQLIndex-v0", scenario=tiny)
    yield e
    e.close()


NOOP = [act("submit_report", summary="nothing to do")]


def test_check_env_passes(env):
    check_env(env.unwrapped)


@pytest.mark.parametrize("sid", ["easy/point_lookup", "hard/finance_ledger", "generator://index/3"])
def test_check_env_on_curated_and_generated(sid):
    e = gym.make("SQLIndex-v0", scenario=sid)
    check_env(e.unwrapped)
    e.close()


def test_split_draws_scenarios_with_the_env_rng():
    e = gym.make("SQLIndex-v0", split="train", n=5)
    first = [e.reset(seed=s)[1]["scenario"] for s in range(6)]
    again = [e.reset(seed=s)[1]["scenario"] for s in range(6)]
    assert first == again and len(set(first)) > 1
    assert all(sid.startswith("generator://index/") for sid in first)


def test_info_keys_and_first_observation(env):
    obs, info = env.reset(seed=1)
    for key in ("scenario", "cost", "baseline_cost", "reference_cost", "performance", "gap_closed",
                "storage_bytes", "budget_bytes", "action_valid", "error", "reward_parts"):
        assert key in info
    assert "customers" in obs and "orders" in obs and "create_index" in obs
    assert info["performance"] == 0.0 and info["gap_closed"] == 0.0
    assert info["reference_cost"] < info["baseline_cost"]


BAD = [
    ("not JSON", "create an index please", "not valid JSON"),
    ("JSON but not an object", "[1, 2]", "JSON object"),
    ("unknown action type", act("drop_table", table="orders"), "unknown action_type"),
    ("unknown table", act("describe_table", table="order"), "unknown table"),
    ("unknown column", act("create_index", table="orders", columns=["customer"]), "unknown columns"),
    ("columns not a list", act("create_index", table="orders", columns="status"), "must be a list"),
    ("missing field", act("inspect_query"), "needs 'query_id'"),
    ("extra field", act("list_tables", verbose=True), "unknown payload fields"),
    ("unknown query", act("inspect_query", query_id="q9"), "unknown query_id"),
    ("syntax error in rewrite", act("rewrite_query", query_id="q1", new_sql="SELEC id FROM customers"), "rewrite"),
    ("injection through WHERE", act("create_index", table="orders", columns=["status"], where="1); DROP TABLE orders; --"), "WHERE"),
    ("function in partial index", act("create_index", table="orders", columns=["status"], where="random() > 0"), "WHERE"),
    ("reserved index name", act("create_index", table="orders", columns=["status"], name="sqlite_x"), "names"),
    ("drop unknown index", act("drop_index", name="nope"), "no index named"),
    ("too many columns", act("create_index", table="orders", columns=["status", "amount", "note", "id"]), "at most 3"),
]


@pytest.mark.parametrize("why,action,message", BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_an_observation_and_a_penalty(env, why, action, message):
    env.reset(seed=0)
    obs, r, term, trunc, info = env.step(action)
    assert info["action_valid"] is False, why
    assert message in obs and obs.startswith("Error:"), obs
    assert r < -0.01 and not term
    assert info["reward_parts"]["invalid"] < 0
    obs, r, *_ , info = env.step(act("list_tables"))
    assert info["action_valid"] is True, "the env keeps working"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(
    st.text(max_size=300),
    st.builds(lambda k, p: json.dumps({"action_type": k, "payload": p}),
              st.sampled_from(["create_index", "drop_index", "rewrite_query", "inspect_query", "describe_table",
                               "analyze_statistics", "submit_report", "bogus"]),
              st.dictionaries(st.sampled_from(["table", "columns", "name", "where", "query_id", "new_sql", "refresh", "summary"]),
                              st.one_of(st.text(max_size=40), st.lists(st.text(max_size=10), max_size=3), st.booleans(),
                                        st.integers(), st.none()), max_size=4)),
))
def test_random_actions_never_crash(env, action):
    env.reset(seed=0)
    obs, r, term, trunc, info = env.step(action)
    assert isinstance(obs, str) and env.observation_space.contains(obs)
    assert isinstance(r, float)


# -- exploits earn nothing ------------------------------------------------------------------------
EXPLOITS = [
    ("an index no query uses", [act("create_index", table="customers", columns=["country"])]),
    ("create/drop cycles", [act("create_index", table="customers", columns=["email"], name="a"), act("drop_index", name="a")] * 3),
    ("rewrite to an empty result", [act("rewrite_query", query_id="q1", new_sql="SELECT 1 WHERE 1=0")]),
    ("rewrite to a constant", [act("rewrite_query", query_id="q3", new_sql="SELECT 'done', 5000")]),
    ("constant over the same table", [act("rewrite_query", query_id="q1", new_sql="SELECT 1, 'us' FROM customers LIMIT 1")]),
    ("original plus LIMIT 1", [act("rewrite_query", query_id="q2", new_sql="SELECT o.id, o.amount FROM orders o WHERE o.customer_id = :c AND o.status = :s LIMIT 1")]),
    ("write sqlite_stat1", [act("rewrite_query", query_id="q1", new_sql="INSERT INTO sqlite_stat1 VALUES ('customers', NULL, '1')")]),
    ("ATTACH", [act("rewrite_query", query_id="q1", new_sql="ATTACH DATABASE 'x.db' AS x")]),
    ("PRAGMA write", [act("rewrite_query", query_id="q1", new_sql="PRAGMA query_only = 0")]),
    ("recursive CTE that never ends", [act("rewrite_query", query_id="q1", new_sql="WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) SELECT c.id, c.country FROM customers c, r WHERE c.email = :e")]),
    ("drop the existing index and add it back", [act("drop_index", name="ix_orders_note"), act("create_index", table="orders", columns=["note"])]),
]


@pytest.mark.parametrize("why,actions", EXPLOITS, ids=[e[0] for e in EXPLOITS])
def test_exploits_earn_no_more_than_doing_nothing(env, tmp_path, monkeypatch, why, actions):
    monkeypatch.chdir(tmp_path)
    noop, _ = play(env, NOOP)
    total, steps = play(env, actions + NOOP)
    assert total <= noop + 1e-12, f"{why}: {total} > {noop}"
    assert steps[-1][2]["gap_closed"] <= 1e-9, why
    assert list(tmp_path.iterdir()) == []
    total_after, _ = play(env, NOOP)
    assert total_after == noop, "the env keeps working"


def test_unique_index_that_breaks_the_workload_writes_is_refused(tiny):
    import copy

    from sqlgym.scenarios.spec import scenario_from_dict
    from tests.conftest import TINY

    d = copy.deepcopy(TINY)
    d["id"] = "test/unique"
    d["queries"].append({"id": "w2", "sql": "INSERT INTO customers(email, country) VALUES (:e, 'us')",
                         "params": {"e": {"column": "customers.email"}}})
    e = gym.make("SQLIndex-v0", scenario=scenario_from_dict(d))
    e.reset(seed=0)
    obs, r, term, trunc, info = e.step(act("create_index", table="customers", columns=["email"], unique=True))
    assert not info["action_valid"] and "UNIQUE" in obs and info["n_indexes"] == 1
    obs, r, term, trunc, info = e.step(act("submit_report"))
    assert term and info["action_valid"]


def test_create_drop_cycle_shaping_is_exactly_zero(env):
    cycle = [act("create_index", table="customers", columns=["email"], name="a"), act("drop_index", name="a")]
    _, steps = play(env, cycle * 2)
    assert sum(s[2]["reward_parts"]["shaping"] for s in steps) == 0.0
    assert steps[0][1] > 0, "the useful index is rewarded while it exists"


def test_good_index_is_rewarded_and_return_is_the_hidden_gap(env):
    total, steps = play(env, [act("create_index", table="customers", columns=["email"]), act("submit_report", summary="")])
    info = steps[-1][2]
    assert info["performance"] > 0 and info["gap_closed"] > 0
    assert total == pytest.approx(info["reward_parts"]["terminal"] - 0.02 + 0.0, abs=1e-9)
    assert info["reward_parts"]["terminal"] == pytest.approx(min(1.5, info["hidden_gap_closed"]))


def test_equivalent_rewrite_is_accepted(env):
    same = "SELECT c.id, c.country FROM customers AS c WHERE c.email = :e"
    _, steps = play(env, [act("rewrite_query", query_id="q1", new_sql=same)])
    assert steps[0][2]["action_valid"], steps[0][0]


def test_ordered_query_rewrite_must_keep_order(env):
    reversed_order = "SELECT status, COUNT(*) FROM orders WHERE amount > :a GROUP BY status ORDER BY status DESC"
    _, steps = play(env, [act("rewrite_query", query_id="q3", new_sql=reversed_order)])
    assert not steps[0][2]["action_valid"]


def test_step_limit_truncates_and_pays_the_terminal_term(tiny):
    e = gym.make("SQLIndex-v0", scenario=tiny)
    e.reset(seed=0)
    for _ in range(tiny.max_steps):
        obs, r, term, trunc, info = e.step(act("list_tables"))
    assert trunc and not term and "terminal" in info["reward_parts"] and "hidden_gap_closed" in info


def test_unknown_scenario_says_did_you_mean():
    with pytest.raises(sqlgym.ScenarioNotFound, match="Did you mean"):
        gym.make("SQLIndex-v0", scenario="easy/point_lookpu")


def test_render_ansi(tiny):
    e = gym.make("SQLIndex-v0", scenario=tiny, render_mode="ansi")
    e.reset(seed=0)
    assert "step 0/12" in e.render()


SCRIPT = """
import json, sys, gymnasium as gym, sqlgym
env = gym.make("SQLIndex-v0", scenario=sys.argv[1])
acts = json.loads(sys.argv[2])
obs, info = env.reset(seed=3)
out = [[obs, info]]
for a in acts:
    obs, r, term, trunc, info = env.step(a)
    out.append([obs, r, term, trunc, info])
print(json.dumps(out, sort_keys=True))
"""


def test_same_seed_same_trajectory_in_another_process():
    acts = [act("list_queries"), act("inspect_query", query_id="find_by_email"),
            act("create_index", table="customers", columns=["email"]), act("analyze_indexes"), "bad json",
            act("submit_report", summary="ok")]
    runs = [subprocess.run([sys.executable, "-c", SCRIPT, "easy/point_lookup", json.dumps(acts)],
                           capture_output=True, text=True, check=True).stdout for _ in range(2)]
    assert runs[0] == runs[1]
    here = gym.make("SQLIndex-v0", scenario="easy/point_lookup")
    obs, info = here.reset(seed=3)
    first = json.loads(runs[0])
    assert first[0][0] == obs
    rewards = [here.step(a)[1] for a in acts]
    assert rewards == [s[1] for s in first[1:]]
