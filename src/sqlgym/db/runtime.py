"""Per-process cache of what is expensive to make per scenario: snapshot, cost cache, reference."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from sqlgym.db.cost import WorkloadMeter
from sqlgym.db.plans import column_stats, index_bytes
from sqlgym.db.reference import Reference, reference
from sqlgym.db.sqlite import Database, Snapshot, build_snapshot
from sqlgym.scenarios.spec import fingerprint
from sqlgym.scenarios.spec import Scenario
from sqlgym.types import IndexSpec, Measurement

MAX_SCENARIOS = 48  # snapshots are a few MB each


@dataclass
class Runtime:
    scenario: Scenario
    snapshot: Snapshot
    meter: WorkloadMeter
    _reference: Reference | None = None
    _baseline: Measurement | None = None
    _second: Snapshot | None = field(default=None, repr=False)
    _column_stats: dict[str, list[tuple[str, int, int]]] = field(default_factory=dict, repr=False)
    _sizes: dict[tuple, int] = field(default_factory=dict, repr=False)
    _probe: Database | None = field(default=None, repr=False)

    @property
    def reference(self) -> Reference:
        if self._reference is None:
            self._reference = reference(self.scenario, self.snapshot, self.meter)
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
        if key not in self._sizes:
            if self._probe is None:
                self._probe = Database(self.snapshot, self.scenario)
            self._sizes[key] = index_bytes(self._probe, spec)
        return self._sizes[key]

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
