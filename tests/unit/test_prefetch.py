"""`sim.core.kernels.prefetch`: a memory hint that compiles to LLVM's prefetch and changes no value."""

from __future__ import annotations

import numba as nb
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.core.kernels import prefetch


@nb.njit
def _gather(values, index, ahead):
    total = 0.0
    for k in range(len(index)):
        if ahead > 0 and k + ahead < len(index):
            prefetch(values, index[k + ahead])
        total += values[index[k]]
    return total


def test_prefetch_is_emitted_as_llvm_prefetch():
    values = np.arange(10.0)
    index = np.array([3, 1, 4, 1, 5], dtype=np.int64)
    _gather(values, index, 2)
    ir = next(iter(_gather.inspect_llvm().values()))
    assert "@llvm.prefetch" in ir


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=200),
    st.integers(0, 2**31),
    st.integers(0, 12),
)
def test_prefetch_changes_no_value(values, seed, ahead):
    values = np.array(values)
    index = np.random.default_rng(seed).integers(0, len(values), size=3 * len(values))
    expected = 0.0
    for k in index:  # the same additions in the same order
        expected += float(values[k])
    assert _gather(values, index, ahead) == expected
