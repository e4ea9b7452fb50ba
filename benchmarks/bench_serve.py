"""``python -m sqlgym.serve`` under load, on loopback only: N concurrent sessions x M steps against one server.

    python benchmarks/bench_serve.py [--sessions 32] [--steps 50] [--rounds 3] [--scenarios a,b,...] [--json]

Session ``i`` plays a fixed script of SQLIndex-v0 actions (inspection, index DDL, a malformed action,
reports; a new episode whenever one ends) on scenario ``i mod len(scenarios)`` with seed ``i``. The same
scripts first run in this process, one step at a time: that is the reference for latency, and every
remote observation, reward and info must equal it exactly (a difference counts as an error). Then the
server (a subprocess bound to 127.0.0.1 on a free port) takes ``--rounds`` rounds of all sessions at once
(one asyncio client per session), and one round of a single session (the wire's own overhead).

Reported: throughput (steps/s, all sessions), p50/p99 step latency and their ratio to the in-process
step, errors (must be 0), and the server's RSS after each round (flat within 10% from the first to the
last). Bounded: at most ``--time-limit`` seconds in all, and ``--sessions`` <= 256, ``--steps`` <= 1000.
Exit status 1 when an error occurred or RSS grew by more than 10%.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402

import sqlgym  # noqa: E402

HOST = "127.0.0.1"  # loopback only: the benchmark never binds elsewhere
DEFAULT_SCENARIOS = ("easy/point_lookup", "medium/leading_wildcard", "easy/sort_limit", "easy/fk_join")
MAX_SESSIONS, MAX_STEPS = 256, 1000


def script(scenario_id: str, n: int) -> list[str]:
    """``n`` actions for a scenario: every kind of step an agent takes, a malformed one, and a report now and then."""
    sc = sqlgym.load_scenario(scenario_id)
    t = sc.schema[0]
    col = next((c.name for c in t.columns if not c.primary_key), t.columns[0].name)
    q = sc.workload[0].id
    cycle = [{"action_type": "list_tables", "payload": {}},
             {"action_type": "list_queries", "payload": {}},
             {"action_type": "describe_table", "payload": {"table": t.name}},
             {"action_type": "inspect_query", "payload": {"query_id": q}},
             {"action_type": "create_index", "payload": {"table": t.name, "columns": [col], "name": "bench_ix"}},
             {"action_type": "analyze_indexes", "payload": {}},
             "not json at all",
             {"action_type": "drop_index", "payload": {"name": "bench_ix"}},
             {"action_type": "analyze_statistics", "payload": {"table": t.name}},
             {"action_type": "submit_report", "payload": {"summary": "bench"}}]
    return [a if isinstance(a, str) else json.dumps(a) for a in (cycle * (n // len(cycle) + 1))[:n]]


def same(a: Any, b: Any) -> bool:
    """Equal values of the same types, floats and arrays bit for bit."""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        if a.dtype == object:  # the cells are objects: compare them, not their addresses
            return b.dtype == object and a.shape == b.shape and same(a.ravel().tolist(), b.ravel().tolist())
        return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    if isinstance(a, float):
        return a.hex() == b.hex() or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def pct(xs: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(xs), q)) if xs else float("nan")


# -- in process -----------------------------------------------------------------------------------
def in_process(jobs: list[tuple[str, int, list[str]]]) -> tuple[list[list[tuple]], list[float]]:
    """Each job's trace (reset and step results) and the latency of every step, caches warm (a first pass warms them)."""
    traces: list[list[tuple]] = []
    latencies: list[float] = []
    envs = {sid: gym.make("SQLIndex-v0", scenario=sid) for sid in {j[0] for j in jobs}}
    for warm in (True, False):
        traces.clear()
        for sid, seed, actions in jobs:
            env = envs[sid]
            trace = [env.reset(seed=seed)]
            for a in actions:
                t0 = time.perf_counter()
                out = env.step(a)
                dt = time.perf_counter() - t0
                if not warm:
                    latencies.append(dt)
                trace.append(out)
                if out[2] or out[3]:
                    trace.append(env.reset(seed=seed))
            traces.append(trace)
    for env in envs.values():
        env.close()
    return traces, latencies


# -- the server -----------------------------------------------------------------------------------
def start_server(sessions: int, timeout_s: float) -> tuple[subprocess.Popen, str]:
    cmd = [sys.executable, "-m", "sqlgym.serve", "--env", "SQLIndex-v0", "--host", HOST, "--port", "0",
           "--max-sessions", str(sessions), "--session-timeout", "120"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("SQLGYM_SERVE_TOKEN", None)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    deadline = time.monotonic() + timeout_s
    assert proc.stdout is not None
    lines = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        m = re.search(r"on (http://[\d.]+:\d+)", line)
        if m:
            return proc, m.group(1)
    proc.kill()
    raise RuntimeError("the server did not start: " + "".join(lines))


def rss_mb(pid: int) -> float:
    """Resident memory of a process (Linux: /proc; elsewhere psutil)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024
    except OSError:
        import psutil

        return psutil.Process(pid).memory_info().rss / 2**20


async def session(url: str, sid: str, seed: int, actions: list[str], expected: list[tuple] | None,
                  latencies: list[float], errors: list[str]) -> None:
    from sqlgym.integrations.openenv import SQLGymClient

    def result(r, reset: bool) -> tuple:
        o = r.observation
        return (o.text, o.metadata) if reset else (o.text, r.reward, o.terminated, o.truncated, o.metadata)

    trace = []
    try:
        async with SQLGymClient(url, message_timeout_s=120) as client:
            trace.append(result(await client.reset(seed=seed, scenario=sid), True))
            for a in actions:
                t0 = time.perf_counter()
                r = await client.step(a)
                latencies.append(time.perf_counter() - t0)
                trace.append(result(r, False))
                if r.done:
                    trace.append(result(await client.reset(seed=seed, scenario=sid), True))
    except Exception as e:  # counted, never raised: the benchmark reports every failure
        errors.append(f"session {sid} seed {seed}: {type(e).__name__}: {e}")
        return
    if expected is not None and not (len(trace) == len(expected) and all(same(x, y) for x, y in zip(trace, expected))):
        errors.append(f"session {sid} seed {seed}: differs from the in-process episode")


async def one_round(url: str, jobs, expected, deadline: float) -> dict[str, Any]:
    latencies: list[float] = []
    errors: list[str] = []
    t0 = time.perf_counter()
    tasks = [session(url, sid, seed, acts, exp, latencies, errors) for (sid, seed, acts), exp in zip(jobs, expected)]
    try:
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=max(1.0, deadline - time.monotonic()))
    except asyncio.TimeoutError:
        errors.append("the round ran past the time limit")
    wall = time.perf_counter() - t0
    return {"steps": len(latencies), "seconds": wall, "steps_per_s": len(latencies) / wall if wall else 0.0,
            "p50_ms": 1e3 * pct(latencies, 50), "p99_ms": 1e3 * pct(latencies, 99), "errors": errors}


def run(sessions: int = 32, steps: int = 50, rounds: int = 3, scenarios: tuple[str, ...] = DEFAULT_SCENARIOS,
        time_limit: float = 600.0) -> dict[str, Any]:
    if not (1 <= sessions <= MAX_SESSIONS and 1 <= steps <= MAX_STEPS and 1 <= rounds <= 10):
        raise ValueError(f"sessions 1..{MAX_SESSIONS}, steps 1..{MAX_STEPS}, rounds 1..10")
    deadline = time.monotonic() + time_limit
    jobs = [(scenarios[i % len(scenarios)], i, script(scenarios[i % len(scenarios)], steps)) for i in range(sessions)]
    expected, local = in_process(jobs)  # reset: (obs, info); step: (obs, reward, terminated, truncated, info)
    ref = {"p50_ms": 1e3 * pct(local, 50), "p99_ms": 1e3 * pct(local, 99), "steps_per_s": len(local) / sum(local)}
    proc, url = start_server(sessions, max(30.0, deadline - time.monotonic()))
    out: dict[str, Any] = {"sessions": sessions, "steps": steps, "rounds": [], "in_process": ref, "url": url}
    try:
        for _ in range(rounds):
            r = asyncio.run(one_round(url, jobs, expected, deadline))
            r["server_rss_mb"] = rss_mb(proc.pid)
            out["rounds"].append(r)
        single = asyncio.run(one_round(url, jobs[:1], expected[:1], deadline))
        out["single_session"] = single
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
    last = out["rounds"][-1]
    rss = [r["server_rss_mb"] for r in out["rounds"]]
    out.update(
        throughput_steps_per_s=last["steps_per_s"],
        p50_ratio=last["p50_ms"] / ref["p50_ms"], p99_ratio=last["p99_ms"] / ref["p99_ms"],
        single_p50_ratio=out["single_session"]["p50_ms"] / ref["p50_ms"],
        errors=sum(len(r["errors"]) for r in out["rounds"]) + len(out["single_session"]["errors"]),
        error_messages=[e for r in [*out["rounds"], out["single_session"]] for e in r["errors"]][:10],
        rss_growth=(rss[-1] - rss[0]) / rss[0],
    )
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sessions", type=int, default=32)
    p.add_argument("--steps", type=int, default=50, help="steps per session per round")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--scenarios", default=",".join(DEFAULT_SCENARIOS), help="SQLIndex-v0 scenario ids, comma-separated")
    p.add_argument("--time-limit", type=float, default=600.0, help="seconds for the whole benchmark")
    p.add_argument("--json", action="store_true", help="print the full result as JSON")
    args = p.parse_args(argv)
    res = run(args.sessions, args.steps, args.rounds, tuple(s for s in args.scenarios.split(",") if s), args.time_limit)
    if args.json:
        print(json.dumps(res, indent=1))
    ref = res["in_process"]
    print(f"in process: {ref['steps_per_s']:.0f} steps/s, p50 {ref['p50_ms']:.2f} ms, p99 {ref['p99_ms']:.2f} ms a step")
    for i, r in enumerate(res["rounds"], 1):
        print(f"round {i}: {res['sessions']} sessions x {res['steps']} steps: {r['steps_per_s']:.0f} steps/s, "
              f"p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms, errors {len(r['errors'])}, "
              f"server RSS {r['server_rss_mb']:.0f} MB")
    s = res["single_session"]
    print(f"one session alone: p50 {s['p50_ms']:.2f} ms ({res['single_p50_ratio']:.1f}x in-process), "
          f"p99 {s['p99_ms']:.2f} ms")
    print(f"{res['sessions']} sessions: throughput {res['throughput_steps_per_s']:.0f} steps/s; latency p50 "
          f"{res['p50_ratio']:.1f}x, p99 {res['p99_ratio']:.1f}x the in-process step; errors {res['errors']}; "
          f"server RSS {res['rounds'][0]['server_rss_mb']:.0f} -> {res['rounds'][-1]['server_rss_mb']:.0f} MB "
          f"({100 * res['rss_growth']:+.1f}%)")
    for e in res["error_messages"]:
        print("  error:", e)
    return 0 if res["errors"] == 0 and res["rss_growth"] <= 0.10 else 1


if __name__ == "__main__":
    sys.exit(main())
