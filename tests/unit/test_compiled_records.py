"""The compiled kernels take named records (sim.step.records); their writes reach the state's arrays.

numba's parallel lowering loses writes made inside a prange loop through a NamedTuple's fields, so the
kernels read each field into a local first. These tests fail if a kernel writes through the record
again, and show whether numba still behaves so (then the workaround could go).
"""

from __future__ import annotations

from typing import NamedTuple

import numba as nb
import numpy as np

from sim.config.params import Config
from sim.step import compiled
from sim.step.records import Params, TieArrays, params


class _Two(NamedTuple):
    a: np.ndarray
    b: np.ndarray


@nb.njit(parallel=True)
def _write_through_fields(t, flag):
    for i in nb.prange(len(flag)):
        if flag[i]:
            t.a[i] = 1


@nb.njit(parallel=True)
def _write_through_locals(t, flag):
    a = t.a
    for i in nb.prange(len(flag)):
        if flag[i]:
            a[i] = 1


def test_parallel_writes_through_locals_reach_the_array():
    t = _Two(np.zeros(3, np.int64), np.zeros(3, np.int64))
    _write_through_locals(t, np.array([True, False, True]))
    assert t.a.tolist() == [1, 0, 1]


def test_numba_still_loses_parallel_writes_through_record_fields():
    """Documents the numba behaviour the kernels work around; if this fails, numba fixed it."""
    t = _Two(np.zeros(3, np.int64), np.zeros(3, np.int64))
    _write_through_fields(t, np.array([True, False, True]))
    assert t.a.tolist() == [0, 0, 0]


def test_rejections_kernel_mutes_and_flags_the_block():
    p = params(Config())  # mute_after = 3
    t = TieArrays(
        np.array([0, 2, 4], dtype=np.int32),
        np.array([1, -1, 0, -1], dtype=np.int32),
        np.zeros(4, bool),
        np.zeros(2, bool),
        np.array([2, 0, 0, 0], np.uint8),
    )
    newly = compiled._count_rejections(t, np.array([1, -1]), np.array([0, -1]), np.array([True, False]), p)
    assert newly.tolist() == [True, False]
    assert t.rejections.tolist() == [3, 0, 0, 0]
    assert t.muted.tolist() == [True, False, False, False]
    assert t.mutes.tolist() == [True, False]  # the block is flagged: the exchange reads its mutes


def test_params_carry_every_step_key_of_the_config():
    cfg = Config()
    p = params(cfg)
    assert isinstance(p, Params)
    assert (p.capacity, p.acceptance, p.mute_after, p.gain, p.dominant) == (
        cfg.attention.capacity,
        cfg.influence.acceptance,
        cfg.ties.mute_after,
        cfg.identity.gain,
        cfg.stance.dominant,
    )
    assert isinstance(p.mute_after, int) and isinstance(p.peer, bool) and isinstance(p.cap, float)
