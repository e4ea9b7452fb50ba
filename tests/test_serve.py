"""``python -m sqlgym.serve`` and its clients: remote episodes equal in-process ones bit for bit, sessions
are isolated and bounded (capacity, idle reaping, hostile SQL, a failing session), and the server is
reachable only as configured (loopback by default, a token when set). Servers run on a thread of this
process, on 127.0.0.1 and a free port; the load test runs the CLI in a subprocess."""

from __future__ import annotations

import json
import math
import threading
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import sqlgym  # noqa: F401 - registers the ids
from sqlgym.errors import ConfigError
from sqlgym.integrations.wire import decode, encode, space_from_json, space_to_json

ROOT = Path(__file__).resolve().parents[1]


def same(a, b) -> bool:
    """Equal values of the same types; floats and arrays bit for bit."""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        if a.dtype == object:  # the cells are objects: compare them, not their addresses
            return b.dtype == object and a.shape == b.shape and same(a.ravel().tolist(), b.ravel().tolist())
        return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    if isinstance(a, np.generic):
        return a.dtype == b.dtype and a.tobytes() == b.tobytes()
    if isinstance(a, float):
        return a.hex() == b.hex() or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


# -- the wire (no server) ---------------------------------------------------------------------------
def test_the_wire_gives_back_the_same_values_and_types():
    rng = np.random.default_rng(0)
    floats = [float(x) for x in rng.standard_normal(200) * 10.0 ** rng.integers(-300, 300, 200)]
    value = {
        "floats": floats + [0.1, 1 / 3, -0.0, 5e-324, 1.7976931348623157e308, math.inf, -math.inf, math.nan],
        "ints": [0, -1, 2**70, True, False, None], "text": ["plain", "naïve ☃", "lone \ud800 surrogate"],
        "mask": np.array([True, False, True]), "obs": rng.random(7).astype(np.float32), "ids": np.arange(3),
        "scalars": [np.float32(0.1), np.int64(7), np.bool_(True), np.float64(2.5)],
        "tuple": (1, ("a", 2.0)), "int_keys": {1: "a", (2, 3): "b"}, "tag_like": {"__tuple__": [1]}, "empty": {},
    }
    back = decode(json.loads(json.dumps(encode(value), allow_nan=False)))
    assert same(back, value)
    for space in (gym.spaces.Text(16000, min_length=1), gym.spaces.Discrete(73),
                  gym.spaces.Box(0.0, 10.0, (1004,), dtype=np.float32)):
        again = space_from_json(json.loads(json.dumps(space_to_json(space))))
        assert again == space
    with pytest.raises(TypeError, match="cannot send a set"):
        encode({1, 2})


def test_a_non_loopback_bind_needs_the_flag_and_warns_without_a_token(capsys):
    from sqlgym.serve.__main__ import main
    from sqlgym.serve.access import check_bind, is_loopback

    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.0.0.5") and not is_loopback("example.com")
    assert main(["--host", "0.0.0.0", "--port", "0"]) == 2
    assert "--allow-remote" in capsys.readouterr().err
    assert "without a token" in check_bind("0.0.0.0", True, None)
    assert check_bind("0.0.0.0", True, "s3cret") is None and check_bind("127.0.0.1", False, None) is None
    assert main(["--env", "SQLindex-v0"]) == 2 and "Did you mean 'SQLIndex-v0'" in capsys.readouterr().err
    assert main(["--env-kwargs", "[1]"]) == 2 and "JSON object" in capsys.readouterr().err


def test_import_sqlgym_and_gym_make_never_import_openenv():
    import subprocess
    import sys

    code = ("import sys, sqlgym, gymnasium as gym; gym.make('Text2SQLDirect-v0', question='pet_shop/001'); "
            "print(sorted(m for m in ('openenv', 'fastapi', 'uvicorn', 'websockets', 'gradio') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# -- servers on this process ------------------------------------------------------------------------
pytest.importorskip("openenv")

from sqlgym.integrations.openenv import (  # noqa: E402
    RemoteEnv,
    ServerBusy,
    SessionExpired,
    SQLGymClient,
    Unauthorized,
)
from sqlgym.serve.app import RunningServer, make_app  # noqa: E402


@pytest.fixture(scope="module")
def servers():
    """``servers(env_id, **make_app kwargs)`` -> a RunningServer (one per configuration, closed at the end)."""
    running: dict = {}

    def get(env_id="SQLIndex-v0", **kw):
        key = (env_id, json.dumps(kw, sort_keys=True))
        if key not in running:
            running[key] = RunningServer(make_app(env_id, **kw))
        return running[key]

    yield get
    for srv in running.values():
        srv.close()


INDEX = ["list_tables", {"action_type": "list_queries", "payload": {}},
         {"action_type": "create_index", "payload": {"table": "customers", "columns": ["email"]}},
         "not json", {"action_type": "drop_index", "payload": {"name": "nope"}}, ["a", "list"], 7,
         {"action_type": "analyze_indexes", "payload": {}},
         {"action_type": "submit_report", "payload": {"summary": "email lookups"}}]
TEXT = [{"action_type": "describe", "payload": {"table": "customers"}},
        {"action_type": "query", "payload": {"sql": "SELECT COUNT(*) FROM customers"}},
        {"action_type": "query", "payload": {"sql": "SELECT nope FROM customers"}},
        {"action_type": "query", "payload": {"sql": "SELECT 1 / 3.0, 2.5e-300, x'00ff'"}},
        "{broken", {"action_type": "answer", "payload": {"sql": "SELECT COUNT(*) FROM customers"}}]
CASES = {  # env id -> (constructor kwargs, reset seeds, actions)
    "SQLIndex-v0": ({"scenario": "easy/point_lookup"}, [3, 4], [json.dumps(a) if isinstance(a, dict) else a for a in INDEX]),
    "Text2SQL-v0": ({"question": "pet_shop/001"}, [0, 1], TEXT),
    "Text2SQLDirect-v0": ({"question": "pet_shop/001"}, [0], ["SELECT COUNT(*) FROM customers"]),
    "SQLIndexDiscrete-v0": ({"scenario": "easy/point_lookup"}, [5, 6], [0, 1, np.int64(2), -1, 10_000, "x", 72]),
}


def episode(env, seeds, actions, options=None) -> list:
    out = []
    for seed in seeds:
        out.append(env.reset(seed=seed, options=options))
        for a in actions:
            step = env.step(a)
            out.append(step)
            if step[2] or step[3]:
                break
    if hasattr(env.unwrapped, "action_masks"):
        out.append(env.unwrapped.action_masks())
    env.close()
    return out


@pytest.mark.parametrize("env_id", list(CASES))
def test_a_remote_env_gives_what_the_env_in_this_process_gives(servers, env_id):
    kwargs, seeds, actions = CASES[env_id]
    srv = servers(env_id)
    local = episode(gym.make(env_id, **kwargs), seeds, actions)
    remote = episode(gym.make(env_id, remote=srv.url, **kwargs), seeds, actions)
    assert same(remote, local)
    assert isinstance(gym.make(env_id, remote=srv.url, **kwargs).unwrapped, RemoteEnv)


def test_only_wall_time_keys_differ(servers):
    srv = servers("SQLIndex-v0", env_kwargs={"record_wall_time": True})
    kwargs, seeds, actions = CASES["SQLIndex-v0"]
    local = episode(gym.make("SQLIndex-v0", record_wall_time=True, **kwargs), seeds, actions)
    remote = episode(gym.make("SQLIndex-v0", remote=srv.url, record_wall_time=True, **kwargs), seeds, actions)
    for out in (local, remote):
        for step in out:
            if len(step) == 5:
                assert isinstance(step[4].pop("wall_ms"), float)  # the server's own timing, for humans
    assert same(remote, local)


def test_the_client_returns_openenv_step_results(servers):
    srv = servers("SQLIndex-v0")
    env = gym.make("SQLIndex-v0", scenario="medium/leading_wildcard")
    obs, info = env.reset(seed=1)
    with SQLGymClient(srv.url).sync() as client:
        first = client.reset(seed=1, scenario="medium/leading_wildcard")
        assert first.observation.text == obs and same(first.observation.metadata, info) and not first.done
        action = '{"action_type": "submit_report", "payload": {"summary": "nothing to do"}}'
        result = client.step(action)
        o, r, term, trunc, info = env.step(action)
        assert (result.observation.text, result.reward, result.done) == (o, r, term or trunc)
        assert same(result.observation.metadata, info) and result.observation.terminated
        state = client.state()
        assert state.env_id == "SQLIndex-v0" and state.step_count == 1 and state.item == "scenario"


def test_remote_constructor_arguments_must_be_the_servers(servers):
    srv = servers("Text2SQL-v0")
    with pytest.raises(ConfigError, match="--env-kwargs"):
        gym.make("Text2SQL-v0", remote=srv.url, question="pet_shop/001", reward="shaped")
    with pytest.raises(ConfigError, match="serves Text2SQL-v0, not SQLIndex-v0"):
        gym.make("SQLIndex-v0", remote=srv.url)
    shaped = servers("Text2SQL-v0", env_kwargs={"reward": "shaped"})
    env = gym.make("Text2SQL-v0", remote=shaped.url, question="pet_shop/001", reward="shaped", dataset="sqlgym")
    env.reset(seed=0)
    _, r, *_ = env.step('{"action_type": "abstain", "payload": {"reason": "x"}}')
    env.close()
    local = gym.make("Text2SQL-v0", question="pet_shop/001", reward="shaped")
    local.reset(seed=0)
    assert r == local.step('{"action_type": "abstain", "payload": {"reason": "x"}}')[1]


def test_sixteen_concurrent_sessions_each_get_their_own_episode(servers):
    srv = servers("SQLIndex-v0", max_sessions=16)
    ids = ["easy/point_lookup", "medium/leading_wildcard"]
    jobs = [(ids[i % 2], i) for i in range(16)]
    actions = CASES["SQLIndex-v0"][2][:3] + ['{"action_type": "list_tables", "payload": {}}'] * 3
    expected = {j: episode(gym.make("SQLIndex-v0", scenario=j[0]), [j[1]], actions) for j in set(jobs)}
    got: dict = {}
    barrier = threading.Barrier(16)

    def play(job):
        env = gym.make("SQLIndex-v0", remote=srv.url, scenario=job[0])
        barrier.wait()  # all sixteen sessions open at once
        got[job] = episode(env, [job[1]], actions)

    threads = [threading.Thread(target=play, args=(j,)) for j in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(got) == 16 and all(same(got[j], expected[j]) for j in jobs)
    _wait(lambda: srv.sessions.active_sessions == 0, 10)  # every session closed with its env


def test_over_capacity_is_an_error_to_that_client_only(servers):
    srv = servers("Text2SQLDirect-v0", max_sessions=2)
    a = gym.make("Text2SQLDirect-v0", remote=srv.url, question="pet_shop/001")
    b = gym.make("Text2SQLDirect-v0", remote=srv.url, question="pet_shop/001")
    t0 = time.perf_counter()
    with pytest.raises(ServerBusy, match="--max-sessions"):
        gym.make("Text2SQLDirect-v0", remote=srv.url, question="pet_shop/001")
    assert time.perf_counter() - t0 < 5
    for env in (a, b):
        env.reset(seed=0)
        assert env.step("SELECT COUNT(*) FROM customers")[1] == 1.0  # the two sessions go on
    a.close()
    c = gym.make("Text2SQLDirect-v0", remote=srv.url, question="pet_shop/001")  # a freed slot is usable
    c.reset(seed=0)
    b.close()
    c.close()


def test_idle_sessions_are_reaped_and_a_dropped_socket_frees_its_slot(servers):
    from websockets.sync.client import connect

    srv = servers("Text2SQLDirect-v0", max_sessions=1, session_timeout=0.5)
    env = gym.make("Text2SQLDirect-v0", remote=srv.url, question="pet_shop/001")
    env.reset(seed=0)
    _wait(lambda: srv.sessions.active_sessions == 0, 5)  # idle: reaped
    with pytest.raises(SessionExpired, match="session-timeout"):
        env.step("SELECT 1")
    obs, _ = env.reset(seed=0)  # a reset opens a new session
    assert "pet_shop" in obs
    env.close()
    with connect(srv.url.replace("http", "ws") + "/ws") as ws:  # connects, then never speaks
        _wait(lambda: srv.sessions.active_sessions == 1, 5)
        _wait(lambda: srv.sessions.active_sessions == 0, 5)
        assert "session-timeout" in json.loads(ws.recv(timeout=5))["data"]["message"]  # told why, then closed
    with connect(srv.url.replace("http", "ws") + "/ws") as ws:
        ws.send(json.dumps({"type": "reset", "data": {"seed": 0}}))
        assert json.loads(ws.recv(timeout=10))["type"] == "observation"
        ws.socket.close()  # dropped without a close handshake
        _wait(lambda: srv.sessions.active_sessions == 0, 5)


def _wait(cond, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


HOSTILE = ["WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
           "ATTACH DATABASE '/tmp/sqlgym-attack.db' AS evil", "SELECT load_extension('/tmp/evil.so')",
           "DELETE FROM customers", "PRAGMA writable_schema = 1", "DROP TABLE customers",
           "SELECT length(randomblob(1000000000))", "SELECT * FROM customers a, customers b, customers c ORDER BY random()",
           "SELECT " + "(" * 500 + "1" + ")" * 500, "SELECT '\ud800'"]


def test_hostile_sql_and_a_failing_session_leave_the_others_alone(servers):
    from websockets.sync.client import connect

    srv = servers("Text2SQL-v0")
    kwargs, seeds, actions = CASES["Text2SQL-v0"]
    expected = episode(gym.make("Text2SQL-v0", **kwargs), seeds * 3, actions)
    hostile_out: list = []

    def attack(env, out):
        for sql in HOSTILE:
            env.reset(seed=0)
            out.append(env.step(json.dumps({"action_type": "query", "payload": {"sql": sql}})))
        env.close()

    hostile_here: list = []
    attack(gym.make("Text2SQL-v0", question="pet_shop/002"), hostile_here)
    attacker = threading.Thread(target=attack, args=(gym.make("Text2SQL-v0", remote=srv.url, question="pet_shop/002"),
                                                     hostile_out))
    attacker.start()
    got = episode(gym.make("Text2SQL-v0", remote=srv.url, **kwargs), seeds * 3, actions)  # meanwhile
    attacker.join(120)
    assert same(got, expected)
    assert same(hostile_out, hostile_here)  # the same sandbox and limits as in this process: refused or stopped
    assert sum(out[4]["action_valid"] for out in hostile_out) == 1  # only the parenthesised 1 is a query
    # a session that fails (a bad reset, a message that is not one) gets errors; it and the server go on
    with SQLGymClient(srv.url).sync() as client:
        with pytest.raises(Exception, match="unknown question"):
            client.reset(seed=0, question="pet_shop/9999")
        assert "pet_shop" in client.reset(seed=0, question="pet_shop/001").observation.text
    with connect(srv.url.replace("http", "ws") + "/ws") as ws:
        ws.send("{not json")
        assert json.loads(ws.recv(timeout=10))["data"]["code"] == "INVALID_JSON"
        ws.send(json.dumps({"type": "reset", "data": {"seed": 0, "dataset": "spider:/etc"}}))
        assert "reset takes seed and question" in json.loads(ws.recv(timeout=10))["data"]["message"]
    env = gym.make("Text2SQL-v0", remote=srv.url, **kwargs)
    assert same(episode(env, seeds, actions), expected[: len(episode(gym.make("Text2SQL-v0", **kwargs), seeds, actions))])


def test_a_client_cannot_make_the_server_read_its_files(servers):
    from sqlgym.integrations.openenv import RemoteError

    srv = servers("SQLIndex-v0")
    with SQLGymClient(srv.url).sync() as client:
        for sid in ("sqlite:///etc/passwd?workload=/etc/passwd", "benchmark://tpch?sf=100"):
            with pytest.raises(RemoteError, match="only its operator may name one"):
                client.reset(seed=0, scenario=sid)
        assert "generator://index/3" in client.reset(seed=0, scenario="generator://index/3").observation.text


def test_a_token_is_required_when_set(servers, monkeypatch):
    import httpx

    monkeypatch.delenv("SQLGYM_SERVE_TOKEN", raising=False)
    srv = servers("Text2SQLDirect-v0", token="s3cret-token")
    with pytest.raises(Unauthorized, match="token"):
        gym.make("Text2SQLDirect-v0", remote=srv.url)
    with pytest.raises(Unauthorized):
        gym.make("Text2SQLDirect-v0", remote=srv.url, token="wrong")
    env = gym.make("Text2SQLDirect-v0", remote=srv.url, token="s3cret-token", question="pet_shop/001")
    env.reset(seed=0)
    env.close()
    monkeypatch.setenv("SQLGYM_SERVE_TOKEN", "s3cret-token")
    gym.make("Text2SQLDirect-v0", remote=srv.url).close()
    assert httpx.get(srv.url + "/sqlgym").status_code == 401
    assert httpx.get(srv.url + "/sqlgym", headers={"Authorization": "Bearer s3cret-token"}).json()["env_id"] == "Text2SQLDirect-v0"
    assert httpx.get(srv.url + "/health").status_code == 200  # for load balancers
    with pytest.raises(ConfigError, match="remote=URL"):
        gym.make("Text2SQLDirect-v0", token="s3cret-token")


def test_vector_envs_of_remote_sessions(servers):
    srv = servers("SQLIndexDiscrete-v0")
    local = gym.make_vec("SQLIndexDiscrete-v0", num_envs=2, vectorization_mode="sync", scenario="easy/point_lookup")
    remote = gym.make_vec("SQLIndexDiscrete-v0", num_envs=2, vectorization_mode="sync", scenario="easy/point_lookup",
                          remote=srv.url)
    outs = []
    for v in (local, remote):
        out = [v.reset(seed=[0, 1])]
        for a in ([0, 1], [72, 3], [2, 72]):
            out.append(v.step(np.array(a)))
        outs.append(out)
        v.close()
    assert same(outs[0], outs[1])


def test_tools_classes_run_against_a_remote_server(servers):
    from sqlgym.integrations.trl import environment_factory

    srv = servers("SQLIndex-v0")
    results = []
    for remote in (None, srv.url):
        tools = environment_factory("SQLIndex-v0", remote=remote)()
        obs = tools.reset(scenario="easy/point_lookup", seed=0)
        made = tools.create_index("customers", ["email"])
        results.append((obs, made, tools.list_queries(), tools.get_reward()))
    assert results[0] == results[1]
    assert environment_factory("SQLIndex-v0", remote=srv.url).__name__ == "SQLIndexTools"


def test_the_eval_harness_plays_on_a_remote_server(servers):
    from sqlgym.eval import harness

    srv = servers("SQLIndex-v0")
    local = harness.run("greedy", scenario="easy/point_lookup", episodes=2)
    remote = harness.run("greedy", scenario="easy/point_lookup", episodes=2, remote=srv.url)
    assert remote["records"] == local["records"] and remote["remote"] == srv.url
    assert harness.validate(remote) == []  # remote records replay in this process


def test_the_load_test_with_sixteen_sessions():
    """The benchmark's CLI server in a subprocess: 16 sessions x 20 steps, 3 rounds; no errors, flat RSS."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_serve", ROOT / "benchmarks" / "bench_serve.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    res = bench.run(sessions=16, steps=20, rounds=3, scenarios=("easy/point_lookup", "medium/leading_wildcard"),
                    time_limit=240)
    assert res["errors"] == 0, res["error_messages"]
    assert res["rss_growth"] <= 0.10, [r["server_rss_mb"] for r in res["rounds"]]
    assert all(r["steps"] == 16 * 20 for r in res["rounds"])
