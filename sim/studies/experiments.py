"""What the analysis notebooks share: find (or produce) an experiment's collected sweep, and summarize it.

An experiment is a Hydra config `conf/experiment/NAME.yaml` run as a multirun:

    python -m sim -m +experiment=NAME

Its runs land in `outputs/experiments/NAME/` (under the outputs root, `sim.studies.naming`) and are
collected there (`summary.parquet`, `metrics.parquet`, sim.studies.collect). A notebook calls
`load(NAME)`: it reads those files, and only when they are missing runs that same command first, so
the notebook never holds a second copy of the model.

Two environment variables let tests and quick looks run the notebooks on small settings without
editing them: `SIM_EXPERIMENTS_DIR` (where experiments live instead of outputs/experiments) and
`SIM_EXPERIMENT_OVERRIDES` (extra overrides appended to the command, e.g. "n_agents=200 steps=60").
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from sim.studies.collect import t_half_width

ROOT = Path(__file__).resolve().parents[2]  # the repository (this file is sim/studies/NAME.py)


def experiments_dir() -> Path:
    """$SIM_EXPERIMENTS_DIR, else experiments/ under the outputs root (sim.studies.naming.outputs_root)."""
    from sim.studies.naming import experiments_root

    return experiments_root().resolve()


def extra_overrides() -> list[str]:
    return shlex.split(os.environ.get("SIM_EXPERIMENT_OVERRIDES", ""))


def command(name: str, overrides: list[str] | None = None) -> list[str]:
    """The command that produces an experiment's outputs (what the notebook would run)."""
    out = experiments_dir() / name
    return [
        sys.executable,
        "-m",
        "sim",
        "-m",
        f"+experiment={name}",
        f"hydra.sweep.dir={out}",
        *(overrides or []),
        *extra_overrides(),
    ]


@dataclass
class Experiment:
    name: str
    path: Path
    summary: pd.DataFrame  # one row per run: run_id, seed, the swept keys, final.* / initial.* / recovery.*
    metrics: pd.DataFrame  # step, scope, level, metric, value for every run (run_id, seed, swept keys in front)


def load(name: str, overrides: list[str] | None = None, run_if_missing: bool = True) -> Experiment:
    """The collected outputs of experiment `name`, produced first by `command(name)` if missing."""
    path = experiments_dir() / name
    if not (path / "summary.parquet").exists():
        if not run_if_missing:
            raise FileNotFoundError(f"{path / 'summary.parquet'} is missing: run {shlex.join(command(name))}")
        print("outputs missing; running:", shlex.join(command(name, overrides)), flush=True)
        subprocess.run(command(name, overrides), check=True, cwd=ROOT)
        if not (path / "summary.parquet").exists():  # Hydra skips the collect callback if a run failed
            subprocess.run([sys.executable, "-m", "sim.studies.collect", str(path)], check=True, cwd=ROOT)
    return Experiment(name, path, pd.read_parquet(path / "summary.parquet"), pd.read_parquet(path / "metrics.parquet"))


def mean_ci(values, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and t-interval of the mean across seeds (NaN interval for fewer than two values)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return np.nan, np.nan, np.nan
    m = float(v.mean())
    if len(v) < 2:
        return m, np.nan, np.nan
    half = t_half_width(v, level)
    return m, m - half, m + half


def summarize(df: pd.DataFrame, by: list[str], value: str, level: float = 0.95) -> pd.DataFrame:
    """Mean, interval and number of seeds of `value` for each combination of `by`."""
    rows = []
    for key, g in df.groupby(by, sort=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        m, lo, hi = mean_ci(g[value], level)
        n = int(g[value].notna().sum())
        rows.append({**dict(zip(by, key, strict=True)), "mean": m, "lo": lo, "hi": hi, "n": n})
    return pd.DataFrame(rows)


MC_LABEL = "95% Monte Carlo interval"  # of a paired difference's mean over seeds: simulation precision, not a test


def paired_effects(
    table: pd.DataFrame,
    by: str,
    baseline: Any,
    outcomes: list[str],
    pair_on: str = "seed",
    level: float = 0.95,
) -> pd.DataFrame:
    """Each variant's effect on each outcome as a paired difference from `baseline`, in the outcome's units.

    `table` has one row per run: the column `by` (the variant, e.g. `ablation` or `scenario`), the column
    `pair_on` (runs sharing it share their random numbers: common random numbers) and the outcomes. For
    every variant other than `baseline` and every outcome, the differences variant - baseline are taken
    pair by pair, and their mean is reported with a t interval over the pairs (`lo`, `hi`): a Monte
    Carlo interval, which says how precisely the runs pin the mean effect down, and shrinks with more
    seeds; it is not a significance test, and no standardized effect size is formed from it. Rows:
    variant, outcome, baseline (its mean), value (the variant's mean), effect, lo, hi, n (pairs), and
    `share_positive` (the share of pairs with a positive difference).
    """
    rows = []
    base = table[table[by] == baseline].set_index(pair_on)
    if base.index.has_duplicates:
        raise ValueError(f"more than one run per {pair_on} for {by}={baseline!r}")
    for variant, g in table[table[by] != baseline].groupby(by, sort=False):
        g = g.set_index(pair_on)
        common = g.index.intersection(base.index)
        for outcome in outcomes:
            d = (g.loc[common, outcome] - base.loc[common, outcome]).astype(float)
            d = d[np.isfinite(d)]
            m, lo, hi = mean_ci(d, level)
            rows.append(
                {
                    "variant": variant,
                    "outcome": outcome,
                    "baseline": float(base.loc[common, outcome].astype(float).mean()),
                    "value": float(g.loc[common, outcome].astype(float).mean()),
                    "effect": m,
                    "lo": lo,
                    "hi": hi,
                    "n": len(d),
                    "share_positive": float((d > 0).mean()) if len(d) else np.nan,
                }
            )
    return pd.DataFrame(rows)


def effects_forest(
    table: pd.DataFrame,
    by: str,
    baseline: Any,
    outcomes: list[str],
    pair_on: str = "seed",
    labels: dict[Any, str] | None = None,
    colors: dict[Any, str] | None = None,
    outcome_labels: dict[str, str] | None = None,
    ax=None,
    level: float = 0.95,
):
    """`paired_effects` computed and drawn: one row per outcome, one marker per variant.

    For each variant and outcome, a faint dot per pair (each seed's own difference variant - baseline)
    and a square at the mean of the differences with its Monte Carlo interval (`MC_LABEL`: how precisely
    the pairs pin the mean down, not a test). Outcomes share the x axis, so pass outcomes of one kind
    (shares, or indices on 0-1). Returns (ax, effects), effects as `paired_effects` returns them.
    """
    import matplotlib.pyplot as plt

    effects = paired_effects(table, by, baseline, outcomes, pair_on, level)
    variants = list(dict.fromkeys(effects["variant"]))
    if ax is None:
        _, ax = plt.subplots(figsize=(8.5, 0.32 * len(outcomes) * max(1, len(variants)) + 1.8))
    base = table[table[by] == baseline].set_index(pair_on)
    ypos = {o: len(outcomes) - 1 - i for i, o in enumerate(outcomes)}
    step = 0.6 / max(1, len(variants))
    for j, variant in enumerate(variants):
        shift = (len(variants) - 1) / 2 * step - j * step
        color = (colors or {}).get(variant, f"C{j}")
        runs = table[table[by] == variant].set_index(pair_on)
        common = runs.index.intersection(base.index)
        for o in outcomes:
            d = (runs.loc[common, o] - base.loc[common, o]).astype(float)
            ax.plot(d.to_numpy(), np.full(len(d), ypos[o] + shift), "o", color=color, alpha=0.25, ms=3)
        e = effects[effects["variant"] == variant].set_index("outcome").loc[outcomes]
        half = np.nan_to_num(np.vstack([e["effect"] - e["lo"], e["hi"] - e["effect"]]))
        ax.errorbar(
            e["effect"],
            np.array([ypos[o] for o in outcomes]) + shift,
            xerr=half,
            fmt="s",
            color=color,
            mec="k",
            capsize=3,
            ms=5,
            label=(labels or {}).get(variant, str(variant)),
        )
    ax.axvline(0, color="k", lw=0.8)
    ax.grid(axis="y", alpha=0)
    ax.set_yticks(range(len(outcomes)), [(outcome_labels or {}).get(o, o) for o in outcomes][::-1])
    ax.plot([], [], "o", color="0.5", alpha=0.4, ms=3, label=f"one {pair_on}'s difference")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=min(4, len(variants) + 1), frameon=False)
    return ax, effects


def effects_table(effects: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """`paired_effects` as text, 'effect [lo, hi]', one row per variant and one column per outcome."""
    cells = effects.assign(cell=[ci_text(m, lo, hi, digits) for m, lo, hi in effects[["effect", "lo", "hi"]].values])
    table = cells.pivot(index="variant", columns="outcome", values="cell")
    return table.loc[list(dict.fromkeys(effects["variant"])), list(dict.fromkeys(effects["outcome"]))]


def markdown_table(df: pd.DataFrame, index: bool = True) -> str:
    """A DataFrame as a Markdown (GitHub) table, cells as they print; for results written into docs/."""
    frame = df.reset_index() if index else df
    head = [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def effects_heatmap(effects: pd.DataFrame, labels: dict[str, str] | None = None, ax=None, digits: int = 2):
    """A heat map of `paired_effects`: variants as rows, outcomes as columns, the effect written in each cell.

    Outcomes have different units, so each column's colours are scaled by its largest absolute effect
    (red: the variant raises the outcome, blue: lowers it); a cell whose Monte Carlo interval contains 0
    is left white with its value in grey. The colour is for reading the table, not a standardized effect.
    """
    import matplotlib.pyplot as plt

    variants = list(dict.fromkeys(effects["variant"]))
    outcomes = list(dict.fromkeys(effects["outcome"]))
    e = effects.set_index(["variant", "outcome"])
    val = np.array([[e.loc[(v, o), "effect"] for o in outcomes] for v in variants], dtype=float)
    lo = np.array([[e.loc[(v, o), "lo"] for o in outcomes] for v in variants], dtype=float)
    hi = np.array([[e.loc[(v, o), "hi"] for o in outcomes] for v in variants], dtype=float)
    clear = ~((lo <= 0) & (hi >= 0))
    scale = np.nanmax(np.abs(val), axis=0)
    scale[~(scale > 0)] = 1.0
    shade = np.where(clear, val / scale, 0.0)
    if ax is None:
        _, ax = plt.subplots(figsize=(1.1 * len(outcomes) + 2.5, 0.42 * len(variants) + 1.6))
    ax.imshow(shade, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
    for r in range(len(variants)):
        for c in range(len(outcomes)):
            if np.isfinite(val[r, c]):
                ax.text(
                    c,
                    r,
                    f"{val[r, c]:+.{digits}f}",
                    ha="center",
                    va="center",
                    fontsize=7.5,
                    color=("white" if abs(shade[r, c]) > 0.6 else "black") if clear[r, c] else "0.55",
                )
    names = labels or {}
    ax.set_xticks(range(len(outcomes)), [names.get(o, o) for o in outcomes], rotation=35, ha="right")
    ax.set_yticks(range(len(variants)), variants)
    ax.set_xticks(np.arange(len(outcomes) + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(len(variants) + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="white", linewidth=1.5)
    ax.tick_params(which="minor", length=0)
    return ax


def series(exp: Experiment, metric: str, scope: str = "all", by: list[str] | None = None) -> pd.DataFrame:
    """A metric's time series across seeds: mean and interval per step (and per `by` and level)."""
    m = exp.metrics[(exp.metrics["metric"] == metric) & (exp.metrics["scope"] == scope)]
    return summarize(m, [*(by or []), "level", "step"], "value")


def run_config(exp: Experiment, run_id: str | None = None) -> dict:
    """The resolved config of one run of the experiment (the first run if `run_id` is None)."""
    from omegaconf import OmegaConf

    rid = str(exp.summary["run_id"].iloc[0]) if run_id is None else run_id
    return cast(
        dict[str, Any], OmegaConf.to_container(OmegaConf.load(exp.path / rid / ".hydra" / "config.yaml"), resolve=True)
    )


def figures_dir(exp: Experiment) -> Path:
    """Where a notebook writes its figures: `figures/` in the experiment's output directory (created)."""
    out = exp.path / "figures"
    out.mkdir(parents=True, exist_ok=True)
    return out


_METRIC_COLUMNS = ("run_id", "step", "scope", "level", "metric", "value")


def run_keys(exp: Experiment) -> list[str]:
    """The columns that identify a run besides run_id: seed and the swept keys (e.g. scenario)."""
    return [c for c in exp.metrics.columns if c not in _METRIC_COLUMNS]


def shock_window(exp: Experiment) -> tuple[int, int] | None:
    """(start, end) of the exposure surge, end excluded, from the config of a run under a shock (None: no shock)."""
    for rid in exp.summary["run_id"]:
        exposure = run_config(exp, str(rid))["exposure"]
        if exposure["kind"] == "shock":
            return int(exposure["start"]), int(exposure["start"] + exposure["length"])
    return None


def window_means(
    exp: Experiment, metrics: list[str], windows: dict[str, tuple[int, int]], scope: str = "all"
) -> pd.DataFrame:
    """Per run, level and metric: the mean over the recorded steps of each window [start, end).

    One row per run, level, metric and window (`window` column, in the order given), with run_id,
    seed and the swept keys; windows without a recorded step are left out.
    """
    m = exp.metrics[(exp.metrics["scope"] == scope) & exp.metrics["metric"].isin(metrics)]
    m = m.astype({"run_id": str, "level": str, "metric": str})
    keys = ["run_id", *run_keys(exp), "level", "metric"]
    parts = []
    for name, (lo, hi) in windows.items():
        w = m[(m["step"] >= lo) & (m["step"] < hi)]
        part = w.groupby(keys, sort=False, dropna=False)["value"].mean().reset_index()
        part.insert(len(keys), "window", name)
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    out["window"] = pd.Categorical(out["window"], categories=list(windows), ordered=True)
    return out


def final_values(exp: Experiment, metrics: list[str], scope: str = "all") -> pd.DataFrame:
    """Per run, level and metric: the value at the run's last recorded step."""
    m = exp.metrics[(exp.metrics["scope"] == scope) & exp.metrics["metric"].isin(metrics)]
    m = m.astype({"run_id": str, "level": str, "metric": str})
    last = m.groupby("run_id")["step"].transform("max")
    return m[m["step"] == last].drop(columns=["scope"]).reset_index(drop=True)


def save_figure(exp: Experiment, fig, name: str, caption: str, fontsize: float = 9.0) -> Path:
    """Put `caption` under the figure (wrapped to its width) and write it to figures/NAME.png of the experiment."""
    import textwrap

    width = max(40, int(fig.get_figwidth() * 72 / (0.52 * fontsize)))
    fig.text(0.01, 0.0, textwrap.fill(caption, width), ha="left", va="top", fontsize=fontsize)
    path = figures_dir(exp) / name
    fig.savefig(path, dpi=110, bbox_inches="tight")
    return path


def ci_text(mean: float, lo: float, hi: float, digits: int = 3) -> str:
    """'mean [lo, hi]' (the interval left out when undefined)."""

    def f(x: float) -> str:
        return f"{x:.{digits}f}".replace(f"-{0:.{digits}f}", f"{0:.{digits}f}")  # no "-0.000"

    if not np.isfinite(mean):
        return "n/a"
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return f(mean)
    return f"{f(mean)} [{f(lo)}, {f(hi)}]"


def ci_table(summary: pd.DataFrame, index: str | list[str], columns: str | list[str], digits: int = 3) -> pd.DataFrame:
    """A `summarize` table as 'mean [lo, hi]' text, pivoted for display (e.g. one column per scenario)."""
    cells = [ci_text(m, lo, hi, digits) for m, lo, hi in summary[["mean", "lo", "hi"]].itertuples(index=False)]
    table = summary.assign(cell=cells).pivot(index=index, columns=columns, values="cell")
    order = summary[columns].drop_duplicates()  # columns and rows in the summary's order, not sorted
    table = table[pd.MultiIndex.from_frame(order) if isinstance(columns, list) else list(order)]
    rows = summary[index].drop_duplicates()
    return table.loc[pd.MultiIndex.from_frame(rows) if isinstance(index, list) else list(rows)]
