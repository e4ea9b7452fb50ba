"""Text2SQLDirect-v0: one shot, the schema and the question in, one answer out."""

from __future__ import annotations

import re
from typing import Any

from sqlgym.envs.actions import InvalidAction
from sqlgym.envs.text2sql_base import ACTIONS, Text2SQLBase
from sqlgym.errors import ConfigError

class Text2SQLDirectEnv(Text2SQLBase):
    """One shot: the schema (CREATE TABLE statements) and the question in, one answer out.

    ## Action Space
    ``Text``: the SQL itself (a ```sql fence is fine), or JSON ``{"action_type": "answer" |
    "abstain" | "clarify", "payload": {...}}``. Every action ends the episode.

    ## Rewards
    As Text2SQL-v0, except that there is no second turn: on a question that needs clarification,
    ``clarify`` is the right action (the answer cannot follow).

    ## Arguments
    As Text2SQL-v0 (``max_steps`` is 1).

    ## Version History
    * v0: initial version.
    """

    max_steps = 1
    _FENCE = re.compile(r"^\s*```(?:sql|sqlite|json)?\s*(.*?)\s*```\s*$", re.S | re.I)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_steps", 1)
        if kwargs["max_steps"] != 1:
            raise ConfigError("Text2SQLDirect-v0 is one step; use Text2SQL-v0 for several")
        super().__init__(*args, **kwargs)

    def _intro(self) -> str:
        schema = ";\n".join(self.db.create_statements()) + ";"
        return (f"Database {self.question.db_id}, SQLite schema:\n{schema}\n\n{self._question_text()}\n"
                "Reply with one SQLite SELECT that answers the question, or with JSON "
                '{"action_type": "abstain", "payload": {"reason": ...}} when the database cannot answer it, or '
                '{"action_type": "clarify", "payload": {"question": ...}} when the question is ambiguous.')

    def _parse(self, action):
        if isinstance(action, str):
            m = self._FENCE.match(action)
            text = (m.group(1) if m else action).strip()
            if not text.startswith("{"):
                if not text:
                    raise InvalidAction("the reply is empty; send one SQL query")
                action = {"action_type": "answer", "payload": {"sql": text}}
        act = ACTIONS.parse(action)
        if act.type not in ("answer", "abstain", "clarify"):
            raise InvalidAction(f"{act.type} is not available in one shot; send SQL, answer, abstain or clarify")
        return act

    def _dispatch(self, act) -> tuple[str, dict[str, Any]]:
        if act.type == "answer":
            return self._answer(act.payload["sql"])
        if act.type == "clarify":
            self._clarify()
            return "Asked for clarification.", {"end": True}
        return "Abstained.", {}

    def _judge(self, act, outcome: dict) -> bool:
        if act is not None and act.type == "clarify":
            return self.question.kind == "clarification"
        if self.question.kind == "clarification":
            return False
        return super()._judge(act, outcome)
