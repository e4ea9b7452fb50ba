"""A user's SQLite file as a scenario image: read once, read-only, into memory; never written.

``read_image`` opens the file with SQLite in read-only mode (so a database in WAL mode is read with
its committed ``-wal`` frames) and copies it into memory with ``serialize``. The copy is then made
what every scenario image is: ``auto_vacuum = FULL`` (no freelist, so page reads never depend on what
was created and dropped before) and packed by ``VACUUM``, which builds every index as CREATE INDEX
builds it, so an index the agent drops and re-creates is the same B-tree it was. The file's existing
indexes and its ``sqlite_stat*`` statistics come along unchanged (``analyze=True`` replaces the
statistics with fresh ones).

Memory. The file is read into memory once per process (``_IMAGES`` keeps the image); each open
``Database`` on it holds one more copy inside SQLite, and an env holds two or three (its own, the
scratch copy that sizes indexes, the second instance once a rewrite is checked), plus the indexes it
builds. Reading peaks at about three copies (SQLite's, VACUUM's, the image). Measured RSS growth for a
49.5 MiB file: +53 MiB once read, +112 MiB with an env reset (peak +237 MiB while the reference ran),
+209 MiB after an index and a checked rewrite (peak +268 MiB): about 4 times the file, 5.5 at the
peak (9.6 MiB: +34, +61, +70 MiB, the fixed costs showing). ``MAX_BYTES`` (256 MiB, about 1.4 GB at the
peak) refuses larger files, and ``sample=`` reads a fraction of each table's rows straight from the
file instead (``ATTACH`` read-only), so a file of any size can be sampled without being loaded whole.
"""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from pathlib import Path
from typing import Any
from urllib.parse import quote as url_quote

import apsw

from sqlgym.errors import ScenarioError
from sqlgym.sqltext import quote

HEADER = b"SQLite format 3\x00"
MAX_BYTES = int(os.environ.get("SQLGYM_MAX_DB_BYTES", str(256 << 20)))  # file (+ -wal) size read whole
KEEP_PRIME, KEEP_MULT = 1_000_003, 7_919  # row i is in a sample when (i % P) * M % P < fraction * P
_IMAGES: OrderedDict[tuple, bytes] = OrderedDict()  # (path, sha256, sample, analyze) -> image
MAX_IMAGES = 2


def check_file(path: Path) -> int:
    """Bytes to read (the file and its ``-wal``); a ScenarioError unless ``path`` is a SQLite file."""
    if not path.is_file():
        raise ScenarioError(f"{str(path)!r}: no such file" if not path.exists() else f"{str(path)!r} is not a file")
    try:
        with open(path, "rb") as f:
            head = f.read(len(HEADER))
    except OSError as e:
        raise ScenarioError(f"{str(path)!r}: cannot read it: {e.strerror or e}") from None
    if head != HEADER:
        raise ScenarioError(f"{str(path)!r} is not a SQLite database file (it does not start with the "
                            f"'SQLite format 3' header){'; it is empty' if not head else ''}")
    wal = Path(str(path) + "-wal")
    return path.stat().st_size + (wal.stat().st_size if wal.is_file() else 0)


def digest(path: Path) -> str:
    """sha256 of the file's bytes, then its ``-wal``'s if there is one: what the database holds."""
    h = hashlib.sha256()
    for p in (path, Path(str(path) + "-wal")):
        if p == path or p.is_file():
            with open(p, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
    return h.hexdigest()


def _uri(path: Path) -> str:
    return f"file:{url_quote(str(path))}?mode=ro"


def _open_ro(path: Path) -> apsw.Connection:
    return apsw.Connection(_uri(path), flags=apsw.SQLITE_OPEN_READONLY | apsw.SQLITE_OPEN_URI)


def _damaged(path: Path, e: Exception) -> ScenarioError:
    return ScenarioError(f"{str(path)!r}: SQLite cannot read it ({e}); it is not a SQLite database, or a damaged one")


def read_image(path: Path, sample: float | None = None, analyze: bool = False) -> bytes:
    """The file as a scenario image (see the module docstring); ``sample``: that fraction of each table's rows."""
    try:
        if sample is not None:
            conn = _sampled(path, sample)
        else:
            src = _open_ro(path)
            try:
                src.execute("SELECT COUNT(*) FROM sqlite_schema").fetchall()  # a bad header or schema fails here
                raw = src.serialize("main")
            finally:
                src.close()
            if not raw:
                raise ScenarioError(f"{str(path)!r} is an empty database: it has no tables")
            if raw[18:20] == b"\x02\x02":  # WAL mode: an in-memory database is not; the pages are the same
                raw = raw[:18] + b"\x01\x01" + raw[20:]
            conn = apsw.Connection(":memory:")
            conn.deserialize("main", raw)
            del raw
            conn.execute("PRAGMA auto_vacuum = FULL")
            conn.execute("VACUUM")
        if analyze:
            conn.execute("ANALYZE")
        image = conn.serialize("main")
        conn.close()
    except ScenarioError:
        raise
    except apsw.Error as e:
        raise _damaged(path, e) from None
    return image


def _schema(conn: apsw.Connection, db: str = "main") -> list[tuple[str, str, str, str]]:
    """(type, name, table, sql) of every schema object, in creation order."""
    return [(str(t), str(n), str(tb), str(s or "")) for t, n, tb, s in
            conn.execute(f"SELECT type, name, tbl_name, sql FROM {db}.sqlite_schema ORDER BY rowid")]


def _copy_columns(conn: apsw.Connection, db: str, table: str) -> list[str]:
    """Columns a row copy writes: not generated ones (SQLite computes those)."""
    return [str(r[1]) for r in conn.execute(f"PRAGMA {db}.table_xinfo({quote(table)})") if r[6] == 0]


def _without_rowid(conn: apsw.Connection, db: str, table: str) -> bool:
    rows = list(conn.execute(f"PRAGMA {db}.table_list({quote(table)})"))
    return bool(rows and rows[0][4])


def _rowid_name(columns: list[str]) -> str:
    """A name for the rowid that no column shadows."""
    taken = {c.lower() for c in columns}
    return next(n for n in ("rowid", "_rowid_", "oid") if n not in taken)


def _keep(expr: str, fraction: float) -> str:
    return f"(abs({expr}) % {KEEP_PRIME}) * {KEEP_MULT} % {KEEP_PRIME} < {int(fraction * KEEP_PRIME)}"


def _sampled(path: Path, fraction: float) -> apsw.Connection:
    """A fresh in-memory database with the file's schema and a deterministic ``fraction`` of each table's
    rows (rowids kept), copied by SQLite from the file attached read-only; indexes are built after the
    rows, views and triggers last. Statistics are made fresh (ANALYZE) if the file had any: statistics
    of the whole file would describe data the sample does not hold."""
    conn = apsw.Connection(":memory:", flags=apsw.SQLITE_OPEN_READWRITE | apsw.SQLITE_OPEN_CREATE | apsw.SQLITE_OPEN_URI)
    conn.execute("ATTACH ? AS src", (_uri(path),))
    page_size: Any = conn.execute("PRAGMA src.page_size").fetchall()[0][0]
    conn.execute(f"PRAGMA main.page_size = {int(page_size)}")
    conn.execute("PRAGMA main.auto_vacuum = FULL")
    schema = _schema(conn, "src")
    tables = [(n, s) for t, n, _, s in schema if t == "table" and not n.lower().startswith("sqlite_")]
    virtual = [n for n, s in tables if s.lstrip().upper().startswith("CREATE VIRTUAL")]
    if virtual:
        raise ScenarioError(f"{str(path)!r}: sample= cannot copy virtual tables ({', '.join(virtual)}); "
                            "use the whole file (raise max_bytes) or a copy without them")
    conn.config(apsw.SQLITE_DBCONFIG_ENABLE_TRIGGER, 0)
    with conn:
        for _, sql in tables:
            conn.execute(sql)
        for name, _ in tables:
            cols = _copy_columns(conn, "src", name)
            names = ", ".join(quote(c) for c in cols)
            if _without_rowid(conn, "src", name):
                conn.execute(f"INSERT INTO main.{quote(name)} ({names}) SELECT {names} FROM (SELECT {names}, "
                             f"row_number() OVER () AS sqlgym_n FROM src.{quote(name)}) WHERE {_keep('sqlgym_n', fraction)}")
            else:
                rid = _rowid_name(cols)
                conn.execute(f"INSERT INTO main.{quote(name)} ({rid}, {names}) SELECT {rid}, {names} "
                             f"FROM src.{quote(name)} WHERE {_keep(rid, fraction)}")
        if any(n == "sqlite_sequence" for _, n, _, _ in schema):
            conn.execute("DELETE FROM main.sqlite_sequence")
            conn.execute("INSERT INTO main.sqlite_sequence SELECT * FROM src.sqlite_sequence")
        for kind in ("index", "view", "trigger"):
            for t, _, _, sql in schema:
                if t == kind and sql:
                    conn.execute(sql)
    had_stats = any(n == "sqlite_stat1" for _, n, _, _ in schema)
    conn.execute("DETACH src")
    conn.config(apsw.SQLITE_DBCONFIG_ENABLE_TRIGGER, 1)
    if had_stats:
        conn.execute("ANALYZE")
    return conn


def image_for(path: str, sha256: str, sample: float | None, analyze: bool) -> bytes:
    """The image of a file as it was when its scenario was made (read again if no longer in memory)."""
    key = (path, sha256, sample, analyze)
    image = _IMAGES.get(key)
    if image is None:
        p = Path(path)
        check_file(p)
        if digest(p) != sha256:
            raise ScenarioError(f"{path!r} changed since its scenario was made (its content hash differs); "
                                "load the scenario again")
        image = remember(key, read_image(p, sample, analyze))
    _IMAGES.move_to_end(key)
    return image


def remember(key: tuple, image: bytes) -> bytes:
    _IMAGES[key] = image
    while len(_IMAGES) > MAX_IMAGES:
        _IMAGES.popitem(last=False)
    return image


def rowid_alias(conn: apsw.Connection, table: str) -> bool:
    """Whether ``table`` has an INTEGER PRIMARY KEY (the rowid itself: its rows are stored in key order)."""
    pk = [r for r in conn.execute(f"PRAGMA table_info({quote(table)})") if r[5]]
    return len(pk) == 1 and str(pk[0][2]).strip().upper() == "INTEGER"


def reordered(image: bytes) -> bytes:
    """The same data with rows stored in another physical order: every rowid table without an INTEGER
    PRIMARY KEY has its rows re-inserted in a permutation (new rowids, so scan order and the order of
    index entries with equal keys differ). Tables stored in key order keep it; the second instance's
    connection also reverses unordered scans (``Snapshot.reverse_scans``). Triggers do not fire."""
    conn = apsw.Connection(":memory:")
    conn.deserialize("main", image)
    conn.config(apsw.SQLITE_DBCONFIG_ENABLE_TRIGGER, 0)
    with conn:
        for kind, name, _, sql in _schema(conn):
            if (kind != "table" or name.lower().startswith("sqlite_") or sql.lstrip().upper().startswith("CREATE VIRTUAL")
                    or _without_rowid(conn, "main", name) or rowid_alias(conn, name)):
                continue
            cols = _copy_columns(conn, "main", name)
            names = ", ".join(quote(c) for c in cols)
            rid = _rowid_name(cols)
            conn.execute(f"CREATE TEMP TABLE sqlgym_rows AS SELECT {rid} AS sqlgym_r, {names} FROM main.{quote(name)}")
            conn.execute(f"DELETE FROM main.{quote(name)}")
            conn.execute(f"INSERT INTO main.{quote(name)} ({names}) SELECT {names} FROM temp.sqlgym_rows "
                         f"ORDER BY (abs(sqlgym_r) % {KEEP_PRIME}) * {KEEP_MULT} % {KEEP_PRIME}, sqlgym_r")
            conn.execute("DROP TABLE temp.sqlgym_rows")
    out = conn.serialize("main")
    conn.close()
    return out


__all__ = ["MAX_BYTES", "check_file", "digest", "image_for", "read_image", "remember", "reordered"]
