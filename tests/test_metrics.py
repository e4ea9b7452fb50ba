"""Execution accuracy, row by row: each case says why the verdict is what it is."""

import pytest

from sqlgym.db.results import Result, execution_match, row_f1
from sqlgym.eval.metrics import ex_report


def R(*rows, columns=None):
    return Result.of(columns if columns is not None else (len(rows[0]) if rows else 1), rows)


CASES = [
    # (reason, gold, predicted, gold ordered, EX, set-EX)
    ("identical rows", R((1, "a"), (2, "b")), R((1, "a"), (2, "b")), False, True, True),
    ("rows in another order, gold unordered", R((1,), (2,)), R((2,), (1,)), False, True, True),
    ("rows in another order, gold ordered", R((1,), (2,)), R((2,), (1,)), True, False, True),
    ("same order, gold ordered", R((1,), (2,)), R((1,), (2,)), True, True, True),
    ("duplicates dropped by DISTINCT: bags differ, sets agree", R(("x",), ("x",), ("y",)), R(("x",), ("y",)), False, False, True),
    ("an extra duplicate row", R((1,),), R((1,), (1,)), False, False, True),
    ("columns swapped", R((1, "a"), (2, "b")), R(("a", 1), ("b", 2)), False, True, True),
    ("columns swapped, gold ordered", R((1, "a"), (2, "b")), R(("a", 1), ("b", 2)), True, True, True),
    ("an extra column", R((1,), (2,)), R((1, "a"), (2, "b")), False, False, False),
    ("a missing column", R((1, "a"),), R((1,),), False, False, False),
    ("2 equals 2.0", R((2,),), R((2.0,),), False, True, True),
    ("floats equal to 10 significant digits", R((0.1 + 0.2,),), R((0.3,),), False, True, True),
    ("floats that differ in the 4th digit", R((3.1416,),), R((3.1415,),), False, False, False),
    ("the string '2' is not the number 2", R(("2",),), R((2,),), False, False, False),
    ("NULL mixed with text, same bag", R((None,), ("a",)), R(("a",), (None,)), False, True, True),
    ("NULL is not the empty string", R((None,),), R(("",),), False, False, False),
    ("NULL is not the text 'None'", R((None,),), R(("None",),), False, False, False),
    ("both empty, same column count", R(columns=2), R(columns=2), False, True, True),
    ("both empty, different column count", R(columns=2), R(columns=1), False, False, False),
    ("empty prediction for a non-empty gold", R((1,),), R(columns=1), False, False, False),
    ("strings are exact (case)", R(("Dog",),), R(("dog",),), False, False, False),
    ("bytes compare as hex text", R((b"\x01\x02",),), R((b"\x01\x02",),), False, True, True),
    ("two identical columns swapped with a third", R((1, 1, "a"), (2, 2, "b")), R(("a", 1, 1), ("b", 2, 2)), False, True, True),
    ("columns with equal values but rows paired differently", R((1, "a"), (2, "b")), R((1, "b"), (2, "a")), False, False, False),
]


@pytest.mark.parametrize("reason,gold,pred,ordered,ex,set_ex", CASES, ids=[c[0] for c in CASES])
def test_execution_match(reason, gold, pred, ordered, ex, set_ex):
    assert execution_match(gold, pred, ordered) is ex, reason
    assert execution_match(gold, pred, as_set=True) is set_ex, reason


def test_row_f1_gives_partial_credit():
    gold = R((1,), (2,), (3,), (4,))
    assert row_f1(gold, gold) == 1.0
    assert row_f1(gold, R((1,), (2,))) == pytest.approx(2 * 1.0 * 0.5 / 1.5)
    assert row_f1(gold, R((9,),)) == 0.0
    assert row_f1(gold, R((1, 1),)) == 0.0  # a different column count earns nothing


def test_report_counts_unanswered_as_wrong_and_breaks_down():
    def rec(correct, answered, difficulty, kind, db):
        return {"return": float(correct), "final": {"correct": correct, "answered": answered, "set_correct": correct,
                                                    "difficulty": difficulty, "kind": kind, "db_id": db}}

    records = [rec(True, True, "easy", "answerable", "a"), rec(False, False, "hard", "answerable", "a"),
               rec(True, True, "easy", "unanswerable", "b"), rec(False, True, "extra", "clarification", "b")]
    rep = ex_report(records)
    assert rep["ex"] == 0.5 and rep["coverage"] == 0.75 and rep["questions"] == 4
    assert rep["by_difficulty"]["easy"]["ex"] == 1.0 and rep["by_difficulty"]["hard"]["ex"] == 0.0
    assert rep["by_database"]["b"]["questions"] == 2 and rep["by_kind"]["clarification"]["ex"] == 0.0
