"""SQLIndexDiscrete-v0: masks, the same rewards as SQLIndex-v0, determinism, and vectorisation."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import sqlgym  # noqa: F401  (registers the ids)

SID = "easy/point_lookup"


def _random_episode(env, seed: int, rng_seed: int = 0):
    rng = np.random.default_rng(rng_seed)
    obs, info = env.reset(seed=seed)
    out = [hashlib.sha256(obs.tobytes()).hexdigest()]
    while True:
        a = int(rng.choice(np.flatnonzero(info["action_mask"])))
        obs, r, term, trunc, info = env.step(a)
        out.append((a, r, hashlib.sha256(obs.tobytes()).hexdigest()))
        if term or trunc:
            return out


def test_check_env_passes():
    env = gym.make("SQLIndexDiscrete-v0", scenario="hard/shared_index_budget")
    check_env(env.unwrapped)
    check_env(env)


def test_masks_padding_duplicates_limits_and_empty_slots():
    env = gym.make("SQLIndexDiscrete-v0", scenario="hard/shared_index_budget").unwrapped
    obs, info = env.reset(seed=0)
    mask = info["action_mask"]
    assert np.array_equal(mask, env.action_masks())
    k, d = env.k, env.d
    n = len(env.candidates)
    assert not mask[n:k].any(), "padding is masked"
    assert mask[k + d], "stop is always allowed"
    assert not mask[k:k + d].any(), "no index exists yet: every drop slot is empty"
    first = int(np.flatnonzero(mask[:k])[0])
    obs, r, term, trunc, info = env.step(first)
    assert info["action_valid"] and not info["action_mask"][first], "a created candidate is masked"
    assert info["action_mask"][k], "the new index sits in a drop slot"
    limit = env.inner.scenario.constraints.max_indexes
    while info["n_indexes"] < limit and info["action_mask"][:k].any():
        obs, r, term, trunc, info = env.step(int(np.flatnonzero(info["action_mask"][:k])[0]))
        assert info["action_valid"], info["error"]
        assert info["storage_bytes"] <= info["budget_bytes"]
    if info["n_indexes"] >= limit:
        assert not info["action_mask"][:k].any(), "over the index limit every create is masked"
    obs, r, term, trunc, info = env.step(k)  # drop slot 0
    assert info["action_valid"], info["error"]


def test_the_same_rewards_as_sqlindex_for_the_same_actions():
    disc = gym.make("SQLIndexDiscrete-v0", scenario=SID).unwrapped
    text = gym.make("SQLIndex-v0", scenario=SID)
    _, info = disc.reset(seed=3)
    text.reset(seed=3)
    for a in [int(np.flatnonzero(info["action_mask"][: disc.k])[0]), disc.k, disc.k + disc.d]:
        act = json.loads(disc._as_json(a))
        _, r1, t1, _, i1 = disc.step(a)
        _, r2, t2, _, i2 = text.step(json.dumps(act))
        assert (r1, t1, i1["reward_parts"], i1["cost"]) == (r2, t2, i2["reward_parts"], i2["cost"])


def test_same_seed_same_trajectory_in_another_process():
    env = gym.make("SQLIndexDiscrete-v0", split="train", n=6)
    here = _random_episode(env, seed=11)
    code = ("import json, gymnasium as gym, sqlgym; from tests.test_discrete import _random_episode; "
            "print(json.dumps(_random_episode(gym.make('SQLIndexDiscrete-v0', split='train', n=6), seed=11)))")
    there = json.loads(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    assert json.loads(json.dumps(here)) == there


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_gymnasium_vector_envs(mode):
    venv = gym.make_vec("SQLIndexDiscrete-v0", num_envs=2, vectorization_mode=mode, scenario=SID)
    obs, info = venv.reset(seed=0)
    assert obs.shape == (2, venv.single_observation_space.shape[0])
    obs, r, term, trunc, info = venv.step(np.array([venv.single_action_space.n - 1] * 2))  # stop
    assert term.all() and r.shape == (2,)
    venv.close()


def test_sb3_subproc_vec_env():
    pytest.importorskip("sb3_contrib")
    from sqlgym.integrations.sb3 import make_vec_env

    venv = make_vec_env(split="train", n=4, num_envs=2, subprocess=True, seed=0)
    obs = venv.reset()
    masks = np.stack(venv.env_method("action_masks"))
    assert obs.shape[0] == 2 and masks.shape == (2, venv.action_space.n)
    venv.step(np.array([int(np.flatnonzero(m)[0]) for m in masks]))
    venv.close()


def test_ppo_trains_a_few_steps_and_the_harness_scores_it(tmp_path):
    pytest.importorskip("sb3_contrib")
    from sqlgym.eval import harness
    from sqlgym.train.__main__ import main

    out = tmp_path / "ppo"
    rc = main(["ppo", "--scenarios", "4", "--total-timesteps", "128", "--n-steps", "64", "--batch-size", "32",
               "--n-epochs", "1", "--num-envs", "1", "--eval-every", "64", "--eval-episodes", "2",
               "--test-episodes", "2", "--baselines", "noop", "--output-dir", str(out)])
    assert rc == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert len(metrics["curve"]) >= 2 and set(metrics["test"]) == {"ppo", "noop"}
    assert (out / "best_model.zip").is_file() and (out / "learning_curve.png").is_file()
    res = harness.run(f"ppo:{out}", "test", 2, env_id="SQLIndexDiscrete-v0")
    assert res["summary"]["mean_gap_closed"] == metrics["test"]["ppo"]["mean_gap_closed"]
    assert harness.validate(res) == []


def test_ppo_settings_are_checked_first():
    from sqlgym.train.__main__ import main

    assert main(["ppo", "--eval-split", "nope"]) == 2
    assert main(["ppo", "--n-steps", "1"]) == 2
    assert main(["ppo", "--baselines", "noop,heuristik"]) == 2
