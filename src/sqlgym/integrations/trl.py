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
    return _PlanScorer(env_id, log).env_reward(malformed=get_adapter(env_id).malformed_penalty)


def plan_rewards(env_id: str = "SQLIndex-v0", log: list | None = None, format_weight: float = 1.0) -> list[Callable]:
    """TRL reward functions for plan mode from one replay per completion: the env's return, and (with
    ``format_weight > 0``) the format reward, a second named part that TRL logs on its own
    (``rewards/<env>_format/mean``) and that gives a model whose output never parses a gradient.

    The format reward is a ladder, each rung above the last and all at most 0, so it is always below
    any real improvement (a positive return): -1 no JSON at all, -0.75 JSON but no action object, -0.5
    action objects but not one JSON list, then -0.25 x the share of the plan's actions the env refused
    (0 for a clean, valid plan). With it on, a non-plan's env part is 0 (the -1 is the format part's),
    so the sum is what :func:`plan_reward` pays plus the format part. ``log`` entries get ``format``.
    """
    scorer = _PlanScorer(env_id, log)
    funcs = [scorer.env_reward(malformed=0.0 if format_weight > 0 else get_adapter(env_id).malformed_penalty)]
    if format_weight > 0:
        funcs.append(scorer.format_reward(format_weight))
    return funcs


def format_score(text: str, ep: Episode) -> float:
    """The format reward's rung for ``text`` and its replay (see :func:`plan_rewards`)."""
    from sqlgym.integrations.prompts import has_json

    if ep.steps == 0 and ep.planned == 0:
        return -0.75 if has_json(text) else -1.0
    if ep.error is not None:  # actions salvaged from output that is not one JSON list
        return -0.5
    played = ep.valid[:ep.planned]
    return -0.25 * (sum(not v for v in played) / len(played)) if played else 0.0


class _PlanScorer:
    """Scores each (scenario, seed, completion) once; the env part and the format part read the same replay."""

    KEEP = 4096

    def __init__(self, env_id: str, log: list | None) -> None:
        self.env_id, self.log = env_id, log
        self.adapter = get_adapter(env_id)
        self._episodes: dict[tuple[str, int, str], Episode] = {}

    def episode(self, sid: str, seed: int, text: str) -> Episode:
        key = (sid, seed, text)
        ep = self._episodes.get(key)
        if ep is None:
            try:
                ep = self.adapter.score(sid, seed, text)
            except Exception as e:  # an env bug must not kill a training run; it shows in the log
                ep = Episode(self.adapter.malformed_penalty, 0, error=f"{type(e).__name__}: {e}")
            if len(self._episodes) >= self.KEEP:
                self._episodes.pop(next(iter(self._episodes)))
            self._episodes[key] = ep
        return ep

    def env_reward(self, malformed: float) -> Callable[..., list[float]]:
        def reward(prompts, completions, scenario, seed, **columns) -> list[float]:
            out = []
            for completion, sid, sd in zip(completions, scenario, seed):
                text = completion_text(completion)
                ep = self.episode(sid, int(sd), text)
                total = float(ep.total) if ep.steps else malformed
                out.append(total)
                if self.log is not None:
                    self.log.append({"scenario": sid, "seed": int(sd), "total": total, "steps": ep.steps,
                                     "error": ep.error, "performance": ep.info.get("performance"),
                                     "format": format_score(text, ep), "completion": text[:2000]})
            return out

        reward.__name__ = f"{self.env_id.split('-')[0].lower()}_plan"
        return reward

    def format_reward(self, weight: float) -> Callable[..., list[float]]:
        def reward(prompts, completions, scenario, seed, **columns) -> list[float]:
            out = []
            for completion, sid, sd in zip(completions, scenario, seed):
                text = completion_text(completion)
                out.append(weight * format_score(text, self.episode(sid, int(sd), text)))
            return out

        reward.__name__ = f"{self.env_id.split('-')[0].lower()}_format"
        return reward


def environment_factory(env_id: str = "SQLIndex-v0", remote: str | None = None, token: str | None = None) -> type:
    """The class to pass as ``GRPOTrainer(environment_factory=...)`` for tools mode.

    With ``remote`` (a ``python -m sqlgym.serve`` URL; ``token`` or ``$SQLGYM_SERVE_TOKEN`` its secret) each
    instance plays its episodes there, one session per instance: TRL keeps an instance per rollout of a
    generation batch, so the server's ``--max-sessions`` must cover that batch on every training process.
    """
    adapter = get_adapter(env_id)
    if adapter.tool_class is None:
        raise ConfigError(f"{env_id} has no tools-mode environment class; use --mode plan")
    if remote is None:
        return adapter.tool_class
    cls = adapter.tool_class  # same name, tools and docs: TRL logs the reward under the class name
    return type(cls.__name__, (cls,), {"remote": remote, "remote_token": token, "__doc__": cls.__doc__,
                                       "__module__": cls.__module__, "__qualname__": cls.__qualname__})


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
