"""Summaries of SQLIndex-v0 episode records: points, gap closed, regressions, by difficulty."""

from __future__ import annotations

from typing import Any

from sqlgym.errors import ConfigError


def _block(recs: list[dict]) -> dict[str, Any]:
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


def index_summary(records: list[dict]) -> dict[str, Any]:
    if not records:
        raise ConfigError("no episodes to summarise")
    out = _block(records)
    out["by_difficulty"] = {d: _block([r for r in records if r["final"]["difficulty"] == d])
                            for d in ("easy", "medium", "hard") if any(r["final"]["difficulty"] == d for r in records)}
    kinds = sorted({r["final"].get("archetype", "") for r in records} - {""})  # generator schema shapes; "curated"
    out["by_archetype"] = {a: _block([r for r in records if r["final"].get("archetype") == a]) for a in kinds}
    return out
