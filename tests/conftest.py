"""Shared fixtures; builders live in tests/support (test modules import those, never each other)."""

from __future__ import annotations

import os

import numba
import pytest

from sim.config.params import Config

# Under pytest-xdist every worker is a process of its own: numba's default of one thread per core in each
# of them oversubscribes the cores (two workers x two threads on two cores ran a classic preset 11x
# slower). The kernels a worker runs in its own process then use one thread. numba.config keeps the
# machine's thread count, so the tests of thread independence still compare one thread with several
# (numba.set_num_threads inside the test). NUMBA_NUM_THREADS itself must not change once numba has
# started its threads, and the runs tests start as subprocesses keep the default.
if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
    numba.set_num_threads(1)


@pytest.fixture
def small_cfg() -> Config:
    cfg = Config()
    cfg.n_agents, cfg.n_groups, cfg.steps = 120, 4, 10
    cfg.output.progress = "off"
    return cfg
