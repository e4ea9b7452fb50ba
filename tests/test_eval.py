"""The eval harness: deterministic, replayable, honest baselines, clear errors."""

from __future__ import annotations

import json

import pytest

from sqlgym.errors import ConfigError
from sqlgym.eval import harness
from sqlgym.eval.__main__ import main


def test_results_identical_with_one_or_two_workers():
    one = harness.run("random", "curated", episodes=6, seed=5, workers=1)
    two = harness.run("random", "curated", episodes=6, seed=5, workers=2)
    assert one == two
    assert [r["seed"] for r in one["records"]] == list(range(5, 11))


def test_record_replays_exactly():
    res = harness.run("heuristic", "curated", episodes=3, seed=0)
    assert harness.validate(res) == []
    res["records"][0]["rewards"][0] += 1e-6
    assert len(harness.validate(res)) == 1, "a tampered record is caught"


def test_baselines_order_on_curated():
    s = {p: harness.run(p, "curated")["summary"] for p in ("noop", "random", "heuristic", "greedy")}
    assert s["noop"]["mean_gap_closed"] == 0.0 and s["noop"]["mean_performance"] == 0.0
    assert s["greedy"]["mean_gap_closed"] > 0.9  # 1 on every scenario with headroom (tests/test_reference.py)
    assert s["greedy"]["mean_gap_closed"] > s["heuristic"]["mean_gap_closed"] > s["random"]["mean_gap_closed"]


def test_summary_and_json_output(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main(["--policy", "noop", "--split", "curated", "--episodes", "2", "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert set(data["summary"]) >= {"mean_performance", "mean_gap_closed", "regression_rate", "episodes"}
    assert data["records"][0].keys() >= {"scenario", "seed", "actions", "rewards", "final"}
    assert "noop" in capsys.readouterr().out
    assert main(["--validate", str(out)]) == 0
    assert main(["--compare", str(out), str(out), "--plot", str(tmp_path / "p.png")]) == 0
    assert (tmp_path / "p.png").stat().st_size > 1000


@pytest.mark.parametrize("args,message,listing", [
    (["--policy", "greddy"], "Did you mean 'greedy'", "Valid:"),
    (["--split", "tests"], "Did you mean 'test'", "Valid:"),
    (["--scenario", "easy/point_lookpu"], "Did you mean 'easy/point_lookup'", "Known:"),
])
def test_misspelt_names_list_valid_ones(args, message, listing, capsys):
    assert main(args) == 2
    out = capsys.readouterr().out
    assert message in out and listing in out


def test_one_scenario_several_seeds():
    res = harness.run("random", scenario="easy/fk_join", episodes=3, seed=1)
    assert [r["scenario"] for r in res["records"]] == ["easy/fk_join"] * 3
    assert len({tuple(r["actions"]) for r in res["records"]}) > 1


def test_misspelt_scenario_lists_close_ones():
    with pytest.raises(ConfigError):
        harness.run("nope")


def test_records_replay_exactly_in_a_fresh_process(tmp_path):
    """Brute force creates, is refused and drops indexes: its records must replay bit for bit
    in another process, where no in-memory cost cache can hide a history-dependent cost."""
    import subprocess
    import sys

    out = tmp_path / "brute.json"
    assert main(["--policy", "brute", "--split", "curated", "--out", str(out)]) == 0
    proc = subprocess.run([sys.executable, "-m", "sqlgym.eval", "--validate", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
