"""numba threads under pytest-xdist: each worker is a process of its own on a 2-core machine.

numba's default of one thread per core in every worker, and in every process a test starts,
oversubscribes the cores (two workers with two threads each ran a classic preset 11x slower).
"""

from __future__ import annotations

import os


def under_xdist() -> bool:
    """Whether the tests run in several pytest-xdist worker processes."""
    return int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1


def child_env() -> dict[str, str]:
    """The environment for a process a test starts (e.g. a notebook kernel): one numba thread under xdist.

    Set on the child only: NUMBA_NUM_THREADS must not change in a process whose numba has started its threads.
    """
    env = dict(os.environ)
    if under_xdist():
        env["NUMBA_NUM_THREADS"] = "1"
    return env
