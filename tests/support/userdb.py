"""A small application database and the workload log its application wrote, made in a test (no fixtures on disk)."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import apsw

SCHEMA = """
CREATE TABLE Users(id INTEGER PRIMARY KEY, email TEXT NOT NULL, country TEXT, created TEXT);
CREATE TABLE orders(id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES Users(id), status TEXT, amount REAL, note TEXT);
CREATE TABLE events(user_id INTEGER, kind TEXT, at TEXT);
CREATE INDEX ix_orders_note ON orders(note);
CREATE INDEX ix_lower_email ON Users(lower(email));
CREATE VIEW paid AS SELECT * FROM orders WHERE status = 'paid';
"""

LOG = """-- written by the shop's query logger
2024-05-01 10:00:00 INFO pool started
SELECT id, country FROM users WHERE email = 'u17@x.org';
SELECT id, country FROM users WHERE email = 'u923@x.org';
SELECT id, country FROM users WHERE email = 'u5@x.org';
-- weight: 20
SELECT o.id, o.amount FROM orders o WHERE o.user_id = 42 AND o.status = 'paid';
SELECT o.id, o.amount FROM orders o WHERE o.user_id = 7 AND o.status = 'done';
SELECT o.id, o.amount FROM orders o WHERE o.user_id = 123 AND o.status = 'paid';
SELECT o.id, o.amount FROM orders o WHERE o.user_id = 99 AND o.status = 'new';
SELECT status, COUNT(*) FROM orders WHERE amount > 250.5 GROUP BY status ORDER BY status;
SELECT count(*) FROM paid WHERE amount < 20;
SELECT * FROM coupons WHERE code = 'X1';
2024-05-01 10:00:02 WARN slow query above
UPDATE orders SET status = 'done' WHERE id = 77;
INSERT INTO orders(user_id, status, amount, note) VALUES (5, 'new', 9.5, 'n1');
BEGIN;
"""


def make_shop(path: Path, users: int = 600, orders: int = 3000, analyze: bool = False) -> Path:
    """The shop database: three tables (one without a primary key), a view, a plain index and an expression
    index; rows seeded."""
    conn = apsw.Connection(str(path))
    conn.execute(SCHEMA)
    r = random.Random(1)
    with conn:
        conn.executemany("INSERT INTO Users VALUES (?, ?, ?, ?)",
                         [(i, f"u{i}@x.org", r.choice(["us", "de", "fr", "jp"]), f"2024-{r.randint(1, 12):02d}-01")
                          for i in range(1, users + 1)])
        conn.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?)",
                         [(i, r.randint(1, users), r.choice(["new", "paid", "done", "done"]), round(r.uniform(1, 500), 2),
                           f"n{r.randint(1, 50)}") for i in range(1, orders + 1)])
        conn.executemany("INSERT INTO events VALUES (?, ?, ?)", [(r.randint(1, users), r.choice(["view", "click"]),
                                                                  f"2024-06-{r.randint(1, 28):02d}") for _ in range(orders // 3)])
    if analyze:
        conn.execute("ANALYZE")
    conn.close()
    return path


def write_log(path: Path, text: str = LOG) -> Path:
    path.write_text(text)
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
