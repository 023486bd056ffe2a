"""A run on a busy machine: the model's step alone and next to CPU-bound jobs on every core.

`bench_busy(n, steps)` times the steps of an `n`-agent model (the default network, 100 agents per group)
in a child process, first on an idle machine, then while one `while True` process per usable core
competes, each with the thread count the model chooses (`sim.core.threads`: one thread below
`PARALLEL_FROM` agents) and with every usable core forced (`SIM_THREADS`). The ratio busy / alone is the
slowdown a user sees when a laptop or a shared node does other work. Parallel kernels wait for their
slowest thread, which on a busy machine is the one just descheduled: that is what the forced row shows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from benchmarks.common import ROOT


def _child(n: int, steps: int) -> None:
    from sim.model import ResocializationModel

    model = ResocializationModel(n_agents=n, n_groups=max(1, n // 100), steps=steps + 3, collect=False)
    for _ in range(3):  # warm: the kernels loaded, the first allocations made
        model.step()
    t0 = time.perf_counter()
    for _ in range(steps):
        model.step()
    print(json.dumps({"threads": model.threads, "step_s": (time.perf_counter() - t0) / steps}))


def _timed(n: int, steps: int, threads: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "SIM_THREADS"}
    if threads is not None:
        env["SIM_THREADS"] = threads
    code = f"from benchmarks.busy import _child; _child({n}, {steps})"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_busy(n: int, steps: int) -> list[dict]:
    """Step time alone and busy, with the model's own thread count and with every usable core."""
    from sim.core.threads import usable_cpus

    cores = usable_cpus()
    modes = {"chosen by the model": None, f"{cores} forced (SIM_THREADS)": str(cores)}
    alone = {name: _timed(n, steps, t) for name, t in modes.items()}
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(cores)]
    try:
        time.sleep(1.0)
        busy = {name: _timed(n, steps, t) for name, t in modes.items()}
    finally:
        for h in hogs:
            h.kill()
            h.wait()
    return [
        {
            "n_agents": n,
            "threads": name,
            "threads_used": alone[name]["threads"],
            "competitors": cores,
            "alone_step_s": alone[name]["step_s"],
            "busy_step_s": busy[name]["step_s"],
            "busy_vs_alone": busy[name]["step_s"] / alone[name]["step_s"],
        }
        for name in modes
    ]


def markdown(rows: list[dict]) -> list[str]:
    if not rows:
        return []
    lines = [
        "",
        f"## A busy machine: the step alone and next to {rows[0]['competitors']} CPU-bound processes "
        "(benchmarks/busy.py)",
        "",
        "| N | threads | used | step alone s | step busy s | busy / alone |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['n_agents']:,} | {r['threads']} | {r['threads_used']} | {r['alone_step_s']:.4f} | "
        f"{r['busy_step_s']:.4f} | {r['busy_vs_alone']:.1f}x |"
        for r in rows
    ]
    return lines
