"""Baselines for SQLIndex-v0: noop, random, heuristic (rule-based advisor) and greedy (the reference)."""

from __future__ import annotations

import numpy as np

from sqlgym.db.advisor import statement_roles
from sqlgym.db.reference import reference_indexes
from sqlgym.db.runtime import runtime_for
from sqlgym.policies.base import Policy, action
from sqlgym.scenarios.spec import Scenario


class NoopPolicy(Policy):
    """Submit at once: the 0 every other policy is measured against."""

    name = "noop"


class RandomPolicy(Policy):
    """Uniformly random *valid* index actions over real tables and columns (seeded), then submit.

    Random indexes can hurt: this baseline is reported as it comes out, negative or not.
    """

    name = "random"

    def reset(self, scenario: Scenario, seed: int | None = None) -> None:
        super().reset(scenario, seed)
        rng = np.random.default_rng(seed)
        c = scenario.constraints
        existing = [ix.name for ix in scenario.indexes]
        for _ in range(int(rng.integers(1, c.max_indexes + 1))):
            if existing and rng.random() < 0.2:
                self.plan.append(action("drop_index", name=existing.pop(int(rng.integers(len(existing))))))
                continue
            t = scenario.schema[int(rng.integers(len(scenario.schema)))]
            width = int(rng.integers(1, min(c.max_columns, len(t.columns)) + 1))
            cols = [t.columns[int(i)].name for i in rng.choice(len(t.columns), size=width, replace=False)]
            self.plan.append(action("create_index", table=t.name, columns=cols))


class HeuristicPolicy(Policy):
    """A rule-based advisor in the spirit of SQLite's ``.expert`` and Dexter, with no lookahead.

    For each query, heaviest first: index its equality columns, then one range or sort column, on
    each table it filters; skip an index another one already starts with; stop at the index limit.
    """

    name = "heuristic"

    def reset(self, scenario: Scenario, seed: int | None = None) -> None:
        super().reset(scenario, seed)
        c = scenario.constraints
        have = [ix.columns for ix in scenario.indexes]
        have_t = [ix.table for ix in scenario.indexes]
        room = c.max_indexes - len(scenario.indexes)
        for q in sorted((q for q in scenario.workload if q.kind == "select"), key=lambda q: -q.weight):
            for table, r in sorted(statement_roles(q.sql, scenario.tables).items()):
                pk = [col.name for col in scenario.table(table).columns if col.primary_key]
                cols = [x for x in r.eq if x not in pk] + [x for x in (r.range + r.sort + r.group) if x not in pk][:1]
                cols = list(dict.fromkeys(cols))[: c.max_columns]
                if not cols or room <= 0:
                    continue
                if any(t == table and tuple(h[: len(cols)]) == tuple(cols) for t, h in zip(have_t, have)):
                    continue
                self.plan.append(action("create_index", table=table, columns=cols))
                have.append(tuple(cols))
                have_t.append(table)
                room -= 1


class BrutePolicy(Policy):
    """Index every column, table by table, until the budget or index limit refuses; the exploit to beat."""

    name = "brute"

    def reset(self, scenario: Scenario, seed: int | None = None) -> None:
        super().reset(scenario, seed)
        for t in scenario.schema:
            for col in t.columns:
                if not col.primary_key:
                    self.plan.append(action("create_index", table=t.name, columns=[col.name]))


class GreedyPolicy(Policy):
    """Replays the greedy what-if advisor's moves on measured cost: the reference configuration."""

    name = "greedy"

    def reset(self, scenario: Scenario, seed: int | None = None) -> None:
        super().reset(scenario, seed)
        for kind, spec, name in reference_indexes(runtime_for(scenario).reference):
            if kind == "create":
                assert spec is not None, "reference_indexes gives every create its spec"
                self.plan.append(action("create_index", table=spec.table, columns=list(spec.columns), name=name))
            else:
                self.plan.append(action("drop_index", name=name))


class ReplayPolicy(Policy):
    """Plays the actions of a recorded episode, in order."""

    name = "replay"

    def __init__(self, actions: list[str]):
        self.actions = list(actions)

    def reset(self, scenario: Scenario, seed: int | None = None) -> None:
        super().reset(scenario, seed)
        self.plan = list(self.actions)

    def act(self, observation: str, info: dict) -> str:
        return self.plan.pop(0) if self.plan else action("submit_report", summary="replay ended")


BASELINES = {"noop": NoopPolicy, "random": RandomPolicy, "heuristic": HeuristicPolicy, "greedy": GreedyPolicy,
             "brute": BrutePolicy}
