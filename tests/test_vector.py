"""``gym.make_vec`` for every env id, sync and async: each sub-env plays exactly what the env plays alone
(Text spaces batch as tuples of strings, SQLIndexDiscrete-v0 as arrays), and an ended episode is reset
on the next step (Gymnasium's default next-step autoreset)."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest

import sqlgym
from sqlgym.tasks import TASKS

LIST = json.dumps({"action_type": "list_queries", "payload": {}})
REPORT = json.dumps({"action_type": "submit_report", "payload": {"summary": "done"}})
INDEX = json.dumps({"action_type": "create_index", "payload": {"table": "customers", "columns": ["email"]}})
DESCRIBE = json.dumps({"action_type": "describe", "payload": {"table": "pets"}})
ANSWER = json.dumps({"action_type": "answer", "payload": {"sql": "SELECT COUNT(*) FROM customers"}})
# env id -> (constructor kwargs, per step the two sub-envs' actions; the episodes end at different steps)
CASES = {
    "SQLIndex-v0": ({"scenario": "easy/point_lookup"}, [(LIST, INDEX), (REPORT, "bad"), (LIST, REPORT), (LIST, LIST)]),
    "SQLIndexDiscrete-v0": ({"scenario": "easy/point_lookup"}, [(0, 1), (72, 3), (2, 72), (1, 0)]),
    "Text2SQL-v0": ({"question": "pet_shop/001"}, [(DESCRIBE, ANSWER), (ANSWER, DESCRIBE), (DESCRIBE, ANSWER)]),
    "Text2SQLDirect-v0": ({"question": "pet_shop/001"}, [("SELECT COUNT(*) FROM customers", "SELECT 1"),
                                                         ("SELECT 2", "SELECT COUNT(*) FROM customers")]),
}


def test_every_env_id_has_a_case():
    assert set(CASES) == set(TASKS) == set(sqlgym.ENV_IDS)


def sub(info: dict, i: int) -> dict:
    """Sub-env ``i``'s info out of a batched info dict (the keys it set, with their values)."""
    out = {}
    for k, v in info.items():
        if k.startswith("_"):
            continue
        if isinstance(v, dict):
            out[k] = sub(v, i)
        elif info[f"_{k}"][i]:
            out[k] = v[i]
    return out


def alike(a, b) -> bool:
    """Equal values, a batched numpy scalar standing for the Python value it holds."""
    if isinstance(a, dict) or isinstance(b, dict):
        return isinstance(a, dict) and isinstance(b, dict) and set(a) == set(b) and all(alike(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(np.asarray(a), np.asarray(b))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(alike(x, y) for x, y in zip(a, b))
    return a == b or (a != a and b != b)


def batch(space, actions):
    return np.array(actions) if isinstance(space, gym.spaces.MultiDiscrete) else tuple(actions)


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("env_id", list(CASES))
def test_each_sub_env_plays_what_the_env_plays_alone(env_id, mode):
    kwargs, steps = CASES[env_id]
    vec = gym.make_vec(env_id, num_envs=2, vectorization_mode=mode, **kwargs)
    alone = [gym.make(env_id, **kwargs) for _ in range(2)]
    try:
        obs, info = vec.reset(seed=[10, 11])
        first = [env.reset(seed=10 + i) for i, env in enumerate(alone)]
        for i in range(2):
            assert alike(obs[i], first[i][0]) and alike(sub(info, i), first[i][1])
        done = [False, False]
        resets = 0
        for actions in steps:
            obs, reward, term, trunc, info = vec.step(batch(vec.action_space, actions))
            for i, env in enumerate(alone):
                if done[i]:  # next-step autoreset: this step reset the sub-env and ignored its action
                    o, inf = env.reset()
                    want = (o, 0.0, False, False, inf)
                    resets += 1
                else:
                    want = env.step(actions[i])
                got = (obs[i], reward[i], term[i], trunc[i], sub(info, i))
                assert alike(got, want), (env_id, mode, i, actions)
                done[i] = bool(want[2] or want[3])
        assert resets >= 1  # the cases end an episode before the last step
    finally:
        vec.close()
        for env in alone:
            env.close()


def test_a_vector_env_batches_the_discrete_masks():
    vec = gym.make_vec("SQLIndexDiscrete-v0", num_envs=3, vectorization_mode="sync", scenario="easy/point_lookup")
    _, info = vec.reset(seed=0)
    assert info["action_mask"].shape == (3, vec.single_action_space.n) and info["action_mask"].dtype == bool
    masks = np.stack(vec.call("action_masks"))
    assert np.array_equal(masks, info["action_mask"])
    vec.close()


@pytest.mark.parametrize("vector_kwargs", [{"copy": False}, {"shared_memory": False}], ids=["no-copy", "pipes"])
def test_async_text_observations_are_this_steps(vector_kwargs):
    """Gymnasium reads a Text space's shared memory once; sqlgym's TextSpace is read at every step."""
    vec = gym.make_vec("Text2SQL-v0", num_envs=2, vectorization_mode="async", vector_kwargs=vector_kwargs,
                       question="pet_shop/001")
    try:
        obs, _ = vec.reset(seed=0)
        assert all(o.startswith("Database: pet_shop") for o in obs)
        obs, *_ = vec.step((DESCRIBE, ANSWER))
        assert obs[0].startswith("Table pets") and obs[1].startswith("Answer submitted")
        assert list(obs) == [obs[0], obs[1]] and len(obs) == 2
    finally:
        vec.close()
