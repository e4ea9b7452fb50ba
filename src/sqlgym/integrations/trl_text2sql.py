"""Text2SQL-v0 for training: the plan-mode prompt (question + schema), expert plans from the gold
policy, and the tools-mode environment class for TRL's ``environment_factory``.

Training envs use the ``shaped`` reward (a wrong episode earns under 0.3, a right one 1 or more),
so a small model gets a signal before its first exactly right answer; evaluation reads
``info["correct"]`` (execution accuracy) whatever the reward.
"""

from __future__ import annotations

import functools
import json
import math
from typing import TYPE_CHECKING, Any

from sqlgym.envs.actions import TEXT2SQL_ACTIONS
from sqlgym.integrations.base import EnvAdapter, register_adapter, remote_kwargs, tool_methods

if TYPE_CHECKING:
    import gymnasium as gym

PLAN_SYSTEM = """You answer questions about a SQLite database.
Answer with one JSON list of actions and nothing else. Each action is {"action_type": ..., "payload": {...}}:
""" + TEXT2SQL_ACTIONS.plan_lines() + """
Example: [{"action_type": "answer", "payload": {"sql": "SELECT COUNT(*) FROM pets WHERE species = 'dog'"}}]"""

TOOLS_SYSTEM = """You answer questions about a SQLite database whose schema you must discover.
Call describe and sample to look at tables, query to try SQL, then answer with one SELECT. Call clarify
when the question is ambiguous, and abstain when the database cannot answer it."""

TRAIN_REWARD = "shaped"


@functools.lru_cache(maxsize=16)
def schema_text(dataset: str, db_id: str) -> str:
    """The database's CREATE TABLE statements (what Text2SQLDirect-v0 shows)."""
    from sqlgym.db.datasets import load_dataset
    from sqlgym.db.readonly import ReadOnlyDatabase

    db = ReadOnlyDatabase(load_dataset(dataset).image(db_id))
    try:
        return ";\n".join(db.create_statements()) + ";"
    finally:
        db.close()


class Text2SQLAdapter(EnvAdapter):
    env_id = "Text2SQL-v0"
    dataset = "sqlgym"
    finish_action = None  # a plan that neither answers nor abstains is wrong; it does not pass for abstaining
    malformed_penalty = -0.5  # below any episode the shaped reward can score for a real plan

    def make_env(self, scenario_id: str):
        import gymnasium as gym

        return gym.make(self.env_id, dataset=self.dataset, question=scenario_id, reward=TRAIN_REWARD)

    def system_prompt(self, mode: str) -> str:
        return PLAN_SYSTEM if mode == "plan" else TOOLS_SYSTEM

    def user_prompt(self, observation: str, question, mode: str) -> str:
        if mode != "plan":
            return observation.rpartition("\nYou have ")[0] or observation
        text = f"Database {question.db_id}:\n{schema_text(self.dataset, question.db_id)}\n\nQuestion: {question.question}"
        if question.evidence:
            text += f"\nEvidence: {question.evidence}"
        return text + "\nYour plan (a JSON list of actions):"

    def expert_actions(self, scenario_id: str, seed: int) -> list[dict[str, Any]]:
        from sqlgym.policies.text2sql import GoldPolicy

        pol = GoldPolicy()
        pol.reset(self.load_scenario(scenario_id), seed=seed)
        return [json.loads(a) for a in pol.plan]


class Text2SQLTools:
    """Text2SQL-v0 as tools, for ``GRPOTrainer(environment_factory=Text2SQLTools)``.

    ``reset(**row)`` opens the row's question (column ``scenario``) and returns what the env shows at
    reset; each public method is one action; ``get_reward()`` is the episode's total reward (an
    episode the model did not end counts as truncated: wrong).
    """

    remote: str | None = None  # a python -m sqlgym.serve URL (see sqlgym.integrations.trl.environment_factory)
    remote_token: str | None = None

    def __init__(self) -> None:
        self._env: gym.Env | None = None
        self._total, self._done = 0.0, True

    def reset(self, scenario: str = "pet_shop/001", seed: int = 0, **row: Any) -> str:
        import gymnasium as gym

        if self._env is None:
            self._env = gym.make(ADAPTER.env_id, dataset=ADAPTER.dataset, question=scenario, reward=TRAIN_REWARD,
                                 **remote_kwargs(self))
        obs, _ = self._env.reset(seed=int(seed), options={"question": scenario})
        self._total, self._done = 0.0, False
        return obs.rpartition("\nYou have ")[0] or obs

    def _act(self, kind: str, **payload: Any) -> str:
        if self._env is None:
            return "Error: no episode; reset() first."
        if self._done:
            return "Error: the episode is over."
        payload = {k: v for k, v in payload.items() if v is not None}
        obs, r, terminated, truncated, _ = self._env.step(json.dumps({"action_type": kind, "payload": payload}))
        self._total += float(r)
        self._done = terminated or truncated
        return obs

    def get_reward(self) -> float:
        """The episode's total reward (an unfinished episode ends as wrong)."""
        if self._env is None:
            return ADAPTER.malformed_penalty
        return self._total if math.isfinite(self._total) else ADAPTER.malformed_penalty


for _name, _method in tool_methods(TEXT2SQL_ACTIONS).items():
    setattr(Text2SQLTools, _name, _method)
Text2SQLAdapter.tool_class = Text2SQLTools
ADAPTER = register_adapter(Text2SQLAdapter())
