"""Text-to-SQL data: questions over databases, from the shipped business databases or a local folder.

A dataset is named by a string: ``"sqlgym"`` (the generated business databases shipped with the
package), ``"spider:<dir>"`` or ``"bird:<dir>"`` (a local copy of those benchmarks).
"""

from __future__ import annotations

from dataclasses import dataclass

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


def load_dataset(name: str = "sqlgym"):
    """The dataset object for a name: ``"sqlgym"``, ``"spider:<dir>"`` or ``"bird:<dir>"``."""
    from sqlgym.scenarios.text2sql.catalog import load_dataset as _load

    return _load(name)
