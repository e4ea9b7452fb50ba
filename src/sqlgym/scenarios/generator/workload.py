"""Stages 1, 3-5 put together: design, the workload from the templates, traps and limits, the spec.

``generate(n)`` draws everything from one ``random.Random(f"sqlgym-index-{n}")`` in a fixed order
and hands the plain dict to ``scenario_from_dict``.
"""

from __future__ import annotations

import dataclasses
import random
from functools import lru_cache
from typing import Any

from sqlgym.errors import ConfigError
from sqlgym.scenarios.generator.schema import Schema, Table, draw_schema, size_share
from sqlgym.scenarios.generator.templates import TEMPLATES, Query
from sqlgym.scenarios.generator.vocab import ANCHORS, ARCHETYPES, FAMILIES, FORCE_HELD_OUT, words
from sqlgym.scenarios.spec import Scenario, scenario_from_dict
from sqlgym.scenarios.splits import HELD_OUT_ARCHETYPES, HELD_OUT_FAMILIES, split_of


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
    needed = size_share(s, [*anchor.fix, *shipped])
    low = min(1.5, max(0.3, round(1.3 * needed + 0.005, 2)))
    return {
        "storage_budget": round(rng.uniform(low, 1.5), 2),
        "max_indexes": rng.randint(max(2, len(shipped) + len(anchor.fix)), 5),
        "max_columns": rng.randint(2, 3),
    }



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
        lines.append(f"- Writes to {words(trap['table'])} have become slower than they used to be.")
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
        d: dict[str, Any] = {"id": qid, "sql": q.sql, "params": q.params}
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
    if isinstance(n, bool) or not isinstance(n, int):
        raise ConfigError(f"a generator index is a whole number >= 0, not {n!r}")
    if n < 0:
        raise ConfigError(f"a generator index must be >= 0, got {n} (scenario ids are generator://index/<n>)")
    rng = random.Random(f"sqlgym-index-{n}")
    split = split_of(n)
    archetype, families, allowed = _design(rng, split)
    schema = draw_schema(rng, archetype)
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
