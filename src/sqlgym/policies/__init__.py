"""Baseline policies behind one interface (``reset(scenario, seed)``, ``act(observation, info)``).

Language-model policies live in :mod:`sqlgym.agents`; ``sqlgym.agents.make_policy`` makes either.
"""

from __future__ import annotations

from sqlgym.errors import unknown_name
from sqlgym.policies.base import Policy, action
from sqlgym.policies.index import (
    BASELINES,
    BrutePolicy,
    GreedyPolicy,
    HeuristicPolicy,
    NoopPolicy,
    RandomPolicy,
    ReplayPolicy,
)
from sqlgym.policies.text2sql import TEXT_POLICIES, GoldPolicy, SchemaHeuristicPolicy
from sqlgym.tasks import task

POLICIES = BASELINES  # SQLIndex-v0's baselines, by name


def policies_for(env_id: str = "SQLIndex-v0") -> dict[str, type[Policy]]:
    """The baseline policies that can play ``env_id`` (from the task registry)."""
    return task(env_id).policies()


def make_baseline(name: str, env_id: str = "SQLIndex-v0") -> Policy:
    """A baseline policy by name; a misspelt name lists the valid ones."""
    known = policies_for(env_id)
    if name not in known:
        raise unknown_name(f"policy for {env_id}", name, sorted(known))
    return known[name]()


__all__ = ["BASELINES", "POLICIES", "TEXT_POLICIES", "BrutePolicy", "GoldPolicy", "GreedyPolicy", "HeuristicPolicy",
           "NoopPolicy", "Policy", "RandomPolicy", "ReplayPolicy", "SchemaHeuristicPolicy", "action", "make_baseline",
           "policies_for"]
