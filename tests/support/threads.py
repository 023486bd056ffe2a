"""numba threads under pytest-xdist: each worker is a process of its own on a 2-core machine.

numba's default of one thread per core in every worker, and in every process a test starts,
oversubscribes the cores (two workers with two threads each ran a classic preset 11x slower; the
kernels of a 400-agent `python -m sim` run took 1.4 s on two threads next to one busy process, 0.6 s on one).
"""

from __future__ import annotations

import functools
import os
import subprocess


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


def one_thread_in_every_child() -> None:
    """Under xdist, every process a test starts through `subprocess` runs one numba thread.

    `subprocess.Popen` (hence `subprocess.run` and asyncio's subprocesses) gets NUMBA_NUM_THREADS=1 in
    the child's environment unless the environment it is given sets it: a `python -m sim` started by a
    test, and every process that one starts in turn (a sweep's joblib workers limit theirs to one too).
    The worker's own os.environ is left as it is (numba re-reads it and refuses a changed thread count).
    """
    if not under_xdist() or getattr(subprocess.Popen.__init__, "one_numba_thread", False):
        return
    init = subprocess.Popen.__init__

    @functools.wraps(init)
    def popen_init(self, *args, **kwargs):
        if len(args) <= 10:  # env is the 11th parameter: given by keyword (or not at all) everywhere here
            env = dict(os.environ if kwargs.get("env") is None else kwargs["env"])
            env.setdefault("NUMBA_NUM_THREADS", "1")
            kwargs["env"] = env
        init(self, *args, **kwargs)

    popen_init.one_numba_thread = True  # type: ignore[attr-defined]
    subprocess.Popen.__init__ = popen_init  # type: ignore[method-assign]
