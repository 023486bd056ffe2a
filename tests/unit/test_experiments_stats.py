"""The notebooks' interval helpers against scipy's own tests and hand cases."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.studies.experiments import mean_ci, summarize


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
