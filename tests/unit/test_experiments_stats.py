"""The notebooks' interval and effect-size helpers against scipy's own tests and hand cases."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.studies.experiments import effect_size, mean_ci, summarize


def test_mean_ci_is_the_t_interval():
    v = np.array([1.0, 2.0, 4.0, 7.0])
    m, lo, hi = mean_ci(v)
    ref = stats.t.interval(0.95, 3, loc=v.mean(), scale=stats.sem(v))
    assert m == 3.5 and (lo, hi) == pytest.approx(ref)
    assert np.isnan(mean_ci([2.0])[1]) and mean_ci([2.0, np.nan])[0] == 2.0


def test_effect_size_matches_welch_and_hedges():
    rng = np.random.default_rng(0)
    a, b = rng.normal(1.0, 1.0, 30), rng.normal(0.0, 2.0, 20)
    e = effect_size(a, b)
    welch = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert (e["diff_lo"], e["diff_hi"]) == pytest.approx((welch.low, welch.high))
    pooled = np.sqrt((29 * a.var(ddof=1) + 19 * b.var(ddof=1)) / 48)
    assert e["hedges_g"] == pytest.approx((a.mean() - b.mean()) / pooled * (1 - 3 / (4 * 50 - 9)))
    assert e["g_lo"] < e["hedges_g"] < e["g_hi"]


def test_summarize_groups():
    df = pd.DataFrame({"s": ["a", "a", "b", "b", "b"], "v": [1.0, 3.0, 2.0, 2.0, 5.0]})
    out = summarize(df, ["s"], "v").set_index("s")
    assert out.loc["a", "mean"] == 2.0 and out.loc["b", "n"] == 3
