"""The shape users and extenders rely on: one task registry, one declaration per action, light import."""

from __future__ import annotations

import contextlib
import inspect
import io
import subprocess
import sys

import gymnasium as gym
import pytest

import sqlgym
from sqlgym.envs.actions import INDEX_ACTIONS, TEXT2SQL_ACTIONS
from sqlgym.errors import ConfigError, ScenarioNotFound
from sqlgym.tasks import TASKS, task


def test_every_registered_id_is_a_task_and_lists_under_sqlgym():
    assert set(sqlgym.ENV_IDS) == set(TASKS)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        gym.pprint_registry()
    text = out.getvalue()
    block = text[text.index("===== sqlgym =====") :].split("=====")[2]
    for env_id in TASKS:
        assert env_id in block


def test_a_misspelt_env_id_says_did_you_mean():
    with pytest.raises(ConfigError, match="Did you mean 'SQLIndex-v0'"):
        task("SQLindex-v0")
    with pytest.raises(ConfigError, match="Did you mean"):
        sqlgym.list_scenarios("Text2SQL-v1")


def test_an_unknown_question_is_called_a_question():
    with pytest.raises(ScenarioNotFound) as e:
        gym.make("Text2SQL-v0", question="pet_shop/9999")
    assert "unknown question" in str(e.value) and "generator://" not in str(e.value)


@pytest.mark.parametrize("env_id, actions", [("SQLIndex-v0", INDEX_ACTIONS), ("Text2SQL-v0", TEXT2SQL_ACTIONS)])
def test_the_env_help_docstring_and_reset_text_come_from_the_declaration(env_id, actions):
    kwargs = {"scenario": "easy/point_lookup"} if env_id == "SQLIndex-v0" else {"question": "pet_shop/001"}
    env = gym.make(env_id, **kwargs)
    obs, _ = env.reset(seed=0)
    assert actions.help_line() in " ".join(obs.split())
    if env_id == "SQLIndex-v0":
        assert actions.help_line() in " ".join((type(env.unwrapped).__doc__ or "").split())


@pytest.mark.parametrize("module, actions", [("sqlgym.integrations.trl_index:SQLIndexTools", INDEX_ACTIONS),
                                             ("sqlgym.integrations.trl_text2sql:Text2SQLTools", TEXT2SQL_ACTIONS)])
def test_tools_methods_are_made_from_the_declaration(module, actions):
    from sqlgym.integrations.base import tool_names
    from sqlgym.tasks import load

    cls = load(module)
    assert sorted(tool_names(cls)) == sorted(actions.names)
    for name in actions.names:
        spec, method = actions[name], getattr(cls, name)
        params = list(inspect.signature(method).parameters)[1:]
        assert params == [f.name for f in spec.fields]
        for f in spec.fields:
            assert f"{f.name}: {f.help}" in method.__doc__


def test_the_plan_prompt_lists_the_declared_actions():
    from sqlgym.integrations.trl_index import PLAN_SYSTEM

    assert INDEX_ACTIONS.plan_lines() in PLAN_SYSTEM
    assert '- create_index {"table": str, "columns": [str, ...]}' in PLAN_SYSTEM


def test_a_tools_call_reaches_the_env_with_every_declared_field():
    from sqlgym.integrations.trl_index import SQLIndexTools

    tools = SQLIndexTools()
    tools.reset(scenario="easy/point_lookup", seed=0)
    out = tools.create_index("customers", ["email"], name="ix_email")
    assert "Created index ix_email" in out


def test_import_sqlgym_stays_light():
    code = ("import sys, sqlgym, gymnasium as gym; gym.make('SQLIndex-v0', scenario='easy/point_lookup'); "
            "heavy = [m for m in ('torch', 'trl', 'transformers', 'matplotlib', 'datasets', 'peft') if m in sys.modules]; "
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
