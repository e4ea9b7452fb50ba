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
from sqlgym.db.reference import reference_indexes
from sqlgym.envs.index_tuning import SQLIndexEnv
from sqlgym.errors import ConfigError
from sqlgym.scenarios.spec import Scenario, fingerprint
from sqlgym.types import IndexSpec

K_CANDIDATES = 64
D_SLOTS = 8
CANDIDATE_FEATURES = ("valid", "table_rows", "distinct_1", "distinct_2", "distinct_3", "width", "eq_weight",
                      "range_weight", "sort_weight", "group_weight", "cost_share", "write_weight", "size_vs_room",
                      "created", "prefix_taken")
# No "shipped with the scenario" flag: the generator ships only harmful indexes, so that flag would be a
# shortcut ("drop what was there") that fails on databases whose existing indexes carry the workload.
SLOT_FEATURES = ("exists", "size_vs_budget", "write_weight", "eq_weight", "distinct_1", "width", "used_weight",
                 "redundant", "unique")
GLOBAL_FEATURES = ("cost_vs_baseline", "storage_vs_budget", "indexes_vs_max", "steps_left")
HIGH = 10.0  # every feature is clipped to [0, HIGH]
MAX_DROPS = 2  # an index dropped this many times in an episode is not offered again


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
    distinct: dict[tuple[str, str], float]  # (table, column) -> distinct values / rows
    weight: dict[str, float]  # statement id -> its share of the workload's weight


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
    ratio = {(t, col): n_distinct[t][i] / max(1, n_rows[t]) for t, cols in scenario.tables.items()
             for i, col in enumerate(cols)}
    return StaticFeatures(cands, table, tuple(served), write, eq, ratio, {q.id: q.weight / total for q in scenario.workload})


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
    the remaining storage budget (its size on this data, measured once per scenario) or over the index
    limit, and creating an index dropped twice already in the episode: a bad drop (or a bad create) can be
    undone, and create/drop cycles cannot fill the step limit.

    ## Observation Space
    ``Box(0, 10, (K*15 + D*9 + 4,), float32)``: per candidate (``CANDIDATE_FEATURES``), per drop slot
    (``SLOT_FEATURES``) and global (``GLOBAL_FEATURES``), all things an agent could observe in
    SQLIndex-v0 (the schema, ``list_queries``' measured costs, ``analyze_indexes``, statistics); never the
    reference's choice nor a what-if cost of an index not created.

    ## Rewards, Starting State, Episode End
    As SQLIndex-v0; stop terminates, the scenario's step limit truncates.

    ## Arguments
    As SQLIndex-v0 (``scenario`` or ``split`` and ``n``, ``reward``), plus ``max_candidates`` (K, 64),
    ``drop_slots`` (D, 8) and ``warm_start`` (0): for training, the probability that an episode starts
    from a database that already has some of the indexes the reference would create, and sometimes a
    redundant prefix of one of them, played as SQLIndex-v0 actions before the first observation (their
    rewards are not returned; the baseline stays the scenario's). Without it an agent never meets an
    existing index that carries the workload, since the generator ships only harmful ones.

    ## Version History
    * v0: initial version.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(self, scenario: str | Scenario | None = None, split: str | None = None, n: int | None = None,
                 reward: str | Callable = "default", render_mode: str | None = None,
                 max_candidates: int = K_CANDIDATES, drop_slots: int = D_SLOTS, warm_start: float = 0.0):
        self.inner = SQLIndexEnv(scenario=scenario, split=split, n=n, reward=reward, render_mode=render_mode)
        self.render_mode = render_mode
        self.k, self.d = int(max_candidates), int(drop_slots)
        if not 0.0 <= float(warm_start) <= 1.0:
            raise ConfigError(f"warm_start is a probability in [0, 1], not {warm_start!r}")
        self.warm_start = float(warm_start)
        self.layout = Layout(self.k, self.d)
        self.action_space = spaces.Discrete(self.k + self.d + 1)
        self.observation_space = spaces.Box(0.0, HIGH, (self.layout.size,), dtype=np.float32)
        self._static: StaticFeatures | None = None
        self._mask = np.zeros(self.k + self.d + 1, dtype=bool)
        self._drops: dict[tuple, int] = {}  # index key -> times dropped this episode (twice: not created again)

    # -- episode ---------------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        _, info = self.inner.reset(seed=seed, options=options)
        sc, rt, db = self.inner.scenario, self.inner.rt, self.inner.db
        distinct = {t.name: [d for _, d, _ in rt.column_stats(db, t.name)] for t in sc.schema}
        self._static = _static(sc, self.k, dict(rt.snapshot.row_counts), distinct)
        self._drops = {}
        if self.warm_start and self.np_random.random() < self.warm_start:
            info = self._warm_start(info)
        obs = self._observe()
        return obs, self._with_mask(info)

    def _warm_start(self, info: dict[str, Any]) -> dict[str, Any]:
        """Create a random non-empty subset of the reference's indexes, and with probability 1/2 the
        leading column of a multi-column one (a redundant prefix), leaving at least 2 steps to play."""
        sc, rng = self.inner.scenario, self.np_random
        made = [spec for kind, spec, _ in reference_indexes(self.inner.rt.reference) if kind == "create" and spec]
        if not made:
            return info
        keep = [s for s in made if rng.random() < 0.5] or [made[int(rng.integers(len(made)))]]
        wide = [s for s in keep if len(s.columns) > 1]
        if wide and rng.random() < 0.5:
            keep.append(IndexSpec(wide[0].table, wide[0].columns[:1]))
        now: dict[str, Any] = {}
        for spec in keep[: max(0, sc.max_steps - 2)]:
            act = {"action_type": "create_index", "payload": {"table": spec.table, "columns": list(spec.columns)}}
            _, _, _, _, now = self.inner.step(json.dumps(act))  # refused (budget, limit): the next one
        return {**info, **{k: now[k] for k in self._STATE_KEYS if k in now}}

    _STATE_KEYS = ("step", "cost", "performance", "gap_closed", "storage_bytes", "n_indexes")

    def step(self, action):
        try:
            a = int(action)
        except (TypeError, ValueError, OverflowError):  # not an action at all: the inner env's invalid action
            a = -1
        slots = self.slots()
        if self.k <= a < self.k + len(slots):
            key = self.inner.db.indexes[slots[a - self.k]].key()
            self._drops[key] = self._drops.get(key, 0) + 1
        obs_text, reward, terminated, truncated, info = self.inner.step(self._as_json(a, slots))
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

    def _as_json(self, a: int, slots: list[str] | None = None) -> str:
        if 0 <= a < len(self.candidates):
            c = self.candidates[a]
            return json.dumps({"action_type": "create_index", "payload": {"table": c.table, "columns": list(c.columns)}})
        if self.k <= a < self.k + self.d:
            slots = self.slots() if slots is None else slots
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
            ok = not created and not full and est <= room and self._drops.get(spec.key(), 0) < MAX_DROPS
            cand[i, F["valid"]] = float(ok)
            mask[i] = ok
        cand[n:] = 0.0
        slots = np.zeros((self.d, len(SLOT_FEATURES)), dtype=np.float32)
        names = self.slots()
        used = rt.index_users(db, ep.rewrites) if names else {}  # what analyze_indexes shows as "used by"
        for j, name in enumerate(names):
            ix = db.indexes[name]
            redundant = any(o is not ix and o.table == ix.table and o.where is None
                            and o.columns[: len(ix.columns)] == ix.columns for o in db.indexes.values())
            slots[j] = (1.0, db.index_bytes(name) / max(1, ep.budget), st.write_weight.get(ix.table, 0.0),
                        st.eq_weight.get((ix.table, ix.columns[0]), 0.0), st.distinct.get((ix.table, ix.columns[0]), 0.0),
                        len(ix.columns) / c.max_columns, sum(st.weight[q] for q in set(used.get(name, ()))),
                        float(redundant), float(ix.unique))
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
