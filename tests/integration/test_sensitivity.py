"""Sensitivity analysis (sim.studies.sensitivity, experiments/sensitivity/).

SALib sample -> one Hydra sweep -> Sobol / Morris indices with confidence intervals, a table and a plot.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim.config.errors import InputError
from sim.studies import sensitivity as sa

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENTS = sorted((ROOT / "experiments" / "sensitivity").glob("*.yaml"))
# metrics.cluster_gap only changes how opinion clusters are counted: it cannot move the mean stance
# or withdrawal, so its indices for those outputs must come out exactly zero if every sample point's
# results reach SALib in the right order
TINY = """
name: tiny_{method}
method: {method}
N: {N}
seeds: [0, 1]
overrides: [n_agents=50, n_groups=2, steps=20, output.figure=false, output.events=false, output.snapshot_every=0]
parameters:
  influence.rate: [0.05, 0.4]
  attention.capacity: [0.3, 12.0]
  metrics.cluster_gap: [0.02, 0.2]
outputs: [final.stance_mean, final.withdrawn_share]
num_resamples: 200
"""


def run_experiment(tmp_path: Path, method: str, n: int, *extra: str) -> tuple[subprocess.CompletedProcess, Path]:
    path = tmp_path / f"{method}.yaml"
    path.write_text(TINY.format(method=method, N=n))
    out = tmp_path / f"out_{method}"
    proc = subprocess.run(
        [sys.executable, "-m", "sim.studies.sensitivity", str(path), "--out", str(out), *extra],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,
    )
    return proc, out


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.stem)
def test_shipped_experiments_are_valid_and_make_their_sweep(path, tmp_path):
    exp = sa.load(path)
    x = sa.sample(exp)
    sa.check_sample(exp, x)  # every sample point passes the schema's rules
    expected = exp.N * (len(exp.parameters) + 2 if exp.method == "sobol" else len(exp.parameters) + 1)
    assert x.shape == (expected, len(exp.parameters))
    for j, (lo, hi) in enumerate(exp.parameters.values()):
        assert lo <= x[:, j].min() and x[:, j].max() <= hi
    conf = sa.write_design(exp, x, tmp_path)
    assert len(list((conf / "sample").glob("*.yaml"))) == expected
    cmd = sa.sweep_command(exp, tmp_path, ["hydra/launcher=ray"])
    assert cmd[1:4] == ["-m", "sim", "-m"] and "+sample=glob(*)" in cmd and cmd[-1] == "hydra/launcher=ray"


@pytest.mark.slow
def test_sobol_indices_from_a_small_sweep(tmp_path):
    proc, out = run_experiment(tmp_path, "sobol", 4)
    assert proc.returncode == 0, proc.stderr[-3000:]
    table = pd.read_csv(out / "indices.csv")
    assert list(table.columns) == [
        "output",
        "parameter",
        "method",
        "S1",
        "S1_conf",
        "ST",
        "ST_conf",
        "conf_level",
        "runs",
    ]
    assert len(table) == 6 and (table.runs == 4 * 5 * 2).all() and (table.method == "sobol").all()
    assert table.equals(pd.read_parquet(out / "indices.parquet"))
    dummy = table[table.parameter == "metrics.cluster_gap"]
    assert (dummy.S1.abs() < 1e-12).all() and (dummy.ST.abs() < 1e-12).all(), dummy
    real = table[(table.parameter == "attention.capacity") & (table.output == "final.withdrawn_share")]
    assert float(real.ST.iloc[0]) > 0.05 and (table.ST_conf >= 0).all()
    assert (out / "indices.png").read_bytes()[:4] == b"\x89PNG"
    runs = pd.read_parquet(out / "runs" / "summary.parquet", columns=["sample", "seed"])
    assert len(runs) == 40 and runs["sample"].nunique() == 20  # one ordinary sweep: every point, both seeds
    # the same command again: a complete sweep is skipped, the indices are the same
    again, _ = run_experiment(tmp_path, "sobol", 4)
    assert again.returncode == 0, again.stderr[-3000:]
    assert pd.read_csv(out / "indices.csv").equals(table)
    logs = list((out / "runs").glob("*/sim.log"))
    assert len(logs) == 40 and all("run skipped" in p.read_text() for p in logs)


@pytest.mark.slow
def test_morris_screening_from_a_small_sweep(tmp_path):
    proc, out = run_experiment(tmp_path, "morris", 3, "hydra.launcher.n_jobs=2")
    assert proc.returncode == 0, proc.stderr[-3000:]
    table = pd.read_parquet(out / "indices.parquet")
    assert list(table.columns) == [
        "output",
        "parameter",
        "method",
        "mu_star",
        "mu_star_conf",
        "sigma",
        "mu",
        "conf_level",
        "runs",
    ]
    assert (table.runs == 3 * 4 * 2).all()
    dummy = table[table.parameter == "metrics.cluster_gap"]
    assert (dummy.mu_star.abs() < 1e-12).all() and (dummy.sigma.abs() < 1e-12).all(), dummy
    assert table[table.parameter == "attention.capacity"].mu_star.max() > 0
    assert (out / "indices.png").stat().st_size > 10_000


def test_bad_experiments_fail_with_one_line(tmp_path):
    good = TINY.format(method="sobol", N=4)
    cases = {
        "unknown key": (good.replace("influence.rate:", "influence.speed:"), "unknown config key: influence.speed"),
        "bad range": (good.replace("[0.05, 0.4]", "[0.4, 0.05]"), "parameters.influence.rate=[0.4, 0.05]"),
        "not a power of 2": (good.replace("N: 4", "N: 6"), "N=6; allowed: a power of 2"),
        "method": (good.replace("method: sobol", "method: fast"), "method='fast'; allowed: one of sobol, morris"),
        # acceptance up to 0.9 crosses the default rejection (0.6) for some sample points
        "rule": (
            good.replace("metrics.cluster_gap: [0.02, 0.2]", "influence.acceptance: [0.1, 0.9]"),
            "allowed: >= influence.acceptance",
        ),
    }
    for name, (text, message) in cases.items():
        path = tmp_path / f"{name.replace(' ', '_')}.yaml"
        path.write_text(text)
        with pytest.raises(InputError, match=None) as err:
            exp = sa.load(path)
            sa.check_sample(exp, sa.sample(exp))
        assert message in str(err.value), (name, str(err.value))
    proc = subprocess.run(
        [sys.executable, "-m", "sim.studies.sensitivity", str(tmp_path / "rule.yaml"), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and proc.stderr.startswith("error: ") and "sample point" in proc.stderr
    assert not (tmp_path / "o").exists()  # nothing written, nothing run
