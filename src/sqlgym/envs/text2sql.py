"""Text2SQL-v0: explore an unknown database (describe, sample, query), then answer, ask or abstain."""

from __future__ import annotations

from typing import Any

import apsw

from sqlgym.db.sandbox import BudgetExceeded
from sqlgym.envs.actions import InvalidAction
from sqlgym.envs.text import table
from sqlgym.envs.text2sql_base import (
    ACTION_HELP,
    ACTIONS,
    MAX_SAMPLE,
    SHOWN_ROWS,
    STEP_BUDGET,
    Text2SQLBase,
    error_text,
    shown_cells,
    describe,
)
from sqlgym.errors import SqlgymError

class Text2SQLEnv(Text2SQLBase):
    """Answer a question over a database whose schema is hidden at the start.

    ## Action Space
    ``Text``: JSON ``{"action_type": ..., "payload": {...}}`` (a dict also works), one of
    describe{table} (columns, types, keys, row count), sample{table, n<=5}, query{sql} (read-only;
    at most 20 rows shown with the total, or the error), answer{sql} (ends the episode),
    clarify{question} (the dataset's scripted clarification), abstain{reason} (ends the episode).

    ## Observation Space
    ``Text``: the question, the database id and table names at reset; then what each action returned.

    ## Rewards
    ``reward="ex"`` (default): 1 when the episode ends right, else 0. Right means: answerable, the
    answer's result matches the gold (execution accuracy); needs clarification, the agent asked
    before answering and the answer matches; unanswerable, the agent abstained.
    ``reward="shaped"``, a ``{part: weight}`` dict over ``sqlgym.rewards.text2sql.PARTS``, or any
    callable ``AnswerTransition -> (float, parts)``. Every part is in ``info["reward_parts"]``.

    ## Episode End
    Terminated by answer or abstain; truncated after ``max_steps`` (15) steps, which is wrong.

    ## Arguments
    ``dataset`` (``"sqlgym"``, ``"spider:<dir>"``, ``"bird:<dir>"``), ``split`` (train / validation /
    test; a question is drawn per reset with the env's RNG), ``db_id``, ``question`` (one id),
    ``max_steps``, ``reward``, ``render_mode="ansi"``. ``reset(options={"question": id})`` too.

    ## Version History
    * v0: initial version.
    """

    def _intro(self) -> str:
        q = self.question
        about = self.dataset.describe(q.db_id)
        return (f"Database: {q.db_id}" + (f" ({about})" if about else "") + "\n"
                f"Tables: {', '.join(self.db.tables)}\n"
                f"{self._question_text()}\n"
                f"You have {self.max_steps} steps. Send one JSON action a step: "
                f'{{"action_type": ..., "payload": {{...}}}} with one of: {ACTION_HELP}.')

    def _table(self, name: str) -> str:
        real = self.db.table(name)
        if real is None:
            raise InvalidAction(f"no table {name!r}; tables: {', '.join(self.db.tables)}")
        return real

    def _dispatch(self, act) -> tuple[str, dict[str, Any]]:
        p = act.payload
        if act.type == "describe":
            return describe(self.db, self._table(p["table"])), {}
        if act.type == "sample":
            t = self._table(p["table"])
            n = p.get("n", 3)
            if not 1 <= n <= MAX_SAMPLE:
                raise InvalidAction(f"sample: n must be 1..{MAX_SAMPLE}")
            cols, rows, _ = self.db.run(f'SELECT * FROM "{t}" LIMIT {n}', budget=STEP_BUDGET, max_rows=n)
            return f"First {len(rows)} rows of {t}:\n" + table(shown_cells(rows), cols), {}
        if act.type == "query":
            return self._query(p["sql"]), {}
        if act.type == "answer":
            return self._answer(p["sql"])
        if act.type == "clarify":
            return self._clarify(), {}
        return "Abstained.", {}

    def _query(self, sql: str) -> str:
        try:
            cols, rows, total = self.db.run(sql, budget=STEP_BUDGET, max_rows=SHOWN_ROWS)
        except (apsw.Error, BudgetExceeded, SqlgymError, ValueError) as e:
            raise InvalidAction(f"the query failed: {error_text(e)}") from None
        if not cols:
            return "The statement returned nothing."
        more = f"\n({total:,} rows in total; first {SHOWN_ROWS} shown)" if total > SHOWN_ROWS else f"\n({total:,} rows)"
        return table(shown_cells(rows), cols) + more


__all__ = ["ACTIONS", "ACTION_HELP", "Text2SQLEnv"]
