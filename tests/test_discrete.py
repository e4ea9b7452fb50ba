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


def test_a_drop_can_be_undone_but_create_drop_cycles_end():
    env = gym.make("SQLIndexDiscrete-v0", scenario="hard/shared_index_budget").unwrapped
    _, info = env.reset(seed=0)
    first = int(np.flatnonzero(info["action_mask"][: env.k])[0])
    for _ in range(2):
        assert info["action_mask"][first], "a drop can be undone"
        _, _, _, _, info = env.step(first)
        assert info["action_valid"] and info["n_indexes"] == 1 and info["action_mask"][env.k]
        _, _, _, _, info = env.step(env.k)  # drop it
        assert info["action_valid"] and info["n_indexes"] == 0
    assert not info["action_mask"][first], "dropped twice: no third create/drop cycle"
    _, info = env.reset(seed=0)
    assert info["action_mask"][first], "a new episode forgets the drops"


def test_warm_start_begins_from_some_of_the_reference_indexes_and_keeps_the_baseline():
    cold = gym.make("SQLIndexDiscrete-v0", scenario="hard/shared_index_budget").unwrapped
    warm = gym.make("SQLIndexDiscrete-v0", scenario="hard/shared_index_budget", warm_start=1.0).unwrapped
    _, c = cold.reset(seed=0)
    _, w = warm.reset(seed=0)
    assert c["n_indexes"] == 0 and w["n_indexes"] >= 1, "the warm episode starts with indexes in place"
    assert w["baseline_cost"] == c["baseline_cost"] and w["cost"] < c["cost"], "they help; the baseline is the scenario's"
    assert w["action_mask"][warm.k: warm.k + w["n_indexes"]].all(), "and they can be dropped"
    _, again = warm.reset(seed=0)
    assert (again["cost"], again["n_indexes"]) == (w["cost"], w["n_indexes"]), "seeded"
    with pytest.raises(sqlgym.ConfigError, match="warm_start"):
        gym.make("SQLIndexDiscrete-v0", scenario=SID, warm_start=2)


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
    by = res["summary"]["by_archetype"]
    assert by and set(by) <= {"star", "chain", "snowflake"} and sum(b["episodes"] for b in by.values()) == 2
    assert harness.validate(res) == []


def test_candidate_policy_scores_a_candidate_the_same_in_any_slot(tmp_path):
    pytest.importorskip("sb3_contrib")
    import torch
    from sb3_contrib import MaskablePPO

    from sqlgym.agents.ppo_net import NC, CandidatePolicy
    from sqlgym.integrations.sb3 import make_vec_env

    venv = make_vec_env(scenario="hard/shared_index_budget", num_envs=1)
    model = MaskablePPO(CandidatePolicy, venv, seed=0, device="cpu")
    obs = torch.as_tensor(venv.reset())
    k = model.policy.k
    perm = torch.randperm(k, generator=torch.Generator().manual_seed(0))
    shuffled = obs.clone()
    shuffled[:, : k * NC] = obs[:, : k * NC].reshape(1, k, NC)[:, perm].reshape(1, -1)
    with torch.no_grad():
        for p in model.policy.mlp_extractor.parameters():  # away from the near-zero initial logits
            p.add_(torch.randn_like(p) * 0.3)
        logits = model.policy.mlp_extractor.forward_actor(obs)
        moved = model.policy.mlp_extractor.forward_actor(shuffled)
        value = model.policy.predict_values(obs)
        assert torch.allclose(moved[:, :k], logits[:, :k][:, perm], atol=1e-5)
        assert torch.allclose(moved[:, k:], logits[:, k:], atol=1e-5)
        assert torch.allclose(model.policy.predict_values(shuffled), value, atol=1e-5)
    model.save(tmp_path / "m.zip")
    again = MaskablePPO.load(tmp_path / "m.zip", device="cpu")
    with torch.no_grad():
        assert torch.allclose(again.policy.mlp_extractor.forward_actor(obs), logits)
    with pytest.raises(ValueError, match="max_candidates"):
        MaskablePPO(CandidatePolicy, venv, policy_kwargs={"k": 32})
    venv.close()


def test_ppo_settings_are_checked_first():
    from sqlgym.train.__main__ import main

    assert main(["ppo", "--eval-split", "nope"]) == 2
    assert main(["ppo", "--n-steps", "1"]) == 2
    assert main(["ppo", "--baselines", "noop,heuristik"]) == 2
    assert main(["ppo", "--policy", "cnn"]) == 2
