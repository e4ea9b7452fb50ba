"""TRL glue for any environment with an adapter: datasets of prompt rows, plan-mode reward functions
with TRL's signature, ``environment_factory`` classes for tools mode, and the chat-template check.

    from sqlgym.integrations.trl import build_dataset, plan_reward
    ds = build_dataset("SQLIndex-v0", "train", n=64)                     # prompt, scenario, seed, env_id
    GRPOTrainer(model, reward_funcs=plan_reward("SQLIndex-v0"), train_dataset=ds, ...)
    GRPOTrainer(model, environment_factory=environment_factory("SQLIndex-v0"),
                train_dataset=build_dataset("SQLIndex-v0", "train", mode="tools"), ...)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlgym.errors import ConfigError
from sqlgym.integrations.base import MODES, Episode, get_adapter
from sqlgym.integrations.prompts import completion_text, messages

TOOLS_TEMPLATE = "qwen2_5"  # the tool-calling chat template TRL ships and knows how to parse


def prompt_rows(env_id: str, split: str, n: int | None = None, mode: str = "plan", seed: int = 0,
                scenarios: list[str] | None = None) -> list[dict[str, Any]]:
    """Rows ``{"prompt", "scenario", "seed", "env_id"}``; row ``i`` uses scenario ``ids[i]`` and seed ``seed + i``.

    ``plan`` prompts hold the system prompt and the reset observation (plus the adapter's briefing);
    ``tools`` prompts hold the system prompt only, and the environment's ``reset`` adds the observation.
    """
    if mode not in MODES:
        from sqlgym.errors import unknown_name

        raise unknown_name("mode", mode, list(MODES))
    adapter = get_adapter(env_id)
    ids = scenarios if scenarios is not None else adapter.scenarios(split, n)
    if not ids:
        raise ConfigError(f"split {split!r} of {env_id} has no scenarios")
    rows = []
    for i, sid in enumerate(ids):
        if mode == "plan":
            prompt = adapter.reset_prompt(sid, seed + i, "plan")
        else:
            prompt = messages(adapter.system_prompt("tools"), "")
        rows.append({"prompt": prompt, "scenario": sid, "seed": seed + i, "env_id": env_id})
    return rows


def build_dataset(env_id: str = "SQLIndex-v0", split: str = "train", n: int | None = None, mode: str = "plan",
                  seed: int = 0, scenarios: list[str] | None = None):
    """A ``datasets.Dataset`` of :func:`prompt_rows` for GRPOTrainer."""
    from datasets import Dataset

    return Dataset.from_list(prompt_rows(env_id, split, n, mode, seed, scenarios))


def plan_reward(env_id: str = "SQLIndex-v0", log: list | None = None) -> Callable[..., list[float]]:
    """A TRL reward function: replays each completion's JSON plan on a fresh env and returns its total reward.

    Text that is not a plan scores the adapter's ``malformed_penalty``; it never raises. With ``log``
    (a list), one dict per scored completion is appended (scenario, total, steps, error).
    """
    adapter = get_adapter(env_id)

    def sqlgym_plan_reward(prompts, completions, scenario, seed, **columns) -> list[float]:
        out = []
        for completion, sid, sd in zip(completions, scenario, seed):
            text = completion_text(completion)
            try:
                ep = adapter.score(sid, int(sd), text)
            except Exception as e:  # an env bug must not kill a training run; it shows in the log
                ep = Episode(adapter.malformed_penalty, 0, error=f"{type(e).__name__}: {e}")
            out.append(float(ep.total))
            if log is not None:
                log.append({"scenario": sid, "seed": int(sd), "total": ep.total, "steps": ep.steps,
                            "error": ep.error, "performance": ep.info.get("performance"), "completion": text[:2000]})
        return out

    sqlgym_plan_reward.__name__ = f"{env_id.split('-')[0].lower()}_plan"
    return sqlgym_plan_reward


def environment_factory(env_id: str = "SQLIndex-v0") -> type:
    """The class to pass as ``GRPOTrainer(environment_factory=...)`` for tools mode."""
    adapter = get_adapter(env_id)
    if adapter.tool_class is None:
        raise ConfigError(f"{env_id} has no tools-mode environment class; use --mode plan")
    return adapter.tool_class


def tools_chat_template() -> str:
    """The Qwen2.5 chat template shipped inside TRL (ChatML with ``<tool_call>`` blocks)."""
    from trl.chat_template_utils import qwen2_5_chat_template

    return qwen2_5_chat_template


def check_tool_template(tokenizer, chat_template: str | None = None) -> None:
    """Make sure TRL can render and parse tool calls with this tokenizer, or raise a ConfigError that says what to do.

    ``chat_template="qwen2_5"`` first swaps in TRL's Qwen2.5 template (ChatML, so it works with any
    tokenizer that has ``<|im_start|>``/``<|im_end|>``, such as SmolLM2's).
    """
    from trl.chat_template_utils import add_response_schema, supports_tool_calling

    if chat_template:
        if chat_template != TOOLS_TEMPLATE:
            raise ConfigError(f"unknown chat template {chat_template!r}; the one sqlgym can swap in is {TOOLS_TEMPLATE!r}")
        tokenizer.chat_template = tools_chat_template()
    fix = (f"use a model whose template TRL parses (Qwen2.5/Qwen3, Llama 3.1/3.2, ...), or pass "
           f"--chat-template {TOOLS_TEMPLATE} to swap in TRL's Qwen2.5 template (ChatML models such as "
           f"the embedded SmolLM2), or train with --mode plan")
    if not supports_tool_calling(tokenizer):
        raise ConfigError(f"this model's chat template cannot render tool calls, which --mode tools needs; {fix}")
    if getattr(tokenizer, "response_template", None) is None and getattr(tokenizer, "response_schema", None) is None:
        try:
            add_response_schema(tokenizer)
        except ValueError:
            raise ConfigError(f"TRL cannot parse tool calls for this model's chat template; {fix}") from None
