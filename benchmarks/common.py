"""What the benchmark sections share: the SBM (mean degree 20 unless said), a repeat timer, a measured child process."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent  # the repo: `python -m sim` and `-m benchmarks.run` run from here
MEAN_DEGREE = 20


def group_size(n: int) -> int:
    """Groups of 1,000 agents (100 for N <= 10,000): 16 ties inside the group, 4 outside on average."""
    return 100 if n <= 10_000 else 1000


def sbm_probabilities(n: int, size: int, degree: float = MEAN_DEGREE) -> tuple[float, float]:
    """p_in, p_out of the benchmark SBM: four fifths of the mean degree inside the group, a fifth outside."""
    return degree * 4 / 5 / (size - 1), degree / 5 / max(1, n - size)


def sbm_overrides(n: int, size: int | None = None, degree: float = MEAN_DEGREE) -> list[str]:
    """The command-line overrides of the benchmark SBM (the same network as `benchmarks.run.sbm_config`)."""
    size = size or group_size(n)
    p_in, p_out = sbm_probabilities(n, size, degree)
    return [
        f"n_agents={n}",
        "network=sbm",
        f"n_groups={max(1, n // size)}",
        f"network.p_in={p_in}",
        f"network.p_out={p_out}",
    ]


def timed(fn, *args, min_time: float = 0.5, max_reps: int = 50) -> float:
    """Median seconds per call over repeated calls (each on fresh copies made by `fn`)."""
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < max_reps and (time.perf_counter() - start < min_time or len(times) < 3):
        t = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - t)
    return float(np.median(times))


# A fresh Python whose only child is the command: its RUSAGE_CHILDREN peak RSS is that command's (and its own
# children's), not that of earlier benchmark children, as it would be in this process. The command's output goes
# to stderr so that stdout carries the one JSON line.
_MEASURE = """
import json, resource, subprocess, sys, time
t, epoch = time.perf_counter(), time.time()
rc = subprocess.run(sys.argv[1:], stdout=sys.stderr).returncode
kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / (1024 if sys.platform == "darwin" else 1)
print(json.dumps({"rc": rc, "wall_s": time.perf_counter() - t, "peak_rss_mib": kib / 1024, "started": epoch}))
"""


def run_measured(cmd: list[str], env: dict[str, str] | None = None) -> dict:
    """Run `cmd` from the repo root: wall time, peak resident memory, start (epoch s) and output. Raises if it fails."""
    out = subprocess.run([sys.executable, "-c", _MEASURE, *cmd], capture_output=True, text=True, cwd=ROOT, env=env)
    res = json.loads(out.stdout.strip().splitlines()[-1]) if out.stdout.strip() else {"rc": out.returncode}
    if res["rc"] != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({res['rc']}):\n{out.stderr[-3000:]}")
    res["output"] = out.stderr  # the command's own output (its log lines carry their times)
    return res
