"""Spider and BIRD from a local folder: questions from the benchmark's JSON, databases read lazily.

Nothing is downloaded and nothing in the folder is ever opened for writing: the JSON files are read
as text here, and :mod:`sqlgym.db.datasets` copies each database into memory through a read-only,
immutable SQLite URI the first time it is asked for (a few recent images are kept, as BIRD's
databases can be large).

Layouts (``<root>`` is the folder named after ``spider:`` / ``bird:``):

Spider
    ``train_spider.json`` (+ ``train_others.json``) -> train, ``dev.json`` -> validation, over
    ``database/<db_id>/<db_id>.sqlite``; ``test.json`` -> test, over
    ``test_database/<db_id>/<db_id>.sqlite`` (falling back to ``database/``). Gold SQL is ``query``.
BIRD
    ``train/train.json`` + ``train/train_databases/<db_id>/<db_id>.sqlite`` -> train and
    ``dev/dev.json`` + ``dev/dev_databases/...`` -> validation; or, for an unzipped release,
    ``train.json`` + ``train_databases/`` and ``dev.json`` + ``dev_databases/`` in ``<root>`` itself.
    ``test`` the same way when a ``test.json`` exists. Gold SQL is ``SQL``; ``evidence`` becomes
    the question's evidence; ``simple`` / ``moderate`` / ``challenging`` become easy / medium / hard.
"""

from __future__ import annotations

import difflib
import functools
import json
import os
import pathlib
from dataclasses import dataclass
from typing import TypeGuard, cast

from sqlgym.errors import ConfigError
from sqlgym.scenarios.text2sql.question import DIFFICULTIES, Question, QuestionSet
from sqlgym.scenarios.text2sql.hardness import difficulty as spider_hardness
from sqlgym.sqltext import parse

FOLDER_KINDS = ("spider", "bird")
BIRD_LEVELS = {"simple": "easy", "moderate": "medium", "challenging": "hard"}
BIRD_SPLITS = (("train", "train"), ("dev", "validation"), ("test", "test"))  # (file stem, split)


@dataclass(frozen=True)
class Source:
    """One split's question files and the folders its databases live in (first match wins)."""

    split: str
    files: tuple[pathlib.Path, ...]
    db_dirs: tuple[pathlib.Path, ...]


def _spider_sources(root: pathlib.Path) -> tuple[list[Source], list[str]]:
    database = root / "database"
    wanted = [
        ("train", ("train_spider.json", "train_others.json"), (database,)),
        ("validation", ("dev.json",), (database,)),
        ("test", ("test.json",), (root / "test_database", database)),
    ]
    sources, looked = [], []
    for split, names, dirs in wanted:
        looked += [str(root / n) for n in names]
        files = tuple(root / n for n in names if (root / n).is_file())
        if files:
            sources.append(Source(split, files, dirs))
    return sources, looked


def _bird_sources(root: pathlib.Path) -> tuple[list[Source], list[str]]:
    sources, looked = [], []
    for stem, split in BIRD_SPLITS:
        for base in (root / stem, root):  # train/train.json, or train.json beside train_databases/
            path = base / f"{stem}.json"
            looked.append(str(path))
            if path.is_file():
                sources.append(Source(split, (path,), (base / f"{stem}_databases",)))
                break
    return sources, looked


def _safe_db_id(db_id: object) -> TypeGuard[str]:
    """A db_id names one folder: no separators, no '..', nothing that could leave the root."""
    return (isinstance(db_id, str) and db_id not in ("", ".", "..") and "/" not in db_id
            and "\\" not in db_id and "\x00" not in db_id)


def _read_json_list(path: pathlib.Path) -> list:
    try:
        with open(path, encoding="utf-8-sig") as f:  # read-only text
            data = json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ConfigError(f"cannot read {path}: {e}") from None
    if not isinstance(data, list):
        raise ConfigError(f"{path}: expected a JSON list of questions, got {type(data).__name__}")
    return data


def _facts(sql: str) -> tuple[str, bool]:
    """(Spider hardness, outermost ORDER BY) of a gold query; ('extra', False) when sqlglot cannot
    read it. A weird gold must never stop the dataset from loading."""
    try:
        ordered = parse(sql).ordered
        return spider_hardness(sql), ordered
    except Exception:  # sqlglot can fail in many ways (ValueError, RecursionError, ...)
        return "extra", False


class FolderQuestions(QuestionSet):
    """A local copy of Spider (``kind="spider"``) or BIRD (``kind="bird"``) in ``root``."""

    def __init__(self, kind: str, root: str | os.PathLike):
        if kind not in FOLDER_KINDS:
            raise ConfigError(f"unknown dataset kind {kind!r}: use one of {', '.join(FOLDER_KINDS)}")
        if not str(root).strip():
            raise ConfigError(f"name the folder holding the {kind} data: '{kind}:<dir>'")
        self.kind = kind
        self.root = pathlib.Path(root).expanduser()
        self.name = f"{kind}:{root}"
        if not self.root.exists():
            raise ConfigError(f"{kind} dataset folder {self.root} does not exist")
        if not self.root.is_dir():
            raise ConfigError(f"{kind} dataset folder {self.root} is not a folder")
        find = _spider_sources if kind == "spider" else _bird_sources
        self.sources, looked = find(self.root)
        if not self.sources:
            raise ConfigError(self._nothing_found(find, looked))

    def _nothing_found(self, find, looked: list[str]) -> str:
        msg = (f"{self.root} does not look like a {self.kind} folder: none of these files exist: "
               f"{', '.join(looked)}.")
        try:
            below = sorted(p for p in self.root.iterdir() if p.is_dir())
        except OSError:
            below = []
        hits = [p for p in below if find(p)[0]]
        if hits:
            msg += f" Did you mean '{self.kind}:{hits[0]}'?"
        return msg

    # -- questions --------------------------------------------------------------------------------

    @functools.cached_property
    def _questions(self) -> tuple[Question, ...]:
        out: list[Question] = []
        for source in self.sources:
            index = 0
            for path in source.files:
                items = _read_json_list(path)
                ids = [d.get("question_id") if isinstance(d, dict) else None for d in items]
                own_ids = (self.kind == "bird" and all(isinstance(i, int) and not isinstance(i, bool) for i in ids)
                           and len(set(ids)) == len(ids))
                for i, d in enumerate(items):
                    number = cast(int, ids[i]) if own_ids else index  # own_ids: every id is an int
                    out.append(self._question(d, source.split, number, f"{path} item {i}"))
                    index += 1
        seen: set[str] = set()
        for q in out:
            if q.id in seen:
                raise ConfigError(f"{self.root}: question id {q.id!r} appears twice")
            seen.add(q.id)
        return tuple(out)

    def _question(self, d: object, split: str, number: int, where: str) -> Question:
        if not isinstance(d, dict):
            raise ConfigError(f"{where}: expected a JSON object, got {type(d).__name__}")
        db_id, text = d.get("db_id"), d.get("question")
        if not _safe_db_id(db_id):
            raise ConfigError(f"{where}: needs a 'db_id' naming one database folder, got {db_id!r}")
        if not isinstance(text, str) or not text.strip():
            raise ConfigError(f"{where}: needs a non-empty 'question'")
        keys = ("query", "SQL") if self.kind == "spider" else ("SQL", "sql", "query")
        sql = next((d[k] for k in keys if isinstance(d.get(k), str) and d[k].strip()), None)
        if sql is None:
            raise ConfigError(f"{where}: needs the gold SQL in {' or '.join(repr(k) for k in keys)}")
        sql = sql.strip()
        level, ordered = _facts(sql)
        evidence = None
        if self.kind == "bird":
            given = str(d.get("difficulty") or "").strip().lower()
            given = BIRD_LEVELS.get(given, given)
            level = given if given in DIFFICULTIES else level
            if isinstance(d.get("evidence"), str) and d["evidence"].strip():
                evidence = d["evidence"].strip()
        return Question(id=f"{db_id}/{split}-{number:04d}", db_id=db_id, question=text.strip(), sql=sql,
                        kind="answerable", difficulty=level, ordered=ordered, evidence=evidence, split=split)

    def all_questions(self) -> tuple[Question, ...]:
        return self._questions

    # -- databases --------------------------------------------------------------------------------

    @functools.cached_property
    def _splits_of(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for q in self._questions:
            splits = out.setdefault(q.db_id, [])
            if q.split not in splits:
                splits.append(q.split)
        return out

    def database_path(self, db_id: str) -> pathlib.Path:
        """Where ``db_id``'s SQLite file is (the folders of the splits that ask about it come first)."""
        if not _safe_db_id(db_id):
            raise ConfigError(f"bad database id {db_id!r}")
        splits = self._splits_of.get(db_id, [])
        dirs: list[pathlib.Path] = []
        for source in sorted(self.sources, key=lambda s: s.split not in splits):
            dirs += [d for d in source.db_dirs if d not in dirs]
        candidates = [d / db_id / f"{db_id}.sqlite" for d in dirs]
        for path in candidates:
            if path.is_file():
                return path
        if not splits:
            known = sorted(self._splits_of)
            close = difflib.get_close_matches(db_id, known, n=3, cutoff=0.5)
            hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise ConfigError(f"unknown database {db_id!r} in {self.name}: no question asks about it and "
                              f"no file {candidates[0]} exists.{hint} ({len(known)} databases have questions.)")
        msg = f"database file for {db_id!r} not found: expected {candidates[0]}"
        if len(candidates) > 1:
            msg += f" (also looked at {', '.join(str(p) for p in candidates[1:])})"
        zipped = [d.with_name(d.name + ".zip") for d in dirs if d.with_name(d.name + ".zip").is_file()]
        if zipped:
            msg += f"; unzip {zipped[0]} first"
        raise ConfigError(msg)

    def describe(self, db_id: str) -> str:
        return ""
