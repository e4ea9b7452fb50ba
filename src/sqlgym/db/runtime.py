"""Per-process cache of what is expensive to make per scenario: snapshot, cost cache, reference."""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sqlgym.db.cost import WorkloadMeter
from sqlgym.db.plans import column_stats, index_bytes, index_users
from sqlgym.db.reference import Reference, reference
from sqlgym.db.sqlite import Database, Snapshot, build_snapshot
from sqlgym.scenarios.spec import fingerprint
from sqlgym.scenarios.spec import Scenario
from sqlgym.types import IndexSpec, Measurement

# Scenarios whose snapshot, cost cache and reference a process keeps (a few MB each); a trainer that
# cycles through more scenarios than this rebuilds them and loses their cost caches.
MAX_SCENARIOS = int(os.environ.get("SQLGYM_MAX_SCENARIOS", "48"))


@dataclass
class Runtime:
    scenario: Scenario
    snapshot: Snapshot
    meter: WorkloadMeter
    _reference: Reference | None = None
    _baseline: Measurement | None = None
    _second: Snapshot | None = field(default=None, repr=False)
    _column_stats: dict[str, list[tuple[str, int, int]]] = field(default_factory=dict, repr=False)
    sizes: dict[tuple, int] = field(default_factory=dict, repr=False)  # index key -> bytes (the data's, shared)
    _users: dict[tuple, dict[str, list[str]]] = field(default_factory=dict, repr=False)
    _probe: Database | None = field(default=None, repr=False)

    @property
    def reference(self) -> Reference:
        return self.compute_reference()

    def compute_reference(self, progress: Callable[[int, int, int], None] | None = None) -> Reference:
        """The reference, computed now if neither this process nor the disk cache has it (``progress``: see
        ``advisor.greedy``; called only while the advisor runs)."""
        if self._reference is None:
            self._reference = reference(self.scenario, self.snapshot, self.meter, progress)
        return self._reference

    def baseline(self, db: Database) -> Measurement:
        """Cost of the database as built (call on a freshly restored db)."""
        if self._baseline is None:
            self._baseline = self.meter.measure(db)
        return self._baseline

    @property
    def second_snapshot(self) -> Snapshot:
        """An independently generated instance of the same scenario (for checking rewrites)."""
        if self._second is None:
            self._second = build_snapshot(self.scenario, instance=1)
        return self._second


    def index_bytes(self, spec: IndexSpec) -> int:
        """Bytes an index on ``spec`` takes on this scenario's data (built once on a scratch copy, cached)."""
        key = spec.key()
        if key not in self.sizes:
            if self._probe is None:
                self._probe = Database(self.snapshot, self.scenario)
            self.sizes[key] = index_bytes(self._probe, spec)
        return self.sizes[key]

    def index_users(self, db: Database, rewrites: Mapping[str, str]) -> dict[str, list[str]]:
        """Index name -> the statements whose plan uses it, cached by everything the plans depend on."""
        key = (tuple((n, ix.key()) for n, ix in db.indexes.items()),
               tuple(db.table_state(t.name) for t in self.scenario.schema), tuple(sorted(rewrites.items())))
        if key not in self._users:
            if len(self._users) > 4096:
                self._users.clear()
            self._users[key] = index_users(db, self.scenario, rewrites)
        return self._users[key]

    def column_stats(self, db: Database, table: str) -> list[tuple[str, int, int]]:
        """(column, distinct, NULLs) per column of ``table`` as built (the data never changes)."""
        if table not in self._column_stats:
            self._column_stats[table] = column_stats(db, table, self.scenario.tables[table])
        return self._column_stats[table]


_RUNTIMES: OrderedDict[str, Runtime] = OrderedDict()


def runtime_for(scenario: Scenario) -> Runtime:
    key = scenario.id + ":" + fingerprint(scenario)
    rt = _RUNTIMES.get(key)
    if rt is None:
        rt = Runtime(scenario, build_snapshot(scenario), WorkloadMeter(scenario))
        _RUNTIMES[key] = rt
        while len(_RUNTIMES) > MAX_SCENARIOS:
            _RUNTIMES.popitem(last=False)
    else:
        _RUNTIMES.move_to_end(key)
    return rt
