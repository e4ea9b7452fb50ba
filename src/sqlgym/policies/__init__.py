"""Policies behind one interface (``reset(scenario, seed)``, ``act(observation, info)``)."""

from __future__ import annotations

from sqlgym.errors import unknown_name
from sqlgym.policies.base import Policy, action
from sqlgym.policies.index import (
    BrutePolicy,
    GreedyPolicy,
    HeuristicPolicy,
    NoopPolicy,
    RandomPolicy,
    ReplayPolicy,
)
from sqlgym.policies.text2sql import TEXT_POLICIES, GoldPolicy, SchemaHeuristicPolicy

POLICIES = {"noop": NoopPolicy, "random": RandomPolicy, "heuristic": HeuristicPolicy, "greedy": GreedyPolicy,
            "brute": BrutePolicy}
TEXT_ENVS = ("Text2SQL-v0", "Text2SQLDirect-v0")


def policies_for(env_id: str = "SQLIndex-v0") -> dict[str, type[Policy]]:
    """The baseline policies that can play ``env_id``."""
    return TEXT_POLICIES if env_id in TEXT_ENVS else POLICIES


LLM_PREFIXES = ("hf:", "openai:")


def make_policy(name: str, env_id: str = "SQLIndex-v0", adapter: str | None = None) -> Policy:
    """A policy by name for an environment id; a misspelt name lists the valid ones.

    ``hf:embedded``, ``hf:<model dir>`` (with ``adapter``: a LoRA directory) and ``openai:<base_url>``
    are language-model policies (``sqlgym.policies.llm``; needs the ``train`` extra for ``hf:``).
    """
    if name.startswith(LLM_PREFIXES):
        from sqlgym.policies.llm import make_llm_policy

        return make_llm_policy(name, adapter=adapter, env_id=env_id)
    known = policies_for(env_id)
    if name not in known:
        raise unknown_name(f"policy for {env_id}", name, sorted(known))
    return known[name]()


__all__ = ["POLICIES", "TEXT_ENVS", "TEXT_POLICIES", "BrutePolicy", "GoldPolicy", "SchemaHeuristicPolicy", "policies_for", "GreedyPolicy", "HeuristicPolicy", "NoopPolicy", "Policy", "RandomPolicy", "ReplayPolicy",
           "action", "make_policy"]
