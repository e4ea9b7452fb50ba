"""SQLIndex-v0 for training: the plan-mode prompt, expert plans from the greedy advisor, and the
tools-mode environment class that TRL's ``environment_factory`` drives."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from sqlgym.envs.actions import INDEX_ACTIONS
from sqlgym.integrations.base import EnvAdapter, register_adapter, remote_kwargs, tool_methods

if TYPE_CHECKING:
    import gymnasium as gym

PLAN_SYSTEM = """You tune the indexes of a SQLite database so that its workload costs less.
Answer with one JSON list of actions and nothing else. Each action is {"action_type": ..., "payload": {...}}:
""" + INDEX_ACTIONS.plan_lines() + """
An index must serve the workload's queries: unused indexes cost storage and slow down writes, and some indexes make plans worse.
Example: [{"action_type": "create_index", "payload": {"table": "t", "columns": ["a", "b"]}}, {"action_type": "submit_report", "payload": {"summary": "t(a, b) serves q1"}}]"""

TOOLS_SYSTEM = """You tune the indexes of a SQLite database so that its workload costs less.
Call the tools to inspect the queries and their plans, create or drop indexes, and rewrite queries; call
submit_report when you are done. Unused indexes cost storage and slow down writes, and some indexes make
plans worse: measure, and drop an index that does not help."""


def _without_help(observation: str) -> str:
    """The reset observation minus its last line (how to send one action a step: not how plans work)."""
    head, sep, _ = observation.rpartition("\nYou have ")
    return head if sep else observation


def briefing(scenario) -> str:
    """Schema, existing indexes and the full workload SQL: what a plan needs and reset does not show."""
    lines = ["Schema:"]
    for t in scenario.schema:
        cols = ", ".join(c.name + (" PK" if c.primary_key else "") for c in t.columns)
        lines.append(f"  {t.name}({cols})")
    if scenario.indexes:
        lines.append("Existing indexes:")
        lines += [f"  {ix.name} ON {ix.table}({', '.join(ix.columns)})" for ix in scenario.indexes]
    lines.append("Workload (id, weight, SQL):")
    lines += [f"  {q.id} w={q.weight:g}: {' '.join(q.sql.split())}" for q in scenario.workload]
    return "\n".join(lines)


class SQLIndexAdapter(EnvAdapter):
    env_id = "SQLIndex-v0"
    finish_action = {"action_type": "submit_report", "payload": {"summary": "done"}}

    def system_prompt(self, mode: str) -> str:
        return PLAN_SYSTEM if mode == "plan" else TOOLS_SYSTEM

    def user_prompt(self, observation: str, scenario, mode: str) -> str:
        if mode == "plan":
            return _without_help(observation) + "\n" + briefing(scenario) + "\nYour plan (a JSON list of actions):"
        return _without_help(observation)

    def expert_actions(self, scenario_id: str, seed: int) -> list[dict[str, Any]]:
        from sqlgym.policies.index import GreedyPolicy

        pol = GreedyPolicy()
        pol.reset(self.load_scenario(scenario_id), seed=seed)
        acts = [json.loads(a) for a in pol.plan]
        dropped = {a["payload"]["name"] for a in acts if a["action_type"] == "drop_index"}
        made = []
        for a in acts:  # names only where a later drop needs them: shorter targets
            if a["action_type"] == "create_index" and a["payload"].get("name") not in dropped:
                a["payload"].pop("name", None)
            if a["action_type"] == "create_index":
                made.append(f"{a['payload']['table']}({', '.join(a['payload']['columns'])})")
        summary = ("created " + ", ".join(made)) if made else "no index helps this workload"
        return acts + [{"action_type": "submit_report", "payload": {"summary": summary}}]


class SQLIndexTools:
    """SQLIndex-v0 as tools, for ``GRPOTrainer(environment_factory=SQLIndexTools)``.

    Each public method is one action; ``reset(**row)`` opens the row's scenario with its seed and
    returns the reset observation; ``get_reward()`` ends the episode if the model did not and
    returns its total reward (the hidden-binding gap closed by the final database state, minus
    step costs). Bad arguments are observations with a small penalty, as in the env. The action
    methods are made from ``sqlgym.envs.actions.INDEX_ACTIONS``.
    """

    remote: str | None = None  # a python -m sqlgym.serve URL (see sqlgym.integrations.trl.environment_factory)
    remote_token: str | None = None

    def __init__(self) -> None:
        self._env: gym.Env | None = None  # one env per instance: TRL interleaves the tool calls of concurrent rollouts
        self._total, self._done, self._steps = 0.0, True, 0
        self._info: dict[str, Any] = {}

    def reset(self, scenario: str = "easy/point_lookup", seed: int = 0, **row: Any) -> str:
        import gymnasium as gym

        if self._env is None:
            self._env = gym.make(ADAPTER.env_id, scenario=scenario, **remote_kwargs(self))
        obs, self._info = self._env.reset(seed=int(seed), options={"scenario": scenario})
        self._total, self._done, self._steps = 0.0, False, 0
        return _without_help(obs)

    def _act(self, kind: str, **payload: Any) -> str:
        if self._env is None:
            return "Error: no episode; reset() first."
        if self._done:
            return "Error: the episode is over (the report was submitted or the step limit reached)."
        payload = {k: v for k, v in payload.items() if v is not None}
        obs, r, terminated, truncated, self._info = self._env.step(json.dumps({"action_type": kind, "payload": payload}))
        self._total += float(r)
        self._steps += 1
        self._done = terminated or truncated
        return obs

    def get_reward(self) -> float:
        """The episode's total reward; ends the episode first if the model did not."""
        if self._env is None:
            return ADAPTER.malformed_penalty
        if not self._done:
            self._act("submit_report", summary="(ended by the trainer)")
        return self._total if math.isfinite(self._total) else ADAPTER.malformed_penalty


for _name, _method in tool_methods(INDEX_ACTIONS).items():
    setattr(SQLIndexTools, _name, _method)
SQLIndexAdapter.tool_class = SQLIndexTools
ADAPTER = register_adapter(SQLIndexAdapter())
