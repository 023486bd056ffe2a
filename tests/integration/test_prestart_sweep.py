"""A local sweep runs on the workers started at the command's start (sim.studies.prestart), with the same results."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import joblib
import pytest

pytestmark = pytest.mark.slow

# runs `python -m sim` in this process (as the command line does); at exit, prints the pool's worker ids
DRIVER = textwrap.dedent(
    """
    import atexit, json, runpy, sys
    from sim.studies import prestart
    atexit.register(lambda: print(json.dumps(prestart.wait(60)), flush=True))
    sys.argv = ["sim", *sys.argv[1:]]
    runpy.run_module("sim", run_name="__main__")
    """
)


def _sweep(tmp_path: Path, name: str, prestart: str) -> tuple[list[int], dict[str, str], set[int]]:
    out = tmp_path / name
    args = ["-m", "seed=0,1,2", "n_agents=60", "n_groups=3", "steps=4", "output.figure=false"]
    args += ["hydra.launcher.n_jobs=2", f"hydra.sweep.dir={out}"]
    env = {**os.environ, "SIM_PRESTART_WORKERS": prestart}
    p = subprocess.run([sys.executable, "-c", DRIVER, *args], capture_output=True, text=True, env=env, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    pool = json.loads(p.stdout.strip().splitlines()[-1])
    markers = [
        json.loads(m.read_text()) | {"final": json.loads((m.parent / "summary.json").read_text())["final"]}
        for m in sorted(out.glob("*/_complete.json"))
    ]
    assert len(markers) == 3
    # every output's digest but summary.json's (it holds the run's wall time), and the summary's results
    files = {f"{m['seed']}/{f}": v["sha256"] for m in markers for f, v in m["files"].items() if f != "summary.json"}
    files |= {f"{m['seed']}/final": json.dumps(m["final"]) for m in markers}
    return pool, files, {m["pid"] for m in markers}


def test_the_sweep_runs_on_the_started_workers_with_the_same_outputs(tmp_path: Path) -> None:
    pool, files, pids = _sweep(tmp_path, "early", "on")
    assert len(pool) == 2  # both workers were up before the launch
    assert pids <= set(pool)  # Hydra's launch reused them: joblib found the same pool arguments
    off_pool, off_files, off_pids = _sweep(tmp_path, "late", "off")
    assert off_pool == [] and not off_pids & set(pool)
    assert files == off_files  # byte for byte (the summaries: their results)


FORKED = textwrap.dedent(
    """
    import json, os, sys
    from joblib import Parallel, delayed
    from sim.studies import prestart

    def worker(_):
        import gc
        from sim.run import heap
        return {
            "settled": heap._settled or heap._before,  # the server's freeze is not a worker's first run's
            "pid": os.getpid(),
            "parent": os.getppid(),
            "threads": [os.environ.get(k) for k in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")],
            "imported": all(m in sys.modules for m in ("sim.run.runner", "sim.cli", "matplotlib.figure")),
            "frozen": gc.get_freeze_count(),
        }

    before = {k: v for k, v in os.environ.items() if "THREADS" in k or k.startswith("SIM_")}
    prestart.start(["-m", "seed=0,1", "hydra.launcher.n_jobs=2"], modules=("sim.cli",))
    pool = prestart.wait(120)
    cfg = prestart._launcher_cfg()
    cfg["n_jobs"] = 2
    rows = Parallel(**cfg)(delayed(worker)(k) for k in range(4))
    after = {k: v for k, v in os.environ.items() if "THREADS" in k or k.startswith("SIM_")}
    print(json.dumps({"me": os.getpid(), "pool": pool, "rows": rows, "env_kept": before == after}))
    """
)


def test_the_workers_are_forks_of_a_ready_server_with_joblibs_thread_limits() -> None:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    p = subprocess.run([sys.executable, "-c", FORKED], capture_output=True, text=True, env=env, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    out = json.loads(p.stdout.strip().splitlines()[-1])
    rows = out["rows"]
    assert {r["pid"] for r in rows} <= set(out["pool"]) and len(out["pool"]) == 2
    servers = {r["parent"] for r in rows}
    assert len(servers) == 1 and out["me"] not in servers  # forked by one server, not by this process
    limit = str(max(joblib.cpu_count() // 2, 1))  # joblib's: cores / workers
    assert all(r["threads"] == [limit] * 3 for r in rows)
    assert out["env_kept"]  # the limits are the workers', not this process's
    assert all(
        r["imported"] and r["frozen"] > 1000 and not r["settled"] for r in rows
    )  # the server's imports, frozen (sim.run.heap)
