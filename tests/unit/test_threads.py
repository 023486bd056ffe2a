"""How many threads the kernels get (sim.core.threads): one for small runs, the usable CPUs above, SIM_THREADS."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from sim.config.errors import ConfigError
from sim.core import threads as th
from sim.model import ResocializationModel
from tests.support.cli import cli


@pytest.fixture(autouse=True)
def _no_override(monkeypatch):
    monkeypatch.delenv(th.ENV, raising=False)
    monkeypatch.delenv("SLURM_CPUS_PER_TASK", raising=False)


def test_small_runs_use_one_thread_large_ones_the_usable_cpus(monkeypatch):
    monkeypatch.setattr(th, "usable_cpus", lambda: 7)
    assert th.kernel_threads(th.PARALLEL_FROM - 1) == 1
    assert th.kernel_threads(th.PARALLEL_FROM) == 7


def test_usable_cpus_is_the_smallest_of_affinity_quota_slurm_and_pool(monkeypatch):
    monkeypatch.setattr(th, "pool_size", lambda: 8)
    monkeypatch.setattr(th.os, "sched_getaffinity", lambda _: {0, 1, 2, 3, 4, 5}, raising=False)
    monkeypatch.setattr(th, "_cgroup_cpus", lambda: None)
    assert th.usable_cpus() == 6
    monkeypatch.setattr(th, "_cgroup_cpus", lambda: 2.5)  # a quota of 2.5 CPUs: 3 threads
    assert th.usable_cpus() == 3
    monkeypatch.setenv("SLURM_CPUS_PER_TASK", "2")
    assert th.usable_cpus() == 2
    monkeypatch.setattr(th, "pool_size", lambda: 1)  # NUMBA_NUM_THREADS=1
    assert th.usable_cpus() == 1


def test_sim_threads_sets_the_count_within_the_pool(monkeypatch):
    monkeypatch.setattr(th, "pool_size", lambda: 4)
    monkeypatch.setenv(th.ENV, "3")
    assert th.kernel_threads(10) == th.kernel_threads(10**7) == 3
    monkeypatch.setenv(th.ENV, "64")
    assert th.kernel_threads(10) == 4
    monkeypatch.setenv(th.ENV, "auto")
    assert th.kernel_threads(10) == 1
    for bad in ("0", "two", "-1", "1.5"):
        monkeypatch.setenv(th.ENV, bad)
        with pytest.raises(ConfigError, match="SIM_THREADS"):
            th.kernel_threads(10)


def test_a_bad_sim_threads_is_one_line_and_exit_2(tmp_path):
    proc = cli(tmp_path, "steps=1", env={th.ENV: "many"})
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: invalid config: SIM_THREADS (environment)=many; allowed: a whole number >= 1, or auto"
    ]
    assert not (tmp_path / "outputs").exists()


def test_use_threads_sets_the_count_for_the_block_and_restores_it():
    before = numba.get_num_threads()
    with th.use_threads(1):
        assert numba.get_num_threads() == 1
    assert numba.get_num_threads() == before


def test_the_model_steps_with_its_threads_and_the_results_do_not_depend_on_them(monkeypatch):
    def run(threads: str) -> tuple[int, np.ndarray]:
        monkeypatch.setenv(th.ENV, threads)
        model = ResocializationModel(n_agents=600, n_groups=6, steps=5, seed=3, collect=False)
        seen = []
        monkeypatch.setattr(model, "observers", [lambda m: seen.append(numba.get_num_threads())])
        model.run_model()
        assert seen == [model.threads] * 5  # every step ran on the model's count
        return model.threads, model.state.stance.copy()

    one, two = run("1"), run(str(th.pool_size()))
    assert one[0] == 1 and two[0] == th.pool_size()
    np.testing.assert_array_equal(one[1], two[1])


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({}, {"GOMP_SPINCOUNT": th.SPIN_COUNT}),  # nothing set: a short spin
        ({"GOMP_SPINCOUNT": "500"}, {"GOMP_SPINCOUNT": "500"}),  # the user's count is kept
        ({"OMP_WAIT_POLICY": "active"}, {"OMP_WAIT_POLICY": "active"}),  # the user's policy decides alone
    ],
)
def test_idle_threads_sleep_after_a_short_spin_unless_the_user_chose(monkeypatch, given, expected):
    for key in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY"):
        monkeypatch.delenv(key, raising=False)
    for key, value in given.items():
        monkeypatch.setenv(key, value)
    th.idle_threads_sleep()
    import os

    assert {k: os.environ[k] for k in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY") if k in os.environ} == expected


def test_the_command_line_sets_the_short_spin_before_any_kernel_runs():
    """The command line's module sets it when imported (in a sweep's workers too), not `import sim`."""
    import subprocess
    import sys

    code = (
        "import os, sim, sim.model; a = os.environ.get('GOMP_SPINCOUNT'); "
        "import sim.cli; print(a, os.environ.get('GOMP_SPINCOUNT'))"
    )
    env = {k: v for k, v in __import__("os").environ.items() if k not in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.split() == ["None", th.SPIN_COUNT]
