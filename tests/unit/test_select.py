"""The quickselect behind the group norms gives exactly what numpy's partition and median give."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.core.groups import group_norms_nb, select

values = st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=1, max_size=60)


@settings(max_examples=300, deadline=None)
@given(values, st.data())
def test_select_places_the_kth_smallest_with_nothing_smaller_after_and_nothing_larger_before(xs, data):
    v = np.array(xs)
    k = data.draw(st.integers(0, len(v) - 1))
    w = v.copy()
    select(w, k)
    assert w[k] == np.sort(v)[k]
    assert (w[:k] <= w[k]).all() and (w[k + 1 :] >= w[k]).all()
    assert sorted(w.tolist()) == sorted(v.tolist())  # a reordering


@settings(max_examples=200, deadline=None)
@given(st.lists(values, min_size=1, max_size=6))
def test_group_norms_are_numpys_medians_bit_for_bit(groups):
    x = np.concatenate([np.array(g) for g in groups])
    sizes = np.array([len(g) for g in groups])
    start = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    order = np.arange(len(x), dtype=np.int64)
    norm = group_norms_nb(x, order, start)
    expected = [np.median(np.array(g)) for g in groups]
    assert norm.tolist() == expected  # exact: the same two middle values, the same mean of them
