"""`sim.step.compiled._first_per_pair`: proposals hitting the same tie keep the first in agent order."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.step.compiled import _first_per_pair


def _first_seen(a: np.ndarray, b: np.ndarray) -> list[int]:
    seen: set[tuple[int, int]] = set()
    out = []
    for q, pair in enumerate(zip(a.tolist(), b.tolist(), strict=True)):
        key = (min(pair), max(pair))
        if key not in seen:
            seen.add(key)
            out.append(q)
    return out


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12)), max_size=60))
def test_the_first_proposal_of_each_unordered_pair_is_kept_in_order(pairs):
    a = np.array([p[0] for p in pairs], dtype=np.int64)
    b = np.array([p[1] for p in pairs], dtype=np.int64)
    keep = _first_per_pair(a, b, 13)
    assert keep.dtype == np.int64
    assert keep.tolist() == _first_seen(a, b)


def test_pairs_of_ten_million_agents_do_not_collide():
    n = 10_000_000
    a = np.array([n - 1, 0, n - 2, n - 1], dtype=np.int64)
    b = np.array([n - 2, n - 1, n - 1, 0], dtype=np.int64)
    assert _first_per_pair(a, b, n).tolist() == [0, 1]
