"""Difficulty of a gold query from its structure (Spider's hardness rules, counted with sqlglot).

Components: ``comp1`` counts WHERE, GROUP BY, ORDER BY, LIMIT, joins, OR and LIKE; ``comp2`` counts
set operations and nested queries; ``others`` counts extra aggregates, extra selected columns,
extra WHERE conditions and extra GROUP BY keys.
"""

from __future__ import annotations

from sqlglot import exp

from sqlgym.sqltext import parse

AGGREGATES = (exp.Count, exp.Sum, exp.Avg, exp.Min, exp.Max)


def _conditions(node: exp.Expression | None) -> int:
    if node is None:
        return 0
    return 1 + sum(1 for _ in node.find_all(exp.And, exp.Or))


def _outer_select(tree: exp.Expression) -> exp.Select | None:
    while isinstance(tree, exp.SetOperation):
        tree = tree.this
    return tree if isinstance(tree, exp.Select) else None


def counts(sql: str) -> tuple[int, int, int]:
    """(comp1, comp2, others) for one SELECT."""
    tree = parse(sql).tree
    sel = _outer_select(tree)
    comp2 = sum(1 for _ in tree.find_all(exp.SetOperation))
    comp2 += sum(1 for s in tree.find_all(exp.Select) if s.find_ancestor(exp.Select) is not None)  # nested
    if sel is None:
        return 0, comp2 + 1, 0
    where = sel.args.get("where")
    group = sel.args.get("group")
    comp1 = sum(bool(sel.args.get(k)) for k in ("where", "group", "order", "limit"))
    comp1 += len(sel.args.get("joins") or [])
    comp1 += sum(1 for _ in sel.find_all(exp.Or)) + sum(1 for _ in sel.find_all(exp.Like))
    aggs = sum(1 for _ in sel.find_all(*AGGREGATES))
    others = (aggs > 1) + (len(sel.expressions) > 1)
    others += (_conditions(where.this) > 1) if where is not None else 0
    others += (len(group.expressions) > 1) if group is not None else 0
    return comp1, comp2, others


def difficulty(sql: str) -> str:
    """'easy' | 'medium' | 'hard' | 'extra', as Spider's evaluation script decides."""
    c1, c2, o = counts(sql)
    if c1 <= 1 and o == 0 and c2 == 0:
        return "easy"
    if (o <= 2 and c1 <= 1 and c2 == 0) or (c1 <= 2 and o < 2 and c2 == 0):
        return "medium"
    if (o > 2 and c1 <= 2 and c2 == 0) or (2 < c1 <= 3 and o <= 2 and c2 == 0) or (c1 <= 1 and o == 0 and c2 <= 1):
        return "hard"
    return "extra"
