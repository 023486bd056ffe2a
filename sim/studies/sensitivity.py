"""Global sensitivity analysis with SALib: Sobol indices, and Morris screening, over a Hydra sweep.

    python -m sim.studies.sensitivity experiments/sensitivity/overload_sobol.yaml [--out DIR]
        [--dry-run] [--analyze-only] [model overrides, hydra overrides for the sweep, e.g. hydra/launcher=ray]
        [--set KEY=VALUE ...: the definition's settings, e.g. --set N=8 seeds=[0]]

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
   `OUT/indices.parquet` and the bar plot `OUT/indices.png` (intervals drawn within each index's range,
   `drawn_interval`; the tables keep the raw values).
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

from sim.config.compose import compose_dict, config_of, nested, set_value
from sim.config.errors import InputError
from sim.config.params import Config
from sim.run.io import atomic_path
from sim.studies.naming import check_out

METHODS = ("sobol", "morris", "posterior")
DEFINITIONS = Path(__file__).resolve().parents[2] / "experiments" / "sensitivity"  # the shipped experiments


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
    headlines: list[str] | None = None  # sim.studies.headlines: paired comparisons between arms as outputs
    design: str | None = None  # method posterior: the calibration's posterior (Parquet/CSV with a weight column)
    path: Path | None = None

    @property
    def arms(self) -> dict[str, list[str]]:
        """Each arm's own overrides ({"": []}: one sweep of the experiment's overrides, no arms)."""
        from sim.studies.headlines import arms_for, resolve

        return arms_for(resolve(self.headlines)) if self.headlines else {"": []}

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


def is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


#: The settings of a definition besides its parameters, outputs and arms: what each allows, and its check
SETTINGS: dict[str, tuple[str, Any]] = {
    "name": ("1-64 letters, digits, '_', '-' or '.' (it names the output directory)", lambda v: _safe_name(v)),
    "description": ("text", lambda v: isinstance(v, str)),
    "levels": ("an integer >= 2 (Morris grid levels)", lambda v: is_int(v) and v >= 2),
    "second_order": ("true or false", lambda v: isinstance(v, bool)),
    "sample_seed": ("an integer >= 0", lambda v: is_int(v) and v >= 0),
    "conf_level": ("a number in (0, 1)", lambda v: is_number(v) and 0 < v < 1),
    "num_resamples": ("an integer >= 1 (bootstrap resamples)", lambda v: is_int(v) and v >= 1),
    "overrides": ("a list of model overrides, e.g. [n_agents=500]", lambda v: _strings(v)),
    "outputs": ("a list of output columns, e.g. [final.esteban_ray]", lambda v: v is None or _strings(v)),
    "design": ("a file path", lambda v: v is None or isinstance(v, str)),
}


def _safe_name(v: Any) -> bool:
    from sim.config.params import SAFE_NAME

    return isinstance(v, str) and SAFE_NAME.fullmatch(v) is not None and ".." not in v


def _strings(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(x, str | int | float) and not isinstance(x, bool) for x in v)


def given_as(sets: dict[str, Any], key: str, value: Any) -> str:
    """How a message names a setting: `--set KEY=VALUE` when the command line gave it, else `KEY=VALUE`."""
    label = sets.get("--label", {}).get(key)
    if label:
        return label
    return f"--set {key}={value!r}" if key in sets else f"{key}={value!r}"


def parse_sets(items: list[str]) -> dict[str, Any]:
    """The command line's `--set KEY=VALUE` (values read as YAML: `N=8`, `seeds=[0, 1]`), in order."""
    import yaml

    out: dict[str, Any] = {}
    for item in items:
        key, eq, text = item.partition("=")
        if not eq or not key:
            raise InputError(f"--set {item!r}: a KEY=VALUE expected, e.g. --set N=8 seeds=[0]")
        try:
            out[key] = yaml.safe_load(text)
        except yaml.YAMLError as err:
            raise InputError(f"--set {item!r}: the value is not YAML ({str(err).splitlines()[0]})") from None
    return out


def load(path: str | os.PathLike, sets: dict[str, Any] | None = None) -> Experiment:
    """Read and check an experiment definition (one line naming the key at fault otherwise).

    `sets`: the command line's `--set KEY=VALUE`, each replacing the definition's KEY before the checks,
    which then name it as `--set KEY=VALUE`.
    """
    from sim.studies.headlines import HEADLINES

    path = Path(path)
    where = f"experiment {path}"
    raw = read_definition(path, where, Experiment, ())
    sets = dict(sets or {})
    fields = sorted({f.name for f in dataclasses.fields(Experiment)} - {"path"})
    for key in sets:
        if key != "--label" and key not in fields:
            model = "." in key or "/" in key or key.lstrip("+~") in _model_keys()
            hint = " (a model or sweep override: give it before --set, which takes every KEY=VALUE after it)"
            raise InputError(
                f"{where}: --set {key}={sets[key]!r}: unknown experiment key {key!r}{hint if model else ''}; "
                f"allowed: {', '.join(fields)}"
            )
    raw |= {k: v for k, v in sets.items() if k != "--label"}
    for key in ("name", "method", "N", "parameters"):
        if key not in raw:
            raise InputError(f"{where}: missing key {key!r}")
    for key, (allowed, ok) in SETTINGS.items():
        if key in raw and not ok(raw[key]):
            raise InputError(f"{where}: {given_as(sets, key, raw[key])}; allowed: {allowed}")
    if raw["method"] not in METHODS:
        raise InputError(f"{where}: {given_as(sets, 'method', raw['method'])}; allowed: one of {', '.join(METHODS)}")
    if "launcher" in raw:
        from sim.config.preflight import hydra_group_options

        launchers = list(hydra_group_options("launcher"))
        if raw["launcher"] not in launchers:
            raise InputError(
                f"{where}: {given_as(sets, 'launcher', raw['launcher'])}; allowed: one of {', '.join(launchers)}"
            )
    if not isinstance(raw["parameters"], dict):
        raise InputError(
            f"{where}: {given_as(sets, 'parameters', raw['parameters'])}; allowed: a mapping KEY: [low, high]"
        )
    params = {key: parameter_bounds(where, key, bounds) for key, bounds in (raw["parameters"] or {}).items()}
    if len(params) < 2:
        raise InputError(f"{where}: parameters: at least 2 needed")
    headlines = raw.get("headlines")
    if headlines is not None:
        if headlines == "all":
            headlines = list(HEADLINES)
        if not isinstance(headlines, list) or not headlines:
            raise InputError(f"{where}: headlines={headlines!r}; allowed: all, or a list of {', '.join(HEADLINES)}")
        unknown = [h for h in headlines if h not in HEADLINES]
        if unknown:
            raise InputError(f"{where}: headlines: unknown {unknown[0]!r}; allowed: {', '.join(HEADLINES)}")
        if raw.get("outputs"):
            raise InputError(f"{where}: outputs and headlines both given; allowed: one of them")
        raw["outputs"] = list(headlines)
    elif not raw.get("outputs"):
        raise InputError(f"{where}: outputs: at least 1 needed (or headlines)")
    if headlines:
        from sim.studies.headlines import ARM_OVERRIDES, ARMS

        arm_keys = {o.split("=", 1)[0] for o in [*ARM_OVERRIDES, *(o for a in ARMS.values() for o in a)]}
        for o in raw.get("overrides") or []:
            if str(o).split("=", 1)[0].lstrip("+~") in arm_keys:
                raise InputError(
                    f"{where}: overrides: {o!r} is set by the headlines' arms; allowed: keys other than "
                    + ", ".join(sorted(arm_keys))
                )
    if raw["method"] == "posterior":
        if not raw.get("design"):
            raise InputError(f"{where}: method posterior needs design: the calibration's posterior.parquet")
        if not headlines:
            raise InputError(f"{where}: method posterior needs headlines (the comparisons to evaluate)")
    elif raw.get("design"):
        raise InputError(f"{where}: design={raw['design']!r} is for method posterior only")
    seeds = raw.get("seeds", [0])
    if not (isinstance(seeds, list) and seeds and all(is_int(v) and v >= 0 for v in seeds)):
        raise InputError(f"{where}: {given_as(sets, 'seeds', seeds)}; allowed: a list of integers >= 0, e.g. [0, 1]")
    if not is_int(raw["N"]):
        raise InputError(f"{where}: {given_as(sets, 'N', raw['N'])}; allowed: an integer")
    exp = Experiment(
        **{**raw, "parameters": params, "outputs": list(raw["outputs"]), "headlines": headlines, "seeds": seeds},
        path=path,
    )
    check_size(exp, given_as(sets, "N", exp.N), given_as(sets, "seeds", exp.seeds))
    return exp


@functools.lru_cache(maxsize=1)
def _model_keys() -> frozenset[str]:
    """The model config's top-level keys and config groups (a `--set` of one is a model override put there)."""
    from sim.config.compose import CONF_DIR

    return frozenset({f.name for f in dataclasses.fields(Config)} | {p.name for p in CONF_DIR.iterdir() if p.is_dir()})


def check_size(exp: Experiment, n_text: str, seeds_text: str) -> None:
    """The sample size and the model seeds, against the method; `*_text` name them in the message."""
    where = f"experiment {exp.path}"
    if exp.N < 1 or (exp.method == "sobol" and exp.N & (exp.N - 1)):
        raise InputError(
            f"{where}: {n_text}; allowed: a power of 2 for sobol, >= 1 for morris (trajectories) and posterior (points)"
        )
    if not exp.seeds or min(exp.seeds) < 0:
        raise InputError(f"{where}: {seeds_text}; allowed: at least 1 integer >= 0")
    if exp.headlines and len(exp.seeds) < 2:
        raise InputError(f"{where}: {seeds_text}; allowed: at least 2 with headlines (Monte Carlo intervals)")


def command_line_sets(items: list[str], n: int | None, seeds: str | None) -> dict[str, Any]:
    """`--set KEY=VALUE ...` with the older `--N` and `--seeds` (comma-separated) as the same settings."""
    sets = parse_sets(items)
    labels = {}
    if n is not None:
        sets["N"], labels["N"] = n, f"--N={n}"
    if seeds is not None:
        try:
            sets["seeds"] = [int(v) for v in seeds.split(",")]
        except ValueError:
            raise InputError(f"--seeds={seeds!r}; allowed: comma-separated integers, e.g. 0,1") from None
        labels["seeds"] = f"--seeds={seeds!r}"
    return sets | ({"--label": labels} if labels else {})


def design_path(exp: Experiment) -> Path:
    """The posterior file of method posterior: absolute, or relative to the working directory or else the repository."""
    path = Path(str(exp.design)).expanduser()
    if path.is_absolute() or path.exists():
        return path
    return DEFINITIONS.parents[1] / path


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
    elif exp.method == "morris":
        x = morris.sample(exp.problem, exp.N, num_levels=exp.levels, seed=exp.sample_seed)
    else:
        x = posterior_sample(exp)
    if exp.method != "posterior":  # the samplers' grid arithmetic can step a rounding error past a bound
        x = np.clip(x, *np.array(list(exp.parameters.values())).T)
    for j, key in enumerate(exp.parameters):
        if field_type(key) is int:
            x[:, j] = np.round(x[:, j])
    return x


def posterior_sample(exp: Experiment) -> np.ndarray:
    """N distinct particles of the posterior file, drawn without replacement with probability by weight.

    The file (the calibration's `posterior.parquet`, or a CSV) has one column per parameter and a
    `weight` column; the experiment's parameters must be among its columns (their ranges are the
    priors, for the figures). Seeded by `sample_seed`.
    """
    import pandas as pd

    path = design_path(exp)
    try:
        post = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    except (OSError, ValueError) as err:
        raise InputError(
            f"experiment {exp.name}: design={exp.design}: cannot read it ({err}); "
            "allowed: the calibration's posterior.parquet (python -m sim.studies.review_calibration)"
        ) from None
    missing = [k for k in [*exp.parameters, "weight"] if k not in post.columns]
    if missing:
        raise InputError(
            f"experiment {exp.name}: design={exp.design} has no column {missing[0]!r}; "
            f"allowed parameters: {', '.join(c for c in post.columns if '.' in c)}"
        )
    if exp.N > len(post):
        raise InputError(f"experiment {exp.name}: N={exp.N}; allowed: at most the {len(post)} particles of {path}")
    w = post["weight"].to_numpy(np.float64)
    rng = np.random.default_rng(exp.sample_seed)
    rows = np.sort(rng.choice(len(post), size=exp.N, replace=False, p=w / w.sum()))
    return post[list(exp.parameters)].to_numpy(np.float64)[rows]


def _values(exp: Experiment, row: np.ndarray) -> dict[str, int | float]:
    return {k: (int(v) if field_type(k) is int else float(v)) for k, v in zip(exp.parameters, row, strict=True)}


def check_sample(exp: Experiment, x: np.ndarray) -> None:
    """Every sample point, with the experiment's overrides, passes `validate` (else one line names it)."""
    from sim.config.params import validate
    from sim.config.preflight import _one_line

    for arm, arm_overrides in exp.arms.items():
        overrides = [*exp.overrides, *arm_overrides]
        try:
            # not sim.config.compose.compose: the base is no run (each sample point sets its parameters and is
            # validated below), and the runs themselves go through the command line's preflight (step 3)
            base = config_of(compose_dict(overrides))
        except InputError:
            raise
        except Exception as err:
            raise InputError(_one_line(err, overrides)) from None
        for i, row in enumerate(x):
            cfg = copy.deepcopy(base)
            for key, value in _values(exp, row).items():
                set_value(cfg, key, value)
            try:
                validate(cfg)
            except InputError as err:
                in_arm = f", arm {arm}" if arm else ""
                raise InputError(
                    f"{err} (sample point {i} of experiment {exp.name}{in_arm}: narrow the ranges)"
                ) from None


def surge_window(exp: Experiment) -> tuple[int, int]:
    """The surge's steps [start, start + length) in the experiment's surge arm (ODD 7.1)."""
    from sim.studies.headlines import ARMS

    cfg = config_of(compose_dict([*exp.overrides, *ARMS["surge"]]))
    return cfg.exposure.start, cfg.exposure.start + cfg.exposure.length


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


def runs_dir(out: Path, arm: str = "") -> Path:
    """Where the sweep of one arm goes: OUT/runs/ARM (OUT/runs without arms)."""
    return out / "runs" / arm if arm else out / "runs"


def sweep_command(exp: Experiment, out: Path, extra: list[str], arm: str = "") -> list[str]:
    """The `python -m sim -m ...` command that runs the whole sample in one arm (any launcher)."""
    from sim.studies.headlines import ARM_OVERRIDES

    arm_overrides = [*exp.arms[arm], *ARM_OVERRIDES] if arm else []
    overrides = [*exp.overrides, *arm_overrides]
    fixed_keys = list(dict.fromkeys(o.split("=", 1)[0].lstrip("+~") for o in overrides))
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
        *overrides,
        f"hydra.sweep.dir={runs_dir(out, arm)}",
        f"hydra/launcher={exp.launcher}",
        "hydra.job.config.override_dirname.exclude_keys=[" + ",".join(exclude) + "]",
        "hydra.callbacks.sweep.figure=false",  # the indices plot says more than metric vs sample point
        "hydra.callbacks.sweep.scopes=" + ("[all,profession]" if arm else "[all]"),
    ]
    return cmd + list(extra)


def per_seed(exp: Experiment, out: Path) -> Any:
    """One row per sample point and seed (index `sample`, `seed`), one column per output.

    Without headlines: the outputs' columns of the sweep's summary.parquet. With headlines: each
    headline's paired difference between its arms at the same sample point and seed (sim.studies.headlines).
    """
    import pandas as pd
    import pyarrow.parquet as pq

    from sim.studies.headlines import paired, read_arm_metrics, resolve

    if exp.headlines:
        missing = [a for a in exp.arms if not (runs_dir(out, a) / "metrics.parquet").exists()]
        if missing:
            raise InputError(
                f"no results yet: {runs_dir(out, missing[0]) / 'metrics.parquet'} is missing (run the experiment first)"
            )
        metrics = read_arm_metrics(out / "runs", list(exp.arms))
        surge = surge_window(exp)
        cols = {h.name: paired(metrics, h, surge) for h in resolve(exp.headlines)}
        df = pd.DataFrame(cols)
        df.index = df.index.set_names(["sample", "seed"])
        return df
    path = runs_dir(out) / "summary.parquet"
    if not path.exists():
        raise InputError(f"no results yet: {path} is missing (run the experiment first)")
    names = pq.read_schema(path).names
    missing = [o for o in exp.outputs if o not in names]
    if missing:
        allowed = ", ".join(n for n in names if n.startswith(("final.", "recovery.")))
        raise InputError(f"experiment {exp.name}: unknown output {missing[0]!r}; allowed: {allowed}")
    df = pq.read_table(path, columns=["sample", "seed", *exp.outputs]).to_pandas()
    df["sample"] = df["sample"].astype(str)
    return df.set_index(["sample", "seed"])


def point_means(exp: Experiment, x: np.ndarray, df: Any) -> Any:
    """Each output averaged over the seeds of each sample point, in sample order (every point must be there)."""
    means = df.groupby(level="sample")[exp.outputs].mean()
    wanted = [sample_name(i, len(x)) for i in range(len(x))]
    absent = [s for s in wanted if s not in means.index]
    if absent:
        raise InputError(
            f"{len(absent)} of {len(wanted)} sample points have no complete run "
            f"(first: {absent[0]}): run the experiment again to finish them"
        )
    return means.loc[wanted]


def noise_share(df: Any, output: str) -> float:
    """How much of the spread of the point means is seed noise: mean (seed variance / seeds) over variance of means.

    Near 0: the points' means are pinned down by their seeds; near 1: the indices mostly measure noise.
    """
    g = df[output].groupby(level="sample")
    noise = float((g.var(ddof=1) / g.count()).mean())
    spread = float(g.mean().var(ddof=1))
    return noise / spread if spread > 0 else float("nan")


def analyze(exp: Experiment, x: np.ndarray, out: Path) -> Any:
    """Indices with confidence intervals for every output; writes indices.csv/.parquet/.png.

    Method posterior: the headlines' signs over the sample instead (`robustness`).
    """
    import pandas as pd
    from SALib.analyze import morris, sobol

    df = per_seed(exp, out)
    if exp.method == "posterior":
        return robustness(exp, x, df, out)
    means = point_means(exp, x, df)
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
    table["runs"] = len(df) * len(exp.arms)  # each arm runs every point and seed
    table["noise_share"] = table["output"].map({o: noise_share(df, o) for o in exp.outputs})
    with atomic_path(out / "indices.csv") as tmp:
        table.to_csv(tmp, index=False)
    with atomic_path(out / "indices.parquet") as tmp:
        table.to_parquet(tmp, index=False)
    bar_plot(exp, table, out / "indices.png")
    return table


SIGNS = {1: "positive", -1: "negative", 0: "undetermined"}


def robustness(exp: Experiment, x: np.ndarray, df: Any, out: Path) -> Any:
    """Each headline over the sample of the posterior: its sign at each point, and where it flips.

    At each sample point the headline's paired differences over the seeds give a mean and its Monte
    Carlo interval (t interval over seeds: how precisely the seeds pin the point's mean down); the point
    counts as positive (negative) when the whole interval is above (below) 0, else undetermined. Writes
    `effects.csv/.parquet` (one row per point and headline, with the point's parameters), `signs.csv/.parquet`
    (per headline: the shares of points by sign, the spread of the effect, its Spearman rank correlation
    with each parameter and the parameter it follows most) and the figure `signs.png` (each headline
    against that parameter). Returns the signs table.
    """
    import pandas as pd
    from scipy.stats import spearmanr

    from sim.studies.experiments import mean_ci
    from sim.studies.headlines import HEADLINES

    names = [sample_name(i, len(x)) for i in range(len(x))]
    params = pd.DataFrame(x, columns=list(exp.parameters), index=pd.Index(names, name="sample"))
    point_means(exp, x, df)  # every point has runs
    rows = []
    for h in exp.outputs:
        by_point = df[h].groupby(level="sample")
        for name in names:
            d = by_point.get_group(name).dropna().to_numpy(np.float64)
            m, lo, hi = mean_ci(d, exp.conf_level)
            sign = 1 if lo > 0 else -1 if hi < 0 else 0
            rows.append({"headline": h, "sample": name, "effect": m, "lo": lo, "hi": hi, "n": len(d), "sign": sign})
    effects = pd.DataFrame(rows).join(params, on="sample")
    signs = []
    for h in exp.outputs:
        e = effects[effects["headline"] == h]
        e = e[np.isfinite(e["effect"])]
        rho = {}
        for p in exp.parameters:
            r = spearmanr(e[p], e["effect"]).statistic if len(e) > 2 and e["effect"].nunique() > 1 else np.nan
            rho[p] = float(r)
        top = max(rho, key=lambda p: abs(rho[p]) if np.isfinite(rho[p]) else -1.0)
        hd = HEADLINES[h]
        shares = {f"share_{SIGNS[k]}": float((e["sign"] == k).mean()) if len(e) else np.nan for k in SIGNS}
        expected = (
            shares["share_positive"] if hd.expected > 0 else shares["share_negative"] if hd.expected < 0 else np.nan
        )
        signs.append(
            {
                "headline": h,
                "experiment": hd.experiment,
                "label": hd.label,
                "points": len(e),
                **shares,
                "expected_sign": hd.expected,
                "share_expected": expected,
                "share_mean_positive": float((e["effect"] > 0).mean()) if len(e) else np.nan,
                "median": float(e["effect"].median()),
                "q05": float(e["effect"].quantile(0.05)),
                "q95": float(e["effect"].quantile(0.95)),
                "top_parameter": top,
                "top_rho": rho[top],
                **{f"rho:{p}": rho[p] for p in exp.parameters},
                "kind": hd.kind,
                "produced_by": hd.produced_by,
                "seeds": len(exp.seeds),
                "conf_level": exp.conf_level,
            }
        )
    table = pd.DataFrame(signs)
    for name, frame in (("effects", effects), ("signs", table)):
        with atomic_path(out / f"{name}.csv") as tmp:
            frame.to_csv(tmp, index=False)
        with atomic_path(out / f"{name}.parquet") as tmp:
            frame.to_parquet(tmp, index=False)
    signs_plot(exp, effects, table, out / "signs.png")
    return table


def signs_plot(exp: Experiment, effects: Any, table: Any, path: Path) -> None:
    """One panel per headline: the effect at each point (Monte Carlo interval) against its top parameter."""
    import textwrap

    from matplotlib.figure import Figure

    from sim.studies.headlines import HEADLINES

    n = len(table)
    cols = 3 if n > 4 else 2 if n > 1 else 1
    rows = -(-n // cols)
    fig = Figure(figsize=(4.6 * cols, 3.5 * rows + 0.8))
    axes = fig.subplots(rows, cols, squeeze=False)
    colors = {1: "#c0392b", -1: "#2874a6", 0: "0.6"}
    for ax, (_, r) in zip(axes.flat, table.iterrows(), strict=False):
        e = effects[effects["headline"] == r["headline"]]
        p = r["top_parameter"]
        for k, c in colors.items():
            sub = e[e["sign"] == k]
            ax.errorbar(
                sub[p],
                sub["effect"],
                yerr=[sub["effect"] - sub["lo"], sub["hi"] - sub["effect"]],
                fmt="o",
                ms=3.5,
                color=c,
                elinewidth=0.8,
                label=f"{SIGNS[k]} ({(e['sign'] == k).mean():.0%})",
            )
        ax.axhline(0, color="0.2", lw=0.8)
        ax.set_xlim(*exp.parameters[p])
        ax.set_xlabel(f"{p} (Spearman rho {r['top_rho']:+.2f})", fontsize=8)
        ax.set_title("\n".join(textwrap.wrap(HEADLINES[r["headline"]].label, 46)), fontsize=8.5)
        ax.tick_params(labelsize=7.5)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    fig.suptitle(
        f"{exp.name}: each headline at {len(effects['sample'].unique())} points drawn from the posterior, "
        f"{len(exp.seeds)} seeds each;\nbars: {int(exp.conf_level * 100)}% Monte Carlo interval of the point's "
        "mean paired difference; x: the parameter it follows most",
        fontsize=9,
    )
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.7 / fig.get_figheight()))
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")


#: The range each index lives in: Sobol's shares of variance in [0, 1], Morris' mu* (a mean of |effects|) >= 0
INDEX_RANGE = {"S1": (0.0, 1.0), "ST": (0.0, 1.0), "mu_star": (0.0, np.inf)}
RANGE_WORDS = {"sobol": "[0, 1]", "morris": "mu* >= 0"}


def drawn_interval(col: str, value: np.ndarray, half: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The confidence interval value +- half as the figure draws it: clipped to the index's valid range.

    SALib's bootstrap intervals are symmetric and can reach below 0 (or above 1 for a Sobol index), where
    the index cannot be; the tables keep the raw value and half-width.
    """
    lo, hi = INDEX_RANGE.get(col, (-np.inf, np.inf))
    return np.clip(value - half, lo, hi), np.clip(value + half, lo, hi)


def bar_plot(exp: Experiment, table: Any, path: Path) -> None:
    import textwrap

    from matplotlib.figure import Figure

    from sim.studies.headlines import HEADLINES

    n = len(exp.outputs)  # one row of bars per output
    fig = Figure(figsize=(max(9.0, 0.75 * len(exp.parameters) + 2.5), 2.9 * n + 1.0))
    axes = fig.subplots(n, 1, squeeze=False)
    bars = (
        (("S1", "first order S1"), ("ST", "total ST"))
        if exp.method == "sobol"
        else (("mu_star", "mu* (mean |elementary effect|)"), ("sigma", "sigma (interactions, non-linearity)"))
    )
    x = np.arange(len(exp.parameters))
    for ax, output in zip(axes[:, 0], exp.outputs, strict=True):
        sub = table[table.output == output].set_index("parameter").loc[list(exp.parameters)]
        for k, (col, label) in enumerate(bars):
            at = x + (k - 0.5) * 0.38
            ax.bar(at, sub[col], width=0.38, label=label, color=f"C{k}")
            err = sub.get(f"{col}_conf")
            if err is not None:  # the interval within the index's range, whatever the raw estimate
                lo, hi = drawn_interval(col, sub[col].to_numpy(float), err.to_numpy(float))
                ax.errorbar(at, (lo + hi) / 2, yerr=(hi - lo) / 2, fmt="none", ecolor="0.15", capsize=3, lw=1)
        ax.set_xticks(
            x, list(exp.parameters) if ax is axes[-1][0] else [""] * len(x), rotation=30, ha="right", fontsize=8
        )
        ax.axhline(0, color="0.3", lw=0.8)
        title = HEADLINES[output].label if output in HEADLINES else output
        noise = sub["noise_share"].iloc[0]
        if np.isfinite(noise):
            title += f"  (seed noise: {noise:.0%} of the spread of point means)"
        ax.set_title("\n".join(textwrap.wrap(title, 100)), fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].legend(fontsize=8)
    runs = int(table["runs"].iloc[0])
    what = "Sobol indices" if exp.method == "sobol" else "Morris screening"
    fig.suptitle(
        f"{exp.name}: {what}, {int(exp.conf_level * 100)}% bootstrap CI drawn within {RANGE_WORDS[exp.method]} "
        f"(raw bounds in indices.csv)\nN={exp.N}, {runs} runs, {len(exp.seeds)} seed(s) per point",
        fontsize=10,
    )
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.8 / fig.get_figheight()))  # room for the two-line title
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, format="png")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.studies.sensitivity", description=__doc__.splitlines()[0])
    parser.add_argument("experiment", type=Path, help="experiment definition (YAML)")
    parser.add_argument(
        "--out",
        type=Path,
        help="output directory (default: $SIM_SENSITIVITY_DIR/NAME, else sensitivity/NAME under the outputs root)",
    )
    parser.add_argument("--dry-run", action="store_true", help="write the sample and print the sweep command")
    parser.add_argument("--analyze-only", action="store_true", help="recompute the indices from finished runs")
    parser.add_argument(
        "--set",
        dest="sets",
        action="append",
        nargs="+",
        default=[],
        metavar="KEY=VALUE",
        help="replace a setting of the definition (values read as YAML), e.g. --set N=8 seeds=[0] levels=6",
    )
    parser.add_argument("--N", type=int, help="the same as --set N=VALUE, e.g. a quick --N 2")
    parser.add_argument("--seeds", help="the same as --set seeds=[...], comma-separated, e.g. 0,1")
    parser.add_argument("overrides", nargs="*", help="extra overrides for the sweep (e.g. hydra/launcher=ray)")
    args = parser.parse_intermixed_args(argv)
    try:
        exp = load(args.experiment, command_line_sets([i for group in args.sets for i in group], args.N, args.seeds))
        fields = {f.name for f in dataclasses.fields(Experiment)} - {"path"}
        for o in args.overrides:
            if o.split("=", 1)[0] in fields:
                raise InputError(
                    f"{o}: the experiment's {o.split('=', 1)[0]} is set with --set {o}, not as a model override"
                )
        model_overrides = [o for o in args.overrides if not o.lstrip("+~").startswith("hydra")]
        if model_overrides:  # checked with the sample, before anything is written
            exp.overrides = [*exp.overrides, *model_overrides]
            args.overrides = [o for o in args.overrides if o not in model_overrides]
        out = (args.out or sensitivity_root() / exp.name).resolve()
        check_out(out)  # before the sample's runs: a directory that cannot be made failed with a traceback
        x = sample(exp)
        if not args.analyze_only:
            check_sample(exp, x)
            write_design(exp, x, out)
            arms = list(exp.arms)
            n_runs = len(x) * len(exp.seeds) * len(arms)
            in_arms = f" x {len(arms)} arms ({', '.join(arms)})" if exp.headlines else ""
            print(
                f"{exp.name}: {exp.method}, {len(x)} sample points x {len(exp.seeds)} seed(s){in_arms} = {n_runs} runs",
                flush=True,
            )
            for k, arm in enumerate(arms):
                cmd = sweep_command(exp, out, args.overrides, arm)
                if args.dry_run:
                    print(" ".join(_quote(c) for c in cmd))
                    continue
                if arm:
                    print(f"arm {k + 1} of {len(arms)}: {arm} ({' '.join(exp.arms[arm])})", flush=True)
                proc = subprocess.run(cmd, check=False)
                if proc.returncode:
                    print(f"error: the sweep failed (exit {proc.returncode}); rerun to resume", file=sys.stderr)
                    return proc.returncode
            if args.dry_run:
                return 0
        table = analyze(exp, x, out)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    fmt = lambda v: f"{v:.3f}" if isinstance(v, float) and math.isfinite(v) else str(v)  # noqa: E731
    if exp.method == "posterior":
        shown = table[
            [
                "headline",
                "points",
                "share_positive",
                "share_negative",
                "share_undetermined",
                "median",
                "top_parameter",
                "top_rho",
            ]
        ]
        print(shown.to_string(index=False, float_format=fmt))
        print(f"signs: {out / 'signs.csv'}; per point: {out / 'effects.csv'}; plot: {out / 'signs.png'}")
        return 0
    with_conf = table.drop(columns=["method", "conf_level", "runs"])
    print(with_conf.to_string(index=False, float_format=fmt))
    print(f"indices: {out / 'indices.csv'}, {out / 'indices.parquet'}; plot: {out / 'indices.png'}")
    return 0


@dataclasses.dataclass
class Results:
    experiment: Experiment
    out: Path
    x: np.ndarray  # the sample, one row per point
    table: Any  # indices (sobol, morris) or signs (posterior)
    per_seed: Any  # one row per point and seed, one column per output
    effects: Any = None  # posterior: one row per point and headline


def sensitivity_root() -> Path:
    """$SIM_SENSITIVITY_DIR, else sensitivity/ under the outputs root (sim.studies.naming.outputs_root)."""
    from sim.studies.naming import outputs_root

    return Path(os.environ.get("SIM_SENSITIVITY_DIR", outputs_root() / "sensitivity"))


def results(name: str, run_if_missing: bool = True) -> Results:
    """The results of the experiment `name`, run first (`main`) if missing: for notebooks.

    The definition is `DIR/NAME.yaml`, DIR from the environment variable SIM_SENSITIVITY_DEFINITIONS
    (default experiments/sensitivity/); outputs under SIM_SENSITIVITY_DIR (default outputs/sensitivity/).
    """
    import pandas as pd

    defs = Path(os.environ.get("SIM_SENSITIVITY_DEFINITIONS", DEFINITIONS))
    exp = load(defs / f"{name}.yaml")
    out = (sensitivity_root() / exp.name).resolve()
    done = out / ("signs.parquet" if exp.method == "posterior" else "indices.parquet")
    if not done.exists() or done.stat().st_mtime < (defs / f"{name}.yaml").stat().st_mtime:
        if not run_if_missing:
            raise InputError(f"{done} is missing: run python -m sim.studies.sensitivity {defs / f'{name}.yaml'}")
        print(f"outputs missing or older than the definition; running {exp.name}", flush=True)
        code = main([str(defs / f"{name}.yaml"), "--out", str(out)])
        if code:
            raise InputError(f"the experiment {exp.name} failed (exit {code})")
    x = sample(exp)
    table = pd.read_parquet(done)
    effects = pd.read_parquet(out / "effects.parquet") if exp.method == "posterior" else None
    return Results(exp, out, x, table, per_seed(exp, out), effects)


def _quote(s: str) -> str:
    import shlex

    return shlex.quote(s)


if __name__ == "__main__":
    sys.exit(main())
