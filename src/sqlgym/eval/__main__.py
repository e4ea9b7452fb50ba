"""``python -m sqlgym.eval``: score policies on the same scenarios and seeds.

    python -m sqlgym.eval --env SQLIndex-v0 --policy greedy --split test --episodes 200 --seed 0 --out results.json
    python -m sqlgym.eval --policy noop,random,heuristic,greedy --split curated --plot curated.png
    python -m sqlgym.eval --env Text2SQL-v0 --policy gold,schema-heuristic,random --split test
    python -m sqlgym.eval --compare a.json b.json
    python -m sqlgym.eval --validate results.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn, TimeRemainingColumn

from sqlgym.agents import check_policy_name
from sqlgym.errors import SqlgymError
from sqlgym.eval import harness, report
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
    p.add_argument("--scenario", help="one scenario id instead of a split (run --episodes times, seeds differ)")
    p.add_argument("--episodes", type=int, default=None,
                   help="episodes (generated splits: the first N scenarios, default 200; curated: default one each)")
    p.add_argument("--seed", type=int, default=0, help="seed of episode 0; episode i uses seed+i")
    p.add_argument("--workers", type=int, default=1, help="worker processes (results do not depend on it)")
    p.add_argument("--out", help="write results JSON here (several policies: one file, a list of runs)")
    p.add_argument("--plot", help="draw per-scenario bars of gap closed to this PNG")
    p.add_argument("--compare", nargs="+", metavar="RESULTS", help="print saved results side by side")
    p.add_argument("--validate", metavar="RESULTS", help="replay every record and check its rewards exactly")
    return p


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
            if args.plot:
                report.plot(runs, args.plot)
            return 0
        policies = [p.strip() for p in args.policy.split(",") if p.strip()]
        for policy in policies:  # every name is checked before the first episode runs
            check_policy_name(policy, args.env)
        n = len(harness.scenario_ids(args.split, args.episodes, args.scenario, args.env, args.dataset))
        results = []
        for policy in policies:
            t0 = time.perf_counter()
            with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=True) as bar:
                bar_task = bar.add_task(f"{policy} on {args.split}", total=n)
                res = harness.run(policy, args.split, args.episodes, args.seed, args.workers, args.env,
                                  progress=lambda k: bar.advance(bar_task, k), scenario=args.scenario, dataset=args.dataset,
                                  adapter=args.adapter)
            res["seconds"] = time.perf_counter() - t0
            console.print(f"{policy}: {n} episodes in {res['seconds']:.1f} s ({n / res['seconds']:.2f} episodes/s)")
            results.append(res)
        report.print_results(results, f"{args.env} on {args.split}", console)
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
