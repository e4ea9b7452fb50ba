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
