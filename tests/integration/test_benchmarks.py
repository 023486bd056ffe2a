"""The benchmark runs end to end in its quick mode and reports every section and target of the issue.

Timings are not checked (the machine may be busy): only that each section ran and says what it compared.
The NDlib section is exercised when NDlib is installed (pip install '.[bench]') and must say it was skipped
otherwise.
"""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import ndlib_compare
from benchmarks import run as bench

ROOT = Path(__file__).resolve().parents[2]
HAS_NDLIB = all(importlib.util.find_spec(m) is not None for m in ("ndlib", "sklearn"))

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.run",
            "--quick",
            "--e2e",
            "--e2e-agents",
            "2000",
            "--e2e-steps",
            "20",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads((out / "benchmark.json").read_text()), (out / "benchmark.md").read_text()


def test_ndlib_section(quick):
    res, md = quick
    nd = res["ndlib"]
    assert "## Classic presets vs NDlib" in md
    if not HAS_NDLIB:
        assert nd["status"].startswith(ndlib_compare.SKIPPED) and ndlib_compare.SKIPPED in md
        return
    assert nd["status"] == "ok"
    assert {(r["preset"], r["network"]) for r in nd["rows"]} == {
        (p, k) for p in ("deffuant", "hegselmann_krause") for k in ("complete", "sbm")
    } | {("deffuant", "dense")}
    dense = next(r for r in nd["rows"] if r["network"] == "dense")
    degree = 2 * dense["ties"] / dense["n_agents"]
    assert abs(degree - ndlib_compare.dense_degree(dense["n_agents"])) < 0.1 * degree  # mean degree as stated
    for r in nd["rows"]:
        assert r["ours_s"] > 0 and r["ndlib_s"] > 0 and r["ratio"] == pytest.approx(r["ndlib_s"] / r["ours_s"])
        assert r["ndlib_how"] in ("measured", "extrapolated")
        if r["network"] == "sbm":  # the extrapolation from two smaller graphs runs for every SBM row
            assert r["ndlib_predicted_s"] > 0 and len(r["probes"]) == 2
    assert "AlgorithmicBiasModel (gamma = 0)" in md and "not a faithful HK" in md and "per N interactions" in md


def test_sweep_and_end_to_end_sections(quick):
    res, md = quick
    rows = res["sweep"]["rows"]
    assert [r["workers"] for r in rows] == [1, 2] and all(r["runs"] == 4 and r["wall_s"] > 0 for r in rows)
    assert rows[0]["speedup"] == 1 and rows[1]["speedup"] > 0 and all(r["mean_run_s"] > 0 for r in rows)
    assert "## Sweep scaling: the same 4-run sweep with 1 and 2 joblib workers" in md
    assert "What bounds the sweep's speedup (medians of this run): the 1-worker sweep ran its runs for" in md
    e2e = res["e2e"]
    assert e2e["n_agents"] == 2000 and e2e["steps"] == 20 and e2e["ties"] > 0
    assert e2e["wall_s"] > 0 and e2e["peak_rss_mib"] > 50  # the child's own memory: Python, numpy, numba
    assert "## End to end" in md and "metrics.every=10" in md


def test_every_target_has_a_row_and_a_verdict(quick):
    res, md = quick
    names = [t["target"] for t in res["targets"]]
    assert len(names) == 15 and all(t["ok"] in (True, False, None) for t in res["targets"])
    assert "| target | measured | met/missed |" in md and f"measured on this one: {res['machine']['cores']} cores" in md
    for name in names:
        assert name in md
    e2e = [t for t in res["targets"] if "end to end" in t["target"] or "2 GiB" in t["target"]]
    assert all(t["ok"] is None for t in e2e)  # a 2,000-agent run does not judge the 1M x 1,000 target
    large = [t for t in res["targets"] if t["target"].startswith(("10,000,000", "50,000,000"))]
    assert len(large) == 2 and all(t["measured"] == "not run (--full or --large)" for t in large)
    assert res["large"] == [] and "## Large runs" not in md
    room = [t for t in res["targets"] if t["target"].startswith("classroom")]
    assert len(room) == 1 and room[0]["ok"] is None  # the quick benchmark runs no classroom
    busy = [t for t in res["targets"] if t["target"].startswith("busy machine")]
    assert len(busy) == 1 and busy[0]["ok"] is None  # measured at 2,000 agents: not the target's size
    start = [t for t in res["targets"] if "first run" in t["target"] or "prints its URL" in t["target"]]
    assert len(start) == 2 and all(t["ok"] is None for t in start)  # the quick benchmark measures no cold start
    sweep = [t for t in res["targets"] if "sweep" in t["target"] or "per-run overhead" in t["target"]]
    assert len(sweep) == 2 and all(t["ok"] is None for t in sweep)  # the quick sweep is not of default runs


def test_the_sweep_of_more_runs_gets_its_table_and_its_line(quick):
    """--full times a 64-run sweep beside the 16-run one; its section reads a sweep's rows as any sweep's.

    The quick run's sweep stands in for it here (the quick mode times no second sweep: its section is absent).
    """
    from benchmarks import cli_runs

    res, md = quick
    assert res["sweep_many"] is None and "Sweep scaling over more runs" not in md
    many = res["sweep"]
    lines = cli_runs.markdown(None, None, None, many)
    assert (
        lines[0] == f"## Sweep scaling over more runs: {many['runs']} runs of the same size with 1 and 2 joblib workers"
    )
    assert sum(line.startswith("| 1 |") or line.startswith("| 2 |") for line in lines) == 2
    (line,) = cli_runs.many_line(many, res["sweep"])[:1]
    two = {r["workers"]: r for r in many["rows"]}[2]
    assert f"is {two['speedup']:.2f}x faster than the 1-worker sweep" in line
    assert f"the {many['runs']}-run sweep of this benchmark: {two['speedup']:.2f}x, " in line
    assert " s on 2 outside its runs, for start-up, collection and exit" in line
    assert cli_runs.many_line(None, res["sweep"]) == []


def test_the_sweep_rows_split_the_wall_time(quick):
    res, md = quick
    for r in res["sweep"]["rows"]:
        assert r["worker_processes"] == r["workers"]  # the runs' pids: one per joblib worker
        assert 0 < r["parent_start_s"] < r["wall_s"] and 0 < r["worker_start_s"] < r["wall_s"]
        assert 0 <= r["per_run_overhead_s"] < r["mean_run_s"] * 10 and r["tail_s"] > 0
        total = r["parent_start_s"] + r["worker_start_s"] + r["tail_s"]
        assert total < r["wall_s"]  # the parts are inside the whole
        assert r["runs_per_hour"] == pytest.approx(r["runs"] / r["wall_s"] * 3600)
    assert "| runs per hour |" in md and "per-run overhead s (share of a run)" in md


def test_busy_machine_section_times_both_thread_counts_alone_and_busy(quick):
    res, md = quick
    rows = res["busy"]
    assert [r["threads"].split()[0] for r in rows] == ["chosen", str(rows[0]["competitors"])]
    assert rows[0]["threads_used"] == 1  # 2,000 agents: below PARALLEL_FROM
    assert all(r["alone_step_s"] > 0 and r["busy_step_s"] > 0 for r in rows)
    assert "## A busy machine" in md and "| busy / alone |" in md


def test_without_ndlib_the_section_says_skipped(quick, monkeypatch):
    monkeypatch.setitem(sys.modules, "ndlib", None)  # import ndlib now raises ImportError
    skipped = ndlib_compare.bench_ndlib([("deffuant", "complete", 50)], 30.0, 1)
    assert skipped == {"status": skipped["status"], "rows": []}
    assert skipped["status"].startswith("skipped: install .[bench]")
    res = {**quick[0], "ndlib": skipped}
    res["targets"] = bench.targets(res)
    md = bench.markdown(res)
    assert "skipped: install .[bench]" in md
    assert next(t for t in res["targets"] if "NDlib" in t["target"])["ok"] is None


def test_readme_shows_the_targets_table_of_the_committed_results():
    import json

    from benchmarks.run import README, README_MARKS, RESULTS, readme_section

    text = README.read_text()
    start, end = README_MARKS
    shown = text[text.index(start) + len(start) : text.index(end)]
    assert shown == readme_section(json.loads((RESULTS / "benchmark.json").read_text()))
