"""SQLIndexDiscrete-v0 for Stable-Baselines3: vectorised envs whose masks MaskablePPO reads.

    venv = make_vec_env(split="train", num_envs=4, subprocess=True)
    model = sb3_contrib.MaskablePPO(CandidatePolicy, venv)   # sqlgym.agents.ppo_net; "MlpPolicy" works too

Each env draws its scenarios from ``split`` with its own seed; ``Monitor`` records episode returns.
sb3-contrib finds the masks through the env's ``action_masks()`` method (``VecEnv.env_method``).
"""

from __future__ import annotations

from typing import Any

ENV_ID = "SQLIndexDiscrete-v0"


def _factory(rank: int, seed: int, kwargs: dict[str, Any]):
    def make():
        import gymnasium as gym
        from stable_baselines3.common.monitor import Monitor

        import sqlgym  # noqa: F401  (registers the ids in a fresh subprocess)

        env = Monitor(gym.make(ENV_ID, **kwargs))
        env.reset(seed=seed + rank)
        return env

    return make


def make_vec_env(split: str | None = "train", n: int | None = None, num_envs: int = 4, subprocess: bool = False,
                 seed: int = 0, scenario: str | None = None, **env_kwargs: Any):
    """A ``DummyVecEnv`` (or ``SubprocVecEnv``) of ``num_envs`` SQLIndexDiscrete-v0 envs."""
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    kwargs = dict(env_kwargs, **({"scenario": scenario} if scenario else {"split": split, "n": n}))
    fns = [_factory(i, seed, kwargs) for i in range(num_envs)]
    if subprocess and num_envs > 1:
        return SubprocVecEnv(fns, start_method="spawn")
    return DummyVecEnv(fns)
