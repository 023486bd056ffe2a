"""Which parameters move the review's patterns? Morris screening of the calibration's distance terms.

    python -m sim.studies.screening [DEFINITION.yaml] [--out DIR] [--trajectories R] [--workers N]

The calibration (`sim.studies.review_calibration`) varies only some parameters; this screening says
which candidates matter for its patterns, so that the choice can be checked. The definition's
`screen:` maps candidate config keys (and `obs.KEY`) to ranges; SALib draws R Morris trajectories over
them (Morris 1991; Campolongo et al. 2007), every point is one model run (`sim.studies.patterns`,
at the definition's model overrides, a seed derived from the point), and for each pattern the
elementary effects are taken on its distance term (statistic against target or bound, over its scale,
as the calibration's distance reads it) and on the whole distance. Writes OUT/screening.csv (mu*, its
95% bootstrap interval and sigma per parameter and pattern), OUT/screening.json (the ranking by the
distance's mu*, and whether each candidate is calibrated) and OUT/screening.png (a heat map).

One run per point: the seed-to-seed noise of a statistic enters every elementary effect, so a small
mu* next to a wide interval is noise, not influence (the interval is SALib's, by bootstrap).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.config.errors import InputError
from sim.run.io import atomic_path, write_json
from sim.studies import review_calibration as rc
from sim.studies.naming import check_out


def problem(screen: dict[str, tuple[float, float]]) -> dict[str, Any]:
    return {"num_vars": len(screen), "names": list(screen), "bounds": [list(b) for b in screen.values()]}


def _evaluate(defn: rc.Definition, point: dict[str, float], threads: bool) -> dict[str, float]:
    if threads:
        import numba

        numba.set_num_threads(1)
    return rc.evaluate(defn, point, [rc.particle_seed(defn, point)])


def run(defn: rc.Definition, trajectories: int, workers: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """The Morris design and one model run per point: (statistics per point, the design)."""
    from SALib.sample import morris

    screen = defn.screen
    x = morris.sample(problem(screen), trajectories, num_levels=4, seed=seed)
    points = [dict(zip(screen, map(float, row), strict=True)) for row in x]
    if workers > 1:
        from joblib import Parallel, delayed

        stats = Parallel(n_jobs=workers)(delayed(_evaluate)(defn, p, True) for p in points)
    else:
        stats = [_evaluate(defn, p, False) for p in points]
    return pd.DataFrame(stats), x


def analyze(defn: rc.Definition, stats: pd.DataFrame, x: np.ndarray, seed: int = 0) -> pd.DataFrame:
    """mu*, its 95% interval and sigma of each candidate on each pattern's distance term and on the distance."""
    from SALib.analyze import morris

    outputs = {f"{p.stat}": np.array([p.term(float(v)) for v in stats[p.stat]]) for p in defn.patterns}
    outputs["distance"] = np.array([rc.distance(defn, row) for row in stats.to_dict("records")])
    rows = []
    for name, y in outputs.items():
        r = morris.analyze(problem(defn.screen), x, y, num_levels=4, seed=seed)
        for i, key in enumerate(defn.screen):
            rows.append(
                {
                    "output": name,
                    "parameter": key,
                    "mu_star": float(r["mu_star"][i]),
                    "mu_star_conf": float(r["mu_star_conf"][i]),
                    "sigma": float(r["sigma"][i]),
                    "calibrated": key in defn.parameters,
                }
            )
    return pd.DataFrame(rows)


def figure(table: pd.DataFrame, path: Path) -> None:
    from matplotlib.figure import Figure

    wide = table.pivot(index="parameter", columns="output", values="mu_star")
    order = table[table["output"] == "distance"].sort_values("mu_star", ascending=False)["parameter"]
    wide = wide.loc[list(order), [c for c in wide.columns if c != "distance"] + ["distance"]]
    calibrated = dict(zip(table["parameter"], table["calibrated"], strict=False))
    scaled = wide / wide.max(axis=0).replace(0, 1)
    fig = Figure(figsize=(1.0 * wide.shape[1] + 3.5, 0.42 * wide.shape[0] + 2.4))
    ax = fig.subplots()
    ax.imshow(scaled.to_numpy(), cmap="Blues", aspect="auto", vmin=0, vmax=1)
    for i in range(wide.shape[0]):
        for j in range(wide.shape[1]):
            v = wide.iat[i, j]
            ax.text(
                j,
                i,
                f"{v:.2g}",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if scaled.iat[i, j] > 0.6 else "black",
            )
    ax.set_xticks(range(wide.shape[1]))
    ax.set_xticklabels(wide.columns, rotation=40, ha="right", fontsize=8)
    ax.set_yticks(range(wide.shape[0]))
    ax.set_yticklabels([f"{k}{' *' if calibrated.get(k) else ''}" for k in wide.index], fontsize=8)
    ax.set_title(
        "Morris screening: mu* of each candidate on each pattern's distance term (in scales) and on the distance\n"
        "(rows by mu* on the distance; * calibrated; colour scaled per column)",
        fontsize=9,
    )
    fig.tight_layout()
    rc.save_png(fig, path)


def screen(defn: rc.Definition, out: Path, trajectories: int, workers: int) -> dict[str, Any]:
    if not defn.screen:
        raise InputError(f"calibration {defn.path}: no screen: section (candidate key: [low, high])")
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    stats, x = run(defn, trajectories, workers, defn.seed)
    table = analyze(defn, stats, x, defn.seed)
    with atomic_path(out / "screening.csv") as tmp:
        table.to_csv(tmp, index=False)
    figure(table, out / "screening.png")
    dist = table[table["output"] == "distance"].sort_values("mu_star", ascending=False)
    summary = {
        "trajectories": trajectories,
        "model_runs": len(x),
        "wall_seconds": time.perf_counter() - t0,
        "ranking": [
            {
                "parameter": r.parameter,
                "mu_star": r.mu_star,
                "mu_star_conf": r.mu_star_conf,
                "calibrated": bool(r.calibrated),
            }
            for r in dist.itertuples()
        ],
    }
    write_json(out / "screening.json", summary)
    return summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sim.studies.screening", description=__doc__.split("\n\n")[0])
    ap.add_argument("definition", nargs="?", default=str(rc.DEFAULT_DEFINITION), help="calibration YAML with screen:")
    ap.add_argument("--out", help="output directory (default: the calibration's, outputs/calibration/NAME)")
    ap.add_argument("--trajectories", type=int, default=10, help="Morris trajectories (points: R x (k + 1))")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="worker processes")
    args = ap.parse_args(argv)
    try:
        defn = rc.load_definition(args.definition)
        if args.trajectories < 2:
            raise InputError(f"--trajectories={args.trajectories}; allowed: an integer >= 2")
        if args.workers < 1:
            raise InputError(f"--workers={args.workers}; allowed: an integer >= 1")
        out = Path(args.out) if args.out else rc.default_out(defn)
        check_out(out)  # before the runs: a directory that cannot be made failed with a traceback
        summary = screen(defn, out, args.trajectories, args.workers)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for r in summary["ranking"]:
        mark = "  (calibrated)" if r["calibrated"] else ""
        print(f"  {r['parameter']:32s} mu* {r['mu_star']:.3g} +- {r['mu_star_conf']:.2g}{mark}")
    print(f"{summary['model_runs']} runs, {summary['wall_seconds']:.0f} s; wrote {out}/screening.*")
    return 0


if __name__ == "__main__":
    from sim.studies.screening import main as _main  # pickled work names the module, not __main__

    raise SystemExit(_main())
