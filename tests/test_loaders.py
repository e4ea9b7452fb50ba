"""Spider and BIRD from a local folder: layouts, splits, ids, difficulty, lazy read-only databases.

``make_spider_folder`` and ``make_bird_folder`` build tiny copies of those benchmarks for other test
modules too (``from tests.test_loaders import make_spider_folder``). Every gold query in them runs
on its database and returns at least one non-NULL row.
"""

from __future__ import annotations

import functools
import json
import pathlib

import apsw
import pytest

from sqlgym.db.readonly import ReadOnlyDatabase
from sqlgym.errors import ConfigError
from sqlgym.db.datasets import load_dataset
from sqlgym.db.datasets import Dataset
from sqlgym.db.datasets import FolderDataset

DATABASES = {
    "concert_singer": [
        "CREATE TABLE singer (singer_id INTEGER PRIMARY KEY, name TEXT, age INTEGER, country TEXT)",
        "CREATE TABLE concert (concert_id INTEGER PRIMARY KEY, concert_name TEXT, year INTEGER,"
        " singer_id INTEGER REFERENCES singer(singer_id))",
        "INSERT INTO singer VALUES (1, 'Joe Sharp', 52, 'Netherlands'), (2, 'Timbaland', 32, 'United States'),"
        " (3, 'Justin Brown', 29, 'France'), (4, 'Rose White', 41, 'France')",
        "INSERT INTO concert VALUES (1, 'Auditions', 2014, 1), (2, 'Super bootcamp', 2014, 2),"
        " (3, 'Home Visits', 2015, 3), (4, 'Week 1', 2015, 3)",
    ],
    "pets_1": [
        "CREATE TABLE student (stuid INTEGER PRIMARY KEY, fname TEXT, age INTEGER)",
        "CREATE TABLE pets (petid INTEGER PRIMARY KEY, pettype TEXT, pet_age INTEGER)",
        "CREATE TABLE has_pet (stuid INTEGER REFERENCES student(stuid), petid INTEGER REFERENCES pets(petid))",
        "INSERT INTO student VALUES (1, 'Linda', 18), (2, 'Tracy', 19), (3, 'Shiela', 21)",
        "INSERT INTO pets VALUES (1, 'cat', 3), (2, 'dog', 2), (3, 'dog', 1)",
        "INSERT INTO has_pet VALUES (1, 1), (1, 2), (2, 3)",
    ],
    "school": [
        "CREATE TABLE teacher (teacher_id INTEGER PRIMARY KEY, name TEXT, subject TEXT)",
        "INSERT INTO teacher VALUES (1, 'Ada', 'math'), (2, 'Alan', 'computing'), (3, 'Grace', 'math')",
    ],
    "movies": [
        "CREATE TABLE movies (movie_id INTEGER PRIMARY KEY, title TEXT, release_year INTEGER, popularity INTEGER)",
        "CREATE TABLE ratings (movie_id INTEGER REFERENCES movies(movie_id), user_id INTEGER, score INTEGER)",
        "INSERT INTO movies VALUES (1, 'La Antena', 2007, 105), (2, 'Elementary Particles', 2006, 23),"
        " (3, 'It''s Winter', 2002, 21)",
        "INSERT INTO ratings VALUES (1, 10, 3), (1, 11, 4), (2, 10, 5), (3, 12, 1)",
    ],
    "debit_card": [
        "CREATE TABLE customers (CustomerID INTEGER PRIMARY KEY, Segment TEXT, Currency TEXT)",
        "CREATE TABLE yearmonth (CustomerID INTEGER REFERENCES customers(CustomerID), Date TEXT, Consumption REAL)",
        "INSERT INTO customers VALUES (1, 'SME', 'EUR'), (2, 'LAM', 'CZK'), (3, 'KAM', 'EUR'), (4, 'SME', 'CZK')",
        "INSERT INTO yearmonth VALUES (1, '201201', 10.5), (2, '201201', 200.0), (3, '201202', 31.0),"
        " (4, '201203', 55.5)",
    ],
}

# (db_id, question, gold, expected difficulty, expected ordered)
SPIDER_TRAIN = [
    ("concert_singer", "How many singers do we have?", "SELECT count(*) FROM singer", "easy", False),
    ("concert_singer", "Show name and age of all singers, oldest first.",
     "SELECT name, age FROM singer ORDER BY age DESC", "medium", True),
    ("pets_1", "How many pets are older than 1?", "SELECT count(*) FROM pets WHERE pet_age > 1", "easy", False),
]
SPIDER_OTHERS = [
    ("concert_singer", "Which singers had a concert in 2014?",
     "SELECT T1.name FROM singer AS T1 JOIN concert AS T2 ON T1.singer_id = T2.singer_id WHERE T2.year = 2014",
     "medium", False),
]
SPIDER_DEV = [
    ("pets_1", "Find the first names of students who have no pet.",
     "SELECT fname FROM student WHERE stuid NOT IN (SELECT stuid FROM has_pet)", "hard", False),
    ("pets_1", "List pet types by number of pets, most common first.",
     "SELECT pettype, count(*) FROM pets GROUP BY pettype ORDER BY count(*) DESC", "extra", True),
]
SPIDER_TEST = [
    ("school", "Which teachers teach math?", "SELECT name FROM teacher WHERE subject = 'math'", "easy", False),
]

# (question_id or None, db_id, question, evidence, gold, BIRD difficulty or None, expected difficulty)
BIRD_TRAIN = [
    (None, "movies", "What is the most popular movie?", "most popular refers to MAX(popularity)",
     "SELECT title FROM movies ORDER BY popularity DESC LIMIT 1", "simple", "easy"),
    (None, "movies", "What is the average score of 'La Antena'?", "average score = AVG(score)",
     "SELECT AVG(T2.score) FROM movies AS T1 JOIN ratings AS T2 ON T1.movie_id = T2.movie_id"
     " WHERE T1.title = 'La Antena'", "moderate", "medium"),
]
BIRD_DEV = [
    (10, "debit_card", "How many customers pay in euro?", "euro refers to Currency = 'EUR'",
     "SELECT COUNT(CustomerID) FROM customers WHERE Currency = 'EUR'", "simple", "easy"),
    (11, "debit_card", "Which SME customer consumed the most in 2012?",
     "SME is a segment; 2012 refers to Date LIKE '2012%'",
     "SELECT T1.CustomerID FROM customers AS T1 JOIN yearmonth AS T2 ON T1.CustomerID = T2.CustomerID"
     " WHERE T1.Segment = 'SME' AND T2.Date LIKE '2012%' GROUP BY T1.CustomerID ORDER BY SUM(T2.Consumption) DESC"
     " LIMIT 1", "challenging", "hard"),
    (12, "debit_card", "How many customers are there?", "", "SELECT COUNT(*) FROM customers", None, "easy"),
]


@functools.cache
def _db_bytes(db_id: str) -> bytes:
    """The database built once in memory (writing the file through SQLite would fsync: slow)."""
    conn = apsw.Connection(":memory:")
    for s in DATABASES[db_id]:
        conn.execute(s)
    image = conn.serialize("main")
    conn.close()
    return image


def _make_db(path: pathlib.Path, db_id: str) -> pathlib.Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_db_bytes(db_id))
    return path


def _write_json(path: pathlib.Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")


def _tables_entry(db_id: str) -> dict:
    tables = [s.split()[2] for s in DATABASES[db_id] if s.startswith("CREATE TABLE")]
    return {"db_id": db_id, "table_names_original": tables, "table_names": tables,
            "column_names_original": [[-1, "*"]], "column_names": [[-1, "*"]], "column_types": ["text"],
            "primary_keys": [], "foreign_keys": []}


def _spider_items(rows) -> list[dict]:
    return [{"db_id": db, "question": q, "query": sql, "query_toks": sql.split(), "sql": {}} for db, q, sql, *_ in rows]


def make_spider_folder(root: pathlib.Path, *, test_split: bool = True) -> pathlib.Path:
    """A tiny Spider copy in ``root/spider`` (returned): concert_singer and pets_1 under ``database/``
    (4 train questions, 2 dev), and, with ``test_split``, school under ``test_database/`` (1 test)."""
    folder = root / "spider"
    for db_id in ("concert_singer", "pets_1"):
        _make_db(folder / "database" / db_id / f"{db_id}.sqlite", db_id)
    _write_json(folder / "tables.json", [_tables_entry("concert_singer"), _tables_entry("pets_1")])
    _write_json(folder / "train_spider.json", _spider_items(SPIDER_TRAIN))
    _write_json(folder / "train_others.json", _spider_items(SPIDER_OTHERS))
    _write_json(folder / "dev.json", _spider_items(SPIDER_DEV))
    if test_split:
        _make_db(folder / "test_database" / "school" / "school.sqlite", "school")
        _write_json(folder / "test_tables.json", [_tables_entry("school")])
        _write_json(folder / "test.json", _spider_items(SPIDER_TEST))
    return folder


def _bird_items(rows) -> list[dict]:
    out = []
    for qid, db, q, ev, sql, level, _ in rows:
        d = {"db_id": db, "question": q, "evidence": ev, "SQL": sql}
        if qid is not None:
            d = {"question_id": qid, **d}
        if level is not None:
            d["difficulty"] = level
        out.append(d)
    return out


def make_bird_folder(root: pathlib.Path, *, flat: bool = False) -> pathlib.Path:
    """A tiny BIRD copy in ``root/bird`` (returned): movies (2 train questions) and debit_card
    (3 dev questions, with question_id). ``flat`` lays out the unzipped dev release instead:
    ``dev.json`` + ``dev_databases/`` in the folder itself, and no train split."""
    folder = root / ("bird_dev" if flat else "bird")
    if flat:
        _make_db(folder / "dev_databases" / "debit_card" / "debit_card.sqlite", "debit_card")
        _write_json(folder / "dev.json", _bird_items(BIRD_DEV))
        return folder
    _make_db(folder / "train" / "train_databases" / "movies" / "movies.sqlite", "movies")
    _write_json(folder / "train" / "train.json", _bird_items(BIRD_TRAIN))
    _make_db(folder / "dev" / "dev_databases" / "debit_card" / "debit_card.sqlite", "debit_card")
    _write_json(folder / "dev" / "dev.json", _bird_items(BIRD_DEV))
    return folder


def _snapshot(folder: pathlib.Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``folder``: (contents, mtime_ns)."""
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


# -- Spider -----------------------------------------------------------------------------------------


def test_spider_questions_by_split(tmp_path):
    ds = FolderDataset("spider", make_spider_folder(tmp_path))
    assert isinstance(ds, Dataset)
    expected = {"train": SPIDER_TRAIN + SPIDER_OTHERS, "validation": SPIDER_DEV, "test": SPIDER_TEST}
    for split, rows in expected.items():
        got = ds.questions(split)
        assert [q.id for q in got] == [f"{row[0]}/{split}-{i:04d}" for i, row in enumerate(rows)]
        for q, (db_id, text, sql, level, ordered) in zip(got, rows, strict=True):
            assert (q.db_id, q.question, q.sql, q.split) == (db_id, text, sql, split)
            assert (q.kind, q.difficulty, q.ordered) == ("answerable", level, ordered)
            assert q.evidence is None and q.clarification is None
    assert len(ds.all_questions()) == 7
    assert ds.question("concert_singer/train-0001").ordered
    assert ds.describe("pets_1") == ""


def test_spider_without_test_split(tmp_path):
    ds = FolderDataset("spider", make_spider_folder(tmp_path, test_split=False))
    assert ds.questions("test") == []
    assert len(ds.questions("train")) == 4


def test_spider_images_match_and_files_are_untouched(tmp_path):
    folder = make_spider_folder(tmp_path)
    before = _snapshot(folder)
    ds = FolderDataset("spider", folder)
    ds.all_questions()
    tables = {"concert_singer": ["concert", "singer"], "pets_1": ["has_pet", "pets", "student"], "school": ["teacher"]}
    for db_id, names in tables.items():
        image = ds.image(db_id)
        assert isinstance(image, bytes)
        db = ReadOnlyDatabase(image)
        assert db.tables == names
        db.close()
    assert ds.image("pets_1") is ds.image("pets_1")  # cached, not read again
    # every gold runs on its database and returns something
    for q in ds.all_questions():
        db = ReadOnlyDatabase(ds.image(q.db_id))
        _, rows, total = db.run(q.sql, budget=1_000_000, max_rows=10)
        db.close()
        assert total > 0 and any(v is not None for r in rows for v in r), q.id
    assert _snapshot(folder) == before  # same files (no journal/-wal/-shm left), same bytes, same mtimes


def test_weird_gold_does_not_stop_loading(tmp_path):
    folder = make_spider_folder(tmp_path)
    weird = [{"db_id": "pets_1", "question": "Broken?", "query": "SELECT FROM WHERE (("},
             {"db_id": "pets_1", "question": "Two statements?", "query": "SELECT 1; SELECT 2"}]
    _write_json(folder / "dev.json", _spider_items(SPIDER_DEV) + weird)
    qs = FolderDataset("spider", folder).questions("validation")
    assert [(q.id, q.difficulty, q.ordered) for q in qs[2:]] == [
        ("pets_1/validation-0002", "extra", False), ("pets_1/validation-0003", "extra", False)]


def test_load_dataset_by_name(tmp_path):
    spider = make_spider_folder(tmp_path)
    ds = load_dataset("spider:" + str(spider))
    assert isinstance(ds, FolderDataset) and ds.kind == "spider"
    assert ds.name == f"spider:{spider}"
    assert len(ds.questions("validation")) == 2
    bird = load_dataset("bird:" + str(make_bird_folder(tmp_path)))
    assert isinstance(bird, FolderDataset) and bird.kind == "bird"
    assert len(bird.questions("validation")) == 3


# -- BIRD -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("flat", [False, True])
def test_bird_questions(tmp_path, flat):
    ds = FolderDataset("bird", make_bird_folder(tmp_path, flat=flat))
    train = ds.questions("train")
    assert [q.id for q in train] == ([] if flat else ["movies/train-0000", "movies/train-0001"])
    for q, (_, db_id, text, ev, sql, _, level) in zip(train, [] if flat else BIRD_TRAIN, strict=True):
        assert (q.db_id, q.question, q.evidence, q.sql, q.difficulty) == (db_id, text, ev, sql, level)
    dev = ds.questions("validation")
    assert [q.id for q in dev] == ["debit_card/validation-0010", "debit_card/validation-0011",
                                   "debit_card/validation-0012"]
    assert [q.difficulty for q in dev] == ["easy", "hard", "easy"]  # the last one computed by hardness
    assert [q.evidence for q in dev] == [BIRD_DEV[0][3], BIRD_DEV[1][3], None]  # empty evidence -> None
    assert [q.ordered for q in dev] == [False, True, False]
    assert all(q.kind == "answerable" and q.split == "validation" for q in dev)
    assert ds.questions("test") == []
    assert ReadOnlyDatabase(ds.image("debit_card")).tables == ["customers", "yearmonth"]
    if not flat:
        assert train[0].ordered
        assert ReadOnlyDatabase(ds.image("movies")).tables == ["movies", "ratings"]


def test_bird_files_are_untouched(tmp_path):
    folder = make_bird_folder(tmp_path)
    before = _snapshot(folder)
    ds = FolderDataset("bird", folder)
    for db_id in {q.db_id for q in ds.all_questions()}:
        ds.image(db_id)
    assert _snapshot(folder) == before


def test_bird_test_split_when_present(tmp_path):
    folder = make_bird_folder(tmp_path)
    _make_db(folder / "test" / "test_databases" / "movies" / "movies.sqlite", "movies")
    _write_json(folder / "test" / "test.json", _bird_items(BIRD_TRAIN[:1]))
    qs = FolderDataset("bird", folder).questions("test")
    assert [(q.id, q.split) for q in qs] == [("movies/test-0000", "test")]


# -- mistakes ---------------------------------------------------------------------------------------


def test_missing_folder(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        FolderDataset("spider", tmp_path / "nowhere")
    with pytest.raises(ConfigError, match="name the folder"):
        load_dataset("bird:")


@pytest.mark.parametrize("kind, names", [
    ("spider", ["train_spider.json", "train_others.json", "dev.json", "test.json"]),
    ("bird", ["train/train.json", "dev/dev.json", "dev.json"]),
])
def test_folder_without_expected_files(tmp_path, kind, names):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match=f"does not look like a {kind} folder") as err:
        FolderDataset(kind, tmp_path / "empty")
    for name in names:
        assert str(tmp_path / "empty" / name) in str(err.value)


def test_folder_one_level_too_high_gets_a_hint(tmp_path):
    make_spider_folder(tmp_path)
    with pytest.raises(ConfigError, match=r"Did you mean 'spider:.*spider'"):
        FolderDataset("spider", tmp_path)


def test_missing_database_file_names_the_path(tmp_path):
    folder = make_spider_folder(tmp_path)
    path = folder / "database" / "pets_1" / "pets_1.sqlite"
    path.unlink()
    ds = FolderDataset("spider", folder)
    assert len(ds.questions("validation")) == 2  # questions load without touching databases
    with pytest.raises(ConfigError, match="not found") as err:
        ds.image("pets_1")
    assert str(path) in str(err.value)
    with pytest.raises(ConfigError, match="unknown database 'pets_2'.*Did you mean 'pets_1'"):
        ds.image("pets_2")
    with pytest.raises(ConfigError, match="bad database id"):
        ds.image("../spider")


def test_zipped_bird_databases_say_unzip(tmp_path):
    folder = make_bird_folder(tmp_path, flat=True)
    db_dir = folder / "dev_databases"
    for p in sorted(db_dir.rglob("*"), reverse=True):
        p.unlink() if p.is_file() else p.rmdir()
    db_dir.rmdir()
    (folder / "dev_databases.zip").write_bytes(b"PK")
    with pytest.raises(ConfigError, match="unzip .*dev_databases.zip"):
        FolderDataset("bird", folder).image("debit_card")


@pytest.mark.parametrize("content, message", [
    (b"this is not sqlite" * 100, "cannot read the SQLite database .*not a SQLite file"),
    (b"", "is empty"),
])
def test_not_a_database(tmp_path, content, message):
    folder = make_spider_folder(tmp_path)
    (folder / "database" / "pets_1" / "pets_1.sqlite").write_bytes(content)
    with pytest.raises(ConfigError, match=message):
        FolderDataset("spider", folder).image("pets_1")


@pytest.mark.parametrize("content, message", [
    ("{not json", "cannot read"),
    ('{"db_id": "pets_1"}', "expected a JSON list"),
    ('[{"db_id": "../x", "question": "q", "query": "SELECT 1"}]', "needs a 'db_id'"),
    ('[{"db_id": "pets_1", "question": " ", "query": "SELECT 1"}]', "needs a non-empty 'question'"),
    ('[{"db_id": "pets_1", "question": "q"}]', "needs the gold SQL"),
])
def test_malformed_json(tmp_path, content, message):
    folder = make_spider_folder(tmp_path)
    (folder / "dev.json").write_text(content, encoding="utf-8")
    ds = FolderDataset("spider", folder)
    with pytest.raises(ConfigError, match=message) as err:
        ds.all_questions()
    assert "dev.json" in str(err.value)


def test_unknown_kind(tmp_path):
    with pytest.raises(ConfigError, match="unknown dataset kind"):
        FolderDataset("wikisql", tmp_path)
