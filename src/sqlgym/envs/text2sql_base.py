"""What Text2SQL-v0 (explore, then answer) and Text2SQLDirect-v0 (one shot) share: questions, databases, judging.

Both score answers by execution accuracy (:mod:`sqlgym.db.results`) against the gold query run on
the same read-only database with the same step budget. The database cannot change: every agent
statement runs under the read-only sandbox, so nothing is restored between episodes.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass, field
from collections.abc import Callable, Mapping
from typing import Any

import apsw
import gymnasium as gym
from gymnasium import spaces

from sqlgym.db.datasets import Dataset, load_dataset
from sqlgym.db.readonly import ReadOnlyDatabase
from sqlgym.db.results import Result, execution_match, row_f1
from sqlgym.db.guards import nondeterministic_reason
from sqlgym.db.sandbox import BudgetExceeded, DeadlineExceeded
from sqlgym.envs.actions import AGENT_ERRORS, TEXT2SQL_ACTIONS, InvalidAction, failure_text
from sqlgym.envs.text import CHARSET, MAX_ACTION, MAX_OBS, TextSpace, clean
from sqlgym.errors import ConfigError, SqlgymError, unknown_name
from sqlgym.rewards.text2sql import text2sql_reward
from sqlgym.scenarios.text2sql import SPLITS
from sqlgym.scenarios.text2sql.question import Question
from sqlgym.types import AnswerTransition

STEP_BUDGET = 5_000_000  # VM steps for any one statement, gold or agent (about 0.1 s at most)
SHOWN_ROWS = 20
COMPARE_ROWS = 100_000  # an answer returning more rows than this is wrong
MAX_SAMPLE = 5
OPEN_DATABASES = 8  # read-only copies an env keeps open (BIRD databases can be large)
NO_CLARIFICATION = "No clarification is available: the question stands as asked."

ACTIONS = TEXT2SQL_ACTIONS
ACTION_HELP = TEXT2SQL_ACTIONS.help_line()


_GOLD: dict[tuple[str, str], Result] = {}  # (dataset, question id) -> gold result; databases never change


@dataclass
class Text2SQLEpisode:
    """Everything one episode changes, in one place (the read-only database never changes)."""

    question: Question
    db: ReadOnlyDatabase
    steps: int = 0
    clarified: bool = False  # asked for clarification at least once
    seen: set[str] = field(default_factory=set)  # actions taken (for the repeat penalty)
    done: bool = False


class Text2SQLBase(gym.Env):
    """The shared machinery; subclasses give the intro, the actions they accept and what each does."""

    metadata = {"render_modes": ["ansi"], "render_fps": 4}
    max_steps = 15

    def __init__(self, dataset: str | Dataset = "sqlgym", split: str | None = None, question: str | None = None,
                 db_id: str | None = None, max_steps: int | None = None,
                 reward: str | Mapping[str, float] | Callable = "ex", render_mode: str | None = None):
        self.dataset = load_dataset(dataset) if isinstance(dataset, str) else dataset
        if question is not None and (split is not None or db_id is not None):
            raise ConfigError("give question= alone, or split= and/or db_id=")
        if question is not None:
            self._pool = [self.dataset.question(question)]  # an unknown id fails here, with "did you mean"
        else:
            if split is not None and split not in SPLITS:
                raise unknown_name("split", split, list(SPLITS))
            if split is None and db_id is not None:
                pool = self.dataset.questions(None, db_id)  # a database alone: all of its questions
            else:
                pool = self.dataset.questions(split or "train", db_id)
            if not pool:
                raise ConfigError(f"no questions in split {split or 'train'!r}" + (f" for {db_id!r}" if db_id else ""))
            self._pool = pool
        if max_steps is not None:
            if max_steps < 1:
                raise ConfigError("max_steps must be at least 1")
            self.max_steps = max_steps
        self.reward_fn = reward if callable(reward) else text2sql_reward(reward)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise unknown_name("render_mode", str(render_mode), self.metadata["render_modes"])
        self.render_mode = render_mode
        self.observation_space = TextSpace(max_length=MAX_OBS, min_length=1, charset=CHARSET)
        self.action_space = spaces.Text(max_length=MAX_ACTION, min_length=1, charset=CHARSET)
        self._open: OrderedDict[str, ReadOnlyDatabase] = OrderedDict()
        self._ep: Text2SQLEpisode | None = None
        self._last_obs = ""

    @property
    def ep(self) -> Text2SQLEpisode:
        """The current episode's state (after ``reset``)."""
        if self._ep is None:
            raise gym.error.ResetNeeded("call reset() first")
        return self._ep

    @property
    def question(self) -> Question:
        """The question this episode asks."""
        return self.ep.question

    @property
    def db(self) -> ReadOnlyDatabase:
        return self.ep.db

    # -- episode ---------------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        options = options or {}
        if "question" in options:
            q = self.dataset.question(options["question"])
        elif len(self._pool) == 1:
            q = self._pool[0]
        else:
            q = self._pool[int(self.np_random.integers(len(self._pool)))]
        self._ep = Text2SQLEpisode(q, self._database(q.db_id))
        self._last_obs = clean(self._intro())
        return self._last_obs, self._info(valid=True, error=None, parts={})

    def step(self, action):
        if self._ep is None:
            obs = "Error: call reset() first."
            return obs, 0.0, True, False, {"action_valid": False, "error": obs}
        if self._ep.done:
            obs = "Error: the episode is over; call reset()."
            return obs, 0.0, True, False, self._info(valid=False, error=obs, parts={})
        self.ep.steps += 1
        key = _action_key(action)
        repeated = key in self.ep.seen
        self.ep.seen.add(key)
        first_clarify = False
        outcome: dict[str, Any] = {}
        act = None
        try:
            act = self._parse(action)
            if act.type == "clarify":
                first_clarify = not self.ep.clarified
            obs, outcome = self._dispatch(act)
            error = None
        except InvalidAction as e:
            error = str(e)
            obs = f"Error: {error}"
        except AGENT_ERRORS as e:  # the one boundary: nothing the agent sends escapes step()
            act, outcome = None, {}
            error = failure_text(e)
            obs = f"Error: {error}"
        terminated = act is not None and error is None and act.type in ("answer", "abstain") or outcome.get("end", False)
        truncated = not terminated and self.ep.steps >= self.max_steps
        correct = terminated and self._judge(act, outcome)
        tr = AnswerTransition(
            action_type=act.type if act else "", valid=error is None, step=self.ep.steps,
            terminal=terminated or truncated, kind=self.question.kind, correct=correct,
            ran=outcome.get("ran", False), row_f1=outcome.get("row_f1", 0.0), repeated=repeated,
            first_clarify=first_clarify,
        )
        reward, parts = self.reward_fn(tr)
        if terminated or truncated:
            self.ep.done = True
            obs += "\nThe episode is over." if terminated else f"\nOut of steps ({self.max_steps}); the episode is over."
        self._last_obs = clean(obs)
        info = self._info(valid=error is None, error=error, parts=parts)
        if terminated or truncated:
            as_set = terminated and self._judge(act, {**outcome, "match": outcome.get("set_match", False)})
            info.update(correct=bool(correct), answered=terminated, set_correct=bool(as_set))
        return self._last_obs, float(reward), terminated, truncated, info

    def render(self):
        if self.render_mode == "ansi":
            return f"[{self.question.id} step {self.ep.steps}/{self.max_steps}]\n{self._last_obs}\n"
        return None

    def close(self):
        for db in self._open.values():
            db.close()
        self._open.clear()

    # -- pieces subclasses share -----------------------------------------------------------------
    def _parse(self, action):
        return ACTIONS.parse(action)

    def _database(self, db_id: str) -> ReadOnlyDatabase:
        if db_id in self._open:
            self._open.move_to_end(db_id)
        else:
            self._open[db_id] = ReadOnlyDatabase(self.dataset.image(db_id))
            while len(self._open) > OPEN_DATABASES:
                self._open.popitem(last=False)[1].close()
        return self._open[db_id]

    def _info(self, *, valid: bool, error: str | None, parts: dict) -> dict[str, Any]:
        q = self.question
        return {"db_id": q.db_id, "question_id": q.id, "difficulty": q.difficulty, "kind": q.kind,
                "step": self.ep.steps, "action_valid": valid, "error": error, "reward_parts": dict(parts)}

    def _question_text(self) -> str:
        q = self.question
        text = f"Question: {q.question}"
        if q.evidence:
            text += f"\nEvidence: {q.evidence}"
        return text

    def gold(self) -> Result:
        """The gold query's result (computed once per process; the databases never change)."""
        q = self.question
        key = (self.dataset.name or str(id(self.dataset)), q.id)
        if key not in _GOLD:
            assert q.sql is not None, "only answerable questions have a gold result"
            cols, rows, _ = self.db.run(q.sql, budget=STEP_BUDGET, max_rows=COMPARE_ROWS, deadline_s=None)
            _GOLD[key] = Result.of(len(cols), rows)
        return _GOLD[key]

    def _answer(self, sql: str) -> tuple[str, dict[str, Any]]:
        """Run an answer and compare it with the gold; errors and overruns are wrong, never crashes."""
        why = nondeterministic_reason(sql)
        if why:  # an answer must mean one thing: the same result in every run
            return f"Answer submitted; it is not deterministic ({why}), which is wrong.", {"ran": False}
        try:
            cols, rows, total = self.db.run(sql, budget=STEP_BUDGET, max_rows=COMPARE_ROWS, deterministic=True)
        except DeadlineExceeded as e:  # wall time makes an action invalid; it never decides right or wrong
            raise InvalidAction(f"the answer ran out of time ({e}); nothing was submitted") from None
        except (apsw.Error, BudgetExceeded, SqlgymError, ValueError) as e:
            return f"Answer submitted; it failed: {error_text(e)}", {"ran": False}
        if total > COMPARE_ROWS:
            return f"Answer submitted; it returned more than {COMPARE_ROWS:,} rows.", {"ran": True}
        pred = Result.of(len(cols), rows)
        out: dict[str, Any] = {"ran": True}
        if self.question.sql is not None:
            gold = self.gold()
            out.update(match=execution_match(gold, pred, self.question.ordered),
                       set_match=execution_match(gold, pred, as_set=True), row_f1=row_f1(gold, pred))
        return f"Answer submitted ({total:,} rows).", out

    def _judge(self, act, outcome: dict) -> bool:
        """Right for the question's kind: EX for answerable; clarify-then-EX; abstain when unanswerable."""
        kind = self.question.kind
        if act is None:
            return False
        if kind == "unanswerable":
            return act.type == "abstain"
        if act.type != "answer" or not outcome.get("match", False):
            return False
        return kind == "answerable" or self.ep.clarified

    def _clarify(self) -> str:
        self.ep.clarified = True
        q = self.question
        return q.clarification if q.kind == "clarification" and q.clarification else NO_CLARIFICATION

    def _dispatch(self, act) -> tuple[str, dict[str, Any]]:
        raise NotImplementedError

    def _intro(self) -> str:
        raise NotImplementedError


def _action_key(action: Any) -> str:
    """A repeat-detection key for any action value (dicts may have keys of mixed types)."""
    if isinstance(action, str):
        return action
    try:
        return json.dumps(action, sort_keys=True, default=str)
    except (TypeError, ValueError, RecursionError):
        try:
            return repr(action)
        except RecursionError:
            return f"<{type(action).__name__} nested too deeply>"


def describe(db: ReadOnlyDatabase, t: str) -> str:
    fks = {c: (rt, rc) for c, rt, rc in db.foreign_keys(t)}
    lines = [f"Table {t} ({db.row_count(t):,} rows)"]
    for name, ctype, pk in db.columns(t):
        extra = " PRIMARY KEY" if pk else ""
        if name in fks:
            extra += f" -> {fks[name][0]}.{fks[name][1]}"
        lines.append(f"  {name} {ctype}{extra}".rstrip())
    return "\n".join(lines)


def shown_cells(rows: list[tuple]) -> list[list]:
    """Cells as the agent sees them: long text cut, blobs summarised."""
    def cell(v):
        if isinstance(v, bytes):
            return f"<blob {len(v)} bytes>"
        if isinstance(v, str) and len(v) > 60:
            return v[:57] + "..."
        return v

    return [[cell(v) for v in r] for r in rows]


def error_text(e: Exception) -> str:
    if isinstance(e, BudgetExceeded):
        return str(e)
    if isinstance(e, apsw.AuthError):
        return "not allowed: only reading the database is permitted"
    return f"{type(e).__name__.replace('Error', ' error').strip()}: {e}".replace("apsw.", "")
