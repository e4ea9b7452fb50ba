"""Reward functions, table-driven: each row says why."""

from __future__ import annotations

import math

import pytest

from sqlgym.rewards.index import (
    default_index_reward,
    delta,
    gap_closed,
    hidden_gap_terminal,
    milestones,
    performance,
    seed_recipe_reward,
    shaping,
    wrong_index,
)
from sqlgym.types import Measurement, Transition


def m(cost, hidden=None):
    return Measurement(cost, hidden, 0, 0)


BASE, REF = m(1000, 1000), m(200, 250)


def tr(before, after, terminal=False, valid=True, reference=REF, **kw):
    return Transition("create_index", valid, before, after, BASE, reference, terminal, 1, **kw)


GAP = [
    ("no change closes nothing", 1000, 1000, 200, 0.0),
    ("reaching the reference closes the gap", 200, 1000, 200, 1.0),
    ("beating the reference is above 1", 100, 1000, 200, 1.125),
    ("worse than the start is negative", 1800, 1000, 200, -1.0),
    ("no headroom: relative to the baseline", 1100, 1000, 1000, -0.1),
]


@pytest.mark.parametrize("why,cost,base,ref,want", GAP, ids=[g[0] for g in GAP])
def test_gap_closed(why, cost, base, ref, want):
    assert gap_closed(cost, base, ref) == pytest.approx(want), why


STEP = [
    ("halving the cost earns log 2", shaping, tr(m(1000), m(500)), math.log(2)),
    ("doubling it costs log 2", shaping, tr(m(500), m(1000)), -math.log(2)),
    ("at the end the shaping is paid back", shaping, tr(m(500), m(500), terminal=True), -math.log(2)),
    ("terminal term uses hidden cost", hidden_gap_terminal, tr(m(500), m(200, 250), terminal=True), 1.0),
    ("terminal term is clipped above", hidden_gap_terminal, tr(m(500), m(1, 1), terminal=True, reference=m(900, 900)), 1.5),
    ("terminal term is clipped below", hidden_gap_terminal, tr(m(500), m(9000, 9000), terminal=True), -1.0),
    ("no terminal term mid-episode", hidden_gap_terminal, tr(m(500), m(200, 250)), 0.0),
    ("delta in points/100", delta, tr(m(1000), m(600)), 0.4),
    ("an unused index is penalised once each", wrong_index, tr(m(1000), m(1000), unused_new_indexes=("a",)), -1.0),
]


@pytest.mark.parametrize("why,fn,t,want", STEP, ids=[s[0] for s in STEP])
def test_reward_parts(why, fn, t, want):
    assert fn(t) == pytest.approx(want), why


def test_milestones_are_paid_once():
    f = milestones()
    assert f(tr(m(1000), m(400), best_performance=0.0)) == pytest.approx(0.15 + 0.25)  # crosses 25 and 50
    assert f(tr(m(400), m(300), best_performance=60.0)) == 0.0  # 70 points: nothing new
    assert f(tr(m(300), m(200), best_performance=70.0)) == pytest.approx(0.40)  # crosses 75


def test_default_return_telescopes_to_the_hidden_gap():
    r = default_index_reward()
    path = [m(1000), m(400), m(700), m(250, 250)]
    total = sum(r(tr(a, b, terminal=(i == len(path) - 2)))[0] for i, (a, b) in enumerate(zip(path, path[1:])))
    assert total == pytest.approx(1.0 - 3 * 0.01)


def test_seed_recipe_parts_are_logged():
    total, parts = seed_recipe_reward()(tr(m(1000), m(500)))
    assert set(parts) == {"action", "delta", "milestones", "wrong_index"}
    assert total == pytest.approx(sum(parts.values()))
    assert performance(500, 1000) == 50.0


# -- rewards pickle (vector envs, worker processes, checkpoints) ------------------------------------------
SAMPLES = [
    tr(m(1000), m(400), best_performance=0.0),
    tr(m(500), m(200, 250), terminal=True, unused_new_indexes=("a",)),
    tr(m(400), m(800), valid=False),
]


def _all_rewards():
    from sqlgym.rewards.compose import Composite
    from sqlgym.rewards.index import REWARDS

    out = [(name, factory()) for name, factory in REWARDS.items()]
    out.append(("milestones", milestones((10.0, 90.0), (1.0, 2.0))))
    out.append(("composite", Composite([("shaping", 0.5, shaping), ("delta", 2.0, delta),
                                        ("milestones", 1.0, milestones()), ("wrong", 0.1, wrong_index)])))
    return out


@pytest.mark.parametrize("name,reward", _all_rewards(), ids=[n for n, _ in _all_rewards()])
def test_rewards_pickle_and_give_the_same_values(name, reward):
    import pickle

    again = pickle.loads(pickle.dumps(reward))
    assert type(again) is type(reward) and repr(again) == repr(reward)
    for t in SAMPLES:
        assert again(t) == reward(t), (name, t)
    if hasattr(reward, "parts"):
        assert all(getattr(fn, "__name__", None) for _, _, fn in reward.parts)


def test_the_milestones_part_is_named():
    assert milestones().__name__ == "milestones"
    assert dict((n, fn) for n, _, fn in seed_recipe_reward().parts)["milestones"].__name__ == "milestones"


BAD_COMPOSITES = [
    ("repeated name", [("a", 1.0, delta), ("a", 2.0, shaping)], "unique; repeated: \\['a'\\]"),
    ("weight not a number", [("a", "1", delta)], "finite number"),
    ("weight not finite", [("a", float("nan"), delta)], "finite number"),
    ("fn not callable", [("a", 1.0, 3)], "callable"),
    ("not a triple", [("a", 1.0)], "expected \\(name, weight, fn\\)"),
    ("empty name", [("", 1.0, delta)], "non-empty string"),
]


@pytest.mark.parametrize("why,parts,message", BAD_COMPOSITES, ids=[b[0] for b in BAD_COMPOSITES])
def test_bad_composites_are_config_errors(why, parts, message):
    from sqlgym.errors import ConfigError
    from sqlgym.rewards.compose import Composite

    with pytest.raises(ConfigError, match=message):
        Composite(parts)
    with pytest.raises(ConfigError):
        milestones((25.0, 50.0), (0.1,))
