"""Calibrate the effect ledger against the review's shares (KF6): SALib design, acceptance rule, region.

    python -m sim.studies.calibration experiments/calibration/ledger_shares.yaml [--out DIR] [--dry-run]
        [--analyze-only] [hydra overrides for every run, e.g. hydra/launcher=ray]

The review found that 39% of its 51 studies reported both positive and negative effects of digital
technology on professional socialization, and 25% only positive effects. The model's effect ledger
(ODD 7.13, docs/metrics.md) gives the same shares for its agents over an observation window (the last
`metrics.ledger_window` steps of a run). A calibration (YAML, see experiments/calibration/) names the
targets, the parameters with their prior ranges, the acceptance rule and the sample sizes. This module

1. draws a Latin hypercube sample of the parameters with SALib (seeded), checks every point against
   the schema, writes it as a generated Hydra config group `OUT/conf/sample/r1_sNNNNN.yaml` and runs it
   as one ordinary sweep, `python -m sim -m --config-dir OUT/conf '+sample=glob(r1_*)' seed=...
   hydra.sweep.dir=OUT/runs` (sim.studies.sensitivity's machinery: any launcher, resume, collection);
2. in each later round (`rounds`), samples again around the points closest to the targets so far (the
   closest `focus_quantile`, the "parents"): each new point is a parent plus an offset drawn from a SALib
   Latin hypercube within +/- `focus_margin` of each prior range (as in population Monte Carlo /
   ABC-SMC), run the same way (`r2_*`, `r3_*`): so the matching region is resolved by more than a
   handful of points; each point keeps its `parent`, and its round-1 ancestor is its `lineage`;
3. averages each point's shares over its seeds, computes the standardized distance to the targets and
   applies the acceptance rule: every target within `tolerance` (a box around the review's shares);
   also a rejection-ABC view, the `abc_quantile` closest points of the round-1 (prior) sample;
4. refines: fits a smooth surrogate (scipy RBF, smoothing chosen by cross-validation) of the shares
   over all points and minimizes the distance on it with scipy.optimize (L-BFGS-B, started from the
   closest sampled points), then confirms both the best sampled point and the surrogate's optimum with
   fresh seeds (`c_best`, `c_opt`, one more sweep);
5. writes `OUT/points.csv` (one row per point: parameters, seed-mean shares, distance, acceptance),
   `OUT/region.csv` (accepted ranges per parameter, with a Kolmogorov-Smirnov test of accepted against
   all sampled values: Monte Carlo filtering), `OUT/calibration.json` and the figure
   `OUT/calibration.png`.

`window_start` is the one parameter that is not a config key: the observation window opens at the end
of step `window_start` and lasts `metrics.ledger_window` steps, so a point runs `steps = window_start +
metrics.ledger_window` steps. Notebooks call `load()`: it reads those files and runs the command above
only when they are missing (or were made from another definition or other model overrides).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from sim.config.errors import InputError
from sim.run.io import atomic_path, write_json
from sim.studies.sensitivity import field_type, is_number, parameter_bounds, read_definition, write_point

ROOT = Path(__file__).resolve().parents[2]  # the repository (this file is sim/studies/NAME.py)
DEFAULT_DEFINITION = ROOT / "experiments" / "calibration" / "ledger_shares.yaml"
WINDOW_START = "window_start"  # not a config key: steps = window_start + metrics.ledger_window
WINDOW = "metrics.ledger_window"
LEDGER = ("final.ledger_mixed", "final.ledger_only_positive", "final.ledger_only_negative", "final.ledger_none")
CONFIRM = ("c_best", "c_opt")  # the best sampled point and the surrogate's optimum, rerun with fresh seeds


@dataclasses.dataclass
class Calibration:
    name: str
    parameters: dict[str, tuple[float, float]]
    targets: dict[str, float]
    tolerance: float
    N: int
    seeds: list[int]
    description: str = ""
    studies: int = 51  # the review's sample: scales of the distance, sqrt(p (1 - p) / studies)
    method: str = "latin"
    rounds: int = 2
    focus_quantile: float = 0.05
    focus_margin: float = 0.1
    abc_quantile: float = 0.05
    confirm_seeds: list[int] = dataclasses.field(default_factory=lambda: list(range(100, 110)))
    overrides: list[str] = dataclasses.field(default_factory=list)
    launcher: str = "joblib"
    sample_seed: int = 1
    path: Path | None = None

    @property
    def problem(self) -> dict[str, Any]:
        return {
            "num_vars": len(self.parameters),
            "names": list(self.parameters),
            "bounds": [list(b) for b in self.parameters.values()],
        }

    @property
    def scales(self) -> dict[str, float]:
        """Binomial standard error of each target share measured on `studies` studies."""
        return {k: math.sqrt(p * (1 - p) / self.studies) for k, p in self.targets.items()}

    @property
    def config_keys(self) -> list[str]:
        """The keys each point sets: the parameters, with window_start turned into steps."""
        return [("steps" if k == WINDOW_START else k) for k in self.parameters]

    @property
    def outputs(self) -> list[str]:
        return list(dict.fromkeys([*self.targets, *LEDGER]))


# ---------------------------------------------------------------- the definition

_REQUIRED = ("name", "parameters", "targets", "tolerance", "N", "seeds")


def load_definition(path: str | os.PathLike) -> Calibration:
    """Read and check a calibration definition (one line naming the key at fault otherwise)."""
    path = Path(path)
    where = f"calibration {path}"
    raw = read_definition(path, where, Calibration, _REQUIRED)
    params: dict[str, tuple[float, float]] = {}
    for key, bounds in (raw["parameters"] or {}).items():
        params[key] = parameter_bounds(where, key, bounds, config_key=key != WINDOW_START)
        if key == "steps" and WINDOW_START in raw["parameters"]:
            raise InputError(
                f"{where}: parameters.steps; allowed: not with window_start "
                f"(steps = window_start + metrics.ledger_window)"
            )
    if WINDOW_START in params:
        if WINDOW not in params:
            raise InputError(f"{where}: parameters.window_start needs parameters.{WINDOW} (the window's length)")
        if params[WINDOW_START][0] < 0 or params[WINDOW][0] < 1:
            raise InputError(
                f"{where}: parameters.window_start >= 0 and {WINDOW} >= 1 allowed "
                f"(a window of 0 steps means the whole run)"
            )
    if len(params) < 2:
        raise InputError(f"{where}: parameters: at least 2 needed")
    targets = raw["targets"]
    if not isinstance(targets, dict) or not targets:
        raise InputError(f"{where}: targets: a mapping output: share expected")
    for key, value in targets.items():
        if not (is_number(value) and 0 < value < 1):
            raise InputError(f"{where}: targets.{key}={value!r}; allowed: a share in (0, 1)")
        if not str(key).startswith("final."):
            raise InputError(f"{where}: targets.{key}; allowed: a final.* column of summary.parquet")
    checks = {
        "tolerance": (float, 0.0, 1.0),
        "focus_quantile": (float, 0.0, 1.0),
        "focus_margin": (float, 0.0, 1.0),
        "abc_quantile": (float, 0.0, 1.0),
    }
    for key, (_, lo, hi) in checks.items():
        if key in raw and not (is_number(raw[key]) and lo < raw[key] <= hi):
            raise InputError(f"{where}: {key}={raw[key]!r}; allowed: a number in ({lo}, {hi}]")
    for key, lo in (("N", 2), ("rounds", 1), ("studies", 1)):
        if key in raw and not (isinstance(raw[key], int) and not isinstance(raw[key], bool) and raw[key] >= lo):
            raise InputError(f"{where}: {key}={raw[key]!r}; allowed: an integer >= {lo}")
    if raw.get("method", "latin") != "latin":
        raise InputError(f"{where}: method={raw['method']!r}; allowed: latin")
    for key in ("seeds", "confirm_seeds"):
        if key in raw and not (
            isinstance(raw[key], list)
            and (raw[key] or key == "confirm_seeds")
            and all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in raw[key])
        ):
            raise InputError(
                f"{where}: {key}={raw[key]!r}; allowed: a list of seeds"
                + (" (empty: no confirmation)" if key == "confirm_seeds" else ", not empty")
            )
    sampled = {("steps" if k == WINDOW_START else k) for k in params} | ({"steps"} if WINDOW_START in params else set())
    for o in raw.get("overrides") or []:
        if o.split("=", 1)[0].lstrip("+~") in sampled:
            raise InputError(f"{where}: overrides: {o!r} sets a calibrated key")
    return Calibration(
        **{
            **raw,
            "parameters": params,
            "targets": {str(k): float(v) for k, v in targets.items()},
            "overrides": list(raw.get("overrides") or []),
        },
        path=path,
    )


def _is_int(key: str) -> bool:
    return key in (WINDOW_START, "steps") or field_type(key) is int


def digest(cal: Calibration, extra: list[str] | None = None) -> str:
    """What the outputs were made from: the definition's text and the extra overrides (hydra.* ones aside).

    Launcher and other `hydra...` overrides change how runs are run, not what they give.
    """
    text = cal.path.read_text() if cal.path else json.dumps(dataclasses.asdict(cal), default=str)
    model = [o for o in extra or [] if not o.lstrip("+~").startswith("hydra")]
    return hashlib.sha256((text + "\n" + shlex.join(model)).encode()).hexdigest()[:16]


# ---------------------------------------------------------------- the design


def latin(
    cal: Calibration, bounds: dict[str, tuple[float, float]], n: int, seed: int, round_ints: bool = True
) -> np.ndarray:
    """A SALib Latin hypercube of n points within `bounds` (one column per parameter, ints rounded)."""
    try:
        from SALib.sample import latin as lhs
    except ImportError:
        raise InputError("SALib is not installed: pip install -e '.[sensitivity]'") from None
    problem = {"num_vars": len(bounds), "names": list(bounds), "bounds": [list(b) for b in bounds.values()]}
    x = lhs.sample(problem, n, seed=seed)
    for j, key in enumerate(bounds):
        if round_ints and _is_int(key):
            lo, hi = bounds[key]
            x[:, j] = np.clip(np.round(x[:, j]), math.ceil(lo), math.floor(hi))
    return x


def config_values(cal: Calibration, point: dict[str, float]) -> dict[str, int | float]:
    """The config keys a point sets (window_start becomes steps = window_start + window)."""
    values: dict[str, int | float] = {}
    for key in cal.parameters:
        v = point[key]
        if key == WINDOW_START:
            values["steps"] = int(round(v)) + int(round(point[WINDOW]))
        else:
            values[key] = int(round(v)) if _is_int(key) else float(v)
    return values


def design_round(cal: Calibration, r: int, points: pd.DataFrame | None = None) -> tuple[pd.DataFrame, dict]:
    """Round r's points: `sample` (r<r>_sNNNNN), `round`, one column per parameter and `steps`.

    Round 1 is a Latin hypercube over the priors. A later round needs the `points` so far (with their
    `distance`): its points are the closest `focus_quantile` of them ("parents", in turn) plus offsets
    from a Latin hypercube within +/- `focus_margin` of each prior range, clipped to the priors.
    Returns the points and, for a later round, what it was drawn from.
    """
    names = [f"r{r}_s{i:0{max(5, len(str(cal.N - 1)))}d}" for i in range(cal.N)]
    info: dict[str, Any] = {}
    if r == 1:
        df = pd.DataFrame(latin(cal, cal.parameters, cal.N, cal.sample_seed), columns=list(cal.parameters))
    else:
        if points is None:
            raise ValueError("a later round needs the points so far")
        done = points[points["distance"].notna()].sort_values("distance", kind="stable")
        k = min(len(done), max(len(cal.parameters) + 1, int(math.ceil(cal.focus_quantile * len(done)))))
        if k == 0:
            raise InputError(f"calibration {cal.name}: round {r} needs finished points from earlier rounds")
        parents = done.head(k)
        half = {key: cal.focus_margin * (hi - lo) for key, (lo, hi) in cal.parameters.items()}
        offsets = latin(
            cal, {key: (-1.0, 1.0) for key in cal.parameters}, cal.N, cal.sample_seed + r - 1, round_ints=False
        )
        rows = []
        for i in range(cal.N):
            parent = parents.iloc[i % k]
            row = {}
            for j, (key, (lo, hi)) in enumerate(cal.parameters.items()):
                v = float(np.clip(parent[key] + offsets[i, j] * half[key], lo, hi))
                row[key] = min(max(round(v), math.ceil(lo)), math.floor(hi)) if _is_int(key) else v
            rows.append(row)
        df = pd.DataFrame(rows, columns=list(cal.parameters))
        df["parent"] = [str(parents["sample"].iloc[i % k]) for i in range(cal.N)]
        info = {
            "parents": parents["sample"].astype(str).tolist(),
            "half_width": half,
            "parents_max_distance": float(parents["distance"].max()),
        }
    df.insert(0, "round", r)
    df.insert(0, "sample", names)
    return _with_steps(cal, df), info


def _with_steps(cal: Calibration, df: pd.DataFrame) -> pd.DataFrame:
    if WINDOW_START in cal.parameters:
        df["steps"] = (df[WINDOW_START].round() + df[WINDOW].round()).astype(int)
    for key in cal.parameters:
        if _is_int(key):
            df[key] = df[key].round().astype(int)
    return df


def base_config(cal: Calibration) -> Any:
    """The config every point starts from (the defaults with the calibration's overrides), as a Config."""
    from sim.config.compose import compose_config

    return compose_config(list(cal.overrides))


def check_design(cal: Calibration, design: pd.DataFrame) -> None:
    """Every point, with the calibration's overrides, passes the schema's rules (else one line names it)."""
    from sim.studies.sensitivity import check_sample

    keys = cal.config_keys
    shim = dataclasses.replace(cal, parameters={k: (0.0, 1.0) for k in keys})  # config keys, for check_sample
    x = np.array([[config_values(cal, row)[k] for k in keys] for row in design.to_dict("records")], dtype=float)
    check_sample(shim, x)  # type: ignore[arg-type]


def write_design(cal: Calibration, design: pd.DataFrame, out: Path) -> None:
    """The points as the config group OUT/conf/sample/ (one file each) and OUT/design.csv (all rounds)."""
    group = out / "conf" / "sample"
    group.mkdir(parents=True, exist_ok=True)
    names = set(design["sample"])
    prefixes = {n.split("_", 1)[0] for n in names}
    for stale in group.glob("*.yaml"):
        if stale.stem not in names and stale.stem.split("_", 1)[0] in prefixes:
            stale.unlink()  # a smaller round than last time
    for row in design.to_dict("records"):
        write_point(
            group / f"{row['sample']}.yaml",
            config_values(cal, row),
            f"point {row['sample']} of calibration {cal.name} (round {row['round']}); "
            "generated by sim.studies.calibration",
        )
    with atomic_path(out / "design.csv") as tmp:
        design.to_csv(tmp, index=False)


def sweep_command(cal: Calibration, out: Path, pattern: str, seeds: list[int], extra: list[str]) -> list[str]:
    """The `python -m sim -m ...` command that runs the points matching `pattern` (any launcher)."""
    from sim.studies.sensitivity import sweep_command as sa_sweep_command

    cmd = sa_sweep_command(dataclasses.replace(cal, seeds=seeds), out, extra)  # type: ignore[arg-type]
    return [f"+sample={pattern}" if c == "+sample=glob(*)" else c for c in cmd]


# ---------------------------------------------------------------- distance, acceptance, region


def distance(values: Any, targets: dict[str, float], scales: dict[str, float]) -> np.ndarray:
    """Standardized Euclidean distance to the targets: sqrt(sum(((y - target) / scale)^2)); NaN if any y is."""
    total: float | np.ndarray = 0.0
    for key, t in targets.items():
        y = np.asarray(values[key], dtype=float)
        total = total + ((y - t) / scales[key]) ** 2
    return np.sqrt(np.asarray(total, dtype=float))


def accept(values: Any, targets: dict[str, float], tolerance: float) -> np.ndarray:
    """The acceptance rule: every target within `tolerance` (inclusive); a NaN share is never accepted."""
    ok: Any = True
    for key, t in targets.items():
        y = np.asarray(values[key], dtype=float)
        ok = ok & (np.abs(y - t) <= tolerance + 1e-12)  # & on arrays: NaN compares False
    return np.asarray(ok, dtype=bool)


def read_runs(cal: Calibration, out: Path) -> pd.DataFrame:
    """The calibration's complete runs from OUT/runs/summary.parquet: sample, seed, steps and the ledger shares."""
    import pyarrow.parquet as pq

    path = out / "runs" / "summary.parquet"
    if not path.exists():
        raise InputError(f"no results yet: {path} is missing (run the calibration first)")
    names = pq.read_schema(path).names
    missing = [o for o in cal.outputs if o not in names]
    if missing:
        raise InputError(f"calibration {cal.name}: {path} has no column {missing[0]!r}")
    df = pq.read_table(path, columns=["sample", "seed", "steps", *cal.outputs]).to_pandas()
    df["sample"] = df["sample"].astype(str)
    return df


def point_table(cal: Calibration, design: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    """One row per design point: parameters, seed-mean and sd of each share, distance, acceptance."""
    runs = runs[runs["seed"].isin(cal.seeds) & runs["sample"].isin(design["sample"])]
    g = runs.groupby("sample")[cal.outputs]
    stats = g.mean().join(g.std(ddof=1).add_suffix("_sd")).join(g.size().rename("n_seeds"))
    points = design.set_index("sample").join(stats, how="left")
    points["n_seeds"] = points["n_seeds"].fillna(0).astype(int)
    points["distance"] = distance(points, cal.targets, cal.scales)
    points["accepted"] = accept(points, cal.targets, cal.tolerance)
    points["abc_accepted"] = points["distance"] <= abc_epsilon(cal, points)
    points["lineage"] = lineage(points)
    return points.reset_index()


def lineage(points: pd.DataFrame) -> list[str]:
    """Each point's round-1 ancestor (following `parent`; indexed by sample): the family it belongs to."""
    parent = points["parent"].to_dict() if "parent" in points else {}
    roots = []
    for name in points.index:
        seen = set()
        while isinstance(parent.get(name), str) and name not in seen:
            seen.add(name)
            name = parent[name]
        roots.append(str(name))
    return roots


def abc_epsilon(cal: Calibration, points: pd.DataFrame) -> float:
    """Rejection ABC's threshold: the `abc_quantile` quantile of the distance over the round-1 (prior) sample."""
    first = points.loc[points["round"] == 1, "distance"].dropna()
    return float(np.quantile(first, cal.abc_quantile)) if len(first) else np.nan


def region(cal: Calibration, points: pd.DataFrame, accepted: str = "accepted") -> pd.DataFrame:
    """Per parameter: prior range, accepted range and quantiles, and the KS test accepted vs all sampled."""
    from scipy import stats

    done = points[points["distance"].notna()]
    acc = done[done[accepted]]
    rows = []
    for key, (lo, hi) in cal.parameters.items():
        a = acc[key].to_numpy(float)
        row = {"parameter": key, "prior_low": lo, "prior_high": hi, "sampled": len(done), "accepted": len(a)}
        if len(a):
            q = np.quantile(a, [0.05, 0.5, 0.95])
            ks = stats.ks_2samp(a, done[key].to_numpy(float))
            row |= {
                "min": a.min(),
                "q05": q[0],
                "median": q[1],
                "q95": q[2],
                "max": a.max(),
                "share_of_prior": (q[2] - q[0]) / (hi - lo),
                "ks_D": float(ks.statistic),
                "ks_p": float(ks.pvalue),
            }
        else:
            row |= dict.fromkeys(("min", "q05", "median", "q95", "max", "share_of_prior", "ks_D", "ks_p"), np.nan)
        rows.append(row)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- refinement: surrogate + scipy.optimize


def _unit(cal: Calibration, df: pd.DataFrame) -> np.ndarray:
    lo = np.array([b[0] for b in cal.parameters.values()])
    hi = np.array([b[1] for b in cal.parameters.values()])
    return (df[list(cal.parameters)].to_numpy(float) - lo) / (hi - lo)


def _from_unit(cal: Calibration, u: np.ndarray) -> dict[str, float]:
    point = {}
    for j, (key, (lo, hi)) in enumerate(cal.parameters.items()):
        v = lo + float(np.clip(u[j], 0, 1)) * (hi - lo)
        point[key] = float(round(v)) if _is_int(key) else v
    return point


def surrogate(cal: Calibration, points: pd.DataFrame, folds: int = 5, seed: int = 0):
    """A smooth fit of the seed-mean target shares over the (unit-scaled) parameters, or None if too few points.

    scipy's RBFInterpolator (thin-plate spline, linear tail); the smoothing is chosen from a grid by
    k-fold cross-validation. Returns (predict, info) with info = smoothing and the cross-validated RMSE
    of each share, over all points and over the closest quarter (where the optimizer looks).
    """
    from scipy.interpolate import RBFInterpolator

    done = points[points["distance"].notna()]
    d = len(cal.parameters)
    if len(done) < 5 * (d + 2):
        return None, {"reason": f"{len(done)} points: too few for a surrogate (needs {5 * (d + 2)})"}
    x, y = _unit(cal, done), done[list(cal.targets)].to_numpy(float)
    order = np.random.default_rng(seed).permutation(len(x))
    fold_of = np.empty(len(x), int)
    fold_of[order] = np.arange(len(x)) % folds
    near = (done["distance"] <= done["distance"].quantile(0.25)).to_numpy()
    best = None
    for s in (1e-4, 1e-3, 1e-2, 1e-1, 1.0):
        err = np.zeros_like(y)
        for f in range(folds):
            test = fold_of == f
            fit = RBFInterpolator(x[~test], y[~test], kernel="thin_plate_spline", degree=1, smoothing=s)
            err[test] = fit(x[test]) - y[test]
        rmse = np.sqrt((err**2).mean(axis=0))
        if best is None or rmse.mean() < best[1].mean():
            best = (s, rmse, np.sqrt((err[near] ** 2).mean(axis=0)))
    best = cast(tuple[float, np.ndarray, np.ndarray], best)  # set by the first smoothing tried
    fit = RBFInterpolator(x, y, kernel="thin_plate_spline", degree=1, smoothing=best[0])
    info = {
        "kind": "RBFInterpolator(thin_plate_spline, degree=1)",
        "smoothing": best[0],
        "cv_rmse": dict(zip(cal.targets, map(float, best[1]), strict=True)),
        "cv_rmse_closest_quarter": dict(zip(cal.targets, map(float, best[2]), strict=True)),
        "points": len(done),
    }
    return (lambda u: fit(np.atleast_2d(u))), info


def refine(cal: Calibration, points: pd.DataFrame, starts: int = 5) -> dict[str, Any]:
    """The best sampled point, and the surrogate's minimum of the distance (L-BFGS-B from the closest points)."""
    from scipy.optimize import minimize

    done = points[points["distance"].notna()].sort_values("distance")
    if done.empty:
        raise InputError(f"calibration {cal.name}: no point has a complete run yet")
    best = done.iloc[0]
    result: dict[str, Any] = {
        "best": {
            "sample": best["sample"],
            "point": {k: _plain(best[k]) for k in cal.parameters},
            "shares": {k: float(best[k]) for k in cal.targets},
            "distance": float(best["distance"]),
        }
    }
    predict, info = surrogate(cal, points)
    result["surrogate"] = info
    if predict is None:
        result["optimum"] = {**result["best"], "method": "best sampled point (no surrogate)"}
        return result
    t = np.array(list(cal.targets.values()))
    s = np.array([cal.scales[k] for k in cal.targets])

    def objective(u: np.ndarray) -> float:
        return float((((predict(u)[0] - t) / s) ** 2).sum())

    fits = [
        minimize(objective, u0, method="L-BFGS-B", bounds=[(0.0, 1.0)] * len(cal.parameters))
        for u0 in _unit(cal, done.head(starts))
    ]
    top = min(fits, key=lambda f: f.fun)
    point = _from_unit(cal, top.x)
    u = _unit(cal, pd.DataFrame([point]))[0]  # rounded ints: predict where it will run
    pred = predict(u)[0]
    result["optimum"] = {
        "point": point,
        "predicted": dict(zip(cal.targets, map(float, pred), strict=True)),
        "predicted_distance": float(np.sqrt(objective(u))),
        "method": f"scipy.optimize.minimize(L-BFGS-B) on the surrogate from the {len(fits)} closest sampled points",
        "converged": bool(top.success),
    }
    return result


def _plain(v: Any) -> int | float:
    v = float(v)
    return int(v) if v.is_integer() else v


def confirm_design(cal: Calibration, refined: dict[str, Any]) -> pd.DataFrame:
    """The two confirmation points as design rows (round 0): c_best and c_opt."""
    rows = [
        {"sample": name, "round": 0, **refined[key]["point"]}
        for name, key in zip(CONFIRM, ("best", "optimum"), strict=True)
    ]
    return _with_steps(cal, pd.DataFrame(rows))


def confirm_table(cal: Calibration, runs: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Mean and t-interval of each target share at the confirmation points, over the fresh seeds."""
    from sim.studies.experiments import mean_ci

    rows = []
    for name in CONFIRM:
        part = runs[(runs["sample"] == name) & runs["seed"].isin(cal.confirm_seeds)]
        row: dict[str, Any] = {"sample": name, "n_seeds": len(part)}
        for key in cal.outputs:
            m, lo, hi = mean_ci(part[key], level)
            row |= {key: m, f"{key}_lo": lo, f"{key}_hi": hi}
        rows.append(row)
    df = pd.DataFrame(rows)
    df["distance"] = distance(df, cal.targets, cal.scales)
    df["accepted"] = accept(df, cal.targets, cal.tolerance)
    return df


# ---------------------------------------------------------------- reading a finished calibration


@dataclasses.dataclass
class Result:
    cal: Calibration
    out: Path
    design: pd.DataFrame  # every point of every round (and the confirmation points, round 0)
    runs: pd.DataFrame  # one row per complete run: sample, seed, steps, the ledger shares
    points: pd.DataFrame  # one row per sampled point (rounds >= 1): seed means, distance, acceptance
    region: pd.DataFrame  # the accepted region per parameter
    summary: dict[str, Any]  # calibration.json: later rounds' parents, refinement, counts
    confirm: pd.DataFrame  # the confirmation points over fresh seeds


def analyze(cal: Calibration, out: Path) -> Result:
    """Read a calibration's outputs (design.csv, runs/summary.parquet, calibration.json): nothing runs."""
    design = pd.read_csv(out / "design.csv", dtype={"sample": str})
    runs = read_runs(cal, out)
    sampled = design[design["round"] >= 1]
    points = point_table(cal, sampled, runs)
    summary = json.loads((out / "calibration.json").read_text()) if (out / "calibration.json").exists() else {}
    return Result(cal, out, design, runs, points, region(cal, points), summary, confirm_table(cal, runs))


def command(definition: str | os.PathLike, out: Path, extra: list[str] | None = None) -> list[str]:
    """The command that produces a calibration's outputs (what a notebook runs if they are missing)."""
    return [sys.executable, "-m", "sim.studies.calibration", str(definition), "--out", str(out), *(extra or [])]


def load(definition: str | os.PathLike | None = None, run_if_missing: bool = True) -> Result:
    """A finished calibration's outputs, produced first by `command()` if missing or made from another definition.

    The definition is `definition`, else $SIM_CALIBRATION, else experiments/calibration/ledger_shares.yaml;
    outputs live in $SIM_EXPERIMENTS_DIR/NAME (default outputs/experiments/NAME) and
    $SIM_EXPERIMENT_OVERRIDES is added to every run (sim.studies.experiments).
    """
    from sim.studies.experiments import experiments_dir, extra_overrides

    definition = Path(definition or os.environ.get("SIM_CALIBRATION") or DEFAULT_DEFINITION).resolve()
    cal = load_definition(definition)
    out = experiments_dir() / cal.name
    extra = extra_overrides()
    stamp = out / "calibration.json"
    current = stamp.exists() and json.loads(stamp.read_text()).get("digest") == digest(cal, extra)
    if not current:
        cmd = command(definition, out, extra)
        if not run_if_missing:
            raise FileNotFoundError(f"{stamp} is missing or stale: run {shlex.join(cmd)}")
        print("outputs missing; running:", shlex.join(cmd), flush=True)
        subprocess.run(cmd, check=True, cwd=ROOT)
    return analyze(cal, out)


# ---------------------------------------------------------------- figures


def plot_plane(ax: Any, res: Result, color_by: str | None = WINDOW) -> None:
    """The sampled points in the (mixed, only positive) plane: target, tolerance box, accepted, confirmation."""
    from matplotlib.patches import Rectangle

    cal, pts = res.cal, res.points.dropna(subset=["distance"])
    (kx, tx), (ky, ty) = list(cal.targets.items())[:2]
    rej = pts[~pts["accepted"]]
    if color_by in pts:
        sc = ax.scatter(
            rej[kx],
            rej[ky],
            c=rej[color_by],
            s=10,
            cmap="viridis",
            alpha=0.55,
            lw=0,
            vmin=pts[color_by].min(),
            vmax=pts[color_by].max(),
        )
        ax.figure.colorbar(sc, ax=ax, label=f"{color_by} (rejected points)", shrink=0.8)
    else:
        ax.scatter(rej[kx], rej[ky], s=10, color="0.6", alpha=0.6, lw=0)
    acc = pts[pts["accepted"]]
    ax.scatter(
        acc[kx],
        acc[ky],
        s=26,
        facecolor="none",
        edgecolor="#d7301f",
        lw=1.2,
        label=f"accepted ({len(acc)} of {len(pts)})",
    )
    tol = cal.tolerance
    ax.add_patch(
        Rectangle(
            (tx - tol, ty - tol),
            2 * tol,
            2 * tol,
            fill=False,
            ls="--",
            color="k",
            lw=1,
            label=f"tolerance box (+/- {tol:g})",
        )
    )
    ax.plot(tx, ty, marker="*", ms=16, color="k", ls="none", label=f"review: {tx:.0%} mixed, {ty:.0%} only positive")
    for (_, c), marker in zip(res.confirm.iterrows(), ("s", "D"), strict=True):
        if c["n_seeds"]:
            ax.errorbar(
                c[kx],
                c[ky],
                xerr=[[c[kx] - c[f"{kx}_lo"]], [c[f"{kx}_hi"] - c[kx]]],
                yerr=[[c[ky] - c[f"{ky}_lo"]], [c[f"{ky}_hi"] - c[ky]]],
                marker=marker,
                ms=7,
                color="#2166ac" if c["sample"] == "c_best" else "#e08214",
                capsize=2,
                ls="none",
                label=f"{c['sample']}: {c['n_seeds']} fresh seeds, 95% CI",
            )
    ax.set(
        xlabel=f"{kx} (share of agents, seed mean)",
        ylabel=f"{ky} (share of agents, seed mean)",
        xlim=(-0.02, 1.02),
        ylim=(-0.02, 1.02),
    )
    ax.legend(fontsize=7, loc="upper right")


def plot_marginals(axes: Any, res: Result) -> None:
    """One panel per parameter: all sampled values against the accepted ones (KS statistic in the title)."""
    pts = res.points.dropna(subset=["distance"])
    reg = res.region.set_index("parameter")
    for ax, (key, (lo, hi)) in zip(np.ravel(axes), res.cal.parameters.items(), strict=False):
        bins = np.linspace(lo, hi, 16)
        ax.hist(pts[key], bins=bins, color="0.75", label="sampled (all rounds)")
        acc = pts.loc[pts["accepted"], key]
        ax.hist(acc, bins=bins, color="#d7301f", label="accepted")
        ks = reg.loc[key, "ks_D"]
        ax.set_title(f"{key}" + (f"  (KS D = {ks:.2f})" if np.isfinite(ks) else ""), fontsize=8)
        ax.set_xlabel(key, fontsize=8)
        ax.set_ylabel("points", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in np.ravel(axes)[len(res.cal.parameters) :]:
        ax.set_visible(False)
    np.ravel(axes)[0].legend(fontsize=7)


def plot_windows(ax: Any, res: Result, exposure: Any = None) -> None:
    """The accepted observation windows [window_start, window_start + window] on the run's time axis."""
    pts = res.points.dropna(subset=["distance"])
    acc = pts[pts["accepted"]].sort_values(WINDOW_START)
    if exposure is not None:
        from sim.step.exposure import level

        t = np.arange(0, int(pts["steps"].max()) + 1)
        ax2 = ax.twinx()
        ax2.fill_between(t, [level(int(s), exposure) for s in t], step="post", color="0.85", zorder=0)
        ax2.set_ylabel("exposure E(t) (shaded)")
        ax.set_zorder(ax2.get_zorder() + 1)
        ax.patch.set_visible(False)
    rej = pts[~pts["accepted"]]
    ax.scatter(
        rej[WINDOW_START] + rej[WINDOW] / 2, rej[WINDOW], s=5, color="0.55", alpha=0.5, label="sampled windows (centre)"
    )
    for _, p in acc.iterrows():
        ax.plot(
            [p[WINDOW_START], p[WINDOW_START] + p[WINDOW]], [p[WINDOW], p[WINDOW]], color="#d7301f", lw=1.2, alpha=0.8
        )
    ax.plot([], [], color="#d7301f", label=f"accepted windows ({len(acc)})")
    ax.set(
        xlabel="step (working day); window from window_start to window_start + window",
        ylabel="window length metrics.ledger_window (steps)",
    )
    ax.legend(fontsize=7, loc="upper left")


def figure(res: Result, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(res.cal.parameters)
    cols = 4
    rows = 1 + math.ceil(n / cols)
    fig = plt.figure(figsize=(13, 4.6 + 2.6 * (rows - 1)))
    grid = fig.add_gridspec(rows, cols, height_ratios=[1.8] + [1] * (rows - 1))
    plot_plane(fig.add_subplot(grid[0, :2]), res)
    if WINDOW_START in res.cal.parameters:
        plot_windows(fig.add_subplot(grid[0, 2:]), res)
    axes = np.array([fig.add_subplot(grid[1 + i // cols, i % cols]) for i in range(n)])
    plot_marginals(axes, res)
    fig.suptitle(
        f"{res.cal.name}: {int(res.points['accepted'].sum())} of {int(res.points['distance'].notna().sum())} "
        f"points within +/- {res.cal.tolerance:g} of the review's shares",
        fontsize=10,
    )
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)


# ---------------------------------------------------------------- the command


def _sweep(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, check=False)
    if proc.returncode:
        raise SystemExit(f"error: the sweep failed (exit {proc.returncode}); rerun to resume")


def run(cal: Calibration, out: Path, extra: list[str], dry_run: bool = False) -> None:
    """Every round, then the confirmation: each one ordinary sweep into OUT/runs."""
    sampled = {*cal.config_keys, "steps"} if WINDOW_START in cal.parameters else set(cal.config_keys)
    for o in extra:
        if o.split("=", 1)[0].lstrip("+~") in sampled:
            raise InputError(f"override {o!r} sets a calibrated key: the design sets it at every point")
    design = pd.DataFrame()
    focus: dict[str, Any] = {}
    for r in range(1, cal.rounds + 1):
        so_far = point_table(cal, design, read_runs(cal, out)) if r > 1 else None
        part, focus[f"round_{r}"] = design_round(cal, r, so_far)
        check_design(cal, part)
        design = pd.concat([design, part], ignore_index=True)
        write_design(cal, design, out)
        cmd = sweep_command(cal, out, f"glob(r{r}_*)", cal.seeds, extra)
        print(
            f"{cal.name}: round {r} of {cal.rounds}: {cal.N} points x {len(cal.seeds)} seed(s) = "
            f"{cal.N * len(cal.seeds)} runs",
            flush=True,
        )
        if dry_run:
            print(shlex.join(cmd))
            if r < cal.rounds:
                print(f"(round {r + 1} is drawn from round {r}'s results: not shown)")
            return
        _sweep(cmd)
    points = point_table(cal, design, read_runs(cal, out))
    refined = refine(cal, points)
    if cal.confirm_seeds:
        extra_rows = confirm_design(cal, refined)
        check_design(cal, extra_rows)
        write_design(cal, pd.concat([design, extra_rows], ignore_index=True), out)
        print(f"{cal.name}: confirmation: {len(CONFIRM)} points x {len(cal.confirm_seeds)} fresh seeds", flush=True)
        _sweep(sweep_command(cal, out, "glob(c_*)", cal.confirm_seeds, extra))
    summary = {
        "name": cal.name,
        "digest": digest(cal, extra),
        "extra_overrides": extra,
        "targets": cal.targets,
        "tolerance": cal.tolerance,
        "scales": cal.scales,
        "focus": focus,
        "refine": refined,
    }
    write_json(out / "calibration.json", summary)  # written before analyze, which reads it


def report(res: Result) -> dict[str, Any]:
    """The numbers of a finished calibration (also stored in calibration.json)."""
    pts = res.points
    first = pts[pts["round"] == 1]
    return {
        "points": int(pts["distance"].notna().sum()),
        "runs": int(len(res.runs)),
        "accepted": int(pts["accepted"].sum()),
        "accepted_round_1": f"{int(first['accepted'].sum())} of {int(first['distance'].notna().sum())}",
        "abc_epsilon": abc_epsilon(res.cal, pts),
        "abc_accepted": int(pts["abc_accepted"].sum()),
        "confirm": res.confirm.to_dict("records"),
        "region": res.region.to_dict("records"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.studies.calibration", description=__doc__.splitlines()[0])
    parser.add_argument("definition", type=Path, help="calibration definition (YAML)")
    parser.add_argument("--out", type=Path, help="output directory (default: outputs/experiments/NAME)")
    parser.add_argument("--dry-run", action="store_true", help="write round 1 and print its sweep command")
    parser.add_argument("--analyze-only", action="store_true", help="recompute the tables from finished runs")
    parser.add_argument("overrides", nargs="*", help="extra overrides for every run (e.g. hydra/launcher=ray)")
    args = parser.parse_intermixed_args(argv)
    from sim.studies.experiments import experiments_dir

    try:
        cal = load_definition(args.definition)
        out = (args.out or experiments_dir() / cal.name).resolve()
        if not args.analyze_only:
            run(cal, out, list(args.overrides), args.dry_run)
            if args.dry_run:
                return 0
        res = analyze(cal, out)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    numbers = report(res)
    summary = {**res.summary, "result": numbers}
    write_json(out / "calibration.json", summary)
    with atomic_path(out / "points.csv") as tmp:
        res.points.to_csv(tmp, index=False)
    with atomic_path(out / "region.csv") as tmp:
        res.region.to_csv(tmp, index=False)
    figure(res, out / "calibration.png")
    print(
        f"accepted: {numbers['accepted']} of {numbers['points']} points (round 1, the prior sample: "
        f"{numbers['accepted_round_1']}); tolerance +/- {cal.tolerance:g} on "
        + ", ".join(f"{k} = {v:g}" for k, v in cal.targets.items())
    )
    cols = ["parameter", "prior_low", "prior_high", "accepted", "q05", "median", "q95", "ks_D", "ks_p"]
    print(res.region[cols].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print(
        res.confirm[["sample", "n_seeds", *cal.targets, "distance", "accepted"]].to_string(
            index=False, float_format=lambda v: f"{v:.3f}"
        )
    )
    print(
        f"tables: {out / 'points.csv'}, {out / 'region.csv'}, {out / 'calibration.json'}; "
        f"plot: {out / 'calibration.png'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
