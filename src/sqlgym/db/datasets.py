"""Text-to-SQL datasets with their databases: questions from :mod:`sqlgym.scenarios.text2sql`, databases as
serialized in-memory images.

The shipped business databases are built from their Python modules on first use, and every gold
query is executed and checked (it must run within budget and return something not all NULL) before
any of the database's questions is handed out. Spider and BIRD databases are copied from the local
folder through a read-only, immutable URI; the folder is never opened for writing.
"""

from __future__ import annotations

import functools

import apsw

from sqlgym.db.readonly import ReadOnlyDatabase, image_of_file
from sqlgym.db.sandbox import BudgetExceeded
from sqlgym.errors import ConfigError, ScenarioError, SqlgymError, unknown_name
from sqlgym.scenarios.text2sql import builtin
from sqlgym.scenarios.text2sql.loaders import FolderQuestions
from sqlgym.scenarios.text2sql.question import Question, QuestionSet

GOLD_BUDGET = 5_000_000  # VM steps a gold query may take at build
IMAGE_CACHE = 16  # folder database images kept in memory
SQLITE_HEADER = b"SQLite format 3\x00"


class Dataset(QuestionSet):
    """Questions by split, and the database each one is asked about (as serialized bytes)."""

    def image(self, db_id: str) -> bytes:
        raise NotImplementedError


@functools.cache
def database_image(db_id: str) -> bytes:
    """Build a shipped database (schema, seeded rows, ANALYZE) and return it serialized."""
    schema, data = builtin.schema_and_rows(db_id)
    conn = apsw.Connection(":memory:")
    conn.execute(schema)
    with conn:
        for table, rows in data.items():
            if rows:
                marks = ", ".join("?" for _ in rows[0])
                conn.executemany(f'INSERT INTO "{table}" VALUES ({marks})', rows)
    conn.execute("ANALYZE")
    image = conn.serialize("main")
    conn.close()
    return image


def check_gold(db: ReadOnlyDatabase, q: Question) -> None:
    """A gold query must run within budget and return something that is not all NULL."""
    assert q.sql is not None
    try:
        _, rows, total = db.run(q.sql, budget=GOLD_BUDGET, max_rows=1000, deadline_s=None)
    except (apsw.Error, BudgetExceeded, SqlgymError, ValueError) as e:
        raise ScenarioError(f"{q.id}: gold SQL fails: {e}") from None
    if total == 0:
        raise ScenarioError(f"{q.id}: gold SQL returns no rows")
    if all(v is None for r in rows for v in r):
        raise ScenarioError(f"{q.id}: gold SQL returns only NULL")


@functools.cache
def checked_questions(db_id: str) -> tuple[Question, ...]:
    """A shipped database's questions, every gold query executed and checked."""
    out = builtin.questions(db_id)
    db = ReadOnlyDatabase(database_image(db_id))
    try:
        for q in out:
            if q.sql is not None:
                check_gold(db, q)
    finally:
        db.close()
    return out


class BuiltinDataset(builtin.BuiltinQuestions, Dataset):
    """The generated business databases shipped with sqlgym; one is held out as the test split."""

    def questions_of(self, db_id: str) -> tuple[Question, ...]:
        return checked_questions(db_id)  # builds only this database

    def image(self, db_id: str) -> bytes:
        if db_id not in builtin.DATABASES:
            raise unknown_name("database", db_id, list(builtin.DATABASES))
        return database_image(db_id)


@functools.lru_cache(maxsize=IMAGE_CACHE)
def _file_image(path: str, mtime_ns: int, size: int) -> bytes:
    """The serialized database at ``path``; keyed on (mtime, size) so a replaced file is read again."""
    if size == 0:
        raise ConfigError(f"the database file {path} is empty (0 bytes)")
    try:
        with open(path, "rb") as f:  # read-only
            header = f.read(len(SQLITE_HEADER))
        image = image_of_file(path) if header == SQLITE_HEADER else None
    except (OSError, apsw.Error) as e:
        raise ConfigError(f"cannot read the SQLite database {path}: {e}") from None
    if not image:
        raise ConfigError(f"cannot read the SQLite database {path}: not a SQLite file")
    return image


class FolderDataset(FolderQuestions, Dataset):
    """A local copy of Spider (``kind="spider"``) or BIRD (``kind="bird"``) in ``root``."""

    def image(self, db_id: str) -> bytes:
        path = self.database_path(db_id)
        st = path.stat()
        return _file_image(str(path), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=8)
def load_dataset(name: str = "sqlgym") -> Dataset:
    """``"sqlgym"`` (the shipped databases), ``"spider:<dir>"`` or ``"bird:<dir>"`` (a local copy).

    >>> load_dataset("sqlgym").question("pet_shop/001").db_id
    'pet_shop'
    """
    if name == "sqlgym":
        return BuiltinDataset()
    kind, sep, root = name.partition(":")
    if sep and kind in ("spider", "bird"):
        return FolderDataset(kind, root)
    raise ConfigError(f"unknown dataset {name!r}: use 'sqlgym', 'spider:<dir>' or 'bird:<dir>' (a local copy)")


def list_for_task(split: str | None, n: int | None, dataset: str = "sqlgym") -> list[str]:
    """The task registry's lister: question ids of a split (all when ``split`` is None)."""
    ids = [q.id for q in load_dataset(dataset).questions(split)]
    return ids if n is None else ids[:n]


def load_for_task(question_id: str, dataset: str = "sqlgym") -> Question:
    return load_dataset(dataset).question(question_id)


__all__ = ["BuiltinDataset", "Dataset", "FolderDataset", "database_image", "load_dataset"]
