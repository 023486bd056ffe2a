"""The real command line, each in a child process: a sweep on 1 and 2 joblib workers, and one large run.

Wall time and peak memory are what the user would see: imports, network, every output included.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from benchmarks.common import run_measured, sbm_overrides

SIM = [sys.executable, "-m", "sim"]


def bench_sweep(runs: int, settings: list[str], workers: tuple[int, ...] = (1, 2)) -> dict:
    """The same `runs`-run sweep (seed = 0..runs-1) with each number of joblib workers, each in a fresh sweep dir.

    A sweep skips runs that are already complete, so every launch gets its own empty directory; the count of
    summary.json files afterwards checks that every run really ran. One small run first compiles (or loads)
    the numba cache, so that the first sweep timed does not pay for it. The runs' own mean wall time (from
    their summary.json) tells slower runs (e.g. other load on the machine) from launcher overhead.
    """
    seeds = "seed=" + ",".join(str(s) for s in range(runs))
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_sweep_") as tmp:
        run_measured([*SIM, *settings, "steps=2", "output.progress=off", f"hydra.run.dir={tmp}/warm"])
        for w in workers:
            d = Path(tmp) / f"workers{w}"
            r = run_measured([*SIM, "-m", seeds, *settings, f"hydra.launcher.n_jobs={w}", f"hydra.sweep.dir={d}"])
            summaries = [json.loads(f.read_text()) for f in d.rglob("summary.json")]
            if len(summaries) != runs:
                raise RuntimeError(f"sweep with {w} workers completed {len(summaries)} of {runs} runs")
            run_s = sum(x["wall_time_s"] for x in summaries) / runs
            rows.append({"workers": w, "wall_s": r["wall_s"], "runs": runs, "mean_run_s": run_s})
    for r in rows:
        r["speedup"] = rows[0]["wall_s"] / r["wall_s"]
    return {"settings": settings, "runs": runs, "rows": rows}


def bench_e2e(n: int, steps: int) -> dict:
    """`python -m sim` on the benchmark SBM (mean degree 20): N agents, `steps` steps, metrics every 10 steps.

    Wall time is the child's, from start to exit (imports, network, every output); peak RSS is the child's own
    (see `run_measured`). The run's summary.json adds its own wall time, and the initialization time if it
    reports one.
    """
    with tempfile.TemporaryDirectory(prefix="bench_e2e_") as tmp:
        args = [
            *sbm_overrides(n),
            f"steps={steps}",
            "metrics.every=10",
            "output.progress=off",
            f"hydra.run.dir={tmp}/run",
        ]
        r = run_measured([*SIM, *args])
        summary = json.loads((Path(tmp) / "run" / "summary.json").read_text())
    init = {k: v for k, v in summary.items() if k.startswith("init") and isinstance(v, int | float)}
    return {
        "n_agents": n,
        "steps": steps,
        "command": "python -m sim " + " ".join(args[:-1]),
        "ties": summary.get("n_ties"),
        "wall_s": r["wall_s"],
        "peak_rss_mib": r["peak_rss_mib"],
        "run_wall_time_s": summary.get("wall_time_s"),
        "init": init,
    }


def markdown(sweep: dict | None, e2e: dict | None) -> list[str]:
    lines = []
    if sweep:
        lines += [
            f"## Sweep scaling: the same {sweep['runs']}-run sweep with 1 and 2 joblib workers",
            "",
            f"`python -m sim -m seed=0,...,{sweep['runs'] - 1} {' '.join(sweep['settings'])} "
            "hydra.launcher.n_jobs=W` (fresh sweep dir each; wall time of the whole command)",
            "",
            "| workers | runs | wall s | speedup vs 1 worker | mean run s (summary.json) |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {r['workers']} | {r['runs']} | {r['wall_s']:.1f} | {r['speedup']:.2f}x | {r['mean_run_s']:.2f} |"
            for r in sweep["rows"]
        ]
        lines.append("")
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
