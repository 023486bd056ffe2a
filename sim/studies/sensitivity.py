"""Global sensitivity analysis with SALib: Sobol indices, and Morris screening, over a Hydra sweep.

    python -m sim.studies.sensitivity experiments/sensitivity/overload_sobol.yaml [--out DIR]
        [--dry-run] [--analyze-only] [hydra overrides for the sweep, e.g. hydra/launcher=ray]

An experiment (YAML, see experiments/sensitivity/) names the parameters and their ranges, the output
metrics, the method and its sample size. This module
1. draws the SALib sample (seeded: the same experiment gives the same sample) and checks every sample
   point against the schema (`sim.config.params.validate`) before anything runs;
2. writes it as a generated Hydra config group, one file per sample point: `OUT/conf/sample/s00017.yaml`
   (`# @package _global_`, the point's parameter values), with `OUT/design.csv` for reading;
3. runs the sample as one ordinary sweep: `python -m sim -m --config-dir OUT/conf '+sample=glob(*)'
   seed=... hydra.sweep.dir=OUT/runs hydra/launcher=...`: the same preflight, launchers, run
   directories, completion markers (a rerun resumes), progress bar and collected
   `OUT/runs/summary.parquet` as any sweep;
4. reads each output from summary.parquet, averages it over the seeds of each sample point, and
   computes the indices with bootstrap confidence intervals: Sobol first-order `S1` and total `ST`
   (Saltelli's scheme), or Morris `mu_star` (with `sigma`, `mu`); writes `OUT/indices.csv`,
   `OUT/indices.parquet` and the bar plot `OUT/indices.png`.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import functools
import json
import math
import os
import subprocess
import sys
import typing
from pathlib import Path
from typing import Any

import numpy as np

from sim.config.compose import compose_dict, nested, set_value
from sim.config.errors import InputError
from sim.config.params import Config
from sim.run.io import atomic_path

METHODS = ("sobol", "morris")


@dataclasses.dataclass
class Experiment:
    name: str
    method: str
    N: int
    parameters: dict[str, tuple[float, float]]
    outputs: list[str]
    seeds: list[int] = dataclasses.field(default_factory=lambda: [0])
    overrides: list[str] = dataclasses.field(default_factory=list)
    launcher: str = "joblib"
    second_order: bool = False
    levels: int = 4
    sample_seed: int = 1
    conf_level: float = 0.95
    num_resamples: int = 1000
    description: str = ""
    path: Path | None = None

    @property
    def problem(self) -> dict[str, Any]:
        return {
            "num_vars": len(self.parameters),
            "names": list(self.parameters),
            "bounds": [list(b) for b in self.parameters.values()],
        }


def read_definition(path: Path, where: str, cls: type, required: tuple[str, ...]) -> dict[str, Any]:
    """A definition file as a YAML mapping whose keys are fields of `cls`, with every `required` one.

    `where` ("experiment PATH", "calibration PATH") starts every error line.
    """
    import yaml

    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as err:
        raise InputError(f"cannot read {where}: {err.strerror}") from None
    if not isinstance(raw, dict):
        raise InputError(f"{where}: a YAML mapping expected")
    fields = {f.name for f in dataclasses.fields(cls)} - {"path"}
    unknown = sorted(set(raw) - fields)
    if unknown:
        raise InputError(f"{where}: unknown key {unknown[0]!r}; allowed: {', '.join(sorted(fields))}")
    for key in required:
        if key not in raw:
            raise InputError(f"{where}: missing key {key!r}")
    return raw


def is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def parameter_bounds(where: str, key: str, bounds: Any, config_key: bool = True) -> tuple[float, float]:
    """A sampled parameter's [low, high]; a config key must exist and be an int or float."""
    from sim.config.preflight import check_key

    if not (
        isinstance(bounds, list | tuple)
        and len(bounds) == 2
        and all(is_number(b) for b in bounds)
        and bounds[0] < bounds[1]
    ):
        raise InputError(f"{where}: parameters.{key}={bounds!r}; allowed: [low, high] with low < high")
    if config_key:
        check_key(key, str(bounds[0]))
        kind = field_type(key)
        if kind not in (int, float):
            raise InputError(f"{where}: parameters.{key} is {kind.__name__}; allowed: int or float keys")
    return float(bounds[0]), float(bounds[1])


def load(path: str | os.PathLike) -> Experiment:
    """Read and check an experiment definition (one line naming the key at fault otherwise)."""
    path = Path(path)
    raw = read_definition(path, f"experiment {path}", Experiment, ("name", "method", "N", "parameters", "outputs"))
    if raw["method"] not in METHODS:
        raise InputError(f"experiment {path}: method={raw['method']!r}; allowed: one of {', '.join(METHODS)}")
    params = {
        key: parameter_bounds(f"experiment {path}", key, bounds) for key, bounds in (raw["parameters"] or {}).items()
    }
    if len(params) < 2:
        raise InputError(f"experiment {path}: parameters: at least 2 needed")
    if not raw["outputs"]:
        raise InputError(f"experiment {path}: outputs: at least 1 needed")
    exp = Experiment(
        **{
            **raw,
            "parameters": params,
            "outputs": list(raw["outputs"]),
            "seeds": [int(s) for s in raw.get("seeds", [0])],
        },
        path=path,
    )
    if exp.N < 1 or (exp.method == "sobol" and exp.N & (exp.N - 1)):
        raise InputError(f"experiment {path}: N={exp.N}; allowed: a power of 2 for sobol, >= 1 for morris")
    if not exp.seeds:
        raise InputError(f"experiment {path}: seeds: at least 1 needed")
    return exp


@functools.lru_cache(maxsize=256)
def field_type(key: str) -> type:
    cls: Any = Config
    *path, last = key.split(".")
    for part in path:
        cls = typing.get_type_hints(cls)[part]
    return typing.get_type_hints(cls)[last]


def sample(exp: Experiment) -> np.ndarray:
    """The SALib sample: one row per sample point, one column per parameter (ints rounded)."""
    try:
        from SALib.sample import morris, sobol
    except ImportError:
        raise InputError("SALib is not installed: pip install -e '.[sensitivity]'") from None

    if exp.method == "sobol":
        x = sobol.sample(exp.problem, exp.N, calc_second_order=exp.second_order, seed=exp.sample_seed)
    else:
        x = morris.sample(exp.problem, exp.N, num_levels=exp.levels, seed=exp.sample_seed)
    for j, key in enumerate(exp.parameters):
        if field_type(key) is int:
            x[:, j] = np.round(x[:, j])
    return x


def _values(exp: Experiment, row: np.ndarray) -> dict[str, int | float]:
    return {k: (int(v) if field_type(k) is int else float(v)) for k, v in zip(exp.parameters, row, strict=True)}


def check_sample(exp: Experiment, x: np.ndarray) -> None:
    """Every sample point, with the experiment's overrides, passes `validate` (else one line names it)."""
    from omegaconf import OmegaConf

    from sim.config.params import validate
    from sim.config.preflight import _one_line

    try:
        base = typing.cast(Config, OmegaConf.to_object(compose_dict(exp.overrides)))
    except InputError:
        raise
    except Exception as err:
        raise InputError(_one_line(err, list(exp.overrides))) from None
    for i, row in enumerate(x):
        cfg = copy.deepcopy(base)
        for key, value in _values(exp, row).items():
            set_value(cfg, key, value)
        try:
            validate(cfg)
        except InputError as err:
            raise InputError(f"{err} (sample point {i} of experiment {exp.name}: narrow the ranges)") from None


def sample_name(i: int, n: int) -> str:
    return f"s{i:0{max(5, len(str(n - 1)))}d}"


def write_design(exp: Experiment, x: np.ndarray, out: Path) -> Path:
    """The sample as a config group OUT/conf/sample/ (one file per point) and OUT/design.csv."""
    group = out / "conf" / "sample"
    group.mkdir(parents=True, exist_ok=True)
    names = [sample_name(i, len(x)) for i in range(len(x))]
    for stale in set(p.stem for p in group.glob("*.yaml")) - set(names):
        (group / f"{stale}.yaml").unlink()  # a smaller sample than last time
    for i, (name, row) in enumerate(zip(names, x, strict=True)):
        write_point(
            group / f"{name}.yaml",
            _values(exp, row),
            f"sample point {i} of {len(x)}, experiment {exp.name} ({exp.method}); generated by sim.studies.sensitivity",
        )
    rows = ["sample," + ",".join(exp.parameters)]
    rows += [f"{n}," + ",".join(repr(v) for v in _values(exp, r).values()) for n, r in zip(names, x, strict=True)]
    with atomic_path(out / "design.csv") as tmp:
        tmp.write_text("\n".join(rows) + "\n")
    with atomic_path(out / "problem.json") as tmp:
        tmp.write_text(
            json.dumps(
                {
                    **exp.problem,
                    "method": exp.method,
                    "N": exp.N,
                    "runs": len(x) * len(exp.seeds),
                    "seeds": exp.seeds,
                    "overrides": exp.overrides,
                },
                indent=2,
            )
            + "\n"
        )
    return group.parent


def write_point(path: Path, values: dict[str, Any], comment: str) -> None:
    """A generated config-group file setting dotted keys (`a.b: v` as nested YAML), globally.

    Rewritten only when its text changes: unchanged files keep their runs' digests (resume).
    """
    text = f"# @package _global_\n# {comment}\n" + _yaml(nested(values))
    if not path.exists() or path.read_text() != text:
        with atomic_path(path) as tmp:
            tmp.write_text(text)


def _yaml(d: dict[str, Any], indent: int = 0) -> str:
    lines = []
    for k, v in d.items():
        if isinstance(v, dict):
            lines.append(" " * indent + f"{k}:")
            lines.append(_yaml(v, indent + 2).rstrip("\n"))
        else:
            lines.append(" " * indent + f"{k}: {v!r}")
    return "\n".join(lines) + "\n"


def sweep_command(exp: Experiment, out: Path, extra: list[str]) -> list[str]:
    """The `python -m sim -m ...` command that runs the whole sample (any launcher)."""
    fixed_keys = [o.split("=", 1)[0].lstrip("+~") for o in exp.overrides]
    seeds = ",".join(str(s) for s in exp.seeds)
    exclude = fixed_keys + ([] if len(exp.seeds) > 1 else ["seed"])
    cmd = [
        sys.executable,
        "-m",
        "sim",
        "-m",
        "--config-dir",
        str(out / "conf"),
        "+sample=glob(*)",
        f"seed={seeds}",
        *exp.overrides,
        f"hydra.sweep.dir={out / 'runs'}",
        f"hydra/launcher={exp.launcher}",
        "hydra.job.config.override_dirname.exclude_keys=[" + ",".join(exclude) + "]",
        "hydra.callbacks.sweep.figure=false",  # the indices plot says more than metric vs sample point
        "hydra.callbacks.sweep.scopes=[all]",
    ]
    return cmd + list(extra)


def analyze(exp: Experiment, x: np.ndarray, out: Path) -> Any:
    """Indices with confidence intervals for every output; writes indices.csv/.parquet/.png."""
    import pandas as pd
    import pyarrow.parquet as pq
    from SALib.analyze import morris, sobol

    path = out / "runs" / "summary.parquet"
    if not path.exists():
        raise InputError(f"no results yet: {path} is missing (run the experiment first)")
    names = pq.read_schema(path).names
    missing = [o for o in exp.outputs if o not in names]
    if missing:
        allowed = ", ".join(n for n in names if n.startswith(("final.", "recovery.")))
        raise InputError(f"experiment {exp.name}: unknown output {missing[0]!r}; allowed: {allowed}")
    df = pq.read_table(path, columns=["sample", "seed", *exp.outputs]).to_pandas()
    df["sample"] = df["sample"].astype(str)
    means = df.groupby("sample")[exp.outputs].mean()
    wanted = [sample_name(i, len(x)) for i in range(len(x))]
    absent = [s for s in wanted if s not in means.index]
    if absent:
        raise InputError(
            f"{len(absent)} of {len(wanted)} sample points have no complete run "
            f"(first: {absent[0]}): run the experiment again to finish them"
        )
    means = means.loc[wanted]
    rows = []
    for output in exp.outputs:
        y = means[output].to_numpy(float)
        if not np.all(np.isfinite(y)):
            bad = int((~np.isfinite(y)).sum())
            raise InputError(f"output {output} is undefined (NaN) at {bad} sample points: choose another output")
        if exp.method == "sobol":
            r = sobol.analyze(
                exp.problem,
                y,
                calc_second_order=exp.second_order,
                conf_level=exp.conf_level,
                num_resamples=exp.num_resamples,
                seed=exp.sample_seed,
            )
            for j, p in enumerate(exp.parameters):
                rows.append(
                    {
                        "output": output,
                        "parameter": p,
                        "S1": r["S1"][j],
                        "S1_conf": r["S1_conf"][j],
                        "ST": r["ST"][j],
                        "ST_conf": r["ST_conf"][j],
                    }
                )
        else:
            r = morris.analyze(
                exp.problem,
                x,
                y,
                num_levels=exp.levels,
                conf_level=exp.conf_level,
                num_resamples=exp.num_resamples,
                seed=exp.sample_seed,
            )
            for j, p in enumerate(exp.parameters):
                rows.append(
                    {
                        "output": output,
                        "parameter": p,
                        "mu_star": float(r["mu_star"][j]),
                        "mu_star_conf": float(r["mu_star_conf"][j]),
                        "sigma": float(r["sigma"][j]),
                        "mu": float(r["mu"][j]),
                    }
                )
    table = pd.DataFrame(rows)
    table.insert(2, "method", exp.method)
    table["conf_level"] = exp.conf_level
    table["runs"] = len(df)
    with atomic_path(out / "indices.csv") as tmp:
        table.to_csv(tmp, index=False)
    with atomic_path(out / "indices.parquet") as tmp:
        table.to_parquet(tmp, index=False)
    bar_plot(exp, table, out / "indices.png")
    return table


def bar_plot(exp: Experiment, table: Any, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(exp.outputs)  # one row of bars per output
    fig, axes = plt.subplots(n, 1, figsize=(max(6.5, 0.75 * len(exp.parameters) + 2.5), 2.9 * n + 1.0), squeeze=False)
    bars = (
        (("S1", "first order S1"), ("ST", "total ST"))
        if exp.method == "sobol"
        else (("mu_star", "mu* (mean |elementary effect|)"), ("sigma", "sigma (interactions, non-linearity)"))
    )
    x = np.arange(len(exp.parameters))
    for ax, output in zip(axes[:, 0], exp.outputs, strict=True):
        sub = table[table.output == output].set_index("parameter").loc[list(exp.parameters)]
        for k, (col, label) in enumerate(bars):
            err = sub.get(f"{col}_conf")
            ax.bar(
                x + (k - 0.5) * 0.38,
                sub[col],
                width=0.38,
                label=label,
                color=f"C{k}",
                yerr=None if err is None else err.to_numpy(float),
                capsize=3,
            )
        ax.set_xticks(
            x, list(exp.parameters) if ax is axes[-1][0] else [""] * len(x), rotation=30, ha="right", fontsize=8
        )
        ax.axhline(0, color="0.3", lw=0.8)
        ax.set_title(output, fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].legend(fontsize=8)
    runs = int(table["runs"].iloc[0])
    what = "Sobol indices" if exp.method == "sobol" else "Morris screening"
    fig.suptitle(
        f"{exp.name}: {what}, {int(exp.conf_level * 100)}% bootstrap CI\n"
        f"N={exp.N}, {runs} runs, {len(exp.seeds)} seed(s) per point",
        fontsize=10,
    )
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.studies.sensitivity", description=__doc__.splitlines()[0])
    parser.add_argument("experiment", type=Path, help="experiment definition (YAML)")
    parser.add_argument("--out", type=Path, help="output directory (default: outputs/sensitivity/NAME)")
    parser.add_argument("--dry-run", action="store_true", help="write the sample and print the sweep command")
    parser.add_argument("--analyze-only", action="store_true", help="recompute the indices from finished runs")
    parser.add_argument("overrides", nargs="*", help="extra overrides for the sweep (e.g. hydra/launcher=ray)")
    args = parser.parse_intermixed_args(argv)
    try:
        exp = load(args.experiment)
        out = (args.out or Path("outputs") / "sensitivity" / exp.name).resolve()
        x = sample(exp)
        if not args.analyze_only:
            check_sample(exp, x)
            write_design(exp, x, out)
            cmd = sweep_command(exp, out, args.overrides)
            n_runs = len(x) * len(exp.seeds)
            print(
                f"{exp.name}: {exp.method}, {len(x)} sample points x {len(exp.seeds)} seed(s) = {n_runs} runs",
                flush=True,
            )
            if args.dry_run:
                print(" ".join(_quote(c) for c in cmd))
                return 0
            proc = subprocess.run(cmd, check=False)
            if proc.returncode:
                print(f"error: the sweep failed (exit {proc.returncode}); rerun to resume", file=sys.stderr)
                return proc.returncode
        table = analyze(exp, x, out)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    with_conf = table.drop(columns=["method", "conf_level", "runs"])
    print(with_conf.to_string(index=False, float_format=lambda v: f"{v:.3f}" if math.isfinite(v) else "nan"))
    print(f"indices: {out / 'indices.csv'}, {out / 'indices.parquet'}; plot: {out / 'indices.png'}")
    return 0


def _quote(s: str) -> str:
    import shlex

    return shlex.quote(s)


if __name__ == "__main__":
    sys.exit(main())
