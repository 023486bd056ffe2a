"""Calibration of the effect ledger against the review's shares (sim.studies.calibration, experiments/calibration/).

Hand cases for the distance and the acceptance rule, the tables built from runs, the design, a
surrogate refinement on a known function; a tiny calibration through the real CLI, read back by
`load()` and by the notebook without running anything again.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.config.errors import InputError
from sim.studies import calibration as cb

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "experiments" / "calibration" / "ledger_shares.yaml"
NOTEBOOK = ROOT / "experiments" / "ledger_calibration.ipynb"
TARGETS = {"final.ledger_mixed": 0.39, "final.ledger_only_positive": 0.25}
SCALES = {"final.ledger_mixed": 0.1, "final.ledger_only_positive": 0.05}
# 6 points x 1 seed per round, 2 rounds, 2 confirmation points x 1 fresh seed: 14 runs of 120 agents
TINY = """
name: tiny_calibration
targets: {final.ledger_mixed: 0.39, final.ledger_only_positive: 0.25}
tolerance: 0.07
N: 6
rounds: 2
seeds: [0]
confirm_seeds: [100]
overrides: [scenario=pandemic_shock, exposure.start=15, n_agents=120, n_groups=4, output.figure=false,
            output.events=false, output.snapshot_every=0, metrics.every=1000, metrics.by_group=false]
parameters:
  window_start: [0, 30]
  metrics.ledger_window: [5, 15]
  attention.capacity: [3.0, 12.0]
  exposure.height: [0.5, 4.0]
"""


def cal_of(text: str, tmp_path: Path, name: str = "cal.yaml") -> cb.Calibration:
    path = tmp_path / name
    path.write_text(text)
    return cb.load_definition(path)


# ---------------------------------------------------------------- distance and acceptance by hand


def test_distance_by_hand():
    at = {"final.ledger_mixed": 0.39, "final.ledger_only_positive": 0.25}
    assert cb.distance(at, TARGETS, SCALES) == 0
    one_se = {"final.ledger_mixed": 0.49, "final.ledger_only_positive": 0.25}
    assert cb.distance(one_se, TARGETS, SCALES) == pytest.approx(1.0)
    both = {"final.ledger_mixed": 0.29, "final.ledger_only_positive": 0.35}  # 1 SE and 2 SE off
    assert cb.distance(both, TARGETS, SCALES) == pytest.approx(math.sqrt(1 + 4))
    cols = {
        "final.ledger_mixed": np.array([0.39, np.nan, 0.59]),
        "final.ledger_only_positive": np.array([0.3, 0.25, 0.25]),
    }
    d = cb.distance(cols, TARGETS, SCALES)
    assert d[0] == pytest.approx(1.0) and np.isnan(d[1]) and d[2] == pytest.approx(2.0)


def test_acceptance_rule_by_hand():
    cases = [  # (mixed, only positive) -> accepted with tolerance 0.07
        ((0.39, 0.25), True),
        ((0.46, 0.18), True),  # on the box's corner: the rule is inclusive
        ((0.32, 0.32), True),
        ((0.4601, 0.25), False),  # just outside on one share is enough to reject
        ((0.39, 0.1799), False),
        ((0.50, 0.10), False),
        ((np.nan, 0.25), False),  # an undefined share is never accepted
    ]
    values = {
        "final.ledger_mixed": np.array([c[0][0] for c in cases]),
        "final.ledger_only_positive": np.array([c[0][1] for c in cases]),
    }
    assert cb.accept(values, TARGETS, 0.07).tolist() == [c[1] for c in cases]
    assert cb.accept(values, TARGETS, 0.2).tolist() == [True] * 6 + [False]
    assert bool(cb.accept({"final.ledger_mixed": 0.39, "final.ledger_only_positive": 0.25}, TARGETS, 0.0))


def test_scales_are_the_binomial_standard_errors_of_51_studies(tmp_path):
    cal = cb.load_definition(SHIPPED)
    assert cal.targets == TARGETS and cal.studies == 51
    assert cal.scales["final.ledger_mixed"] == pytest.approx(0.0683, abs=5e-4)
    assert cal.scales["final.ledger_only_positive"] == pytest.approx(0.0606, abs=5e-4)
    assert max(cal.scales.values()) <= cal.tolerance  # the box is about one standard error wide each side


# ---------------------------------------------------------------- tables from runs


def _design_and_runs():
    design = pd.DataFrame(
        {
            "sample": ["r1_a", "r1_b", "r1_c", "r2_d"],
            "round": [1, 1, 1, 2],
            "window_start": [10, 20, 30, 25],
            "metrics.ledger_window": [5, 10, 15, 12],
            "attention.capacity": [4.0, 6.0, 8.0, 7.0],
            "parent": [None, None, None, "r1_b"],
        }
    )
    design["steps"] = design["window_start"] + design["metrics.ledger_window"]
    rows = []
    for sample, mixed, pos in [
        ("r1_a", (0.38, 0.42), (0.24, 0.28)),
        ("r1_b", (0.9, 0.8), (0.05, 0.1)),
        ("r2_d", (0.40, 0.44), (0.20, 0.20)),
    ]:  # r1_c never finished
        for seed, (m, p) in enumerate(zip(mixed, pos, strict=True)):
            rows.append(
                {
                    "sample": sample,
                    "seed": seed,
                    "final.ledger_mixed": m,
                    "final.ledger_only_positive": p,
                    "final.ledger_only_negative": 1 - m - p,
                    "final.ledger_none": 0.0,
                }
            )
    rows.append({**rows[0], "seed": 7, "final.ledger_mixed": 0.0})  # a seed the calibration does not use
    return design, pd.DataFrame(rows)


def test_point_table_averages_seeds_and_applies_the_rule(tmp_path):
    cal = cal_of(TINY.replace("seeds: [0]", "seeds: [0, 1]").replace("exposure.height: [0.5, 4.0]", ""), tmp_path)
    design, runs = _design_and_runs()
    pts = cb.point_table(cal, design, runs).set_index("sample")
    assert pts.loc["r1_a", "final.ledger_mixed"] == pytest.approx(0.40)  # seed 7 left out
    assert pts.loc["r1_a", "final.ledger_mixed_sd"] == pytest.approx(np.std([0.38, 0.42], ddof=1))
    assert pts["n_seeds"].to_dict() == {"r1_a": 2, "r1_b": 2, "r1_c": 0, "r2_d": 2}
    assert pts["accepted"].to_dict() == {"r1_a": True, "r1_b": False, "r1_c": False, "r2_d": True}
    assert np.isnan(pts.loc["r1_c", "distance"])
    assert pts["lineage"].to_dict() == {"r1_a": "r1_a", "r1_b": "r1_b", "r1_c": "r1_c", "r2_d": "r1_b"}
    assert pts.loc["r1_a", "distance"] == pytest.approx(
        cb.distance({"final.ledger_mixed": 0.40, "final.ledger_only_positive": 0.26}, cal.targets, cal.scales)
    )
    # the ABC view: the closest abc_quantile of round 1 (a and b) sets the threshold; d qualifies too
    eps = cb.abc_epsilon(cal, pts.reset_index())
    assert pts.loc["r1_a", "distance"] <= eps < pts.loc["r1_b", "distance"]
    reg = cb.region(cal, pts.reset_index()).set_index("parameter")
    assert reg.loc["window_start", ["sampled", "accepted", "min", "max"]].tolist() == [3, 2, 10, 25]
    assert reg.loc["attention.capacity", "median"] == pytest.approx(5.5)
    assert 0 <= reg.loc["window_start", "ks_D"] <= 1 and 0 <= reg.loc["window_start", "ks_p"] <= 1
    none = cb.region(cal, pts.reset_index().assign(accepted=False))
    assert (none["accepted"] == 0).all() and none["median"].isna().all()


def test_later_rounds_sample_around_the_closest_points(tmp_path):
    cal = cal_of(TINY.replace("N: 6", "N: 40"), tmp_path)  # 4 parameters: at least 5 parents
    first, info = cb.design_round(cal, 1)
    assert info == {} and len(first) == 40 and "parent" not in first
    first["distance"] = np.arange(40.0)[::-1]  # the last points are the closest
    first.loc[39, "distance"] = np.nan  # unfinished: never a parent
    second, info = cb.design_round(cal, 2, first)
    assert info["parents"] == [f"r1_s000{i}" for i in (38, 37, 36, 35, 34)]  # 5% of 39 -> at least 5 parents
    assert second["sample"].str.startswith("r2_").all() and (second["round"] == 2).all()
    assert second["parent"].value_counts().to_dict() == dict.fromkeys(info["parents"], 8)  # in turn
    parents = first.set_index("sample").loc[second["parent"]]
    for key, (lo, hi) in cal.parameters.items():
        half = 0.1 * (hi - lo)
        assert info["half_width"][key] == pytest.approx(half)
        gap = np.abs(second[key].to_numpy() - parents[key].to_numpy())
        slack = 0.5 if key in ("window_start", "metrics.ledger_window") else 1e-9  # ints are rounded
        assert (gap <= half + slack).all() and (second[key] >= lo).all() and (second[key] <= hi).all()
        assert gap.max() > 0.5 * half  # offsets spread over the local box
    assert (second["steps"] == second["window_start"] + second["metrics.ledger_window"]).all()
    with pytest.raises(ValueError):
        cb.design_round(cal, 2)


def test_surrogate_refinement_finds_a_known_optimum(tmp_path):
    # shares that are smooth functions of two parameters: the review's shares at capacity 6, height 2 only
    cal = cal_of(TINY.replace("  window_start: [0, 30]\n  metrics.ledger_window: [5, 15]\n", ""), tmp_path)
    x = cb.latin(cal, cal.parameters, 60, 3)
    pts = pd.DataFrame(x, columns=list(cal.parameters))
    c, h = pts["attention.capacity"] - 6, pts["exposure.height"] - 2
    pts["final.ledger_mixed"] = 0.39 + 0.05 * c + 0.004 * c**2
    pts["final.ledger_only_positive"] = 0.25 + 0.04 * h + 0.02 * h**2
    pts["distance"] = cb.distance(pts, cal.targets, cal.scales)
    pts["sample"] = [f"r1_s{i}" for i in range(60)]
    out = cb.refine(cal, pts)
    assert out["best"]["distance"] == pytest.approx(pts["distance"].min())
    opt = out["optimum"]["point"]
    assert opt["attention.capacity"] == pytest.approx(6, abs=0.1)
    assert opt["exposure.height"] == pytest.approx(2, abs=0.1)
    assert out["optimum"]["predicted_distance"] < min(0.2, out["best"]["distance"])
    assert out["surrogate"]["cv_rmse"]["final.ledger_mixed"] < 0.01
    few = cb.refine(cal, pts.head(10))  # too few points for a surrogate: the best sampled point
    assert few["optimum"]["point"] == few["best"]["point"] and "reason" in few["surrogate"]


# ---------------------------------------------------------------- definitions and design


def test_shipped_definition_makes_a_valid_design(tmp_path):
    cal = cb.load_definition(SHIPPED)
    design, _ = cb.design_round(cal, 1)
    assert len(design) == cal.N and design["sample"].is_unique
    for key, (lo, hi) in cal.parameters.items():
        assert lo <= design[key].min() and design[key].max() <= hi
    assert (design["steps"] == design["window_start"] + design["metrics.ledger_window"]).all()
    assert design["metrics.ledger_window"].min() >= 1  # 0 would mean the whole run
    cb.check_design(cal, design)  # every point passes the schema's rules
    assert cb.design_round(cal, 1)[0].equals(design)  # seeded: the same definition, the same sample
    cb.write_design(cal, design, tmp_path)
    files = sorted((tmp_path / "conf" / "sample").glob("*.yaml"))
    assert len(files) == cal.N and files[0].name == "r1_s00000.yaml"
    text = files[0].read_text()
    assert text.startswith("# @package _global_") and f"steps: {design['steps'][0]}" in text
    assert "window_start" not in text.split("\n", 2)[2]  # not a config key
    cmd = cb.sweep_command(cal, tmp_path, "glob(r1_*)", cal.seeds, ["hydra/launcher=ray"])
    assert cmd[1:4] == ["-m", "sim", "-m"] and "+sample=glob(r1_*)" in cmd and "seed=0,1" in cmd
    assert cmd[-1] == "hydra/launcher=ray" and f"hydra.sweep.dir={tmp_path / 'runs'}" in cmd


def test_bad_definitions_fail_with_one_line(tmp_path):
    cases = {
        "unknown key": (TINY.replace("N: 6", "N: 6\nsize: 3"), "unknown key 'size'"),
        "unknown parameter": (TINY.replace("attention.capacity:", "attention.capa:"), "unknown config key"),
        "bad range": (TINY.replace("[3.0, 12.0]", "[12.0, 3.0]"), "attention.capacity=[12.0, 3.0]"),
        "target": (TINY.replace("final.ledger_mixed: 0.39", "final.ledger_mixed: 39"), "targets.final.ledger_mixed"),
        "tolerance": (TINY.replace("tolerance: 0.07", "tolerance: 0"), "tolerance=0"),
        "window without length": (TINY.replace("  metrics.ledger_window: [5, 15]\n", ""), "needs parameters"),
        "zero window": (TINY.replace("[5, 15]", "[0, 15]"), "ledger_window >= 1"),
        "steps too": (TINY + "  steps: [10, 20]\n", "not with window_start"),
        "override": (TINY.replace("n_groups=4", "attention.capacity=4"), "sets a calibrated key"),
        "seeds": (TINY.replace("seeds: [0]", "seeds: []"), "seeds=[]"),
        "method": (TINY + "method: sobol\n", "method='sobol'; allowed: latin"),
    }
    for name, (text, message) in cases.items():
        with pytest.raises(InputError) as err:
            cal_of(text, tmp_path, f"{name.replace(' ', '_')}.yaml")
        assert message in str(err.value), (name, str(err.value))
        assert "\n" not in str(err.value)
    cal = cal_of(TINY, tmp_path)
    with pytest.raises(InputError, match="sets a calibrated key"):
        cb.run(cal, tmp_path / "o", ["steps=40"])  # steps = window_start + window at every point
    assert not (tmp_path / "o").exists()


def test_load_runs_the_calibration_command_only_when_outputs_are_missing(tmp_path, monkeypatch):
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    monkeypatch.setenv("SIM_EXPERIMENTS_DIR", str(tmp_path / "exp"))
    monkeypatch.setenv("SIM_EXPERIMENT_OVERRIDES", "hydra.launcher.n_jobs=1")
    calls = []
    monkeypatch.setattr(cb.subprocess, "run", lambda cmd, **kw: calls.append(cmd))
    monkeypatch.setattr(cb, "analyze", lambda cal, out: ("analyzed", out))
    out = tmp_path / "exp" / "tiny_calibration"
    assert cb.load(path) == ("analyzed", out)
    assert calls == [
        [sys.executable, "-m", "sim.studies.calibration", str(path), "--out", str(out), "hydra.launcher.n_jobs=1"]
    ]
    with pytest.raises(FileNotFoundError, match="sim.studies.calibration"):
        cb.load(path, run_if_missing=False)
    out.mkdir(parents=True)  # outputs of this definition and these overrides: nothing runs
    cal = cb.load_definition(path)
    (out / "calibration.json").write_text(json.dumps({"digest": cb.digest(cal, [])}))
    calls.clear()
    assert cb.load(path) == ("analyzed", out) and calls == []
    monkeypatch.setenv("SIM_EXPERIMENT_OVERRIDES", "hydra.launcher.n_jobs=2")  # how runs run: same outputs
    cb.load(path)
    assert calls == []
    monkeypatch.setenv("SIM_EXPERIMENT_OVERRIDES", "n_agents=60")  # other outputs: run again
    cb.load(path)
    assert len(calls) == 1 and calls[0][-1] == "n_agents=60"


def test_notebook_is_saved_without_outputs():
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)
    source = "\n".join(c.source for c in code)
    assert "calibration.load(" in source and "sim.run.runner" not in source  # reads outputs, never the model


# ---------------------------------------------------------------- end to end through the CLI


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A tiny calibration run by the real command into a temporary experiments directory."""
    base = tmp_path_factory.mktemp("calibration")
    definition = base / "tiny.yaml"
    definition.write_text(TINY)
    out = base / "experiments" / "tiny_calibration"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim.studies.calibration",
            str(definition),
            "--out",
            str(out),
            "hydra.launcher.n_jobs=2",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=base,
    )
    return definition, out, proc


@pytest.mark.slow
def test_tiny_calibration_through_the_cli(tiny, monkeypatch):
    definition, out, proc = tiny
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "accepted:" in proc.stdout and "c_opt" in proc.stdout
    design = pd.read_csv(out / "design.csv")
    assert design["round"].value_counts().to_dict() == {1: 6, 2: 6, 0: 2}
    runs = pd.read_parquet(out / "runs" / "summary.parquet")
    assert len(runs) == 6 + 6 + 2 and set(runs["sample"]) == set(design["sample"])
    steps = design.set_index("sample")["steps"]
    assert (runs["steps"].to_numpy() == steps.loc[runs["sample"]].to_numpy()).all()  # each point ran its window
    assert np.allclose(runs[list(cb.LEDGER)].sum(axis=1), 1.0)
    summary = json.loads((out / "calibration.json").read_text())
    parents = summary["focus"]["round_2"]["parents"]
    r2 = design[design["round"] == 2]
    assert len(parents) == 5 and set(r2["parent"]) <= set(parents)  # 4 parameters: 5 closest of round 1
    pts = pd.read_csv(out / "points.csv").set_index("sample")
    assert pts.loc[parents, "distance"].max() <= pts.loc[pts["round"] == 1, "distance"].nsmallest(5).max()
    assert summary["result"]["points"] == 12 and summary["refine"]["optimum"]["point"]
    assert (out / "calibration.png").read_bytes()[:4] == b"\x89PNG"
    # load() finds these outputs and reads them: nothing runs again
    monkeypatch.setenv("SIM_EXPERIMENTS_DIR", str(out.parent))
    monkeypatch.delenv("SIM_EXPERIMENT_OVERRIDES", raising=False)
    monkeypatch.setattr(cb.subprocess, "run", lambda *a, **k: pytest.fail("load() ran the calibration again"))
    res = cb.load(definition)
    points = pd.read_csv(out / "points.csv")
    assert res.points["sample"].tolist() == points["sample"].tolist()
    assert np.allclose(res.points["distance"], points["distance"], equal_nan=True)
    assert res.confirm["n_seeds"].tolist() == [1, 1]


@pytest.mark.slow
def test_notebook_executes_on_the_collected_outputs(tiny, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    definition, out, proc = tiny
    assert proc.returncode == 0, proc.stderr[-3000:]
    nb = nbformat.read(NOTEBOOK, as_version=4)
    monkeypatch.setenv("SIM_CALIBRATION", str(definition))  # the kernel inherits the environment
    monkeypatch.setenv("SIM_EXPERIMENTS_DIR", str(out.parent))
    monkeypatch.delenv("SIM_EXPERIMENT_OVERRIDES", raising=False)
    monkeypatch.setenv("SIM_FIG_DIR", str(tmp_path))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    before = (out / "runs" / "summary.parquet").stat().st_mtime_ns
    client = nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    )
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs)
    assert "outputs missing" not in text  # read, not rerun
    assert (out / "runs" / "summary.parquet").stat().st_mtime_ns == before
    figures = sorted(p.name for p in tmp_path.glob("*.png"))
    assert figures == [
        "ledger_marginals.png",
        "ledger_pairs.png",
        "ledger_plane.png",
        "ledger_pressure.png",
        "ledger_tolerance.png",
        "ledger_windows.png",
    ]
