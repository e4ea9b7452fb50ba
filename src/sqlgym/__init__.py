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
ENV_IDS = ("SQLIndex-v0", "Text2SQL-v0", "Text2SQLDirect-v0")
_ENTRY_POINTS = {
    "SQLIndex-v0": "sqlgym.envs.index_tuning:SQLIndexEnv",
    "Text2SQL-v0": "sqlgym.envs.text2sql:Text2SQLEnv",
    "Text2SQLDirect-v0": "sqlgym.envs.text2sql:Text2SQLDirectEnv",
}


def list_scenarios(env_id: str = "SQLIndex-v0", split: str | None = None, n: int | None = None,
                   dataset: str = "sqlgym") -> list[str]:
    """Scenario ids (SQLIndex-v0: ``curated``/``train``/``validation``/``test``) or question ids
    (Text2SQL envs: ``train``/``validation``/``test`` of ``dataset``) for an environment id."""
    if env_id not in ENV_IDS:
        from sqlgym.errors import unknown_name

        raise unknown_name("environment id", env_id, list(ENV_IDS))
    if env_id == "SQLIndex-v0":
        return _list_index_scenarios(split, n)
    from sqlgym.scenarios.text2sql import load_dataset

    ids = [q.id for q in load_dataset(dataset).questions(split)]
    return ids if n is None else ids[:n]


def _register() -> None:
    for env_id, entry in _ENTRY_POINTS.items():
        if env_id not in registry:
            register(id=env_id, entry_point=entry, disable_env_checker=False)


_register()

__all__ = ["ConfigError", "ScenarioError", "ScenarioNotFound", "SqlgymError", "list_scenarios", "load_scenario"]
