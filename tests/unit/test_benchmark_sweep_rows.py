"""The benchmark's sweep rows: medians over repeated sweeps, the speedup as the median of paired ratios."""

import pytest

from benchmarks.cli_runs import markdown, sweep_rows


def _sweep(wall: float, run: float = 1.0) -> dict:
    return {"wall_s": wall, "mean_run_s": run, "per_run_overhead_s": 0.05, "runs_per_hour": 16 / wall * 3600}


def test_the_speedup_is_the_median_of_the_ratios_pair_by_pair():
    # pairs (1 worker, 2 workers): ratios 2.0, 1.5, 1.8; the ratio of the medians would be 20 / 11 = 1.82
    measured = {1: [_sweep(20.0), _sweep(18.0), _sweep(27.0)], 2: [_sweep(10.0), _sweep(12.0), _sweep(15.0)]}
    rows = sweep_rows(measured, runs=16)
    assert [r["workers"] for r in rows] == [1, 2] and all(r["repeats"] == 3 and r["runs"] == 16 for r in rows)
    assert rows[0]["speedups"] == [1.0, 1.0, 1.0] and rows[0]["speedup"] == 1.0
    assert rows[1]["speedups"] == pytest.approx([2.0, 1.5, 1.8]) and rows[1]["speedup"] == pytest.approx(1.8)
    assert rows[0]["wall_s"] == 20.0 and rows[1]["wall_s"] == 12.0  # each figure's own median
    assert rows[1]["walls_s"] == [10.0, 12.0, 15.0]


def test_one_repeat_is_that_sweep_and_the_table_shows_each_repeat_only_when_there_are_several():
    one = sweep_rows({1: [_sweep(20.0)], 2: [_sweep(11.0)]}, runs=16)
    assert one[1]["speedup"] == pytest.approx(20 / 11) and one[1]["wall_s"] == 11.0
    for row in one:
        row.update(parent_start_s=1.0, worker_start_s=1.0, tail_s=1.0, per_run_overhead_share=0.05)
    md = "\n".join(markdown({"runs": 16, "settings": ["steps=200"], "repeats": 1, "rows": one}, None))
    assert "| 2 | 16 | 11.0 | 1.82x |" in md and "once, the worker counts in turn" in md
    three = sweep_rows(
        {1: [_sweep(20.0), _sweep(18.0), _sweep(27.0)], 2: [_sweep(10.0), _sweep(12.0), _sweep(15.0)]}, 16
    )
    for row in three:
        row.update(parent_start_s=1.0, worker_start_s=1.0, tail_s=1.0, per_run_overhead_share=0.05)
    md = "\n".join(markdown({"runs": 16, "settings": ["steps=200"], "repeats": 3, "rows": three}, None))
    assert "| 2 | 16 | 12.0 (10.0, 12.0, 15.0) | 1.80x (2.00, 1.50, 1.80) |" in md and "3 times" in md
