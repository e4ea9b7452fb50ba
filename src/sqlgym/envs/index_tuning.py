"""SQLIndex-v0: diagnose slow queries and tune indexes on a real SQLite database."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import apsw
import gymnasium as gym
from gymnasium import spaces

from sqlgym.db.advisor import budget_bytes, default_index_name
from sqlgym.db.cost import WORKLOAD_BUDGET
from sqlgym.db.equivalence import check_rewrite
from sqlgym.db.lazy import LazyDatabase
from sqlgym.db.plans import partial_where
from sqlgym.db.runtime import Runtime, runtime_for
from sqlgym.db.sqlite import Database
from sqlgym.db.validate import check_scenario_sql
from sqlgym.envs.actions import AGENT_ERRORS, INDEX_ACTIONS, Action, InvalidAction, failure_text
from sqlgym.envs.text import CHARSET, MAX_ACTION, MAX_OBS, TextSpace, clean, num, size
from sqlgym.envs.text import table as text_table
from sqlgym.errors import ConfigError, unknown_name
from sqlgym.rewards.index import REWARDS, gap_closed, performance
from sqlgym.scenarios.catalog import list_scenarios, load_scenario
from sqlgym.scenarios.spec import QuerySpec, Scenario
from sqlgym.types import IndexSpec, Measurement, Transition

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")  # used with fullmatch: "ix\n" is not a name
ACTION_HELP = INDEX_ACTIONS.help_line()


def _n(k: int, one: str, many: str) -> str:
    return f"{k} {one if k == 1 else many}"


def _resolve(scenario: str | Scenario) -> Scenario:
    """The validated spec; SQLite prepares its statements too (an unknown column fails here, not at reset)."""
    spec = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    check_scenario_sql(spec)
    return spec


@dataclass
class EpisodeState:
    """Everything one episode changes, in one place (the database aside)."""

    scenario: Scenario
    baseline: Measurement
    reference: Measurement
    budget: int
    current: Measurement
    rewrites: dict[str, str] = field(default_factory=dict)
    steps: int = 0
    best_performance: float = 0.0
    done: bool = False


class SQLIndexEnv(gym.Env):
    """Slow-query diagnosis and index tuning on a real, measured SQLite database.

    ## Description
    Each episode opens a scenario: a database generated from its spec and a workload of
    parameterised statements (some of them writes). The agent inspects queries, plans, indexes and
    statistics, creates and drops indexes, rewrites queries, and submits a report. Costs are
    SQLite's own counters (``VM_STEP + 15 * page reads``), averaged over parameter bindings and
    weighted; writes are measured inside a rolled-back savepoint, so indexes cost what they cost.

    ## Action Space
    ``Text``: a JSON object ``{"action_type": ..., "payload": {...}}`` (a dict also works), one of
    {actions}.

    ## Observation Space
    ``Text``: what the tool returned, printable ASCII, at most 16,000 characters.

    ## Rewards
    ``reward="default"``: potential-based shaping ``-log(cost/baseline)`` differences on the
    visible bindings, -0.01 a step, -0.05 an invalid action, and at the end
    ``clip(gap closed on hidden bindings, -1, 1.5)``; the shaping telescopes to zero, so the
    return is the hidden gap closed minus step costs. ``reward="seed"``: the seed recipe from real
    measurements. Or any callable ``Transition -> (float, parts)``.

    ## Starting State
    The scenario's database as built (existing indexes included), restored from a snapshot.

    ## Episode End
    Terminated by ``submit_report``; truncated at the scenario's ``max_steps``. Both pay the
    terminal term.

    ## Arguments
    ``scenario`` (an id, see ``sqlgym.list_scenarios``, or a ``Scenario`` object) or ``split`` (``curated``, ``train``,
    ``validation``, ``test``; drawn per reset with the env's RNG) and ``n`` (generated ids in the
    pool); ``reward``; ``render_mode="ansi"``; ``record_wall_time`` (adds ``info["wall_ms"]``, for
    humans only).

    ## Version History
    * v0: initial version.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(self, scenario: str | Scenario | None = None, split: str | None = None, n: int | None = None,
                 reward: str | Callable = "default", render_mode: str | None = None,
                 record_wall_time: bool = False):
        if scenario is not None and split is not None:
            raise ConfigError("give either scenario= or split=, not both")
        if scenario is not None:
            _resolve(scenario)  # unknown ids fail here, with "did you mean"
            self._pool: list[str | Scenario] = [scenario]
        else:
            self._pool = list(list_scenarios(split or "curated", n))
            if not self._pool:
                raise ConfigError(f"split {split!r} has no scenarios (n={n})")
        if isinstance(reward, str):
            if reward not in REWARDS:
                raise unknown_name("reward", reward, sorted(REWARDS))
            reward = REWARDS[reward]()  # type: ignore[operator]
        elif not callable(reward):
            raise ConfigError(f"reward must be a name ({', '.join(sorted(REWARDS))}) or a callable, not {type(reward).__name__}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise unknown_name("render_mode", str(render_mode), self.metadata["render_modes"])
        self.reward_fn: Callable[[Transition], tuple[float, dict[str, float]]] = reward  # type: ignore[assignment]
        self.render_mode = render_mode
        self.record_wall_time = record_wall_time
        self.observation_space = TextSpace(max_length=MAX_OBS, min_length=1, charset=CHARSET)
        self.action_space = spaces.Text(max_length=MAX_ACTION, min_length=1, charset=CHARSET)
        self._rt: Runtime | None = None
        self._db: Database | None = None
        self._second: Database | None = None
        self._last_obs = ""
        self._ep: EpisodeState | None = None

    # -- episode ---------------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        options = options or {}
        if "scenario" in options:
            sid = options["scenario"]
        elif len(self._pool) == 1:
            sid = self._pool[0]
        else:
            sid = self._pool[int(self.np_random.integers(len(self._pool)))]
        scenario = _resolve(sid)
        rt = runtime_for(scenario)
        if rt is not self._rt or self._db is None:
            self.close()
            self._rt, self._db = rt, LazyDatabase(rt.snapshot, scenario, sizes=rt.sizes)
        else:
            self._db.restore()
        baseline = rt.baseline(self._db)
        self._ep = EpisodeState(
            scenario=scenario, baseline=baseline, reference=rt.reference.measurement,
            budget=budget_bytes(scenario, rt.snapshot.table_bytes),
            current=Measurement(baseline.cost, None, baseline.storage_bytes, baseline.n_indexes))
        self._last_obs = clean(self._intro())
        info = self._info(self.ep.current, valid=True, error=None, parts={})
        return self._last_obs, info

    @property
    def scenario(self) -> Scenario:
        return self.ep.scenario

    @property
    def ep(self) -> EpisodeState:
        """The current episode's state (after ``reset``)."""
        if self._ep is None:
            raise gym.error.ResetNeeded("call reset() first")
        return self._ep

    @property
    def db(self) -> Database:
        if self._db is None:
            raise gym.error.ResetNeeded("call reset() first")
        return self._db

    @property
    def rt(self) -> Runtime:
        if self._rt is None:
            raise gym.error.ResetNeeded("call reset() first")
        return self._rt

    def step(self, action):
        t0 = time.perf_counter()
        ep = self._ep
        if ep is None or ep.done:
            obs = "Error: the episode is over; call reset()."
            if ep is None:
                return obs, 0.0, True, False, {"action_valid": False, "error": obs}
            return obs, 0.0, True, False, self._info(ep.current, valid=False, error=obs, parts={})
        ep.steps += 1
        before, error = ep.current, None
        unused: tuple[str, ...] = ()
        act: Action | None = None
        obs = ""
        try:
            act = INDEX_ACTIONS.parse(action)
            obs, unused = self._dispatch(act)
        except InvalidAction as e:
            error = str(e)
        except AGENT_ERRORS as e:  # the one boundary: nothing the agent sends escapes step()
            error = failure_text(e)
        if error is not None:
            obs = f"Error: {error}"
        terminated = act is not None and error is None and act.type == "submit_report"
        truncated = not terminated and ep.steps >= ep.scenario.max_steps
        end = terminated or truncated
        after = self.rt.meter.measure(self.db, ep.rewrites, hidden=end)
        for qid, sql in ep.rewrites.items():
            if self.rt.meter.rewrite_fails(self.db, self._query_spec(qid), sql):
                obs += f"\nNote: the rewrite of {qid} fails on the database as it is now; the original's cost counts for {qid}."
        tr = Transition(
            action_type=act.type if act else "invalid", valid=error is None, before=before, after=after,
            baseline=ep.baseline, reference=ep.reference, terminal=end, step=ep.steps, error=error,
            payload=dict(act.payload) if act else {}, unused_new_indexes=tuple(unused),
            best_performance=ep.best_performance,
        )
        reward, parts = self.reward_fn(tr)
        ep.current = after
        ep.best_performance = max(ep.best_performance, performance(after.cost, ep.baseline.cost))
        if end:
            ep.done = True
            obs += "\n" + self._final(after, truncated)
        self._last_obs = clean(obs)
        info = self._info(after, valid=error is None, error=error, parts=parts)
        if end and after.hidden_cost is not None and ep.baseline.hidden_cost is not None:
            info["hidden_cost"] = after.hidden_cost
            info["hidden_gap_closed"] = gap_closed(after.hidden_cost, ep.baseline.hidden_cost,
                                                   ep.reference.hidden_cost or 0.0)
        if self.record_wall_time:
            info["wall_ms"] = (time.perf_counter() - t0) * 1e3
        return self._last_obs, float(reward), terminated, truncated, info

    def render(self):
        if self.render_mode == "ansi":
            m = self.ep.current
            return (f"[{self.ep.scenario.id} step {self.ep.steps}/{self.ep.scenario.max_steps}] cost {num(m.cost)} "
                    f"({performance(m.cost, self.ep.baseline.cost):+.1f} points), indexes {m.n_indexes}, "
                    f"storage {size(m.storage_bytes)}/{size(self.ep.budget)}\n{self._last_obs}\n")
        return None

    def close(self):
        for db in (self._db, self._second):
            if db is not None:
                db.close()
        self._db = self._second = None
        self._rt = None

    # -- info and text -----------------------------------------------------------------------------
    def _info(self, m: Measurement, *, valid: bool, error: str | None, parts: dict) -> dict[str, Any]:
        b = self.ep.baseline.cost
        return {
            "scenario": self.ep.scenario.id, "difficulty": self.ep.scenario.difficulty,
            "archetype": self.ep.scenario.archetype, "step": self.ep.steps,
            "cost": m.cost, "baseline_cost": b, "reference_cost": self.ep.reference.cost,
            "performance": performance(m.cost, b), "gap_closed": gap_closed(m.cost, b, self.ep.reference.cost),
            "storage_bytes": m.storage_bytes, "budget_bytes": self.ep.budget, "n_indexes": m.n_indexes,
            "action_valid": valid, "error": error, "reward_parts": dict(parts),
        }

    def _intro(self) -> str:
        s, snap = self.ep.scenario, self.rt.snapshot
        tables = ", ".join(f"{t.name} ({snap.row_counts[t.name]:,} rows)" for t in s.schema)
        writes = sum(q.kind == "dml" for q in s.workload)
        c = s.constraints
        return (
            f"Scenario {s.id} ({s.difficulty}). {s.description}\n"
            f"Tables: {tables}.\n"
            f"Workload: {len(s.workload)} statements ({_n(len(s.workload) - writes, 'query', 'queries')}, "
            f"{_n(writes, 'write', 'writes')}); "
            f"cost {num(self.ep.baseline.cost)} (SQLite VM steps + 15 x page reads, mean over bindings, weighted).\n"
            f"Indexes: {len(self.db.indexes)} (at most {c.max_indexes}, {c.max_columns} columns each); "
            f"storage {size(self.ep.baseline.storage_bytes)} of a {size(self.ep.budget)} budget. "
            f"Rewrites {'allowed' if c.allow_rewrites else 'not allowed'}.\n"
            f"You have {s.max_steps} steps. Send one JSON action a step: "
            f'{{"action_type": ..., "payload": {{...}}}} with one of: {ACTION_HELP}.'
        )

    def _cost_line(self, before: float) -> str:
        after = self.rt.meter.workload_cost(self.db, "visible", self.ep.rewrites)
        return (f"Workload cost {num(before)} -> {num(after)} "
                f"(performance {performance(after, self.ep.baseline.cost):+.1f} points).")

    def _final(self, m: Measurement, truncated: bool) -> str:
        why = "Step limit reached." if truncated else "Report submitted."
        return (f"{why} Final workload cost {num(m.cost)} from {num(self.ep.baseline.cost)} "
                f"({performance(m.cost, self.ep.baseline.cost):+.1f} points); reference {num(self.ep.reference.cost)}.")

    # -- actions -----------------------------------------------------------------------------------
    def _dispatch(self, act: Action) -> tuple[str, tuple[str, ...]]:
        handler = getattr(self, "_do_" + act.type)
        result = handler(**act.payload)
        return result if isinstance(result, tuple) else (result, ())

    def _table(self, name: str):
        if name not in self.ep.scenario.tables:
            raise InvalidAction(f"unknown table {name!r}; tables: {', '.join(self.ep.scenario.tables)}")
        return self.ep.scenario.table(name)

    def _query_spec(self, qid: str) -> QuerySpec:
        for q in self.ep.scenario.workload:
            if q.id == qid:
                return q
        raise InvalidAction(f"unknown query_id {qid!r}; queries: {', '.join(self.ep.scenario.queries)}")

    def _do_list_tables(self) -> str:
        rows = [[t.name, f"{self.rt.snapshot.row_counts[t.name]:,}", len(t.columns),
                 sum(ix.table == t.name for ix in self.db.indexes.values())] for t in self.ep.scenario.schema]
        return text_table(rows, ["table", "rows", "columns", "indexes"])

    def _do_describe_table(self, table: str) -> str:
        t = self._table(table)
        rows = [[c.name, c.type, "PK" if c.primary_key else (f"-> {c.references}" if c.references else "")]
                for c in t.columns]
        idx = [f"{n}({', '.join(ix.columns)})" for n, ix in self.db.indexes.items() if ix.table == table]
        return (f"{table}: {self.rt.snapshot.row_counts[table]:,} rows\n" + text_table(rows, ["column", "type", "key"])
                + f"\nIndexes: {', '.join(idx) or 'none'}")

    def _do_list_queries(self) -> str:
        meter = self.rt.meter
        total = meter.workload_cost(self.db, "visible", self.ep.rewrites)
        rows = []
        for q in self.ep.scenario.workload:
            c = q.weight * meter.query_cost(self.db, q, "visible", self.ep.rewrites.get(q.id))
            rows.append([q.id, "write" if q.kind == "dml" else "query", q.weight, num(c), f"{100 * c / total:.1f}%",
                         " ".join(self.ep.rewrites.get(q.id, q.sql).split())[:90]])
        return text_table(rows, ["id", "kind", "weight", "weighted cost", "share", "sql"])

    def _do_inspect_query(self, query_id: str) -> str:
        q = self._query_spec(query_id)
        sql = self.ep.rewrites.get(q.id, q.sql)
        b = self.rt.snapshot.visible[q.id][0]
        plan = "\n".join(f"  {'  ' * (p > 0)}{d}" for _, p, d in self.db.explain(sql, b))
        one = self.db.measure(sql, b, dml=q.kind == "dml", budget=WORKLOAD_BUDGET)
        mean = self.rt.meter.query_cost(self.db, q, "visible", self.ep.rewrites.get(q.id))
        return (f"{q.id} ({'write' if q.kind == 'dml' else 'query'}, weight {q.weight}"
                f"{', rewritten' if q.id in self.ep.rewrites else ''}):\n  {sql}\n"
                f"Example binding: {b}\nPlan:\n{plan}\n"
                f"Measured on that binding: {one.vm_steps:,} VM steps, {one.page_reads:,} page reads, "
                f"{one.fullscan_steps:,} full-scan steps, {one.sorts} sorts, {one.autoindex} automatic indexes "
                f"(cost {num(one.cost)}). Mean cost over bindings: {num(mean)}.")

    def _index_users(self) -> dict[str, list[str]]:
        return self.rt.index_users(self.db, self.ep.rewrites)

    def _do_analyze_indexes(self) -> str:
        used = self._index_users()
        rows = [[n, ix.table, ", ".join(ix.columns) + (f" WHERE {ix.where}" if ix.where else ""),
                 "yes" if ix.unique else "", self.db.origin.get(n, ""), size(self.db.index_bytes(n)),
                 ", ".join(sorted(set(used.get(n, [])))) or "(unused)"] for n, ix in self.db.indexes.items()]
        head = (f"{len(rows)} indexes (at most {self.ep.scenario.constraints.max_indexes}); storage "
                f"{size(self.db.storage_bytes())} of {size(self.ep.budget)}.")
        if not rows:
            return head
        return head + "\n" + text_table(rows, ["name", "table", "columns", "unique", "origin", "size", "used by"])

    def _do_analyze_statistics(self, table: str, refresh: bool = False) -> str:
        self._table(table)
        note = ""
        if refresh:
            self.db.analyze(table)
            note = f"ANALYZE {table} ran; statistics are fresh.\n"
        stats = self.rt.column_stats(self.db, table)
        has_stat1 = self.db.query("SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_stat1'", budget=1_000_000)[1]
        # a user's file may never have been analyzed: no sqlite_stat1 at all
        stat1 = self.db.query("SELECT idx, stat FROM sqlite_stat1 WHERE lower(tbl) = ?", (table,),
                              budget=1_000_000)[1] if has_stat1 else []
        return (note + f"{table}: {self.rt.snapshot.row_counts[table]:,} rows\n"
                + text_table([[c, d, n] for c, d, n in stats], ["column", "distinct", "nulls"])
                + "\nsqlite_stat1 (what the planner believes: rows, then rows per key prefix):\n"
                + ("\n".join(f"  {idx or '(table)'}: {st}" for idx, st in stat1) or "  (none)"))

    def _do_create_index(self, table: str, columns: list, unique: bool = False, where: str | None = None,
                         name: str | None = None):
        t = self._table(table)
        c = self.ep.scenario.constraints
        if not columns or not all(isinstance(x, str) for x in columns):
            raise InvalidAction("create_index: 'columns' must be a non-empty list of column names")
        bad = [x for x in columns if x not in t.column_names]
        if bad:
            raise InvalidAction(f"unknown columns {bad} in {table}; columns: {', '.join(t.column_names)}")
        if len(set(columns)) != len(columns):
            raise InvalidAction("create_index: a column appears twice")
        if len(columns) > c.max_columns:
            raise InvalidAction(f"at most {c.max_columns} columns per index in this scenario")
        spec = IndexSpec(table, tuple(columns), unique, self._check_where(where, t.column_names) if where else None)
        for n, ix in self.db.indexes.items():
            if ix.key() == spec.key():
                raise InvalidAction(f"index {n} already has exactly this definition")
        if len(self.db.indexes) >= c.max_indexes:
            raise InvalidAction(f"the scenario allows at most {c.max_indexes} indexes; drop one first")
        if name is not None and (not NAME.fullmatch(name) or name.lower().startswith("sqlite")):
            raise InvalidAction("index names are letters, digits and _, not starting with a digit or 'sqlite'")
        taken = {n.lower() for n in self.db.indexes} | {x.lower() for x in self.ep.scenario.tables}
        if name is not None and name.lower() in taken:
            raise InvalidAction(f"the name {name!r} is taken")
        name = name or default_index_name(spec, taken)
        before = self.rt.meter.workload_cost(self.db, "visible", self.ep.rewrites)
        try:
            self.db.create_index(spec, name)
        except apsw.Error as e:
            raise InvalidAction(f"SQLite refused the index: {e}") from None
        if self.db.storage_bytes() > self.ep.budget:
            used = self.db.storage_bytes()
            self.db.drop_index(name)
            raise InvalidAction(f"over the storage budget: {size(used)} of {size(self.ep.budget)}; index not created")
        if unique:  # the workload's writes must still succeed under the new constraint
            try:
                for which in ("visible", "hidden"):
                    self.rt.meter.workload_cost(self.db, which, self.ep.rewrites)
            except apsw.Error as e:
                self.db.drop_index(name)
                raise InvalidAction(f"the workload's writes fail under this UNIQUE index ({e}); index not created") from None
        unused = () if name in self._index_users() else (name,)
        return (f"Created index {name} on {table}({', '.join(columns)}){' WHERE ' + spec.where if spec.where else ''}, "
                f"{size(self.db.index_bytes(name))}. " + self._cost_line(before), unused)

    def _check_where(self, where: str, cols: tuple[str, ...]) -> str:
        text, why = partial_where(where, cols)
        if text is None:
            raise InvalidAction(why or "bad WHERE")
        return text

    def _do_drop_index(self, name: str) -> str:
        if name not in self.db.indexes:
            raise InvalidAction(f"no index named {name!r}; indexes: {', '.join(self.db.indexes) or 'none'}")
        before = self.rt.meter.workload_cost(self.db, "visible", self.ep.rewrites)
        self.db.drop_index(name)
        return f"Dropped index {name}. " + self._cost_line(before)

    def _do_rewrite_query(self, query_id: str, new_sql: str) -> str:
        if not self.ep.scenario.constraints.allow_rewrites:
            raise InvalidAction("this scenario does not allow rewrites")
        q = self._query_spec(query_id)
        meter = self.rt.meter
        before = meter.workload_cost(self.db, "visible", self.ep.rewrites)
        original = meter.query_cost(self.db, q, "visible")
        budget = int(max(1_000_000, 20 * original))
        if self._second is None:
            self._second = Database(self.rt.second_snapshot, self.ep.scenario)
        why = check_rewrite([self.db, self._second], q, new_sql, budget)
        if why:
            raise InvalidAction(f"rewrite rejected: {why}")
        meter.query_cost(self.db, q, "visible", new_sql)
        meter.query_cost(self.db, q, "hidden", new_sql)
        if meter.rewrite_fails(self.db, q, new_sql):
            raise InvalidAction("rewrite rejected: it fails when the workload is measured")
        self.ep.rewrites[q.id] = new_sql
        return f"Rewrite of {q.id} accepted (same results on every binding, on two databases). " + self._cost_line(before)

    def _do_submit_report(self, summary: str = "") -> str:
        return "Report received."


SQLIndexEnv.__doc__ = (SQLIndexEnv.__doc__ or "").replace("{actions}", INDEX_ACTIONS.help_line())
