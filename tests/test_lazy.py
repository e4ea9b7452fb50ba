"""Deferred DDL changes speed, never a number: random episodes on the lazy database give exactly the rewards
and info an eagerly built database gives, each measured from a cold cost cache."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest

import sqlgym
import sqlgym.db.runtime as runtime
import sqlgym.envs.index_tuning as index_tuning
from sqlgym.db.sqlite import Database

SCENARIOS = ["easy/drop_redundant", "hard/shared_index_budget", "medium/write_heavy_trap", "medium/stale_statistics",
             *sqlgym.list_scenarios("SQLIndex-v0", "train", n=3)]


def _episodes(sid: str) -> list:
    env = gym.make("SQLIndexDiscrete-v0", scenario=sid)
    out = []
    for ep in range(4):
        rng = np.random.default_rng(ep)
        obs, info = env.reset(seed=ep)
        while True:
            a = int(rng.choice(np.flatnonzero(info["action_mask"])))
            obs, r, term, trunc, info = env.step(a)
            out.append((a, r, json.dumps({k: v for k, v in info.items() if k != "action_mask"}, default=str),
                        obs.tobytes().hex()))
            if term or trunc:
                break
    env.close()
    return out


@pytest.mark.parametrize("sid", SCENARIOS)
def test_lazy_and_eager_databases_agree_exactly(sid, monkeypatch):
    runtime._RUNTIMES.clear()
    lazy = _episodes(sid)
    runtime._RUNTIMES.clear()  # a cold cost cache again: every cost measured on the eager database
    monkeypatch.setattr(index_tuning, "LazyDatabase", lambda snap, sc, sizes=None: Database(snap, sc))
    eager = _episodes(sid)
    for i, (x, y) in enumerate(zip(lazy, eager)):
        assert x[:3] == y[:3], f"step {i}: {x[:3]} != {y[:3]}"
        assert x[3] == y[3], f"step {i}: the observations differ"
    assert len(lazy) == len(eager)
