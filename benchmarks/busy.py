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
    from sim.core.threads import idle_threads_sleep

    idle_threads_sleep()  # as the command line does
    from sim.model import ResocializationModel

    model = ResocializationModel(n_agents=n, n_groups=max(1, n // 100), steps=steps + 3, collect=False)
    for _ in range(3):  # warm: the kernels loaded, the first allocations made
        model.step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        model.step()
        times.append(time.perf_counter() - t0)
    # the median step: a stall of the machine in one step does not stand for the run
    print(json.dumps({"threads": model.threads, "step_s": sorted(times)[len(times) // 2]}))


#: libgomp's own default spin (with OMP_WAIT_POLICY unset): the row without `idle_threads_sleep`
LIBGOMP_DEFAULT_SPIN = "300000"


def _timed(n: int, steps: int, threads: str | None, spin: str | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("SIM_THREADS", "GOMP_SPINCOUNT", "OMP_WAIT_POLICY")}
    if threads is not None:
        env["SIM_THREADS"] = threads
    if spin is not None:
        env["GOMP_SPINCOUNT"] = spin
    code = f"from benchmarks.busy import _child; _child({n}, {steps})"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_busy(n: int, steps: int, spin_row: bool = False) -> list[dict]:
    """Step time alone and busy, with the model's own thread count and with every usable core.

    `spin_row`: also the model's count with libgomp's default spin (idle threads spinning 300,000 times
    before they sleep), the way it ran before `sim.core.threads.idle_threads_sleep`.
    """
    from sim.core.threads import usable_cpus

    cores = usable_cpus()
    modes: dict[str, tuple[str | None, str | None]] = {
        "chosen by the model": (None, None),
        f"{cores} forced (SIM_THREADS)": (str(cores), None),
    }
    if spin_row:
        modes["chosen, libgomp's default spin"] = (None, LIBGOMP_DEFAULT_SPIN)
    alone = {name: _timed(n, steps, *m) for name, m in modes.items()}
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(cores)]
    try:
        time.sleep(1.0)
        busy = {name: _timed(n, steps, *m) for name, m in modes.items()}
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
    note = [
        "",
        "Idle kernel threads (GNU OpenMP's) spin 10,000 times before they sleep "
        "(`sim.core.threads.idle_threads_sleep`, set by the command line); the row with libgomp's default "
        "spin (300,000) is how the parallel kernels waited before.",
    ]
    lines += [
        f"| {r['n_agents']:,} | {r['threads']} | {r['threads_used']} | {r['alone_step_s']:.4f} | "
        f"{r['busy_step_s']:.4f} | {r['busy_vs_alone']:.1f}x |"
        for r in rows
    ]
    return lines + (note if any("default spin" in r["threads"] for r in rows) else [])
