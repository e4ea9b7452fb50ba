"""Text2SQL-v0 / Text2SQLDirect-v0: the contract, the judging of each kind, and hostile agent SQL."""

import dataclasses
import json
import math
import os
import subprocess
import sys

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sqlgym
import sqlgym.db.readonly
from sqlgym.envs.text2sql import ACTIONS
from sqlgym.errors import ConfigError, ScenarioNotFound
from sqlgym.policies.text2sql import GoldPolicy, SchemaHeuristicPolicy
from sqlgym.db.datasets import database_image

ANSWERABLE, CLARIFY, UNANSWERABLE = "pet_shop/004", "pet_shop/007", "pet_shop/008"


def act(kind, **payload):
    return json.dumps({"action_type": kind, "payload": payload})


def play(env, actions, seed=0, question=None):
    obs, info = env.reset(seed=seed, options={"question": question} if question else None)
    trace = [(obs, 0.0, False, False, info)]
    for a in actions:
        trace.append(env.step(a))
        if trace[-1][2] or trace[-1][3]:
            break
    return trace


@pytest.mark.parametrize("env_id", ["Text2SQL-v0", "Text2SQLDirect-v0"])
def test_check_env(env_id):
    check_env(gym.make(env_id, db_id="pet_shop").unwrapped)


def test_reset_shows_question_and_tables_only():
    env = gym.make("Text2SQL-v0", question=ANSWERABLE)
    obs, info = env.reset(seed=0)
    assert "Question: What are the five most expensive products?" in obs
    assert "Tables: customers, employees, order_items, orders, pets, products" in obs
    assert "unit_price" not in obs  # columns stay hidden until described
    assert info["db_id"] == "pet_shop" and info["question_id"] == ANSWERABLE
    assert info["kind"] == "answerable" and info["difficulty"] in ("easy", "medium", "hard", "extra")


def test_direct_shows_schema_and_takes_bare_sql():
    env = gym.make("Text2SQLDirect-v0", question=ANSWERABLE)
    obs, _ = env.reset(seed=0)
    assert "CREATE TABLE products" in obs and "unit_price REAL" in obs
    _, r, term, trunc, info = env.step("```sql\nSELECT price, name FROM products ORDER BY price DESC LIMIT 5\n```")
    assert term and not trunc and r == 1.0 and info["correct"] is True  # columns swapped is still right


def test_explore_then_answer():
    env = gym.make("Text2SQL-v0", question=ANSWERABLE)
    tr = play(env, [act("describe", table="PRODUCTS"), act("sample", table="products", n=2),
                    act("query", sql="SELECT COUNT(*) FROM products"),
                    act("answer", sql="SELECT name, price FROM products ORDER BY price DESC LIMIT 5")])
    (d, *_), (s, *_), (q, *_), (_, r, term, _, info) = tr[1:]
    assert "Table products (120 rows)" in d and "price REAL" in d
    assert "First 2 rows of products" in s
    assert "120" in q and "(1 rows)" in q
    assert term and r == 1.0 and info["correct"] and info["reward_parts"] == {"correct": 1.0}


def test_wrong_order_is_wrong_when_gold_orders():
    env = gym.make("Text2SQL-v0", question=ANSWERABLE)
    *_, (_, r, _, _, info) = play(env, [act("answer", sql="SELECT name, price FROM products ORDER BY price ASC LIMIT 5")])
    assert r == 0.0 and not info["correct"]
    *_, (_, r, _, _, info) = play(env, [act("answer", sql="SELECT name, price FROM (SELECT name, price FROM products "
                                             "ORDER BY price DESC LIMIT 5) ORDER BY price ASC")])
    assert not info["correct"] and info["set_correct"]  # right rows, wrong order


@pytest.mark.parametrize("env_id", ["Text2SQL-v0", "Text2SQLDirect-v0"])
def test_unanswerable_needs_abstention(env_id):
    env = gym.make(env_id, question=UNANSWERABLE)
    *_, (_, r, _, _, info) = play(env, [act("answer", sql="SELECT first_name FROM customers WHERE loyalty_member = 1")])
    assert r == 0.0 and not info["correct"]
    *_, (_, r, _, _, info) = play(env, [act("abstain", reason="no phone numbers")])
    assert r == 1.0 and info["correct"]


def test_clarification_must_be_asked_before_answering():
    env = gym.make("Text2SQL-v0", question=CLARIFY)
    gold = env.unwrapped.dataset.question(CLARIFY).sql
    *_, (_, r, _, _, info) = play(env, [act("answer", sql=gold)])
    assert r == 0.0 and not info["correct"]  # a lucky guess is not clarification
    tr = play(env, [act("clarify", question="best how?"), act("answer", sql=gold)])
    assert "highest total spend" in tr[1][0]
    assert tr[-1][1] == 1.0 and tr[-1][4]["correct"]


def test_clarify_on_a_clear_question_reveals_nothing():
    env = gym.make("Text2SQL-v0", question=UNANSWERABLE)
    (obs, *_), = play(env, [act("clarify")])[1:]
    assert "stands as asked" in obs


def test_direct_clarify_is_right_only_for_ambiguous_questions():
    env = gym.make("Text2SQLDirect-v0", question=CLARIFY)
    *_, (_, r, term, _, info) = play(env, [act("clarify", question="best how?")])
    assert term and r == 1.0 and info["correct"]
    env = gym.make("Text2SQLDirect-v0", question=ANSWERABLE)
    *_, (_, r, term, _, info) = play(env, [act("clarify", question="?")])
    assert term and r == 0.0 and not info["correct"]


def test_budget_truncates_as_wrong():
    env = gym.make("Text2SQL-v0", question=ANSWERABLE, max_steps=3)
    tr = play(env, [act("describe", table="products")] * 5)
    assert len(tr) == 4 and tr[-1][3] and not tr[-1][2]
    assert tr[-1][4]["correct"] is False and tr[-1][4]["answered"] is False
    obs, r, term, _, _ = env.step(act("describe", table="pets"))
    assert term and r == 0.0 and "episode is over" in obs


def test_same_seed_same_episode_in_another_process():
    code = f"""
import json, gymnasium as gym, sqlgym
env = gym.make("Text2SQL-v0", split="train", reward="shaped")
out = []
for seed in (0, 1, 2):
    obs, info = env.reset(seed=seed)
    out.append([obs, info])
    for a in {[act("describe", table="pets"), act("query", sql="SELECT COUNT(*) FROM pets"), act("answer", sql="SELECT 1")]!r}:
        out.append(list(env.step(a)))
        if out[-1][2] or out[-1][3]:
            break
print(json.dumps(out, sort_keys=True, default=str))
"""
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout for _ in range(2)]
    assert runs[0] == runs[1] and len(json.loads(runs[0])) >= 6


HOSTILE = [
    "DELETE FROM pets",
    "UPDATE products SET price = 0",
    "DROP TABLE orders",
    "CREATE TABLE evil (x)",
    "INSERT INTO customers (id) VALUES (99999)",
    "ATTACH DATABASE 'sqlgym_evil.db' AS evil",
    "VACUUM INTO 'sqlgym_evil.db'",
    "PRAGMA query_only = 0",
    "PRAGMA writable_schema = 1",
    "SELECT load_extension('libevil')",
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT COUNT(*) FROM c",
    "SELECT COUNT(*) FROM customers, employees, products, pets, orders, order_items",
    "SELECT randomblob(1000000000)",
    "SELECT 1; DELETE FROM pets",
    "CREATE TEMP TABLE t AS SELECT * FROM pets",
    "REPLACE INTO pets (id, name) VALUES (1, 'x')",
    "SELECT * FROM sqlite_schema; DROP TABLE pets",
]


@pytest.mark.parametrize("kind", ["query", "answer"])
def test_hostile_sql_is_refused_and_changes_nothing(kind, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = gym.make("Text2SQL-v0", question=ANSWERABLE)
    before = set(os.listdir(tmp_path))
    for sql in HOSTILE:
        env.reset(seed=0)
        obs, r, term, trunc, info = env.step(act(kind, sql=sql))
        assert isinstance(obs, str) and math.isfinite(r)
        if kind == "query":
            assert not info["action_valid"] and obs.startswith("Error:"), sql
        else:
            assert term and not info["correct"], sql
    assert set(os.listdir(tmp_path)) == before  # no file appeared
    db = env.unwrapped.db
    assert db.conn.serialize("main") == database_image("pet_shop")  # not one byte changed
    *_, (_, r, _, _, info) = play(env, [act("answer", sql="SELECT name, price FROM products ORDER BY price DESC LIMIT 5")])
    assert info["correct"]  # and the env still works


payloads = st.dictionaries(st.sampled_from(["table", "n", "sql", "question", "reason", "x"]),
                           st.one_of(st.text(max_size=40), st.integers(-5, 50), st.none(), st.booleans()), max_size=3)
actions = st.one_of(
    st.text(max_size=200),
    st.builds(lambda k, p: json.dumps({"action_type": k, "payload": p}), st.sampled_from(sorted(ACTIONS) + ["drop"]), payloads),
    st.builds(lambda k, s: act(k, sql=s), st.sampled_from(["query", "answer"]),
              st.sampled_from(HOSTILE) | st.text(alphabet="SELECT*FROM pets;'\"()-/ ", max_size=60)),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(actions, min_size=1, max_size=6), st.sampled_from(["Text2SQL-v0", "Text2SQLDirect-v0"]))
def test_random_and_hostile_actions_never_crash(seq, env_id):
    env = gym.make(env_id, question=CLARIFY, reward="shaped")
    obs, _ = env.reset(seed=0)
    total = 0.0
    for a in seq:
        obs, r, term, trunc, info = env.step(a)
        assert env.observation_space.contains(obs)
        assert math.isfinite(r) and set(info["reward_parts"]) <= {"correct", "invalid", "runs", "row_f1", "step_cost",
                                                                   "repeat", "abstention", "clarification"}
        total += r
        if term or trunc:
            break
    if not info.get("correct"):
        assert total < 0.3  # shaping never pays like a right answer


def test_shaped_reward_logs_parts_and_stays_below_correct():
    env = gym.make("Text2SQL-v0", question=CLARIFY, reward="shaped")
    gold = env.unwrapped.dataset.question(CLARIFY).sql
    tr = play(env, [act("clarify", question="?"), act("clarify", question="?"), act("answer", sql=gold)])
    parts = [t[4]["reward_parts"] for t in tr[1:]]
    assert parts[0]["clarification"] > 0 and parts[1]["repeat"] < 0 and parts[1]["clarification"] == 0
    assert parts[2]["correct"] == 1.0 and parts[2]["runs"] > 0 and parts[2]["row_f1"] > 0
    custom = gym.make("Text2SQL-v0", question=CLARIFY, reward={"correct": 2.0, "step_cost": 0.5})
    *_, (_, r, *_) = play(custom, [act("clarify"), act("answer", sql=gold)])
    assert r == pytest.approx(2.0 - 0.5)


def test_user_errors_are_clear():
    with pytest.raises(ScenarioNotFound, match="did you mean|Did you mean"):
        gym.make("Text2SQL-v0", question="pet_shop/0004")
    with pytest.raises(ConfigError, match="spider:<dir>"):
        gym.make("Text2SQL-v0", dataset="spdr:/nowhere")
    with pytest.raises(ConfigError, match="Did you mean 'test'"):
        gym.make("Text2SQL-v0", split="tset")
    with pytest.raises(ConfigError, match="reward"):
        gym.make("Text2SQL-v0", reward="shapd")
    with pytest.raises(ConfigError, match="one step"):
        gym.make("Text2SQLDirect-v0", max_steps=3)


def test_schema_heuristic_never_reads_the_gold():
    env = gym.make("Text2SQL-v0", db_id="pet_shop")
    for qid in sqlgym.list_scenarios("Text2SQL-v0", dataset="sqlgym")[:40]:
        q = env.unwrapped.dataset.question(qid)
        if q.db_id != "pet_shop":
            continue
        runs = []
        for question in (q, dataclasses.replace(q, sql="SELECT 'poison'", kind="answerable", clarification=None)):
            pol, (obs, info) = SchemaHeuristicPolicy(), env.reset(seed=0, options={"question": qid})
            pol.reset(question, seed=0)
            seq = []
            for _ in range(15):
                a = pol.act(obs, info)
                seq.append(a)
                obs, _, term, trunc, info = env.step(a)
                if term or trunc:
                    break
            runs.append(seq)
        assert runs[0] == runs[1], qid


def test_gold_explore_makes_a_full_trajectory():
    env = gym.make("Text2SQL-v0", question=CLARIFY)
    pol, (obs, info) = GoldPolicy(explore=True), env.reset(seed=0)
    pol.reset(env.unwrapped.question, seed=0)
    kinds = []
    while True:
        a = pol.act(obs, info)
        kinds.append(json.loads(a)["action_type"])
        obs, r, term, trunc, info = env.step(a)
        if term or trunc:
            break
    assert kinds[0] == "clarify" and "describe" in kinds and kinds[-2:] == ["query", "answer"] and info["correct"]


@pytest.mark.parametrize("layout", ["spider", "bird"])
def test_benchmark_folders_score_through_the_env(layout, tmp_path):
    from sqlgym.eval import harness
    from tests.test_loaders import make_bird_folder, make_spider_folder

    folder = (make_spider_folder if layout == "spider" else make_bird_folder)(tmp_path)
    dataset = f"{layout}:{folder}"
    env = gym.make("Text2SQL-v0", dataset=dataset, split="validation")
    obs, info = env.reset(seed=0)
    assert "Question:" in obs and info["kind"] == "answerable"
    if layout == "bird":
        q = next(q for q in env.unwrapped.dataset.questions("validation") if q.evidence)
        obs, _ = env.reset(seed=0, options={"question": q.id})
        assert f"Evidence: {q.evidence}" in obs
    for policy, want in (("gold", 1.0), ("random", None)):
        res = harness.run(policy, "validation", env_id="Text2SQL-v0", dataset=dataset)
        assert res["summary"]["questions"] == len(env.unwrapped.dataset.questions("validation"))
        if want is not None:
            assert res["summary"]["ex"] == want
    direct = gym.make("Text2SQLDirect-v0", dataset=dataset, split="validation")
    obs, _ = direct.reset(seed=0)
    assert "CREATE TABLE" in obs


@pytest.mark.parametrize("sql,n", [("SELECT 1", 1), ("SELECT 1;", 1), ("SELECT 1; SELECT 2", 2), ("SELECT ';' FROM t", 1),
                                   ("SELECT 1 -- ; x\n", 1), ("SELECT 1 /* ; */", 1), ('SELECT "a;b" FROM t', 1),
                                   ("SELECT 'it''s; fine'", 1), ("SELECT 1; -- trailing", 1), ("", 0), (";;", 0)])
def test_statement_count_follows_sqlite_lexing(sql, n):
    from sqlgym.db.readonly import statement_count

    assert statement_count(sql) == n


def test_shipped_data_meets_its_promises():
    from collections import Counter

    from sqlgym.db.datasets import load_dataset
    from sqlgym.scenarios.text2sql.builtin import DATABASES, TEST_DATABASE

    data = load_dataset("sqlgym")
    qs = data.questions()  # loading executes and checks every gold query
    kinds = Counter(q.kind for q in qs)
    assert len(DATABASES) >= 4 and len(qs) >= 250
    assert kinds["clarification"] >= 0.1 * len(qs) and kinds["unanswerable"] >= 0.1 * len(qs)
    assert set(Counter(q.difficulty for q in qs)) == {"easy", "medium", "hard", "extra"}
    assert {q.db_id for q in data.questions("test")} == {TEST_DATABASE}  # one database held out entirely
    for split in ("train", "validation"):
        dbs = {q.db_id for q in data.questions(split)}
        assert TEST_DATABASE not in dbs and len(dbs) == len(DATABASES) - 1
    for db in DATABASES:
        image = data.image(db)
        tables = sqlgym.db.readonly.ReadOnlyDatabase(image)
        total = sum(tables.row_count(t) for t in tables.tables)
        assert 2_000 <= total <= 20_000, (db, total)
        assert any(tables.foreign_keys(t) for t in tables.tables), db


def test_databases_are_the_same_in_another_process():
    code = ("import hashlib; from sqlgym.scenarios.text2sql.builtin import DATABASES; from sqlgym.db.datasets import database_image; "
            "print([hashlib.sha256(database_image(d)).hexdigest() for d in DATABASES])")
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout for _ in range(2)}
    assert len(runs) == 1


@pytest.mark.parametrize("env_id", ["SQLIndex-v0", "Text2SQL-v0"])
@pytest.mark.parametrize("kind", [["describe"], {"a": 1}, 3, None])
def test_unhashable_or_odd_action_type_is_an_observation(env_id, kind):
    env = gym.make(env_id)
    env.reset(seed=0)
    obs, r, *_, info = env.step(json.dumps({"action_type": kind, "payload": {}}))
    assert obs.startswith("Error:") and not info["action_valid"] and math.isfinite(r)
