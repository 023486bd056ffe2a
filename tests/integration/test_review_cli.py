"""`python -m sim.review` end to end: a tiny sweep of the review experiment, its review, and bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
FILES = ("review.parquet", "review_summary.json", "review.png")
# the experiment at a tiny size: both scenarios, two seeds, a surge at steps 10-19 of 40
TINY = ["n_agents=60", "n_groups=4", "steps=40", "exposure.start=10", "exposure.length=10", "seed=0,1"]


def run(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "HYDRA_FULL_ERROR": "0"},
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory):
    sweep = tmp_path_factory.mktemp("review") / "sweep"
    # the basic launcher: four tiny runs in the sweep's own process (joblib's workers would take longer to start)
    proc = run("sim", "-m", "+experiment=review", *TINY, f"hydra.sweep.dir={sweep}", "hydra/launcher=basic")
    assert proc.returncode == 0, proc.stderr[-3000:]
    proc = run("sim.review", str(sweep), "--corpora", "20")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return sweep, proc


def test_the_review_writes_its_three_files_from_the_sweep(reviewed):
    sweep, proc = reviewed
    runs = [d for d in sweep.iterdir() if d.is_dir() and not d.name.startswith(".")]
    assert len(runs) == 4
    for name in FILES:
        assert (sweep / name).stat().st_size > 0, name
    assert (sweep / "review.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(sweep.glob(".*.tmp"))
    assert "virtual review: 20 corpora of 51 studies from 4 runs" in proc.stdout
    assert "mixed (positive and negative)" in proc.stdout and "0.39" in proc.stdout

    table = pd.read_parquet(sweep / "review.parquet")
    assert len(table) == 20 * 51 and sorted(table.corpus.unique()) == list(range(20))
    assert set(table["class"]) <= {"mixed", "only_positive", "only_negative", "none"}
    assert set(table.design) <= {"qualitative", "quantitative", "other"}
    assert set(table.period) <= {"before", "during", "after"} and "during" in set(table.period)
    assert set(table.scenario) <= {"social_work_vs_health_care", "pandemic_shock"}
    assert set(table.run) <= {d.name for d in runs}
    assert (table.sample_size >= 1).all() and (table.sample_size <= 60).all()
    pos, neg = table.reported_positive, table.reported_negative
    assert ((table["class"] == "mixed") == (pos & neg)).all()

    summary = json.loads((sweep / "review_summary.json").read_text())
    assert {"classes", "review", "designs", "by_period", "professionals", "corpora", "studies", "observation"} <= set(
        summary
    )
    classes = summary["classes"]
    assert sum(classes[c]["share"] for c in ("mixed", "only_positive", "only_negative", "none")) == pytest.approx(1)
    assert classes["other"]["share"] == pytest.approx(classes["only_negative"]["share"] + classes["none"]["share"])
    for c in classes.values():
        assert 0 <= c["lo"] <= c["median"] <= c["hi"] <= 1
    assert summary["review"] == {"mixed": 0.39, "only_positive": 0.25, "other": 0.36}
    assert summary["corpora"] == 20 and summary["studies"] == 51 and summary["runs"] == 4
    # the summary is the table's: the mean share of mixed studies over corpora
    mixed = table.groupby("corpus")["class"].apply(lambda c: (c == "mixed").mean()).mean()
    assert classes["mixed"]["share"] == pytest.approx(mixed)


def test_the_same_seed_gives_the_same_review(reviewed, tmp_path):
    sweep, _ = reviewed
    before = pd.read_parquet(sweep / "review.parquet")
    proc = run("sim.review", str(sweep), "--corpora", "20", "--seed", "0")
    assert proc.returncode == 0, proc.stderr
    pd.testing.assert_frame_equal(before, pd.read_parquet(sweep / "review.parquet"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope=1"], "error: unknown observation parameter: 'nope'; allowed: studies, "),
        (
            ["report_negative=2"],
            "error: invalid observation parameter: report_negative=2.0; allowed: a number in [0.0, 1.0]",
        ),
        (["--corpora", "0"], "error: invalid --corpora=0; allowed: an integer in [1, 100000]"),
        (["--studies", "x"], "error: argument --studies: invalid int value: 'x'"),
    ],
    ids=["unknown key", "bad value", "bad corpora", "not an integer"],
)
def test_bad_input_is_one_line_with_exit_code_2_and_writes_nothing(reviewed, args, message):
    sweep, _ = reviewed
    stamps = {name: (sweep / name).stat().st_mtime_ns for name in FILES}
    proc = run("sim.review", str(sweep), *args)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith(message) and proc.stderr.count("\n") == 1, proc.stderr
    assert {name: (sweep / name).stat().st_mtime_ns for name in FILES} == stamps


def test_an_empty_or_missing_directory_is_refused(tmp_path):
    proc = run("sim.review", str(tmp_path))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert proc.stderr.startswith(f"error: no complete run in {tmp_path} (0 incomplete); allowed: a run directory")
    assert list(tmp_path.iterdir()) == []
    proc = run("sim.review", str(tmp_path / "missing"))
    assert proc.returncode == 2 and proc.stderr.startswith(f"error: not a directory: {tmp_path / 'missing'}")


def test_a_run_without_the_period_boundaries_is_refused_naming_the_steps(tmp_path):
    out = tmp_path / "run"
    args = ["n_agents=30", "n_groups=2", "steps=30", "scenario=pandemic_shock", "exposure.start=10"]
    args += ["exposure.length=10", "output.snapshot_every=10", "output.figure=false", "output.events=false"]
    proc = run("sim", *args, f"hydra.run.dir={out}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    proc = run("sim.review", str(out))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "agents.parquet has no snapshot at step 9, 19; needed: steps 0, 9, 19, 30" in proc.stderr
    assert not any((out / name).exists() for name in FILES)


def test_help():
    proc = run("sim.review", "--help")
    assert proc.returncode == 0 and "key=value" in proc.stdout and "report_negative" in proc.stdout
