"""Baselines for SQLIndexDiscrete-v0: the SQLIndex-v0 baselines' plans played as discrete actions.

A plan's ``create_index`` becomes the candidate with the same table and columns, a ``drop_index`` the
slot holding that index; an action with no discrete counterpart, or masked now, is skipped.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from sqlgym.db.advisor import ranked_candidates
from sqlgym.policies.base import Policy
from sqlgym.policies.index import GreedyPolicy, HeuristicPolicy, NoopPolicy
from sqlgym.scenarios.spec import Scenario
from sqlgym.types import IndexSpec


def discrete_action(act: dict[str, Any], candidates: list[IndexSpec], slots: list[str], k: int, d: int) -> int | None:
    """The discrete action for an SQLIndex-v0 action dict, or None when there is none."""
    kind, p = act.get("action_type"), act.get("payload", {})
    if kind == "create_index":
        key = (p.get("table"), tuple(p.get("columns", ())))
        return next((i for i, c in enumerate(candidates) if (c.table, c.columns) == key), None)
    if kind == "drop_index":
        return k + slots.index(p["name"]) if p.get("name") in slots else None
    if kind == "submit_report":
        return k + d
    return None


class PlanAsDiscrete(Policy):
    """Plays a JSON-plan policy's plan through the discrete action space."""

    plan_policy: type[Policy] = NoopPolicy

    def reset(self, scenario: Scenario, seed: int | None = None) -> None:
        super().reset(scenario, seed)
        self.source = self.plan_policy()
        self.source.reset(scenario, seed)
        self._candidates: list[IndexSpec] | None = None

    def act(self, observation: Any, info: dict) -> Any:
        mask = np.asarray(info["action_mask"], dtype=bool)
        k = int(info["candidate_slots"])
        d = len(mask) - k - 1
        if self._candidates is None:
            self._candidates = ranked_candidates(self.scenario, k)
        while self.source.plan:
            a = discrete_action(json.loads(self.source.plan.pop(0)), self._candidates, list(info["drop_slots"]), k, d)
            if a is not None and mask[a]:
                return a
        return k + d


class DiscreteNoop(PlanAsDiscrete):
    name = "noop"


class DiscreteHeuristic(PlanAsDiscrete):
    name = "heuristic"
    plan_policy = HeuristicPolicy


class DiscreteGreedy(PlanAsDiscrete):
    name = "greedy"
    plan_policy = GreedyPolicy


class DiscreteRandom(Policy):
    """Uniformly random valid actions (seeded), 1 to ``max_indexes`` of them, then stop."""

    name = "random"

    def reset(self, scenario: Scenario, seed: int | None = None) -> None:
        super().reset(scenario, seed)
        self.rng = np.random.default_rng(seed)
        self.left = int(self.rng.integers(1, scenario.constraints.max_indexes + 1))

    def act(self, observation: Any, info: dict) -> Any:
        mask = np.asarray(info["action_mask"], dtype=bool)
        stop = len(mask) - 1
        options = np.flatnonzero(mask[:stop])
        if self.left <= 0 or not len(options):
            return stop
        self.left -= 1
        return int(options[int(self.rng.integers(len(options)))])


DISCRETE_BASELINES = {"noop": DiscreteNoop, "random": DiscreteRandom, "heuristic": DiscreteHeuristic,
                      "greedy": DiscreteGreedy}
