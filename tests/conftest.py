"""Shared fixtures; builders live in tests/support (test modules import those, never each other)."""

from __future__ import annotations

import os

import numba
import pytest

from sim.config.params import Config
from tests.support.threads import under_xdist

# The commands a test starts run in its own temporary directory: SIM_OUTPUTS=outputs (relative, so taken
# from that working directory; sim.studies.naming.outputs_root) keeps their outputs there instead of the
# project's outputs/. Tests of the default root delete it (tests/unit/test_naming.py).
os.environ["SIM_OUTPUTS"] = "outputs"

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
