"""Sensitivity analysis (sim.studies.sensitivity, experiments/sensitivity/).

SALib sample -> one Hydra sweep -> Sobol / Morris indices with confidence intervals, a table and a plot.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.studies import sensitivity as sa
from tests.support.sensitivity import assert_refused, headlines_definition

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
    if exp.method == "posterior":  # the calibration's posterior is an output: a stand-in with its columns
        assert exp.design == "outputs/calibration/review/posterior.parquet"
        rng = np.random.default_rng(0)
        post = pd.DataFrame({k: rng.uniform(lo, hi, 3 * exp.N) for k, (lo, hi) in exp.parameters.items()})
        post.assign(weight=1.0).to_parquet(tmp_path / "posterior.parquet")
        exp.design = str(tmp_path / "posterior.parquet")
    x = sa.sample(exp)
    sa.check_sample(exp, x)  # every sample point passes the schema's rules, in every arm
    expected = {
        "sobol": exp.N * (len(exp.parameters) + 2),
        "morris": exp.N * (len(exp.parameters) + 1),
        "posterior": exp.N,
    }[exp.method]
    assert x.shape == (expected, len(exp.parameters))
    for j, (lo, hi) in enumerate(exp.parameters.values()):
        assert lo <= x[:, j].min() and x[:, j].max() <= hi
    conf = sa.write_design(exp, x, tmp_path)
    assert len(list((conf / "sample").glob("*.yaml"))) == expected
    for arm in exp.arms:
        cmd = sa.sweep_command(exp, tmp_path, ["hydra/launcher=ray"], arm)
        assert cmd[1:4] == ["-m", "sim", "-m"] and "+sample=glob(*)" in cmd and cmd[-1] == "hydra/launcher=ray"
        assert f"hydra.sweep.dir={sa.runs_dir(tmp_path, arm)}" in cmd


@pytest.mark.slow
def test_sobol_indices_from_a_small_sweep(tmp_path):
    # on the basic launcher (the Morris test below runs joblib's): 40 tiny runs in the sweep's own process
    proc, out = run_experiment(tmp_path, "sobol", 4, "--set", "launcher=basic")
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
        "noise_share",
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
    again, _ = run_experiment(tmp_path, "sobol", 4, "--set", "launcher=basic")
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
        "noise_share",
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

    def check(path):
        exp = sa.load(path)
        sa.check_sample(exp, sa.sample(exp))

    assert_refused(tmp_path, cases, check)
    proc = subprocess.run(
        [sys.executable, "-m", "sim.studies.sensitivity", str(tmp_path / "rule.yaml"), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and proc.stderr.startswith("error: ") and "sample point" in proc.stderr
    assert not (tmp_path / "o").exists()  # nothing written, nothing run


def tiny_headlines(method: str, n: int, design: str, headlines: str) -> str:
    """A tiny headline experiment with a dummy parameter (the clustering tolerance moves no headline)."""
    return headlines_definition(
        "tiny_headlines", method, n, headlines, design, parameters="  metrics.cluster_gap: [0.02, 0.2]"
    )


def run_definition(path: Path, out: Path) -> Path:
    """Run `python -m sim.studies.sensitivity PATH --out OUT`, which must succeed; returns OUT."""
    proc = subprocess.run(
        [sys.executable, "-m", "sim.studies.sensitivity", str(path), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=path.parent,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


@pytest.mark.slow
def test_headlines_screened_with_morris_over_their_arms(tmp_path):
    """Every headline, each a paired difference between arms run as separate sweeps of the same points and seeds."""
    path = tmp_path / "h.yaml"
    path.write_text(tiny_headlines(method="morris", n=1, design="", headlines="all"))
    out = run_definition(path, tmp_path / "out")
    exp = sa.load(path)
    for arm in exp.arms:  # one ordinary sweep per arm: every point (4) at both seeds
        runs = pd.read_parquet(out / "runs" / arm / "summary.parquet", columns=["sample", "seed"])
        assert len(runs) == 8 and runs["sample"].nunique() == 4, arm
    table = pd.read_parquet(out / "indices.parquet")
    assert set(table.output) == set(exp.headlines) and (table.runs == 8 * len(exp.arms)).all()
    # the metrics' clustering tolerance does not move anything but cluster counts
    dummy = table[table.parameter == "metrics.cluster_gap"]
    assert (dummy.mu_star.abs() < 1e-12).all(), dummy
    # the surge's effect on overload withdrawal, recomputed by hand from the two arms' collected metrics
    m = {a: pd.read_parquet(out / "runs" / a / "metrics.parquet") for a in ("surge", "none")}
    by_hand = []
    for arm in ("surge", "none"):
        v = m[arm][(m[arm].metric == "overload_withdrawn_share") & (m[arm].scope == "all")]
        v = v[(v.step >= 10) & (v.step < 20)]
        by_hand.append(v.groupby([v["sample"].astype(str), "seed"])["value"].mean())
    per_seed = sa.per_seed(exp, out)
    assert np.allclose(per_seed["surge_overload_withdrawn"].sort_index(), (by_hand[0] - by_hand[1]).sort_index())
    assert (out / "indices.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_headlines_over_a_posterior_sample_report_their_signs(tmp_path):
    rng = np.random.default_rng(0)
    post = pd.DataFrame(
        {
            "attention.capacity": rng.uniform(1.5, 4.0, 12),
            "ties.exclusion_rate": rng.uniform(0.02, 0.3, 12),
            "metrics.cluster_gap": rng.uniform(0.02, 0.2, 12),
            "weight": rng.dirichlet(np.ones(12)),
        }
    )
    post.to_parquet(tmp_path / "posterior.parquet")
    path = tmp_path / "p.yaml"
    path.write_text(
        tiny_headlines(
            method="posterior",
            n=3,
            design=f"design: {tmp_path / 'posterior.parquet'}",
            headlines="[porous_esteban_ray, profession_resister_gap]",
        )
    )
    out = run_definition(path, tmp_path / "out")
    design = pd.read_csv(out / "design.csv")
    assert len(design) == 3 and design["sample"].is_unique
    for _, row in design.iterrows():  # each point is a particle of the posterior file
        assert ((post["attention.capacity"] - row["attention.capacity"]).abs() < 1e-12).any()
    assert sorted(p.name for p in (out / "runs").iterdir() if p.is_dir()) == ["porous", "sealed", "surge"]
    signs = pd.read_csv(out / "signs.csv")
    assert list(signs.headline) == ["porous_esteban_ray", "profession_resister_gap"]
    shares = signs[["share_positive", "share_negative", "share_undetermined"]].sum(axis=1)
    assert np.allclose(shares, 1.0) and (signs.points == 3).all()
    assert signs.top_parameter.isin(["attention.capacity", "ties.exclusion_rate", "metrics.cluster_gap"]).all()
    effects = pd.read_parquet(out / "effects.parquet")
    assert len(effects) == 6 and ((effects.lo <= effects.effect) & (effects.effect <= effects.hi)).all()
    sign = np.where(effects.lo > 0, 1, np.where(effects.hi < 0, -1, 0))
    assert (effects.sign == sign).all()
    assert (out / "signs.png").stat().st_size > 10_000


def test_bad_headline_experiments_fail_with_one_line(tmp_path):
    good = tiny_headlines(method="morris", n=1, design="", headlines="all")
    cases = {
        "unknown": (good.replace("headlines: all", "headlines: [nope]"), "headlines: unknown 'nope'"),
        "arm key": (good.replace("steps=30", "steps=30, scenario=baseline"), "is set by the headlines' arms"),
        "one seed": (good.replace("seeds: [0, 1]", "seeds: [0]"), "at least 2 with headlines"),
        "no design": (good.replace("method: morris", "method: posterior"), "method posterior needs design"),
        "missing design": (
            good.replace("method: morris", "method: posterior\ndesign: /nonexistent/p.parquet"),
            "design=/nonexistent/p.parquet: cannot read it",
        ),
    }
    assert_refused(tmp_path, cases, lambda path: sa.sample(sa.load(path)))


def test_the_command_line_shrinks_an_experiment_and_checks_model_overrides_first(tmp_path):
    path = EXPERIMENTS[0].parent / "overload_sobol.yaml"

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "sim.studies.sensitivity", str(path), "--out", str(tmp_path / "o"), *args],
            capture_output=True,
            text=True,
            timeout=120,
        )

    bad = run("--N", "2", "n_agentz=5")
    assert bad.returncode == 2 and "n_agentz" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()  # refused before the sample was written
    assert run("--N", "3").returncode == 2 and "--N=3; allowed: a power of 2" in run("--N", "3").stderr
    assert "--seeds='a'" in run("--seeds", "a").stderr
    assert "is set with --set N=1, not as a model override" in run("N=1").stderr
    ok = run("--N", "2", "--seeds", "0,1", "n_agents=40", "--dry-run")
    assert ok.returncode == 0, ok.stderr
    assert "16 sample points x 2 seed(s) = 32 runs" in ok.stdout and " n_agents=40 " in ok.stdout
    assert len(list((tmp_path / "o" / "conf" / "sample").glob("*.yaml"))) == 16


def test_set_replaces_the_definitions_settings_checked_before_anything_is_written(tmp_path):
    """`--set KEY=VALUE` (YAML values) replaces a setting of the definition; a bad one is one line, nothing written."""
    path = tmp_path / "morris.yaml"
    path.write_text(TINY.format(method="morris", N=20))
    out = tmp_path / "o"

    def run(*args):
        cmd = [sys.executable, "-m", "sim.studies.sensitivity", str(path), "--out", str(out), *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=tmp_path)

    refusals = {
        ("--set", "conf_level=1.5"): "--set conf_level=1.5; allowed: a number in (0, 1)",
        ("--set", "levels=1"): "--set levels=1; allowed: an integer >= 2",
        ("--set", "num_resamples=0"): "--set num_resamples=0; allowed: an integer >= 1",
        ("--set", "seeds=0"): "--set seeds=0; allowed: a list of integers >= 0",
        ("--set", "seeds=[0, -1]"): "--set seeds=[0, -1]; allowed: a list of integers >= 0",
        ("--set", "N=0"): "--set N=0; allowed: a power of 2 for sobol, >= 1 for morris",
        ("--set", "N=two"): "--set N='two'; allowed: an integer",
        ("--set", "method=fast"): "--set method='fast'; allowed: one of sobol, morris, posterior",
        ("--set", "launcher=nope"): "--set launcher='nope'; allowed: one of ",
        ("--set", "second_order=maybe"): "--set second_order='maybe'; allowed: true or false",
        ("--set", "nope=1"): "--set nope=1: unknown experiment key 'nope'; allowed: N, conf_level",
        ("--set", "N=2", "n_agents=40"): "unknown experiment key 'n_agents' (a model or sweep override: give it before",
        ("--set", "N"): "--set 'N': a KEY=VALUE expected",
        ("--set", "method=sobol"): "N=20; allowed: a power of 2 for sobol",  # checked together, as in the file
        ("levels=6",): "levels=6: the experiment's levels is set with --set levels=6, not as a model override",
    }
    for args, message in refusals.items():
        proc = run(*args)
        assert proc.returncode == 2 and message in proc.stderr, (args, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert not out.exists(), args  # refused before the sample was written

    ok = run("n_agents=30", "--set", "N=2", "seeds=[3]", "levels=6", "--set", "sample_seed=5", "--dry-run")
    assert ok.returncode == 0, ok.stderr
    assert "morris, 8 sample points x 1 seed(s) = 8 runs" in ok.stdout  # N (D + 1) = 2 x 4
    assert " seed=3 " in ok.stdout and " n_agents=30 " in ok.stdout
    design = pd.read_csv(out / "design.csv")
    steps = (design["influence.rate"] - 0.05) / (0.4 - 0.05) * 5  # on the grid of 6 levels: multiples of 1/5
    assert (
        len(design) == 8
        and np.allclose(steps, np.round(steps))
        and not np.allclose(steps * 3 / 5, np.round(steps * 3 / 5))
    )


def test_intervals_are_drawn_within_the_range_of_the_index():
    value, half = np.array([-0.05, 0.5, 0.97, 0.02]), np.array([0.1, 0.1, 0.1, 0.5])
    lo, hi = sa.drawn_interval("S1", value, half)
    assert np.allclose(lo, [0.0, 0.4, 0.87, 0.0]) and np.allclose(hi, [0.05, 0.6, 1.0, 0.52])
    lo, hi = sa.drawn_interval("mu_star", np.array([0.01, 2.0]), np.array([0.05, 3.0]))
    assert np.allclose(lo, [0.0, 0.0]) and np.allclose(hi, [0.06, 5.0])
    lo, hi = sa.drawn_interval("mu", np.array([-1.0]), np.array([0.5]))  # mu is signed: not clipped
    assert np.allclose(lo, [-1.5]) and np.allclose(hi, [-0.5])


def test_the_sobol_figure_draws_clipped_intervals_and_says_so(tmp_path, monkeypatch):
    from matplotlib.axes import Axes

    exp = sa.load(EXPERIMENTS[0].parent / "overload_sobol.yaml")
    rows = [
        {"output": o, "parameter": p, "S1": -0.05, "S1_conf": 0.1, "ST": 0.95, "ST_conf": 0.2, "noise_share": 0.1}
        for o in exp.outputs
        for p in exp.parameters
    ]
    table = pd.DataFrame(rows).assign(runs=10)
    drawn, titles = [], []
    real = Axes.errorbar
    monkeypatch.setattr(
        Axes,
        "errorbar",
        lambda ax, x, y, yerr=None, **kw: drawn.append((y - yerr, y + yerr)) or real(ax, x, y, yerr=yerr, **kw),
    )
    from matplotlib.figure import Figure

    real_title = Figure.suptitle
    monkeypatch.setattr(Figure, "suptitle", lambda fig, t, **kw: titles.append(t) or real_title(fig, t, **kw))
    sa.bar_plot(exp, table, tmp_path / "indices.png")
    lows = np.concatenate([lo for lo, _ in drawn])
    highs = np.concatenate([hi for _, hi in drawn])
    assert len(drawn) == 2 * len(exp.outputs) and lows.min() == 0.0 and highs.max() == 1.0
    assert np.allclose(sorted(set(np.round(highs, 6))), [0.05, 1.0])
    assert "CI drawn within [0, 1] (raw bounds in indices.csv)" in titles[0]
    assert (tmp_path / "indices.png").stat().st_size > 10_000


@pytest.mark.parametrize(
    "command",
    [
        ["sim.studies.sensitivity", str(ROOT / "experiments/sensitivity/overload_morris.yaml"), "--dry-run"],
        ["sim.studies.screening"],
        ["sim.studies.review_calibration"],
    ],
)
def test_a_study_refuses_an_out_it_cannot_make_in_one_line_before_any_run(tmp_path, capsys, command):
    """`--out` under a file: Hydra-free studies failed at their first mkdir with a traceback; now one line, exit 2."""
    import importlib

    afile = tmp_path / "afile"
    afile.write_text("x")
    main = importlib.import_module(command[0]).main
    code = main([*command[1:], "--out", str(afile / "out")])
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code == 2 and len(err) == 1 and f"invalid option: --out {afile / 'out'}; allowed: a directory" in err[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]
