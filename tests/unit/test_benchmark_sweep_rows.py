"""The benchmark's sweep rows: medians over repeated sweeps, the speedup as the median of paired ratios."""

import pytest

from benchmarks.cli_runs import markdown, sweep_rows
from benchmarks.cli_runs import sweep_bound as bound


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


def _row(workers: int, wall: float, parent: float, worker: float, tail: float) -> dict:
    return {"workers": workers, "wall_s": wall, "parent_start_s": parent, "worker_start_s": worker, "tail_s": tail}


def test_the_sweeps_bound_is_the_time_outside_the_runs_the_target_leaves_to_the_2_worker_sweep():
    # 1 worker: 1.0 + 0.5 s before, 0.5 s after, runs 16.0 s (wall 18); 2 workers: 1.5 + 0.5 before, 0.5 after,
    # runs 8.5 s (wall 11). 1.8x: 18 / 1.8 = 10 s, so at most 10 - 8.5 = 1.5 s outside the runs (it spent 2.5),
    # less than the 1-worker sweep's 2.0 s
    sweep = {"rows": [_row(1, 18.0, 1.0, 0.5, 0.5), _row(2, 11.0, 1.5, 0.5, 0.5)]}
    line = bound(sweep)[0]
    assert "ran its runs for 16.00 s and spent 2.00 s outside them (1.50 s before" in line
    assert "ran them for 8.50 s and spent 2.50 s outside them (2.00 s before" in line
    assert "The runs alone went 1.88x faster" in line
    assert "at most 1.50 s outside its runs, less than the 1-worker sweep's 2.00 s." in line
    # two halves of the 1-worker sweep: 18 / (2.0 + 16.0 / 2) = 1.80x, not less than the target: nothing said
    assert "Even with" not in line
    # with more time outside the runs on 1 worker, two halves fall short: 18 / (4.0 + 14.0 / 2) = 1.64x
    short = bound({"rows": [_row(1, 18.0, 3.0, 0.5, 0.5), _row(2, 11.0, 1.5, 0.5, 0.5)]})[0]
    assert short.endswith(
        "Even with its runs exactly twice as fast as on 1 worker and no more time outside them than the 1-worker "
        "sweep's, the 2-worker sweep would be 1.64x faster: 1.8x needs it to spend less time outside its runs than "
        "the 1-worker sweep does."
    )
    # a slower 1-worker sweep leaves more room: 27 / 1.8 - 8.5 = 6.5 s, more than its own 2.0 s outside
    roomy = bound({"rows": [_row(1, 27.0, 1.0, 0.5, 0.5), _row(2, 11.0, 1.5, 0.5, 0.5)]})[0]
    assert roomy.endswith("at most 6.50 s outside its runs.")
    assert bound({"rows": [_row(1, 18.0, 1.0, 0.5, 0.5)]}) == [] and bound(None) == []
    # the table and the bound together in the benchmark's sweep section
    for r in sweep["rows"]:
        r.update(runs=16, repeats=1, speedup=18.0 / r["wall_s"], mean_run_s=1.0, per_run_overhead_s=0.03)
        r.update(per_run_overhead_share=0.03, runs_per_hour=16 / r["wall_s"] * 3600)
    md = "\n".join(markdown({"runs": 16, "settings": ["steps=200"], "repeats": 1, "rows": sweep["rows"]}, None))
    assert line in md
