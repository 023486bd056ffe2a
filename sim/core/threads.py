"""How many threads the compiled kernels use: the CPUs this process may use, and one for small runs.

numba starts one thread per core it sees and every parallel kernel waits for all of them. Two things
go wrong with that. A small run's kernels are too short to pay for waking the threads; and when another
job competes for the cores (a laptop doing other work, a shared cluster node, a sweep's other workers),
a kernel waits for its slowest thread, which is the one the operating system has just descheduled. The
benchmark's busy-machine section (`benchmarks/busy.py`) measures both counts, alone and next to a
CPU-bound process on every core: below `PARALLEL_FROM` one thread loses a little on an idle machine and
much less on a busy one than the parallel kernels do.

`kernel_threads(n_agents)` is the number a run uses:

- `SIM_THREADS=N` in the environment sets it (at most numba's pool, `NUMBA_NUM_THREADS`);
- otherwise one thread below `PARALLEL_FROM` agents, where the parallel kernels do not pay (measured
  by the benchmark's busy-machine section), and above it the CPUs this process may use: its CPU affinity
  (`taskset`, a Slurm allocation bound to cores), a cgroup's CPU quota (a container, Slurm's cgroup),
  Slurm's `SLURM_CPUS_PER_TASK`, and numba's pool, whichever is smallest.

Results do not depend on the thread count (the kernels are written so; tests/unit/test_threads.py
checks the model under one thread and several), so the count is not part of a run's config or marker.
`use_threads(n)` sets numba's count for the calling thread for a block and restores it after.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator

from sim.config.errors import ConfigError, Typed

ENV = "SIM_THREADS"
#: Below this many agents a run's kernels use one thread (see the module's docstring).
PARALLEL_FROM = 50_000


def _cgroup_cpus() -> float | None:
    """CPUs a cgroup's quota allows (cgroup v2 `cpu.max`, or v1 `cpu.cfs_quota_us`); None without a quota."""
    from sim.config.preflight import cgroup_dirs  # here: `python -m sim` imports this module before Hydra

    for d, v2 in cgroup_dirs("cpu", ("cpu,cpuacct", "cpu")):
        try:
            if v2:
                quota, period = (d / "cpu.max").read_text().split()[:2]
                if quota != "max":
                    return int(quota) / int(period)
            else:
                quota_us = int((d / "cpu.cfs_quota_us").read_text())
                if quota_us > 0:
                    return quota_us / int((d / "cpu.cfs_period_us").read_text())
        except (OSError, ValueError):
            continue
    return None


def pool_size() -> int:
    """Numba's thread pool: NUMBA_NUM_THREADS as numba read it (by default the CPUs it saw at import)."""
    import numba

    return int(numba.config.NUMBA_NUM_THREADS)  # type: ignore[attr-defined]


def usable_cpus() -> int:
    """The CPUs this process may use: affinity, cgroup quota, Slurm's allocation and numba's pool, the smallest."""
    limits = [pool_size()]
    try:
        limits.append(len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        limits.append(os.cpu_count() or 1)
    quota = _cgroup_cpus()
    if quota is not None:
        limits.append(max(1, math.ceil(quota - 1e-9)))
    slurm = os.environ.get("SLURM_CPUS_PER_TASK", "")
    if slurm.isdigit() and int(slurm) > 0:
        limits.append(int(slurm))
    return max(1, min(limits))


def requested() -> int | None:
    """The count `SIM_THREADS` asks for (None: not set, or `auto`); a bad value raises ConfigError naming it."""
    value = os.environ.get(ENV, "").strip()
    if value in ("", "auto"):
        return None
    if not value.isdigit() or int(value) < 1:
        raise ConfigError(f"{ENV} (environment)", Typed(value), "a whole number >= 1, or auto")
    return int(value)


def kernel_threads(n_agents: int) -> int:
    """The number of threads a run of `n_agents` agents gives its kernels (see the module's docstring)."""
    asked = requested()
    if asked is not None:
        return min(asked, pool_size())
    return 1 if n_agents < PARALLEL_FROM else usable_cpus()


@contextlib.contextmanager
def use_threads(n: int) -> Iterator[None]:
    """Set numba's thread count for the calling thread, for the block (restored after)."""
    import numba

    before = numba.get_num_threads()
    if n == before:
        yield
        return
    numba.set_num_threads(n)
    try:
        yield
    finally:
        numba.set_num_threads(before)


#: How long (in spins) GNU OpenMP's idle threads spin before they sleep, unless the user set a wait policy
SPIN_COUNT = "10000"


def idle_threads_sleep() -> None:
    """Idle kernel threads sleep after a short spin instead of spinning for a long time (GNU OpenMP).

    numba's parallel kernels run on GNU OpenMP's threads here (`numba.threading_layer()` is `omp`). Between
    two kernels, libgomp's idle threads spin by default (300,000 spins) before they sleep: on a busy
    machine (another job on every core) they take the CPU from the thread that has work, and a 100,000-agent
    step ran 2.9x slower next to two CPU-bound processes than alone, against 1.7x with a short spin (10,000;
    the benchmark's busy section measures both). On an idle machine the million-agent step was not slower.
    Sets `GOMP_SPINCOUNT` unless `GOMP_SPINCOUNT` or `OMP_WAIT_POLICY` is set; libgomp reads it when it is
    loaded (numba's first parallel kernel), so this is called by the command line at its start, never on
    `import sim` (a user's own session keeps its settings).
    """
    if "GOMP_SPINCOUNT" not in os.environ and "OMP_WAIT_POLICY" not in os.environ:
        os.environ["GOMP_SPINCOUNT"] = SPIN_COUNT
