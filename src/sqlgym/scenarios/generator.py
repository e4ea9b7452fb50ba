"""Procedural index-tuning scenarios: ``generate(n)`` is a pure function of ``n``.

A generated scenario is made in one direction, each stage reading only what the earlier ones made,
from one ``random.Random(f"sqlgym-index-{n}")`` (string seeds are hashed with SHA-512, so the
result is the same in every process and on every platform):

1. **Design.** ``split_of(n)`` fixes the split, and the split fixes what may be drawn: train and
   validation never see ``HELD_OUT_FAMILIES`` or ``HELD_OUT_ARCHETYPES``; most test scenarios are
   forced to contain one, so a test score measures generalisation rather than memory.
2. **Schema.** An archetype (``chain``, ``star``, ``snowflake``) and a small domain vocabulary give
   2-8 tables with plausible names. Dimension tables are small (500-5,000 rows); the "big" tables
   (chain children, the star's fact table) have 8,000-30,000 rows and are where every SELECT filters.
3. **Workload.** 1-4 query template families, 2-5 statements. Each template picks a big table and
   columns by *role* (a high-cardinality key, a category, a date, a measure, a foreign key) and binds
   every parameter to real column values or to windows inside a date column's range.
4. **Traps and limits.** Sometimes an index that no read uses sits on a table with heavy writes
   (dropping it is right); a storage budget, an index count and a width limit.
5. **Spec.** Everything becomes the plain dict a curated YAML file would hold, validated by
   ``scenario_from_dict``.

Headroom comes by construction: the first statement always comes from an *anchor* family (a
selective predicate on a big table) and is the hottest one; no index the scenario ships touches a
column any SELECT reads; and the storage budget and index count always leave room for the anchor's
fix next to the shipped indexes (sizes estimated from column widths). So the greedy reference ends
clearly below the baseline; ``tests/test_generator.py`` measures that on real databases.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from sqlgym.scenarios.spec import Scenario, scenario_from_dict
from sqlgym.scenarios.splits import HELD_OUT_ARCHETYPES, HELD_OUT_FAMILIES, split_of

ARCHETYPES = ("chain", "star", "snowflake")
FAMILIES = ("point", "eq_range", "eq_sort", "group", "join", "write", "or_pair", "join_group")
# Families whose statement is selective on a big table: one of them always leads the workload.
ANCHORS = ("point", "eq_range", "eq_sort", "join", "or_pair")
FORCE_HELD_OUT = 0.6  # share of test scenarios made to contain a held-out family or archetype

DIM_ROWS = (500, 5_000)
BIG_ROWS = (8_000, 30_000)

# --- vocabulary ------------------------------------------------------------------------------------
# Chains read parent -> child; the first table is a small dimension, the rest are big.
CHAIN_DOMAINS = (
    ("shop", ("regions", "customers", "orders", "order_lines", "returns")),
    ("product analytics", ("tenants", "accounts", "sessions", "events", "event_tags")),
    ("community", ("authors", "posts", "comments", "votes", "flags")),
    ("inventory", ("warehouses", "bins", "stock_moves", "move_lines", "audits")),
    ("project tracker", ("projects", "tasks", "task_events", "attachments", "reviews")),
)
CHAIN_BIG_ROWS = 60_000  # rows shared by a chain's big tables, so long chains stay quick to build
# Star domains: a fact table and its dimensions, each dimension with the parent a snowflake adds.
STAR_DOMAINS = (
    ("sales", (("customers", "segments"), ("products", "brands"), ("stores", "regions"), ("promotions", "campaigns"))),
    ("events", (("users", "plans"), ("devices", "vendors"), ("pages", "sites"), ("referrers", "networks"))),
    ("tickets", (("customers", "accounts"), ("agents", "teams"), ("products", "product_lines"), ("queues", "departments"))),
    ("shipments", (("carriers", "carrier_groups"), ("warehouses", "regions"), ("customers", "countries"), ("routes", "zones"))),
)

# Columns by role. Each entry: name -> (SQL type, generator). Categories are what people filter and
# group by; "wide" ones have enough distinct values to make an equality selective on its own.
KEYS = {
    "email": ("TEXT", {"kind": "text", "prefix": "user", "unique": True}),
    "sku": ("TEXT", {"kind": "text", "prefix": "SKU-", "unique": True}),
    "tracking_no": ("TEXT", {"kind": "text", "prefix": "TN", "unique": True}),
    "serial_no": ("TEXT", {"kind": "text", "prefix": "SN", "unique": True}),
    "ref": ("TEXT", {"kind": "text", "prefix": "R-", "unique": True}),
    "external_id": ("INTEGER", {"kind": "int", "low": 1_000_000, "high": 99_999_999}),
    "code": ("TEXT", {"kind": "text", "prefix": "C", "unique": True}),
}
KEY_BY_TABLE = {"customers": "email", "users": "email", "accounts": "email", "authors": "email",
                "products": "sku", "shipments": "tracking_no", "devices": "serial_no", "agents": "email"}
GENERIC_KEYS = ("ref", "external_id", "code")
CATEGORIES = {
    "status": ("TEXT", {"kind": "choice", "values": ["new", "active", "pending", "closed", "archived"],
                        "weights": [2, 6, 2, 3, 1]}),
    "country": ("TEXT", {"kind": "choice", "values": ["us", "de", "fr", "jp", "br", "in", "gb", "ca", "es", "it", "nl", "se"],
                         "weights": [12, 6, 5, 5, 4, 4, 4, 3, 2, 2, 1, 1]}),
    "channel": ("TEXT", {"kind": "choice", "values": ["web", "app", "store", "phone", "partner"], "weights": [8, 6, 3, 2, 1]}),
    "tier": ("TEXT", {"kind": "choice", "values": ["free", "basic", "pro", "enterprise"], "weights": [10, 5, 3, 1]}),
    "priority": ("INTEGER", {"kind": "int", "low": 1, "high": 5}),
    "category": ("TEXT", {"kind": "text", "prefix": "cat", "cardinality": 40, "dist": "zipf", "s": 0.8}),
    "team": ("TEXT", {"kind": "text", "prefix": "team", "cardinality": 30}),
    "city": ("TEXT", {"kind": "text", "prefix": "city", "cardinality": 250, "dist": "zipf", "s": 0.7}),
    "label": ("TEXT", {"kind": "text", "prefix": "lbl", "cardinality": 400}),
    "batch": ("INTEGER", {"kind": "int", "low": 1, "high": 600}),
}
WIDE_CATEGORIES = ("city", "label", "batch")
DATES = ("created_at", "updated_at", "opened_at", "placed_at", "event_date")
MEASURES = {
    "amount": ("REAL", {"kind": "real", "dist": "lognormal", "mean": 3.0, "sigma": 1.0}),
    "price": ("REAL", {"kind": "real", "low": 1, "high": 500}),
    "quantity": ("INTEGER", {"kind": "int", "low": 1, "high": 20}),
    "score": ("INTEGER", {"kind": "int", "low": 0, "high": 100}),
    "duration_ms": ("INTEGER", {"kind": "int", "low": 10, "high": 60_000}),
}


# --- the plan ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    name: str
    type: str
    gen: dict
    role: str  # "id" | "fk" | "key" | "cat" | "date" | "measure"


@dataclass(frozen=True)
class Table:
    name: str
    rows: int
    columns: tuple[Column, ...]

    @property
    def big(self) -> bool:
        return self.rows >= BIG_ROWS[0]

    def of(self, *roles: str) -> list[Column]:
        return [c for c in self.columns if c.role in roles]

    def fk_to(self, parent: str) -> Column:
        return next(c for c in self.of("fk") if c.gen["table"] == parent)


@dataclass(frozen=True)
class Edge:
    """A big table's foreign key to its parent: what joins walk along."""

    child: Table
    fk: Column
    parent: Table


@dataclass(frozen=True)
class Schema:
    archetype: str
    domain: str
    tables: tuple[Table, ...]

    @property
    def big(self) -> list[Table]:
        return [t for t in self.tables if t.big]

    def table(self, name: str) -> Table:
        return next(t for t in self.tables if t.name == name)

    @property
    def edges(self) -> list[Edge]:
        return [Edge(t, fk, self.table(fk.gen["table"])) for t in self.big for fk in t.of("fk")]


@dataclass(frozen=True)
class Query:
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


# --- small helpers ----------------------------------------------------------------------------------
def _singular(name: str) -> str:
    if name.endswith("ies"):
        return name[:-3] + "y"
    return name[:-1] if name.endswith("s") else name


def _words(name: str) -> str:
    return name.replace("_", " ")


def _a(noun: str) -> str:
    return ("an " if noun[0] in "aeiou" else "a ") + noun


def _alias(name: str, taken: str = "") -> str:
    a = "".join(w[0] for w in name.split("_"))
    return a + "2" if a == taken else a


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


# --- 1. design --------------------------------------------------------------------------------------
def _design(rng: random.Random, split: str) -> tuple[str, list[str], tuple[str, ...]]:
    """(archetype, families, families allowed); only the test split may draw held-out ones."""
    held_out_ok = split == "test"
    archetypes = [a for a in ARCHETYPES if held_out_ok or a not in HELD_OUT_ARCHETYPES]
    allowed = tuple(f for f in FAMILIES if held_out_ok or f not in HELD_OUT_FAMILIES)
    archetype = rng.choice(archetypes)
    k = rng.choices((1, 2, 3, 4), weights=(4, 4, 3, 1))[0]
    families = rng.sample(allowed, k)
    if held_out_ok and rng.random() < FORCE_HELD_OUT and not _holds_out(archetype, families):
        if rng.random() < 0.5:
            archetype = rng.choice(HELD_OUT_ARCHETYPES)
        else:
            families[rng.randrange(len(families))] = rng.choice(HELD_OUT_FAMILIES)
            families = list(dict.fromkeys(families))
    return archetype, _lead_with_anchor(rng, families, allowed), allowed


def _holds_out(archetype: str, families: list[str]) -> bool:
    return archetype in HELD_OUT_ARCHETYPES or any(f in HELD_OUT_FAMILIES for f in families)


def _lead_with_anchor(rng: random.Random, families: list[str], allowed: tuple[str, ...]) -> list[str]:
    """Put an anchor family first, swapping one in if none was drawn (it is what guarantees headroom)."""
    anchors = [f for f in families if f in ANCHORS]
    if anchors:
        return [anchors[0]] + [f for f in families if f != anchors[0]]
    lead = rng.choice([f for f in ANCHORS if f in allowed])
    # replace a family that is not held out, so one forced in above survives; else just add the anchor
    spare = [i for i, f in enumerate(families) if f not in HELD_OUT_FAMILIES]
    if spare:
        families.pop(rng.choice(spare))
    return [lead] + families


# --- 2. schema --------------------------------------------------------------------------------------
def _schema(rng: random.Random, archetype: str) -> Schema:
    return _chain(rng) if archetype == "chain" else _star(rng, snowflake=archetype == "snowflake")


def _chain(rng: random.Random) -> Schema:
    """A small root dimension, then 1-4 big tables, each a child of the one before."""
    domain, names = rng.choice(CHAIN_DOMAINS)
    length = rng.choices((2, 3, 4, 5), weights=(3, 4, 3, 1))[0]
    big_rows = (BIG_ROWS[0], max(BIG_ROWS[0], min(BIG_ROWS[1], CHAIN_BIG_ROWS // (length - 1))))
    tables = [_table(rng, names[0], _rows(rng, DIM_ROWS), ())]
    for name in names[1:length]:
        tables.append(_table(rng, name, _rows(rng, big_rows), (tables[-1],), big=True))
    return Schema("chain", domain, tuple(tables))


def _star(rng: random.Random, snowflake: bool) -> Schema:
    """2-4 dimensions and a fact table; a snowflake gives 1-3 dimensions a parent (8 tables at most)."""
    fact, dims = rng.choice(STAR_DOMAINS)
    picked = rng.sample(dims, rng.randint(2, 4))
    with_parent = set(rng.sample(range(len(picked)), rng.randint(1, min(3, len(picked))))) if snowflake else set()
    tables: list[Table] = []
    dim_tables: list[Table] = []
    for i, (dim, parent_name) in enumerate(picked):
        parents: tuple[Table, ...] = ()
        if i in with_parent:  # parents come first: a foreign key may only name an earlier table
            tables.append(_table(rng, parent_name, _rows(rng, (DIM_ROWS[0], 2_000)), ()))
            parents = (tables[-1],)
        dim_tables.append(_table(rng, dim, _rows(rng, DIM_ROWS), parents))
        tables.append(dim_tables[-1])
    tables.append(_table(rng, fact, _rows(rng, BIG_ROWS), tuple(dim_tables), big=True))
    return Schema("snowflake" if snowflake else "star", fact, tuple(tables))


def _rows(rng: random.Random, bounds: tuple[int, int]) -> int:
    return rng.randrange(bounds[0], bounds[1] + 1, 50)


def _table(rng: random.Random, name: str, rows: int, parents: tuple[Table, ...], big: bool = False) -> Table:
    """id, foreign keys, one lookup key, categories, a date and measures; big tables get more of each."""
    cols = [Column("id", "INTEGER", {"kind": "serial"}, "id")]
    for p in parents:
        # popular parents are common in real data; a zipf fk also makes some fk values unselective
        dist = {"dist": "zipf", "s": round(rng.uniform(0.5, 1.0), 2)} if rng.random() < 0.4 else {}
        cols.append(Column(f"{_singular(p.name)}_id", "INTEGER", {"kind": "fk", "table": p.name, **dist}, "fk"))
    key = KEY_BY_TABLE.get(name) or rng.choice(GENERIC_KEYS)
    cols.append(Column(key, *KEYS[key], "key"))
    narrow = [c for c in CATEGORIES if c not in WIDE_CATEGORIES]
    if big:  # one wide category, so an equality on a category alone can be selective
        cats = [rng.choice(WIDE_CATEGORIES)] + rng.sample(narrow, rng.randint(1, 2))
    else:
        cats = rng.sample(narrow, 2)
    cols += [Column(c, *_copy(CATEGORIES[c]), "cat") for c in cats]
    start = rng.choice(("2021-01-01", "2022-01-01", "2023-01-01"))
    cols.append(Column(rng.choice(DATES), "TEXT", {"kind": "date", "start": start, "days": rng.choice((365, 730, 1095))}, "date"))
    for m in rng.sample(sorted(MEASURES), rng.randint(1, 2) if big else 1):
        typ, gen = _copy(MEASURES[m])
        if rng.random() < 0.2:
            gen["null_fraction"] = 0.1  # optional values are normal; bindings skip NULLs
        cols.append(Column(m, typ, gen, "measure"))
    return Table(name, rows, tuple(cols))


def _copy(entry: tuple[str, dict]) -> tuple[str, dict]:
    return entry[0], dict(entry[1])


# --- 3. workload: one template per family ------------------------------------------------------------
Template = Callable[[random.Random, Schema], Query]


def _point(rng: random.Random, s: Schema) -> Query:
    t = rng.choice(s.big)
    key = t.of("key")[0]
    shown = [c.name for c in rng.sample(t.of("cat", "measure", "date"), 2)]
    sql = f"SELECT id, {', '.join(shown)} FROM {t.name} WHERE {key.name} = :{key.name}"
    return Query("point", sql, _bind(t, key), t.name, _cols(t, key.name, *shown),
                 f"Looking up a single {_words(_singular(t.name))} by its {_words(key.name)} takes far too long.",
                 fix=((t, (key.name,)),))


def _eq_range(rng: random.Random, s: Schema) -> Query:
    t = rng.choice(s.big)
    cat, date, m = rng.choice(t.of("cat")), t.of("date")[0], rng.choice(t.of("measure"))
    sql = (f"SELECT id, {m.name} FROM {t.name} WHERE {cat.name} = :{cat.name} "
           f"AND {date.name} BETWEEN :start AND :end")
    params = {**_bind(t, cat), **_date_window(t, date, _window_for(rng, t, cat, date))}
    return Query("eq_range", sql, params, t.name, _cols(t, cat.name, date.name, m.name),
                 f"Reports of {_words(t.name)} for one {_words(cat.name)} over a few weeks are slow.",
                 fix=((t, (cat.name, date.name)),))


def _eq_sort(rng: random.Random, s: Schema) -> Query:
    t = rng.choice(s.big)
    eq = rng.choice(t.of("fk") + [c for c in t.of("cat") if c.name in WIDE_CATEGORIES])
    date, m = t.of("date")[0], rng.choice(t.of("measure"))
    sql = (f"SELECT id, {m.name}, {date.name} FROM {t.name} WHERE {eq.name} = :{eq.name} "
           f"ORDER BY {date.name} DESC LIMIT {rng.choice((10, 20, 50))}")
    what = _words(eq.name[:-3]) if eq.role == "fk" else _words(eq.name)
    return Query("eq_sort", sql, _bind(t, eq), t.name, _cols(t, eq.name, date.name, m.name),
                 f"The 'latest {_words(t.name)}' list for {_a(what)} loads slowly.", fix=((t, (eq.name, date.name)),))


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
                     f"The nightly report of {_words(t.name)} by {_words(g.name)} runs long.", 0.1)
    return Query("group", sql, params, t.name, _cols(t, g.name, m.name, *used),
                 f"The breakdown of {_words(t.name)} by {_words(g.name)} takes seconds to load.")


def _join(rng: random.Random, s: Schema) -> Query:
    e = rng.choice(s.edges)
    c, p = _alias(e.child.name), _alias(e.parent.name, _alias(e.child.name))
    m, shown = rng.choice(e.child.of("measure")), rng.choice(e.parent.of("cat"))
    head = (f"SELECT {c}.id, {c}.{m.name}, {p}.{shown.name} FROM {e.child.name} {c} "
            f"JOIN {e.parent.name} {p} ON {p}.id = {c}.{e.fk.name}")
    reads = _cols(e.child, e.fk.name, m.name) | _cols(e.parent, "id", shown.name)
    if rng.random() < 0.5:  # filter on the parent: one parent row, then its children by the fk
        key = e.parent.of("key")[0]
        sql, params = f"{head} WHERE {p}.{key.name} = :{key.name}", _bind(e.parent, key)
        reads |= _cols(e.parent, key.name)
        fix = ((e.parent, (key.name,)), (e.child, (e.fk.name,)))
        symptom = (f"The page that lists {_a(_words(_singular(e.parent.name)))}'s {_words(e.child.name)} "
                   f"(found by {_words(key.name)}) is slow.")
    else:  # filter on the child: a recent window of children with their parent's details
        d = e.child.of("date")[0]
        sql, params = f"{head} WHERE {c}.{d.name} BETWEEN :start AND :end", _date_window(e.child, d, rng.choice((3, 7, 14)))
        reads |= _cols(e.child, d.name)
        fix = ((e.child, (d.name,)),)
        symptom = f"The feed of recent {_words(e.child.name)} with their {_words(_singular(e.parent.name))} details is slow."
    return Query("join", sql, params, e.child.name, reads, symptom, fix=fix)


def _write(rng: random.Random, s: Schema) -> Query:
    t = rng.choice(s.big)
    weight = float(rng.choice((10, 20, 30, 50)))  # frequent enough that every index on t costs
    if rng.random() < 0.6:
        cols = t.of("fk") + t.of("cat") + t.of("date") + t.of("measure")[:1]
        names = [c.name for c in cols]
        sql = f"INSERT INTO {t.name}({', '.join(names)}) VALUES ({', '.join(':' + n for n in names)})"
        symptom = f"New {_words(t.name)} arrive constantly; saving one must stay fast."
        return Query("write", sql, _bind(t, *cols), t.name, frozenset(), symptom, weight, _cols(t, *names))
    cat, m = rng.choice(t.of("cat")), t.of("measure")[0]
    sql = f"UPDATE {t.name} SET {cat.name} = :{cat.name}, {m.name} = {m.name} + 1 WHERE id = :id"
    params = {**_bind(t, cat), "id": {"int": [1, t.rows]}}
    symptom = f"{_words(t.name).capitalize()} are updated all day long; each update must stay fast."
    return Query("write", sql, params, t.name, frozenset(), symptom, weight, _cols(t, cat.name, m.name))


def _or_pair(rng: random.Random, s: Schema) -> Query:
    t = rng.choice(s.big)
    a = t.of("key")[0]
    b = rng.choice(t.of("fk") + [c for c in t.of("cat") if c.name in WIDE_CATEGORIES])
    m = rng.choice(t.of("measure"))
    sql = f"SELECT id, {m.name} FROM {t.name} WHERE {a.name} = :{a.name} OR {b.name} = :{b.name}"
    return Query("or_pair", sql, _bind(t, a, b), t.name, _cols(t, a.name, b.name, m.name),
                 f"Searching {_words(t.name)} by either {_words(a.name)} or {_words(b.name)} crawls.",
                 fix=((t, (a.name,)), (t, (b.name,))))  # an OR needs an index on each side


def _join_group(rng: random.Random, s: Schema) -> Query:
    e = rng.choice(s.edges)
    c, p = _alias(e.child.name), _alias(e.parent.name, _alias(e.child.name))
    g, m, d = rng.choice(e.parent.of("cat")), rng.choice(e.child.of("measure")), e.child.of("date")[0]
    sql = (f"SELECT {p}.{g.name}, COUNT(*), SUM({c}.{m.name}) FROM {e.child.name} {c} "
           f"JOIN {e.parent.name} {p} ON {p}.id = {c}.{e.fk.name} "
           f"WHERE {c}.{d.name} BETWEEN :start AND :end GROUP BY {p}.{g.name}")
    params = _date_window(e.child, d, rng.choice((7, 14, 30)))
    reads = _cols(e.child, e.fk.name, m.name, d.name) | _cols(e.parent, "id", g.name)
    return Query("join_group", sql, params, e.child.name, reads,
                 f"The dashboard of recent {_words(e.child.name)} per {_words(_singular(e.parent.name))} "
                 f"{_words(g.name)} is slow.")


TEMPLATES: dict[str, Template] = {
    "point": _point, "eq_range": _eq_range, "eq_sort": _eq_sort, "group": _group, "join": _join,
    "write": _write, "or_pair": _or_pair, "join_group": _join_group,
}


def _workload(rng: random.Random, s: Schema, families: list[str], allowed: tuple[str, ...]) -> list[Query]:
    """One statement per family (the anchor first), then extras from the same families.

    A template can repeat itself (one big table, one key); then the slot falls back to another family,
    drawn from ``allowed`` so the held-out rule holds.
    """
    count = min(5, max(2, len(families) + rng.randint(0, 2)))
    reads = [f for f in families if f != "write"]  # never empty: the anchor is a read
    wanted = families + [rng.choice(reads) for _ in range(count - len(families))]
    # a fourth family is the most a scenario gets; with four, a repeat slot just stays empty
    fallback = [] if len(families) >= 4 else [f for f in rng.sample(allowed, len(allowed)) if f != "write"]
    queries: list[Query] = []
    for family in wanted:
        q = _fresh(rng, s, [family, *families, *fallback], {q.shape for q in queries})
        if q is not None:
            queries.append(q)
    # the anchor is the hottest statement: its fix then pays off on its own, whatever plan changes the
    # same index causes elsewhere (the greedy reference judges one index at a time)
    queries[0] = dataclasses.replace(queries[0], weight=float(rng.choice((2, 3, 5))))
    return queries


def _fresh(rng: random.Random, s: Schema, order: list[str], seen: set[str]) -> Query | None:
    """The first statement of a new shape, trying the families in ``order``."""
    for family in dict.fromkeys(order):
        for _ in range(4):
            q = TEMPLATES[family](rng, s)
            if q.shape not in seen:
                return q
    return None


# --- 4. traps and limits ------------------------------------------------------------------------------
def _trap(rng: random.Random, s: Schema, queries: list[Query]) -> dict | None:
    """An index no read uses, on a table with heavy writes: it only costs, so dropping it is right."""
    writes = [q for q in queries if q.is_write]
    if not writes or rng.random() < 0.4:
        return None
    t = s.table(rng.choice(writes).table)
    read = set().union(*(q.reads for q in queries))
    written = set().union(*(q.writes for q in writes))
    spare = [c.name for c in t.of("cat", "measure", "date", "key") if (t.name, c.name) not in read]
    # lead with a column the writes store: an UPDATE then pays for the index, not only an INSERT
    lead = [c for c in spare if (t.name, c) in written]
    if not lead:
        return None
    first = rng.choice(lead)
    cols = [first] + rng.sample([c for c in spare if c != first], min(len(spare) - 1, rng.randint(0, 1)))
    return {"name": f"{t.name}_{'_'.join(cols)}_idx", "table": t.name, "columns": cols}


def _constraints(rng: random.Random, s: Schema, anchor: Query, trap: dict | None) -> dict:
    """Budgets that always leave room for the anchor's fix next to the indexes the scenario ships.

    The greedy reference makes one move at a time: it cannot see that dropping the trap would free the
    space or the slot a better index needs, so the limits must not force that two-step trade.
    """
    shipped = [(s.table(trap["table"]), tuple(trap["columns"]))] if trap else []
    needed = _size_share(s, [*anchor.fix, *shipped])
    low = min(1.5, max(0.3, round(1.3 * needed + 0.005, 2)))
    return {
        "storage_budget": round(rng.uniform(low, 1.5), 2),
        "max_indexes": rng.randint(max(2, len(shipped) + len(anchor.fix)), 5),
        "max_columns": rng.randint(2, 3),
    }


def _width(col: Column) -> int:
    """About how many bytes one value of ``col`` takes in a record."""
    gen = col.gen
    if col.type == "REAL":
        return 8
    if col.type == "INTEGER":
        return 4 if gen.get("high", 0) > 32_767 else 2
    if gen["kind"] == "date":
        return 10
    if gen["kind"] == "choice":
        return max(len(v) for v in gen["values"])
    return len(gen.get("prefix", "")) + 5


def _size_share(s: Schema, indexes: list[tuple[Table, tuple[str, ...]]]) -> float:
    """Estimated bytes of ``indexes`` as a fraction of the tables' bytes (what storage_budget counts)."""
    data = sum(t.rows * (sum(_width(c) for c in t.columns) + 8) for t in s.tables)
    wanted = sum(t.rows * (sum(_width(c) for c in t.columns if c.name in cols) + 8) for t, cols in indexes)
    return wanted / data


def _difficulty(s: Schema, queries: list[Query], trap: dict | None) -> str:
    families = {q.family for q in queries}
    if len(s.tables) <= 3 and len(queries) == 2 and len(families) == 1:
        return "easy"
    joins = families & {"join", "join_group"}
    if len(s.tables) >= 5 or (joins and "write" in families and trap is not None):
        return "hard"
    return "medium"


# --- 5. spec -----------------------------------------------------------------------------------------
def _description(s: Schema, queries: list[Query], trap: dict | None) -> str:
    symptoms = list(dict.fromkeys(q.symptom for q in queries))
    lines = [f"What the people who use the {s.domain} database report:"] + [f"- {x}" for x in symptoms]
    if trap:
        lines.append(f"- Writes to {_words(trap['table'])} have become slower than they used to be.")
    return "\n".join(lines)


def _lesson(s: Schema, queries: list[Query], trap: dict | None) -> str:
    anchor = queries[0]
    fix = " and ".join(f"{t.name}({', '.join(cols)})" for t, cols in anchor.fix)
    text = (f"Generated {s.archetype} schema; families {', '.join(dict.fromkeys(q.family for q in queries))}. "
            f"The hottest statement, a {anchor.family} query on {anchor.table}, wants an index on {fix}.")
    if trap:
        text += f" {trap['name']} is unused by every read and taxes the writes on {trap['table']}: drop it."
    return text


def _query_dicts(queries: list[Query]) -> list[dict]:
    out, reads, writes = [], 0, 0
    for q in queries:
        if q.is_write:
            writes += 1
            qid = f"w{writes}"
        else:
            reads += 1
            qid = f"q{reads}"
        d = {"id": qid, "sql": q.sql, "params": q.params}
        if q.weight != 1.0:
            d["weight"] = q.weight
        out.append(d)
    return out


def _table_dict(t: Table) -> dict:
    return {"name": t.name, "rows": t.rows,
            "columns": [{"name": c.name, "type": c.type, "gen": dict(c.gen)} for c in t.columns]}


@lru_cache(maxsize=1024)
def generate(n: int) -> Scenario:
    """The scenario ``generator://index/<n>``: the same spec for the same ``n``, in any process."""
    if n < 0:
        raise ValueError(f"generator index must be >= 0, got {n}")
    rng = random.Random(f"sqlgym-index-{n}")
    split = split_of(n)
    archetype, families, allowed = _design(rng, split)
    schema = _schema(rng, archetype)
    queries = _workload(rng, schema, families, allowed)
    trap = _trap(rng, schema, queries)
    indexes = [trap] if trap else []
    difficulty = _difficulty(schema, queries, trap)
    d = {
        "id": f"generator://index/{n}",
        "difficulty": difficulty,
        "split": split,
        "description": _description(schema, queries, trap),
        "lesson": _lesson(schema, queries, trap),
        "seed": n,
        "tables": [_table_dict(t) for t in schema.tables],
        "queries": _query_dicts(queries),
        "indexes": indexes,
        "constraints": _constraints(rng, schema, queries[0], trap),
        "max_steps": {"easy": 12, "medium": 20, "hard": 30}[difficulty],
        "family": "+".join(dict.fromkeys(q.family for q in queries)),
        "archetype": archetype,
    }
    return scenario_from_dict(d, default_split=split)
