"""Run policies on the same scenarios and seeds; records are replayable, results are deterministic.

Episode ``i`` of a run plays scenario ``ids[i % len(ids)]`` with seed ``seed + i``; workers only
change speed, never a number (results are collected in episode order).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import gymnasium as gym

import sqlgym
from sqlgym.errors import ConfigError, unknown_name
from sqlgym.eval.metrics import ex_report
from sqlgym.policies import TEXT_ENVS, ReplayPolicy, make_policy

INFO_KEYS = ("cost", "baseline_cost", "reference_cost", "performance", "gap_closed", "storage_bytes",
             "budget_bytes", "n_indexes", "hidden_cost", "hidden_gap_closed", "difficulty")
TEXT_INFO_KEYS = ("db_id", "difficulty", "kind", "correct", "answered", "set_correct")
SPLITS = ("curated", "train", "validation", "test")


def scenario_ids(split: str, episodes: int | None, scenario: str | None = None, env_id: str = "SQLIndex-v0",
                 dataset: str = "sqlgym") -> list[str]:
    """What episode i plays: scenario ids (SQLIndex-v0) or question ids (text-to-SQL)."""
    if env_id in TEXT_ENVS:
        from sqlgym.scenarios.text2sql import load_dataset

        data = load_dataset(dataset)
        if scenario is not None:
            return [data.question(scenario).id] * (episodes or 1)
        ids = [q.id for q in data.questions(split)]
        return ids if episodes is None else [ids[i % len(ids)] for i in range(episodes)]
    if env_id not in sqlgym.ENV_IDS:
        raise unknown_name("environment id", env_id, list(sqlgym.ENV_IDS))
    if scenario is not None:
        sqlgym.load_scenario(scenario)  # a misspelt id fails here, with "did you mean"
        return [scenario] * (episodes or 1)
    if split not in SPLITS:
        raise unknown_name("split", split, list(SPLITS))
    if split == "curated":
        ids = sqlgym.list_scenarios("SQLIndex-v0", split="curated")
        return ids if episodes is None else [ids[i % len(ids)] for i in range(episodes)]
    return sqlgym.list_scenarios("SQLIndex-v0", split=split, n=episodes or 200)


def run_episode(policy: str | ReplayPolicy, scenario_id: str, seed: int, env_id: str = "SQLIndex-v0",
                dataset: str = "sqlgym", adapter: str | None = None) -> dict[str, Any]:
    """One episode -> a JSON-able record (scenario or question id, seed, actions, rewards, final info)."""
    pol = policy if not isinstance(policy, str) else make_policy(policy, env_id, adapter)
    if env_id in TEXT_ENVS:
        env = gym.make(env_id, dataset=dataset, question=scenario_id)
        item, keys = env.unwrapped.dataset.question(scenario_id), TEXT_INFO_KEYS
    else:
        env = gym.make(env_id, scenario=scenario_id)
        item, keys = sqlgym.load_scenario(scenario_id), INFO_KEYS
    obs, info = env.reset(seed=seed)
    pol.reset(item, seed=seed)
    actions, rewards = [], []
    while True:
        a = pol.act(obs, info)
        obs, r, term, trunc, info = env.step(a)
        actions.append(a)
        rewards.append(r)
        if term or trunc:
            break
    env.close()
    return {
        "policy": pol.name, "scenario": scenario_id, "seed": seed, "actions": actions, "rewards": rewards,
        "return": math.fsum(rewards), "steps": len(actions),
        "final": {k: info[k] for k in keys if k in info},
    }


def _job(args):
    return run_episode(*args)


def run(policy: str, split: str = "curated", episodes: int | None = None, seed: int = 0, workers: int = 1,
        env_id: str = "SQLIndex-v0", progress: Callable[[int], None] | None = None,
        scenario: str | None = None, dataset: str = "sqlgym", adapter: str | None = None) -> dict[str, Any]:
    """Evaluate one policy; returns ``{"records": [...], "summary": {...}}``."""
    if env_id not in sqlgym.ENV_IDS:
        raise unknown_name("environment id", env_id, list(sqlgym.ENV_IDS))
    pol = make_policy(policy, env_id, adapter)  # a misspelt name fails here, before any episode (models load once)
    ids = scenario_ids(split, episodes, scenario, env_id, dataset)
    batched = hasattr(pol, "prefill") and workers <= 1 and dataset == "sqlgym"
    if batched:  # a language model writes every episode's first answer in batches: several times faster
        pol.prefill([pol.adapter.reset_prompt(sid, seed + i, pol.mode) for i, sid in enumerate(ids)])
    jobs = [(pol if batched else policy, sid, seed + i, env_id, dataset, adapter) for i, sid in enumerate(ids)]
    if workers > 1:
        with ProcessPoolExecutor(workers) as ex:
            records = []
            for rec in ex.map(_job, jobs, chunksize=max(1, len(jobs) // (8 * workers))):
                records.append(rec)
                progress and progress(1)
    else:
        records = []
        for j in jobs:
            records.append(_job(j))
            progress and progress(1)
    return {"env": env_id, "policy": policy, "split": scenario or split, "seed": seed, "dataset": dataset,
            "records": records, "summary": summarize(records, env_id)}


def summarize(records: list[dict], env_id: str = "SQLIndex-v0") -> dict[str, Any]:
    def block(recs):
        perf = [r["final"]["performance"] for r in recs]
        gap = [r["final"]["gap_closed"] for r in recs]
        return {
            "episodes": len(recs),
            "mean_performance": sum(perf) / len(perf),
            "best_performance": max(perf),
            "worst_performance": min(perf),
            "mean_gap_closed": sum(gap) / len(gap),
            "mean_hidden_gap_closed": sum(r["final"]["hidden_gap_closed"] for r in recs) / len(recs),
            "regression_rate": sum(p < -1e-9 for p in perf) / len(perf),
            "mean_return": sum(r["return"] for r in recs) / len(recs),
        }

    if not records:
        raise ConfigError("no episodes to summarise")
    if env_id in TEXT_ENVS:
        return ex_report(records)
    out = block(records)
    out["by_difficulty"] = {d: block([r for r in records if r["final"]["difficulty"] == d])
                            for d in ("easy", "medium", "hard") if any(r["final"]["difficulty"] == d for r in records)}
    return out


def validate(results: dict[str, Any]) -> list[str]:
    """Replay every record through the env; return the problems (empty when all rewards match exactly)."""
    problems = []
    for rec in results["records"]:
        again = run_episode(ReplayPolicy(rec["actions"]), rec["scenario"], rec["seed"], results.get("env", "SQLIndex-v0"),
                            results.get("dataset", "sqlgym"))
        if again["rewards"] != rec["rewards"] or again["final"] != rec["final"]:
            problems.append(f"{rec['scenario']} seed {rec['seed']}: replay differs")
    return problems


def load(path: str) -> dict[str, Any]:
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise ConfigError(f"cannot read results file {path!r}: {e}") from None
