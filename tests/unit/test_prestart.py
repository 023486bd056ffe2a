"""The sweep's workers started early (sim.studies.prestart): for which command lines, with which arguments."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import joblib
import pytest
from hydra_plugins.hydra_joblib_launcher._core import process_joblib_cfg
from omegaconf import OmegaConf

from sim.config.preflight import CONF_DIR
from sim.studies import prestart

CORES = joblib.cpu_count()


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["seed=1"], None),  # a single run: no pool
        (["-m", "seed=0,1", "hydra.launcher.n_jobs=2"], 2),
        (["--multirun", "seed=0,1", "hydra.launcher.n_jobs=3"], 3),
        (["-m", "seed=0,1", "hydra.launcher.n_jobs=1"], None),  # joblib runs one worker's jobs in the parent
        (["-m", "seed=0,1", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2"], 2),
        (["-m", "seed=0,1", "hydra/launcher=ray"], None),
        (["-m", "seed=0,1", "hydra/launcher=submitit_local", "hydra.launcher.n_jobs=2"], None),
        (["-m", "seed=0,1", "hydra.launcher.n_jobs=2", "hydra.launcher.batch_size=2"], None),  # other arguments
        (["-m", "seed=0,1", "hydra.launcher.n_jobs=all"], None),
        (["-m", "seed=0,1", "hydra.launcher.n_jobs=2", "--cfg", "job"], None),  # prints a config, runs nothing
        (["-m", "seed=0,1", "hydra.launcher.n_jobs=2", "-cd", "/elsewhere"], None),  # another config may choose
        (["-m", "seed=0,1", "hydra.launcher.n_jobs=2", "--config-name=mine"], None),
        (["-m", "seed=0,1"], -1 if CORES > 1 else None),  # the config's -1: one per core (joblib's count)
        (["-m", "seed=0,1", "hydra.launcher.n_jobs=-2"], -2 if CORES > 2 else None),  # all cores but one
    ],
)
def test_workers_only_where_the_joblib_pool_will_run(argv: list[str], expected: int | None) -> None:
    assert prestart.workers(argv) == expected  # n_jobs as joblib.Parallel will be given it


def test_the_pool_arguments_are_the_launchers_own() -> None:
    """What Hydra's launcher passes to joblib.Parallel for the project's launcher config, key for key."""
    cfg = OmegaConf.to_container(OmegaConf.load(CONF_DIR / "hydra" / "launcher" / "joblib.yaml"))
    assert isinstance(cfg, dict)
    del cfg["_target_"]
    cfg["backend"] = "loky"
    process_joblib_cfg(cfg)
    assert prestart._launcher_cfg() == cfg
    assert cfg["batch_size"] == 1 and cfg["pre_dispatch"] == "2*n_jobs"  # typed as the launcher types them


def test_turned_off_by_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(prestart.ENV, "off")
    assert not prestart.enabled()
    monkeypatch.setattr(prestart, "_thread", None)
    prestart.start(["-m", "seed=0,1", "hydra.launcher.n_jobs=2"])
    assert prestart._thread is None
    monkeypatch.delenv(prestart.ENV)
    assert prestart.enabled()


def test_the_fork_servers_preload_never_fails(tmp_path):
    """A module that fails to import (not only an ImportError) does not stop the server's preload."""
    import os

    (tmp_path / "breaks_at_import.py").write_text("raise RuntimeError('broken')\n")
    code = (
        "import sys, sim.studies.forkready; print('sim.run.runner' in sys.modules, 'breaks_at_import' in sys.modules)"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
        prestart.IMPORTS: "breaks_at_import,sim.run.runner,no_such_module",
    }
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    assert p.stdout.split() == ["True", "False"]  # the modules after the broken one were still imported


_EARLY = """
import json, sys
from sim.studies import prestart
prestart.start_server(sys.argv[1:], modules=("sim.cli",))
started = prestart._forked
heavy = sorted(m for m in ("hydra", "joblib", "numpy", "numba", "omegaconf") if m in sys.modules)
prestart.stop()
print(json.dumps([started, heavy]))
"""


@pytest.mark.parametrize(
    ("argv", "started"),
    [
        (["-m", "seed=0,1", "hydra.launcher.n_jobs=2"], True),
        (["-m", "seed=0,1"], CORES > 1),  # the config's n_jobs: -1
        (["-m", "seed=0,1", "hydra.launcher.n_jobs=1"], False),  # jobs in the parent: no pool
        (["seed=1"], False),  # a single run
        (["-m", "seed=0,1", "hydra/launcher=ray"], False),
        (["-m", "seed=0,1", "hydra.launcher.n_jobs=2", "hydra.launcher.batch_size=2"], False),
        (["-m", "seed=0,1", "hydra.launcher.n_jobs=2", "--cfg", "job"], False),
    ],
)
def test_the_fork_server_starts_before_hydra_is_imported(argv: list[str], started: bool) -> None:
    """`start_server` (the command line's first act) starts the server without Hydra, joblib or numpy."""
    p = subprocess.run([sys.executable, "-c", _EARLY, *argv], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    assert json.loads(p.stdout.strip().splitlines()[-1]) == [started, []]


@pytest.mark.parametrize("n_jobs", [2, 1, -1])
def test_the_servers_workers_get_joblibs_thread_limits(n_jobs: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """`worker_env` is what joblib's loky backend gives a pool of n_jobs workers (cores // workers)."""
    from joblib._parallel_backends import LokyBackend

    for var in LokyBackend.MAX_NUM_THREADS_VARS:
        monkeypatch.delenv(var, raising=False)
    effective = n_jobs if n_jobs > 0 else CORES + 1 + n_jobs
    assert prestart.worker_env(n_jobs) == LokyBackend()._prepare_worker_env(n_jobs=effective)
    assert prestart.worker_env(n_jobs)["NUMBA_NUM_THREADS"] == str(max(CORES // effective, 1))


def test_a_server_started_for_another_count_is_ended_and_the_pool_started_without_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Should the early read of n_jobs differ from Hydra's, the server's thread limits would be wrong: not used."""
    ended, pools = [], []
    monkeypatch.setattr(prestart, "_thread", None)
    monkeypatch.setattr(prestart, "_forked", True)
    monkeypatch.setattr(prestart, "_server_jobs", 3)
    monkeypatch.setattr(prestart, "_end_server", lambda: ended.append(True))
    monkeypatch.setattr(prestart, "_fork_server", lambda n, modules: pytest.fail("a second server"))
    monkeypatch.setattr(prestart, "_start_pool", lambda cfg, modules: pools.append(cfg["n_jobs"]))
    prestart.start(["-m", "seed=0,1", "hydra.launcher.n_jobs=2"])
    assert ended == [True] and pools == [2]


_TRACKER = """
import json, os, time
from sim.studies import prestart
from joblib.externals.loky.backend.resource_tracker import _resource_tracker as tracker
before = dict(os.environ)
prestart._start_tracker()
for _ in range(1000):  # until the tracker runs its own program (before that, /proc shows this one's environment)
    if b"resource_tracker" in open(f"/proc/{tracker._pid}/cmdline", "rb").read():
        break
    time.sleep(0.01)
environ = dict(v.split("=", 1) for v in open(f"/proc/{tracker._pid}/environ").read().split("\\0") if "=" in v)
print(json.dumps([os.getpriority(os.PRIO_PROCESS, tracker._pid), environ, before, dict(os.environ)]))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the tracker's environment from /proc")
@pytest.mark.parametrize("blas", [None, "3"])
def test_the_pools_resource_tracker_starts_quietly(blas: str | None) -> None:
    """Loky's tracker: started at once, at the lowest priority, on one thread per library; the sweep's own env kept."""
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS")}
    if blas is not None:
        env["OPENBLAS_NUM_THREADS"] = blas
    p = subprocess.run([sys.executable, "-c", _TRACKER], capture_output=True, text=True, timeout=120, env=env)
    assert p.returncode == 0, p.stderr[-2000:]
    nice, tracker_env, before, after = json.loads(p.stdout.strip().splitlines()[-1])
    assert nice == 19
    assert tracker_env["OPENBLAS_NUM_THREADS"] == "1" and tracker_env["NUMBA_NUM_THREADS"] == "1"
    assert after == before and before.get("OPENBLAS_NUM_THREADS") == blas


def test_effective_jobs_is_joblibs_count() -> None:
    assert [prestart.effective_jobs(n, cores=4) for n in (3, 1, -1, -2, -4)] == [3, 1, 4, 3, 1]
    assert prestart.effective_jobs(-1) == CORES  # joblib's own count of the cores by default
