"""The experiments (conf/experiment/NAME.yaml + experiments/NAME.ipynb): configs, notebooks, stripped saves.

Each notebook runs top to bottom with nbclient on small settings (its sweep, 3 seeds of 120 agents, run
by `sim.studies.experiments.load` into a temporary directory; the settings are those of
tests/support/notebooks.py, which also executes the notebooks for the documentation site), draws its
figures, and a second load reads the outputs without running anything. The kernel has Jupyter's
matplotlib backend, and every figure a notebook draws must be shown in it (an output with an image), not
only saved. Every notebook of experiments/ is saved without outputs.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from tests.support.notebooks import displayed_images, execute, rendered_images, small_settings

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENTS = ROOT / "experiments"
FIGURES = {
    "pandemic_shock": {"shock_series.png", "shock_effects.png", "shock_recovery.png"},
    "professions": {"professions_gaps.png", "professions_final.png", "professions_series.png"},
    "interventions": {"interventions_series.png", "interventions_forest.png"},
    "forums": {"forums_effects.png", "forums_polarization.png", "forums_series_and_stances.png"},
}
SCENARIOS = {
    "pandemic_shock": {"baseline", "pandemic_shock", "shock_recovery"},
    "professions": {"social_work_vs_health_care", "pandemic_shock"},
    "interventions": {"pandemic_shock", "literacy_training", "capped_hyperconnectivity"},
    "forums": {"sealed_forums", "baseline", "porous_forums"},
}
STRIP = "python -m nbstripout --keep-id experiments/*.ipynb"


def test_every_experiment_notebook_is_saved_without_outputs():
    nbformat = pytest.importorskip("nbformat")
    notebooks = sorted(EXPERIMENTS.glob("*.ipynb"))
    assert {p.stem for p in notebooks} >= set(FIGURES)
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, f"{path.name} has outputs: run {STRIP}"


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_experiment_config_declares_its_sweep_and_notebook_states_it(name):
    cfg = OmegaConf.to_container(OmegaConf.load(ROOT / "conf" / "experiment" / f"{name}.yaml"), resolve=False)
    params = cfg["hydra"]["sweeper"]["params"]
    assert set(params["scenario"].split(",")) == SCENARIOS[name]
    assert params["seed"] == "range(0,50)"
    assert cfg["hydra"]["sweep"]["dir"] == f"${{sim.experiment_dir:{name}}}"  # outputs/experiments/NAME
    assert cfg["output"]["events"] is False and cfg["output"]["snapshot_every"] == 0
    for scenario in SCENARIOS[name]:
        assert (ROOT / "conf" / "scenario" / f"{scenario}.yaml").exists()
    text = (EXPERIMENTS / f"{name}.ipynb").read_text()
    assert f"python -m sim -m +experiment={name}" in text and f'ex.load(\\"{name}\\")' in text
    assert "literature-review-summary.txt" in text
    assert f"[experiments/{name}.ipynb](experiments/{name}.ipynb)" in (ROOT / "README.md").read_text()
    assert f"+experiment={name}" in (EXPERIMENTS / "README.md").read_text()


def test_preflight_checks_the_sweeps_a_config_declares(tmp_path):
    from sim.config.errors import InputError
    from sim.config.preflight import preflight

    preflight(["-m", "+experiment=interventions", "n_agents=150"])
    (tmp_path / "experiment").mkdir()
    (tmp_path / "experiment" / "bad.yaml").write_text(
        "# @package _global_\nhydra:\n  sweeper:\n    params:\n      scenario: baseline,nope\n      seed: range(2)\n"
    )
    with pytest.raises(InputError, match="nope"):
        preflight(["-m", "--config-dir", str(tmp_path), "+experiment=bad"])
    preflight(["-m", "--config-dir", str(tmp_path), "+experiment=bad", "scenario=baseline"])  # the command line wins
    preflight(["--config-dir", str(tmp_path), "+experiment=bad"])  # a single run does not sweep


def test_sweep_size_and_swept_keys_count_the_command_line_over_the_config(tmp_path):
    from sim.studies.callbacks import sweep_jobs
    from sim.studies.collect import declared_sweeps

    cfg = OmegaConf.create(
        {
            "hydra": {
                "sweeper": {
                    "_target_": "hydra._internal.core_plugins.basic_sweeper.BasicSweeper",
                    "params": {"scenario": "baseline,pandemic_shock", "seed": "range(0,50)"},
                },
                "overrides": {"task": ["+experiment=x", "seed=range(0,3)", "n_agents=100"]},
                "runtime": {"config_sources": []},
            }
        }
    )
    assert sweep_jobs(cfg) == 6
    OmegaConf.save(cfg, tmp_path / "multirun.yaml")
    assert declared_sweeps(tmp_path) == ["scenario", "seed"]
    cfg.hydra.overrides.task = ["+experiment=x", "scenario=baseline"]
    OmegaConf.save(cfg, tmp_path / "multirun.yaml")
    assert declared_sweeps(tmp_path) == ["seed"]


def test_experiment_dir_resolver(monkeypatch, tmp_path):
    from sim.studies.naming import _experiment_dir

    monkeypatch.setenv("SIM_EXPERIMENTS_DIR", str(tmp_path))
    assert _experiment_dir("forums") == str(tmp_path / "forums")
    monkeypatch.delenv("SIM_EXPERIMENTS_DIR")
    assert Path(_experiment_dir("forums")).is_absolute() and _experiment_dir("forums").endswith(
        "outputs/experiments/forums"
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FIGURES))
def test_notebook_runs_on_small_settings_and_reads_outputs_only(name, tmp_path, monkeypatch):
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    from sim.studies import experiments

    # SIM_EXPERIMENTS_DIR (tmp_path), SIM_EXPERIMENT_OVERRIDES and MPLBACKEND: the kernel and the sweep inherit them
    for key, value in small_settings(name, tmp_path).items():
        monkeypatch.setenv(key, value)
    nb = execute(name, timeout=300)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("outputs missing; running" in o.get("text", "") for o in outputs)  # the first load ran the sweep
    # the conclusions name what produces them (sim.studies.headlines)
    assert any("What produces these conclusions" in str(o.get("data", {}).get("text/markdown", "")) for o in outputs)
    out = tmp_path / name
    assert {p.name for p in (out / "figures").glob("*.png")} == FIGURES[name]
    assert displayed_images(nb) == len(FIGURES[name]), "every figure saved is also shown in the notebook"
    assert rendered_images(nb) == len(FIGURES[name]), "and on the documentation site's page of the notebook"

    summary = out / "summary.parquet"
    stamps = {p: p.stat().st_mtime_ns for p in (summary, out / "metrics.parquet")}
    exp = experiments.load(name)
    assert {"run_id", "seed", "scenario"} <= set(exp.summary.columns)
    assert set(exp.summary["scenario"]) == SCENARIOS[name]
    assert sorted(exp.summary["seed"].unique()) == [0, 1, 2]  # the command line's seeds, not the config's 50
    assert (exp.summary.groupby("scenario")["seed"].nunique() == 3).all()

    def no_run(*args, **kwargs):
        raise AssertionError(f"a second load ran {args}")

    monkeypatch.setattr(subprocess, "run", no_run)
    experiments.load(name)  # the outputs exist: read, nothing run
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps


def test_ablation_config_switches_one_mechanism_per_variant():
    """Each ablation variant switches exactly one key away from the defaults; every listed switch has one."""
    from sim.config.compose import compose_dict
    from sim.config.params import SWITCHES

    cfg = OmegaConf.to_container(OmegaConf.load(ROOT / "conf" / "experiment" / "ablation.yaml"), resolve=False)
    params = cfg["hydra"]["sweeper"]["params"]
    variants = params["ablation"].split(",")
    assert variants[0] == "none" and set(params["scenario"].split(",")) == {"baseline", "pandemic_shock"}
    assert params["seed"] == "range(0,20)"
    assert {p.stem for p in (ROOT / "conf" / "ablation").glob("*.yaml")} == set(variants)

    def leaves(d, prefix=""):
        out = {}
        for k, v in d.items():
            out.update(leaves(v, f"{prefix}{k}.") if isinstance(v, dict) else {f"{prefix}{k}": v})
        return out

    default = leaves(OmegaConf.to_container(compose_dict([])))
    switched = set()
    for v in variants[1:]:
        composed = OmegaConf.to_container(compose_dict([f"ablation={v}"]))
        diff = {k: x for k, x in leaves(composed).items() if default.get(k) != x}
        assert len(diff) == 1, (v, diff)
        switched |= set(diff)
    readme = (ROOT / "README.md").read_text()
    listed = set(
        re.findall(
            r"`((?:messages|attention|influence|ties|identity|professions)\.\w+)`",
            readme.split("Each mechanism has its switch")[1].split(")")[0],
        )
    )
    assert listed <= switched, listed - switched
    assert set(SWITCHES) <= switched, set(SWITCHES) - switched


def executed_text(name: str, tmp_path: Path, monkeypatch) -> tuple[str, int]:
    """Run experiments/NAME.ipynb top to bottom at small settings (no cell may fail); its text outputs, and images.

    The small settings (tests/support/notebooks.py) put every output under `tmp_path`. The images are the
    outputs with `image/png` data: figures drawn in the notebook or read from files.
    """
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    for key, value in small_settings(name, tmp_path).items():
        monkeypatch.setenv(key, value)
    nb = execute(name)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") + str(o.get("data", {}).get("text/markdown", "")) for o in outputs)
    shown = displayed_images(nb)
    assert rendered_images(nb) == shown, "the documentation site's page of the notebook shows every image it shows"
    return text, shown


@pytest.mark.slow
def test_ablation_notebook_runs_on_small_settings(tmp_path, monkeypatch):
    results = ROOT / "docs" / "results" / "ablation.md"
    before = results.read_bytes() if results.exists() else None
    text, shown = executed_text("ablation", tmp_path, monkeypatch)  # 2 seeds of 100 agents, 120 steps
    assert "outputs missing; running" in text and "small settings: docs/results left as they are" in text
    assert "holds" in text or "fails" in text  # the claims were evaluated
    assert "What produces these conclusions" in text and "asociality -> marginalization chain" in text
    assert {p.name for p in (tmp_path / "ablation" / "figures").glob("*.png")} == {"ablation_heatmap.png"}
    assert (results.read_bytes() if results.exists() else None) == before  # the docs keep the full run's results
    assert shown == 1, f"the heat maps are drawn but {shown} images are shown"


def test_window_means_final_values_and_ci_tables():
    import numpy as np
    import pandas as pd

    from sim.studies.experiments import Experiment, ci_table, ci_text, final_values, run_keys, summarize, window_means

    rows = [
        {
            "run_id": f"r{seed}",
            "seed": seed,
            "scenario": "a",
            "step": step,
            "scope": "all",
            "level": "all",
            "metric": "m",
            "value": float(step + seed),
        }
        for seed in (0, 1)
        for step in range(0, 10, 2)
    ]
    exp = Experiment("x", Path("."), pd.DataFrame({"run_id": ["r0", "r1"]}), pd.DataFrame(rows))
    assert run_keys(exp) == ["seed", "scenario"]
    w = window_means(exp, ["m"], {"before": (0, 4), "after": (4, 9)})
    assert list(w["window"].cat.categories) == ["before", "after"]
    assert w.set_index(["run_id", "window"])["value"].to_dict() == {
        ("r0", "before"): 1.0,
        ("r1", "before"): 2.0,
        ("r0", "after"): 6.0,
        ("r1", "after"): 7.0,
    }
    f = final_values(exp, ["m"])
    assert f.set_index("run_id")["value"].to_dict() == {"r0": 8.0, "r1": 9.0} and set(f["step"]) == {8}
    table = ci_table(summarize(w, ["scenario", "window"], "value"), index="scenario", columns="window")
    assert list(table.columns) == ["before", "after"]  # the summary's order, not sorted
    assert table.loc["a", "before"].startswith("1.500 [")
    assert ci_text(-1e-9, -0.01, 0.01) == "0.000 [-0.010, 0.010]" and ci_text(np.nan, 0, 1) == "n/a"
    assert ci_text(0.5, np.nan, np.nan, digits=1) == "0.5"


@pytest.mark.slow
def test_review_calibration_notebook_runs_on_a_tiny_calibration(tmp_path, monkeypatch):
    """experiments/review_calibration.ipynb on a tiny definition: it runs the calibration, reads it, writes no docs."""
    pytest.importorskip("pyabc")
    results = ROOT / "docs" / "results" / "review_calibration.md"
    before = results.read_bytes() if results.exists() else None
    text, shown = executed_text("review_calibration", tmp_path, monkeypatch)  # tiny.yaml: 6 particles, 2 generations
    assert "outputs missing or stale; running" in text and "small settings: docs/results left as they are" in text
    assert "pinned down" in text and "of the draws" in text and "defaults lie inside" in text
    out = tmp_path / "calibration" / "tiny_review"
    assert {"posterior.png", "predictive.png", "posterior.parquet"} <= {p.name for p in out.iterdir()}
    assert (results.read_bytes() if results.exists() else None) == before
    # shown: the posterior and the predictive check (the calibration's PNG files) and the tolerance plot
    assert shown == 3, f"3 figures, {shown} images shown"


@pytest.mark.slow
def test_sensitivity_notebook_runs_on_tiny_experiments(tmp_path, monkeypatch):
    """experiments/sensitivity.ipynb on tiny definitions: runs them, reads them, computes its verdicts, no docs."""
    results = ROOT / "docs" / "results" / "sensitivity.md"
    before = results.read_bytes() if results.exists() else None
    text, shown = executed_text("sensitivity", tmp_path, monkeypatch)  # three tiny sweeps, two headlines
    assert text.count("outputs missing or older than the definition; running") == 3
    assert "small settings: docs/results left as they are" in text
    # the verdicts are computed for both headlines, and the Morris and Sobol sentences name them
    assert text.count("of the points") >= 2 and "first, then" in text and "the S1 sum to" in text
    assert (tmp_path / "sensitivity" / "headlines_morris" / "relative_mu_star.png").exists()
    assert (results.read_bytes() if results.exists() else None) == before
    # shown: the signs and the Sobol indices (the experiments' PNG files) and the Morris heat map
    assert shown == 3, f"3 figures, {shown} images shown"
