"""Score a model before and after training with the eval harness's scenarios, seeds, records and table.

Episode ``i`` plays ``harness.scenario_ids(split, episodes)[i]`` with seed ``seed + i``, exactly as
``python -m sqlgym.eval`` does, so the numbers compare with the leaderboard. The LLM policy's
prompts are generated in one batch first (much faster on a CPU), then the episodes are played.
"""

from __future__ import annotations

import math
from typing import Any


def run_policy(policy, env_id: str = "SQLIndex-v0", split: str = "test", episodes: int | None = 8,
               seed: int = 0) -> dict[str, Any]:
    """Results in the harness's format: ``{"env", "policy", "split", "seed", "records", "summary"}``."""
    from sqlgym.eval import harness

    adapter = policy.adapter
    index = env_id == "SQLIndex-v0"
    ids = harness.scenario_ids(split, episodes) if index else adapter.scenarios(split, episodes)
    if getattr(policy, "mode", None) == "plan":  # one batched generation for every episode's first prompt
        policy.prefill([adapter.reset_prompt(sid, seed + i, "plan") for i, sid in enumerate(ids)])
    records = []
    for i, sid in enumerate(ids):
        env = adapter.env(sid)  # cached per scenario; reset restores it exactly
        obs, info = env.reset(seed=seed + i)
        policy.reset(adapter.load_scenario(sid), seed=seed + i)
        actions, rewards = [], []
        while True:
            a = policy.act(obs, info)
            obs, r, term, trunc, info = env.step(a)
            actions.append(a)
            rewards.append(r)
            if term or trunc:
                break
        final = ({k: info[k] for k in harness.INFO_KEYS if k in info} if index else
                 {k: v for k, v in info.items() if isinstance(v, (int, float, str, bool)) or v is None})
        records.append({"policy": policy.name, "scenario": sid, "seed": seed + i, "actions": actions, "rewards": rewards,
                        "return": math.fsum(rewards), "steps": len(actions), "final": final,
                        "completion": getattr(policy, "last_completion", None),
                        "plan_error": getattr(policy, "last_error", None)})
    summary = harness.summarize(records) if index else _generic_summary(records)
    summary["valid_plan_rate"] = sum(r["plan_error"] is None for r in records) / len(records)
    return {"env": env_id, "policy": policy.name, "split": split, "seed": seed, "records": records, "summary": summary}


def _generic_summary(records: list[dict]) -> dict[str, Any]:
    """Mean return, and the mean of every numeric final-info value every record has (``correct``: EX)."""
    n = len(records)
    out: dict[str, Any] = {"episodes": n, "mean_return": sum(r["return"] for r in records) / n, "by_difficulty": {}}
    for k, v in records[0]["final"].items():
        if isinstance(v, (int, float)) and all(isinstance(r["final"].get(k), (int, float)) for r in records):
            out[f"mean_{k}"] = sum(float(r["final"][k]) for r in records) / n
    return out


def evaluate_model(model, tokenizer, name: str, env_id: str, split: str, episodes: int, seed: int = 0,
                   max_new_tokens: int = 256, mode: str = "plan") -> dict[str, Any]:
    from sqlgym.policies.llm import HFGenerator, LLMPolicy

    policy = LLMPolicy(HFGenerator(model, tokenizer, max_new_tokens), name=name, env_id=env_id, mode=mode)
    return run_policy(policy, env_id, split, episodes, seed)


def print_before_after(results: list[dict[str, Any]], title: str, console=None) -> None:
    from rich.console import Console

    from sqlgym.eval import report

    console = console or Console()
    if results and results[0]["env"] == "SQLIndex-v0":
        report.print_results(results, title, console)
        console.print("clean plans: " + ", ".join(f"{r['policy']} {r['summary']['valid_plan_rate']:.0%}" for r in results))
    else:
        for r in results:
            extra = ", ".join(f"{k[5:]} {v:.3f}" for k, v in r["summary"].items() if k.startswith("mean_") and k != "mean_return")
            console.print(f"{r['policy']}: mean return {r['summary']['mean_return']:+.3f} over {r['summary']['episodes']} "
                          f"episodes" + (f"; {extra}" if extra else ""))
