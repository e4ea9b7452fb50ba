"""Paired comparisons of two runs on the same scenarios and seeds: "better" means outside the noise.

Episode ``i`` of every run plays the same scenario with the same seed, so two runs are compared pair by
pair: the difference per episode, its mean, and a 95% percentile-bootstrap confidence interval of that
mean (episodes resampled with replacement, 10,000 times, from a fixed seed, so the interval is the same
on every machine). For a right/wrong metric (EX) the discordant pairs are counted too: only those carry
information about which run is better, and McNemar's exact test is computed from them.

    from sqlgym.eval import harness, paired
    a, b = harness.load("sft.json"), harness.load("grpo.json")
    for row in paired.compare(a, b):
        print(row["metric"], row["mean_diff"], row["ci95"], row["verdict"])
"""

from __future__ import annotations

import math
from typing import Any

from sqlgym.errors import ConfigError

BOOTSTRAP = 10_000
# SQLIndex-v0: share of the gap to the reference closed, and points (100 x (1 - cost / baseline)).
INDEX_METRICS = (("gap_closed", "gap closed"), ("performance", "points"))
TEXT_METRICS = (("correct", "EX"),)


def metrics_of(records: list[dict[str, Any]]) -> tuple[tuple[str, str], ...]:
    """The paired metrics a run's records carry: EX for text-to-SQL, gap closed and points for SQLIndex."""
    final = records[0]["final"] if records else {}
    if "correct" in final:
        return TEXT_METRICS
    if "gap_closed" in final:
        return INDEX_METRICS
    raise ConfigError("these records carry neither gap_closed (SQLIndex) nor correct (Text2SQL); nothing to compare")


def pairs(a: dict[str, Any], b: dict[str, Any], key: str) -> list[tuple[float, float]]:
    """(a, b) values of ``key`` for every episode both runs played (matched by scenario and seed)."""
    left = {(r["scenario"], r["seed"]): r["final"][key] for r in a["records"]}
    out = []
    for r in b["records"]:
        k = (r["scenario"], r["seed"])
        if k in left:
            out.append((float(left[k]), float(r["final"][key])))
    return out


def bootstrap_ci(diffs: list[float], level: float = 0.95, n: int = BOOTSTRAP, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``diffs``."""
    import numpy as np

    d = np.asarray(diffs, dtype=float)
    rng = np.random.default_rng(seed)
    means = d[rng.integers(0, len(d), size=(n, len(d)))].mean(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def mcnemar_p(a_only: int, b_only: int) -> float:
    """Two-sided exact McNemar test: the chance of a split this uneven among the discordant pairs."""
    n = a_only + b_only
    if n == 0:
        return 1.0
    k = min(a_only, b_only)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def compare(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per metric: ``b - a`` per paired episode, its mean, 95% CI, wins / losses / ties, and a verdict."""
    rows = []
    for key, label in metrics_of(a["records"]):
        pr = pairs(a, b, key)
        if not pr:
            raise ConfigError(f"{a['policy']} and {b['policy']} share no (scenario, seed) episode; run both on the "
                              f"same split, --episodes and --seed")
        diffs = [y - x for x, y in pr]
        lo, hi = bootstrap_ci(diffs)
        row = {"metric": label, "a": a["policy"], "b": b["policy"], "pairs": len(pr),
               "mean_a": sum(x for x, _ in pr) / len(pr), "mean_b": sum(y for _, y in pr) / len(pr),
               "mean_diff": sum(diffs) / len(diffs), "ci95": (lo, hi),
               "wins": sum(d > 1e-12 for d in diffs), "losses": sum(d < -1e-12 for d in diffs),
               "verdict": "better" if lo > 0 else "worse" if hi < 0 else "within noise"}
        row["ties"] = len(diffs) - row["wins"] - row["losses"]
        if key == "correct":  # discordant pairs: right in one run only
            row["a_only"], row["b_only"] = row["losses"], row["wins"]
            row["mcnemar_p"] = mcnemar_p(row["a_only"], row["b_only"])
        rows.append(row)
    return rows


def table(rows: list[dict[str, Any]], title: str = "paired differences (b - a), 95% bootstrap CI"):
    """The rows as a rich table (the discordant-pairs column only when a row is EX)."""
    from rich.table import Table

    exact = any("a_only" in r for r in rows)
    t = Table(title=title)
    heads = ["a", "b", "metric", "pairs", "mean a", "mean b", "b - a", "95% CI", "b won / lost / tied"]
    heads += ["discordant a / b (McNemar p)"] if exact else []
    for head in heads + ["verdict"]:
        t.add_column(head, justify="left" if head in ("a", "b", "metric", "verdict") else "right")
    for r in rows:
        cells = [r["a"], r["b"], r["metric"], str(r["pairs"]), f"{r['mean_a']:.3f}", f"{r['mean_b']:.3f}",
                 f"{r['mean_diff']:+.3f}", f"[{r['ci95'][0]:+.3f}, {r['ci95'][1]:+.3f}]",
                 f"{r['wins']} / {r['losses']} / {r['ties']}"]
        if exact:
            cells.append(f"{r['a_only']} / {r['b_only']} (p={r['mcnemar_p']:.3f})" if "a_only" in r else "")
        t.add_row(*cells, r["verdict"])
    return t


__all__ = ["bootstrap_ci", "compare", "mcnemar_p", "metrics_of", "pairs", "table"]
