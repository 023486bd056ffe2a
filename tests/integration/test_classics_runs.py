"""Every classic preset runs end to end and writes the full model's outputs.

Also: stopping at convergence; network-level results from the outputs alone.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.classics.analysis import final_from_outputs, largest_community_share
from sim.metrics.regime import REGIMES
from sim.model import ResocializationModel
from sim.run.runner import OUTPUT_FILES, run
from sim.studies.classics import preset_config

ROOT = Path(__file__).resolve().parents[2]
PRESETS = ("deffuant", "hegselmann_krause", "jager_amblard", "kozma_barrat", "holme_newman")
SUMMARY_KEYS = {"stopped_at_step", "regime", "n_major_clusters", "n_minor_clusters"}


def _run(tmp_path, name, *overrides):
    cfg = preset_config(name, "n_agents=80", "steps=15", "seed=2", "output.progress=off", *overrides)
    out = tmp_path / name
    return cfg, run(cfg, out), out


@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_writes_the_full_models_outputs(tmp_path, name):
    cfg, summary, out = _run(tmp_path, name, "output.figure=" + ("true" if name == "holme_newman" else "false"))
    written = set(OUTPUT_FILES) - (set() if cfg.output.figure else {"figure.png"})
    for f in written:
        assert (out / f).stat().st_size > 0, f
    assert summary["preset"] == name and SUMMARY_KEYS <= set(summary)
    assert summary["stopped_at_step"] == 15 and summary["regime"] in REGIMES
    on_disk = json.loads((out / "summary.json").read_text())
    assert on_disk["regime"] == summary["regime"] and on_disk["n_major_clusters"] == summary["n_major_clusters"]
    agents = pd.read_parquet(out / "agents.parquet")
    last = agents[agents.step == 15].sort_values("agent_id")
    assert len(last) == 80 and last["stance"].between(0, 1).all()
    assert not last["withdrawn"].any() and (last["engagement"] == 1).all()
    edges = pd.read_parquet(out / "edges.parquet")
    deg = pd.concat([edges.source, edges.target]).value_counts().reindex(last.agent_id, fill_value=0)
    assert (deg.to_numpy() == last["degree"].to_numpy()).all()
    metrics = pd.read_parquet(out / "metrics.parquet")
    assert sorted(metrics["step"].unique()) == list(range(16))
    events = pd.read_parquet(out / "events.parquet")
    kinds = events["kind"].astype(str)
    if name in ("kozma_barrat", "holme_newman"):
        assert (kinds == "rewired").sum() > 0 and (kinds == "rewired").sum() == (kinds == "cut").sum()
        assert set(kinds) == {"cut", "rewired"}
    else:
        assert len(events) == 0  # the static-network presets never touch a tie


def test_full_model_summary_has_a_regime_too(tmp_path):
    cfg = preset_config("full", "n_agents=60", "n_groups=3", "steps=3", "output.progress=off", "output.figure=false")
    summary = run(cfg, tmp_path / "full")
    assert summary["stopped_at_step"] == 3 and summary["regime"] in REGIMES


@pytest.mark.parametrize("name", ["hegselmann_krause", "holme_newman", "deffuant"])
def test_stop_at_convergence(tmp_path, name):
    cfg = preset_config(
        name,
        "n_agents=100",
        "steps=100000",
        "seed=4",
        "stop_at_convergence=true",
        "output.progress=off",
        "output.figure=false",
        "output.snapshot_every=0",
    )
    cfg.preset.d = 0.5
    summary = run(cfg, tmp_path / name)
    stopped = summary["stopped_at_step"]
    assert 0 < stopped < 100000
    metrics = pd.read_parquet(tmp_path / name / "metrics.parquet")
    assert metrics["step"].max() == stopped
    # the same run, stepped by hand, is converged at that step and not one step before
    model = ResocializationModel(cfg)
    for _ in range(stopped - 1):
        model.step()
    assert not model.converged
    model.step()
    assert model.converged
    if name == "holme_newman":  # HN's final state: no tie joins different opinions, from the files alone
        x, u, v = final_from_outputs(tmp_path / name)
        assert np.all(x[u] == x[v])


def test_stop_at_convergence_off_runs_every_step(tmp_path):
    cfg = preset_config("hegselmann_krause", "n_agents=50", "steps=40", "output.progress=off", "output.figure=false")
    assert run(cfg, tmp_path / "hk")["stopped_at_step"] == 40


def test_largest_community_from_outputs_alone(tmp_path):
    cfg = preset_config(
        "holme_newman",
        "n_agents=200",
        "steps=300",
        "seed=1",
        "output.progress=off",
        "output.figure=false",
        "output.snapshot_every=0",
    )
    run(cfg, tmp_path / "hn")
    model = ResocializationModel(cfg)
    for _ in range(300):
        model.step()
    u, v, _, _ = model.state.ties.edges()
    in_memory = largest_community_share(model.state.stance, u, v)
    assert largest_community_share(*final_from_outputs(tmp_path / "hn")) == in_memory


def test_jager_amblard_stance_is_the_attitude_mapped_to_0_1(tmp_path):
    cfg, _, out = _run(tmp_path, "jager_amblard", "output.figure=false", "preset.U=0.4", "preset.T=0.6")
    agents = pd.read_parquet(out / "agents.parquet")
    x0 = agents[agents.step == 0]["stance"].to_numpy()
    assert x0.min() >= 0 and x0.max() <= 1  # attitudes 2x - 1 uniform on [-1, 1]
    x = agents[agents.step == 15]["stance"].to_numpy()
    assert np.all((2 * x - 1 >= -1) & (2 * x - 1 <= 1))


@pytest.mark.slow
@pytest.mark.parametrize(
    "name,param",
    [
        ("deffuant", "preset.d=0.2"),
        ("hegselmann_krause", "preset.epsilon=0.1"),
        ("jager_amblard", "preset.U=0.3"),
        ("kozma_barrat", "preset.w=0.9"),
        ("holme_newman", "preset.phi=0.6"),
    ],
)
def test_cli(tmp_path, name, param):
    out = tmp_path / "run"
    env = {**os.environ, "HYDRA_FULL_ERROR": "0"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim",
            f"preset={name}",
            "n_agents=150",
            "seed=1",
            "steps=30",
            param,
            "stop_at_convergence=true",
            f"hydra.run.dir={out}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["preset"] == name and SUMMARY_KEYS <= set(summary)
    for f in OUTPUT_FILES:
        assert (out / f).exists(), f


@pytest.mark.slow
def test_cli_refuses_bad_preset_input(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim",
            "preset=jager_amblard",
            "preset.U=0.5",
            "preset.T=0.2",
            f"hydra.run.dir={tmp_path / 'bad'}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2
    assert "preset.T=0.2; allowed: >= preset.U (0.5)" in proc.stderr
    assert not (tmp_path / "bad").exists()
