"""Hostile agent SQL is bounded in time, memory and disk, on every path agent SQL takes.

Each case is a class of attack (the SQL is one example of it), run in a child process with an
address-space limit, an empty TMPDIR/SQLITE_TMPDIR, through ``ReadOnlyDatabase.run`` (Text2SQL) and
the index env's ``Database.query`` (rewrite checks) and ``Database.measure`` (costs). Every case must
be refused or stopped by the sandbox, within STEP_SECONDS of wall time, the child's peak RSS must stay
under PEAK_RSS_MB, and no temp file may appear.

    python tests/test_hostile.py            # the table with the default deadline (worst cases)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import apsw
import pytest

from sqlgym.db.sandbox import AGENT_DEADLINE_S, AGENT_LIMITS, AgentSQLError, DeadlineExceeded, NonDeterministicSQL

ROOT = Path(__file__).resolve().parents[1]
ADDRESS_SPACE = 2 << 30  # RLIMIT_AS of the child
PEAK_RSS_MB = 1200
STEP_SECONDS = 6.0  # the 1 s deadline plus one stretch of straight-line work (2.3 s seen), with room for a busy CI machine
TEST_DEADLINE_S = 0.25  # the tests use a short deadline to stay fast; the bounds do not depend on it

L = AGENT_LIMITS[apsw.SQLITE_LIMIT_LENGTH]  # the agent length limit
MB = f"printf('%.*c', {L - 1}, 'a')"  # the longest string allowed
BIG = f"printf('%.*c', {L - 1000}, 'a') || o.note"  # one that long per row
PAT = "'%' || printf('%.*c', 97, 'a') || 'b'"  # the longest LIKE pattern allowed, worst case for it
GLOB_PAT = "'*' || replace(printf('%.*c', 16, 'a'), 'a', '[^bcd]') || 'b'"
ONE_ROW = f"(SELECT {MB} AS x, {PAT} AS p) s, orders o"

# (case id, reason, SQL, paths). Paths: ro = ReadOnlyDatabase.run, query = Database.query (deterministic),
# measure = Database.measure; "all" = the three.
CASES = [
    ("like_quadratic", "LIKE is O(pattern x text) in one VM step: the pattern length limit refuses it",
     f"SELECT {MB} LIKE '%' || printf('%.*c', 40000, 'a') || 'b'", "all"),
    ("like_rows", "a maximal LIKE per row: each step is bounded, the deadline stops the rows",
     f"SELECT count(*) FROM orders o WHERE {BIG} LIKE {PAT}", "all"),
    ("like_straight_line", "LIKE call sites in one row run with no interrupt check in between: at most 8",
     "SELECT " + ", ".join(["s.x LIKE s.p"] * 8) + f" FROM {ONE_ROW}", "all"),
    ("like_many_sites", "more LIKE/GLOB call sites than a statement may have",
     "SELECT " + ", ".join(["note LIKE '%a%'"] * 9) + " FROM orders", "all"),
    ("glob_class_rows", "GLOB character classes cost per class character",
     f"SELECT count(*) FROM orders o WHERE {BIG} GLOB {GLOB_PAT}", "all"),
    ("instr_quadratic", "instr is O(n*m) in SQLite: replaced by a linear one",
     f"SELECT instr({BIG}, printf('%.*c', {L // 2}, 'a') || 'b') FROM orders o", "all"),
    ("replace_quadratic", "replace is O(n*m) in SQLite: replaced by a linear one",
     f"SELECT length(replace({BIG}, printf('%.*c', {L // 2}, 'a') || 'b', 'x')) FROM orders o", "all"),
    ("replace_growth", "a replace whose result would pass the length limit is refused before it is built",
     f"SELECT length(replace({MB}, 'a', 'bbbbbbbbbb'))", "all"),
    ("trim_set", "trim with a large character set is O(n*m) in SQLite: replaced by a linear one",
     f"SELECT length(trim({BIG}, printf('%.*c', {L // 2}, 'b') || 'a')) FROM orders o", "all"),
    ("many_large_columns", "rows of as many maximal values as a program can hold (~200 MB a row)",
     "SELECT " + ", ".join(f"s.x || '{i}'" for i in range(850)) + f" FROM (SELECT printf('%.*c', {L - 10}, 'a') AS x) s, orders o",
     "all"),
    ("burst_big_values", "where stored values raise the length limit (4 MB here), one row's burst: the heap limit",
     "SELECT " + ", ".join(f"b.v || '{i}'" for i in range(120)) + " FROM big b", "big"),
    ("many_large_rows", "rows of maximal values: kept rows are capped in bytes, the rest by the deadline",
     f"SELECT {BIG} FROM orders o, (SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4)", "all"),
    ("order_by_spill", "a big sort would spill to a temp file: temp_store=MEMORY keeps it under the memory bound",
     f"SELECT b FROM (SELECT {BIG} AS b FROM orders o) ORDER BY b LIMIT 1 OFFSET 100000", "all"),
    ("distinct_spill", "DISTINCT builds a temporary B-tree: in memory, under the memory bound",
     f"SELECT count(DISTINCT {BIG}) FROM orders o", "all"),
    ("recursive_cte", "a recursive CTE without end: the step budget or the deadline",
     "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) SELECT count(*) FROM r", "all"),
    ("recursive_doubling", "a recursive CTE whose queue doubles with large rows: memory",
     f"WITH RECURSIVE r(i, s) AS (SELECT 1, {BIG.replace(' || o.note', '')} UNION ALL SELECT i + 1, s FROM r, (SELECT 1 UNION ALL SELECT 2) "
     "WHERE i < 40) SELECT count(*), max(length(s)) FROM r", "all"),
    ("recursive_growing_string", "strings doubled until the length limit",
     "WITH RECURSIVE r(s) AS (SELECT 'a' UNION ALL SELECT s || s FROM r) SELECT max(length(s)) FROM r", "all"),
    ("huge_blobs", "randomblob/zeroblob past the length limit fail at once",
     "SELECT length(zeroblob(1000000000)) + length(randomblob(1000000000))", "all"),
    ("deep_expression", "expression depth is limited",
     "SELECT " + "(" * 3000 + "1" + ")" * 3000, "all"),
    ("long_chain", "a long chain of operators is an expression too deep",
     "SELECT " + "+".join(["1"] * 5000), "all"),
    ("json_straight_line", "JSON parses of maximal text in straight-line code (the slowest linear step found)",
     "SELECT " + ", ".join(["json_valid(s.j)"] * 1300) + f" FROM (SELECT '[' || replace(printf('%.*c', {L // 3}, 'a'), 'a', '1,') "
     "|| '1]' AS j) s, orders o", "all"),
    ("numeric_straight_line", "text-to-number conversions of maximal strings in straight-line code: program size bounds them",
     "SELECT " + ", ".join(["(" + " + ".join(["s.x"] * 150) + ")"] * 8) + f" FROM (SELECT printf('%.*c', {L - 1}, '1') AS x) s, orders o", "all"),
    ("upper_straight_line", "maximal case conversions in straight-line code: program size bounds them",
     "SELECT " + ", ".join(["length(upper(s.x))"] * 850) + f" FROM {ONE_ROW}", "all"),
    ("cross_join", "a triple cross join: the step budget or the deadline",
     "SELECT count(*) FROM orders a, orders b, orders c", "all"),
    ("window_cross", "a window over a cross join sorts and frames every pair",
     "SELECT max(x) FROM (SELECT sum(a.amount) OVER (ORDER BY a.note, b.id) AS x FROM orders a, orders b)", "all"),
    ("printf_width", "printf widths and precisions past the length limit",
     "SELECT length(printf('%2000000000d', 1)) + length(printf('%.*c', 2147483647, 'a'))", "all"),
    ("group_concat_bomb", "group_concat past the length limit",
     "SELECT length(group_concat(printf('%.*c', 10000, 'a'))) FROM orders a, orders b", "all"),
    ("group_concat_separator", "a maximal separator",
     f"SELECT length(group_concat(note, {MB})) FROM orders", "all"),
    ("json_patch", "json_patch is quadratic in keys: denied to agent SQL",
     "SELECT json_patch(json_group_object('k' || id, id), json_group_object('j' || id, id)) FROM orders", "all"),
    ("json_bomb", "json_group_array past the length limit, then json_each over it",
     "SELECT count(*) FROM json_each((SELECT json_group_array(printf('%.*c', 100, 'a')) FROM orders a, orders b))", "all"),
    ("json_each_rows", "json_each of a large array for every row",
     f"SELECT count(*) FROM orders o, json_each('[' || replace(printf('%.*c', {L // 3}, 'a'), 'a', '1,') || '1]')", "all"),
    ("median_cross", "median sorts its input in one step: the input is bounded by steps, time and memory first",
     "SELECT median(a.amount * b.amount) FROM orders a, orders b", "all"),
    ("randomblob_rows", "random maximal rows (non-deterministic: refused where SQL is measured or compared)",
     f"SELECT randomblob({L - 1}) FROM orders", "all"),
    ("in_list", "a huge IN list: the program size limit (SQLITE_LIMIT_VDBE_OP)",
     "SELECT count(*) FROM orders WHERE id IN (" + ", ".join(str(i) for i in range(15000)) + ")", "all"),
    ("dml_growth", "workload-style DML that grows the database by GBs: memory, then rolled back",
     f"UPDATE orders SET note = {BIG.replace('o.note', 'id')}", "dml"),
    ("dml_cross", "DML over a cross join: steps or deadline, then rolled back",
     "INSERT INTO orders(customer_id, status, amount, note) SELECT a.customer_id, a.status, a.amount, a.note "
     "FROM orders a, orders b", "dml"),
]
PATHS = {"all": ("ro", "query", "measure"), "dml": ("dml",), "big": ("ro_big",)}


def _big_image() -> bytes:
    conn = apsw.Connection(":memory:")
    conn.execute("CREATE TABLE big(v TEXT); INSERT INTO big VALUES (printf('%.*c', 4000000, 'v'))")
    return conn.serialize("main")


def _run(path: str, db, ro, sql: str, deadline_s: float):
    if path in ("ro", "ro_big"):
        return ro[path].run(sql, budget=5_000_000, max_rows=100_000, deadline_s=deadline_s)
    if path == "query":
        return db.query(sql, budget=50_000_000, max_rows=200_000, deadline_s=deadline_s, deterministic=True)
    if path == "measure":
        return db.measure(sql, {}, dml=False, budget=50_000_000, deadline_s=deadline_s)
    return db.measure(sql, {}, dml=True, budget=50_000_000, deadline_s=deadline_s)


def _child(case_ids: list[str], deadline_s: float) -> None:
    """Run cases in this (limited) process; print one JSON line per (case, path)."""
    import resource
    import time

    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
    from sqlgym.db.readonly import ReadOnlyDatabase
    from sqlgym.db.sqlite import Database, build_snapshot
    from sqlgym.scenarios.spec import scenario_from_dict
    from tests.conftest import TINY

    sc = scenario_from_dict(TINY)
    snap = build_snapshot(sc)
    db, ro = Database(snap, sc), {"ro": ReadOnlyDatabase(snap.image), "ro_big": ReadOnlyDatabase(_big_image())}
    count = "SELECT COUNT(*), SUM(length(note)) FROM orders"
    before = db.query(count, budget=None, mode="admin")[1]
    table = {c[0]: c for c in CASES}
    for cid in case_ids:
        _, _, sql, paths = table[cid]
        for path in PATHS[paths]:
            t0 = time.perf_counter()
            try:
                _run(path, db, ro, sql, deadline_s)
                err = None
            except (AgentSQLError, apsw.Error) as e:
                err = f"{type(e).__name__}: {str(e)[:90]}"
            except MemoryError:
                err = "MemoryError (not the sandbox)"
            seconds = time.perf_counter() - t0
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            intact = db.query(count, budget=None, mode="admin")[1] == before
            print(json.dumps({"case": cid, "path": path, "error": err, "seconds": round(seconds, 3),
                              "maxrss_mb": round(rss), "intact": intact}), flush=True)


def run_cases(case_ids: list[str], deadline_s: float, tmp: Path) -> list[dict]:
    tmp.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, TMPDIR=str(tmp), SQLITE_TMPDIR=str(tmp), OPENBLAS_NUM_THREADS="1",
               OMP_NUM_THREADS="1", MALLOC_ARENA_MAX="2", PYTHONPATH=f"{ROOT}{os.pathsep}{ROOT / 'src'}")
    code = f"import tests.test_hostile as t; t._child({case_ids!r}, {deadline_s!r})"
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


BATCHES = [[c[0] for c in CASES[i::2]] for i in range(2)]


@pytest.mark.parametrize("batch", BATCHES, ids=[f"batch{i}" for i in range(len(BATCHES))])
def test_hostile_sql_is_bounded(batch, tmp_path):
    results = run_cases(batch, TEST_DEADLINE_S, tmp_path / "tmp")
    expected = sum(len(PATHS[c[3]]) for c in CASES if c[0] in batch)
    assert len(results) == expected, results
    for r in results:
        where = f"{r['case']} via {r['path']}"
        assert r["error"] is not None, f"{where}: not refused or stopped"
        assert "MemoryError" not in r["error"], f"{where}: {r['error']}"
        assert r["seconds"] < STEP_SECONDS, f"{where}: took {r['seconds']} s"
        assert r["intact"], f"{where}: the database changed"
    assert max(r["maxrss_mb"] for r in results) < PEAK_RSS_MB, results
    assert os.listdir(tmp_path / "tmp") == [], "a temp file appeared"


def main() -> None:
    import tempfile

    rows = []
    with tempfile.TemporaryDirectory() as d:
        for i, batch in enumerate(BATCHES):
            rows += run_cases(batch, AGENT_DEADLINE_S, Path(d) / f"tmp{i}")
        left = os.listdir(d + "/tmp0") + os.listdir(d + "/tmp1")
    rss = 0
    for r in rows:
        print(f"{r['case']:26s} {r['path']:8s} {r['seconds']:6.2f} s  maxrss {r['maxrss_mb']:5d} MB  {r['error']}")
        rss = max(rss, r["maxrss_mb"])
    slow = max(rows, key=lambda r: r["seconds"])
    print(f"slowest: {slow['case']} via {slow['path']} {slow['seconds']:.2f} s; peak RSS {rss} MB; temp files: {left}")


if __name__ == "__main__":
    main()


# -- the second instance, determinism, and what the env layer calls ---------------------------------


def _serial_columns(scenario):
    return [(t.name, c.name) for t in scenario.schema for c in t.columns if dict(c.gen).get("kind") == "serial"]


@pytest.mark.parametrize("sid", ["tiny", "easy/fk_join"])
def test_second_instance_stores_rows_in_another_physical_order(tiny, sid):
    import sqlgym
    from sqlgym.db.sqlite import Database, build_snapshot

    sc = tiny if sid == "tiny" else sqlgym.load_scenario(sid)
    cols = _serial_columns(sc)
    assert cols
    first, second = (Database(build_snapshot(sc, instance=i), sc) for i in (0, 1))
    try:
        for table, col in cols:
            n = next(t.rows for t in sc.schema if t.name == table)
            sql = f'SELECT COUNT(*) FROM "{table}" WHERE rowid = "{col}"'
            assert first.query(sql, budget=None, mode="admin")[1] == [(n,)]  # scan order is the generated order
            (same,) = second.query(sql, budget=None, mode="admin")[1][0]
            assert same < max(3, n // 50), f"{table}: rows of instance 1 are (nearly) in generated order"
            ids = f'SELECT COUNT(DISTINCT "{col}"), MIN("{col}"), MAX("{col}") FROM "{table}"'
            assert first.query(ids, budget=None, mode="admin")[1] == second.query(ids, budget=None, mode="admin")[1]
    finally:
        first.close()
        second.close()


def test_builds_are_deterministic_and_instance_zero_keeps_its_order(tiny):
    from sqlgym.db.sqlite import build_snapshot

    for instance in (0, 1):
        a, b = build_snapshot(tiny, instance), build_snapshot(tiny, instance)
        assert a.image == b.image and a.visible == b.visible and a.hidden == b.hidden
    # Instance 0 must stay byte-identical to the build before the shuffle existed (baselines and
    # cached references depend on it): its rows are inserted in generated order, so rowid = id.
    assert build_snapshot(tiny, 0).image != build_snapshot(tiny, 1).image


def test_a_rewrite_that_relies_on_rowid_order_is_rejected(tiny):
    from sqlgym.db.equivalence import check_rewrite
    from sqlgym.db.sqlite import Database, build_snapshot

    q = next(q for q in tiny.workload if q.id == "q1")  # SELECT id, country FROM customers WHERE email = :e
    rewrite = "SELECT rowid AS id, country FROM customers WHERE email = :e"
    first, second = (Database(build_snapshot(tiny, instance=i), tiny) for i in (0, 1))
    try:
        assert check_rewrite([first], q, rewrite, 1_000_000) is None  # instance 0 alone cannot tell
        why = check_rewrite([first, second], q, rewrite, 1_000_000)
        assert why and "second instance" in why
    finally:
        first.close()
        second.close()


@pytest.mark.parametrize("rewrite", [
    "SELECT id, country FROM customers WHERE email = :e AND random() IS NOT NULL",
    "SELECT id, country FROM customers WHERE email = :e AND length(randomblob(2)) = 2",
    "SELECT id, country FROM customers WHERE email = :e AND date('now') > '2000-01-01'",
    "SELECT id, country FROM customers WHERE email = :e AND unixepoch('subsec') > 0",
    "SELECT id, country FROM customers WHERE email = :e AND CURRENT_TIMESTAMP > '2000'",
    "SELECT id, country FROM customers WHERE email = :e AND changes() >= 0",
    "SELECT id, country FROM customers WHERE email = :e AND sqlite_version() <> ''",
])
def test_a_non_deterministic_rewrite_is_rejected(db, tiny, rewrite):
    from sqlgym.db.equivalence import check_rewrite

    q = next(q for q in tiny.workload if q.id == "q1")
    why = check_rewrite([db], q, rewrite, 1_000_000)
    assert why and "not deterministic" in why, why


def test_the_deterministic_flavour_denies_what_the_static_check_might_miss(db):
    with pytest.raises(NonDeterministicSQL):
        db.query("SELECT random()", budget=1_000_000, deterministic=True)
    db.query("SELECT random()", budget=1_000_000)  # plain reads may (Text2SQL exploration)
    with pytest.raises(NonDeterministicSQL):  # not the statement cached by the plain read
        db.query("SELECT random()", budget=1_000_000, deterministic=True)
    with pytest.raises(NonDeterministicSQL):
        db.measure("SELECT last_insert_rowid()", {}, dml=False, budget=1_000_000)


@pytest.mark.parametrize("sql,bad", [
    ("SELECT date('now')", True),
    ("SELECT date()", True),
    ("SELECT strftime('%Y')", True),
    ("SELECT strftime('%Y', 'NOW')", True),
    ("SELECT unixepoch('subsec')", True),
    ("SELECT datetime(d, 'localtime') FROM t", True),
    ("SELECT date(d, 'utc') FROM t", True),
    ("SELECT date('n' || 'ow')", True),
    ('SELECT date("now")', True),  # SQLite reads a double-quoted name that is no column as a string
    ("SELECT date(lower('NOW'))", True),
    ("SELECT date(x) FROM (SELECT 'no' || 'w' AS x)", True),
    ("WITH c(x) AS (SELECT d FROM t) SELECT date(x) FROM c", True),
    ("SELECT julianday(CURRENT_DATE)", True),
    ("SELECT random() FROM t", True),
    ("SELECT * FROM t ORDER BY random() LIMIT 3", True),
    ("SELECT date(d, '+1 day') FROM t", False),
    ("SELECT strftime('%Y', d) FROM t WHERE d > :p", False),
    ("SELECT date(:p, '+' || :n || ' days')", False),
    ("SELECT unixepoch('2020-01-01', 'subsec')", False),
    ("SELECT julianday(a) - julianday(b) FROM t", False),
    ("SELECT COUNT(*) FROM t WHERE note = 'now'", False),
    ("SELECT abs(x), upper(y) FROM t", False),
])
def test_nondeterministic_reason(sql, bad):
    from sqlgym.db.guards import nondeterministic_reason

    assert (nondeterministic_reason(sql) is not None) == bad, nondeterministic_reason(sql)


def test_errors_are_sqlgym_errors_and_heap_limits_are_restored(db):
    import apsw as _apsw

    from sqlgym.db.readonly import ReadOnlyDatabase
    from sqlgym.db.sandbox import BudgetExceeded, MemoryBudgetExceeded
    from sqlgym.errors import SqlgymError

    assert issubclass(DeadlineExceeded, BudgetExceeded) and issubclass(MemoryBudgetExceeded, BudgetExceeded)
    assert issubclass(BudgetExceeded, AgentSQLError) and issubclass(AgentSQLError, SqlgymError)
    ro = ReadOnlyDatabase(db.snapshot.image)
    try:
        with pytest.raises(AgentSQLError):
            ro.run("SELECT 1; SELECT 2", budget=1000, max_rows=1)
        with pytest.raises(DeadlineExceeded):
            ro.run("WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) SELECT COUNT(*) FROM r",
                   budget=10**12, max_rows=1, deadline_s=0.05)
        assert ro.run("SELECT COUNT(*) FROM orders", budget=10**6, max_rows=1)[1] == [(12000,)]
    finally:
        ro.close()
    assert _apsw.hard_heap_limit(-1) == 0 and _apsw.soft_heap_limit(-1) == 0
    _apsw.soft_heap_limit(1 << 40)
    try:
        db.query("SELECT COUNT(*) FROM orders", budget=10**6)
        assert _apsw.soft_heap_limit(-1) == 1 << 40 and _apsw.hard_heap_limit(-1) == 0
    finally:
        _apsw.soft_heap_limit(0)


def test_replaced_functions_return_what_sqlite_returns(db):
    import itertools

    plain = apsw.Connection(":memory:")

    def outcome(fn, *a):
        try:
            return fn(*a)
        except UnicodeDecodeError:  # text that is not UTF-8 (from a blob) fails either way
            return "UnicodeDecodeError"

    values = [None, "", "a", "abc", "aa", "é€x", "  ab  ", "xxabxx", "a\x00b", 5, -12, 1.5, 1e20, b"abc", b"\x61\xff\x62"]
    for fn, k in (("instr", 2), ("replace", 3), ("trim", 2), ("ltrim", 2), ("rtrim", 2)):
        sql = f"SELECT {fn}({', '.join('?' * k)})"
        for args in itertools.product(values, repeat=k):
            if k == 3 and hash(args) % 7:
                continue
            got = outcome(lambda: db.query(sql, args, budget=10**6)[1])
            assert got == outcome(lambda: plain.execute(sql, args).fetchall()), (fn, args)
