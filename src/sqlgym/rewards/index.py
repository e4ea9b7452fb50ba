"""Index-tuning rewards, every one computed from measured costs (never from hint strings).

Default: potential-based shaping on the visible bindings (create/drop cycles earn exactly nothing,
and the shaping telescopes to zero at the end), a small cost per step and per invalid action, and a
terminal term from the *hidden* bindings, so fitting the visible ones does not pay.
The seed recipe's parts (per-action reward, delta, milestones paid once, wrong-index penalty) are
here too, built on the same measurements, for reproducing that recipe.
"""

from __future__ import annotations

import math
from numbers import Real

from sqlgym.errors import ConfigError, SqlgymError
from sqlgym.rewards.compose import Composite
from sqlgym.types import Measurement, Transition

NO_HEADROOM = 1e-3  # a reference within 0.1% of the baseline means "nothing to gain"


def performance(cost: float, baseline: float) -> float:
    """The seeds' 0-100 points: 100 * (1 - cost / baseline); negative when worse than at start."""
    return 100.0 * (1.0 - cost / baseline)


def gap_closed(cost: float, baseline: float, reference: float) -> float:
    """(baseline - cost) / (baseline - reference); relative to the baseline when there is no headroom."""
    denom = baseline - reference
    if denom <= NO_HEADROOM * baseline:
        denom = baseline
    return (baseline - cost) / denom


def potential(m: Measurement, baseline: Measurement) -> float:
    return -math.log(m.cost / baseline.cost)


def shaping(t: Transition) -> float:
    """phi(s') - phi(s) with phi = -log(cost / baseline); the end state's potential is 0."""
    after = 0.0 if t.terminal else potential(t.after, t.baseline)
    return after - potential(t.before, t.baseline)


def hidden_gap_terminal(t: Transition) -> float:
    """clip(gap closed on the hidden bindings, -1, 1.5), paid once at the end."""
    if not t.terminal:
        return 0.0
    g = gap_closed(_hidden(t.after), _hidden(t.baseline), _hidden(t.reference))
    return min(max(g, -1.0), 1.5)


def _hidden(m: Measurement) -> float:
    if m.hidden_cost is None:  # the environments measure the hidden bindings before the last step
        raise SqlgymError("a terminal transition needs hidden_cost on after, baseline and reference")
    return m.hidden_cost


def step_cost(t: Transition) -> float:
    return -1.0


def invalid(t: Transition) -> float:
    return 0.0 if t.valid else -1.0


def default_index_reward(alpha: float = 1.0, step: float = 0.01, invalid_penalty: float = 0.05) -> Composite:
    """The default reward; its return is alpha*clip(hidden gap) minus step and invalid costs."""
    return Composite([
        ("shaping", 1.0, shaping),
        ("terminal", alpha, hidden_gap_terminal),
        ("step", step, step_cost),
        ("invalid", invalid_penalty, invalid),
    ])


# -- the seed recipe, from real measurements ---------------------------------------------------------
SEED_ACTION_REWARD = {
    "inspect_query": 0.10, "analyze_indexes": 0.10, "analyze_statistics": 0.05, "list_tables": 0.05,
    "describe_table": 0.05, "list_queries": 0.05, "create_index": 0.10, "drop_index": 0.05,
    "rewrite_query": 0.10, "submit_report": 0.05,
}


def action_reward(t: Transition) -> float:
    """A small reward per valid action type (the seed's step_reward)."""
    return SEED_ACTION_REWARD.get(t.action_type, 0.0) if t.valid else 0.0


def delta(t: Transition) -> float:
    """Change in measured performance points / 100 (the seed's delta_reward, before scaling)."""
    b = t.baseline.cost
    return (performance(t.after.cost, b) - performance(t.before.cost, b)) / 100.0


class Milestones:
    """Bonus the first time measured performance crosses each threshold in an episode.

    A module-level class rather than a closure, so a reward built from it pickles (vector envs,
    multiprocessing workers, checkpoints).
    """

    __name__ = "milestones"

    def __init__(self, thresholds=(25.0, 50.0, 75.0), bonuses=(0.15, 0.25, 0.40)):
        self.thresholds, self.bonuses = tuple(thresholds), tuple(bonuses)
        if len(self.thresholds) != len(self.bonuses):
            raise ConfigError(f"milestones: {len(self.thresholds)} thresholds but {len(self.bonuses)} bonuses; "
                              "give one bonus per threshold")
        if not all(isinstance(x, Real) for x in self.thresholds + self.bonuses):
            raise ConfigError("milestones: thresholds and bonuses must be numbers")

    def __call__(self, t: Transition) -> float:
        now = performance(t.after.cost, t.baseline.cost)
        return sum(b for th, b in zip(self.thresholds, self.bonuses) if t.best_performance < th <= now)

    def __repr__(self) -> str:
        return f"Milestones({self.thresholds}, {self.bonuses})"


def milestones(thresholds=(25.0, 50.0, 75.0), bonuses=(0.15, 0.25, 0.40)) -> Milestones:
    """Bonus the first time measured performance crosses each threshold in an episode."""
    return Milestones(thresholds, bonuses)


def wrong_index(t: Transition) -> float:
    """-1 for each index this action created that no workload query's plan uses."""
    return -float(len(t.unused_new_indexes))


def seed_recipe_reward(delta_scale: float = 0.65, wrong_index_penalty: float = 0.05) -> Composite:
    return Composite([
        ("action", 1.0, action_reward),
        ("delta", delta_scale, delta),
        ("milestones", 1.0, milestones()),
        ("wrong_index", wrong_index_penalty, wrong_index),
    ])


REWARDS = {"default": default_index_reward, "seed": seed_recipe_reward}
