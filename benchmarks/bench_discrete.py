"""SQLIndexDiscrete-v0 throughput: env steps per second on one core, random masked actions, warm cache,
against the same statements on plain apsw (what a step costs without the library's cost cache).

    python benchmarks/bench_discrete.py [--scenarios 8] [--episodes 40]

Both sides replay the same recorded episodes: the env (second pass, caches warm), and plain apsw on a
fresh copy of each scenario's database doing what one uncached step does (the DDL, ANALYZE, then every
workload statement over the visible bindings, DML inside a rolled-back savepoint). Printed as a ratio
measured in one run, so the machine's load cancels out.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import apsw
import gymnasium as gym
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))
import sqlgym  # noqa: E402
from sqlgym.db.runtime import runtime_for  # noqa: E402
from sqlgym.db.sqlite import index_sql  # noqa: E402
from sqlgym.sqltext import quote  # noqa: E402


def record(env, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    _, info = env.reset(seed=seed)
    actions = []
    while True:
        a = int(rng.choice(np.flatnonzero(info["action_mask"])))
        _, _, term, trunc, info = env.step(a)
        actions.append(a)
        if term or trunc:
            return actions


def replay(env, seed: int, actions: list[int]) -> int:
    env.reset(seed=seed)
    for a in actions:
        env.step(a)
    return len(actions)


def plain_apsw(sid: str, plans: list[list[tuple[str, object]]]) -> tuple[int, float]:
    """Steps and seconds of the same DDL + workload measurement on a plain apsw connection."""
    sc = sqlgym.load_scenario(sid)
    rt = runtime_for(sc)
    steps, t0 = 0, time.perf_counter()
    for plan in plans:
        conn = apsw.Connection(":memory:")
        conn.deserialize("main", rt.snapshot.image)
        for kind, arg in plan:
            if kind == "create":
                spec, name = arg
                conn.execute(index_sql(spec, name))
                conn.execute(f"ANALYZE {quote(spec.table)}")
            elif kind == "drop":
                conn.execute(f"DROP INDEX {quote(arg)}")
            for q in sc.workload:
                for b in rt.snapshot.visible[q.id]:
                    if q.kind == "dml":
                        conn.execute("SAVEPOINT s")
                    for _ in conn.execute(q.sql, b):
                        pass
                    if q.kind == "dml":
                        conn.execute("ROLLBACK TO s")
                        conn.execute("RELEASE s")
            steps += 1
        conn.close()
    return steps, time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--scenarios", type=int, default=8)
    p.add_argument("--episodes", type=int, default=40)
    args = p.parse_args()
    ids = sqlgym.list_scenarios("SQLIndex-v0", "train", n=args.scenarios)
    env_steps, env_seconds, plain_steps, plain_seconds = 0, 0.0, 0, 0.0
    for sid in ids:
        env = gym.make("SQLIndexDiscrete-v0", scenario=sid).unwrapped
        episodes = [(seed, record(env, seed)) for seed in range(args.episodes)]  # warms every cache
        t0 = time.perf_counter()
        for seed, actions in episodes:
            env_steps += replay(env, seed, actions)
        env_seconds += time.perf_counter() - t0
        plans = []
        for seed, actions in episodes:  # what each step did, as DDL
            env.reset(seed=seed)
            plan = []
            for a in actions:
                before = dict(env.inner.db.indexes)
                env.step(a)
                after = env.inner.db.indexes
                made = [(after[n], n) for n in after if n not in before]
                gone = [n for n in before if n not in after]
                plan.append(("create", made[0]) if made else ("drop", gone[0]) if gone else ("none", None))
            plans.append(plan)
        s, secs = plain_apsw(sid, plans)
        plain_steps, plain_seconds = plain_steps + s, plain_seconds + secs
        env.close()
    env_rate, plain_rate = env_steps / env_seconds, plain_steps / plain_seconds
    print(json.dumps({"scenarios": len(ids), "episodes_per_scenario": args.episodes, "env_steps": env_steps,
                      "env_steps_per_s": round(env_rate, 1), "plain_apsw_steps_per_s": round(plain_rate, 1),
                      "ratio_env_over_plain": round(env_rate / plain_rate, 2)}))
    print(f"SQLIndexDiscrete-v0, warm cache, one core: {env_rate:,.0f} env steps/s; the same statements on plain "
          f"apsw {plain_rate:,.0f} steps/s -> {env_rate / plain_rate:.1f}x (target >= 1,000 env steps/s)")


if __name__ == "__main__":
    main()
