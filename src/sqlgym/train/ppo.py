"""``python -m sqlgym.train ppo``: sb3-contrib's MaskablePPO on SQLIndexDiscrete-v0.

Vectorised envs draw scenarios from the train split; every ``eval_every`` environment steps the policy
plays a fixed list of validation scenarios (deterministic actions, the eval harness's seeds) and the
best model by validation gap closed is kept as ``best_model.zip``. At the end the best model and the
baselines are scored on the test split through the eval harness, and ``metrics.json`` and
``learning_curve.png`` are written to the output directory.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
import typing
from dataclasses import dataclass, field
from typing import Any

from sqlgym.errors import ConfigError, unknown_name

ENV_ID = "SQLIndexDiscrete-v0"
BASELINES = ("noop", "random", "heuristic", "greedy")
POLICIES = ("candidate", "mlp")


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def make_ppo_config(file_values: dict[str, Any], flag_values: dict[str, Any]) -> PPOConfig:
    """Defaults, then the YAML file's keys (- or _), then the flags given; validated."""
    names = {f.name for f in dataclasses.fields(PPOConfig)}
    values: dict[str, Any] = {}
    for key, value in file_values.items():
        name = str(key).replace("-", "_")
        if name not in names:
            raise unknown_name("ppo setting in --config", str(key), sorted(names))
        values[name] = value
    values.update({k: v for k, v in flag_values.items() if v is not None and k in names})
    return PPOConfig(**values).validate()


def _setting(default: Any, help: str, low: float | None = None) -> Any:
    return field(default=default, metadata={"help": help, "low": low})


@dataclass(frozen=True)
class PPOConfig:
    """Every setting of ``python -m sqlgym.train ppo`` (each field is a flag and a ``--config`` key)."""

    split: str = _setting("train", "scenario split the training envs draw from")
    scenarios: int = _setting(128, "training scenarios: the first N of the split (their references are "
                                   "computed once and cached on disk)", low=1)
    total_timesteps: int = _setting(60_000, "environment steps at most", low=1)
    time_limit_s: float = _setting(1800.0, "wall-clock limit of the training loop in seconds", low=1)
    warm_start: float = _setting(0.5, "share of training episodes that start with some of the reference's indexes "
                                      "(and sometimes a redundant prefix) in place: SQLIndexDiscrete-v0's warm_start", low=0)
    num_envs: int = _setting(2, "vectorised envs (subprocesses when more than one)", low=1)
    learning_rate: float = _setting(3e-4, "Adam learning rate", low=0)
    n_steps: int = _setting(256, "steps per env per rollout", low=2)
    batch_size: int = _setting(128, "minibatch size", low=2)
    n_epochs: int = _setting(6, "optimisation epochs per rollout", low=1)
    gamma: float = _setting(0.99, "discount", low=0)
    ent_coef: float = _setting(0.01, "entropy bonus", low=0)
    policy: str = _setting("candidate", "network: candidate (one shared MLP scores every candidate and drop slot, "
                                        "sqlgym.agents.ppo_net) or mlp (SB3's MlpPolicy over the flat observation)")
    hidden: int = _setting(64, "units in each hidden layer", low=1)
    lr_schedule: str = _setting("linear", "learning rate over training: linear (down to 0 at --total-timesteps) or constant")
    eval_split: str = _setting("validation", "split scored during training (the best checkpoint is kept by it)")
    eval_episodes: int = _setting(40, "validation scenarios scored at each evaluation", low=1)
    eval_every: int = _setting(4096, "environment steps between validation scores", low=1)
    test_split: str = _setting("test", "held-out split scored at the end, with the baselines")
    test_episodes: int = _setting(200, "test episodes (the first N test scenarios, seeds 0..N-1; 0: none)", low=0)
    baselines: str = _setting(",".join(BASELINES), "baselines scored on the test split beside the model")
    output_dir: str = _setting("runs/ppo", "where best_model.zip, metrics.json and learning_curve.png go")
    seed: int = _setting(0, "seed of the envs and the policy", low=0)

    def validate(self) -> PPOConfig:
        """Raise a ConfigError naming the flag for the first bad setting (before anything is built)."""
        from sqlgym.tasks import task

        hints = typing.get_type_hints(PPOConfig)
        for f in dataclasses.fields(self):
            value, want, low = getattr(self, f.name), hints[f.name], f.metadata["low"]
            ok = isinstance(value, (int, float) if want is float else want) and not isinstance(value, bool)
            if not ok:
                raise ConfigError(f"{_flag(f.name)} must be {want.__name__}, not {value!r}")
            if low is not None and value < low:
                raise ConfigError(f"{_flag(f.name)} must be at least {low}, not {value}")
        splits = task(ENV_ID).splits
        if self.warm_start > 1:
            raise ConfigError(f"--warm-start is a probability in [0, 1], not {self.warm_start}")
        if self.policy not in POLICIES:
            raise unknown_name("network for --policy", self.policy, list(POLICIES))
        if self.lr_schedule not in ("linear", "constant"):
            raise unknown_name("schedule for --lr-schedule", self.lr_schedule, ["linear", "constant"])
        for name in ("split", "eval_split", "test_split"):
            if getattr(self, name) not in splits:
                raise unknown_name(f"split for --{name.replace('_', '-')}", getattr(self, name), list(splits))
        for b in self.baseline_names:
            if b not in BASELINES:
                raise unknown_name("baseline for --baselines", b, list(BASELINES))
        out = self.output_dir
        if os.path.exists(out) and not os.path.isdir(out):
            raise ConfigError(f"--output-dir {out!r} is a file; give a directory (it is created)")
        return self

    @property
    def baseline_names(self) -> list[str]:
        return [b.strip() for b in self.baselines.split(",") if b.strip()]


def _validate(model, ids: list[str], seed: int) -> dict[str, float]:
    """The model's deterministic play on ``ids`` (the eval harness's seeds): gap closed (mean, and mean with
    each episode clipped to [-1, 1], which one scenario whose reference barely beats its baseline cannot
    swing), hidden gap closed, points and the share of regressions."""
    import gymnasium as gym
    import numpy as np

    gaps, hidden, points = [], [], []
    env = gym.make(ENV_ID, scenario=ids[0])
    for i, sid in enumerate(ids):
        obs, info = env.reset(seed=seed + i, options={"scenario": sid})
        while True:
            a, _ = model.predict(obs, action_masks=np.asarray(info["action_mask"]), deterministic=True)
            obs, _, term, trunc, info = env.step(int(a))
            if term or trunc:
                break
        gaps.append(info["gap_closed"])
        hidden.append(info["hidden_gap_closed"])
        points.append(info["performance"])
    env.close()
    return {"validation_gap_closed": float(np.mean(gaps)),
            "validation_gap_closed_clipped": float(np.mean(np.clip(gaps, -1.0, 1.0))),
            "validation_hidden_gap_closed": float(np.mean(hidden)),
            "validation_points": float(np.mean(points)),
            "validation_regressions": float(np.mean(np.asarray(points) < -1e-9))}


def _callback(cfg: PPOConfig, val_ids: list[str], out: str, curve: list[dict[str, Any]], t0: float):
    from stable_baselines3.common.callbacks import BaseCallback

    class ValidationCallback(BaseCallback):
        """Scores the policy on the validation scenarios every ``eval_every`` env steps; keeps the best
        by clipped gap closed."""

        def __init__(self):
            super().__init__()
            self.best = -math.inf
            self.next_eval = 0

        def _on_step(self) -> bool:
            if self.num_timesteps >= self.next_eval:
                self.next_eval = self.num_timesteps + cfg.eval_every
                self.evaluate()
            return time.perf_counter() - t0 < cfg.time_limit_s

        def _on_training_end(self) -> None:
            self.evaluate()

        def evaluate(self) -> None:
            v = _validate(self.model, val_ids, cfg.seed)
            curve.append({"timesteps": int(self.num_timesteps), **v, "seconds": round(time.perf_counter() - t0, 1)})
            print(f"  {self.num_timesteps:>7} steps  validation gap closed {v['validation_gap_closed_clipped']:.3f} "
                  f"clipped ({v['validation_gap_closed']:.3f} raw, hidden {v['validation_hidden_gap_closed']:.3f}), "
                  f"{v['validation_points']:+.1f} points, {v['validation_regressions']:.0%} regressions  "
                  f"{time.perf_counter() - t0:.0f} s", flush=True)
            if v["validation_gap_closed_clipped"] > self.best:
                self.best = v["validation_gap_closed_clipped"]
                self.model.save(os.path.join(out, "best_model.zip"))

    return ValidationCallback()


def plot_curve(curve: list[dict[str, Any]], path: str, baselines: dict[str, float] | None = None) -> None:
    from matplotlib.figure import Figure  # no pyplot: the caller's backend (a notebook's) is left alone

    fig = Figure(figsize=(6, 3.5))
    ax = fig.subplots()
    ax.plot([c["timesteps"] for c in curve], [c["validation_gap_closed_clipped"] for c in curve], marker="o",
            label="MaskablePPO")
    for name, value in (baselines or {}).items():
        ax.axhline(value, linestyle="--", linewidth=1, color="grey")
        ax.annotate(name, (0, value), fontsize=8, va="bottom")
    ax.set_xlabel("environment steps")
    ax.set_ylabel("validation gap closed (each in [-1, 1])")
    ax.set_title("SQLIndexDiscrete-v0: MaskablePPO")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def train_ppo(cfg: PPOConfig) -> dict[str, Any]:
    """Train, keep the best checkpoint, score it on the test split with the baselines; returns metrics."""
    try:
        import torch
        from sb3_contrib import MaskablePPO
    except ImportError:
        raise ConfigError("python -m sqlgym.train ppo needs the rl extra: pip install 'sqlgym-rl[rl]'") from None
    import sqlgym
    from sqlgym.db import runtime
    from sqlgym.eval import harness
    from sqlgym.integrations.sb3 import make_vec_env

    cfg.validate()
    out = cfg.output_dir
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)  # small MLPs: threads cost more than they give, and envs want the cores
    # every env process keeps all its scenarios (snapshot, cost cache): the pool is cycled, not streamed
    os.environ["SQLGYM_MAX_SCENARIOS"] = str(max(48, cfg.scenarios + cfg.eval_episodes))
    runtime.MAX_SCENARIOS = int(os.environ["SQLGYM_MAX_SCENARIOS"])
    train_ids = sqlgym.list_scenarios(ENV_ID, cfg.split, cfg.scenarios)
    val_ids = sqlgym.list_scenarios(ENV_ID, cfg.eval_split, cfg.eval_episodes)
    venv = make_vec_env(split=cfg.split, n=cfg.scenarios, num_envs=cfg.num_envs, subprocess=cfg.num_envs > 1,
                        seed=cfg.seed, warm_start=cfg.warm_start)
    if cfg.policy == "candidate":
        from sqlgym.agents.ppo_net import CandidatePolicy

        net: Any = CandidatePolicy
        net_kwargs: dict[str, Any] = {"hidden": cfg.hidden}
    else:
        net, net_kwargs = "MlpPolicy", {"net_arch": [cfg.hidden, cfg.hidden]}
    lr = cfg.learning_rate
    learning_rate: Any = (lambda progress: lr * progress) if cfg.lr_schedule == "linear" else lr
    model = MaskablePPO(net, venv, learning_rate=learning_rate, n_steps=cfg.n_steps, batch_size=cfg.batch_size,
                        n_epochs=cfg.n_epochs, gamma=cfg.gamma, ent_coef=cfg.ent_coef, policy_kwargs=net_kwargs,
                        seed=cfg.seed, device="cpu", verbose=0)
    curve: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    print(f"MaskablePPO on {ENV_ID}: {len(train_ids)} train scenarios, {cfg.num_envs} envs, "
          f"{cfg.total_timesteps:,} steps at most, validation on {len(val_ids)} {cfg.eval_split} scenarios", flush=True)
    model.learn(total_timesteps=cfg.total_timesteps, callback=_callback(cfg, val_ids, out, curve, t0))
    train_seconds = time.perf_counter() - t0
    venv.close()
    model.save(os.path.join(out, "last_model.zip"))

    results = {}
    best = os.path.join(out, "best_model.zip")
    for policy in ["ppo:" + best, *cfg.baseline_names] if cfg.test_episodes else []:  # 0: no test scoring
        res = harness.run(policy, cfg.test_split, cfg.test_episodes, env_id=ENV_ID, seed=0)
        results["ppo" if policy.startswith("ppo:") else policy] = res
        with open(os.path.join(out, f"test-{'ppo' if policy.startswith('ppo:') else policy}.json"), "w") as f:
            json.dump(res, f)
    summary = {k: {m: r["summary"][m] for m in ("mean_performance", "mean_gap_closed", "mean_hidden_gap_closed",
                                                 "regression_rate")} for k, r in results.items()}
    metrics = {"config": dataclasses.asdict(cfg),
               "train_seconds": round(train_seconds, 1), "timesteps": int(model.num_timesteps),
               "curve": curve, "test": summary}
    with open(os.path.join(out, "metrics.json"), "w") as f:
        json.dump(metrics, f, indent=1, default=str)
    plot_curve(curve, os.path.join(out, "learning_curve.png"))
    return metrics
