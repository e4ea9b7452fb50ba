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

POLICIES = {"noop": NoopPolicy, "random": RandomPolicy, "heuristic": HeuristicPolicy, "greedy": GreedyPolicy,
            "brute": BrutePolicy}


def make_policy(name: str) -> Policy:
    """A policy by name; a misspelt name lists the valid ones."""
    if name not in POLICIES:
        raise unknown_name("policy", name, sorted(POLICIES))
    return POLICIES[name]()


__all__ = ["POLICIES", "BrutePolicy", "GreedyPolicy", "HeuristicPolicy", "NoopPolicy", "Policy", "RandomPolicy", "ReplayPolicy",
           "action", "make_policy"]
