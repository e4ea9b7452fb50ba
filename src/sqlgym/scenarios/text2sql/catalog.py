"""Datasets by name: the shipped business databases, or Spider / BIRD from a local folder."""

from __future__ import annotations

import functools

from sqlgym.errors import ConfigError, ScenarioNotFound, unknown_name
from sqlgym.scenarios.text2sql import SPLITS, Question, builtin


class Dataset:
    """Questions by split, and the database each one is asked about (as serialized bytes)."""

    name: str = ""

    def all_questions(self) -> tuple[Question, ...]:
        raise NotImplementedError

    def image(self, db_id: str) -> bytes:
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
            raise ScenarioNotFound(qid, list(self._by_id)) from None

    def describe(self, db_id: str) -> str:
        """A line about the database, shown at reset (empty when the dataset has none)."""
        return ""


class BuiltinDataset(Dataset):
    """The generated business databases shipped with sqlgym; one is held out as the test split."""

    name = "sqlgym"

    def all_questions(self) -> tuple[Question, ...]:
        return tuple(q for db in builtin.DATABASES for q in builtin.questions(db))

    def db_ids(self) -> list[str]:
        return sorted(builtin.DATABASES)

    def questions_of(self, db_id: str) -> tuple[Question, ...]:
        return builtin.questions(db_id)  # builds only this database

    def question(self, qid: str) -> Question:
        db = qid.partition("/")[0]
        if db in builtin.DATABASES:
            for q in builtin.questions(db):
                if q.id == qid:
                    return q
        return super().question(qid)

    def image(self, db_id: str) -> bytes:
        if db_id not in builtin.DATABASES:
            raise unknown_name("database", db_id, list(builtin.DATABASES))
        return builtin.database_image(db_id)

    def describe(self, db_id: str) -> str:
        return builtin.description(db_id)


@functools.lru_cache(maxsize=8)
def load_dataset(name: str = "sqlgym") -> Dataset:
    """``"sqlgym"``, ``"spider:<dir>"`` or ``"bird:<dir>"``."""
    if name == "sqlgym":
        return BuiltinDataset()
    kind, sep, root = name.partition(":")
    if sep and kind in ("spider", "bird"):
        from sqlgym.scenarios.text2sql.loaders import FolderDataset

        return FolderDataset(kind, root)
    raise ConfigError(f"unknown dataset {name!r}: use 'sqlgym', 'spider:<dir>' or 'bird:<dir>' (a local copy)")
