"""Execution-accuracy reports over episode records (the comparison itself is :mod:`sqlgym.db.results`)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlgym.db.results import Result, execution_match, row_f1

def ex_report(records: Sequence[dict]) -> dict:
    """EX over episode records (``final`` has ``correct``, ``answered``, ``set_correct``, ``kind``, ...).

    EX counts every question (no answer = wrong); coverage is the fraction answered with SQL or an
    abstention/clarification; set-EX counts answers that match as sets; breakdowns by difficulty,
    kind and database.
    """
    def block(recs):
        n = len(recs)
        return {"questions": n,
                "ex": sum(r["final"]["correct"] for r in recs) / n,
                "coverage": sum(r["final"]["answered"] for r in recs) / n,
                "set_ex": sum(r["final"]["set_correct"] for r in recs) / n,
                "mean_return": sum(r["return"] for r in recs) / n}

    out = block(records)
    for key, field in (("by_difficulty", "difficulty"), ("by_kind", "kind"), ("by_database", "db_id")):
        groups: dict[str, list] = {}
        for r in records:
            groups.setdefault(r["final"][field], []).append(r)
        out[key] = {g: block(rs) for g, rs in sorted(groups.items())}
    return out


__all__ = ["Result", "ex_report", "execution_match", "row_f1"]
