"""Shared fixtures; builders live in tests/support (test modules import those, never each other)."""

from __future__ import annotations

import os

import numba
import pytest

from sim.config.params import Config
from tests.support.threads import one_thread_in_every_child, under_xdist

# The commands a test starts run in its own temporary directory: SIM_OUTPUTS=outputs (relative, so taken
# from that working directory; sim.studies.naming.outputs_root) keeps their outputs there instead of the
# project's outputs/. Tests of the default root delete it (tests/unit/test_naming.py).
os.environ["SIM_OUTPUTS"] = "outputs"
# The figure process of a single run (sim.run.drawer) helps where a core would idle; under the test suite
# both are busy, and each command it starts would only add a process importing matplotlib. Its own tests
# (tests/unit/test_drawer.py, tests/integration/test_cli.py) turn it on.
os.environ["SIM_FIGURE_PROCESS"] = "off"

# Under pytest-xdist the kernels a worker runs in its own process use one thread (tests/support/threads.py),
# and so does every process a test starts (`python -m sim`, a sweep, a notebook kernel: NUMBA_NUM_THREADS=1
# in the child's environment). numba.config keeps the machine's thread count, so the tests of thread
# independence still compare one thread with several (numba.set_num_threads in the test).
if under_xdist():
    numba.set_num_threads(1)
    one_thread_in_every_child()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Long modules first: those with a `slow` test and the e2e ones, then integration, then unit.

    With `-n`, `--dist loadfile --no-loadscope-reorder` (pyproject.toml) hands out whole modules, in this
    order, to whichever worker is free: a module fixture (a benchmark, a sweep, a docs build, the app's
    server) is built once, and the short unit modules, last, fill the end of the run instead of a long
    module started last keeping one worker busy while the other idles. The order within a module, and
    between modules of one kind, is the collection's.
    """
    rank: dict[object, int] = {}
    for item in items:
        kind = 0 if "e2e" in item.path.parts else 1 if "integration" in item.path.parts else 2
        slow = item.get_closest_marker("slow") is not None
        rank[item.path] = min(rank.get(item.path, 2), 0 if slow or kind == 0 else kind)
    items.sort(key=lambda item: rank[item.path])  # stable: each module stays in one piece, in its order


@pytest.fixture
def small_cfg() -> Config:
    cfg = Config()
    cfg.n_agents, cfg.n_groups, cfg.steps = 120, 4, 10
    cfg.output.progress = "off"
    return cfg
