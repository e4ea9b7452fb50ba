"""Every curated scenario: the reference configuration closes the gap, doing nothing closes none,
and brute force (index every column until refused) does not beat thought."""

from __future__ import annotations

import pytest

import sqlgym
from sqlgym.eval.harness import run_episode

CURATED = sqlgym.list_scenarios("SQLIndex-v0", split="curated")


@pytest.mark.parametrize("sid", CURATED)
def test_reference_closes_the_gap_and_noop_closes_none(sid):
    greedy = run_episode("greedy", sid, seed=0)
    noop = run_episode("noop", sid, seed=0)
    assert noop["final"]["gap_closed"] == 0.0 and noop["final"]["performance"] == 0.0
    if greedy["steps"] > 1:  # the reference did something
        assert greedy["final"]["gap_closed"] == pytest.approx(1.0, abs=0.02)
        assert greedy["return"] > noop["return"]
    else:  # doing nothing is right here: every single index makes it worse
        assert greedy["final"]["reference_cost"] == greedy["final"]["baseline_cost"]


def test_brute_force_ends_below_the_reference_on_most_scenarios():
    brute = {sid: run_episode("brute", sid, seed=0)["final"]["hidden_gap_closed"] for sid in CURATED}
    below = [sid for sid, g in brute.items() if g < 0.9]
    assert len(below) > len(CURATED) / 2, brute
