"""What a trainer needs to know about an environment, in one class per env id.

An :class:`EnvAdapter` turns a scenario into a chat prompt, replays a plan on a fresh env, names
the environment class TRL drives in ``tools`` mode, and produces expert actions for SFT. The TRL
glue (:mod:`sqlgym.integrations.trl`) only talks to adapters, so a new environment plugs in with
``register_adapter(MyAdapter())``.
"""

from __future__ import annotations

import json
import math
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from sqlgym.errors import unknown_name
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
    def scenarios(self, split: str, n: int | None = None) -> list[str]:
        import sqlgym

        return sqlgym.list_scenarios(self.env_id, split, n)

    def load_scenario(self, scenario_id: str) -> Any:
        import sqlgym

        return sqlgym.load_scenario(scenario_id)

    def make_env(self, scenario_id: str):
        """A new env playing this scenario (subclasses choose the constructor arguments)."""
        import gymnasium as gym

        return gym.make(self.env_id, scenario=scenario_id)

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
        ep.error = note  # None for a clean plan; says so when actions were salvaged from broken output
        return ep

    # -- SFT ----------------------------------------------------------------------------------------
    def expert_actions(self, scenario_id: str, seed: int) -> list[dict[str, Any]]:
        """The actions an expert plays on this scenario (ending with ``finish_action``)."""
        raise NotImplementedError


def tool_names(cls: type) -> list[str]:
    """The tools of an environment class, as TRL sees them: its public functions but ``reset`` and ``get_reward``."""
    import inspect

    return [n for n, _ in inspect.getmembers(cls, predicate=inspect.isfunction)
            if not n.startswith("_") and n not in ("reset", "get_reward")]


_ADAPTERS: dict[str, EnvAdapter] = {}


def register_adapter(adapter: EnvAdapter) -> EnvAdapter:
    """Make an environment trainable: ``python -m sqlgym.train grpo --env <adapter.env_id>``."""
    _ADAPTERS[adapter.env_id] = adapter
    return adapter


def get_adapter(env_id: str) -> EnvAdapter:
    if env_id not in _ADAPTERS:
        import sqlgym.integrations.trl_index  # noqa: F401  (registers SQLIndex-v0)

        _load_optional_adapters()
    if env_id not in _ADAPTERS:
        raise unknown_name("environment id (with a training adapter)", env_id, sorted(_ADAPTERS))
    return _ADAPTERS[env_id]


def _load_optional_adapters() -> None:
    """Adapters of environments that may not exist yet in this checkout register themselves on import."""
    import importlib

    for module in ("sqlgym.integrations.trl_text2sql",):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as e:  # that environment is not in this checkout; a broken adapter still raises
            if e.name != module:
                raise
