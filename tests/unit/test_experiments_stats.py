"""The notebooks' interval helpers against scipy's own tests and hand cases."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.studies.experiments import effects_table, markdown_table, mean_ci, paired_effects, summarize


def test_mean_ci_is_the_t_interval():
    v = np.array([1.0, 2.0, 4.0, 7.0])
    m, lo, hi = mean_ci(v)
    ref = stats.t.interval(0.95, 3, loc=v.mean(), scale=stats.sem(v))
    assert m == 3.5 and (lo, hi) == pytest.approx(ref)
    assert np.isnan(mean_ci([2.0])[1]) and mean_ci([2.0, np.nan])[0] == 2.0


def test_summarize_groups():
    df = pd.DataFrame({"s": ["a", "a", "b", "b", "b"], "v": [1.0, 3.0, 2.0, 2.0, 5.0]})
    out = summarize(df, ["s"], "v").set_index("s")
    assert out.loc["a", "mean"] == 2.0 and out.loc["b", "n"] == 3


def test_paired_effects_pair_by_seed_in_the_outcome_units():
    # seeds 0-3; the variant adds 1, 2, 3, 4 to the default's value at the same seed. An unpaired
    # comparison would mix the large seed-to-seed spread (10, 20, 30, 40) into the interval; the paired one
    # sees only the spread of the differences.
    base = pd.DataFrame({"v": "none", "seed": [0, 1, 2, 3], "y": [10.0, 20.0, 30.0, 40.0]})
    var = pd.DataFrame({"v": "off", "seed": [3, 2, 1, 0], "y": [44.0, 33.0, 22.0, 11.0]})  # order does not matter
    table = pd.concat([base, var], ignore_index=True)
    e = paired_effects(table, "v", "none", ["y"]).iloc[0]
    d = np.array([1.0, 2.0, 3.0, 4.0])
    ref = stats.t.interval(0.95, 3, loc=d.mean(), scale=stats.sem(d))
    assert (e["variant"], e["outcome"], e["n"]) == ("off", "y", 4)
    assert e["effect"] == 2.5 and (e["lo"], e["hi"]) == pytest.approx(ref)
    assert (e["baseline"], e["value"], e["share_positive"]) == (25.0, 27.5, 1.0)
    # a seed missing on one side is left out of the pairs; two runs of one seed for the baseline are refused
    e2 = paired_effects(table[~((table["v"] == "off") & (table["seed"] == 3))], "v", "none", ["y"]).iloc[0]
    assert e2["n"] == 3 and e2["effect"] == 2.0
    with pytest.raises(ValueError, match="more than one run per seed"):
        paired_effects(pd.concat([table, base.iloc[:1]]), "v", "none", ["y"])


def test_effects_table_and_markdown():
    table = pd.DataFrame(
        {"v": ["none"] * 3 + ["a"] * 3 + ["b"] * 3, "seed": [0, 1, 2] * 3, "y": [0, 0, 0, 1, 2, 3, -1, -1, -1.0]}
    )
    e = paired_effects(table, "v", "none", ["y"])
    t = effects_table(e)
    assert list(t.index) == ["a", "b"] and t.loc["b", "y"] == "-1.000 [-1.000, -1.000]"
    assert t.loc["a", "y"].startswith("2.000 [")
    md = markdown_table(t)
    assert md.splitlines()[0] == "| variant | y |" and md.splitlines()[1] == "|---|---|"
    assert md.splitlines()[3] == "| b | -1.000 [-1.000, -1.000] |"


def test_repository_paths():
    from sim.studies import experiments, review_calibration

    root = Path(__file__).resolve().parents[2]
    assert experiments.ROOT == root and review_calibration.ROOT == root
    assert review_calibration.DEFAULT_DEFINITION.exists()
