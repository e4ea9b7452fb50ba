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

from sqlgym.agents import make_policy
from sqlgym.errors import ConfigError, unknown_name
from sqlgym.policies import ReplayPolicy
from sqlgym.tasks import task


def scenario_ids(split: str, episodes: int | None, scenario: str | None = None, env_id: str = "SQLIndex-v0",
                 dataset: str = "sqlgym") -> list[str]:
    """What episode i plays: scenario ids (SQLIndex-v0) or question ids (text-to-SQL)."""
    t = task(env_id)
    if scenario is not None:
        t.load_item(scenario, dataset)  # a misspelt id fails here, with "did you mean"
        return [scenario] * (episodes or 1)
    if split not in t.splits:
        raise unknown_name("split", str(split), list(t.splits))
    if t.item == "scenario" and split != "curated":  # generated: the first N of an unlimited split
        return t.ids(split, episodes or 200, dataset)
    ids = t.ids(split, None, dataset)
    return ids if episodes is None else [ids[i % len(ids)] for i in range(episodes)]


def run_episode(policy: str | ReplayPolicy, scenario_id: str, seed: int, env_id: str = "SQLIndex-v0",
                dataset: str = "sqlgym", adapter: str | None = None, remote: str | None = None) -> dict[str, Any]:
    """One episode -> a JSON-able record (scenario or question id, seed, actions, rewards, final info).

    ``remote``: play it on a ``python -m sqlgym.serve`` server at that URL (the record is the same)."""
    t = task(env_id)
    pol = policy if not isinstance(policy, str) else make_policy(policy, env_id, adapter)
    kwargs: dict[str, Any] = t.env_kwargs(scenario_id, dataset)
    if remote:
        kwargs["remote"] = remote
    env = gym.make(env_id, **kwargs)
    item = t.load_item(scenario_id, dataset)
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
        "final": {k: info[k] for k in t.info_keys if k in info},
    }


def _job(args):
    return run_episode(*args)


def run(policy: str, split: str = "curated", episodes: int | None = None, seed: int = 0, workers: int = 1,
        env_id: str = "SQLIndex-v0", progress: Callable[[int], None] | None = None,
        scenario: str | None = None, dataset: str = "sqlgym", adapter: str | None = None,
        remote: str | None = None) -> dict[str, Any]:
    """Evaluate one policy; returns ``{"records": [...], "summary": {...}}``. ``remote``: the episodes play on a
    ``python -m sqlgym.serve`` server at that URL (one session each; ``$SQLGYM_SERVE_TOKEN`` its token)."""
    task(env_id)  # a misspelt id fails here
    pol = make_policy(policy, env_id, adapter)  # a misspelt name fails here, before any episode (models load once)
    ids = scenario_ids(split, episodes, scenario, env_id, dataset)
    batched = hasattr(pol, "prefill") and workers <= 1 and dataset == "sqlgym"
    if batched:  # a language model writes every episode's first answer in batches: several times faster
        llm: Any = pol
        llm.prefill([llm.adapter.reset_prompt(sid, seed + i, llm.mode) for i, sid in enumerate(ids)])
    jobs = [(pol if batched else policy, sid, seed + i, env_id, dataset, adapter, remote) for i, sid in enumerate(ids)]
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
    out = {"env": env_id, "policy": policy, "split": scenario or split, "seed": seed, "dataset": dataset,
           "records": records, "summary": summarize(records, env_id)}
    if remote:
        out["remote"] = remote  # where it ran; --validate replays the records in this process
    return out


def summarize(records: list[dict], env_id: str = "SQLIndex-v0") -> dict[str, Any]:
    if not records:
        raise ConfigError("no episodes to summarise")
    return task(env_id).summarize(records)


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
