"""Parallel kernels have a serial form for one thread (sim.core.kernels): chosen by the thread count, same results."""

from __future__ import annotations

import math

import numba
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
                assert True not in value._forms or kernels.signatures(value._forms[True]) == [], (
                    f"{name}: parallel form used"
                )


def test_a_run_compiles_no_kernel_for_a_literal_argument():
    """A constant passed to a kernel (`f(..., -1)`) is typed as a literal: numba compiles the callee once more."""
    from numba.core import types

    from sim.core import groups, tiestore
    from sim.metrics import polarization, population, tiestats
    from sim.step import compiled

    model = ResocializationModel(n_agents=300, n_groups=3, steps=3, seed=1)
    model.run_model()
    found = []
    for module in (groups, tiestore, compiled, polarization, population, tiestats):
        for name, value in vars(module).items():
            forms = list(value._forms.values()) if isinstance(value, Kernel) else [value]
            for form in forms:
                if isinstance(form, numba.core.dispatcher.Dispatcher):
                    found += [
                        (name, sig)
                        for sig in kernels.signatures(form)
                        if any(isinstance(t, types.Literal) for t in sig)
                    ]
    assert found == []


def test_metrics_are_equal_from_either_form(monkeypatch):
    if threads.pool_size() < 2:
        pytest.skip("numba's pool has one thread here")

    def collected(count: str) -> pd.DataFrame:
        monkeypatch.setenv(threads.ENV, count)
        model = ResocializationModel(n_agents=400, n_groups=4, steps=4, seed=5)
        model.run_model()
        return model.datacollector.get_model_vars_dataframe()

    pd.testing.assert_frame_equal(collected("1"), collected("2"))


@kernels.jit(cache=False)
def _scaled_exp(x, a):
    return math.exp(a * x) / (1.0 + x * x)


@kernels.jit(cache=False)
def _sum_scaled_exp(xs, a, out):
    for i in range(xs.size):
        out[i] = _scaled_exp(xs[i], a)


def _entry_points(dispatcher, sig):
    cres = dispatcher.overloads[sig]
    lib = cres.library
    return (
        lib.get_pointer_to_function(cres.fndesc.llvm_cpython_wrapper_name),
        lib.get_pointer_to_function(cres.fndesc.llvm_cfunc_wrapper_name),
    )


def test_jit_compiles_no_entry_points_and_python_calls_go_to_its_twin():
    """`@jit` builds no CPython or C entry point for compiled callers; Python calls compile a twin that has one."""
    out = np.empty(3)
    _sum_scaled_exp(np.array([0.0, 0.5, 2.0]), 1.5, out)  # from Python: the caller's twin
    (sig,) = _scaled_exp.signatures  # compiled for the caller's call, not for Python
    assert _entry_points(_scaled_exp, sig) == (0, 0)
    assert "_twin" not in vars(_scaled_exp)  # nobody called it from Python yet
    assert _scaled_exp(0.5, 1.5) == out[1]  # now Python does: its twin
    twin = _scaled_exp.twin()
    assert twin.py_func.__qualname__ == "_scaled_exp" + kernels.TWIN_SUFFIX  # its own cache files
    (twin_sig,) = twin.signatures
    assert _entry_points(twin, twin_sig)[0] != 0
    assert kernels.signatures(_scaled_exp) == [sig]  # the same types either way
    assert _scaled_exp.__doc__ == _scaled_exp.py_func.__doc__ and _scaled_exp.__name__ == "_scaled_exp"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-30.0, 30.0), min_size=1, max_size=20), st.floats(-2.0, 2.0))
def test_a_jit_function_gives_the_same_bits_from_python_and_from_compiled_code(xs, a):
    xs = np.array(xs)
    out = np.empty_like(xs)
    _sum_scaled_exp(xs, a, out)
    assert [_scaled_exp(float(x), a) for x in xs] == out.tolist()


def test_the_package_rules_have_no_entry_points_and_still_pickle():
    """The model's rules (here asociality) are compiled for the compiled step without entry points."""
    import pickle

    from sim.step import ties

    model = ResocializationModel(n_agents=200, n_groups=2, steps=2, seed=3)
    model.run_model()
    assert isinstance(ties.asociality, kernels.CompiledOnly)
    if not ties.asociality.signatures:  # the step came from numba's cache: its rules were not compiled here
        from numba import types

        ties.asociality.compile((types.float32, types.int64, types.int64))  # as `_exchange` calls it
    sig = ties.asociality.signatures[0]
    assert _entry_points(ties.asociality, sig) == (0, 0)
    assert ties.asociality(0.5, 1, 4) == 1.0 - 0.5 * (1.0 - 0.25)  # a Python call works (its twin)
    assert pickle.loads(pickle.dumps(ties.asociality)) is ties.asociality


def test_jit_is_the_plain_function_when_numba_is_off(monkeypatch):
    monkeypatch.setattr(kernels.numba_config, "DISABLE_JIT", True)

    def f(x):
        return x + 1

    assert kernels.jit(cache=True)(f) is f


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-(2**31), 2**31 - 1), max_size=120), st.sampled_from([np.int32, np.int64]))
def test_sort_small_sorts_as_numpy_does(values, dtype):
    """By insertion up to a few values, by heapsort above: the same array as np.sort, in place."""
    a = np.array(values, dtype=dtype)
    expected = np.sort(a)
    kernels.sort_small(a)
    assert a.dtype == dtype and a.tolist() == expected.tolist()


def test_sort_small_compiles_its_heap_step_once():
    """Heapsort's sift is called with typed positions only: a literal 0 would compile it once more."""
    from numba.core import types

    # compiled afresh (not loaded from the cache, which would load the callee's code with it): the callee
    # is compiled, or loaded, for the types the sort calls it with
    numba.njit(kernels.sort_small.py_func)(np.arange(40, 0, -1, dtype=np.int32))
    sigs = kernels.signatures(kernels._sift_down)
    assert sigs and not any(isinstance(t, types.Literal) for sig in sigs for t in sig)
