"""SQLIndexDiscrete-v0: SQLIndex-v0 for classical RL, a masked discrete action over candidate indexes."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from sqlgym.db.advisor import ranked_candidates, statement_roles
from sqlgym.envs.index_tuning import SQLIndexEnv
from sqlgym.scenarios.spec import Scenario, fingerprint
from sqlgym.types import IndexSpec

K_CANDIDATES = 64
D_SLOTS = 8
CANDIDATE_FEATURES = ("valid", "table_rows", "distinct_1", "distinct_2", "distinct_3", "width", "eq_weight",
                      "range_weight", "sort_weight", "group_weight", "cost_share", "write_weight", "size_vs_room",
                      "created", "prefix_taken")
SLOT_FEATURES = ("exists", "size_vs_budget", "from_scenario", "write_weight", "eq_weight")
GLOBAL_FEATURES = ("cost_vs_baseline", "storage_vs_budget", "indexes_vs_max", "steps_left")
HIGH = 10.0  # every feature is clipped to [0, HIGH]


@dataclass(frozen=True)
class Layout:
    """Where each feature sits in the flat observation (for reading it, and for the docs)."""

    k: int
    d: int

    @property
    def size(self) -> int:
        return self.k * len(CANDIDATE_FEATURES) + self.d * len(SLOT_FEATURES) + len(GLOBAL_FEATURES)


@dataclass(frozen=True)
class StaticFeatures:
    """What the scenario says about each candidate before any step: roles, weights, table sizes."""

    candidates: tuple[IndexSpec, ...]
    table: np.ndarray  # (k, F) float32, the static columns filled
    statements: tuple[tuple[str, ...], ...]  # per candidate, the statements whose roles use its leading column
    write_weight: dict[str, float]  # table -> share of the workload's weight that writes it
    eq_weight: dict[tuple[str, str], float]  # (table, column) -> share of weight filtering it by equality


_STATIC: dict[tuple[str, int], StaticFeatures] = {}


def _static(scenario: Scenario, k: int, rows: dict[str, int], distinct: dict[str, list[int]]) -> StaticFeatures:
    key = (fingerprint(scenario), k)
    if key not in _STATIC:
        if len(_STATIC) > 512:
            _STATIC.clear()
        _STATIC[key] = _make_static(scenario, k, rows, distinct)
    return _STATIC[key]


def _make_static(scenario: Scenario, k: int, n_rows: dict[str, int], n_distinct: dict[str, list[int]]) -> StaticFeatures:
    cands = tuple(ranked_candidates(scenario, k))
    total = sum(q.weight for q in scenario.workload)
    roles = {q.id: statement_roles(q.sql, scenario.tables) if q.kind == "select" else {} for q in scenario.workload}
    write: dict[str, float] = {}
    eq: dict[tuple[str, str], float] = {}
    for q in scenario.workload:
        if q.kind == "dml":
            for t in q.tables:
                write[t] = write.get(t, 0.0) + q.weight / total
        for t, role in roles[q.id].items():
            for col in role.eq:
                eq[(t, col)] = eq.get((t, col), 0.0) + q.weight / total
    F = {name: i for i, name in enumerate(CANDIDATE_FEATURES)}
    table = np.zeros((k, len(CANDIDATE_FEATURES)), dtype=np.float32)
    served: list[tuple[str, ...]] = []
    for i, c in enumerate(cands):
        cols = scenario.tables[c.table]
        r_rows = n_rows[c.table]
        table[i, F["table_rows"]] = math.log10(1 + r_rows) / 7
        for j, col in enumerate(c.columns[:3]):
            table[i, F["distinct_1"] + j] = n_distinct[c.table][cols.index(col)] / max(1, r_rows)
        table[i, F["width"]] = len(c.columns) / scenario.constraints.max_columns
        who = []
        for q in scenario.workload:
            r = roles[q.id].get(c.table)
            if r is None:
                continue
            w = q.weight / total
            lead = c.columns[0]
            table[i, F["eq_weight"]] += w * (lead in r.eq)
            table[i, F["range_weight"]] += w * (lead in r.range)
            table[i, F["sort_weight"]] += w * any(x in r.sort for x in c.columns)
            table[i, F["group_weight"]] += w * any(x in r.group for x in c.columns)
            if lead in r.eq + r.range + r.sort + r.group:
                who.append(q.id)
        table[i, F["write_weight"]] = write.get(c.table, 0.0)
        served.append(tuple(who))
    return StaticFeatures(cands, table, tuple(served), write, eq)


class SQLIndexDiscreteEnv(gym.Env):
    """SQLIndex-v0's task for classical RL: choose among candidate indexes, drop slots and stop, with a mask.

    ## Description
    The same scenarios, database, cost meter, budgets and reward as SQLIndex-v0: each discrete action is
    played as the SQLIndex-v0 action it stands for, on an SQLIndex-v0 env inside (the reward is that
    env's reward, potential-based shaping on the visible bindings plus the hidden-binding terminal term).

    ## Action Space
    ``Discrete(K + D + 1)``: ``0..K-1`` create candidate ``i`` (the library's candidate generator,
    ``sqlgym.db.advisor.ranked_candidates``, deterministic per scenario, padded to ``K``); ``K..K+D-1``
    drop the index in slot ``j`` (existing indexes sorted by name); ``K+D`` stop (``submit_report``).
    ``action_masks()`` and ``info["action_mask"]`` mask padding, duplicates, empty slots, an index over
    the remaining storage budget (its size on this data, measured once per scenario) or over the index limit.

    ## Observation Space
    ``Box(0, 10, (K*15 + D*5 + 4,), float32)``: per candidate (``CANDIDATE_FEATURES``), per drop slot
    (``SLOT_FEATURES``) and global (``GLOBAL_FEATURES``), all things an agent could observe in
    SQLIndex-v0 (the schema, ``list_queries``' measured costs, ``analyze_indexes``, statistics); never the
    reference's choice nor a what-if cost of an index not created.

    ## Rewards, Starting State, Episode End
    As SQLIndex-v0; stop terminates, the scenario's step limit truncates.

    ## Arguments
    As SQLIndex-v0 (``scenario`` or ``split`` and ``n``, ``reward``), plus ``max_candidates`` (K, 64) and
    ``drop_slots`` (D, 8).

    ## Version History
    * v0: initial version.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(self, scenario: str | Scenario | None = None, split: str | None = None, n: int | None = None,
                 reward: str | Callable = "default", render_mode: str | None = None,
                 max_candidates: int = K_CANDIDATES, drop_slots: int = D_SLOTS):
        self.inner = SQLIndexEnv(scenario=scenario, split=split, n=n, reward=reward, render_mode=render_mode)
        self.render_mode = render_mode
        self.k, self.d = int(max_candidates), int(drop_slots)
        self.layout = Layout(self.k, self.d)
        self.action_space = spaces.Discrete(self.k + self.d + 1)
        self.observation_space = spaces.Box(0.0, HIGH, (self.layout.size,), dtype=np.float32)
        self._static: StaticFeatures | None = None
        self._mask = np.zeros(self.k + self.d + 1, dtype=bool)

    # -- episode ---------------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        _, info = self.inner.reset(seed=seed, options=options)
        sc, rt, db = self.inner.scenario, self.inner.rt, self.inner.db
        distinct = {t.name: [d for _, d, _ in rt.column_stats(db, t.name)] for t in sc.schema}
        self._static = _static(sc, self.k, dict(rt.snapshot.row_counts), distinct)
        obs = self._observe()
        return obs, self._with_mask(info)

    def step(self, action):
        try:
            a = int(action)
        except (TypeError, ValueError, OverflowError):  # not an action at all: the inner env's invalid action
            a = -1
        obs_text, reward, terminated, truncated, info = self.inner.step(self._as_json(a))
        obs = self._observe()
        info = self._with_mask(info)
        info["action_text"] = obs_text.splitlines()[0] if obs_text else ""
        return obs, reward, terminated, truncated, info

    def action_masks(self) -> np.ndarray:
        """The valid actions now (the method sb3-contrib's MaskablePPO calls)."""
        return self._mask.copy()

    def render(self):
        return self.inner.render()

    def close(self):
        self.inner.close()

    # -- actions ---------------------------------------------------------------------------------
    @property
    def candidates(self) -> tuple[IndexSpec, ...]:
        assert self._static is not None, "call reset() first"
        return self._static.candidates

    def slots(self) -> list[str]:
        """Index names in drop-slot order (existing indexes, sorted by name)."""
        return sorted(self.inner.db.indexes)[: self.d]

    def _as_json(self, a: int) -> str:
        if 0 <= a < len(self.candidates):
            c = self.candidates[a]
            return json.dumps({"action_type": "create_index", "payload": {"table": c.table, "columns": list(c.columns)}})
        if self.k <= a < self.k + self.d:
            slots = self.slots()
            j = a - self.k
            name = slots[j] if j < len(slots) else f"(empty slot {j})"
            return json.dumps({"action_type": "drop_index", "payload": {"name": name}})
        if a == self.k + self.d:
            return json.dumps({"action_type": "submit_report", "payload": {"summary": "stop"}})
        return json.dumps({"action_type": "invalid", "payload": {"index": a}})  # padding or out of range

    # -- observation -----------------------------------------------------------------------------
    def _observe(self) -> np.ndarray:
        st, env = self._static, self.inner
        assert st is not None
        ep, db, rt, sc = env.ep, env.db, env.rt, env.scenario
        c = sc.constraints
        F = {name: i for i, name in enumerate(CANDIDATE_FEATURES)}
        cand = st.table.copy()
        n = len(st.candidates)
        have = {ix.key() for ix in db.indexes.values()}
        leads = {(ix.table, ix.columns[0]) for ix in db.indexes.values()}
        costs = {q.id: q.weight * rt.meter.query_cost(db, q, "visible", ep.rewrites.get(q.id)) for q in sc.workload}
        total = sum(costs.values()) or 1.0
        room = max(0, ep.budget - ep.current.storage_bytes)
        full = ep.current.n_indexes >= c.max_indexes
        mask = np.zeros(self.k + self.d + 1, dtype=bool)
        for i, spec in enumerate(st.candidates):
            created = spec.key() in have
            est = rt.index_bytes(spec)
            cand[i, F["cost_share"]] = sum(costs[q] for q in st.statements[i]) / total
            cand[i, F["size_vs_room"]] = est / room if room else HIGH
            cand[i, F["created"]] = float(created)
            cand[i, F["prefix_taken"]] = float((spec.table, spec.columns[0]) in leads and not created)
            ok = not created and not full and est <= room
            cand[i, F["valid"]] = float(ok)
            mask[i] = ok
        cand[n:] = 0.0
        slots = np.zeros((self.d, len(SLOT_FEATURES)), dtype=np.float32)
        for j, name in enumerate(self.slots()):
            ix = db.indexes[name]
            slots[j] = (1.0, db.index_bytes(name) / max(1, ep.budget), float(db.origin.get(name) == "scenario"),
                        st.write_weight.get(ix.table, 0.0), st.eq_weight.get((ix.table, ix.columns[0]), 0.0))
            mask[self.k + j] = True
        mask[self.k + self.d] = True
        g = np.array([ep.current.cost / max(1.0, ep.baseline.cost), ep.current.storage_bytes / max(1, ep.budget),
                      ep.current.n_indexes / c.max_indexes, (sc.max_steps - ep.steps) / sc.max_steps], dtype=np.float32)
        self._mask = mask
        return np.clip(np.concatenate([cand.ravel(), slots.ravel(), g]), 0.0, HIGH).astype(np.float32)

    def _with_mask(self, info: dict[str, Any]) -> dict[str, Any]:
        info = dict(info)
        info["action_mask"] = self._mask.copy()
        info["drop_slots"] = self.slots()
        info["candidate_slots"] = self.k
        return info
