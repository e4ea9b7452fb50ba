"""Stage 2, the schema: an archetype and a domain give 2-8 tables whose columns carry a *role*.

``draw_schema`` makes the plan (``Schema`` of ``Table`` of ``Column``); ``size_share`` estimates
what an index costs in storage from column widths, as ``storage_budget`` counts it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from sqlgym.scenarios.generator.vocab import (
    BIG_ROWS,
    CATEGORIES,
    CHAIN_BIG_ROWS,
    CHAIN_DOMAINS,
    DATES,
    DIM_ROWS,
    GENERIC_KEYS,
    KEY_BY_TABLE,
    KEYS,
    MEASURES,
    STAR_DOMAINS,
    WIDE_CATEGORIES,
    singular,
)


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


# --- drawing a schema -------------------------------------------------------------------------------
def draw_schema(rng: random.Random, archetype: str) -> Schema:
    """A chain, a star or a snowflake: the tables, their rows and their columns by role."""
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
        cols.append(Column(f"{singular(p.name)}_id", "INTEGER", {"kind": "fk", "table": p.name, **dist}, "fk"))
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

# --- sizes ----------------------------------------------------------------------------------------
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


def size_share(s: Schema, indexes: list[tuple[Table, tuple[str, ...]]]) -> float:
    """Estimated bytes of ``indexes`` as a fraction of the tables' bytes (what storage_budget counts)."""
    data = sum(t.rows * (sum(_width(c) for c in t.columns) + 8) for t in s.tables)
    wanted = sum(t.rows * (sum(_width(c) for c in t.columns if c.name in cols) + 8) for t, cols in indexes)
    return wanted / data

