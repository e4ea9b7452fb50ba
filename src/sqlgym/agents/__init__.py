"""Policies backed by language models, and ``make_policy``: any policy by name.

    make_policy("greedy")                              # a baseline (sqlgym.policies)
    make_policy("hf:embedded", env_id="Text2SQL-v0")   # a language model (sqlgym.agents.llm)
"""

from __future__ import annotations

from sqlgym.errors import ConfigError
from sqlgym.policies import Policy, make_baseline

LLM_PREFIXES = ("hf:", "openai:")
PPO_PREFIX = "ppo:"


def make_policy(name: str, env_id: str = "SQLIndex-v0", adapter: str | None = None) -> Policy:
    """A policy by name for an environment id; a misspelt name lists the valid ones.

    ``hf:embedded``, ``hf:<model dir>`` (with ``adapter``: a LoRA directory) and ``openai:<base_url>``
    are language-model policies (needs the ``train`` extra for ``hf:``); ``ppo:<model.zip or dir>`` a saved
    MaskablePPO model on SQLIndexDiscrete-v0 (the ``rl`` extra).
    """
    if name.startswith(LLM_PREFIXES):
        from sqlgym.agents.llm import make_llm_policy

        return make_llm_policy(name, adapter=adapter, env_id=env_id)
    if name.startswith(PPO_PREFIX):
        _check_ppo_env(env_id)
        from sqlgym.agents.ppo import PPOPolicy

        return PPOPolicy(name[len(PPO_PREFIX):])
    return make_baseline(name, env_id)


def _check_ppo_env(env_id: str) -> None:
    if env_id != "SQLIndexDiscrete-v0":
        raise ConfigError(f"ppo: policies play SQLIndexDiscrete-v0 (masked discrete actions), not {env_id}; "
                          "use --env SQLIndexDiscrete-v0")


def check_policy_name(name: str, env_id: str = "SQLIndex-v0") -> None:
    """Raise the ConfigError ``make_policy`` would, without loading anything (for checking a list up front)."""
    if name.startswith(PPO_PREFIX):
        _check_ppo_env(env_id)
    elif not name.startswith(LLM_PREFIXES):
        from sqlgym.errors import unknown_name
        from sqlgym.policies import policies_for

        known = policies_for(env_id)
        if name not in known:
            raise unknown_name(f"policy for {env_id}", name, sorted(known))


__all__ = ["LLM_PREFIXES", "PPO_PREFIX", "check_policy_name", "make_policy"]
