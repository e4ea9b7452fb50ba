"""One interface for every policy: ``reset(scenario, seed)`` then ``act(observation, info) -> action``."""

from __future__ import annotations

import json
from typing import Any


def action(kind: str, **payload: Any) -> str:
    """A JSON action string."""
    return json.dumps({"action_type": kind, "payload": payload})


class Policy:
    """Base class. Policies that plan ahead fill ``self.plan`` in ``reset`` and play it in order."""

    name = "policy"

    def reset(self, scenario: Any, seed: int | None = None) -> None:
        """Start an episode. ``scenario`` is the scenario or question an episode plays: a
        :class:`~sqlgym.scenarios.spec.Scenario` for the index envs, a
        :class:`~sqlgym.scenarios.text2sql.question.Question` for text-to-SQL. Subclasses name the one they take.
        """
        self.scenario = scenario
        self.plan: list[str] = []

    def act(self, observation: str, info: dict) -> str:
        return self.plan.pop(0) if self.plan else action("submit_report", summary=f"{self.name} done")
