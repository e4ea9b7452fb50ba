"""``python -m sqlgym.eval``: score policies on the same scenarios and seeds.

    python -m sqlgym.eval --env SQLIndex-v0 --policy greedy --split test --episodes 200 --seed 0 --out results.json
    python -m sqlgym.eval --policy noop,random,heuristic,greedy --split curated --plot curated.png
    python -m sqlgym.eval --env Text2SQL-v0 --policy gold,schema-heuristic,random --split test
    python -m sqlgym.eval --compare a.json b.json       # b - a per paired episode, with a 95% bootstrap CI
    python -m sqlgym.eval --validate results.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn, TimeRemainingColumn

from sqlgym.agents import LLM_PREFIXES, check_policy_name
from sqlgym.agents.llm import PlainProgress, check_llm_spec, needs_hub, stdout_is_terminal
from sqlgym.errors import ConfigError, SqlgymError
from sqlgym.eval import harness, report
from sqlgym.models import offline
from sqlgym.tasks import env_ids, task


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m sqlgym.eval", description="Score policies on sqlgym scenarios.")
    p.add_argument("--env", default="SQLIndex-v0", help=f"environment id: {', '.join(env_ids())} (default SQLIndex-v0)")
    p.add_argument("--policy", default=None,
                   help="policy name, or several separated by commas. SQLIndex-v0: noop, random, heuristic, greedy "
                        "(default), brute. Text2SQL: gold (default), schema-heuristic, random. Any env: hf:embedded, "
                        "hf:<model or training output dir> (with --adapter), openai:<base_url> (vLLM, Ollama)")
    p.add_argument("--split", default=None,
                   help="SQLIndex-v0: curated (default; every hand-written scenario) or train/validation/test. "
                        "Text2SQL: train/validation/test (default test: the held-out database)")
    p.add_argument("--adapter", help="a LoRA adapter directory for an hf:<model> policy")
    p.add_argument("--dataset", default="sqlgym",
                   help="Text2SQL: sqlgym (the shipped databases), spider:<dir> or bird:<dir> (a local copy)")
    p.add_argument("--scenario", help="one scenario id instead of a split (run --episodes times, seeds differ): "
                                      "a curated or generator:// id, sqlite:///abs/file.db?workload=/abs/queries.sql, "
                                      "or benchmark://tpch?sf=0.01")
    p.add_argument("--episodes", type=int, default=None,
                   help="episodes (generated splits: the first N scenarios, default 200; curated: default one each)")
    p.add_argument("--seed", type=int, default=0, help="seed of episode 0; episode i uses seed+i")
    p.add_argument("--workers", type=int, default=1, help="worker processes (results do not depend on it)")
    p.add_argument("--remote", metavar="URL",
                   help="play the episodes on a python -m sqlgym.serve server of --env at URL (token: "
                        "$SQLGYM_SERVE_TOKEN); the records are the ones this process would write")
    p.add_argument("--out", help="write results JSON here (several policies: one file, a list of runs)")
    p.add_argument("--plot", help="draw per-scenario bars of gap closed to this PNG")
    p.add_argument("--compare", nargs="+", metavar="RESULTS",
                   help="print saved results side by side, then each run against the first, paired by scenario and "
                        "seed: the mean difference with its 95%% bootstrap CI (and, for EX, the discordant pairs)")
    p.add_argument("--validate", metavar="RESULTS", help="replay every record and check its rewards exactly")
    return p


def _run_one(policy: str, n: int, args, console: Console) -> dict:
    """One policy's run, with a progress bar on a terminal and plain lines on stderr otherwise (a log, a pipe)."""
    t0 = time.perf_counter()
    run = dict(split=args.split, episodes=args.episodes, seed=args.seed, workers=args.workers, env_id=args.env,
               scenario=args.scenario, dataset=args.dataset, adapter=args.adapter, remote=args.remote)
    if stdout_is_terminal():
        with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=True) as bar:
            bar_task = bar.add_task(f"{policy} on {args.scenario or args.split}", total=n)
            res = harness.run(policy, progress=lambda k: bar.advance(bar_task, k), **run)
    else:
        if policy.startswith("hf:"):
            print(f"policy {policy}: loading the model, then {n} episodes", file=sys.stderr, flush=True)
        lines = PlainProgress(f"policy {policy}", n, "episodes", enabled=True)
        res = harness.run(policy, progress=lines.advance, **run)
    res["seconds"] = time.perf_counter() - t0
    console.print(f"{policy}: {n} episodes in {res['seconds']:.1f} s ({n / res['seconds']:.2f} episodes/s)")
    return res


def _runs(data) -> list[dict]:
    return data if isinstance(data, list) else [data]


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    console = Console(width=None if sys.stdout.isatty() else 140)
    try:
        t = task(args.env)
        args.policy = args.policy or t.default_policy
        args.split = args.split or t.default_split
        if args.validate:
            runs = _runs(harness.load(args.validate))
            problems = [p for r in runs for p in harness.validate(r)]
            n = sum(len(r["records"]) for r in runs)
            if problems:
                console.print("\n".join(problems))
                console.print(f"[red]{len(problems)} of {n} records do not replay exactly[/red]")
                return 1
            console.print(f"all {n} records replay with identical rewards")
            return 0
        if args.compare:
            runs = [r for path in args.compare for r in _runs(harness.load(path))]
            report.print_results(runs, "comparison", console)
            if len(runs) > 1:
                from sqlgym.eval import paired

                console.print(paired.table([row for other in runs[1:] for row in paired.compare(runs[0], other)]))
            if args.plot:
                report.plot(runs, args.plot)
            return 0
        policies = [p.strip() for p in args.policy.split(",") if p.strip()]
        if not policies:
            raise ConfigError("--policy names no policy; give one, or several separated by commas")
        for policy in policies:  # every name is checked before the first episode runs (models are not loaded)
            if policy.startswith(LLM_PREFIXES):
                check_llm_spec(policy, args.adapter)
            else:
                check_policy_name(policy, args.env)
        n = len(harness.scenario_ids(args.split, args.episodes, args.scenario, args.env, args.dataset))
        for flag, path in (("--out", args.out), ("--plot", args.plot)):  # written at the end: check now
            if path and not os.path.isdir(os.path.dirname(os.path.abspath(path))):
                raise ConfigError(f"{flag} {path}: the directory {os.path.dirname(path)!r} does not exist; create it first")
        hub = any(needs_hub(policy) for policy in policies)
        results = []
        with offline(not hub):  # the Hugging Face hub only for an hf:<org/name> policy
            for policy in policies:
                results.append(_run_one(policy, n, args, console))
        report.print_results(results, f"{args.env} on {args.scenario or args.split}", console)
        if args.out:
            with open(args.out, "w") as f:
                json.dump(results[0] if len(results) == 1 else results, f, indent=1)
        if args.plot:
            report.plot(results, args.plot)
        return 0
    except SqlgymError as e:
        console.print(f"[red]error:[/red] {e}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
