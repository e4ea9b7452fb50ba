"""sqlgym: Gymnasium environments for SQL database agents, measured on real SQLite.

>>> import gymnasium as gym, sqlgym
>>> env = gym.make("SQLIndex-v0", scenario="easy/point_lookup")
"""

from __future__ import annotations

from gymnasium.envs.registration import register, registry

from sqlgym.errors import ConfigError, ScenarioError, ScenarioNotFound, SqlgymError
from sqlgym.scenarios.catalog import list_scenarios as _list_index_scenarios
from sqlgym.scenarios.catalog import load_scenario

__version__ = "0.1.0"
ENV_IDS = ("SQLIndex-v0",)


def list_scenarios(env_id: str = "SQLIndex-v0", split: str | None = None, n: int | None = None) -> list[str]:
    """Scenario ids for an environment id and split (``curated``, ``train``, ``validation``, ``test``)."""
    if env_id != "SQLIndex-v0":
        from sqlgym.errors import unknown_name

        raise unknown_name("environment id", env_id, list(ENV_IDS))
    return _list_index_scenarios(split, n)


def _register() -> None:
    if "SQLIndex-v0" not in registry:
        register(id="SQLIndex-v0", entry_point="sqlgym.envs.index_tuning:SQLIndexEnv", disable_env_checker=False)


_register()

__all__ = ["ConfigError", "ScenarioError", "ScenarioNotFound", "SqlgymError", "list_scenarios", "load_scenario"]
