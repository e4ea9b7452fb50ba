"""GRPO on an sqlgym environment with TRL: ``plan`` mode (one completion = a JSON plan, replayed by the
reward function) or ``tools`` mode (multi-turn, TRL's ``environment_factory``)."""

from __future__ import annotations

import json
import os
import time
from typing import Any

from sqlgym.train.config import TrainConfig


def train_grpo(cfg: TrainConfig, model=None, tokenizer=None) -> dict[str, Any]:
    """Train, save the adapter and outputs into ``cfg.output_dir``, and return ``metrics.json``'s content
    (plus ``results``, the before/after evaluations, and ``trainer``). ``model``/``tokenizer``: use these
    objects instead of loading ``cfg.model`` (tests pass a tiny model)."""
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    from sqlgym.train.common import finish, start, training_args

    run = start(cfg, model, tokenizer)
    from trl import GRPOConfig, GRPOTrainer

    from sqlgym.integrations.trl import build_dataset, environment_factory, plan_reward

    t0 = time.perf_counter()
    dataset = build_dataset(cfg.env, cfg.split, cfg.scenarios, cfg.mode, cfg.seed)
    scored: list[dict] = []  # plan mode: one entry per completion the reward function scored
    sources: dict[str, Any] = {}
    if cfg.mode == "plan":
        sources["reward_funcs"] = [plan_reward(cfg.env, log=scored)]
    else:
        sources["environment_factory"] = environment_factory(cfg.env)  # get_reward() is the reward
    args = GRPOConfig(**training_args(cfg, run.cuda), num_generations=cfg.num_generations,
                      max_completion_length=cfg.max_completion_length, temperature=cfg.temperature, beta=cfg.beta,
                      max_tool_calling_iterations=cfg.max_tool_calls, shuffle_dataset=True, **cfg.extra)
    trainer = GRPOTrainer(model=run.model, args=args, train_dataset=dataset, processing_class=run.tokenizer,
                          peft_config=run.peft_config, **sources)
    setup_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    trainer.train()
    train_s = time.perf_counter() - t1
    if scored:  # every completion the reward function scored, in order: what the model wrote and what it earned
        assert cfg.output_dir is not None  # TrainConfig.__post_init__ fills in runs/<command>
        os.makedirs(cfg.output_dir, exist_ok=True)
        with open(os.path.join(cfg.output_dir, "completions.jsonl"), "w") as f:
            f.writelines(json.dumps(s) + "\n" for s in scored)
    return finish(cfg, run, trainer, train_s, setup_s, {"scored_completions": scored[-64:]})
