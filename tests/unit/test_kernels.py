"""Parallel kernels have a serial form for one thread (sim.core.kernels): chosen by the thread count, same results."""

from __future__ import annotations

import numba
import numpy as np
import pandas as pd
import pytest

from sim.core import kernels, threads
from sim.core.kernels import SERIAL_SUFFIX, Kernel, parallel_kernel
from sim.model import ResocializationModel


@parallel_kernel(cache=False)
def _square_sum(x):
    total = 0.0
    for i in numba.prange(x.size):
        total += x[i] * x[i]
    return total


@parallel_kernel(cache=False)
def _calls_square_sum(x):
    return _square_sum(x) + 1.0


def test_one_thread_runs_the_serial_form_and_more_the_parallel_one():
    x = np.arange(10.0)
    with threads.use_threads(1):
        assert _square_sum(x) == 285.0
        assert _square_sum(x=x) == 285.0  # keyword arguments reach numba's dispatcher too
    assert set(_square_sum._forms) == {False}
    assert _square_sum.serial.py_func.__qualname__ == "_square_sum" + SERIAL_SUFFIX  # its own cache entry
    if threads.pool_size() < 2:
        pytest.skip("numba's pool has one thread here")
    with threads.use_threads(2):
        assert _square_sum(x) == 285.0
    assert set(_square_sum._forms) == {False, True}
    assert _square_sum.parallel.py_func.__qualname__ == "_square_sum"
    assert _square_sum.parallel.targetoptions.get("parallel") is True
    assert not _square_sum.serial.targetoptions.get("parallel")


def test_a_kernel_calls_the_same_form_of_the_kernels_it_calls():
    x = np.arange(4.0)
    with threads.use_threads(1):
        assert _calls_square_sum(x) == 15.0
    serial_env = _calls_square_sum.serial.py_func.__globals__
    assert serial_env["_square_sum"] is _square_sum.serial
    assert isinstance(kernels.Kernel, type) and isinstance(_calls_square_sum, Kernel)
    assert _calls_square_sum.__doc__ == _calls_square_sum.py_func.__doc__
    assert "parallel_kernel" in repr(_calls_square_sum)


def test_a_run_compiles_no_parallel_form_below_the_parallel_size():
    """The default-size model (one thread) never compiles a kernel's parallel form: that is the point."""
    from sim.core import groups, tiestore
    from sim.step import compiled

    model = ResocializationModel(n_agents=300, n_groups=3, steps=3, seed=1)
    model.run_model()
    for module in (groups, tiestore, compiled):
        for name, value in vars(module).items():
            if isinstance(value, Kernel):
                assert True not in value._forms or value._forms[True].signatures == [], f"{name}: parallel form used"


def test_metrics_are_equal_from_either_form(monkeypatch):
    if threads.pool_size() < 2:
        pytest.skip("numba's pool has one thread here")

    def collected(count: str) -> pd.DataFrame:
        monkeypatch.setenv(threads.ENV, count)
        model = ResocializationModel(n_agents=400, n_groups=4, steps=4, seed=5)
        model.run_model()
        return model.datacollector.get_model_vars_dataframe()

    pd.testing.assert_frame_equal(collected("1"), collected("2"))
