"""The business databases shipped with sqlgym: each is a Python module (schema + seeded rows) and a
YAML question set beside it. Built in memory on first use; every gold query is executed and checked.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
from importlib import resources

import apsw
import numpy as np
import yaml

from sqlgym.db.sandbox import BudgetExceeded
from sqlgym.errors import ScenarioError
from sqlgym.scenarios.text2sql import DIFFICULTIES, KINDS, Question
from sqlgym.scenarios.text2sql.hardness import difficulty
from sqlgym.sqltext import parse

DATABASES = ("pet_shop", "dog_kennels", "bike_rental", "student_assessment", "department_store")
TEST_DATABASE = "department_store"  # held out entirely: its questions are the test split
VALIDATION_FRACTION = 0.2
GOLD_BUDGET = 5_000_000  # VM steps a gold query may take at build


def _module(db_id: str):
    return importlib.import_module(f"sqlgym.scenarios.text2sql.databases.{db_id}")


@functools.cache
def database_image(db_id: str) -> bytes:
    """Build the database (schema, seeded rows, ANALYZE) and return it serialized."""
    mod = _module(db_id)
    conn = apsw.Connection(":memory:")
    conn.execute(mod.SCHEMA)
    data = mod.rows(np.random.default_rng(mod.SEED))
    with conn:
        for table, rows in data.items():
            if rows:
                marks = ", ".join("?" for _ in rows[0])
                conn.executemany(f'INSERT INTO "{table}" VALUES ({marks})', rows)
    conn.execute("ANALYZE")
    image = conn.serialize("main")
    conn.close()
    return image


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
        need(level in DIFFICULTIES, f"an unanswerable question needs 'difficulty' in {DIFFICULTIES}")
    else:
        need(isinstance(sql, str), "needs the gold 'sql'")
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


def check_gold(db, q: Question) -> None:
    """A gold query must run within budget and return something that is not all NULL."""
    try:
        _, rows, total = db.run(q.sql, budget=GOLD_BUDGET, max_rows=1000)
    except (apsw.Error, BudgetExceeded, ValueError) as e:
        raise ScenarioError(f"{q.id}: gold SQL fails: {e}") from None
    if total == 0:
        raise ScenarioError(f"{q.id}: gold SQL returns no rows")
    if all(v is None for r in rows for v in r):
        raise ScenarioError(f"{q.id}: gold SQL returns only NULL")


@functools.cache
def questions(db_id: str) -> tuple[Question, ...]:
    """The database's validated question set (gold SQL executed and checked)."""
    from sqlgym.db.readonly import ReadOnlyDatabase

    text = resources.files("sqlgym.scenarios.text2sql.databases").joinpath(f"{db_id}.yaml").read_text()
    raw = yaml.safe_load(text)["questions"]
    out = tuple(_question(db_id, d, f"{db_id}.yaml question {i}") for i, d in enumerate(raw))
    ids = [q.id for q in out]
    if len(set(ids)) != len(ids):
        raise ScenarioError(f"{db_id}.yaml: duplicate question ids")
    db = ReadOnlyDatabase(database_image(db_id))
    for q in out:
        if q.sql is not None:
            check_gold(db, q)
    db.close()
    return out


def description(db_id: str) -> str:
    return _module(db_id).DESCRIPTION.strip()
