"""The calibration against the review's patterns (ABC-SMC with pyABC) at a tiny size.

A tiny calibration writes its posterior, figures and predictive check; a second call with more
generations resumes from pyABC's database instead of starting again; a calibration on a local Dask
cluster (127.0.0.1) runs the same way; and a known parameter is recovered on a toy setting.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

pytest.importorskip("pyabc")

from sim.studies import review_calibration as rc  # noqa: E402
from sim.studies.patterns import STATS  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TINY_MODEL = [
    "scenario=pandemic_shock",
    "n_agents=60",
    "n_groups=4",
    "steps=40",
    "exposure.start=10",
    "exposure.length=10",
]


def definition(tmp: Path, name: str = "tiny", **changes) -> Path:
    d = {
        "name": name,
        "model": TINY_MODEL,
        "seeds": 1,
        "corpora": 3,
        "particles": 6,
        "generations": 1,
        "predictive": 4,
        "parameters": {"attention.capacity": [1.5, 4.0], "obs.report_negative": [0.3, 1.0]},
        "patterns": [
            {"stat": "review_mixed", "target": 0.39, "scale": 0.068},
            {"stat": "engagement_gap", "below": 0.0, "scale": 0.01},
            {"stat": "marginalized_gap", "above": 0.0, "scale": 0.02},
        ],
        **changes,
    }
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(d))
    return path


def test_a_tiny_calibration_writes_its_posterior_and_resumes(tmp_path):
    out = tmp_path / "out"
    defn = definition(tmp_path)
    assert rc.main([str(defn), "--out", str(out), "--workers", "1"]) == 0
    for name in (
        "abc.db",
        "posterior.parquet",
        "populations.parquet",
        "posterior_summary.json",
        "posterior.png",
        "predictive.parquet",
        "predictive.png",
    ):
        assert (out / name).stat().st_size > 0, name
    post = pd.read_parquet(out / "posterior.parquet")
    assert len(post) == 6 and set(post["generation"]) == {0}
    assert post["weight"].sum() == pytest.approx(1.0)
    assert post["attention.capacity"].between(1.5, 4.0).all()
    summary = json.loads((out / "posterior_summary.json").read_text())
    row = summary["parameters"]["attention.capacity"]
    assert row["prior"] == [1.5, 4.0] and row["q05"] <= row["median"] <= row["q95"]
    assert 0 < row["width_ratio"] <= 1.2
    assert summary["generations"] == 1 and summary["evaluations"] >= 6
    assert [p["stat"] for p in summary["patterns"]] == ["review_mixed", "engagement_gap", "marginalized_gap"]
    pred = pd.read_parquet(out / "predictive.parquet")
    assert len(pred) == 4 and set(STATS) <= set(pred.columns)
    first = post.copy()
    # more generations: resumes (the first generation is kept as it was), and writes both
    assert rc.main([str(defn), "--out", str(out), "--workers", "1", "--generations", "2"]) == 0
    pops = pd.read_parquet(out / "populations.parquet")
    assert sorted(set(pops["generation"])) == [0, 1]
    kept = pops[pops["generation"] == 0].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept[first.columns], first, check_dtype=False)
    assert json.loads((out / "posterior_summary.json").read_text())["generations"] == 2


def test_another_definition_in_the_same_directory_is_refused(tmp_path, capsys):
    out = tmp_path / "out"
    assert rc.main([str(definition(tmp_path)), "--out", str(out), "--workers", "1"]) == 0
    capsys.readouterr()
    other = definition(tmp_path, name="other", corpora=5)
    assert rc.main([str(other), "--out", str(out), "--workers", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "another definition" in err


@pytest.mark.parametrize(
    "change, message",
    [
        ({"parameters": {"attention.capacityy": [1, 2]}}, "attention.capacityy"),
        ({"parameters": {"obs.nope": [0, 1]}}, "obs.nope"),
        ({"parameters": {"attention.capacity": [2, 1]}}, "low < high"),
        ({"patterns": [{"stat": "nope", "target": 1, "scale": 1}]}, "patterns[0].stat"),
        ({"patterns": [{"stat": "review_mixed", "target": 1, "above": 0, "scale": 1}]}, "exactly one"),
        ({"patterns": [{"stat": "review_mixed", "target": 1, "scale": 0}]}, "scale"),
        ({"particles": 1}, "particles"),
        ({"model": ["n_agents=-3"]}, "n_agents"),
    ],
)
def test_bad_definitions_get_one_line_and_exit_2(tmp_path, change, message, capsys):
    out = tmp_path / "out"
    assert rc.main([str(definition(tmp_path, **change)), "--out", str(out)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], lines
    assert not out.exists()


def test_patterns_distance_and_seeds():
    above = rc.Pattern(stat="resister_gap", scale=0.01, above=0.0)
    assert above.term(0.02) == 0.0 and above.term(-0.02) == pytest.approx(2.0) and above.holds(0.001)
    assert not above.holds(-0.001) and above.term(math.nan) == rc.NAN_TERM
    target = rc.Pattern(stat="review_mixed", scale=0.05, target=0.4)
    assert target.term(0.5) == pytest.approx(2.0) and target.holds(0.44) and not target.holds(0.5)
    defn = rc.Definition(name="x", parameters={"attention.capacity": (1.0, 2.0)}, patterns=[above, target])
    assert rc.distance(defn, {"resister_gap": -0.03, "review_mixed": 0.44}) == pytest.approx(math.hypot(3.0, 0.8))
    p = {"attention.capacity": 1.25}
    assert rc.particle_seed(defn, p) == rc.particle_seed(defn, dict(p))
    assert rc.particle_seed(defn, p) != rc.particle_seed(defn, {"attention.capacity": 1.2500001})
    assert rc.particle_seed(defn, p, 0) != rc.particle_seed(defn, p, 1)
    x, w = np.array([0.0, 1.0, 2.0, 3.0]), np.array([0.0, 0.0, 1.0, 0.0])
    assert rc.weighted_quantile(x, w, 0.5) == pytest.approx(2.0)


@pytest.mark.slow
def test_a_calibration_runs_on_a_local_dask_cluster(tmp_path):
    pytest.importorskip("distributed")
    out = tmp_path / "dask"
    defn = definition(tmp_path, particles=4, predictive=0)
    assert rc.main([str(defn), "--out", str(out), "--local-dask", "1"]) == 0
    post = pd.read_parquet(out / "posterior.parquet")
    assert len(post) == 4 and post["weight"].sum() == pytest.approx(1.0)


@pytest.mark.slow
def test_a_known_parameter_is_recovered_on_a_toy_setting(tmp_path):
    """Simulate at a known capacity, calibrate on the statistics it gave: it lies in the 90% posterior interval."""
    truth = 2.2
    seeds = [11, 12, 13]
    model = [
        "scenario=pandemic_shock",
        "n_agents=120",
        "n_groups=4",
        "steps=40",
        "exposure.start=10",
        "exposure.length=15",
        "exposure.height=3.0",
    ]
    base = rc.Definition(name="toy", parameters={"attention.capacity": (1.0, 4.0)}, patterns=[], model=model, corpora=1)
    stats = rc.evaluate(base, {"attention.capacity": truth}, seeds)
    patterns = [
        {"stat": s, "target": float(stats[s]), "scale": sc}
        for s, sc in (("overload_withdrawn_during", 0.01), ("recovery_engagement", 0.03))
    ]
    defn = definition(
        tmp_path,
        name="toy",
        model=model,
        corpora=1,
        particles=20,
        generations=3,
        predictive=0,
        seeds=2,
        parameters={"attention.capacity": [1.0, 4.0]},
        patterns=patterns,
    )
    out = tmp_path / "toy"
    assert rc.main([str(defn), "--out", str(out), "--workers", "1"]) == 0
    row = json.loads((out / "posterior_summary.json").read_text())["parameters"]["attention.capacity"]
    assert row["q05"] <= truth <= row["q95"], row
    assert row["width_ratio"] < 0.9, row  # the statistics inform the posterior: narrower than the prior


def test_morris_screening_ranks_the_candidates(tmp_path):
    from sim.studies import screening

    defn = definition(
        tmp_path,
        screen={"attention.capacity": [1.0, 4.0], "obs.examined": [0.0, 1.0], "ties.homophily": [0.05, 0.3]},
        patterns=[
            {"stat": "review_other", "target": 0.36, "scale": 0.067},
            {"stat": "overload_withdrawn_rise", "above": 0.01, "scale": 0.01},
        ],
    )
    out = tmp_path / "screen"
    assert screening.main([str(defn), "--out", str(out), "--trajectories", "3", "--workers", "1"]) == 0
    table = pd.read_csv(out / "screening.csv")
    assert set(table["output"]) == {"review_other", "overload_withdrawn_rise", "distance"}
    assert set(table["parameter"]) == {"attention.capacity", "obs.examined", "ties.homophily"}
    assert (table["mu_star"] >= 0).all() and (out / "screening.png").stat().st_size > 0
    summary = json.loads((out / "screening.json").read_text())
    assert summary["model_runs"] == 3 * 4
    # whether a study examines effects at all decides how many report none: it moves review_other most
    other = table[table["output"] == "review_other"].set_index("parameter")["mu_star"]
    assert other.idxmax() == "obs.examined", other
    ranking = [r["parameter"] for r in summary["ranking"]]
    assert sorted(ranking) == sorted(table["parameter"].unique())
    assert [r["calibrated"] for r in summary["ranking"]] == [p == "attention.capacity" for p in ranking]


def test_screening_without_candidates_is_one_line(tmp_path, capsys):
    from sim.studies import screening

    assert screening.main([str(definition(tmp_path)), "--out", str(tmp_path / "s"), "--workers", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "screen" in err[0]
