"""The experiments' headline comparisons (sim.studies.headlines): what each compares, and the pairing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.metrics.population import METRICS
from sim.studies import headlines as hl

ROOT = Path(__file__).resolve().parents[2]


def test_every_headline_names_real_arms_metrics_and_what_produces_it():
    for h in hl.HEADLINES.values():
        assert h.metric in METRICS, h.name
        assert h.treatment in hl.ARMS and h.control in hl.ARMS, h.name
        assert h.kind in hl.KINDS and h.produced_by, h.name
        assert (ROOT / "experiments" / f"{h.experiment}.ipynb").exists(), h.name
        assert h.window in ("final", "surge"), h.name
        assert (h.levels is None) == (h.treatment != h.control), h.name  # gaps within runs only by profession
    for arm, overrides in hl.ARMS.items():
        for o in overrides:
            group, option = o.split("=")
            assert (ROOT / "conf" / group / f"{option}.yaml").exists(), (arm, o)


def test_arms_follow_the_headlines_asked_for():
    assert list(hl.arms_for(hl.resolve(["porous_esteban_ray"]))) == ["sealed", "porous"]
    assert list(hl.arms_for(hl.resolve(["profession_resister_gap"]))) == ["surge"]
    assert set(hl.arms_for(hl.resolve("all"))) == set(hl.ARMS)
    with pytest.raises(KeyError, match="nope"):
        hl.resolve(["nope"])


def frame(arm_values: dict[tuple[str, int], list[float]], metric: str, scope="all", level="all", every=5):
    """A collected metrics table: one series per (sample, seed), recorded every `every` steps."""
    rows = []
    for (sample, seed), values in arm_values.items():
        for k, v in enumerate(values):
            rows.append((sample, seed, k * every, scope, level, metric, v))
    return pd.DataFrame(rows, columns=["sample", "seed", "step", "scope", "level", "metric", "value"])


def test_paired_differences_match_points_and_seeds_and_read_the_surge_window():
    h = hl.HEADLINES["surge_overload_withdrawn"]
    # steps 0, 5, 10, 15, 20: the surge [5, 15) covers steps 5 and 10
    surge = frame(
        {("s0", 0): [0, 0.2, 0.4, 9, 9], ("s0", 1): [0, 0.1, 0.1, 9, 9], ("s1", 0): [0, 1, 1, 9, 9]}, h.metric
    )
    none = frame({("s0", 0): [0, 0.1, 0.1, 0, 0], ("s0", 1): [0, 0, 0, 0, 0], ("s1", 7): [0, 0, 0, 0, 0]}, h.metric)
    d = hl.paired({"surge": surge, "none": none}, h, (5, 15))
    # only the (point, seed) pairs run in both arms; each is surge mean - none mean over steps 5 and 10
    assert d.to_dict() == pytest.approx({("s0", 0): 0.3 - 0.1, ("s0", 1): 0.1})


def test_profession_gaps_are_within_one_run_and_relative_effects_are_shares():
    h = hl.HEADLINES["profession_resister_gap"]
    sw = frame({("s0", 0): [0.1, 0.5], ("s0", 1): [0.1, 0.2]}, h.metric, "profession", "social_work")
    hc = frame({("s0", 0): [0.1, 0.3], ("s0", 1): [0.1, 0.4]}, h.metric, "profession", "health_care")
    everyone = frame({("s0", 0): [0.1, 99.0], ("s0", 1): [0.1, 99.0]}, h.metric)
    d = hl.paired({"surge": pd.concat([sw, hc, everyone])}, h, (0, 0))
    assert d.to_dict() == pytest.approx({("s0", 0): 0.2, ("s0", 1): -0.2})  # the last step, SW - HC

    r = hl.HEADLINES["chain_share_of_marginalization"]
    off = frame({("s0", 0): [0, 0.1], ("s0", 1): [0, 0.0]}, r.metric)
    on = frame({("s0", 0): [0, 0.4], ("s0", 1): [0, 0.0]}, r.metric)
    d = hl.paired({"no_chain": off, "none": on}, r, (0, 0))
    assert d[("s0", 0)] == pytest.approx(0.75) and np.isnan(d[("s0", 1)])  # undefined without marginalization
