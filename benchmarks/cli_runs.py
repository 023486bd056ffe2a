"""The real command line, each in a child process: a sweep on 1 and 2 joblib workers, and one large run.

Wall time and peak memory are what the user would see: imports, network, every output included.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from benchmarks.common import MEAN_DEGREE, run_measured, sbm_overrides

SIM = [sys.executable, "-m", "sim"]
#: the issue's target: the 16-run sweep of default runs this much faster on 2 joblib workers than on 1
SWEEP_SPEEDUP = 1.8


def bench_sweep(runs: int, settings: list[str], workers: tuple[int, ...] = (1, 2), repeats: int = 3) -> dict:
    """The same `runs`-run sweep (seed = 0..runs-1) with each number of joblib workers, `repeats` times in turn.

    A sweep skips runs that are already complete, so every launch gets its own empty directory; the count of
    summary.json files afterwards checks that every run really ran. One small run first compiles (or loads)
    the numba cache, so that the first sweep timed does not pay for it. Each row also splits the wall time
    (`timeline`): the runs' own time (summary.json) and what the command line, Hydra and the launcher add.

    The worker counts alternate (1, 2, 1, 2, ...): on a shared machine one pair of sweeps measured 1.66x and
    the next 1.97x, minutes apart. The speedup is the median of the ratios pair by pair (each sweep against
    the 1-worker sweep just before it); every other figure is the median over the repeats, with each
    sweep's wall time kept.
    """
    seeds = "seed=" + ",".join(str(s) for s in range(runs))
    measured: dict[int, list[dict]] = {w: [] for w in workers}
    with tempfile.TemporaryDirectory(prefix="bench_sweep_") as tmp:
        run_measured([*SIM, *settings, "steps=2", "output.progress=off", f"hydra.run.dir={tmp}/warm"])
        for k in range(repeats):
            for w in workers:
                d = Path(tmp) / f"repeat{k}-workers{w}"
                r = run_measured([*SIM, "-m", seeds, *settings, f"hydra.launcher.n_jobs={w}", f"hydra.sweep.dir={d}"])
                summaries = [json.loads(f.read_text()) for f in d.rglob("summary.json")]
                if len(summaries) != runs:
                    raise RuntimeError(f"sweep with {w} workers completed {len(summaries)} of {runs} runs")
                run_s = sum(x["wall_time_s"] for x in summaries) / runs
                measured[w].append({"wall_s": r["wall_s"], "mean_run_s": run_s, **timeline(d, r, run_s)})
    return {"settings": settings, "runs": runs, "repeats": repeats, "rows": sweep_rows(measured, runs)}


def sweep_rows(measured: dict[int, list[dict]], runs: int) -> list[dict]:
    """One row per worker count from its repeated sweeps (in the order run, the first count the base).

    Each figure is the median over the repeats; `walls_s` keeps each sweep's wall time and `speedups` each
    ratio to the base count's sweep of the same repeat, whose median is `speedup`.
    """
    base = next(iter(measured.values()))
    rows = []
    for w, each in measured.items():
        row: dict = {"workers": w, "runs": runs, "repeats": len(each)}
        for key in each[0]:
            row[key] = statistics.median(x[key] for x in each)
        row["walls_s"] = [x["wall_s"] for x in each]
        row["speedups"] = [b["wall_s"] / x["wall_s"] for b, x in zip(base, each, strict=True)]
        row["speedup"] = statistics.median(row["speedups"])
        rows.append(row)
    return rows


_STAMP = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3})\]")


def sweep_bound(sweep: dict | None) -> list[str]:
    """What bounds the 2-worker sweep's speedup, from the rows' medians: the time spent outside the runs.

    Each sweep's wall time is the time its workers spend running runs (jobs and per-run overhead
    included) plus the time outside them: before the first run (the command's imports, the checks of
    every run, Hydra, and with 2 workers the fork server's imports) and after the last (the collection
    and the exit). With the 2-worker sweep's runs as they are, the target speedup needs its time outside
    them at most the 1-worker sweep's wall time / target minus its time running them. Medians of each
    part over the repeats (`timeline`), so the parts need not add up to the median wall time exactly.
    """
    rows = {r["workers"]: r for r in (sweep or {}).get("rows", [])}
    if 1 not in rows or 2 not in rows:
        return []

    def parts(r: dict) -> tuple[float, float, float]:
        before, after = r["parent_start_s"] + r["worker_start_s"], r["tail_s"]
        return before, after, r["wall_s"] - before - after

    (b1, a1, run1), (b2, a2, run2) = parts(rows[1]), parts(rows[2])
    need = rows[1]["wall_s"] / SWEEP_SPEEDUP - run2
    than = f", less than the 1-worker sweep's {b1 + a1:.2f} s" if need < b1 + a1 else ""
    # the 2-worker sweep as good as two halves of the 1-worker sweep: its runs twice as fast, the same time outside
    ideal = rows[1]["wall_s"] / (b1 + a1 + run1 / 2)
    even = (
        f" Even with its runs exactly twice as fast as on 1 worker and no more time outside them than the "
        f"1-worker sweep's, the 2-worker sweep would be {ideal:.2f}x faster: {SWEEP_SPEEDUP:g}x needs it to spend "
        "less time outside its runs than the 1-worker sweep does."
        if ideal < SWEEP_SPEEDUP
        else ""
    )
    return [
        f"What bounds the sweep's speedup (medians of this run): the 1-worker sweep ran its runs for {run1:.2f} s "
        f"and spent {b1 + a1:.2f} s outside them ({b1:.2f} s before its first run: imports, the checks of every "
        f"run, Hydra; {a1:.2f} s after its last: the collection and the exit); the 2-worker sweep ran them for "
        f"{run2:.2f} s and spent {b2 + a2:.2f} s outside them ({b2:.2f} s before its first runs, which wait for "
        f"the fork server's imports; {a2:.2f} s after). The runs alone went {run1 / run2:.2f}x faster on 2 "
        f"workers; with them as they are, {SWEEP_SPEEDUP:g}x would need the 2-worker sweep to spend at most "
        f"{need:.2f} s outside its runs{than}.{even}",
        "",
    ]


def _stamp(line: str) -> float | None:
    """Epoch seconds of a log line's time stamp (Hydra's format, local time); None without one."""
    m = _STAMP.match(line)
    return datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp() if m else None


def timeline(sweep_dir: Path, measured: dict, mean_run_s: float) -> dict:
    """Where a sweep's wall time goes, from the log lines' times (millisecond stamps).

    - parent_start_s: from the command's start to Hydra launching the jobs (imports, the preflight's checks
      of every run, Hydra's set-up);
    - worker_start_s: from the launch to the first run's start (the workers' processes and imports);
    - per_run_overhead_s: on each worker, from a run's end to its next run's start, averaged (Hydra composing
      the job's config, its job set-up, the command line's own checks; a run starts with its model's set-up);
    - tail_s: from the last run's end to the command's exit (collecting the sweep, stopping the workers);
    - runs_per_hour at this rate, and the per-run overhead as a share of a run's own wall time.
    """
    launch = next((_stamp(x) for x in measured["output"].splitlines() if "is launching" in x), None)
    by_worker: dict[str, list[tuple[float, float]]] = {}
    for log in sweep_dir.glob("*/sim.log"):
        lines = log.read_text().splitlines()
        start = next(x for x in lines if "run start:" in x)  # logged once the model is set up
        end = next(x for x in lines if "run end:" in x)
        init = json.loads((log.parent / "summary.json").read_text())["init_s"]  # part of the run's own time
        by_worker.setdefault(start.rsplit("pid ", 1)[-1], []).append((_stamp(start) - init, _stamp(end)))
    spans = sorted(r for rs in by_worker.values() for r in rs)
    gaps = [b[0] - a[1] for rs in by_worker.values() for a, b in zip(sorted(rs), sorted(rs)[1:], strict=False)]
    begin, finish = measured["started"], measured["started"] + measured["wall_s"]
    per_run = sum(gaps) / len(gaps) if gaps else float("nan")
    return {
        "parent_start_s": (launch - begin) if launch else float("nan"),
        "worker_start_s": (spans[0][0] - launch) if launch else float("nan"),
        "per_run_overhead_s": per_run,
        "per_run_overhead_share": per_run / mean_run_s,
        "tail_s": finish - max(e for _, e in spans),
        "runs_per_hour": len(spans) / measured["wall_s"] * 3600,
        "worker_processes": len(by_worker),
    }


def bench_startup(repeats: int = 3) -> dict:
    """`python -m sim` (the default run) with an empty numba cache, then again with it; the app's first start.

    Cold: a fresh cache directory (NUMBA_CACHE_DIR), as after installing or changing a compiled rule: the
    run compiles every kernel it calls, with its compile partner (sim.run.partner) compiling the step in a
    second process; and the same without the partner (SIM_COMPILE_PARTNER=off, another fresh cache), the
    way it compiled before. Warm: the first command again, reading the kernels from its cache. Each is
    run `repeats` times (a fresh cache for every cold run) and reported by its median, with every run
    kept: one run of a 15-second command on a shared machine varied by more than a second. The app:
    seconds from starting `python -m sim.viz` with an empty cache to its printed URL.
    """
    cold, warm, alone = [], [], []
    with tempfile.TemporaryDirectory(prefix="bench_start_") as tmp:
        for k in range(repeats):
            env = {**os.environ, "NUMBA_CACHE_DIR": f"{tmp}/numba{k}", "SIM_OUTPUTS": f"{tmp}/out"}
            env.pop("SIM_COMPILE_PARTNER", None)
            cold.append(run_measured([*SIM, "output.progress=off"], env=env)["wall_s"])
            warm.append(run_measured([*SIM, "output.progress=off"], env=env)["wall_s"])
            off = {**env, "NUMBA_CACHE_DIR": f"{tmp}/numba-alone{k}", "SIM_COMPILE_PARTNER": "off"}
            alone.append(run_measured([*SIM, "output.progress=off"], env=off)["wall_s"])
        app = app_url_s({**os.environ, "NUMBA_CACHE_DIR": f"{tmp}/numba-app", "SIM_OUTPUTS": f"{tmp}/out"})
    return {
        "cold_s": statistics.median(cold),
        "cold_no_partner_s": statistics.median(alone),
        "warm_s": statistics.median(warm),
        "app_url_s": app,
        "runs": {"cold_s": cold, "cold_no_partner_s": alone, "warm_s": warm},
    }


def app_url_s(env: dict[str, str]) -> float:
    """Seconds from starting the teaching app (the classroom driver's Server) to its printed URL; then stopped."""
    from benchmarks.classroom import Server
    from sim.viz.__main__ import RELEASE_S, free_port

    server = Server(free_port(), None, RELEASE_S, extra_env=env)
    try:
        server.wait_url(timeout=300.0)
        return time.monotonic() - server.started
    finally:
        server.stop()


def bench_e2e(n: int, steps: int, degree: float = MEAN_DEGREE, sample: float = 1.0) -> dict:
    """`python -m sim` on the benchmark SBM: N agents, `steps` steps, metrics every 10 steps.

    `degree`: the network's mean degree; `sample`: the share of agents in the snapshots.

    Wall time is the child's, from start to exit (imports, network, every output); peak RSS is the child's own
    (see `run_measured`). The run's summary.json adds its own wall time, and the initialization time if it
    reports one.
    """
    with tempfile.TemporaryDirectory(prefix="bench_e2e_") as tmp:
        args = [
            *sbm_overrides(n, degree=degree),
            f"steps={steps}",
            "metrics.every=10",
            *([f"output.snapshot_sample={sample}"] if sample < 1 else []),
            "output.progress=off",
            f"hydra.run.dir={tmp}/run",
        ]
        r = run_measured([*SIM, *args])
        summary = json.loads((Path(tmp) / "run" / "summary.json").read_text())
    init = {k: v for k, v in summary.items() if k.startswith("init") and isinstance(v, int | float)}
    return {
        "n_agents": n,
        "steps": steps,
        "mean_degree": degree,
        "command": "python -m sim " + " ".join(args[:-1]),
        "ties": summary.get("n_ties"),
        "wall_s": r["wall_s"],
        "peak_rss_mib": r["peak_rss_mib"],
        "run_wall_time_s": summary.get("wall_time_s"),
        "init": init,
    }


def _spread(startup: dict, key: str) -> str:
    """The median of a start-up figure, and each run in parentheses when there were several."""
    if startup.get(key) is None:
        return "not measured"
    runs = startup.get("runs", {}).get(key, [])
    each = f" ({', '.join(f'{x:.1f}' for x in runs)})" if len(runs) > 1 else ""
    return f"{startup[key]:.1f}{each}"


def _times(k: int) -> str:
    return "once" if k == 1 else "twice" if k == 2 else f"{k} times"


def _each(values: list[float] | None, fmt: str) -> str:
    """Each repeat's figure in parentheses when there were several."""
    return f" ({', '.join(format(v, fmt) for v in values)})" if values and len(values) > 1 else ""


def _sweep_table(sweep: dict) -> list[str]:
    """The command a sweep section timed, and its table: one row per worker count."""
    lines = [
        f"`python -m sim -m seed=0,...,{sweep['runs'] - 1} {' '.join(sweep['settings'])} "
        "hydra.launcher.n_jobs=W` (fresh sweep dir each; wall time of the whole command); "
        f"{_times(sweep.get('repeats', 1))}, the worker counts in turn",
        "",
        "| workers | runs | wall s | speedup vs 1 worker | runs per hour | mean run s (summary.json) "
        "| parent start-up s | worker start-up s | per-run overhead s (share of a run) | collection and exit s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    return lines + [
        f"| {r['workers']} | {r['runs']} | {r['wall_s']:.1f}{_each(r.get('walls_s'), '.1f')} "
        f"| {r['speedup']:.2f}x{_each(r.get('speedups'), '.2f')} | {r['runs_per_hour']:,.0f} "
        f"| {r['mean_run_s']:.2f} | {r['parent_start_s']:.2f} | {r['worker_start_s']:.2f} "
        f"| {r['per_run_overhead_s']:.3f} ({r['per_run_overhead_share']:.0%}) | {r['tail_s']:.2f} |"
        for r in sweep["rows"]
    ]


def many_line(many: dict | None, sweep: dict | None) -> list[str]:
    """What the sweep of more runs shows beside the target's sweep: the same runs, the fixed time spread thinner.

    Not a target of the issue (whose sweep has 16 runs): a measurement of how far the speedup is held back by
    the sweep's time outside its runs (start-up, collection, exit), which grows far less than the runs' own.
    """
    rows = {r["workers"]: r for r in (many or {}).get("rows", [])}
    base = {r["workers"]: r for r in (sweep or {}).get("rows", [])}
    if 1 not in rows or 2 not in rows:
        return []

    def outside(r: dict) -> float:
        return r["parent_start_s"] + r["worker_start_s"] + r["tail_s"]

    r1, r2 = rows[1], rows[2]
    than = ""
    if 1 in base and 2 in base:
        than = (
            f" (the {base[2]['runs']}-run sweep of this benchmark: {base[2]['speedup']:.2f}x, "
            f"{outside(base[1]):.2f} s and {outside(base[2]):.2f} s outside its runs)"
        )
    return [
        f"The same runs, {many['runs']} of them: the 2-worker sweep is {r2['speedup']:.2f}x faster than the "
        f"1-worker sweep, at {r2['runs_per_hour']:,.0f} runs per hour against {r1['runs_per_hour']:,.0f}, with "
        f"{outside(r1):.2f} s on 1 worker and {outside(r2):.2f} s on 2 outside its runs, for start-up, collection and "
        f"exit{than}; the runs themselves went {(r1['wall_s'] - outside(r1)) / (r2['wall_s'] - outside(r2)):.2f}x "
        "faster on 2 workers. Not a target: the issue's sweep has 16 runs.",
        "",
    ]


def markdown(sweep: dict | None, e2e: dict | None, startup: dict | None = None, many: dict | None = None) -> list[str]:
    lines = []
    if startup:
        lines += [
            "## Start-up: the default run with an empty numba cache and with it, and the app's first start",
            "",
            "| first `python -m sim` (empty cache) s | the same without the compile partner s "
            "| second (cache) s | `python -m sim.viz` to its URL (empty cache) s |",
            "|---|---|---|---|",
            f"| {_spread(startup, 'cold_s')} | {_spread(startup, 'cold_no_partner_s')} | {_spread(startup, 'warm_s')} "
            f"| {startup['app_url_s']:.1f} |",
            "",
            "Medians of the runs, each run in parentheses (a fresh numba cache for every first run). "
            "Whole commands (imports, compilation, the run, every output). With an empty cache the command line "
            "starts a compile partner (`sim.run.partner`): a second process that compiles the step's kernels "
            "while the run compiles its metrics; `SIM_COMPILE_PARTNER=off` is the run compiling everything "
            "itself. The app compiles its kernels after printing its URL.",
            "",
        ]
    if sweep:
        lines += [f"## Sweep scaling: the same {sweep['runs']}-run sweep with 1 and 2 joblib workers", ""]
        lines += _sweep_table(sweep)
        lines += [
            "",
            "Per-run overhead: on one worker, from a run's end to its next run's start (Hydra composing the job's "
            "config and setting the job up, the command line's checks; a run's own time starts with its model). "
            "Parent start-up: imports, the preflight's checks of every run, Hydra; worker start-up: from the launch "
            "to the first run (the workers' processes and imports). From the log lines' times. Medians over the "
            "repeats, each sweep's wall time in parentheses; the speedup is the median of the ratios pair by pair "
            "(each sweep against the 1-worker sweep run just before it).",
            "",
            *sweep_bound(sweep),
        ]
    if many:
        lines += [
            f"## Sweep scaling over more runs: {many['runs']} runs of the same size with 1 and 2 joblib workers",
            "",
            *_sweep_table(many),
            "",
            *many_line(many, sweep),
        ]
    if e2e:
        init = ", ".join(f"{k} {v:.1f}" for k, v in e2e["init"].items()) or "not reported by summary.json"
        lines += [
            "## End to end: one run of the full model through the command line",
            "",
            f"`{e2e['command']}`",
            "",
            "| N | ties | steps | wall s (process) | target | peak RSS MiB | target | run's wall s | init s |",
            "|---|---|---|---|---|---|---|---|---|",
            f"| {e2e['n_agents']:,} | {e2e['ties'] or 0:,} | {e2e['steps']:,} | {e2e['wall_s']:.1f} | < 180 "
            f"| {e2e['peak_rss_mib']:,.0f} | < 2,048 | {e2e['run_wall_time_s']} | {init} |",
            "",
        ]
    return lines


def large_markdown(runs: list[dict], limit_s: float, limit_mib: float) -> list[str]:
    """The large runs end to end: ten million agents against the issue's time and memory, fifty million."""
    if not runs:
        return []
    lines = [
        "## Large runs end to end (`--full` or `--large`)",
        "",
        "| N | mean degree | ties | steps | wall s (process) | peak RSS MiB | run's wall s | init s | command |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        init = r["init"].get("init_s")
        lines.append(
            f"| {r['n_agents']:,} | {r['mean_degree']:g} | {r['ties'] or 0:,} | {r['steps']:,} | {r['wall_s']:.1f} "
            f"| {r['peak_rss_mib']:,.0f} | {r['run_wall_time_s']} | {'' if init is None else f'{init:.1f}'} "
            f"| `{r['command']}` |"
        )
    lines += [
        "",
        f"Targets: 10,000,000 agents x 100 steps under {limit_s:g} s and {limit_mib / 1024:g} GiB; "
        "50,000,000 agents at mean degree 10 through 10 steps within a 24 GiB machine.",
        "",
    ]
    return lines
