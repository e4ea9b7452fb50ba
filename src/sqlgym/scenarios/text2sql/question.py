"""A text-to-SQL question, and the set of them a dataset holds (pure data: no database here)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlgym.errors import ScenarioNotFound, unknown_name

KINDS = ("answerable", "clarification", "unanswerable")
DIFFICULTIES = ("easy", "medium", "hard", "extra")
SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class Question:
    """One question. ``sql`` is the gold query (None when the database cannot answer it)."""

    id: str
    db_id: str
    question: str
    sql: str | None
    kind: str = "answerable"
    difficulty: str = "easy"
    ordered: bool = False  # the gold's outermost query has ORDER BY (decided by sqlglot)
    clarification: str | None = None  # the scripted reply to ``clarify`` for an ambiguous question
    evidence: str | None = None  # BIRD's external knowledge, shown with the question
    split: str = "train"



class QuestionSet:
    """Questions by split and database; ``sqlgym.db.datasets.Dataset`` adds the databases themselves."""

    name: str = ""

    def all_questions(self) -> tuple[Question, ...]:
        raise NotImplementedError

    def db_ids(self) -> list[str]:
        return sorted({q.db_id for q in self.all_questions()})

    def questions_of(self, db_id: str) -> tuple[Question, ...]:
        return tuple(q for q in self.all_questions() if q.db_id == db_id)

    def questions(self, split: str | None = None, db_id: str | None = None) -> list[Question]:
        """The questions of one split (``train`` / ``validation`` / ``test``) or all, of one database or all."""
        if split is not None and split not in SPLITS:
            raise unknown_name("split", split, list(SPLITS))
        if db_id is not None and db_id not in self.db_ids():
            raise unknown_name("database", db_id, self.db_ids())
        pool = self.all_questions() if db_id is None else self.questions_of(db_id)
        return [q for q in pool if split is None or q.split == split]

    @functools.cached_property
    def _by_id(self) -> dict[str, Question]:
        return {q.id: q for q in self.all_questions()}

    def question(self, qid: str) -> Question:
        try:
            return self._by_id[qid]
        except KeyError:
            raise ScenarioNotFound(qid, list(self._by_id), kind="question", also="") from None

    def describe(self, db_id: str) -> str:
        """A line about the database, shown at reset (empty when the dataset has none)."""
        return ""
