"""Trainer callbacks of GRPO and SFT runs: where each step's time goes, and validation during training.

- :func:`step_timer` logs, per optimizer step, the seconds spent generating completions (tool calls
  included in tools mode), computing rewards, and in the rest of the step (forward, backward,
  optimizer: "optimisation"), and the torch threads it ran with (:mod:`sqlgym.train.threads`).
- :func:`validator` scores the policy every ``--eval-every`` steps on ``--val-split`` with the eval
  harness's prompts and seeds (the lesson of the text-to-SQL seed: held-out accuracy fell while
  training accuracy rose) and keeps the best adapter in ``<output-dir>/best``.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from sqlgym.train.config import TrainConfig


class _Clock:
    """Seconds spent inside wrapped methods since the last reset."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def wrap(self, obj: Any, method: str, key: str) -> None:
        inner = getattr(obj, method, None)
        if inner is None:  # another TRL version: the timing shows up under "optimisation"
            return

        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.seconds[key] = self.seconds.get(key, 0.0) + time.perf_counter() - t0

        setattr(obj, method, timed)


def step_timer(trainer, governor, rows: list[dict[str, Any]], quiet: bool = False):
    """A TrainerCallback appending ``{step, seconds, generation_s, reward_s, optimisation_s, threads}`` to
    ``rows`` per optimizer step (and printing it on stderr), with the thread count set before each step."""
    from transformers import TrainerCallback

    clock = _Clock()
    clock.wrap(trainer, "_generate", "generation_s")  # GRPOTrainer; SFT has neither
    clock.wrap(trainer, "_calculate_rewards", "reward_s")

    class StepTimer(TrainerCallback):
        t0 = 0.0
        threads = 0

        def on_step_begin(self, args, state, control, **kw):
            self.threads = governor.step()
            clock.seconds.clear()
            self.t0 = time.perf_counter()

        def on_step_end(self, args, state, control, **kw):
            total = time.perf_counter() - self.t0
            gen, rew = clock.seconds.get("generation_s", 0.0), clock.seconds.get("reward_s", 0.0)
            row = {"step": state.global_step, "seconds": total, "generation_s": gen, "reward_s": rew,
                   "optimisation_s": max(0.0, total - gen - rew), "threads": self.threads}
            rows.append(row)
            if not quiet:
                share = f", reward {100 * rew / total:.1f}%" if total else ""
                print(f"step {row['step']}: {total:.1f} s (generation {gen:.1f}, reward {rew:.2f}, "
                      f"optimisation {row['optimisation_s']:.1f}{share}; {self.threads} threads)",
                      file=sys.stderr, flush=True)

    return StepTimer()


def score_of(result: dict[str, Any]) -> float:
    """The validation score: mean gap closed (SQLIndex-v0) or EX (text-to-SQL)."""
    s = result["summary"]
    return float(s["ex"] if "ex" in s else s["mean_gap_closed"])


def validator(cfg: TrainConfig, tokenizer, rows: list[dict[str, Any]], best: dict[str, Any]):
    """A TrainerCallback that validates every ``cfg.eval_every`` steps (and after the last), appends
    ``{step, score, valid_plan_rate, seconds}`` to ``rows``, and saves the best adapter to ``<out>/best``.
    ``best`` gets ``step``, ``score`` and ``state`` (the trainable weights, on the CPU)."""
    import os

    from transformers import TrainerCallback

    from sqlgym.train.evaluate import evaluate_model

    best_dir = os.path.join(str(cfg.output_dir), "best")

    def validate(model, step: int) -> None:
        t0 = time.perf_counter()
        res = evaluate_model(model, tokenizer, f"step {step}", cfg.env, cfg.val_split, cfg.val_episodes, cfg.seed,
                             max_new_tokens=cfg.max_completion_length if cfg.mode == "plan" else 128,
                             mode=cfg.mode)
        row = {"step": step, "score": score_of(res), "valid_plan_rate": res["summary"]["valid_plan_rate"],
               "seconds": time.perf_counter() - t0}
        rows.append(row)
        improved = "score" not in best or row["score"] > best["score"]
        print(f"validation at step {step}: {row['score']:.3f} on {cfg.val_episodes} {cfg.val_split} episodes "
              f"({row['seconds']:.0f} s){', best so far: saved to ' + best_dir if improved else ''}",
              file=sys.stderr, flush=True)
        if improved:
            best.update(step=step, score=row["score"], state=trainable_state(model))
            model.save_pretrained(best_dir)
            tokenizer.save_pretrained(best_dir)

    class Validator(TrainerCallback):
        def on_train_begin(self, args, state, control, model=None, **kw):
            if not rows:
                validate(model, 0)

        def on_step_end(self, args, state, control, model=None, **kw):
            last = state.global_step >= state.max_steps > 0
            if state.global_step % cfg.eval_every == 0 or last:
                validate(model, state.global_step)

    return Validator()


def trainable_state(model) -> dict[str, Any]:
    """A CPU copy of the weights being trained (the LoRA weights; every weight when nothing is frozen)."""
    return {k: p.detach().to("cpu", copy=True) for k, p in model.named_parameters() if p.requires_grad}


def load_trainable_state(model, state: dict[str, Any]) -> None:
    """Put weights saved by :func:`trainable_state` back (the best validation step's, before the final test)."""
    import torch

    params = dict(model.named_parameters())
    with torch.no_grad():
        for k, v in state.items():
            params[k].copy_(v.to(params[k].device))


__all__ = ["load_trainable_state", "score_of", "step_timer", "trainable_state", "validator"]
