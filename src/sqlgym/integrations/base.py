"""What a trainer needs to know about an environment, in one class per env id.

An :class:`EnvAdapter` turns a scenario into a chat prompt, replays a plan on a fresh env, names
the environment class TRL drives in ``tools`` mode, and produces expert actions for SFT. The TRL
glue (:mod:`sqlgym.integrations.trl`) only talks to adapters, so a new environment plugs in with
``register_adapter(MyAdapter())``.
"""

from __future__ import annotations

import inspect
import json
import math
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlgym.envs.actions import ActionSet, ActionSpec
from sqlgym.errors import unknown_name
from sqlgym.tasks import task
from sqlgym.integrations.prompts import messages, parse_plan

MODES = ("plan", "tools")


@dataclass
class Episode:
    """The outcome of replaying a plan: what the reward function returns and what the logs show."""

    total: float
    steps: int
    rewards: list[float] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    error: str | None = None  # why the output was not a clean plan (``steps == 0``: not a plan at all, penalised)
    valid: list[bool] = field(default_factory=list)  # per step: the env accepted the action (``action_valid``)
    planned: int = 0  # actions the plan itself held (the rest of ``steps`` is ``finish_action``)


class EnvAdapter:
    """Base class; subclasses set the class attributes and override the prompt methods."""

    env_id: str = ""
    malformed_penalty: float = -1.0  # output that is not a plan at all: below any plan the env can score
    # Played after a plan that did not end the episode. None: the episode is left unfinished, which is
    # wrong (right for envs without potential shaping, where not ending must not pass for abstaining).
    finish_action: dict[str, Any] | None = None
    tool_class: type | None = None  # the environment_factory class for tools mode
    max_envs = 16

    def __init__(self) -> None:
        self._envs: OrderedDict[str, Any] = OrderedDict()

    # -- scenarios and envs ---------------------------------------------------------------------
    dataset = "sqlgym"

    def scenarios(self, split: str, n: int | None = None) -> list[str]:
        return task(self.env_id).ids(split, n, self.dataset)

    def load_scenario(self, scenario_id: str) -> Any:
        return task(self.env_id).load_item(scenario_id, self.dataset)

    def make_env(self, scenario_id: str):
        """A new env playing this scenario (subclasses choose further constructor arguments)."""
        import gymnasium as gym

        return gym.make(self.env_id, **task(self.env_id).env_kwargs(scenario_id, self.dataset))

    def env(self, scenario_id: str):
        """A cached env for this scenario (reset restores its snapshot, so reuse is exact)."""
        env = self._envs.get(scenario_id)
        if env is None:
            env = self.make_env(scenario_id)
            self._envs[scenario_id] = env
            while len(self._envs) > self.max_envs:
                self._envs.popitem(last=False)[1].close()
        else:
            self._envs.move_to_end(scenario_id)
        return env

    # -- prompts --------------------------------------------------------------------------------
    def system_prompt(self, mode: str) -> str:
        raise NotImplementedError

    def user_prompt(self, observation: str, scenario: Any, mode: str) -> str:
        """The first user message: by default the reset observation as it is."""
        return observation

    def prompt(self, observation: str, scenario: Any, mode: str = "plan") -> list[dict[str, str]]:
        if mode not in MODES:
            raise unknown_name("mode", mode, list(MODES))
        return messages(self.system_prompt(mode), self.user_prompt(observation, scenario, mode))

    def reset_prompt(self, scenario_id: str, seed: int, mode: str = "plan") -> list[dict[str, str]]:
        obs, _ = self.env(scenario_id).reset(seed=seed)
        return self.prompt(obs, self.load_scenario(scenario_id), mode)

    # -- episodes -------------------------------------------------------------------------------
    def replay(self, scenario_id: str, seed: int, actions: list[Any]) -> Episode:
        """Play ``actions`` on a freshly reset env, then ``finish_action`` if the episode has not ended.

        A plan whose last action only *looks* final (a ``submit_report`` with a malformed payload is an
        invalid action, not the end) is finished too, so an SQLIndex episode always pays its terminal
        reward and its shaping telescopes: left unfinished it would keep ``-log(cost / baseline)``.
        """
        env = self.env(scenario_id)
        env.reset(seed=seed)
        ep = Episode(0.0, 0)
        for a in [*actions, self.finish_action] if self.finish_action else actions:
            text = a if isinstance(a, str) else json.dumps(a, default=str)
            _, r, terminated, truncated, info = env.step(text)
            ep.actions.append(text)
            ep.rewards.append(float(r))
            ep.valid.append(bool(info.get("action_valid", True)))
            ep.info = info
            if terminated or truncated:
                break
        ep.steps = len(ep.rewards)
        ep.total = math.fsum(ep.rewards)
        return ep

    def score(self, scenario_id: str, seed: int, text: str) -> Episode:
        """Model text -> an episode; text that is not a plan gets ``malformed_penalty`` and no env steps."""
        actions, note = parse_plan(text)
        if actions is None:
            return Episode(self.malformed_penalty, 0, error=note)
        ep = self.replay(scenario_id, seed, actions)
        ep.planned = len(actions)
        ep.error = note  # None for a clean plan; says so when actions were salvaged from broken output
        return ep

    # -- SFT ----------------------------------------------------------------------------------------
    def expert_actions(self, scenario_id: str, seed: int) -> list[dict[str, Any]]:
        """The actions an expert plays on this scenario (ending with ``finish_action``)."""
        raise NotImplementedError


def tool_methods(actions: ActionSet) -> dict[str, Callable[..., str]]:
    """One typed, documented method per action (TRL builds each tool's JSON schema from them), each
    calling ``self._act(action_type, **payload)``."""
    out: dict[str, Callable[..., str]] = {}
    for spec in actions.specs.values():
        out[spec.name] = _tool_method(spec)
    return out


def _tool_method(spec: ActionSpec) -> Callable[..., str]:
    names = [f.name for f in spec.fields]

    def method(self, *args: Any, **kwargs: Any) -> str:
        payload = dict(zip(names, args))
        payload.update(kwargs)
        return self._act(spec.name, **payload)

    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    annotations: dict[str, Any] = {}
    for f in spec.fields:
        hint: Any = list[str] if f.type is list else f.type
        if not f.required and f.default is None:
            hint = hint | None
        annotations[f.name] = hint
        default = inspect.Parameter.empty if f.required else f.default
        params.append(inspect.Parameter(f.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default, annotation=hint))
    annotations["return"] = str
    method.__signature__ = inspect.Signature(params, return_annotation=str)  # type: ignore[attr-defined]
    method.__annotations__ = annotations
    method.__name__ = method.__qualname__ = spec.name
    doc = spec.help
    if spec.fields:
        doc += "\n\nArgs:\n" + "\n".join(f"    {f.name}: {f.help}" for f in spec.fields)
    method.__doc__ = doc + f"\n\nReturns:\n    {spec.returns}"
    return method


def remote_kwargs(tools: Any) -> dict[str, Any]:
    """``gym.make`` arguments that put a tools instance's env on its class's server (none: in this process)."""
    remote = getattr(tools, "remote", None)
    if remote is None:
        return {}
    return {"remote": remote, "token": getattr(tools, "remote_token", None)}


def tool_names(cls: type) -> list[str]:
    """The tools of an environment class, as TRL sees them: its public functions but ``reset`` and ``get_reward``."""
    return [n for n, _ in inspect.getmembers(cls, predicate=inspect.isfunction)
            if not n.startswith("_") and n not in ("reset", "get_reward")]


_ADAPTERS: dict[str, EnvAdapter] = {}


def register_adapter(adapter: EnvAdapter) -> EnvAdapter:
    """Make an environment trainable: ``python -m sqlgym.train grpo --env <adapter.env_id>``."""
    _ADAPTERS[adapter.env_id] = adapter
    return adapter


def get_adapter(env_id: str) -> EnvAdapter:
    """The adapter registered for ``env_id``, or the one the task registry names (loaded on first use)."""
    if env_id not in _ADAPTERS:
        from sqlgym.tasks import TASKS, load

        t = TASKS.get(env_id)
        if t is not None and t.adapter:
            load(t.adapter)  # the module registers its adapter on import
    if env_id not in _ADAPTERS:
        from sqlgym.tasks import TASKS

        trainable = sorted({*_ADAPTERS, *(i for i, t in TASKS.items() if t.adapter)})
        raise unknown_name("environment id (with a training adapter)", env_id, trainable)
    return _ADAPTERS[env_id]
