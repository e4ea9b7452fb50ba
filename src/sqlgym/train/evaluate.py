"""Score a model before and after training with the eval harness's scenarios, seeds, records and table.

Episode ``i`` plays ``harness.scenario_ids(split, episodes)[i]`` with seed ``seed + i``, exactly as
``python -m sqlgym.eval`` does, so the numbers compare with the leaderboard. The LLM policy's
prompts are generated in one batch first (much faster on a CPU), then the episodes are played. When
stdout is not a terminal (a log file, a pipe), both report their progress as plain lines on stderr.
"""

from __future__ import annotations

from typing import Any


def run_policy(policy, env_id: str = "SQLIndex-v0", split: str = "test", episodes: int | None = 8,
               seed: int = 0) -> dict[str, Any]:
    """Results in the harness's format (``{"env", "policy", "split", "seed", "records", "summary"}``), each
    record with the model's ``completion`` and ``plan_error`` (None for a clean plan) added."""
    from sqlgym.agents.llm import PlainProgress
    from sqlgym.eval import harness

    ids = harness.scenario_ids(split, episodes, env_id=env_id)
    if getattr(policy, "mode", None) == "plan":  # one batched generation for every episode's first prompt
        policy.prefill([policy.adapter.reset_prompt(sid, seed + i, "plan") for i, sid in enumerate(ids)])
    records = []
    report = PlainProgress(policy.name, len(ids), "episodes")  # lines on stderr when stdout is not a terminal
    for i, sid in enumerate(ids):
        rec = harness.run_episode(policy, sid, seed + i, env_id)
        records.append({**rec, "completion": policy.last_completion, "plan_error": policy.last_error})
        report.update(len(records))
    summary = harness.summarize(records, env_id)
    summary["valid_plan_rate"] = sum(r["plan_error"] is None for r in records) / len(records)
    return {"env": env_id, "policy": policy.name, "split": split, "seed": seed, "records": records, "summary": summary}


def evaluate_model(model, tokenizer, name: str, env_id: str, split: str, episodes: int, seed: int = 0,
                   max_new_tokens: int = 256, mode: str = "plan") -> dict[str, Any]:
    from sqlgym.agents.llm import HFGenerator, LLMPolicy

    policy = LLMPolicy(HFGenerator(model, tokenizer, max_new_tokens, label=name), name=name, env_id=env_id, mode=mode)
    return run_policy(policy, env_id, split, episodes, seed)


def print_before_after(results: list[dict[str, Any]], title: str, console=None) -> None:
    from rich.console import Console

    from sqlgym.eval import report

    console = console or Console()
    report.print_results(results, title, console)
    console.print("clean plans: " + ", ".join(f"{r['policy']} {r['summary']['valid_plan_rate']:.0%}" for r in results))
    if len(results) > 1:  # is "after" better than "before" by more than the noise? paired by scenario and seed
        from sqlgym.eval import paired

        rows = [row for i in range(1, len(results)) for row in paired.compare(results[i - 1], results[i])]
        if len(results) > 2:
            rows += paired.compare(results[0], results[-1])
        console.print(paired.table(rows))
