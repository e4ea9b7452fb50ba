"""benchmark://tpch: TPC-H data from tpchgen-cli in SQLite, its 22 queries adapted, parameters as qgen draws them."""

from __future__ import annotations

import shutil
import sys
import warnings
from pathlib import Path

import gymnasium as gym
import pytest

import sqlgym
from sqlgym.errors import ConfigError, ScenarioError, SqlgymWarning
from sqlgym.scenarios.querylog import normalize
from sqlgym.scenarios.tpch import COLORS, DRAWS, QUERIES, statements

HAVE_TPCHGEN = bool(shutil.which("tpchgen-cli") or shutil.which("tpchgen-cli", path=str(Path(sys.executable).parent)))
needs_tpchgen = pytest.mark.skipif(not HAVE_TPCHGEN, reason="tpchgen-cli is not installed (pip install 'sqlgym-rl[tpch]')")
SF = 0.01  # the smallest scale factor whose keys are unique: 60,000 lineitem rows


def test_every_query_keeps_one_template_across_parameter_draws():
    assert sorted(QUERIES) == list(range(1, 23)) and sorted(DRAWS) == list(range(1, 23))
    stmts = statements(0.01, seed=3, draws=6)
    for n in QUERIES:
        mine = [s for s in stmts if s.startswith(f"-- name: q{n}\n")]
        templates = {normalize(s.split("\n", 1)[1])[0] for s in mine}
        assert len(mine) == 6 and len(templates) == 1, n
    assert statements(0.01, seed=3, draws=6) == stmts and statements(0.01, seed=4, draws=6) != stmts
    assert statements(0.01, seed=3, draws=2)[:2] == stmts[:2]  # a query's draws never depend on how many
    assert len(COLORS) == 92


@needs_tpchgen
def test_tpch_loads_every_query_runs_and_the_env_resets():
    with warnings.catch_warnings():
        warnings.simplefilter("error", SqlgymWarning)  # every one of the 22 queries is measured
        s = sqlgym.load_scenario(f"benchmark://tpch?sf={SF}&draws=1&max_indexes=1&max_columns=1")
    assert [q.id for q in s.workload] == [f"q{n}" for n in range(1, 23)]
    assert {t.name: t.rows for t in s.schema}["nation"] == 25 and s.indexes == ()
    assert s.id == f"benchmark://tpch?sf={SF}&draws=1&max_indexes=1&max_columns=1" and s.difficulty == "benchmark"
    env = gym.make("SQLIndex-v0", scenario=s.id)
    obs, info = env.reset(seed=0)
    assert "TPC-H at scale factor" in obs and "lineitem (" in obs
    assert info["reference_cost"] < info["baseline_cost"]  # the greedy advisor finds indexes that help
    env.close()


def test_bad_benchmark_ids_are_clear():
    with pytest.raises(ScenarioError, match="unknown benchmark"):
        sqlgym.load_scenario("benchmark://tpcds?sf=1")
    with pytest.raises(ConfigError, match="scale factor"):
        sqlgym.load_scenario("benchmark://tpch?sf=50")
    with pytest.raises(ConfigError, match="repeats primary keys"):
        sqlgym.load_scenario("benchmark://tpch?sf=0.002")
    with pytest.raises(ScenarioError, match="unknown option"):
        sqlgym.load_scenario("benchmark://tpch?scale=1")
