"""SQLIndex-v0 on a user's SQLite file and workload log: from_sqlite, the sqlite:// id, bad input, size, samples."""

from __future__ import annotations

import json
import warnings
from urllib.parse import quote

import apsw
import gymnasium as gym
import pytest

import sqlgym
from sqlgym.db.cost import WORKLOAD_BUDGET, WorkloadMeter
from sqlgym.db.runtime import runtime_for
from sqlgym.db.sqlite import Database
from sqlgym.errors import ScenarioError, SqlgymError, SqlgymWarning
from sqlgym.eval import harness
from sqlgym.scenarios import from_sqlite
from sqlgym.scenarios.querylog import normalize
from sqlgym.scenarios.spec import fingerprint
from sqlgym.types import IndexSpec
from tests.support.userdb import make_shop, sha256, write_log


def act(kind, **payload):
    return json.dumps({"action_type": kind, "payload": payload})


@pytest.fixture
def shop(tmp_path):
    return make_shop(tmp_path / "shop.db"), write_log(tmp_path / "queries.sql")


def quiet(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SqlgymWarning)
        return from_sqlite(*args, **kwargs)


def test_logged_statements_become_templates_with_observed_bindings(shop):
    db, log = shop
    with pytest.warns(SqlgymWarning) as w:
        s = from_sqlite(db, log)
    text = str(w[0].message)
    # junk lines, a missing table and a transaction statement are left out, each named with its line
    assert "queries.sql:2: not SQL" in text and "queries.sql:14: not SQL" in text
    assert "coupons" in text and "the database does not have" in text and "BEGIN" in text
    q = {x.id: x for x in s.workload}
    assert [x.kind for x in s.workload] == ["select"] * 4 + ["dml"] * 2
    assert q["s1"].sql == "SELECT id, country FROM users WHERE email = :p1" and q["s1"].weight == 3
    assert q["s2"].weight == 23  # "-- weight: 20" on the first, then three more
    assert q["s4"].tables == {"orders"}  # read through the view 'paid'
    seen = s.source.visible["s2"] + s.source.hidden["s2"]
    assert sorted((b["p1"], b["p2"]) for b in seen) == [(7, "done"), (42, "paid"), (99, "new"), (123, "paid")]
    assert len(s.source.visible["s2"]) == 2  # visible=0.5 of four
    # the file's plain index is the starting state (droppable); the expression index stays as it is
    assert [ix.name for ix in s.indexes] == ["ix_orders_note"]
    assert "ix_lower_email" in s.description
    assert s.id == f"sqlite://{quote(str(db))}?workload={quote(str(log))}"
    assert [t.name for t in s.schema] == ["users", "orders", "events"] and s.table("orders").rows == 3000


def test_normalize_keeps_positions_and_projection_literals():
    sql, values, kind = normalize("SELECT a, 1 FROM t JOIN u ON u.x = t.y AND u.z = 'k' WHERE t.q IN "
                                  "(SELECT b FROM v WHERE c = 5) GROUP BY 1 HAVING COUNT(*) > 3 LIMIT 10")
    assert sql == ("SELECT a, 1 FROM t JOIN u ON u.x = t.y AND u.z = :p1 WHERE t.q IN (SELECT b FROM v WHERE c = :p2) "
                   "GROUP BY 1 HAVING COUNT(*) > :p3 LIMIT :p4")
    assert values == ("k", 5, 3, 10) and kind == "select"
    assert normalize("UPDATE t SET a = -2.5 WHERE id = 3")[:2] == ("UPDATE t SET a = :p1 WHERE id = :p2", (-2.5, 3))


def test_the_uri_form_plays_and_the_file_never_changes(shop):
    db, log = shop
    before = sha256(db)
    sid = f"sqlite://{db}?workload={log}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SqlgymWarning)
        assert sqlgym.load_scenario(sid).id == sid
        env = gym.make("SQLIndex-v0", scenario=sid)
        obs, info = env.reset(seed=0)
    assert "shop.db" in obs and "users (600 rows), orders (3,000 rows), events (1,000 rows)" in obs
    for a in [act("drop_index", name="ix_orders_note"), act("create_index", table="orders", columns=["user_id", "status"]),
              act("analyze_statistics", table="orders", refresh=True), act("list_queries"), act("submit_report")]:
        obs, r, term, trunc, info = env.step(a)
        assert info["action_valid"], obs
    assert info["cost"] < info["baseline_cost"] and info["hidden_gap_closed"] > 0.5
    env.close()
    assert sha256(db) == before  # opened read-only; DDL and the workload's writes only ever touched memory
    conn = apsw.Connection(str(db))
    assert conn.execute("SELECT COUNT(*) FROM orders").fetchone()[0] == 3000
    conn.close()


def test_records_replay_and_the_baselines_run(shop):
    db, log = shop
    sid = f"sqlite://{db}?workload={log}&seed=3"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SqlgymWarning)
        runs = {p: harness.run(p, scenario=sid, episodes=1) for p in ("noop", "heuristic", "greedy")}
        assert harness.validate(runs["greedy"]) == []
    assert runs["noop"]["summary"]["mean_gap_closed"] == 0.0
    assert runs["greedy"]["summary"]["mean_gap_closed"] == pytest.approx(1.0)
    assert runs["greedy"]["records"][0]["final"]["difficulty"] == "user"


def test_recreating_a_file_index_costs_what_the_file_index_cost(shop):
    db, log = shop
    s = quiet(db, log)
    rt = runtime_for(s)
    d = Database(rt.snapshot, s)
    try:
        before = rt.meter.workload_cost(d, "visible")
        spec = s.indexes[0]
        d.drop_index("ix_orders_note")
        d.create_index(spec, "ix_orders_note")
        assert rt.meter.workload_cost(d, "visible") == before and len(rt.meter.cache) > 0
        d.restore()
        rt.meter.cache.clear()
        assert rt.meter.workload_cost(d, "visible") == before  # measured again from the image: the same B-tree
    finally:
        d.close()


def test_the_second_instance_holds_the_same_rows_in_another_order(shop):
    db, _ = shop
    s = quiet(db, ["SELECT id FROM orders WHERE note = 'n5' LIMIT 3", "SELECT kind FROM events WHERE user_id = 4"])
    rt = runtime_for(s)
    a, b = Database(rt.snapshot, s), Database(rt.second_snapshot, s)
    try:
        for table in ("orders", "events"):
            rows = f"SELECT * FROM {table}"
            got = [sorted(d.query(rows, budget=None, mode="admin")[1], key=repr) for d in (a, b)]
            assert got[0] == got[1] and len(got[0]) > 900
        stored = "SELECT rowid, user_id, kind, at FROM events"  # a table without an INTEGER PRIMARY KEY: rows moved
        assert a.query(stored, budget=None, mode="admin")[1] != b.query(stored, budget=None, mode="admin")[1]
    finally:
        a.close()
        b.close()
    env = gym.make("SQLIndex-v0", scenario=s)
    env.reset(seed=0)
    # the first three by id are the first three scanned here, not on the second instance (scans reversed there)
    obs, _, _, _, info = env.step(act("rewrite_query", query_id="s1",
                                      new_sql="SELECT id FROM orders WHERE note = :p1 ORDER BY id LIMIT :p2"))
    assert not info["action_valid"] and "a second instance of the database" in obs
    obs, _, _, _, info = env.step(act("rewrite_query", query_id="s2",
                                      new_sql="SELECT kind FROM events WHERE user_id = :p1 AND 1 = 1"))
    assert info["action_valid"], obs
    env.close()


def test_a_changed_file_is_a_new_scenario_with_its_own_reference(shop):
    db, log = shop
    a = quiet(db, log)
    conn = apsw.Connection(str(db))
    conn.execute("INSERT INTO orders(user_id, status, amount, note) VALUES (1, 'new', 1.0, 'n2')")
    conn.close()
    b = quiet(db, log)
    assert a.source.sha256 != b.source.sha256 and fingerprint(a) != fingerprint(b)
    assert b.table("orders").rows == 3001


@pytest.mark.parametrize("damage, why", [("empty", "empty"), ("text", "not a SQLite database file"),
                                         ("header", "SQLite cannot read it"), ("truncated", "malformed")])
def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path, damage, why):
    good = make_shop(tmp_path / "good.db").read_bytes()
    content = {"empty": b"", "text": b"hello, not a database\n" * 50,
               "header": good[:16] + b"\xff" * 84 + good[100:], "truncated": good[:6000]}[damage]
    bad = tmp_path / "bad.db"
    bad.write_bytes(content)
    log = write_log(tmp_path / "q.sql", "SELECT id FROM orders WHERE note = 'n1';")
    with pytest.raises(ScenarioError, match=why):
        from_sqlite(bad, log)
    with pytest.raises(ScenarioError, match="no such file"):
        from_sqlite(tmp_path / "missing.db", log)


def test_a_workload_with_nothing_usable_or_no_reads_is_an_error(shop):
    db, _ = shop
    with pytest.raises(ScenarioError, match="(?s)no statement that can be measured.*does not have: coupons"):
        from_sqlite(db, ["SELECT * FROM coupons WHERE code = 'a'", "this is junk"])
    with pytest.raises(ScenarioError, match="no reads"):
        from_sqlite(db, ["UPDATE orders SET status = 'x' WHERE id = 5"])
    with pytest.raises(SqlgymError, match="visible"):
        from_sqlite(db, ["SELECT 1 FROM orders WHERE id = 1"], visible=0)


def test_a_csv_export_with_calls_weights_its_templates(shop, tmp_path):
    db, _ = shop
    csv = tmp_path / "stats.csv"
    csv.write_text('query,calls,total_time\n"SELECT id FROM orders WHERE note = \'n5\'",120,3.5\n'
                   '"SELECT id FROM orders WHERE note = \'n9\'",30,1.0\nnot a row,xx,1\n'
                   '"SELECT id FROM orders WHERE user_id = $1",10,0.2\n')
    with pytest.warns(SqlgymWarning, match="not a number"):
        s = from_sqlite(db, csv)
    assert [(q.sql, q.weight) for q in s.workload] == [("SELECT id FROM orders WHERE note = :p1", 150.0)]
    assert "$1" in " ".join(s.source.skipped)  # a parameter without a value cannot be measured


def test_a_statement_too_slow_for_the_budget_is_left_out(shop):
    db, _ = shop
    cross = "SELECT COUNT(*) FROM orders a, orders b, orders c WHERE a.amount > 1 AND b.amount > c.amount"
    with pytest.warns(SqlgymWarning, match="per-statement budget"):
        s = from_sqlite(db, ["SELECT id FROM orders WHERE note = 'n1'", cross])
    assert len(s.workload) == 1


def test_a_file_over_the_size_limit_asks_for_a_sample(shop):
    db, log = shop
    with pytest.raises(ScenarioError, match=r"over the limit.*sample=0\.1"):
        quiet(db, log, max_bytes=10_000)
    s = quiet(db, log, max_bytes=10_000, sample=0.25)
    assert 600 < s.table("orders").rows < 900 and 100 < s.table("users").rows < 200
    assert quiet(db, log, max_bytes=10_000, sample=0.25).table("orders").rows == s.table("orders").rows
    env = gym.make("SQLIndex-v0", scenario=s)
    obs, _ = env.reset(seed=0)
    assert "orders (" in obs
    env.close()
    sid = f"sqlite://{db}?workload={log}&sample=0.25&max_bytes=10000"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SqlgymWarning)
        assert sqlgym.load_scenario(sid).table("orders").rows == s.table("orders").rows


def test_the_files_statistics_are_kept_and_wal_frames_are_read(tmp_path):
    db = make_shop(tmp_path / "stats.db", analyze=True)
    conn = apsw.Connection(str(db))
    try:
        want = sorted(conn.execute("SELECT tbl, idx, stat FROM sqlite_stat1"))
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        conn.execute("INSERT INTO orders(user_id, status, amount, note) VALUES (1, 'new', 1.0, 'n2')")
        assert (tmp_path / "stats.db-wal").stat().st_size > 0
        s = quiet(db, ["SELECT id FROM orders WHERE note = 'n3'"])
        assert s.table("orders").rows == 3001  # the committed row in the -wal
        d = Database(runtime_for(s).snapshot, s)
        assert sorted(d.query("SELECT tbl, idx, stat FROM sqlite_stat1", budget=None, mode="admin")[1]) == want
        d.close()
        assert quiet(db, ["SELECT id FROM orders WHERE note = 'n3'"], statistics="analyze").statistics.policy == "analyze"
    finally:
        conn.close()


def test_a_bad_uri_says_what_the_form_is(shop):
    db, log = shop
    with pytest.raises(ScenarioError, match="three slashes"):
        sqlgym.load_scenario(f"sqlite://relative/{db.name}?workload={log}")
    with pytest.raises(ScenarioError, match="name the workload"):
        sqlgym.load_scenario(f"sqlite://{db}")
    with pytest.raises(ScenarioError, match="unknown option 'sed'"):
        sqlgym.load_scenario(f"sqlite://{db}?workload={log}&sed=1")


def test_an_index_no_plan_uses_is_judged_without_running_the_reads_and_costs_stay_exact(shop):
    db, log = shop
    s = quiet(db, log)
    rt = runtime_for(s)
    d = Database(rt.snapshot, s)
    try:
        meter = WorkloadMeter(s)
        before = {q.id: meter.query_cost(d, q, "visible") for q in s.workload}
        runs = set(meter.runs)
        d.create_index(IndexSpec("orders", ("amount",)), "ix_amount")  # s1 on users cannot use it; s2 keeps its plan
        after = {q.id: meter.query_cost(d, q, "visible") for q in s.workload}
        for q in s.workload:  # every number is what a fresh execution measures
            fresh = [d.measure(q.sql, b, dml=q.kind == "dml", budget=WORKLOAD_BUDGET).cost for b in rt.snapshot.visible[q.id]]
            assert after[q.id] == sum(fresh) / len(fresh)
        assert after["s1"] == before["s1"] and after["s2"] == before["s2"]
        sql = {q.id: q.sql for q in s.workload}
        # only the reads whose plans use the new index ran again: the range on amount, direct and through the view
        assert {k[0] for k in set(meter.runs) - runs} == {sql["s3"], sql["s4"]}
    finally:
        d.close()


def test_a_statement_an_index_makes_too_slow_costs_the_budget(shop):
    db, log = shop
    s = quiet(db, log)
    d = Database(runtime_for(s).snapshot, s)
    try:
        meter = WorkloadMeter(s)
        q = next(x for x in s.workload if x.id == "s3")
        assert meter.query_cost(d, q, "visible", budget=5_000) == 5_000 and "s3" in meter.capped
        assert meter.query_cost(d, q, "visible", "SELECT status, COUNT(*) FROM orders WHERE amount > :p1 AND 1 = 1 "
                                "GROUP BY status ORDER BY status", budget=5_000) == 5_000  # the rewrite falls back
    finally:
        d.close()
