"""Text2SQL-v0 as a training environment: prompt rows, the plan reward and the tools class (no torch needed)."""

import inspect

from sqlgym.integrations import get_adapter
from sqlgym.integrations.prompts import render_plan
from sqlgym.integrations.trl import plan_reward, prompt_rows


def _score(rows, completions):
    fn = plan_reward("Text2SQL-v0")
    return fn([r["prompt"] for r in rows], completions, scenario=[r["scenario"] for r in rows],
              seed=[r["seed"] for r in rows])


def test_plan_prompt_holds_schema_and_question():
    rows = prompt_rows("Text2SQL-v0", "train", 3, "plan")
    system, user = rows[0]["prompt"]
    assert system["role"] == "system" and "JSON list of actions" in system["content"]
    assert "CREATE TABLE" in user["content"] and "Question:" in user["content"]
    assert {r["env_id"] for r in rows} == {"Text2SQL-v0"} and [r["seed"] for r in rows] == [0, 1, 2]


def test_plan_reward_comes_from_the_env():
    adapter = get_adapter("Text2SQL-v0")
    rows = prompt_rows("Text2SQL-v0", "validation", 6, "plan")
    expert = [render_plan(adapter.expert_actions(r["scenario"], r["seed"])) for r in rows]
    good = _score(rows, expert)
    bad = _score(rows, ["not a plan", '[{"action_type": "answer", "payload": {"sql": "SELECT 1"}}]',
                        '```json\n[{"action_type": "abstain", "payload": {}}]\n```', "[]", "{", ""])
    assert min(good) >= 1.0  # the gold plan is right on every kind of question
    assert max(bad) < 0.3 and bad[0] == adapter.malformed_penalty
    assert len(set(bad)) > 1  # the env tells these apart: not a constant


def test_a_plan_that_does_not_answer_is_not_an_abstention():
    """On an unanswerable question, abstaining is right; a plan that never ends the episode is not."""
    adapter = get_adapter("Text2SQL-v0")
    q = next(q for q in (adapter.load_scenario(s) for s in adapter.scenarios("train")) if q.kind == "unanswerable")
    abstain = adapter.score(q.id, 0, '[{"action_type": "abstain", "payload": {"reason": "not in the data"}}]')
    for text in ("[]", '[{"action_type": "describe", "payload": {"table": "nope"}}]'):
        ep = adapter.score(q.id, 0, text)
        assert not ep.info.get("correct") and ep.total < 0.3
    assert abstain.info["correct"] and abstain.total >= 1.0


def test_tools_class_plays_an_episode():
    adapter = get_adapter("Text2SQL-v0")
    tools = adapter.tool_class()
    q = next(q for q in (adapter.load_scenario(s) for s in adapter.scenarios("train", 40)) if q.kind == "answerable")
    obs = tools.reset(scenario=q.id, seed=0)
    assert q.question in obs and "You have" not in obs
    assert "rows)" in tools.describe(q.sql.split("FROM")[1].split()[0].strip('"'))
    tools.answer(q.sql)
    assert tools.get_reward() >= 1.0
    assert "episode is over" in tools.query("SELECT 1")
    for name in ("describe", "sample", "query", "answer", "clarify", "abstain"):
        doc = inspect.getdoc(getattr(tools, name))
        assert "Args:" in doc and "Returns:" in doc  # TRL builds the tool schema from these
