"""The one registry of sqlgym's tasks: every CLI, adapter and the harness asks it, nobody else switches on an env id.

A :class:`Task` names its parts by entry-point strings (``"module:attribute"``), loaded on first use, so
this module imports nothing above it and ``import sqlgym`` stays light. Adding an environment is one
``Task(...)`` here (or :func:`register` from your own code).

>>> task("SQLIndex-v0").default_policy
'greedy'
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from sqlgym.errors import ConfigError, unknown_name

INDEX_INFO_KEYS = ("cost", "baseline_cost", "reference_cost", "performance", "gap_closed", "storage_bytes",
                   "budget_bytes", "n_indexes", "hidden_cost", "hidden_gap_closed", "difficulty",
                   "archetype")
TEXT_INFO_KEYS = ("db_id", "difficulty", "kind", "correct", "answered", "set_correct")


def load(entry: str) -> Any:
    """``"package.module:attr"`` -> the attribute (imported now)."""
    module, _, attr = entry.partition(":")
    return getattr(importlib.import_module(module), attr)


@dataclass(frozen=True)
class Task:
    """An environment id and everything the tools around it need to know."""

    env_id: str
    entry_point: str  # the gymnasium.Env class
    item: str  # the constructor / reset-option argument naming what an episode plays: "scenario" or "question"
    splits: tuple[str, ...]
    default_split: str
    default_policy: str
    baselines: str  # a dict name -> Policy class
    lister: str  # fn(split, n, dataset) -> item ids
    loader: str  # fn(item id, dataset) -> the scenario or question object policies are reset with
    summary: str  # fn(records) -> summary dict
    adapter: str | None = None  # the TRL adapter (sqlgym.integrations)
    info_keys: tuple[str, ...] = ()  # what an episode record keeps of the final info
    uses_dataset: bool = False  # takes ``dataset=`` (text-to-SQL)
    kwargs: dict[str, Any] = field(default_factory=dict)  # extra gymnasium registration kwargs

    def env_kwargs(self, item_id: str | None = None, dataset: str = "sqlgym") -> dict[str, Any]:
        """Constructor arguments that play ``item_id`` (and read ``dataset``)."""
        out: dict[str, Any] = {} if item_id is None else {self.item: item_id}
        if self.uses_dataset:
            out["dataset"] = dataset
        return out

    def ids(self, split: str | None = None, n: int | None = None, dataset: str = "sqlgym") -> list[str]:
        """Item ids of a split (scenario or question ids)."""
        return load(self.lister)(split, n, dataset)

    def load_item(self, item_id: str, dataset: str = "sqlgym") -> Any:
        return load(self.loader)(item_id, dataset)

    def policies(self) -> dict[str, type]:
        return load(self.baselines)

    def summarize(self, records: list[dict]) -> dict[str, Any]:
        return load(self.summary)(records)


_INDEX = dict(item="scenario", splits=("curated", "train", "validation", "test"), default_split="curated",
              default_policy="greedy", baselines="sqlgym.policies.index:BASELINES",
              lister="sqlgym.scenarios.catalog:list_for_task", loader="sqlgym.scenarios.catalog:load_for_task",
              summary="sqlgym.eval.summaries:index_summary", info_keys=INDEX_INFO_KEYS)
_TEXT = dict(item="question", splits=("train", "validation", "test"), default_split="test", default_policy="gold",
             baselines="sqlgym.policies.text2sql:TEXT_POLICIES", lister="sqlgym.db.datasets:list_for_task",
             loader="sqlgym.db.datasets:load_for_task", summary="sqlgym.eval.metrics:ex_report",
             info_keys=TEXT_INFO_KEYS, uses_dataset=True)

REMOTE_ENV = "sqlgym.integrations.openenv:RemoteEnv"  # gym.make(env_id, remote=URL): the proxy to a server


class EnvCreator:
    """What Gymnasium calls to make an env id (its registered entry point): the task's env class, or with
    ``remote=URL`` a proxy to a ``python -m sqlgym.serve`` server of that id (``token=`` its shared secret;
    the ``serve`` extra), which gives the same observations, rewards and info."""

    def __init__(self, env_id: str) -> None:
        self.env_id = env_id

    @property
    def metadata(self) -> dict[str, Any]:  # what gym.make reads the render modes from
        return load(task(self.env_id).entry_point).metadata

    def __call__(self, remote: str | None = None, token: str | None = None, **kwargs: Any) -> Any:
        if remote is None:
            if token is not None:
                raise ConfigError("token= is the server's secret; it goes with remote=URL")
            return load(task(self.env_id).entry_point)(**kwargs)
        return load(REMOTE_ENV)(remote, self.env_id, token=token, **kwargs)

    def __repr__(self) -> str:
        return f"{task(self.env_id).entry_point} (remote=URL: {REMOTE_ENV})"


TASKS: dict[str, Task] = {}


def register(t: Task) -> Task:
    """Add a task (and its Gymnasium registration, done by ``sqlgym``'s import)."""
    TASKS[t.env_id] = t
    globals()[creator_name(t.env_id)] = EnvCreator(t.env_id)  # what creator_entry_point names
    return t


def creator_name(env_id: str) -> str:
    """``SQLIndex-v0`` -> ``make_SQLIndex_v0``: the attribute of this module Gymnasium makes the env id with."""
    return "make_" + "".join(c if c.isalnum() else "_" for c in env_id)


def creator_entry_point(env_id: str) -> str:
    """The Gymnasium entry point of an env id: a string (so specs serialise), naming its :class:`EnvCreator`."""
    return f"{__name__}:{creator_name(env_id)}"


register(Task("SQLIndex-v0", "sqlgym.envs.index_tuning:SQLIndexEnv", adapter="sqlgym.integrations.trl_index:ADAPTER",
              **_INDEX))  # type: ignore[arg-type]
register(Task("SQLIndexDiscrete-v0", "sqlgym.envs.index_discrete:SQLIndexDiscreteEnv",
              **{**_INDEX, "baselines": "sqlgym.policies.discrete:DISCRETE_BASELINES"}))  # type: ignore[arg-type]
register(Task("Text2SQL-v0", "sqlgym.envs.text2sql:Text2SQLEnv", adapter="sqlgym.integrations.trl_text2sql:ADAPTER",
              **_TEXT))  # type: ignore[arg-type]
register(Task("Text2SQLDirect-v0", "sqlgym.envs.text2sql_direct:Text2SQLDirectEnv", **_TEXT))  # type: ignore[arg-type]


def task(env_id: str) -> Task:
    """The task of an env id; a misspelt id answers with the close ones."""
    try:
        return TASKS[env_id]
    except KeyError:
        raise unknown_name("environment id", str(env_id), list(TASKS)) from None


def env_ids() -> list[str]:
    return list(TASKS)
