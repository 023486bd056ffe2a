"""The initial traits' Beta draws, side by side on threads (sim.core.initialize.beta_draws): the same arrays."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from sim.config.params import TraitDist
from sim.core import initialize


def _jobs(seed: int) -> list[tuple[np.random.Generator, TraitDist]]:
    streams = np.random.default_rng(seed).spawn(4)
    dists = [TraitDist(0.3, 6.0), TraitDist(0.5, 8.0), TraitDist(0.8, 3.0), TraitDist(1.0, 5.0)]  # mean 1: all ones
    return list(zip(streams, dists, strict=True))


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs two numba threads")
def test_threaded_draws_equal_the_draws_one_after_another() -> None:
    n = initialize.THREADED_DRAWS_FROM
    alone = [initialize.beta_draw(rng, dist, n) for rng, dist in _jobs(7)]
    saved = numba.get_num_threads()
    numba.set_num_threads(2)
    try:
        threaded = initialize.beta_draws(_jobs(7), n)
    finally:
        numba.set_num_threads(saved)
    assert len(threaded) == len(alone)
    for a, b in zip(alone, threaded, strict=True):
        np.testing.assert_array_equal(a, b)
    assert (threaded[3] == 1.0).all() and threaded[0].std() > 0


def test_small_populations_draw_in_order_on_this_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pool(*args: object, **kwargs: object) -> None:
        raise AssertionError("a thread pool for a small population")

    monkeypatch.setattr(initialize, "ThreadPoolExecutor", no_pool)
    got = initialize.beta_draws(_jobs(3), 1000)
    want = [initialize.beta_draw(rng, dist, 1000) for rng, dist in _jobs(3)]
    for a, b in zip(want, got, strict=True):
        np.testing.assert_array_equal(a, b)
