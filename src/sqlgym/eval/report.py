"""Tables (rich) and plots (matplotlib, imported only when asked) of eval results."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

COLUMNS = (("episodes", "episodes", "{:d}"), ("mean_performance", "mean pts", "{:+.1f}"),
           ("best_performance", "best", "{:+.1f}"), ("worst_performance", "worst", "{:+.1f}"),
           ("mean_gap_closed", "gap closed", "{:.3f}"), ("mean_hidden_gap_closed", "hidden gap", "{:.3f}"),
           ("regression_rate", "regressions", "{:.0%}"))


def summary_table(results: list[dict[str, Any]], title: str = "") -> Table:
    """One row per (run, difficulty) plus an 'all' row per run."""
    t = Table(title=title or None)
    t.add_column("policy")
    t.add_column("split")
    t.add_column("difficulty")
    for _, head, _ in COLUMNS:
        t.add_column(head, justify="right")
    for res in results:
        s = res["summary"]
        rows = [("all", s)] + list(s["by_difficulty"].items())
        for diff, block in rows:
            t.add_row(res["policy"], res["split"], diff, *(fmt.format(block[k]) for k, _, fmt in COLUMNS),
                      end_section=diff == rows[-1][0])
    return t


TEXT_COLUMNS = (("questions", "questions", "{:d}"), ("ex", "EX", "{:.3f}"), ("coverage", "coverage", "{:.3f}"),
                ("set_ex", "set EX", "{:.3f}"), ("mean_return", "mean return", "{:+.3f}"))


def ex_table(results: list[dict[str, Any]], title: str = "") -> Table:
    """Execution accuracy: one row for all questions, then by difficulty, kind and database."""
    t = Table(title=title or None)
    for head in ("policy", "split", "group"):
        t.add_column(head)
    for _, head, _ in TEXT_COLUMNS:
        t.add_column(head, justify="right")
    for res in results:
        s = res["summary"]
        rows = [("all", s)] + [(f"{label} {name}", block) for key, label in
                               (("by_difficulty", "difficulty"), ("by_kind", "kind"), ("by_database", "db"))
                               for name, block in s[key].items()]
        for i, (group, block) in enumerate(rows):
            t.add_row(res["policy"], res["split"], group, *(fmt.format(block[k]) for k, _, fmt in TEXT_COLUMNS),
                      end_section=i == len(rows) - 1)
    return t


def print_results(results: list[dict[str, Any]], title: str = "", console: Console | None = None) -> None:
    text = [r for r in results if "ex" in r["summary"]]
    index = [r for r in results if "ex" not in r["summary"]]
    for group, make in ((index, summary_table), (text, ex_table)):
        if group:
            (console or Console()).print(make(group, title))


def plot(results: list[dict[str, Any]], out: str, metric: str | None = None) -> None:
    """Per-scenario bars of ``metric`` for one or more runs, side by side (text-to-SQL: EX per database)."""
    if metric is None and "ex" in results[0]["summary"]:
        return plot_ex(results, out)
    metric = metric or "gap_closed"
    from matplotlib.figure import Figure  # no pyplot: the caller's backend (a notebook's) is left alone

    scenarios = list(dict.fromkeys(r["scenario"] for res in results for r in res["records"]))
    width = 0.8 / len(results)
    fig = Figure(figsize=(max(8, 0.45 * len(scenarios) * max(1, len(results) / 2)), 4.5))
    ax = fig.subplots()
    for k, res in enumerate(results):
        by: dict[str, list[float]] = {}
        for r in res["records"]:
            by.setdefault(r["scenario"], []).append(r["final"][metric])
        ys = [sum(by.get(s, [0])) / len(by.get(s, [0])) for s in scenarios]
        ax.bar([i + k * width for i in range(len(scenarios))], ys, width, label=f"{res['policy']} ({res['split']})")
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks([i + width * (len(results) - 1) / 2 for i in range(len(scenarios))])
    ax.set_xticklabels([s.replace("generator://index/", "gen/") for s in scenarios], rotation=60, ha="right", fontsize=7)
    ax.set_ylabel(metric.replace("_", " "))
    ax.set_title(f"SQLIndex-v0: {metric.replace('_', ' ')} per scenario")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=120)


def plot_ex(results: list[dict[str, Any]], out: str) -> None:
    """EX per database (and overall) for one or more text-to-SQL runs."""
    from matplotlib.figure import Figure  # no pyplot: the caller's backend (a notebook's) is left alone

    groups = ["all"] + sorted({db for res in results for db in res["summary"]["by_database"]})
    width = 0.8 / len(results)
    fig = Figure(figsize=(max(6, 1.2 * len(groups)), 4))
    ax = fig.subplots()
    for k, res in enumerate(results):
        s = res["summary"]
        ys = [s["ex"] if g == "all" else s["by_database"].get(g, {}).get("ex", 0.0) for g in groups]
        ax.bar([i + k * width for i in range(len(groups))], ys, width, label=f"{res['policy']} ({res['split']})")
    ax.set_xticks([i + width * (len(results) - 1) / 2 for i in range(len(groups))])
    ax.set_xticklabels(groups, rotation=30, ha="right")
    ax.set_ylim(0, 1)
    ax.set_ylabel("execution accuracy")
    ax.set_title(f"{results[0].get('env', 'Text2SQL-v0')}: EX by database")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
