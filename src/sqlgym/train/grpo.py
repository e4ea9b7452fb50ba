"""GRPO on an sqlgym environment with TRL: ``plan`` mode (one completion = a JSON plan, replayed by the
reward function) or ``tools`` mode (multi-turn, TRL's ``environment_factory``)."""

from __future__ import annotations

import json
import os
import time
from typing import Any

from sqlgym.train.config import TrainConfig, trainer_args


def train_grpo(cfg: TrainConfig, model=None, tokenizer=None) -> dict[str, Any]:
    """Train, save the adapter and outputs into ``cfg.output_dir``, and return ``metrics.json``'s content
    (plus ``results``, the evaluations before, after the SFT warm-up if any, and after, and ``trainer``).
    ``model``/``tokenizer``: use these objects instead of loading ``cfg.model`` (tests pass a tiny model)."""
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    from sqlgym.train.common import callbacks, evaluate, finish, start, training_args

    run = start(cfg, model, tokenizer)
    extra: dict[str, Any] = {}
    if cfg.sft_warmup:
        extra["sft_warmup"] = warm_up(cfg, run)
        mid = evaluate(cfg, run.model, run.tokenizer, f"{run.name} + SFT warm-up ({cfg.sft_warmup} steps)")
        if mid is not None:
            run.stages.append(mid)
    from trl import GRPOConfig, GRPOTrainer

    from sqlgym.integrations.trl import build_dataset, environment_factory, plan_rewards

    t0 = time.perf_counter()
    dataset = build_dataset(cfg.env, cfg.split, cfg.scenarios, cfg.mode, cfg.seed)
    scored: list[dict] = []  # plan mode: one entry per completion the reward function scored
    sources: dict[str, Any] = {}
    if cfg.mode == "plan":
        sources["reward_funcs"] = plan_rewards(cfg.env, log=scored, format_weight=cfg.format_reward)
    else:
        sources["environment_factory"] = environment_factory(cfg.env, remote=cfg.remote)  # get_reward(): the reward
    args = GRPOConfig(**training_args(cfg, run.cuda), num_generations=cfg.num_generations,
                      max_completion_length=cfg.max_completion_length, temperature=cfg.temperature, beta=cfg.beta,
                      max_tool_calling_iterations=cfg.max_tool_calls, shuffle_dataset=True,
                      loss_type=cfg.loss_type, scale_rewards=cfg.scale_rewards,
                      mask_truncated_completions=bool(cfg.mask_truncated), **trainer_args(cfg))
    trainer = GRPOTrainer(model=run.model, args=args, train_dataset=dataset, processing_class=run.tokenizer,
                          peft_config=run.peft_config, **sources)
    callbacks(cfg, run, trainer)
    setup_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    trainer.train()
    train_s = time.perf_counter() - t1
    if scored:  # every completion the reward function scored, in order: what the model wrote and what it earned
        assert cfg.output_dir is not None  # TrainConfig.__post_init__ fills in runs/<command>
        os.makedirs(cfg.output_dir, exist_ok=True)
        with open(os.path.join(cfg.output_dir, "completions.jsonl"), "w") as f:
            f.writelines(json.dumps(s) + "\n" for s in scored)
        extra["parsed_share_per_step"] = _parsed_share(scored, cfg)
    return finish(cfg, run, trainer, train_s, setup_s, {**extra, "scored_completions": scored[-64:]})


WARMUP_LEARNING_RATE = 1e-3  # the SFT rate that taught the embedded model the plan format in a few dozen steps


def warm_up(cfg: TrainConfig, run) -> dict[str, Any]:
    """``--sft-warmup N``: N SFT steps on the expert's plans of the training scenarios, on the same LoRA
    weights GRPO then trains (the model stays wrapped; GRPO gets no second adapter)."""
    from sqlgym.train.common import callbacks
    from sqlgym.train.sft import sft_trainer

    t0 = time.perf_counter()
    trainer, examples = sft_trainer(cfg, run, max_steps=cfg.sft_warmup, learning_rate=WARMUP_LEARNING_RATE,
                                    lr_scheduler_type="constant", warmup_steps=0, output_dir=os.path.join(
                                        str(cfg.output_dir), "sft-warmup"))
    callbacks(cfg, run, trainer, validate=False)
    trainer.train()
    run.model, run.peft_config = trainer.model, None
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    return {"steps": trainer.state.global_step, "examples": examples, "seconds": time.perf_counter() - t0,
            "learning_rate": WARMUP_LEARNING_RATE, "loss": losses}


def _parsed_share(scored: list[dict], cfg: TrainConfig) -> list[float]:
    """Share of completions that were a clean JSON plan, per optimizer step (in the order they were scored)."""
    per_step = cfg.batch_size * cfg.grad_accum
    return [sum(s["error"] is None and s["steps"] > 0 for s in scored[i:i + per_step]) / len(scored[i:i + per_step])
            for i in range(0, len(scored), per_step)]
