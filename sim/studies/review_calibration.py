"""Calibrate the model against the review's patterns at once, with a posterior: ABC-SMC with pyABC.

    python -m sim.studies.review_calibration [DEFINITION.yaml] [--out DIR] [--workers N]
        [--scheduler tcp://HOST:PORT | --local-dask N] [--analyze-only] [--generations G] [--particles P]

The definition (default `experiments/calibration/review.yaml`) names the model's overrides, the
parameters with their uniform priors (config keys, and `obs.KEY` for the virtual review's observation
model, `sim.review.observation`), the patterns (each a statistic of `sim.studies.patterns` with a target
and a scale, or a one-sided bound), and the ABC settings. This module

1. runs ABC-SMC (Beaumont et al. 2009; Del Moral et al. 2012) with pyABC: a population of particles
   per generation, each a parameter point drawn from the previous generation and perturbed
   (multivariate normal kernel), accepted when its distance to the review's patterns is below the
   generation's epsilon (the median of the previous generation's distances);
2. evaluates each particle with one or more model runs (`sim.studies.patterns.simulate`, seeds derived
   from the particle's parameters, so a particle's statistics are a function of its parameters), on
   pyABC's multicore sampler (`--workers`) or on a Dask cluster (`--scheduler`, or `--local-dask N`
   for a local cluster on 127.0.0.1);
3. stores every generation in pyABC's history database `OUT/abc.db`: a killed calibration resumes from
   its last complete generation when run again with the same definition;
4. writes `OUT/posterior.parquet` (the last generation's particles, weights and distances),
   `OUT/populations.parquet` (every generation), `OUT/posterior_summary.json` (per parameter: prior,
   weighted median, mode, 90% interval, and the identifiability ratio: posterior 90% width over prior
   width; the run's wall time, generations, epsilons and model runs), `OUT/posterior.png` (marginal and
   pairwise posteriors) and, with fresh seeds, the posterior predictive check
   `OUT/predictive.parquet` and `OUT/predictive.png` (does the calibrated model reproduce each pattern?).

The distance is the Euclidean norm of one term per pattern: (statistic - target) / scale for a target,
max(0, bound - statistic) / scale for `above: bound` (and the mirror for `below`), `NAN_TERM` when the
statistic is undefined. The scales of the review's three shares are their sampling errors in 51
studies, sqrt(p (1 - p) / 51); the others are stated in the definition with a reason.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import hashlib
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from sim.config.errors import InputError
from sim.review.observation import Observation, from_overrides, parameter_rows
from sim.run.io import atomic_path, write_json
from sim.studies.naming import check_out
from sim.studies.patterns import STATS, describe, simulate
from sim.studies.sensitivity import is_number, parameter_bounds, read_definition

ROOT = Path(__file__).resolve().parents[2]  # the repository (this file is sim/studies/NAME.py)
DEFAULT_DEFINITION = ROOT / "experiments" / "calibration" / "review.yaml"
OBS = "obs."  # prefix of an observation-model parameter in `parameters`
NAN_TERM = 10.0  # the distance term of an undefined statistic (e.g. no resisters): far, but finite
PREDICTIVE_SEED = 1_000_000  # fresh seeds of the predictive check start here
TRANSITIONS = ("multivariate_normal", "local")


@dataclasses.dataclass
class Pattern:
    stat: str
    scale: float
    target: float | None = None
    above: float | None = None
    below: float | None = None
    why: str = ""

    def term(self, value: float) -> float:
        if not math.isfinite(value):
            return NAN_TERM
        if self.target is not None:
            return (value - self.target) / self.scale
        if self.above is not None:
            return max(0.0, self.above - value) / self.scale
        return max(0.0, value - cast(float, self.below)) / self.scale

    def holds(self, value: float, tolerance: float = 1.0) -> bool:
        """Whether a statistic meets the pattern: within `tolerance` scales of a target, or on the right side."""
        return math.isfinite(value) and abs(self.term(value)) <= (tolerance if self.target is not None else 0.0)

    def text(self) -> str:
        if self.target is not None:
            return f"= {self.target:g} (scale {self.scale:g})"
        return f"> {self.above:g}" if self.above is not None else f"< {self.below:g}"


@dataclasses.dataclass
class Definition:
    name: str
    parameters: dict[str, tuple[float, float]]
    patterns: list[Pattern]
    model: list[str] = dataclasses.field(default_factory=list)
    observation: dict[str, float] = dataclasses.field(default_factory=dict)
    particles: int = 100
    generations: int = 6
    min_epsilon: float = 0.0
    seeds: int = 1
    corpora: int = 20
    predictive: int = 30
    transition: str = "multivariate_normal"  # pyABC's perturbation: multivariate_normal or local (k nearest neighbours)
    scaling: float = 1.0  # factor on the perturbation kernel's bandwidth
    screen: dict[str, tuple[float, float]] = dataclasses.field(default_factory=dict)  # Morris candidates
    seed: int = 0
    description: str = ""
    path: str = ""

    def digest(self) -> str:
        """What decides each generation (not the path, the description, the predictive size, nor when to stop)."""
        skip = ("path", "description", "predictive", "generations", "min_epsilon", "screen")
        keep = {k: v for k, v in dataclasses.asdict(self).items() if k not in skip}
        return hashlib.sha256(json.dumps(keep, sort_keys=True, default=str).encode()).hexdigest()[:16]


def load_definition(path: str | os.PathLike) -> Definition:
    """Read and check a definition; bad input raises `InputError` with one line naming the key."""
    path = Path(path)
    where = f"calibration {path}"
    raw = read_definition(path, where, Definition, ("name", "parameters", "patterns"))
    if not isinstance(raw["parameters"], dict) or not raw["parameters"]:
        raise InputError(f"{where}: parameters must map keys to [low, high]")
    obs_keys = {r["key"] for r in parameter_rows()}

    def ranges(section: dict[str, Any], what: str) -> dict[str, tuple[float, float]]:
        """[low, high] of each key: a config key, or obs.<an observation parameter>."""
        out: dict[str, tuple[float, float]] = {}
        for key, bounds in section.items():
            if key.startswith(OBS) and key[len(OBS) :] not in obs_keys:
                raise InputError(f"{where}: unknown {what} {key!r}; allowed: obs.<{', '.join(sorted(obs_keys))}>")
            out[key] = parameter_bounds(where, key, bounds, config_key=not key.startswith(OBS))
        return out

    params = ranges(raw["parameters"], "parameter")
    screen = ranges(raw.get("screen") or {}, "screen key")
    patterns = []
    if not isinstance(raw["patterns"], list) or not raw["patterns"]:
        raise InputError(f"{where}: patterns must be a list of {{stat, target | above | below, scale}}")
    for i, p in enumerate(raw["patterns"]):
        at = f"{where}: patterns[{i}]"
        if not isinstance(p, dict) or p.get("stat") not in STATS:
            raise InputError(f"{at}.stat={p.get('stat') if isinstance(p, dict) else p!r}; allowed: {', '.join(STATS)}")
        unknown = set(p) - {f.name for f in dataclasses.fields(Pattern)}
        if unknown:
            raise InputError(
                f"{at}: unknown key {sorted(unknown)[0]!r}; allowed: stat, target, above, below, scale, why"
            )
        given = [k for k in ("target", "above", "below") if p.get(k) is not None]
        if len(given) != 1 or not is_number(p[given[0]]):
            raise InputError(f"{at}: exactly one of target, above, below must be a number; got {given or 'none'}")
        if not (is_number(p.get("scale")) and p["scale"] > 0):
            raise InputError(f"{at}.scale={p.get('scale')!r}; allowed: a number > 0")
        patterns.append(Pattern(**p))
    ints = {"particles": 2, "generations": 1, "seeds": 1, "corpora": 1, "predictive": 0, "seed": 0}
    for key, lo in ints.items():
        if key in raw and not (isinstance(raw[key], int) and not isinstance(raw[key], bool) and raw[key] >= lo):
            raise InputError(f"{where}: {key}={raw[key]!r}; allowed: an integer >= {lo}")
    if raw.get("transition", "multivariate_normal") not in TRANSITIONS:
        raise InputError(f"{where}: transition={raw['transition']!r}; allowed: {', '.join(TRANSITIONS)}")
    if "scaling" in raw and not (is_number(raw["scaling"]) and raw["scaling"] > 0):
        raise InputError(f"{where}: scaling={raw['scaling']!r}; allowed: a number > 0")
    model = raw.get("model", [])
    if not (isinstance(model, list) and all(isinstance(m, str) and "=" in m for m in model)):
        raise InputError(f"{where}: model={model!r}; allowed: a list of key=value overrides")
    observation = raw.get("observation", {}) or {}
    defn = Definition(
        **{k: v for k, v in raw.items() if k not in ("parameters", "patterns", "model", "observation", "screen")},
        parameters=params,
        screen=screen,
        patterns=patterns,
        model=list(model),
        observation=dict(observation),
        path=str(path),
    )
    base_config(defn)  # the overrides compose and validate
    observation_for(defn, {})
    return defn


def base_config(defn: Definition) -> Any:
    """The composed, validated config of the definition's model overrides (composed once per process)."""
    return _composed(tuple(defn.model))


@functools.lru_cache(maxsize=8)
def _composed(model: tuple[str, ...]) -> Any:
    from sim.config.compose import compose

    return compose(list(model))  # callers copy it (with_values) before changing it


def observation_for(defn: Definition, point: dict[str, float]) -> Observation:
    """The observation model of a particle: the definition's fixed values, then the particle's `obs.*`."""
    values = {**defn.observation, **{k[len(OBS) :]: v for k, v in point.items() if k.startswith(OBS)}}
    return from_overrides([f"{k}={v}" for k, v in values.items()])


def config_for(defn: Definition, point: dict[str, float], seed: int) -> Any:
    from sim.config.compose import with_values
    from sim.config.params import validate

    values = {k: v for k, v in point.items() if not k.startswith(OBS)}
    cfg = with_values(base_config(defn), {**values, "seed": seed})
    return validate(cfg)


def particle_seed(defn: Definition, point: dict[str, float], k: int = 0) -> int:
    """The model seed of a particle's k-th run: a hash of its parameters and the definition's seed."""
    text = json.dumps({"seed": defn.seed, "k": k, **{n: float(point[n]) for n in sorted(point)}}, sort_keys=True)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")


def evaluate(defn: Definition, point: dict[str, float], seeds: list[int]) -> dict[str, float]:
    """The pattern statistics at a parameter point, averaged over model runs with `seeds`."""
    obs = observation_for(defn, point)
    runs = [simulate(config_for(defn, point, s), obs, corpora=defn.corpora) for s in seeds]
    return {
        k: float(np.nanmean([r[k] for r in runs])) if any(math.isfinite(r[k]) for r in runs) else math.nan
        for k in STATS
    }


def _evaluate_one_thread(defn: Definition, point: dict[str, float], seeds: list[int]) -> dict[str, float]:
    """`evaluate` in a worker process that shares the cores with others: one numba thread."""
    import numba

    numba.set_num_threads(1)
    return evaluate(defn, point, seeds)


def distance(defn: Definition, stats: dict[str, float]) -> float:
    return float(math.sqrt(sum(p.term(float(stats[p.stat])) ** 2 for p in defn.patterns)))


def observed(defn: Definition) -> dict[str, float]:
    """PyABC's 'observed data': the targets (bounds for one-sided patterns); the distance reads the patterns."""
    out = {s: math.nan for s in STATS}
    for p in defn.patterns:
        out[p.stat] = next(v for v in (p.target, p.above, p.below) if v is not None)
    return out


# pyABC -----------------------------------------------------------------------------------------------
def _safe(key: str) -> str:
    return key.replace(".", "__")


class Model:
    """pyABC's model: a picklable callable from a particle's parameters to its pattern statistics.

    `threads`: numba threads in the process that evaluates (1 when several processes share the cores:
    their parallel loops would otherwise oversubscribe them, several times slower in total).
    """

    def __init__(self, defn: Definition, threads: int | None = None) -> None:
        self.defn = defn
        self.threads = threads

    def __call__(self, par: dict[str, float]) -> dict[str, float]:
        if self.threads is not None:
            import numba

            numba.set_num_threads(self.threads)
        point = {k: float(par[_safe(k)]) for k in self.defn.parameters}
        seeds = [particle_seed(self.defn, point, k) for k in range(self.defn.seeds)]
        return evaluate(self.defn, point, seeds)


class Distance:
    def __init__(self, defn: Definition) -> None:
        self.defn = defn

    def __call__(self, x: dict[str, float], x_0: dict[str, float]) -> float:
        return distance(self.defn, x)


def prior(defn: Definition) -> Any:
    import pyabc

    return pyabc.Distribution(**{_safe(k): pyabc.RV("uniform", lo, hi - lo) for k, (lo, hi) in defn.parameters.items()})


def transition(defn: Definition) -> Any:
    """PyABC's perturbation kernel: a multivariate normal fitted to the last generation, or local covariances."""
    import pyabc

    if defn.transition == "local":
        return pyabc.LocalTransition(scaling=defn.scaling)
    return pyabc.MultivariateNormalTransition(scaling=defn.scaling)


def sampler(workers: int, scheduler: str | None = None, local_dask: int = 0) -> Any:
    """PyABC's multicore sampler (`workers` processes; 1: in this process), or its Dask sampler."""
    import pyabc

    if scheduler or local_dask:
        from distributed import Client, LocalCluster

        if scheduler:
            client = Client(scheduler)
        else:
            cluster = LocalCluster(n_workers=local_dask, threads_per_worker=1, host="127.0.0.1", dashboard_address=None)
            client = Client(cluster)
        return pyabc.sampler.DaskDistributedSampler(dask_client=client, batch_size=1)
    if workers <= 1:
        return pyabc.sampler.SingleCoreSampler()
    return pyabc.sampler.MulticoreEvalParallelSampler(n_procs=workers)


def _db(out: Path) -> str:
    return f"sqlite:///{(out / 'abc.db').resolve()}"


def run_abc(defn: Definition, out: Path, smp: Any, log: Any = print, threads: int | None = None) -> dict[str, Any]:
    """Run (or resume) ABC-SMC into OUT/abc.db; returns what the run took (wall time, generations, runs)."""
    import pyabc

    out.mkdir(parents=True, exist_ok=True)
    marker = out / "definition.json"
    db = out / "abc.db"
    if db.exists():
        stored = json.loads(marker.read_text()) if marker.exists() else {}
        if stored.get("digest") != defn.digest():
            raise InputError(
                f"{out}: holds a calibration of another definition (digest {stored.get('digest')!r}, this one "
                f"{defn.digest()!r}); allowed: the same definition (to resume) or another --out"
            )
    np.random.seed(defn.seed % 2**32)  # pyABC draws its particles from numpy's global generator
    abc = pyabc.ABCSMC(
        Model(defn, threads),
        prior(defn),
        Distance(defn),
        population_size=defn.particles,
        sampler=smp,
        transitions=transition(defn),
    )
    t0 = time.perf_counter()
    if db.exists():
        history = abc.load(_db(out), 1)
        done = history.max_t + 1
        log(f"resuming {out}: {done} of {defn.generations} generations done")
    else:
        write_json(marker, {"digest": defn.digest(), "definition": dataclasses.asdict(defn)})
        history = abc.new(_db(out), observed(defn))
        done = 0
    remaining = defn.generations - done
    if remaining > 0:
        abc.run(minimum_epsilon=defn.min_epsilon, max_nr_populations=remaining)
    took = time.perf_counter() - t0
    history = pyabc.History(_db(out))
    previous = json.loads((out / "timing.json").read_text()) if (out / "timing.json").exists() else {}
    timing = {
        "wall_seconds": float(previous.get("wall_seconds", 0.0)) + (took if remaining > 0 else 0.0),
        "model_runs": int(history.total_nr_simulations) * defn.seeds,
        "evaluations": int(history.total_nr_simulations),
        "generations": int(history.max_t + 1),
    }
    write_json(out / "timing.json", timing)
    return timing


def populations(defn: Definition, out: Path) -> pd.DataFrame:
    """Every generation's particles: parameters (config keys), weight, distance, generation."""
    import pyabc

    history = pyabc.History(_db(out))
    frames = []
    for t in range(history.max_t + 1):
        df, w = history.get_distribution(m=0, t=t)
        d = history.get_weighted_distances(t=t)
        frame = pd.DataFrame({k: df[_safe(k)].to_numpy() for k in defn.parameters})
        frame["weight"] = np.asarray(w, dtype=np.float64)
        frame["distance"] = d["distance"].to_numpy() if len(d) == len(frame) else np.nan
        frame["generation"] = t
        frames.append(frame)
    pops = pd.concat(frames, ignore_index=True)
    eps = history.get_all_populations()
    pops.attrs["epsilons"] = {int(r.t): float(r.epsilon) for r in eps.itertuples() if r.t >= 0}
    pops.attrs["samples"] = {int(r.t): int(r.samples) for r in eps.itertuples() if r.t >= 0}  # particles evaluated
    return pops


def weighted_quantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    order = np.argsort(x)
    cw = np.cumsum(w[order])
    return float(np.interp(q * cw[-1], cw - w[order] / 2, x[order]))


def summarize_posterior(defn: Definition, post: pd.DataFrame) -> dict[str, Any]:
    """Per parameter: prior, weighted median, mode (the peak of a weighted histogram), 90% interval, identifiability."""
    w = post["weight"].to_numpy()
    rows: dict[str, Any] = {}
    for k, (lo, hi) in defn.parameters.items():
        x = post[k].to_numpy()
        q05, q50, q95 = (weighted_quantile(x, w, q) for q in (0.05, 0.5, 0.95))
        counts, edges = np.histogram(x, bins=10, range=(lo, hi), weights=w)
        mode = float((edges[counts.argmax()] + edges[counts.argmax() + 1]) / 2)
        mean = float(np.average(x, weights=w))
        sd = float(np.sqrt(np.average((x - mean) ** 2, weights=w)))
        ratio = (q95 - q05) / (0.9 * (hi - lo))
        rows[k] = {
            "prior": [lo, hi],
            "median": q50,
            "mode": mode,
            "mean": mean,
            "sd": sd,
            "q05": q05,
            "q95": q95,
            "width_ratio": ratio,  # the posterior's 90% width over the prior's (uniform: 0.9 of its range)
            "identified": bool(ratio < 0.5),
        }
    return rows


def predictive(defn: Definition, post: pd.DataFrame, n: int, smp_workers: int = 1) -> pd.DataFrame:
    """Posterior predictive check: `n` particles drawn by weight, each run with a fresh seed."""
    if n == 0 or post.empty:
        return pd.DataFrame(columns=["draw", *defn.parameters, *STATS])
    rng = np.random.default_rng([defn.seed, 99])
    w = post["weight"].to_numpy()
    idx = rng.choice(len(post), size=n, p=w / w.sum())
    jobs = [({k: float(post[k].iloc[i]) for k in defn.parameters}, [PREDICTIVE_SEED + j]) for j, i in enumerate(idx)]
    if smp_workers > 1:
        from joblib import Parallel, delayed

        results = Parallel(n_jobs=smp_workers)(delayed(_evaluate_one_thread)(defn, p, s) for p, s in jobs)
    else:
        results = [evaluate(defn, p, s) for p, s in jobs]
    return pd.DataFrame([{"draw": j, **p, **r} for j, ((p, _), r) in enumerate(zip(jobs, results, strict=True))])


def check_table(defn: Definition, pred: pd.DataFrame) -> list[dict[str, Any]]:
    """Per pattern: the predictive draws' median and 90% range, and the share of draws that meet it."""
    rows = []
    for p in defn.patterns:
        v = pred[p.stat].to_numpy(dtype=np.float64) if len(pred) else np.array([])
        ok = np.array([p.holds(float(x)) for x in v], dtype=bool)
        fin = v[np.isfinite(v)]
        rows.append(
            {
                "stat": p.stat,
                "pattern": describe()[p.stat],
                "wanted": p.text(),
                "median": float(np.median(fin)) if fin.size else math.nan,
                "q05": float(np.quantile(fin, 0.05)) if fin.size else math.nan,
                "q95": float(np.quantile(fin, 0.95)) if fin.size else math.nan,
                "share_met": float(ok.mean()) if ok.size else math.nan,
            }
        )
    return rows


# figures ----------------------------------------------------------------------------------------------
def save_png(fig: Any, path: Path, dpi: int = 100) -> None:
    """Write a figure as PNG atomically (a killed run leaves no half-written file) and close it."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format="png")


def posterior_figure(defn: Definition, pops: pd.DataFrame, path: Path) -> None:
    """Marginal posteriors (diagonal: the first generation as a line, the last filled; the prior dotted) and pairs."""
    from matplotlib.figure import Figure

    keys = list(defn.parameters)
    k = len(keys)
    gens = sorted(pops["generation"].unique())
    first, last = (pops[pops["generation"] == g] for g in (gens[0], gens[-1]))
    size = 1.9 if k > 4 else 2.6
    fig = Figure(figsize=(size * k + 0.8, size * k + 0.9))
    axes = fig.subplots(k, k, squeeze=False)
    for i, ki in enumerate(keys):
        lo_i, hi_i = defn.parameters[ki]
        for j, kj in enumerate(keys):
            ax = axes[i][j]
            lo_j, hi_j = defn.parameters[kj]
            if i == j:
                ax.axhline(1 / (hi_i - lo_i), color="0.4", ls=":", lw=1.2)
                if len(gens) > 1:
                    ax.hist(
                        first[ki],
                        bins=12,
                        range=(lo_i, hi_i),
                        weights=first["weight"],
                        density=True,
                        histtype="step",
                        color="C1",
                        lw=1.2,
                    )
                ax.hist(
                    last[ki], bins=12, range=(lo_i, hi_i), weights=last["weight"], density=True, color="C0", alpha=0.75
                )
                ax.set_xlim(lo_i, hi_i)
                ax.set_yticks([])
            elif i > j:
                ax.scatter(
                    last[kj], last[ki], s=4 + 40 * last["weight"] / last["weight"].max(), alpha=0.45, color="C0", lw=0
                )
                ax.set_xlim(lo_j, hi_j)
                ax.set_ylim(lo_i, hi_i)
            else:
                ax.axis("off")
            if i == k - 1:
                ax.set_xlabel(kj, fontsize=8)
            else:
                ax.set_xticklabels([])
            if j == 0 and i > 0:
                ax.set_ylabel(ki, fontsize=8)
            elif i != j:
                ax.set_yticklabels([])
            ax.tick_params(labelsize=7)
        axes[i][i].set_title(ki, fontsize=8)
    fig.suptitle(
        f"Posterior of '{defn.name}': ABC-SMC with pyABC, {len(gens)} generations of {defn.particles} particles.\n"
        "Diagonal: marginal posterior of the last generation (filled), of the first (orange line) and the uniform "
        "prior (dotted); below: pairs in the last generation (dot size: weight)",
        fontsize=10,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    save_png(fig, path, dpi=90)


def predictive_figure(defn: Definition, pred: pd.DataFrame, path: Path) -> None:
    """One panel per pattern: the predictive draws' statistic against the target (band: +/- scale) or bound."""
    from matplotlib.figure import Figure

    n = len(defn.patterns)
    cols = min(4, n)
    rows = -(-n // cols)
    fig = Figure(figsize=(3.3 * cols, 2.6 * rows + 0.6))
    axes = fig.subplots(rows, cols, squeeze=False)
    labels = describe()
    for ax, p in zip(axes.flat, defn.patterns, strict=False):
        v = pred[p.stat].to_numpy(dtype=np.float64) if len(pred) else np.array([])
        v = v[np.isfinite(v)]
        if p.target is not None:
            ax.axvspan(p.target - p.scale, p.target + p.scale, color="C2", alpha=0.2)
            ax.axvline(p.target, color="C2", lw=2)
            marks = [p.target - p.scale, p.target + p.scale]
        else:
            bound = cast(float, p.above if p.above is not None else p.below)
            ax.axvline(bound, color="C3", lw=2, ls="--")
            marks = [bound]
        lo, hi = min([*marks, *v.tolist()]), max([*marks, *v.tolist()])
        pad = 0.08 * (hi - lo) if hi > lo else 0.05 * max(abs(hi), 1e-3)
        if v.size:
            ax.hist(v, bins=np.linspace(lo - pad, hi + pad, 25), color="C0", alpha=0.7)
        ax.set_xlim(lo - pad, hi + pad)
        ok = np.mean([p.holds(float(x)) for x in v]) if v.size else math.nan
        ax.set_title(f"{labels[p.stat]}\nwanted {p.text()}; met in {100 * ok:.0f}%", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_yticks([])
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    fig.suptitle(
        f"Posterior predictive check: {len(pred)} particles drawn by weight, each run with a fresh seed "
        "(green: target +/- scale; red dashed: one-sided bound)",
        fontsize=9,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.94))
    save_png(fig, path)


# the whole calibration ---------------------------------------------------------------------------------
@dataclasses.dataclass
class Result:
    """A finished calibration as the notebook reads it."""

    definition: Definition
    out: Path
    summary: dict[str, Any]
    posterior: pd.DataFrame
    populations: pd.DataFrame
    predictive: pd.DataFrame


def default_out(defn: Definition) -> Path:
    from sim.studies.naming import outputs_root

    return Path(os.environ.get("SIM_CALIBRATION_DIR", outputs_root() / "calibration")) / defn.name


def load(
    definition: str | os.PathLike | None = None, run_if_missing: bool = True, workers: int | None = None
) -> Result:
    """Read a calibration's outputs; run it first (this module's command) when they are missing or stale.

    The definition is `definition`, else $SIM_CALIBRATION_DEFINITION, else experiments/calibration/review.yaml;
    the outputs live in $SIM_CALIBRATION_DIR/NAME (default outputs/calibration/NAME). Outputs are stale when
    they were made from another definition (its digest) or with fewer generations than it asks for.
    """
    path = definition or os.environ.get("SIM_CALIBRATION_DEFINITION") or DEFAULT_DEFINITION
    defn = load_definition(path)
    out = default_out(defn)
    summary_path = out / "posterior_summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    fresh = summary.get("digest") == defn.digest() and summary.get("generations", 0) >= defn.generations
    if not fresh:
        if not run_if_missing:
            raise FileNotFoundError(
                f"{summary_path}: missing or stale; run python -m sim.studies.review_calibration {path}"
            )
        print(f"calibration outputs missing or stale; running python -m sim.studies.review_calibration {path}")
        n = workers or int(os.environ.get("SIM_CALIBRATION_WORKERS", os.cpu_count() or 1))
        summary = calibrate(defn, out, n, log=lambda *a: None)
    return Result(
        defn,
        out,
        summary,
        pd.read_parquet(out / "posterior.parquet"),
        pd.read_parquet(out / "populations.parquet"),
        pd.read_parquet(out / "predictive.parquet"),
    )


def analyze(defn: Definition, out: Path, workers: int = 1, timing: dict[str, Any] | None = None) -> dict[str, Any]:
    """Posterior files, figures and the predictive check from OUT/abc.db."""
    import pyarrow as pa

    from sim.run.io import write_table

    pops = populations(defn, out)
    post = pops[pops["generation"] == pops["generation"].max()].reset_index(drop=True)
    write_table(out / "populations.parquet", pa.Table.from_pandas(pops, preserve_index=False))
    write_table(out / "posterior.parquet", pa.Table.from_pandas(post, preserve_index=False))
    pred = predictive(defn, post, defn.predictive, workers)
    write_table(out / "predictive.parquet", pa.Table.from_pandas(pred, preserve_index=False))
    timing = timing or (json.loads((out / "timing.json").read_text()) if (out / "timing.json").exists() else {})
    summary = {
        "name": defn.name,
        "digest": defn.digest(),
        "parameters": summarize_posterior(defn, post),
        "patterns": check_table(defn, pred),
        "epsilons": pops.attrs.get("epsilons", {}),
        "ess": {int(g): float(w.sum() ** 2 / (w**2).sum()) for g, w in pops.groupby("generation")["weight"]},
        "samples": pops.attrs.get("samples", {}),
        "particles": defn.particles,
        "predictive_draws": len(pred),
        "transition": defn.transition,
        **timing,
    }
    write_json(out / "posterior_summary.json", summary)
    posterior_figure(defn, pops, out / "posterior.png")
    predictive_figure(defn, pred, out / "predictive.png")
    return summary


def calibrate(
    defn: Definition, out: Path, workers: int = 1, scheduler: str | None = None, local_dask: int = 0, log: Any = print
) -> dict[str, Any]:
    smp = sampler(workers, scheduler, local_dask)
    try:
        parallel = bool(scheduler or local_dask or workers > 1)  # several processes: one numba thread each
        timing = run_abc(defn, out, smp, log, threads=1 if parallel else None)
        timing["workers"] = f"dask {scheduler or f'local x{local_dask}'}" if (scheduler or local_dask) else workers
        write_json(out / "timing.json", timing)
    finally:
        client = getattr(smp, "my_client", None)
        if client is not None and local_dask:
            cluster = client.cluster
            client.close()
            cluster.close()
    return analyze(defn, out, workers, timing)


def report(summary: dict[str, Any]) -> str:
    lines = [
        f"calibration {summary['name']}: {summary.get('generations')} generations, "
        f"{summary.get('evaluations')} particle evaluations, {summary.get('wall_seconds', 0):.0f} s"
    ]
    for k, r in summary["parameters"].items():
        lines.append(
            f"  {k}: median {r['median']:.4g} [90%: {r['q05']:.4g}, {r['q95']:.4g}] of prior [{r['prior'][0]:g}, "
            f"{r['prior'][1]:g}]; width ratio {r['width_ratio']:.2f}{' (identified)' if r['identified'] else ''}"
        )
    for r in summary["patterns"]:
        lines.append(
            f"  {r['pattern']} (wanted {r['wanted']}): predictive median {r['median']:.3g}, met in "
            f"{100 * r['share_met']:.0f}% of draws"
            if math.isfinite(r["share_met"])
            else f"  {r['pattern']}: no predictive draws"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sim.studies.review_calibration", description=__doc__.split("\n\n")[0])
    ap.add_argument("definition", nargs="?", default=str(DEFAULT_DEFINITION), help="calibration YAML")
    ap.add_argument("--out", help="output directory (default outputs/calibration/NAME)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes of the multicore sampler")
    ap.add_argument("--scheduler", help="address of a Dask scheduler (pyABC's Dask sampler), e.g. tcp://host:8786")
    ap.add_argument("--local-dask", type=int, default=0, metavar="N", help="a local Dask cluster of N workers")
    ap.add_argument("--particles", type=int, help="override the definition's particles per generation")
    ap.add_argument("--generations", type=int, help="override the definition's number of generations")
    ap.add_argument("--analyze-only", action="store_true", help="only write the posterior files from OUT/abc.db")
    args = ap.parse_args(argv)
    try:
        defn = load_definition(args.definition)
        for key in ("particles", "generations"):
            value = getattr(args, key)
            if value is not None:
                if value < (2 if key == "particles" else 1):
                    raise InputError(f"--{key}={value}; allowed: an integer >= {2 if key == 'particles' else 1}")
                setattr(defn, key, value)
        if args.workers < 1:
            raise InputError(f"--workers={args.workers}; allowed: an integer >= 1")
        out = Path(args.out) if args.out else default_out(defn)
        check_out(out)  # before the calibration: a directory that cannot be made failed with a traceback
        if args.analyze_only:
            if not (out / "abc.db").exists():
                raise InputError(f"--analyze-only: {out / 'abc.db'} does not exist; allowed: a calibrated --out")
            summary = analyze(defn, out, args.workers)
        else:
            summary = calibrate(defn, out, args.workers, args.scheduler, args.local_dask)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(report(summary))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    # run the module's own import, so that what is pickled for worker processes (the model, the definition)
    # names sim.studies.review_calibration, not __main__, which a Dask or joblib worker cannot import
    from sim.studies.review_calibration import main as _main

    raise SystemExit(_main())
