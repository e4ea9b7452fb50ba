"""Static facts about a SQL text, from sqlglot's parse (never from substring tests)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from sqlgym.errors import SQLParseError

DML = (exp.Insert, exp.Update, exp.Delete)


@dataclass(frozen=True)
class SqlFacts:
    tree: exp.Expression
    kind: str  # "select" | "dml" | "other"
    tables: frozenset[str]  # base tables, CTE names excluded, lower-case
    params: frozenset[str]  # named placeholders (:name)
    ordered: bool  # the outermost query has ORDER BY


def parse(sql: str) -> SqlFacts:
    """Parse exactly one SQLite statement; raises ``SQLParseError`` (a ``ValueError``) otherwise.

    The message is sqlglot's first line; text nested too deeply for sqlglot's recursive parser
    (hundreds of parentheses or function calls) is refused the same way.
    """
    if not isinstance(sql, str):
        raise SQLParseError(f"SQL must be a string, not {type(sql).__name__}")
    try:
        trees = [t for t in sqlglot.parse(sql, read="sqlite") if t is not None]
    except SqlglotError as e:
        raise SQLParseError(str(e).splitlines()[0] if str(e) else type(e).__name__) from None
    except RecursionError:
        raise SQLParseError("SQL is nested too deeply to parse") from None
    if len(trees) != 1:
        raise SQLParseError(f"expected exactly one SQL statement, got {len(trees)}")
    tree = trees[0]
    if not isinstance(tree, exp.Expression):  # what sqlglot.parse gives for a statement
        raise SQLParseError(f"not a SQL statement: {sql[:80]!r}")
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    tables = frozenset(t.name.lower() for t in tree.find_all(exp.Table) if t.name and t.name.lower() not in ctes)
    params = frozenset(p.this for p in tree.find_all(exp.Placeholder) if isinstance(p.this, str))
    if isinstance(tree, exp.Query):
        kind = "select"
    elif isinstance(tree, DML):
        kind = "dml"
    else:
        kind = "other"
    return SqlFacts(
        tree=tree,
        kind=kind,
        tables=tables,
        params=params,
        ordered=bool(tree.args.get("order")) if kind == "select" else False,
    )


def quote(name: str) -> str:
    """Quote an identifier for SQLite."""
    return '"' + name.replace('"', '""') + '"'
