"""Shared fixtures; builders live in tests/support (test modules import those, never each other)."""

from __future__ import annotations

import numba
import pytest

from sim.config.params import Config
from tests.support.threads import under_xdist

# Under pytest-xdist the kernels a worker runs in its own process use one thread (tests/support/threads.py;
# notebook kernels get the same through child_env). numba.config keeps the machine's thread count, so the
# tests of thread independence still compare one thread with several (numba.set_num_threads in the test).
if under_xdist():
    numba.set_num_threads(1)


@pytest.fixture
def small_cfg() -> Config:
    cfg = Config()
    cfg.n_agents, cfg.n_groups, cfg.steps = 120, 4, 10
    cfg.output.progress = "off"
    return cfg
