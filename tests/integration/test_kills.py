"""Hard kills (issue 19 item 8): SIGKILLs of runs and sweeps at random moments, then resume.

After every kill, nothing under a final name is half-written and no marker claims a run that is not
intact; after the last resume, every run's outputs are byte for byte those of a clean run that was
never killed. The kill times come from a seeded Generator as fractions of how long a clean sweep and a
clean run took on this machine (timed first; they are the reference outputs too), so on every machine the
kills spread over the whole life of a process: start-up, the runs, the collection of a sweep's tables. A
kill at a fraction f of the clean duration costs f times that duration, which keeps 20 kills to about a
minute; the exact moment a kill lands still depends on the machine's speed, which is the point.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from sim.run.completion import MARKER, read_marker

RUN = ["n_agents=400", "n_groups=4", "steps=80", "output.figure=false", "output.snapshot_every=20"]
SWEEP = [*RUN, "seed=range(4)", "hydra/launcher=basic"]  # in-process runs: a kill lands inside one
KILLS = {"sweep": 10, "run": 10}  # at least 20 in all
# a kill lands at this fraction of the clean duration: from early in start-up on (the runs of a sweep and
# its collected tables come last; a resumed sweep skips its complete runs, so later attempts reach them
# sooner, and a late kill may find one finished: it then starts over)
MOMENTS = (0.05, 0.85)
COMPARED = ("metrics.parquet", "agents.parquet", "events.parquet", "edges.parquet")
TIMING = ("wall_time_s", "init_s")


def start(cwd: Path, args: list[str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "sim", *args],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def kill_at(proc: subprocess.Popen, delay: float) -> bool:
    """SIGKILL the process group after `delay` s; False if it had already finished."""
    try:
        proc.wait(timeout=delay)
        return False
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        return True


def check_nothing_half_written(run_dir: Path) -> None:
    for f in run_dir.glob("*.parquet"):
        pq.read_metadata(f)  # a final name holds a whole file
    if (run_dir / "summary.json").exists():
        json.loads((run_dir / "summary.json").read_text())
    if (run_dir / MARKER).exists():
        assert read_marker(run_dir) is not None, run_dir  # a marker only for an intact run


def same_run(a: Path, b: Path) -> None:
    for name in COMPARED:
        assert (a / name).read_bytes() == (b / name).read_bytes(), (a, name)
    sa, sb = (json.loads((d / "summary.json").read_text()) for d in (a, b))
    for key in TIMING:
        sa.pop(key), sb.pop(key)
    assert sa == sb, a


def timed_run(cwd: Path, args: list[str]) -> float:
    """Run `python -m sim ARGS` to the end (it must succeed); its wall time in seconds."""
    t = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return time.perf_counter() - t


def test_twenty_sigkills_of_runs_and_sweeps_then_resume_gives_the_clean_results(tmp_path):
    rng = np.random.default_rng(19)
    cwd = tmp_path / "work"
    cwd.mkdir()
    sdir, rdir = tmp_path / "sweep", tmp_path / "run"
    sweep_args = ["-m", *SWEEP, f"hydra.sweep.dir={sdir}"]
    run_args = [*RUN, "seed=7", f"hydra.run.dir={rdir}"]

    # the clean results, never killed, and how long each took here
    clean_s, clean_r = tmp_path / "clean_sweep", tmp_path / "clean_run"
    duration = {
        "sweep": timed_run(cwd, ["-m", *SWEEP, f"hydra.sweep.dir={clean_s}"]),
        "run": timed_run(cwd, [*RUN, "seed=7", f"hydra.run.dir={clean_r}"]),
    }

    kills = {"sweep": 0, "run": 0}
    for what, args in (("sweep", sweep_args), ("run", run_args)):
        tries = 0
        while kills[what] < KILLS[what]:
            tries += 1
            assert tries < 3 * KILLS[what], f"the {what} kept finishing before its kill"
            delay = rng.uniform(*MOMENTS) * duration[what]
            if kill_at(start(cwd, args), delay):
                kills[what] += 1
            else:  # it finished: start over so that the next kill lands in a run
                if what == "run":
                    for f in rdir.glob("*"):
                        if f.is_file():
                            f.unlink()
                else:
                    for d in sdir.glob("*/"):
                        (d / MARKER).unlink(missing_ok=True)
            for d in [*sdir.glob("*/"), rdir] if rdir.exists() else sdir.glob("*/"):
                if d.is_dir():
                    check_nothing_half_written(d)
    assert sum(kills.values()) >= 20

    for args in (sweep_args, run_args):  # resume to the end
        timed_run(cwd, args)
    assert not (sdir / ".sweep.lock").exists()

    runs = sorted(p.name for p in sdir.iterdir() if p.is_dir() and not p.name.startswith("."))
    assert runs == sorted(p.name for p in clean_s.iterdir() if p.is_dir() and not p.name.startswith("."))
    assert len(runs) == 4
    for name in runs:
        assert read_marker(sdir / name) is not None and not list((sdir / name).glob(".*.tmp"))
        same_run(sdir / name, clean_s / name)
    assert read_marker(rdir) is not None
    same_run(rdir, clean_r)
    assert pq.read_table(sdir / "summary.parquet").num_rows == 4
