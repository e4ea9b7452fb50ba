"""Stage 3, the query templates: one per family, each drawing a ``Query`` on a ``Schema``.

A template picks a big table and columns by role and binds every parameter to real column values,
or to a window inside a date column's range.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass

from sqlgym.scenarios.generator.schema import Column, Schema, Table
from sqlgym.scenarios.generator.vocab import WIDE_CATEGORIES, alias, singular, with_article, words


@dataclass(frozen=True)
class Query:
    """One drawn statement and what the later stages need to know about it."""

    family: str
    sql: str
    params: dict
    table: str  # the big table the statement filters or writes
    reads: frozenset[tuple[str, str]]  # (table, column) a SELECT mentions: a shipped index must avoid them
    symptom: str  # one sentence in business words, for the description
    weight: float = 1.0
    writes: frozenset[tuple[str, str]] = frozenset()  # (table, column) a write stores: indexes on them cost
    fix: tuple[tuple[Table, tuple[str, ...]], ...] = ()  # anchors: the indexes that make it fast

    @property
    def is_write(self) -> bool:
        return self.family == "write"

    @property
    def shape(self) -> str:
        """The statement without its SELECT list: two that differ only there teach the same thing."""
        return self.sql.partition(" FROM ")[2] or self.sql


# --- binding parameters ----------------------------------------------------------------------------
def _cardinality(col: Column) -> int:
    gen = col.gen
    if gen["kind"] == "choice":
        return len(gen["values"])
    if gen["kind"] == "int":
        return gen["high"] - gen["low"] + 1
    return gen.get("cardinality", 1)


def _window_for(rng: random.Random, table: Table, eq: Column, date: Column) -> int:
    """A window of days wide enough that equality + window still matches a handful of rows."""
    needed = -(-8 * _cardinality(eq) * date.gen["days"] // table.rows)  # ceil: about 8 rows expected
    return min(max(rng.choice((7, 14, 30)), needed), date.gen["days"] // 3)


def _date_window(table: Table, col: Column, days: int) -> dict:
    """Parameters ``start``/``end`` for a window of ``days`` that lies inside the column's data."""
    first = dt.date.fromisoformat(col.gen["start"])
    last = first + dt.timedelta(days=col.gen["days"] - days)
    return {"start": {"date": [first.isoformat(), last.isoformat()]}, "end": {"plus": ["start", days]}}


def _cols(table: Table, *names: str) -> frozenset[tuple[str, str]]:
    return frozenset((table.name, n) for n in names)


def _bind(table: Table, *cols: Column) -> dict:
    """Bind each column's parameter to values drawn from the column itself (so lookups hit rows)."""
    return {c.name: {"column": f"{table.name}.{c.name}"} for c in cols}


# --- one template per family ------------------------------------------------------------
Template = Callable[[random.Random, Schema], Query]


def _point(rng: random.Random, s: Schema) -> Query:
    t = rng.choice(s.big)
    key = t.of("key")[0]
    shown = [c.name for c in rng.sample(t.of("cat", "measure", "date"), 2)]
    sql = f"SELECT id, {', '.join(shown)} FROM {t.name} WHERE {key.name} = :{key.name}"
    return Query("point", sql, _bind(t, key), t.name, _cols(t, key.name, *shown),
                 f"Looking up a single {words(singular(t.name))} by its {words(key.name)} takes far too long.",
                 fix=((t, (key.name,)),))


def _eq_range(rng: random.Random, s: Schema) -> Query:
    t = rng.choice(s.big)
    cat, date, m = rng.choice(t.of("cat")), t.of("date")[0], rng.choice(t.of("measure"))
    sql = (f"SELECT id, {m.name} FROM {t.name} WHERE {cat.name} = :{cat.name} "
           f"AND {date.name} BETWEEN :start AND :end")
    params = {**_bind(t, cat), **_date_window(t, date, _window_for(rng, t, cat, date))}
    return Query("eq_range", sql, params, t.name, _cols(t, cat.name, date.name, m.name),
                 f"Reports of {words(t.name)} for one {words(cat.name)} over a few weeks are slow.",
                 fix=((t, (cat.name, date.name)),))


def _eq_sort(rng: random.Random, s: Schema) -> Query:
    t = rng.choice(s.big)
    eq = rng.choice(t.of("fk") + [c for c in t.of("cat") if c.name in WIDE_CATEGORIES])
    date, m = t.of("date")[0], rng.choice(t.of("measure"))
    sql = (f"SELECT id, {m.name}, {date.name} FROM {t.name} WHERE {eq.name} = :{eq.name} "
           f"ORDER BY {date.name} DESC LIMIT {rng.choice((10, 20, 50))}")
    what = words(eq.name[:-3]) if eq.role == "fk" else words(eq.name)
    return Query("eq_sort", sql, _bind(t, eq), t.name, _cols(t, eq.name, date.name, m.name),
                 f"The 'latest {words(t.name)}' list for {with_article(what)} loads slowly.", fix=((t, (eq.name, date.name)),))


def _group(rng: random.Random, s: Schema) -> Query:
    t = rng.choice(s.big)
    g, m = rng.choice(t.of("cat")), rng.choice(t.of("measure"))
    others = [c for c in t.of("cat") if c != g]
    how = rng.choices(("eq", "range", "all"), weights=(2, 2, 1))[0]
    head = f"SELECT {g.name}, COUNT(*), SUM({m.name}) FROM {t.name}"
    if how == "eq" and others:
        f = rng.choice(others)
        sql, params, used = f"{head} WHERE {f.name} = :{f.name} GROUP BY {g.name}", _bind(t, f), {f.name}
    elif how in ("eq", "range"):
        d = t.of("date")[0]
        sql = f"{head} WHERE {d.name} BETWEEN :start AND :end GROUP BY {g.name}"
        params, used = _date_window(t, d, rng.choice((14, 30, 60))), {d.name}
    else:
        # an unfiltered aggregate reads the whole table whatever the indexes, so it is a rare
        # report here; at full weight it would swamp the headroom the anchor provides
        return Query("group", f"{head} GROUP BY {g.name}", {}, t.name, _cols(t, g.name, m.name),
                     f"The nightly report of {words(t.name)} by {words(g.name)} runs long.", 0.1)
    return Query("group", sql, params, t.name, _cols(t, g.name, m.name, *used),
                 f"The breakdown of {words(t.name)} by {words(g.name)} takes seconds to load.")


def _join(rng: random.Random, s: Schema) -> Query:
    e = rng.choice(s.edges)
    c, p = alias(e.child.name), alias(e.parent.name, alias(e.child.name))
    m, shown = rng.choice(e.child.of("measure")), rng.choice(e.parent.of("cat"))
    head = (f"SELECT {c}.id, {c}.{m.name}, {p}.{shown.name} FROM {e.child.name} {c} "
            f"JOIN {e.parent.name} {p} ON {p}.id = {c}.{e.fk.name}")
    reads = _cols(e.child, e.fk.name, m.name) | _cols(e.parent, "id", shown.name)
    fix: tuple[tuple[Table, tuple[str, ...]], ...]
    if rng.random() < 0.5:  # filter on the parent: one parent row, then its children by the fk
        key = e.parent.of("key")[0]
        sql, params = f"{head} WHERE {p}.{key.name} = :{key.name}", _bind(e.parent, key)
        reads |= _cols(e.parent, key.name)
        fix = ((e.parent, (key.name,)), (e.child, (e.fk.name,)))
        symptom = (f"The page that lists {with_article(words(singular(e.parent.name)))}'s {words(e.child.name)} "
                   f"(found by {words(key.name)}) is slow.")
    else:  # filter on the child: a recent window of children with their parent's details
        d = e.child.of("date")[0]
        sql, params = f"{head} WHERE {c}.{d.name} BETWEEN :start AND :end", _date_window(e.child, d, rng.choice((3, 7, 14)))
        reads |= _cols(e.child, d.name)
        fix = ((e.child, (d.name,)),)
        symptom = f"The feed of recent {words(e.child.name)} with their {words(singular(e.parent.name))} details is slow."
    return Query("join", sql, params, e.child.name, reads, symptom, fix=fix)


def _write(rng: random.Random, s: Schema) -> Query:
    t = rng.choice(s.big)
    weight = float(rng.choice((10, 20, 30, 50)))  # frequent enough that every index on t costs
    if rng.random() < 0.6:
        cols = t.of("fk") + t.of("cat") + t.of("date") + t.of("measure")[:1]
        names = [c.name for c in cols]
        sql = f"INSERT INTO {t.name}({', '.join(names)}) VALUES ({', '.join(':' + n for n in names)})"
        symptom = f"New {words(t.name)} arrive constantly; saving one must stay fast."
        return Query("write", sql, _bind(t, *cols), t.name, frozenset(), symptom, weight, _cols(t, *names))
    cat, m = rng.choice(t.of("cat")), t.of("measure")[0]
    sql = f"UPDATE {t.name} SET {cat.name} = :{cat.name}, {m.name} = {m.name} + 1 WHERE id = :id"
    params = {**_bind(t, cat), "id": {"int": [1, t.rows]}}
    symptom = f"{words(t.name).capitalize()} are updated all day long; each update must stay fast."
    return Query("write", sql, params, t.name, frozenset(), symptom, weight, _cols(t, cat.name, m.name))


def _or_pair(rng: random.Random, s: Schema) -> Query:
    t = rng.choice(s.big)
    a = t.of("key")[0]
    b = rng.choice(t.of("fk") + [c for c in t.of("cat") if c.name in WIDE_CATEGORIES])
    m = rng.choice(t.of("measure"))
    sql = f"SELECT id, {m.name} FROM {t.name} WHERE {a.name} = :{a.name} OR {b.name} = :{b.name}"
    return Query("or_pair", sql, _bind(t, a, b), t.name, _cols(t, a.name, b.name, m.name),
                 f"Searching {words(t.name)} by either {words(a.name)} or {words(b.name)} crawls.",
                 fix=((t, (a.name,)), (t, (b.name,))))  # an OR needs an index on each side


def _join_group(rng: random.Random, s: Schema) -> Query:
    e = rng.choice(s.edges)
    c, p = alias(e.child.name), alias(e.parent.name, alias(e.child.name))
    g, m, d = rng.choice(e.parent.of("cat")), rng.choice(e.child.of("measure")), e.child.of("date")[0]
    sql = (f"SELECT {p}.{g.name}, COUNT(*), SUM({c}.{m.name}) FROM {e.child.name} {c} "
           f"JOIN {e.parent.name} {p} ON {p}.id = {c}.{e.fk.name} "
           f"WHERE {c}.{d.name} BETWEEN :start AND :end GROUP BY {p}.{g.name}")
    params = _date_window(e.child, d, rng.choice((7, 14, 30)))
    reads = _cols(e.child, e.fk.name, m.name, d.name) | _cols(e.parent, "id", g.name)
    return Query("join_group", sql, params, e.child.name, reads,
                 f"The dashboard of recent {words(e.child.name)} per {words(singular(e.parent.name))} "
                 f"{words(g.name)} is slow.")


# family -> template; the workload stage draws from these by name
TEMPLATES: dict[str, Template] = {
    "point": _point, "eq_range": _eq_range, "eq_sort": _eq_sort, "group": _group, "join": _join,
    "write": _write, "or_pair": _or_pair, "join_group": _join_group,
}

