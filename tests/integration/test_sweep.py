"""Sweeps (docs/sweeps.md).

Launchers, determinism across them, collected results, resume after a kill, progress and run logs,
bad input before launch, bounded memory.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sim.run.completion import MARKER, completed, file_sha256, read_marker
from sim.studies.naming import run_dirname, sweep_name_of
from tests.support.sweeps import HEADER, check_failed_runs_reported, edge_list, run_dirs

ROOT = Path(__file__).resolve().parents[2]
SMALL = ["n_agents=60", "n_groups=2", "steps=6", "output.figure=false"]
# a loopback-only Ray: without it, Ray on Linux binds and talks to the machine's LAN address
RAY_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}


def sweep(cwd: Path, *args: str, check: bool = True, env: dict | None = None, timeout: int = 300):
    """`python -m sim -m ARGS` in `cwd`: the sweep dir is cwd/outputs/multirun/<derived name>."""
    cwd.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "-m", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "HYDRA_FULL_ERROR": "0", **(env or {})},
        timeout=timeout,
    )
    if check:
        assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def sweep_dir(cwd: Path) -> Path:
    dirs = list((cwd / "outputs" / "multirun").iterdir())
    assert len(dirs) == 1, dirs
    return dirs[0]


# ---------------------------------------------------------------- names of sweep and run directories


def test_sweep_and_run_dir_names_are_deterministic_and_safe():
    a = sweep_name_of(["seed=range(3)", "scenario=baseline,pandemic_shock", "hydra/launcher=ray"])
    b = sweep_name_of(["scenario=baseline,pandemic_shock", "hydra.launcher.n_jobs=2", "seed=range(3)"])
    assert a == b and a.startswith("scenario-baseline_pandemic_shock__seed-range-3__")  # sorted, hydra... left out
    assert sweep_name_of([]) == "default" and run_dirname("") == "run"
    odd = run_dirname("network.path=/data/my net.csv")
    assert re.fullmatch(r"[A-Za-z0-9._-]+", odd) and odd != run_dirname("network.path=/data/my_net.csv")
    long = run_dirname("x=" + "y" * 500)
    assert len(long) <= 120 and long != run_dirname("x=" + "y" * 499)  # more in tests/unit/test_naming.py


# ---------------------------------------------------------------- launcher configs (point 1)


def _compose(*overrides: str):
    """The composed DictConfig with Hydra's own keys (its launcher configs): no model Config is built here."""
    from sim.config.compose import compose_dict

    return compose_dict(overrides, return_hydra_config=True)


def test_launcher_configs_compose_with_their_plugins_and_documented_settings():
    cfg = _compose()
    assert cfg.hydra.launcher._target_.endswith("JoblibLauncher")  # the default for -m
    assert cfg.hydra.launcher.n_jobs == -1 and str(cfg.hydra.launcher.batch_size) == "1"
    assert cfg.hydra.callbacks.sweep._target_ == "sim.studies.callbacks.SweepCallback"
    slurm = _compose("hydra/launcher=submitit_slurm").hydra.launcher
    assert slurm._target_.endswith("SlurmLauncher") and slurm.cpus_per_task == 1 and slurm.max_num_timeout == 0
    assert list(slurm.setup) == ["export NUMBA_NUM_THREADS=$(( SLURM_CPUS_PER_TASK > 0 ? SLURM_CPUS_PER_TASK : 1 ))"]
    ray = _compose("hydra/launcher=ray").hydra.launcher
    assert ray._target_.endswith("RayLauncher") and ray.ray.remote.num_cpus == 1
    assert ray.ray.init.address is None and ray.ray.init.object_store_memory is None
    assert _compose("hydra/launcher=submitit_local").hydra.launcher._target_.endswith("LocalLauncher")


def test_slurm_launcher_config_gives_a_valid_sbatch_script(tmp_path, monkeypatch):
    """No cluster here: the composed Slurm launcher builds its job array up to the sbatch script."""
    import submitit
    from hydra.utils import instantiate

    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "srun").write_text("#!/bin/sh\nexit 0\n")
    (fake / "srun").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}:{os.environ['PATH']}")
    cfg = _compose(
        "hydra/launcher=submitit_slurm",
        "hydra.launcher.partition=compute",
        "hydra.launcher.account=my-lab",
        f"hydra.sweep.dir={tmp_path / 'sweep'}",
        "hydra.job.name=sim",
    )
    launcher = instantiate(cfg.hydra.launcher)
    launcher.setup(hydra_context=None, task_function=None, config=cfg)
    seen = {}

    class Stop(Exception):
        pass

    def map_array(self, fn, *args):
        seen["n"] = len(args[0])
        seen["script"] = self._executor._make_submission_file_text("python -u job.py", "uid")
        raise Stop

    monkeypatch.setattr(submitit.AutoExecutor, "map_array", map_array)
    with pytest.raises(Stop):
        launcher.launch([["seed=0"], ["seed=1"], ["seed=2"]], initial_job_idx=0)
    script = seen["script"]
    assert seen["n"] == 3
    for line in (
        "#SBATCH --partition=compute",
        "#SBATCH --account=my-lab",
        "#SBATCH --cpus-per-task=1",
        "#SBATCH --mem=4GB",
        "#SBATCH --time=240",
        "#SBATCH --job-name=sim",
        "export NUMBA_NUM_THREADS=$(( SLURM_CPUS_PER_TASK > 0 ? SLURM_CPUS_PER_TASK : 1 ))",
    ):
        assert line in script, (line, script)
    assert str(tmp_path / "sweep" / ".submitit") in script


# ---------------------------------------------------------------- determinism across launchers (points 1, 2)


@pytest.fixture(scope="module")
def ray_cluster():
    """A Ray head on 127.0.0.1 started for these tests (`ray start --head --block`), stopped after."""
    ray_bin = Path(sys.executable).with_name("ray")
    tmp = Path(tempfile.mkdtemp(prefix="ray", dir="/tmp"))  # short: Ray's socket paths are limited
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = open(tmp / "head.log", "w")
    head = subprocess.Popen(
        [
            str(ray_bin),
            "start",
            "--head",
            "--block",
            f"--port={port}",
            "--node-ip-address=127.0.0.1",
            "--num-cpus=2",
            "--include-dashboard=false",
            "--disable-usage-stats",
            f"--temp-dir={tmp}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, **RAY_ENV},
        cwd=tmp,
        start_new_session=True,
    )
    try:
        deadline = time.time() + 90
        while "Ray runtime started" not in (tmp / "head.log").read_text():
            assert head.poll() is None and time.time() < deadline, (tmp / "head.log").read_text()
            time.sleep(0.5)
        yield f"127.0.0.1:{port}"
    finally:
        for sig, wait in ((signal.SIGTERM, 3), (signal.SIGKILL, 10)):  # the head's process group only
            try:
                os.killpg(head.pid, sig)
            except ProcessLookupError:
                break
            end = time.time() + wait
            while time.time() < end and _group_alive(head.pid):
                time.sleep(0.2)
        head.wait(timeout=10)
        log.close()
        assert not _group_alive(head.pid)
        subprocess.run(["rm", "-rf", str(tmp)], check=False)


def _group_alive(pgid: int) -> bool:
    out = subprocess.run(["ps", "-eo", "pgid=,stat="], capture_output=True, text=True).stdout
    return any(int(p) == pgid and not s.startswith("Z") for p, s in (line.split() for line in out.splitlines()))


@pytest.mark.slow
def test_every_launcher_gives_byte_identical_runs(tmp_path, ray_cluster):
    args = [*SMALL, "seed=0,1", "scenario=baseline,pandemic_shock", "exposure.start=2"]
    launchers = {
        "basic": ["hydra/launcher=basic"],
        "joblib1": ["hydra/launcher=joblib", "hydra.launcher.n_jobs=1"],
        "joblib2": ["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"],
        "submitit_local": ["hydra/launcher=submitit_local"],
        "ray": ["hydra/launcher=ray", f"hydra.launcher.ray.init.address={ray_cluster}"],
    }
    results = {}
    for name, extra in launchers.items():
        sweep(tmp_path / name, *args, *extra, env=RAY_ENV if name == "ray" else None)
        results[name] = sweep_dir(tmp_path / name)
    names = {r.name for r in results.values()}
    assert names == {sweep_name_of(args)}  # derived from the overrides, in every worker
    reference = run_dirs(results["basic"])
    assert len(reference) == 4
    seeds = set()
    for name, sdir in results.items():
        runs = run_dirs(sdir)
        assert runs.keys() == reference.keys(), name
        for run, path in runs.items():
            assert read_marker(path) is not None, (name, run)
            for f in ("metrics.parquet", "agents.parquet"):
                assert (path / f).read_bytes() == (reference[run] / f).read_bytes(), (name, run, f)
            seeds.add(json.loads((path / "summary.json").read_text())["seed"])
    assert seeds == {0, 1}
    # and different seeds do give different runs
    r = sorted(reference)
    assert (reference[r[0]] / "metrics.parquet").read_bytes() != (reference[r[1]] / "metrics.parquet").read_bytes()


@pytest.mark.parametrize(
    "launcher",
    [["hydra/launcher=basic"], ["hydra.launcher.n_jobs=1"], ["hydra.launcher.n_jobs=2"]],
    ids=["basic", "joblib1", "joblib2"],
)
def test_the_sweeps_last_line_is_on_the_terminal_not_in_a_runs_log(tmp_path, launcher):
    """Launchers that run the jobs in the sweep's own process left the last job's logging in place."""
    proc = sweep(tmp_path, *SMALL, "seed=0,1", *launcher)
    assert "sweep done: 2 runs complete" in proc.stdout + proc.stderr
    logs = [p.read_text() for p in sweep_dir(tmp_path).glob("*/sim.log")]
    assert len(logs) == 2 and not any("sweep done" in text for text in logs)


# ---------------------------------------------------------------- a failed run, on every launcher


FAILING_LAUNCHERS = {
    "joblib": ["hydra/launcher=joblib"],
    "submitit_local": ["hydra/launcher=submitit_local"],
    "ray": ["hydra/launcher=ray"],  # and the address of the test's Ray head
}


@pytest.mark.parametrize("launcher", list(FAILING_LAUNCHERS))
def test_a_run_failing_on_bad_input_in_its_worker_is_reported_while_the_others_complete(tmp_path, launcher, request):
    from sim.config.errors import InputFileError
    from sim.config.networkfiles import read_network
    from sim.config.params import Config

    for seed in (0, 2):
        edge_list(tmp_path / f"net_{seed}.csv", 30)
    (tmp_path / "net_1.csv").write_text(f"{HEADER}\na1,a2,g0,g1,social_work\n")  # a row one field short
    bad = Config()
    bad.network.kind, bad.network.path = "edgelist", str(tmp_path / "net_1.csv")
    with pytest.raises(InputFileError) as error:  # the message the run's own reader gives, in one line
        read_network(bad.network)
    # The preflight checks every combination of swept values but the seeds, with the default seed (0): it
    # reads net_0.csv, and net_1.csv is first read in the worker that runs seed=1.
    path = f"network.path={tmp_path}/net_${{seed}}.csv"
    extra = FAILING_LAUNCHERS[launcher]
    if launcher == "ray":
        extra = [*extra, f"hydra.launcher.ray.init.address={request.getfixturevalue('ray_cluster')}"]
    sdir = tmp_path / "sweep"
    args = ["network=edgelist", path, "steps=2", "output.figure=false", "seed=0,1,2", f"hydra.sweep.dir={sdir}"]
    proc = sweep(tmp_path, *args, *extra, check=False, env=RAY_ENV if launcher == "ray" else None)
    check_failed_runs_reported(proc, sdir, {"seed=1": str(error.value)})


# ---------------------------------------------------------------- collected results, progress, run log (3, 5)


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("collect")
    proc = sweep(
        cwd,
        *SMALL,
        "seed=0,1",
        "influence.rate=0.1,0.3",
        "scenario=baseline,pandemic_shock",
        "exposure.start=2",  # the surge must start within the 6 steps (a later one is refused)
        "hydra/launcher=basic",
        "output.progress=on",
    )
    return proc, sweep_dir(cwd)


def test_collected_tables_have_one_typed_column_per_swept_key(collected):
    _, sdir = collected
    summary = pq.read_table(sdir / "summary.parquet")
    assert summary.schema.names[:4] == ["run_id", "seed", "influence.rate", "scenario"]
    types = {f.name: f.type for f in summary.schema}
    assert types["seed"] == pa.int64() and types["influence.rate"] == pa.float64()
    assert types["scenario"] == pa.string() and types["run_id"] == pa.string()
    df = summary.to_pandas()
    assert len(df) == 8 and df.run_id.is_unique
    assert set(zip(df.seed, df["influence.rate"], df.scenario, strict=True)) == {
        (s, r, c) for s in (0, 1) for r in (0.1, 0.3) for c in ("baseline", "pandemic_shock")
    }
    for row in df.itertuples():
        own = json.loads((sdir / row.run_id / "summary.json").read_text())
        assert own["seed"] == row.seed and own["scenario"] == row.scenario
        assert df.loc[row.Index, "final.stance_mean"] == pytest.approx(own["final"]["stance_mean"])
    metrics = pq.read_table(sdir / "metrics.parquet").to_pandas()
    assert list(metrics.columns[:4]) == ["run_id", "seed", "influence.rate", "scenario"]
    assert list(metrics.columns[4:]) == ["step", "scope", "level", "metric", "value"]
    for run_id, part in metrics.groupby("run_id", observed=True):
        own = pq.read_table(sdir / str(run_id) / "metrics.parquet").to_pandas()
        assert len(part) == len(own)
        np.testing.assert_array_equal(part["value"].to_numpy(), own["value"].to_numpy())
    png = sdir / "sweep_final_esteban_ray.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_collect_by_hand_gives_the_same_tables_and_never_reads_agent_snapshots(collected, tmp_path):
    _, sdir = collected
    before = {f: (sdir / f).read_bytes() for f in ("summary.parquet", "metrics.parquet")}
    for run in run_dirs(sdir).values():  # garbage of the same size: a reader of agents.parquet would fail
        agents = run / "agents.parquet"
        agents.write_bytes(b"\0" * agents.stat().st_size)
    proc = subprocess.run(
        [sys.executable, "-m", "sim.studies.collect", str(sdir), "--metric", "withdrawn_share"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "8 complete runs" in proc.stdout and "influence.rate, scenario" in proc.stdout
    for f, data in before.items():
        assert (sdir / f).read_bytes() == data, f
    assert (sdir / "sweep_final_withdrawn_share.png").exists()
    bad = subprocess.run(
        [sys.executable, "-m", "sim.studies.collect", str(sdir), "--metric", "nope"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and "unknown sweep metric: 'nope'; allowed: final." in bad.stderr


def test_one_progress_bar_over_runs_and_a_run_log_in_each_run_dir(collected):
    proc, sdir = collected
    bars = proc.stderr.replace("\r", "\n")
    assert re.search(r"sweep \S+: 100%\|.*\| 8/8 \[\d\d:\d\d<00:00, .*run", bars), proc.stderr[-2000:]
    assert "step/s" not in bars and "s/step" not in bars  # the runs' own bars are off in a sweep
    for run in run_dirs(sdir).values():
        log = (run / "sim.log").read_text()
        assert "run start:" in log and "run end:" in log and "wall time" in log and "summary of" in log


# ---------------------------------------------------------------- resume after SIGKILL (point 4)


@pytest.mark.slow
def test_a_killed_sweep_resumes_skipping_complete_runs(tmp_path):
    cwd = tmp_path / "work"
    cwd.mkdir()
    args = [
        "-m",
        "n_agents=1500",
        "n_groups=6",
        "steps=120",
        "seed=range(6)",
        "output.figure=false",
        "hydra.launcher.n_jobs=2",
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", *args],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    sdir = cwd / "outputs" / "multirun" / sweep_name_of(args[1:])
    try:
        deadline = time.time() + 240
        while sum((d / MARKER).exists() for d in sdir.glob("*/")) < 2:
            assert proc.poll() is None and time.time() < deadline, "the sweep ended before it could be killed"
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the launcher and its workers
        proc.wait(timeout=30)
    time.sleep(0.5)
    assert not _group_alive(proc.pid)
    runs = run_dirs(sdir)
    done = {n for n, p in runs.items() if read_marker(p) is not None}
    assert 2 <= len(done) < 6, done
    for name in set(runs) - done:  # nothing half-written under a final name
        for f in runs[name].glob("*.parquet"):
            pq.read_metadata(f)
        assert not (runs[name] / MARKER).exists()
    first = {n: json.loads((runs[n] / MARKER).read_text())["started"] for n in done}

    again = subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    runs = run_dirs(sdir)
    assert len(runs) == 6 and all(read_marker(p) is not None for p in runs.values())
    for name, path in runs.items():
        log = (path / "sim.log").read_text()
        if name in done:
            assert json.loads((path / MARKER).read_text())["started"] == first[name]  # not redone
            assert "run skipped" in log
        else:
            assert "run skipped" not in log.split("run end")[-1]
        assert not list(path.glob(".*.tmp"))  # a killed run's temporary files are gone
    assert pq.read_table(sdir / "summary.parquet").num_rows == 6
    # a redone run is the run it would have been without the kill
    redone = sorted(set(runs) - done)[0]
    seed = json.loads((runs[redone] / "summary.json").read_text())["seed"]
    ref = tmp_path / "ref"
    single = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim",
            "n_agents=1500",
            "n_groups=6",
            "steps=120",
            f"seed={seed}",
            "output.figure=false",
            f"hydra.run.dir={ref}",
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert single.returncode == 0, single.stderr
    for f in ("metrics.parquet", "agents.parquet", "events.parquet"):
        assert (ref / f).read_bytes() == (runs[redone] / f).read_bytes(), f


def test_completion_marker_belongs_to_one_config_and_complete_files(tmp_path):
    from sim.config.params import Config
    from sim.run.runner import run

    cfg = Config(n_agents=40, n_groups=2, steps=3, seed=5)
    cfg.output.progress = "off"
    cfg.output.figure = False
    (tmp_path / ".metrics.parquet.123.tmp").write_bytes(b"left by a killed run")
    run(cfg, tmp_path, meta={"overrides": ["seed=5"]})
    marker = completed(tmp_path, cfg)
    assert marker is not None and marker["hydra"]["overrides"] == ["seed=5"] and marker["seed"] == 5
    assert set(marker["files"]) == {
        "metrics.parquet",
        "agents.parquet",
        "events.parquet",
        "edges.parquet",
        "summary.json",
    }
    assert not list(tmp_path.glob(".*.tmp"))
    other = Config(n_agents=40, n_groups=2, steps=3, seed=6)
    assert completed(tmp_path, other) is None  # another config: not this run
    cfg.output.progress = "on"
    assert completed(tmp_path, cfg) is not None  # how a run is shown is not what it is
    with open(tmp_path / "events.parquet", "ab") as f:
        f.write(b"x")
    assert completed(tmp_path, cfg) is None  # a file changed after the marker: not complete


def test_runs_use_one_blas_thread_so_results_do_not_depend_on_cores():
    from threadpoolctl import threadpool_info

    from sim.run.completion import single_threaded_blas

    with single_threaded_blas():
        inside = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    assert inside and set(inside) == {1}


# ---------------------------------------------------------------- bad input (point 7)


def test_a_sweep_with_one_bad_value_fails_before_launching_anything(tmp_path):
    proc = sweep(tmp_path, *SMALL, "seed=0,1,2", "influence.rate=0.2,1.5", check=False)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert "influence.rate=1.5; allowed: [0.0, 1.0]" in lines[0]
    assert not (tmp_path / "outputs").exists()  # nothing launched, nothing written


def test_unknown_launcher_lists_the_available_ones(tmp_path):
    proc = sweep(tmp_path, *SMALL, "seed=0,1", "hydra/launcher=slurm", check=False)
    assert proc.returncode == 2 and not (tmp_path / "outputs").exists()
    line = proc.stderr.strip()
    assert line.startswith("error: unknown launcher: hydra/launcher=slurm; available: ")
    for name in ("basic", "joblib", "ray", "submitit_local", "submitit_slurm"):
        assert name in line


def test_rules_between_keys_are_checked_on_the_sweeps_real_runs():
    from sim.config.errors import InputError
    from sim.config.preflight import preflight

    with pytest.raises(
        InputError,
        match=r"influence.rejection=0.6; allowed: >= influence.acceptance \(0.7\) "
        r"\(in the run influence.acceptance=0.7 influence.rejection=0.6\)",
    ):
        preflight(["-m", "influence.acceptance=0.3,0.7", "influence.rejection=0.6,0.8"])
    # every run valid, though 0.7 alone with the default rejection (0.6) would not be
    preflight(["-m", "influence.acceptance=0.7,0.75", "influence.rejection=0.8,0.9", "seed=range(50)"])


def test_ray_sweeps_need_an_absolute_sweep_dir(tmp_path):
    proc = sweep(tmp_path, *SMALL, "seed=0,1", "hydra/launcher=ray", "hydra.sweep.dir=my_study", check=False)
    assert proc.returncode == 2 and "hydra.sweep.dir=my_study: give an absolute path" in proc.stderr
    assert not (tmp_path / "my_study").exists()


def test_a_launcher_whose_plugin_is_missing_says_how_to_install_it(monkeypatch):
    import importlib.util

    from sim.config.errors import InputError
    from sim.config.preflight import preflight

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "hydra_plugins.hydra_ray_launcher" else real(name, *a),
    )
    with pytest.raises(InputError, match=r"hydra/launcher=ray needs the plugin hydra-ray-launcher.*\.\[ray\]"):
        preflight(["-m", "seed=0,1", "hydra/launcher=ray"])


# ---------------------------------------------------------------- bounded memory (point 8)


def _fake_run(d: Path, i: int, metrics: Path) -> None:
    d.mkdir()
    os.link(metrics, d / "metrics.parquet")
    with open(d / "agents.parquet", "wb") as f:  # 2 GB, sparse: reading it would fail or blow memory
        f.truncate(2 << 30)
    (d / "summary.json").write_text(json.dumps({"final": {"esteban_ray": i / 10}, "seed": i}))
    # the collection hashes what it reads (metrics, summary) and checks the rest by size
    files = {f: {"size": (d / f).stat().st_size, "sha256": "0" * 64} for f in ("agents.parquet",)}
    files |= {
        f: {"size": (d / f).stat().st_size, "sha256": file_sha256(d / f)} for f in ("metrics.parquet", "summary.json")
    }
    (d / MARKER).write_text(
        json.dumps(
            {
                "config_sha256": str(i),
                "seed": i,
                "files": files,
                "config": {"seed": i, "influence": {"rate": 0.1 * (i % 3)}},
                "hydra": {"overrides": [f"seed={i}", f"influence.rate={0.1 * (i % 3)}"], "job_num": i},
            }
        )
    )


@pytest.mark.slow
def test_collect_streams_runs_its_memory_does_not_grow_with_their_number(tmp_path):
    from sim.run.recorder import SCHEMA

    n = 1_000_000  # rows per run: ~20 MB in memory each
    rng = np.random.default_rng(0)
    table = pa.table(
        {
            "step": pa.array(np.arange(n, dtype=np.int32) // 100),
            "scope": pa.array(np.full(n, "all", dtype=object)).dictionary_encode(),
            "level": pa.array(np.full(n, "all", dtype=object)).dictionary_encode(),
            "metric": pa.array(np.array(["a", "b"], dtype=object)[np.arange(n) % 2]).dictionary_encode(),
            "value": pa.array(rng.random(n)),
        }
    ).cast(SCHEMA)
    metrics = tmp_path / "metrics.parquet"
    pq.write_table(table, metrics)
    peaks = {}
    for k in (3, 24):
        sdir = tmp_path / f"sweep{k}"
        sdir.mkdir()
        for i in range(k):
            _fake_run(sdir / f"seed={i}", i, metrics)
        code = (
            "import resource, sys; from sim.studies.collect import collect; "
            f"r = collect({str(sdir)!r}, metric='final.esteban_ray'); assert r['runs'] == {k}, r; "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
        )
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        peaks[k] = int(proc.stdout.split()[-1]) / 1024  # MB
        assert pq.read_metadata(sdir / "metrics.parquet").num_rows == k * n
    # holding every run would add ~20 MB per run (~420 MB more for 24 runs than for 3)
    assert peaks[24] - peaks[3] < 100, peaks


def test_hydra_keeps_no_config_copy_per_run():
    from hydra.core.utils import JobReturn, JobStatus
    from omegaconf import OmegaConf

    from sim.studies.callbacks import SweepCallback

    ret = JobReturn(cfg=OmegaConf.create({"a": 1}), hydra_cfg=OmegaConf.create({"b": 2}), status=JobStatus.COMPLETED)
    SweepCallback().on_job_end(config=OmegaConf.create(), job_return=ret)
    assert ret.cfg is None and ret.hydra_cfg is None and ret.status == JobStatus.COMPLETED
    import pickle

    cb = SweepCallback()
    cb._progress = threading.Lock()  # a live bar (a thread) stays in the parent; the callback travels
    assert pickle.loads(pickle.dumps(cb))._progress is None
