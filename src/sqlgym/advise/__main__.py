"""``python -m sqlgym.advise``: which indexes would make your SQLite database's workload cheaper, measured.

    python -m sqlgym.advise shop.db --workload queries.sql                  # print the advice
    python -m sqlgym.advise shop.db --workload queries.sql --out advice.sql # and write it as a migration
    python -m sqlgym.advise shop.db --workload stats.csv --policy heuristic --json
    python -m sqlgym.advise shop.db --workload queries.sql --apply          # shop.db.bak first, one transaction

The database is opened read-only and never written, unless ``--apply`` is given.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from sqlgym.advise import Advice, advise, apply, migration
from sqlgym.agents import LLM_PREFIXES, check_policy_name
from sqlgym.errors import ConfigError, SqlgymError, SqlgymWarning


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m sqlgym.advise",
                                description="Recommend CREATE/DROP INDEX for a SQLite database and its workload, "
                                            "measured with SQLite's own counters. Never writes the database "
                                            "unless --apply is given.")
    p.add_argument("database", metavar="DB", help="the SQLite file (opened read-only)")
    p.add_argument("--workload", required=True, metavar="FILE",
                   help="the statements the application runs, with their literal values: a .sql file "
                        "('-- weight: N' before a statement counts it N times) or a sql,calls CSV")
    p.add_argument("--policy", default="greedy",
                   help="greedy (default: the what-if advisor on measured cost), heuristic, hf:<model dir>, "
                        "openai:<base_url>")
    p.add_argument("--adapter", help="a LoRA adapter directory for an hf:<model> policy")
    p.add_argument("--out", metavar="FILE", help="write the advice as a migration (one transaction) to FILE")
    p.add_argument("--apply", action="store_true",
                   help="apply the advice to DB, in one transaction, after copying it to DB.bak")
    p.add_argument("--json", action="store_true", help="print the advice as JSON (for scripts)")
    p.add_argument("--seed", type=int, default=0, help="deals the observed bindings into visible and held-out ones")
    p.add_argument("--visible", type=float, default=0.5, help="fraction of each statement's bindings the policy sees")
    p.add_argument("--budget", type=float, help="index storage allowed, as a fraction of the tables' bytes")
    p.add_argument("--max-indexes", type=int, help="indexes allowed in all (default: the file's + 6)")
    p.add_argument("--max-columns", type=int, default=3, help="columns per index (default 3)")
    p.add_argument("--statistics", choices=("file", "analyze"), default="file",
                   help="file: the planner's statistics as the file has them (default); analyze: fresh ANALYZE")
    p.add_argument("--sample", type=float, help="measure on this fraction of each table's rows (for large files)")
    p.add_argument("--max-bytes", type=int, help="largest file read whole (default 256 MiB)")
    return p


def _options(args) -> dict:
    return {"seed": args.seed, "visible": args.visible, "budget": args.budget, "max_indexes": args.max_indexes,
            "max_columns": args.max_columns, "statistics": args.statistics, "sample": args.sample,
            "max_bytes": args.max_bytes}


def _run(args, err: Console) -> Advice:
    """The advice, with a progress bar on stderr while the reference runs (when stderr is a terminal)."""
    opts = _options(args)
    if not err.is_terminal:
        return advise(args.database, args.workload, args.policy, adapter=args.adapter, **opts)
    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True) as bar:
        task = bar.add_task("reference: greedy what-if advisor", total=None)

        def progress(round_: int, tried: int, total: int) -> None:
            bar.update(task, description=f"reference: greedy what-if advisor, round {round_}", completed=tried,
                       total=total)

        return advise(args.database, args.workload, args.policy, adapter=args.adapter, progress=progress, **opts)


def _short(sql: str, n: int = 70) -> str:
    sql = " ".join(sql.split())
    return sql if len(sql) <= n else sql[: n - 3] + "..."


def _print(advice: Advice, console: Console) -> None:
    change = Table(title="Recommended changes", show_header=False)
    change.add_column("statement")
    for s in advice.statements or ["(none: no index change lowers the workload's cost)"]:
        change.add_row(s + (";" if advice.statements else ""))
    console.print(change)
    for qid, sql in advice.rewrites.items():
        console.print(f"[yellow]rewrite {qid} in the application:[/yellow] {sql}")
    t = Table(title="Measured cost per execution (SQLite VM steps + 15 x page reads, mean over logged bindings)")
    for col, justify in (("id", "left"), ("kind", "left"), ("weight", "right"), ("statement", "left"),
                         ("before", "right"), ("after", "right"), ("change", "right")):
        t.add_column(col, justify=justify)  # type: ignore[arg-type]
    for c in advice.costs:
        pct = f"{100 * (c.after / c.before - 1):+.1f}%" if c.before else ""
        t.add_row(c.id, "write" if c.kind == "dml" else "read", f"{c.weight:g}", _short(c.sql), f"{c.before:,.0f}",
                  f"{c.after:,.0f}", pct)
    pct = f"{100 * (advice.after / advice.before - 1):+.1f}%" if advice.before else ""
    t.add_section()
    t.add_row("total", "", "", "weighted", f"{advice.before:,.0f}", f"{advice.after:,.0f}", pct)
    console.print(t)
    ref = (f"computed in {advice.reference_seconds:.1f} s" if advice.reference_seconds is not None
           else "from the cache")
    console.print(f"policy {advice.policy}, {advice.steps} steps; reference (greedy advisor) {ref}.")
    if advice.note:
        console.print(f"[yellow]{advice.note}[/yellow]")
    if advice.left_out:
        console.print(f"[yellow]{len(advice.left_out)} piece(s) of the workload left out:[/yellow]")
        for line in advice.left_out[:20]:
            console.print(f"  {line}", markup=False, highlight=False)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    console = Console(width=None if sys.stdout.isatty() else 140)
    err = Console(stderr=True)
    try:
        if not args.policy.startswith(LLM_PREFIXES):
            check_policy_name(args.policy, "SQLIndex-v0")
        if args.out and not Path(args.out).expanduser().resolve().parent.is_dir():
            raise ConfigError(f"--out {args.out}: its directory does not exist")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SqlgymWarning)  # what is left out is part of the advice
            advice = _run(args, err)
        if args.out:
            Path(args.out).write_text(migration(advice))
        backup = apply(advice, args.database) if args.apply and advice.statements else None
        if args.json:
            out = advice.as_dict()
            out["applied"] = backup is not None
            out["backup"] = str(backup) if backup else None
            print(json.dumps(out, indent=1))
            return 0
        _print(advice, console)
        if args.out:
            console.print(f"migration written to {args.out}")
        if backup is not None:
            console.print(f"applied to {args.database} in one transaction; the database before it is {backup}")
        elif args.apply:
            console.print("nothing to apply")
        return 0
    except SqlgymError as e:
        err.print(f"[red]error:[/red] {escape(str(e))}", highlight=False)
        return 2


if __name__ == "__main__":
    sys.exit(main())
