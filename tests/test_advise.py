"""python -m sqlgym.advise: the advice on a file made here, its migration reproducing the advised cost, --apply."""

from __future__ import annotations

import json
import shutil
import subprocess
import warnings

import apsw
import gymnasium as gym
import pytest

from sqlgym.advise import Advice, advise, apply, migration, statements_for
from sqlgym.advise.__main__ import main
from sqlgym.errors import ConfigError, SqlgymWarning
from sqlgym.scenarios import from_sqlite
from tests.support.userdb import make_shop, sha256, write_log


def act(kind, **payload):
    return json.dumps({"action_type": kind, "payload": payload})


@pytest.fixture
def shop(tmp_path):
    return make_shop(tmp_path / "shop.db"), write_log(tmp_path / "queries.sql")


def quiet_advise(*args, **kwargs) -> Advice:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SqlgymWarning)
        return advise(*args, **kwargs)


def measured(path, log, **kwargs) -> dict[str, float]:
    """Each statement's cost on the file as it is (a noop episode's 'before')."""
    return {c.id: c.before for c in quiet_advise(path, log, "noop", **kwargs).costs}


def test_the_cli_prints_advice_writes_a_migration_and_never_touches_the_database(shop, tmp_path, capsys):
    db, log = shop
    before, mtime = sha256(db), db.stat().st_mtime_ns
    out = tmp_path / "advice.sql"
    assert main([str(db), "--workload", str(log), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Recommended changes" in text and "CREATE INDEX" in text and "total" in text and "left out" in text
    sql = out.read_text()
    assert sql.count("CREATE INDEX") >= 2 and "BEGIN;" in sql and sql.rstrip().endswith("COMMIT;")
    assert sha256(db) == before and db.stat().st_mtime_ns == mtime and not (tmp_path / "shop.db.bak").exists()


def test_json_is_for_scripts(shop, capsys):
    db, log = shop
    assert main([str(db), "--workload", str(log), "--policy", "heuristic", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["policy"] == "heuristic" and d["total_after"] < d["total_before"] and not d["applied"]
    assert {c["id"] for c in d["costs"]} == {"s1", "s2", "s3", "s4", "s5", "s6"}
    assert d["statements"] and d["migration"].startswith("-- sqlgym advise (heuristic)")
    assert any("coupons" in line for line in d["left_out"])


def test_the_migration_applied_to_a_copy_reproduces_the_advised_cost(shop, tmp_path):
    db, log = shop
    advice = quiet_advise(db, log)
    assert advice.after < 0.5 * advice.before
    (tmp_path / "advice.sql").write_text(migration(advice))
    for tool in ("apsw", "sqlite3"):
        copy = tmp_path / f"copy-{tool}.db"
        shutil.copy(db, copy)
        if tool == "apsw":
            conn = apsw.Connection(str(copy))
            conn.execute((tmp_path / "advice.sql").read_text())
            conn.close()
        elif shutil.which("sqlite3"):
            subprocess.run(["sqlite3", str(copy)], stdin=(tmp_path / "advice.sql").open(), check=True)
        else:
            continue
        assert measured(copy, log) == {c.id: c.after for c in advice.costs}  # counter for counter


def test_drops_and_analyze_on_a_file_with_statistics_are_reproduced(tmp_path):
    db = make_shop(tmp_path / "stats.db", analyze=True)
    log = write_log(tmp_path / "q.sql")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SqlgymWarning)
        s = from_sqlite(db, log)
    env = gym.make("SQLIndex-v0", scenario=s)
    env.reset(seed=0)
    for a in (act("drop_index", name="ix_orders_note"), act("create_index", table="orders", columns=["user_id"]),
              act("analyze_statistics", table="orders", refresh=True),
              act("create_index", table="orders", columns=["status", "amount"]),
              act("create_index", table="users", columns=["email"])):
        obs, *_, info = env.step(a)
        assert info["action_valid"], obs
    inner = env.unwrapped
    steps = statements_for(s, inner.db)
    assert steps[0] == 'DROP INDEX "ix_orders_note"' and steps.index('ANALYZE "orders"') == 2
    want = {q.id: inner.rt.meter.query_cost(inner.db, q, "visible") for q in s.workload}
    env.close()
    copy = tmp_path / "copy.db"
    shutil.copy(db, copy)
    conn = apsw.Connection(str(copy))
    conn.execute(";".join(steps))
    conn.close()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SqlgymWarning)
        again = from_sqlite(copy, log)
    env = gym.make("SQLIndex-v0", scenario=again)
    env.reset(seed=0)
    inner = env.unwrapped
    assert {q.id: inner.rt.meter.query_cost(inner.db, q, "visible") for q in again.workload} == want
    env.close()


def test_apply_backs_up_first_and_applies_in_one_transaction(shop, tmp_path, capsys):
    db, log = shop
    original = measured(db, log)
    assert main([str(db), "--workload", str(log), "--apply"]) == 0
    assert "applied to" in capsys.readouterr().out
    backup = tmp_path / "shop.db.bak"
    assert measured(backup, log) == original  # the copy is the database as it was
    conn = apsw.Connection(str(db))
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'index'")}
    conn.close()
    assert "ix_orders_user_id_status" in names
    # a backup is never overwritten
    assert main([str(db), "--workload", str(log), "--apply"]) == 2
    assert "exists" in capsys.readouterr().err


def test_a_failing_statement_rolls_the_whole_migration_back(shop, tmp_path):
    db, log = shop
    advice = quiet_advise(db, log)
    before = sha256(db)
    advice.statements = [advice.statements[0], 'CREATE UNIQUE INDEX "ix_bad" ON "orders" ("status")']  # duplicates
    with pytest.raises(apsw.ConstraintError):
        apply(advice, db)
    assert sha256(db) == before and (tmp_path / "shop.db.bak").exists()
    with pytest.raises(ConfigError, match="exists"):
        apply(advice, db)


def test_bad_arguments_are_clear_errors(shop, tmp_path, capsys):
    db, log = shop
    assert main([str(db), "--workload", str(log), "--policy", "gredy"]) == 2
    assert "Did you mean 'greedy'" in capsys.readouterr().err
    (tmp_path / "junk.db").write_bytes(b"not sqlite" * 100)
    assert main([str(tmp_path / "junk.db"), "--workload", str(log)]) == 2
    assert "not a SQLite database file" in capsys.readouterr().err
