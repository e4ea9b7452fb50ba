"""Adapters between sqlgym environments and trainers (TRL).

``EnvAdapter`` subclasses (one per env id, see :mod:`sqlgym.integrations.base`) hold what is
specific to an environment; :mod:`sqlgym.integrations.trl` builds datasets, reward functions and
``environment_factory`` classes from them. Nothing here imports TRL, torch or datasets at import time.
"""

from sqlgym.integrations.base import EnvAdapter, Episode, get_adapter, register_adapter
from sqlgym.integrations.prompts import parse_plan, render_plan

__all__ = ["EnvAdapter", "Episode", "get_adapter", "parse_plan", "register_adapter", "render_plan"]
