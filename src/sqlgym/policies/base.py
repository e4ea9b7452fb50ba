"""One interface for every policy: ``reset(scenario, seed)`` then ``act(observation, info) -> action``."""

from __future__ import annotations

import json
from typing import Any

from sqlgym.scenarios.spec import Scenario


def action(kind: str, **payload: Any) -> str:
    """A JSON action string."""
    return json.dumps({"action_type": kind, "payload": payload})


class Policy:
    """Base class. Policies that plan ahead fill ``self.plan`` in ``reset`` and play it in order."""

    name = "policy"

    def reset(self, scenario: Scenario, seed: int | None = None) -> None:
        self.scenario = scenario
        self.plan: list[str] = []

    def act(self, observation: str, info: dict) -> str:
        return self.plan.pop(0) if self.plan else action("submit_report", summary=f"{self.name} done")
