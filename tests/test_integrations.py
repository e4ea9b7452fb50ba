"""The adapter layer: plan parsing, TRL reward functions, prompt rows, the tools-mode env class, the
chat-template check and the LLM policy. No model is trained here (see test_train.py)."""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading

import gymnasium as gym
import pytest

import sqlgym
from sqlgym.errors import ConfigError
from sqlgym.integrations import get_adapter, parse_plan, render_plan
from sqlgym.integrations.trl import plan_reward, prompt_rows
from sqlgym.integrations.trl_index import SQLIndexTools

SID = "easy/point_lookup"  # small and quick to build
GOOD = render_plan([{"action_type": "create_index", "payload": {"table": "customers", "columns": ["email"]}},
                    {"action_type": "submit_report", "payload": {"summary": "email lookups"}}])


def env_return(actions, scenario=SID, seed=0):
    env = gym.make("SQLIndex-v0", scenario=scenario)
    env.reset(seed=seed)
    total = 0.0
    for a in actions:
        _, r, term, trunc, _ = env.step(json.dumps(a))
        total += r
        if term or trunc:
            break
    return total


@pytest.mark.parametrize("text, n, note", [
    (GOOD, 2, None),
    ("Here you go:\n```json\n" + GOOD + "\n```\nDone.", 2, None),
    ("[]", 0, None),
    ('{"action_type": "list_tables"}', 1, "salvaged"),
    ('[\n{"action_type": "list_tables"},\n{"action_type": "list_queries"},\n{"action_ty', 2, "salvaged"),
    ('[{"action_type": ["create_index"]}]', 1, None),
    ("I would create an index.", None, "no JSON"),
    ("", None, "empty"),
    ("[1, 2, 3]", None, "no JSON"),
    ("[" * 5000, None, "no JSON"),
])
def test_parse_plan_never_raises(text, n, note):
    actions, why = parse_plan(text)
    assert (actions is None) == (n is None)
    if n is not None:
        assert len(actions) == n
        assert all(isinstance(a.get("action_type"), str) for a in actions)  # an unhashable action_type becomes text
    assert (why is None) == (note is None)
    if note:
        assert note in why


def test_render_then_parse_round_trips():
    acts = get_adapter("SQLIndex-v0").expert_actions(SID, 0)
    assert parse_plan(render_plan(acts)) == (acts, None)
    assert acts[-1]["action_type"] == "submit_report"


def test_plan_reward_replays_on_the_env():
    fn = plan_reward("SQLIndex-v0")
    plans = [GOOD, "not a plan", "[]", [{"role": "assistant", "content": GOOD}],
             render_plan([{"action_type": "create_index", "payload": {"table": "customers", "columns": ["nope"]}}])]
    rewards = fn(prompts=[None] * 5, completions=plans, scenario=[SID] * 5, seed=[0] * 5)
    good = env_return(json.loads(GOOD))
    assert rewards[0] == pytest.approx(good) and good > 0.5           # the env's own return, bit for bit
    assert rewards[1] == get_adapter("SQLIndex-v0").malformed_penalty  # not a plan: the penalty, no crash
    assert rewards[2] == pytest.approx(env_return([{"action_type": "submit_report", "payload": {}}]))  # submit added
    assert rewards[3] == rewards[0]                                    # conversational completions work too
    assert -1 < rewards[4] < 0                                         # an invalid action: the env's small penalty
    assert fn(prompts=[None], completions=[GOOD], scenario=[SID], seed=[0]) == rewards[:1]  # deterministic


def test_a_plan_that_only_looks_finished_is_finished_and_stays_in_bounds():
    """A submit_report with a bad payload is an invalid action, not the end of the episode: the replay
    must still finish it, or the potential shaping does not telescope and the return keeps
    -log(cost / baseline), far above the terminal clip (a GRPO run once logged such a return)."""
    adapter = get_adapter("SQLIndex-v0")
    for i, sid in enumerate(sqlgym.list_scenarios("SQLIndex-v0", "train", 4)):
        expert = adapter.expert_actions(sid, i)
        fake_end = expert[:-1] + [{"action_type": "submit_report", "payload": {"summary": 5}}]
        ep = adapter.score(sid, i, render_plan(fake_end))
        assert ep.steps == len(fake_end) + 1
        assert json.loads(ep.actions[-1])["action_type"] == "submit_report" and "hidden_gap_closed" in ep.info
        assert ep.total <= 1.5  # the terminal clip bounds every return
        assert ep.total == pytest.approx(adapter.score(sid, i, render_plan(expert)).total - 0.06)  # + invalid, step


def test_prompt_rows_hold_the_reset_observation():
    rows = prompt_rows("SQLIndex-v0", "curated", scenarios=[SID, "medium/leading_wildcard"], seed=3)
    assert [r["scenario"] for r in rows] == [SID, "medium/leading_wildcard"] and [r["seed"] for r in rows] == [3, 4]
    system, user = rows[0]["prompt"]
    assert system["role"] == "system" and "create_index" in system["content"]
    obs, _ = gym.make("SQLIndex-v0", scenario=SID).reset(seed=3)
    assert user["content"].startswith(obs.split("\n")[0]) and "customers(" in user["content"]
    tools = prompt_rows("SQLIndex-v0", "curated", mode="tools", scenarios=[SID])
    assert tools[0]["prompt"][1]["content"] == ""  # tools mode: the env's reset() supplies the observation
    assert prompt_rows("SQLIndex-v0", "curated", scenarios=[SID], seed=3)[0] == rows[0]


def test_build_dataset():
    pytest.importorskip("datasets")
    from sqlgym.integrations.trl import build_dataset

    ds = build_dataset("SQLIndex-v0", "train", n=2)
    assert ds.column_names == ["prompt", "scenario", "seed", "env_id"] and len(ds) == 2
    assert ds[0]["scenario"] == sqlgym.list_scenarios("SQLIndex-v0", "train", 2)[0]


def test_tools_env_class():
    t = SQLIndexTools()
    obs = t.reset(prompt=[], scenario=SID, seed=0, env_id="SQLIndex-v0")
    assert obs.startswith(f"Scenario {SID}")
    assert "Error" in t.create_index(table="customers", columns="email")  # bad arguments: an observation
    assert "Created index" in t.create_index(table="customers", columns=["email"])
    reward = t.get_reward()  # submits for the model, then returns the episode's return
    expected = env_return([{"action_type": "create_index", "payload": {"table": "customers", "columns": "email"}},
                           {"action_type": "create_index", "payload": {"table": "customers", "columns": ["email"]}},
                           {"action_type": "submit_report", "payload": {"summary": "(ended by the trainer)"}}])
    assert reward == pytest.approx(expected) and reward > 0.5
    assert t.get_reward() == reward and "over" in t.list_tables()
    t.reset(scenario="medium/leading_wildcard", seed=1)  # the same instance serves another scenario
    assert t.get_reward() == pytest.approx(-0.01)


def test_tool_methods_have_schemas():
    pytest.importorskip("transformers")
    import inspect

    from transformers.utils import get_json_schema

    names = [n for n, _ in inspect.getmembers(SQLIndexTools, inspect.isfunction) if not n.startswith("_")]
    assert set(names) - {"reset", "get_reward"} == {
        "list_tables", "describe_table", "list_queries", "inspect_query", "analyze_indexes", "analyze_statistics",
        "create_index", "drop_index", "rewrite_query", "submit_report"}
    schema = get_json_schema(SQLIndexTools.create_index)["function"]
    assert schema["parameters"]["properties"]["columns"]["type"] == "array"
    assert schema["parameters"]["required"] == ["table", "columns"]


def test_chat_template_check():
    pytest.importorskip("trl")
    from sqlgym.integrations.trl import check_tool_template
    from tests.support.tiny import tiny_tokenizer

    tok = tiny_tokenizer()
    tok.chat_template = ("{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\n' + m['content'] + '<|im_end|>\n' }}"
                         "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")
    with pytest.raises(ConfigError, match="qwen2_5"):
        check_tool_template(tok)
    check_tool_template(tok, "qwen2_5")
    assert getattr(tok, "response_template", None) or getattr(tok, "response_schema", None)


class FakeGenerator:
    def __init__(self, text):
        self.text, self.calls = text, 0

    def __call__(self, prompts):
        self.calls += len(prompts)
        return [self.text] * len(prompts)


def test_llm_policy_plays_its_plan_in_the_harness_format():
    from sqlgym.eval import harness
    from sqlgym.agents.llm import LLMPolicy
    from sqlgym.train.evaluate import run_policy

    gen = FakeGenerator(GOOD)
    res = run_policy(LLMPolicy(gen, name="fake"), split="curated", episodes=1)
    rec = res["records"][0]
    assert rec["scenario"] == harness.scenario_ids("curated", 1)[0] and gen.calls == 1
    assert json.loads(rec["actions"][0])["action_type"] == "create_index"
    assert res["summary"]["valid_plan_rate"] == 1.0 and "mean_performance" in res["summary"]
    bad = run_policy(LLMPolicy(FakeGenerator("no idea"), name="bad"), split="curated", episodes=1)
    assert bad["records"][0]["final"]["performance"] == 0.0 and bad["summary"]["valid_plan_rate"] == 0.0


class ScriptedToolModel:
    """Answers each turn with the next scripted tool call, and records what it was shown."""

    def __init__(self, calls):
        self.calls, self.seen = list(calls), []

    def __call__(self, prompts, tools=None):
        self.seen.append((json.loads(json.dumps(prompts[0])), [t.__name__ for t in tools or []]))
        if not self.calls:
            return ["I am done."]
        name, args = self.calls.pop(0)
        return [f'<tool_call>\n{json.dumps({"name": name, "arguments": args})}\n</tool_call>']


def test_llm_policy_tools_mode():
    from sqlgym.agents.llm import LLMPolicy, parse_tool_call
    from sqlgym.train.evaluate import run_policy

    assert parse_tool_call('x <tool_call>{"name": "list_tables", "arguments": {}}</tool_call>') == ("list_tables", {})
    assert parse_tool_call("<tool_call>{broken</tool_call>") is None and parse_tool_call("") is None
    model = ScriptedToolModel([("list_queries", {}), ("create_index", {"table": "customers", "columns": ["email"]}),
                               ("submit_report", {"summary": "indexed email"})])
    res = run_policy(LLMPolicy(model, name="scripted", mode="tools"), split="curated", episodes=1)
    rec = res["records"][0]
    assert [json.loads(a)["action_type"] for a in rec["actions"]] == ["list_queries", "create_index", "submit_report"]
    assert rec["scenario"] == SID and rec["final"]["performance"] > 50
    first, tools = model.seen[0]
    assert first[0]["role"] == "system" and "create_index" in tools and "reset" not in tools
    second, _ = model.seen[1]
    assert second[-1]["role"] == "tool" and second[-2]["tool_calls"][0]["function"]["name"] == "list_queries"
    quiet = run_policy(LLMPolicy(ScriptedToolModel([]), name="quiet", mode="tools"), split="curated", episodes=1)
    assert quiet["records"][0]["final"]["performance"] == 0.0 and quiet["summary"]["valid_plan_rate"] == 0.0
    silent = ScriptedToolModel([])  # on Text2SQL, stopping without a tool call is wrong, never an abstention
    res = run_policy(LLMPolicy(silent, name="silent", env_id="Text2SQL-v0", mode="tools"), "Text2SQL-v0", "test", 12)
    assert res["summary"]["ex"] == 0.0 and len(silent.seen) == 12  # asked once per episode, not once per step


def test_openai_policy_over_http():
    from sqlgym.agents.llm import make_llm_policy

    seen = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self._reply({"data": [{"id": "stub-model"}]})

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append(body)
            self._reply({"choices": [{"message": {"role": "assistant", "content": GOOD}}]})

        def _reply(self, obj):
            data = json.dumps(obj).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        pol = make_llm_policy(f"openai:http://127.0.0.1:{server.server_address[1]}")
        env = gym.make("SQLIndex-v0", scenario=SID)
        obs, info = env.reset(seed=0)
        pol.reset(sqlgym.load_scenario(SID), seed=0)
        action = pol.act(obs, info)
        from sqlgym.eval import harness  # the same spec through the eval harness, as the CLI uses it

        spec = f"openai:http://127.0.0.1:{server.server_address[1]}"
        res = harness.run(spec, scenario=SID, episodes=2)  # one process: first answers generated up front
        per_worker = harness.run(spec, scenario=SID, episodes=2, workers=2)  # each worker asks per episode
    finally:
        server.shutdown()
    assert json.loads(action)["payload"]["columns"] == ["email"]
    assert res["records"][0]["final"]["gap_closed"] > 0.9
    assert res["records"] == per_worker["records"]  # batching changes speed, never a record
    assert seen[0]["model"] == "stub-model" and seen[0]["messages"][0]["role"] == "system"
    assert seen[0]["temperature"] == 0


def test_bad_specs_are_config_errors():
    from sqlgym.agents.llm import make_llm_policy
    from sqlgym.models import load_model, resolve

    with pytest.raises(ConfigError):
        make_llm_policy("gpt:whatever")
    with pytest.raises(ConfigError):
        make_llm_policy("openai:localhost:8000")
    with pytest.raises(ConfigError):
        get_adapter("NoSuchEnv-v0")
    with pytest.raises(ConfigError):
        resolve(None, "tensorflow")
    import sqlgym.models as models

    if not models.has_cuda():
        with pytest.raises(ConfigError, match="CUDA"):
            resolve(None, "unsloth")
        assert resolve(None, "auto") == ("embedded", "peft")
    pytest.importorskip("transformers")
    with pytest.raises(ConfigError, match="no model"):
        load_model("./no/such/dir", backend="peft")


def test_importing_stays_light():
    code = ("import sys, sqlgym, sqlgym.integrations.trl, sqlgym.models, sqlgym.agents.llm, sqlgym.train.__main__; "
            "heavy = [m for m in ('torch', 'trl', 'transformers', 'datasets', 'peft') if m in sys.modules]; "
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_train_config_layers(tmp_path):
    from sqlgym.train.config import load_yaml, make_config

    f = tmp_path / "run.yaml"
    f.write_text("max-steps: 12\nlearning_rate: 3.0e-5\nmode: plan\n")
    cfg = make_config("grpo", False, load_yaml(str(f)), {"learning_rate": 1e-3, "model": None})
    assert (cfg.max_steps, cfg.learning_rate, cfg.output_dir) == (12, 1e-3, "runs/grpo")
    assert make_config("grpo", True, {}, {}).max_steps == 200
    f.write_text("max_stpes: 3\n")
    with pytest.raises(ConfigError, match="max_steps"):
        make_config("grpo", False, load_yaml(str(f)), {})
    with pytest.raises(ConfigError):
        make_config("grpo", False, {}, {"num_generations": 3})
