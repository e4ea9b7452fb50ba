"""A Database whose index DDL runs only when SQL has to.

Creating an index on a 60,000-row table and re-running ANALYZE takes tens of milliseconds; an episode's
step that hits the cost cache needs neither. ``LazyDatabase`` keeps the *logical* state (which indexes
exist, in which order, and what the planner's statistics are) exactly as ``Database`` does, and brings
the connection to it only before a statement runs, an index's size is first read, or an index must be
checked by SQLite (UNIQUE and partial indexes are created at once, as they can fail).

The connection then holds exactly what eager DDL would have left: the indexes in the same order (the
planner breaks ties by it, so the longest common prefix is kept and the rest is dropped and rebuilt),
every index packed as CREATE INDEX packs it, and fresh ANALYZE statistics on every table whose indexes
changed. Scenarios with stale statistics are not made lazy: their statistics rows cannot be rebuilt by
DDL, so every operation is applied at once, as ``Database`` does.
"""

from __future__ import annotations

from sqlgym.db.sqlite import Database, Snapshot, index_sql
from sqlgym.scenarios.spec import Scenario
from sqlgym.sqltext import quote
from sqlgym.types import IndexSpec


class LazyDatabase(Database):
    """``Database`` with deferred DDL (see the module docstring); a drop-in replacement."""

    def __init__(self, snapshot: Snapshot, scenario: Scenario, sizes: dict[tuple, int] | None = None):
        self.lazy = scenario.statistics.policy == "analyze"
        self._phys: dict[str, IndexSpec] = {}
        self._synced = True
        self._opened = False
        super().__init__(snapshot, scenario)
        self._opened = True
        if sizes is not None:  # index sizes are a property of the data: share them between copies
            self._size_cache = sizes

    # -- logical operations -----------------------------------------------------------------------
    def restore(self) -> None:
        if not self.lazy or not self._opened:
            super().restore()
            self._phys = dict(self.indexes)
            self._synced = True
            return
        self.indexes = dict(self.scenario.named_indexes)
        self.origin = {name: "scenario" for name in self.indexes}
        self._stats = {t.name: ("analyzed", self._index_keys(t.name)) for t in self.scenario.schema}
        self._synced = list(self._phys.items()) == list(self.indexes.items())

    def create_index(self, spec: IndexSpec, name: str, origin: str = "agent") -> None:
        if not self.lazy or spec.unique or spec.where:  # these can fail: SQLite must see them now
            self.sync()
            super().create_index(spec, name, origin)
            self._phys = dict(self.indexes)
            return
        self.indexes[name] = spec
        self.origin[name] = origin
        self._stats[spec.table] = ("analyzed", self._index_keys(spec.table))
        self._synced = False

    def drop_index(self, name: str) -> None:
        if not self.lazy:
            super().drop_index(name)
            self._phys = dict(self.indexes)
            return
        table = self.indexes.pop(name).table
        self.origin.pop(name, None)
        self._stats[table] = ("analyzed", self._index_keys(table))
        self._synced = False

    def analyze(self, table: str) -> None:
        if not self.lazy:
            super().analyze(table)
            return
        self.sync()
        super().analyze(table)

    # -- bringing the connection to the logical state ----------------------------------------------
    def sync(self) -> None:
        """Apply the deferred DDL (the shortest way: from the connection as it is, or from the snapshot)."""
        if self._synced:
            return
        want = list(self.indexes.items())
        have = list(self._phys.items())
        initial = list(self.scenario.named_indexes.items())
        keep = _common_prefix(have, want)
        from_image = _common_prefix(initial, want)
        admin = self.sandbox.run
        touched: set[str] = set()
        if len(initial) - from_image + len(want) - from_image <= len(have) - keep + len(want) - keep:
            admin("restore", None, self.conn.deserialize, "main", self.snapshot.image)  # about 0.3 ms
            have, keep = initial, from_image
        for name, spec in reversed(have[keep:]):
            admin("admin", None, self.conn.execute, f"DROP INDEX {quote(name)}")
            touched.add(spec.table)
        for name, spec in want[keep:]:
            admin("admin", None, self.conn.execute, index_sql(spec, name))
            touched.add(spec.table)
        for table in sorted(touched):
            admin("admin", None, self.conn.execute, f"ANALYZE {quote(table)}")
        self._phys = dict(want)
        self._synced = True

    def index_bytes(self, name: str) -> int:
        if self.indexes[name].key() not in self._size_cache:
            self.sync()
        return super().index_bytes(name)

    def query(self, *args, **kwargs):
        self.sync()
        return super().query(*args, **kwargs)

    def measure(self, *args, **kwargs):
        self.sync()
        return super().measure(*args, **kwargs)

    def explain(self, *args, **kwargs):
        self.sync()
        return super().explain(*args, **kwargs)


def _common_prefix(a: list[tuple[str, IndexSpec]], b: list[tuple[str, IndexSpec]]) -> int:
    n = 0
    for (na, sa), (nb, sb) in zip(a, b):
        if na != nb or sa.key() != sb.key():
            break
        n += 1
    return n


__all__ = ["LazyDatabase"]
