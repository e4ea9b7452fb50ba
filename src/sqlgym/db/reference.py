"""The reference configuration of a scenario: the greedy advisor's, computed once, cached on disk.

The cache lives under ``$SQLGYM_CACHE_DIR`` (default ``~/.cache/sqlgym``); entries are keyed by the
scenario's fingerprint, SQLite's version and the cost-model version, so they never go stale.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import apsw

from sqlgym.db.advisor import Move, greedy
from sqlgym.db.cost import WorkloadMeter
from sqlgym.db.sqlite import Database, Snapshot
from sqlgym.scenarios.spec import fingerprint
from sqlgym.types import IndexSpec, Measurement

COST_MODEL = "v2"  # v2: statements prepared fresh (v1 counted re-prepare steps after DDL)


def cache_dir() -> Path:
    root = os.environ.get("SQLGYM_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "sqlgym")
    return Path(root)


@dataclass(frozen=True)
class Reference:
    """What the greedy advisor did, and the cost it reached."""

    moves: tuple[tuple[str, str, tuple[str, ...]], ...]  # (kind, index name, columns); columns empty for drops
    tables: tuple[str, ...]
    measurement: Measurement


def _path(snapshot: Snapshot, scenario) -> Path:
    key = f"{fingerprint(scenario)}-{snapshot.instance}-{apsw.sqlite_lib_version()}-{COST_MODEL}"
    return cache_dir() / "reference" / f"{key}.json"


def reference(scenario, snapshot: Snapshot, meter: WorkloadMeter,
              progress: Callable[[int, int, int], None] | None = None) -> Reference:
    """The cached reference, or the greedy advisor's run (``progress`` as in ``advisor.greedy``), then cached."""
    path = _path(snapshot, scenario)
    try:
        d = json.loads(path.read_text())
        return Reference(tuple((k, n, tuple(c)) for k, n, c in d["moves"]), tuple(d["tables"]), Measurement(**d["measurement"]))
    except (OSError, ValueError, KeyError, TypeError):
        pass
    db = Database(snapshot, scenario)
    try:
        moves = greedy(db, meter, progress=progress)
        m = meter.measure(db)
    finally:
        db.close()
    ref = Reference(
        tuple((mv.kind, _name(mv), mv.index.columns if mv.index else ()) for mv in moves),
        tuple((mv.index.table if mv.index else scenario_index_table(scenario, _name(mv))) for mv in moves),
        m,
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as f:
            json.dump({"moves": ref.moves, "tables": ref.tables, "measurement": m.__dict__}, f)
        os.replace(f.name, path)
    except OSError:
        pass  # a read-only cache directory costs speed, not correctness
    return ref


def _name(mv: Move) -> str:
    assert mv.name is not None, "greedy names every move it returns"
    return mv.name


def scenario_index_table(scenario, name: str) -> str:
    for ix in scenario.indexes:
        if ix.name == name:
            return ix.table
    return ""


def reference_indexes(ref: Reference) -> list[tuple[str, IndexSpec | None, str]]:
    """(kind, spec or None, name) for replaying the reference through actions."""
    out = []
    for (kind, name, cols), table in zip(ref.moves, ref.tables):
        out.append((kind, IndexSpec(table, cols) if kind == "create" else None, name))
    return out
