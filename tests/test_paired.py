"""Paired comparisons (``python -m sqlgym.eval --compare``): the CI says "better" only outside the noise."""

import json

import pytest

from sqlgym.errors import ConfigError
from sqlgym.eval import paired
from sqlgym.eval.__main__ import main


def _run(policy, values, key="gap_closed"):
    from sqlgym.eval.harness import summarize

    run = {"policy": policy, "split": "test", "records": [
        {"scenario": f"s{i}", "seed": i, "final": {key: v, "performance": 100 * v, "difficulty": "easy",
                                                   "hidden_gap_closed": v}, "return": v}
        for i, v in enumerate(values)]}
    if key == "gap_closed":
        run["summary"] = summarize(run["records"])
    return run


def test_a_clear_gain_is_better_and_noise_is_not():
    a = _run("a", [0.0] * 30)
    rows = paired.compare(a, _run("b", [0.5 + 0.01 * (i % 3) for i in range(30)]))
    gap = rows[0]
    assert gap["metric"] == "gap closed" and gap["pairs"] == 30 and gap["wins"] == 30
    assert gap["ci95"][0] > 0.4 and gap["verdict"] == "better"
    noisy = paired.compare(a, _run("c", [(-1) ** i * 0.3 for i in range(30)]))[0]  # mean 0, symmetric
    assert noisy["ci95"][0] < 0 < noisy["ci95"][1] and noisy["verdict"] == "within noise"
    assert paired.compare(_run("b", [0.5] * 30), a)[0]["verdict"] == "worse"


def test_pairs_match_by_scenario_and_seed_and_the_interval_is_reproducible():
    a = _run("a", [0.1, 0.2, 0.3])
    b = _run("b", [0.3, 0.2, 0.1])
    b["records"] = b["records"][::-1]  # order does not matter, (scenario, seed) does
    assert paired.pairs(a, b, "gap_closed") == [(0.3, 0.1), (0.2, 0.2), (0.1, 0.3)]
    assert paired.bootstrap_ci([0.1, -0.2, 0.4, 0.0]) == paired.bootstrap_ci([0.1, -0.2, 0.4, 0.0])
    c = _run("c", [0.1])
    c["records"][0]["scenario"] = "elsewhere"
    with pytest.raises(ConfigError, match="share no"):
        paired.compare(a, c)


def test_ex_counts_discordant_pairs_and_mcnemar():
    a = _run("a", [1, 1, 0, 0, 0, 0, 0, 0], key="correct")
    b = _run("b", [1, 0, 1, 1, 1, 1, 1, 0], key="correct")
    row = paired.compare(a, b)[0]
    assert row["metric"] == "EX" and (row["a_only"], row["b_only"]) == (1, 5)
    assert row["mcnemar_p"] == pytest.approx(2 * (1 + 6) / 64)  # two-sided exact binomial on 6 discordant pairs
    assert paired.mcnemar_p(0, 0) == 1.0


def test_compare_cli_prints_the_paired_table(tmp_path, capsys):
    pa, pb = tmp_path / "a.json", tmp_path / "b.json"
    pa.write_text(json.dumps(_run("sft", [0.0, 0.1, 0.2, 0.1] * 5)))
    pb.write_text(json.dumps(_run("grpo", [0.5, 0.6, 0.7, 0.6] * 5)))
    assert main(["--compare", str(pa), str(pb)]) == 0
    out = capsys.readouterr().out
    assert "95% CI" in out and "+0.500" in out and "better" in out


def test_plots_leave_the_callers_matplotlib_backend_alone(tmp_path):
    """A notebook's inline backend must survive a report plot (pyplot.use("Agg") would switch the kernel's)."""
    matplotlib = pytest.importorskip("matplotlib")
    from sqlgym.eval import report

    before = matplotlib.get_backend()
    matplotlib.use("svg")
    try:
        report.plot([_run("a", [0.1, 0.5]), _run("b", [0.3, 0.2])], str(tmp_path / "gap.png"))
        assert (tmp_path / "gap.png").stat().st_size > 0 and matplotlib.get_backend() == "svg"
    finally:
        matplotlib.use(before)
