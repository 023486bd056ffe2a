"""Docking: the full model, set up by `docking=NAME`, shows the classics' published results (docs/classics.md).

The full model's step is not the classics' update (synchronous, one message per agent and step, only
the receiver moves), so the tests check the published qualitative results through the full model's own
step, not identity with the presets: Deffuant's major clusters fall with d, Hegselmann-Krause reaches
consensus above its threshold and not below, Jager-Amblard's three regimes at points well inside each
region. Measured values (N = 200, seeds 0-7, docs/classics.md "Docking") are quoted at each test.
"""

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf

from sim.config.compose import compose, compose_dict
from sim.config.errors import ConfigError
from sim.metrics.regime import ja_regime, regime_summary
from sim.studies.docking import docking_config, run_docked
from tests.support.threads import child_env

ROOT = Path(__file__).resolve().parents[2]

N = 200
SEEDS = range(5)

# What each option maps: full-model key -> (docking key, factor); conf/docking/NAME.yaml
MAPPED = {
    "deffuant": {"influence.acceptance": ("d", 1.0), "influence.rate": ("mu", 1.0)},
    "hegselmann_krause": {"influence.acceptance": ("epsilon", 1.0)},
    "jager_amblard": {
        "influence.acceptance": ("U", 0.5),
        "influence.rejection": ("T", 0.5),
        "influence.rate": ("mu", 1.0),
    },
}
GIVEN = {
    "deffuant": {"d": 0.2, "mu": 0.45},
    "hegselmann_krause": {"epsilon": 0.15},
    "jager_amblard": {"U": 0.5, "T": 1.4, "mu": 0.2},
}
SWITCHED_OFF = (
    "messages.broadcast",
    "messages.forum",
    "attention.enabled",
    "ties.muting",
    "ties.exclusion",
    "ties.formation",
    "ties.rewiring",
    "identity.enabled",
    "professions.heterogeneous",
)


def _majors(name, *overrides):
    cfg = docking_config(name, f"n_agents={N}", *overrides)
    return regime_summary(run_docked(cfg), cfg.metrics)["n_major_clusters"]


@pytest.mark.parametrize("name", list(MAPPED))
def test_each_option_maps_the_classic_names_onto_the_full_model(name):
    overrides = [f"docking={name}", *(f"docking.{k}={v}" for k, v in GIVEN[name].items())]
    dcfg = compose_dict(overrides)
    cfg = compose(overrides)
    assert cfg.docking.name == name and cfg.preset.name == "full"
    for key, (classic, factor) in MAPPED[name].items():
        section, leaf = key.split(".")
        # the composed (saved) config shows the mapping, and the resolved one the value the model uses
        assert OmegaConf.is_interpolation(dcfg[section], leaf), key
        assert f"docking.{classic}" in OmegaConf.to_container(dcfg[section])[leaf], key
        assert getattr(getattr(cfg, section), leaf) == pytest.approx(GIVEN[name][classic] * factor), key
    for key in SWITCHED_OFF:
        section, leaf = key.split(".")
        assert getattr(getattr(cfg, section), leaf) is False, key
    assert cfg.messages.peer and cfg.influence.enabled and cfg.influence.contrast == (name == "jager_amblard")
    assert cfg.identity.initial == 0.0 and cfg.influence.identity_stability == 0.0  # mu_i = mu
    assert cfg.professions.social_work.trust.mean == 1.0  # engagement 1: senders drawn uniformly
    assert cfg.network.kind == "complete" and cfg.n_groups == 1
    assert (cfg.stance.initial_mean, cfg.stance.initial_concentration) == (0.5, 2.0)  # uniform on [0, 1]
    # one message reaches every agent at every step: 1 - exp(-rate x E x degree) is 1.0 in floating point
    assert -math.expm1(-cfg.messages.peer_rate * cfg.exposure.baseline) == 1.0


def test_no_docking_is_the_default_and_changes_nothing():
    assert compose([]).docking.name == "none"
    assert compose(["docking=none"]) == compose([])
    none = OmegaConf.to_container(OmegaConf.load(ROOT / "conf" / "docking" / "none.yaml"))
    assert none == {"docking": {"name": "none"}}  # sets no key of the model


def test_docking_rules_are_config_errors():
    with pytest.raises(ConfigError) as err:
        compose(["docking=jager_amblard", "docking.U=0.8", "docking.T=0.6"])
    assert err.value.key == "docking.T"
    with pytest.raises(ConfigError) as err:
        compose(["preset=hegselmann_krause", "docking=hegselmann_krause"])
    assert err.value.key == "docking" and "preset=full" in err.value.allowed


def test_docking_with_a_classic_preset_is_a_one_line_error_from_the_cli(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "preset=deffuant", "docking=deffuant", f"hydra.run.dir={tmp_path}/run"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**child_env(), "HYDRA_FULL_ERROR": "0"},
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: invalid config: docking='deffuant'; allowed: none with preset=deffuant")
    assert not (tmp_path / "run").exists()


# --------------------------------------------------------------------------- Deffuant et al. 2000
# Published: major clusters ~ floor(1 / (2d)) on a mixing population; consensus for d >= 0.3.
# Docked, measured (N = 200, seeds 0-7, 200 steps): d = 0.1 -> 4-5 major clusters, 0.2 -> 2-3, 0.4 -> 1.
# Tolerance: every run within one of floor(1 / (2d)); at least 3 at d = 0.1; consensus in every run at
# d = 0.4; the mean falls strictly from d = 0.1 to 0.2 to 0.4.


def test_deffuant_docking_major_clusters_fall_with_d():
    means = []
    for d in (0.1, 0.2, 0.4):
        counts = [_majors("deffuant", f"docking.d={d}", "docking.mu=0.5", "steps=200", f"seed={s}") for s in SEEDS]
        expected = math.floor(1 / (2 * d) + 1e-9)
        assert all(abs(c - expected) <= 1 for c in counts), (d, counts)
        if d == 0.1:
            assert min(counts) >= 3, counts
        if d == 0.4:
            assert counts == [1] * len(SEEDS), counts
        means.append(np.mean(counts))
    assert means[0] > means[1] > means[2], means


# --------------------------------------------------------------------------- Hegselmann & Krause 2002
# Published: consensus above epsilon ~ 0.2 on a complete graph, several clusters below. Docked, one
# message at a time at rate 0.5 (HK's mean over {self, sender}), the threshold moves up to Deffuant's
# (docs/classics.md): measured (N = 200, seeds 0-7) 3-4 major clusters at 0.15, consensus in every run
# at 0.35 and 0.4. Tolerance: no consensus at 0.15 (at least 2 major clusters), consensus at 0.4.


def test_hk_docking_consensus_above_the_threshold_not_below():
    below = [_majors("hegselmann_krause", "docking.epsilon=0.15", "steps=200", f"seed={s}") for s in SEEDS]
    above = [_majors("hegselmann_krause", "docking.epsilon=0.4", "steps=200", f"seed={s}") for s in SEEDS]
    assert min(below) >= 2, below
    assert above == [1] * len(SEEDS), above


def test_hk_docking_is_deffuant_docking_at_mu_one_half():
    # one message per step: HK's mean over {self, sender} is Deffuant's move with mu = 0.5 (docs/classics.md)
    common = (f"n_agents={N}", "steps=50", "seed=3")
    hk = run_docked(docking_config("hegselmann_krause", "docking.epsilon=0.22", *common))
    df = run_docked(docking_config("deffuant", "docking.d=0.22", "docking.mu=0.5", *common))
    assert np.array_equal(hk, df)


# --------------------------------------------------------------------------- Jager & Amblard 2005
# Published: uniformity for large U, bipolarization (two camps at -1 and +1) for T close to U,
# pluriformity for small U and large T. Points well inside each region of the map (docs/classics.md).
# Docked, measured (N = 200, seeds 0-7, 1500 steps): (1.0, 1.8) -> one major cluster in every run;
# (0.4, 0.6) -> two major clusters with every agent at exactly -1 or +1, 46-54% on each side;
# (0.2, 1.8) -> 5 to 7 major clusters.

JA_POINTS = {"U": (1.0, 1.8), "B": (0.4, 0.6), "P": (0.2, 1.8)}


def test_ja_docking_three_regimes():
    for letter, (U, T) in JA_POINTS.items():
        for seed in SEEDS:
            cfg = docking_config(
                "jager_amblard", f"docking.U={U}", f"docking.T={T}", f"n_agents={N}", "steps=1500", f"seed={seed}"
            )
            x = run_docked(cfg)
            s = regime_summary(x, cfg.metrics)
            assert ja_regime(x, cfg.metrics) == letter, (U, T, seed, s)
            if letter == "B":
                attitude = 2 * x.astype(np.float64) - 1  # the paper's scale
                assert np.mean(np.abs(attitude) == 1.0) >= 0.95, (seed, s)
                assert min(np.mean(attitude == -1.0), np.mean(attitude == 1.0)) >= 0.2, seed
            if letter == "P":
                assert s["n_major_clusters"] >= 3, (seed, s)
