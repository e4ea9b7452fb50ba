"""sqlgym: Gymnasium environments for SQL database agents, measured on real SQLite.

>>> import gymnasium as gym, sqlgym
>>> env = gym.make("SQLIndex-v0", scenario="easy/point_lookup")
"""

from __future__ import annotations

from gymnasium.envs.registration import register, registry

from sqlgym.errors import ConfigError, ScenarioError, ScenarioNotFound, SqlgymError
from sqlgym.scenarios.catalog import load_scenario
from sqlgym.tasks import TASKS, creator_entry_point, task

__version__ = "0.1.0"
ENV_IDS = tuple(TASKS)


def list_scenarios(env_id: str = "SQLIndex-v0", split: str | None = None, n: int | None = None,
                   dataset: str = "sqlgym") -> list[str]:
    """Scenario ids (SQLIndex-v0: ``curated``/``train``/``validation``/``test``) or question ids
    (Text2SQL envs: ``train``/``validation``/``test`` of ``dataset``) for an environment id.

    >>> list_scenarios("SQLIndex-v0", "test", n=2)
    ['generator://index/5', 'generator://index/13']
    """
    return task(env_id).ids(split, n, dataset)


def _register() -> None:
    # Gymnasium lists them under the namespace-less module "sqlgym"
    for t in TASKS.values():
        if t.env_id not in registry:
            # sqlgym.tasks.EnvCreator: t.entry_point's class, or with remote=URL the proxy to a python -m sqlgym.serve
            register(id=t.env_id, entry_point=creator_entry_point(t.env_id), disable_env_checker=False,
                     kwargs=dict(t.kwargs))
            registry[t.env_id].namespace = "sqlgym"  # how pprint_registry groups them (the id has no namespace)


_register()

__all__ = ["ConfigError", "ScenarioError", "ScenarioNotFound", "SqlgymError", "list_scenarios", "load_scenario"]
