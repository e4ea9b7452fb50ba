"""Rewards: pure functions of a Transition, composed with weights (docs/architecture.md, "Rewards")."""

from sqlgym.rewards.compose import Composite
from sqlgym.rewards.index import default_index_reward, seed_recipe_reward

__all__ = ["Composite", "default_index_reward", "seed_recipe_reward"]
