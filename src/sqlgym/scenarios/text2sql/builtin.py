"""The business databases shipped with sqlgym: each is a Python module (schema + seeded rows) and a
YAML question set beside it. This module reads them as data; :mod:`sqlgym.db.datasets` builds each
database in memory on first use and executes and checks every gold query.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
from importlib import resources

import numpy as np
import yaml

from sqlgym.errors import ScenarioError
from sqlgym.scenarios.text2sql.question import DIFFICULTIES, KINDS, Question, QuestionSet
from sqlgym.scenarios.text2sql.hardness import difficulty
from sqlgym.sqltext import parse

DATABASES = ("pet_shop", "dog_kennels", "bike_rental", "student_assessment", "department_store")
TEST_DATABASE = "department_store"  # held out entirely: its questions are the test split
VALIDATION_FRACTION = 0.2


def _module(db_id: str):
    return importlib.import_module(f"sqlgym.scenarios.text2sql.databases.{db_id}")


def schema_and_rows(db_id: str) -> tuple[str, dict[str, list[tuple]]]:
    """The database's CREATE statements and its seeded rows, table by table."""
    mod = _module(db_id)
    return mod.SCHEMA, mod.rows(np.random.default_rng(mod.SEED))


def _split_of(db_id: str, qid: str) -> str:
    if db_id == TEST_DATABASE:
        return "test"
    h = int.from_bytes(hashlib.sha256(qid.encode()).digest()[:4], "big") / 2**32
    return "validation" if h < VALIDATION_FRACTION else "train"


def _question(db_id: str, d: dict, where: str) -> Question:
    def need(cond: bool, msg: str) -> None:
        if not cond:
            raise ScenarioError(f"{where}: {msg}")

    need(isinstance(d.get("id"), int), "needs an integer 'id'")
    qid = f"{db_id}/{d['id']:03d}"
    kind = d.get("kind", "answerable")
    need(kind in KINDS, f"kind {kind!r} not in {KINDS}")
    need(isinstance(d.get("question"), str) and d["question"].strip() != "", "needs a 'question'")
    sql = d.get("sql")
    ordered = False
    if kind == "unanswerable":
        need(sql is None, "an unanswerable question has no 'sql'")
        level = d.get("difficulty")
        if not isinstance(level, str) or level not in DIFFICULTIES:
            raise ScenarioError(f"{where}: an unanswerable question needs 'difficulty' in {DIFFICULTIES}")
    else:
        if not isinstance(sql, str):
            raise ScenarioError(f"{where}: needs the gold 'sql'")
        try:
            facts = parse(sql)
        except ValueError as e:
            raise ScenarioError(f"{where}: gold SQL does not parse: {e}") from None
        need(facts.kind == "select", "gold SQL must be a SELECT")
        ordered = facts.ordered
        level = d.get("difficulty") or difficulty(sql)
    if kind == "clarification":
        need(isinstance(d.get("clarification"), str), "a clarification question needs the scripted 'clarification'")
    return Question(id=qid, db_id=db_id, question=d["question"].strip(), sql=sql.strip() if sql else None, kind=kind,
                    difficulty=level, ordered=ordered, clarification=d.get("clarification"),
                    split=_split_of(db_id, qid))


@functools.cache
def questions(db_id: str) -> tuple[Question, ...]:
    """The database's question set as written (gold SQL parsed, not yet executed)."""
    text = resources.files("sqlgym.scenarios.text2sql.databases").joinpath(f"{db_id}.yaml").read_text()
    raw = yaml.safe_load(text)["questions"]
    out = tuple(_question(db_id, d, f"{db_id}.yaml question {i}") for i, d in enumerate(raw))
    ids = [q.id for q in out]
    if len(set(ids)) != len(ids):
        raise ScenarioError(f"{db_id}.yaml: duplicate question ids")
    return out


def description(db_id: str) -> str:
    return _module(db_id).DESCRIPTION.strip()


class BuiltinQuestions(QuestionSet):
    """The questions of the business databases shipped with sqlgym; one database is held out as the test split."""

    name = "sqlgym"

    def all_questions(self) -> tuple[Question, ...]:
        return tuple(q for db in DATABASES for q in self.questions_of(db))

    def db_ids(self) -> list[str]:
        return sorted(DATABASES)

    def questions_of(self, db_id: str) -> tuple[Question, ...]:
        return questions(db_id)

    def question(self, qid: str) -> Question:
        db = qid.partition("/")[0]
        if db in DATABASES:
            for q in self.questions_of(db):
                if q.id == qid:
                    return q
        return super().question(qid)

    def describe(self, db_id: str) -> str:
        return description(db_id)
