"""A saved MaskablePPO model as a policy: ``ppo:runs/ppo/best_model.zip`` on SQLIndexDiscrete-v0."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

import numpy as np

from sqlgym.errors import ConfigError
from sqlgym.policies.base import Policy
from sqlgym.scenarios.spec import Scenario


@lru_cache(maxsize=4)
def _load(path: str):
    try:
        from sb3_contrib import MaskablePPO
    except ImportError:
        raise ConfigError("ppo: policies need sb3-contrib: pip install 'sqlgym-rl[rl]'") from None
    return MaskablePPO.load(path, device="cpu")


class PPOPolicy(Policy):
    """Greedy (deterministic) actions of a trained MaskablePPO model, masked as the env says."""

    def __init__(self, path: str):
        if os.path.isdir(path):
            path = os.path.join(path, "best_model.zip")
        if not os.path.isfile(path):
            raise ConfigError(f"ppo: no such model file {path!r} (python -m sqlgym.train ppo writes <output-dir>/best_model.zip)")
        self.path, self.name = path, f"ppo:{path}"
        self.model = _load(path)

    def reset(self, scenario: Scenario, seed: int | None = None) -> None:
        super().reset(scenario, seed)

    def act(self, observation: Any, info: dict) -> Any:
        action, _ = self.model.predict(np.asarray(observation), action_masks=np.asarray(info["action_mask"]),
                                       deterministic=True)
        return int(action)
