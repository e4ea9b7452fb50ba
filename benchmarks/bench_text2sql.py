"""Text2SQL-v0 env time per question: reset + query + answer, against the same SQL on plain apsw.

    python benchmarks/bench_text2sql.py [--split all] [--repeat 5]

Per question (gold SQL as the agent's query and answer, so the work is real): the env's time for
reset + query + answer, median over ``--repeat`` runs, cold (first answer: the gold result is
computed too) and warm (gold cached); and plain apsw running the same two statements on an
in-memory copy. Prints the median and 95th percentile in ms and the ratio to plain apsw, all
measured in this one run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import apsw
import gymnasium as gym

import sqlgym  # noqa: F401  (registers the env ids)
from sqlgym.db.datasets import load_dataset


def act(kind, **payload):
    return json.dumps({"action_type": kind, "payload": payload})


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", default="all", help="train / validation / test, or all")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    data = load_dataset("sqlgym")
    qs = [q for q in data.questions(None if args.split == "all" else args.split) if q.sql]
    env = gym.make("Text2SQL-v0", dataset="sqlgym", split=None if args.split == "all" else args.split, db_id=None)
    plain: dict[str, apsw.Connection] = {}
    cold, warm, base = [], [], []
    for q in qs:
        env.reset(seed=0, options={"question": q.id})  # opens the database outside the timing
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            env.reset(seed=0, options={"question": q.id})
            env.step(act("query", sql=q.sql))
            _, _, _, _, info = env.step(act("answer", sql=q.sql))
            times.append(time.perf_counter() - t0)
            assert info["correct"] or q.kind == "clarification", q.id
        cold.append(times[0])
        warm.append(statistics.median(times[1:]) if len(times) > 1 else times[0])
        if q.db_id not in plain:
            conn = apsw.Connection(":memory:")
            conn.deserialize("main", data.image(q.db_id))
            plain[q.db_id] = conn
        conn = plain[q.db_id]
        ts = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            for _row in conn.execute(q.sql):  # what query does: every row counted, 20 kept
                pass
            list(conn.execute(q.sql))
            ts.append(time.perf_counter() - t0)
        base.append(statistics.median(ts))
    ms = 1e3
    print(f"{len(qs)} questions with gold SQL ({args.split}), {args.repeat} repeats each")
    print(f"env reset+query+answer, warm: median {statistics.median(warm) * ms:.2f} ms, p95 {pct(warm, 0.95) * ms:.2f} ms, "
          f"max {max(warm) * ms:.2f} ms")
    print(f"env reset+query+answer, cold (gold computed): median {statistics.median(cold) * ms:.2f} ms, "
          f"p95 {pct(cold, 0.95) * ms:.2f} ms")
    print(f"plain apsw, same two statements: median {statistics.median(base) * ms:.2f} ms")
    ratio = [w / b for w, b in zip(warm, base)]
    over = [w - b for w, b in zip(warm, base)]
    print(f"env / plain apsw (warm), per question: median {statistics.median(ratio):.2f}x")
    print(f"env overhead (warm env - plain apsw), per question: median {statistics.median(over) * ms:.2f} ms, "
          f"p95 {pct(over, 0.95) * ms:.2f} ms")
    slow = sorted(zip(warm, base, (q.id for q in qs)), reverse=True)[:3]
    print("slowest: " + ", ".join(f"{qid} {w * ms:.1f} ms (plain {b * ms:.1f} ms)" for w, b, qid in slow))
    print(f"target: under 5 ms per question -> median {'met' if statistics.median(warm) * ms < 5 else 'NOT met'}, "
          f"{sum(w * ms < 5 for w in warm)}/{len(warm)} questions under 5 ms")


if __name__ == "__main__":
    main()
