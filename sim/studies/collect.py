"""Join a sweep's runs into tidy tables and a figure: `python -m sim.studies.collect SWEEP_DIR`.

Writes, next to the runs (each file atomically):
- `SWEEP_DIR/summary.parquet`: one row per complete run: `run_id`, `seed`, one column per swept key
  (the key as typed on the command line, e.g. `influence.rate`, `scenario`; typed from the run's
  config: ints as ints, floats as floats, strings as strings; a config group gives its option name),
  then the run's summary.json flattened (`final.<metric>`, `initial.<metric>`, `recovery.<key>`,
  `n_ties`, `wall_time_s`, ...);
- `SWEEP_DIR/metrics.parquet`: every run's metrics.parquet (`step, scope, level, metric, value`)
  with `run_id`, `seed` and the swept keys in front;
- `SWEEP_DIR/sweep_<metric>.png`: the chosen metric against each swept key, mean and 95% confidence
  interval of the mean across seeds (t interval).

Only complete runs are read (their completion marker, written last, lists every file with its size and
sha256). A run whose marker no longer matches its files (altered or corrupted after it completed), or
whose files cannot be read, fails the collection (`CollectError`, one line per run at fault) and the
sweep's older collected tables and figure are removed, so that no stale table outlives a failed collection;
the runs are streamed one at a time and agents.parquet is never opened, so memory does not grow with
the number of runs or the size of their agent snapshots. Safe to run while a sweep is still going.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sim.config.compose import get_value
from sim.config.errors import InputError
from sim.run.completion import MARKER, load_marker, verify
from sim.run.io import ParquetStream, atomic_path

SUMMARY_BATCH = 2000  # summary rows held before they are written as a row group
COLLECTED = ("summary.parquet", "metrics.parquet", "sweep_*.png")  # what a collection writes in SWEEP_DIR
READ = ("metrics.parquet", "summary.json")  # what it reads of a run: hashed against the marker; the rest by size


class CollectError(Exception):
    """A sweep's runs could not be collected: the runs at fault, one per line after the first."""


def complete_runs(sweep_dir: Path) -> tuple[list[tuple[Path, dict[str, Any]]], int]:
    """(run dir, marker) of every complete run, in job order; and how many run dirs are incomplete.

    Raises CollectError if a run's marker does not match its files (altered after it completed).
    """
    runs, incomplete, altered = [], 0, []
    for d in sorted(p for p in sweep_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
        marker = load_marker(d)
        if marker is None:
            if (d / ".hydra").is_dir() or any(d.glob("*.parquet")) or (d / MARKER).exists():
                incomplete += 1
            continue
        problem = verify(d, marker, hashed=READ)
        if problem is None:
            runs.append((d, marker))
        else:
            altered.append(f"{d.name}: {problem}")
    if altered:
        raise CollectError(
            f"{len(altered)} run(s) of {sweep_dir} no longer match their completion marker (run the sweep "
            "again to redo them):\n  " + "\n  ".join(altered)
        )
    runs.sort(key=lambda rm: (_job_num(rm[1]) is None, _job_num(rm[1]) or 0, rm[0].name))
    return runs, incomplete


def _job_num(marker: dict[str, Any]) -> int | None:
    num = (marker.get("hydra") or {}).get("job_num")
    return num if isinstance(num, int) else None


def _parse(overrides: list[str]) -> list[Any]:
    from hydra.core.override_parser.overrides_parser import OverridesParser

    return OverridesParser.create().parse_overrides([o for o in overrides if o])


def _key(override: Any) -> str:
    return override.key_or_group.lstrip("+~")


def declared_sweeps(sweep_dir: Path) -> list[str]:
    """Keys declared as sweeps (`a=1,2`, `range(...)`) in the sweep's multirun.yaml, in order."""
    from omegaconf import OmegaConf

    path = sweep_dir / "multirun.yaml"
    if not path.exists():
        return []
    try:
        cfg = OmegaConf.load(path)
        task = list(cast(list[str], OmegaConf.to_container(cfg.hydra.overrides.task, resolve=False)))
        params = OmegaConf.select(cfg, "hydra.sweeper.params") or {}
        # the config's sweeps (an experiment's) first; a key also on the command line takes its value there
        last = {_key(o): o for o in _parse([f"{k}={v}" for k, v in params.items()] + task)}
        return [k for k, o in last.items() if o.is_sweep_override() and not k.startswith("hydra")]
    except Exception:
        return []


def swept_keys(sweep_dir: Path, runs: list[tuple[Path, dict[str, Any]]]) -> list[str]:
    """Keys declared as sweeps, then any other override key whose value differs between runs."""
    keys = list(dict.fromkeys(declared_sweeps(sweep_dir)))
    seen: dict[str, set[str]] = {}
    for _, marker in runs:
        for o in (marker.get("hydra") or {}).get("overrides", []):
            k, _, v = o.partition("=")
            k = k.lstrip("+~")
            if not k.startswith("hydra"):
                seen.setdefault(k, set()).add(v)
    keys += sorted(k for k, vs in seen.items() if len(vs) > 1 and k not in keys)
    return keys


def typed_value(marker: dict[str, Any], key: str) -> Any:
    """The value of `key` in a run: from its typed config, a group's option name, or the override."""
    node = get_value(marker.get("config", {}), key, default=None)
    if node is not None and not isinstance(node, dict):
        return node
    hydra = marker.get("hydra") or {}
    for o in hydra.get("overrides", []):
        if o.partition("=")[0].lstrip("+~") == key:
            return _parse([o])[0].value()
    return (hydra.get("choices") or {}).get(key)


def arrow_type(values: list[Any]) -> pa.DataType:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return pa.bool_()
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return pa.int64()
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return pa.float64()
    return pa.string()


def _cast(value: Any, typ: pa.DataType) -> Any:
    if value is None:
        return None
    if typ == pa.string():
        return str(value)
    if typ == pa.float64():
        return float(value)
    return value


def flatten(summary: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in summary.items():
        if k == "versions":
            continue
        if isinstance(v, dict):
            for k2, v2 in v.items():
                out[f"{k}.{k2}"] = v2
        else:
            out[k] = v
    return out


def _summary_schema(rows: list[dict[str, Any]], front: pa.Schema) -> pa.Schema:
    fields = list(front)
    names = set(front.names)
    for name in dict.fromkeys(k for r in rows for k in r):
        if name in names:
            continue
        values = [r.get(name) for r in rows]
        if name.split(".")[0] in ("final", "initial", "recovery"):
            typ = pa.float64()
        else:
            typ = arrow_type(values)
            typ = pa.float64() if not any(v is not None for v in values) else typ
        fields.append(pa.field(name, typ))
    return pa.schema(fields)


def _summary_rows(runs: list[tuple[Path, dict[str, Any]]], front: dict[str, list[Any]]) -> Iterator[dict]:
    for i, (d, _) in enumerate(runs):
        row = {k: v[i] for k, v in front.items()}
        try:
            summary = json.loads((d / "summary.json").read_text())
        except (OSError, ValueError) as err:
            raise CollectError(f"{d.name}/summary.json cannot be read: {err}") from err
        for k, v in flatten(summary).items():
            if k not in row:
                row[k] = v
        yield row


def collect(
    sweep_dir: str | Path, metric: str = "final.esteban_ray", scopes: list[str] | None = None, figure: bool = True
) -> dict[str, Any]:
    """Write SWEEP_DIR/summary.parquet, metrics.parquet and the sweep figure; returns what was done."""
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise InputError(f"not a sweep directory: {sweep_dir}")
    try:
        return _collect(sweep_dir, metric, scopes, figure)
    except (CollectError, InputError, OSError, pa.ArrowException) as err:
        for pattern in COLLECTED:  # no table of an older collection stays beside a failed one
            for path in sweep_dir.glob(pattern):
                path.unlink(missing_ok=True)
        if isinstance(err, CollectError | InputError):
            raise
        raise CollectError(f"could not collect {sweep_dir}: {err}") from err


def _collect(sweep_dir: Path, metric: str, scopes: list[str] | None, figure: bool) -> dict[str, Any]:
    runs, incomplete = complete_runs(sweep_dir)
    result: dict[str, Any] = {"runs": len(runs), "incomplete": incomplete, "keys": [], "figure": None}
    if not runs:
        return result
    keys = [k for k in swept_keys(sweep_dir, runs) if k not in ("run_id", "seed")]
    result["keys"] = keys
    front: dict[str, list[Any]] = {
        "run_id": [str(d.relative_to(sweep_dir)) for d, _ in runs],
        "seed": [int(m["seed"]) for _, m in runs],
    }
    types = {"run_id": pa.string(), "seed": pa.int64()}
    for k in keys:
        values = [typed_value(m, k) for _, m in runs]
        types[k] = arrow_type(values)
        front[k] = [_cast(v, types[k]) for v in values]
    front_schema = pa.schema([(k, types[k]) for k in front])

    # summary.parquet: rows in batches (a few numbers per run)
    rows = _summary_rows(runs, front)
    first = [r for _, r in zip(range(SUMMARY_BATCH), rows, strict=False)]
    schema = _summary_schema(first, front_schema)
    stream = ParquetStream(sweep_dir / "summary.parquet", schema)
    try:
        batch = first
        while batch:
            stream.write(pa.Table.from_pylist([{n: r.get(n) for n in schema.names} for r in batch], schema))
            batch = [r for _, r in zip(range(SUMMARY_BATCH), rows, strict=False)]
        stream.close()
    except BaseException:
        stream.abort()
        raise

    # metrics.parquet: one run at a time, in record batches
    _collect_metrics(sweep_dir, runs, front, front_schema, scopes)
    if figure:
        result["figure"] = str(sweep_figure(sweep_dir, metric, keys))
    return result


def _collect_metrics(
    sweep_dir: Path,
    runs: list[tuple[Path, dict[str, Any]]],
    front: dict[str, list[Any]],
    front_schema: pa.Schema,
    scopes: list[str] | None,
) -> None:
    from sim.run.recorder import SCHEMA

    run_id_type = pa.dictionary(pa.int32(), pa.string())
    fields = [pa.field("run_id", run_id_type)] + [f for f in front_schema if f.name != "run_id"]
    schema = pa.schema(fields + list(SCHEMA))
    stream = ParquetStream(sweep_dir / "metrics.parquet", schema)
    try:
        for i, (d, _) in enumerate(runs):
            for batch in _batches(d / "metrics.parquet"):
                table = pa.Table.from_batches([batch])
                if scopes:
                    scope = table.column("scope").cast(pa.string())
                    table = table.filter(pc.is_in(scope, value_set=pa.array(scopes)))
                n = table.num_rows
                if not n:
                    continue
                cols = [pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)), pa.array([front["run_id"][i]]))]
                cols += [pa.repeat(pa.scalar(front[f.name][i], type=f.type), n) for f in fields[1:]]
                cols += [table.column(f.name) for f in SCHEMA]
                stream.write(pa.Table.from_arrays(cols, schema=schema))
        stream.close()
    except BaseException:
        stream.abort()
        raise


def _batches(path: Path) -> Iterator[pa.RecordBatch]:
    """A run's metrics in record batches; a file that cannot be read is a CollectError naming it."""
    try:
        pf = pq.ParquetFile(path)
        yield from pf.iter_batches(batch_size=262_144)
    except (OSError, pa.ArrowException) as err:
        raise CollectError(f"{path.parent.name}/{path.name} cannot be read: {err}") from err


def _ci95(values: np.ndarray) -> tuple[float, float, int]:
    """Mean and half-width of the 95% t interval of the mean (NaN half-width for one value)."""
    from scipy import stats

    v = values[np.isfinite(values)]
    n = len(v)
    if n == 0:
        return math.nan, math.nan, 0
    if n == 1:
        return float(v[0]), math.nan, 1
    half = float(stats.t.ppf(0.975, n - 1) * v.std(ddof=1) / math.sqrt(n))
    return float(v.mean()), half, n


def sweep_figure(sweep_dir: Path, metric: str, keys: list[str]) -> Path:
    """`metric` against each swept key: mean and 95% interval across seeds; returns the PNG's path."""
    import pandas as pd
    from matplotlib.figure import Figure

    names = pq.read_schema(sweep_dir / "summary.parquet").names
    if metric not in names and f"final.{metric}" in names:
        metric = f"final.{metric}"
    if metric not in names:
        options = ", ".join(n for n in names if n.startswith(("final.", "recovery.")))
        raise InputError(f"unknown sweep metric: {metric!r}; allowed: {options}")
    keys = [k for k in keys if k != "seed"]
    df = pq.read_table(sweep_dir / "summary.parquet", columns=list(dict.fromkeys(["seed", metric, *keys])))
    df = df.to_pandas()
    df[metric] = pd.to_numeric(df[metric], errors="coerce")
    panels = keys[:6] or ["seed"]
    ncols = min(3, len(panels))
    nrows = math.ceil(len(panels) / ncols)
    fig = Figure(figsize=(max(7.0, 4.8 * ncols), 3.6 * nrows + 0.6))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    seeds = df.groupby(keys)["seed"].nunique() if keys else pd.Series([df["seed"].nunique()])
    for ax, key in zip(axes.flat, panels, strict=False):
        if key == "seed":  # only seeds were swept: the spread across seeds
            m, h, n = _ci95(df[metric].to_numpy(float))
            ax.plot(np.zeros(len(df)), df[metric], "o", alpha=0.4, color="0.5", label="runs")
            ax.errorbar(
                [0],
                [m],
                yerr=[0 if math.isnan(h) else h],
                fmt="s",
                color="C0",
                capsize=6,
                label=f"mean, 95% CI (n={n})",
            )
            ax.set_xticks([])
            ax.set_xlabel("all seeds")
            ax.legend(fontsize=8)
        else:
            _panel(ax, df, metric, key, [k for k in keys if k != key])
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    lo, hi = int(seeds.min()), int(seeds.max())
    name = sweep_dir.name if len(sweep_dir.name) <= 90 else sweep_dir.name[:87] + "..."
    fig.suptitle(
        f"{name}\n{metric}: mean and 95% CI of the mean across seeds "
        f"({lo if lo == hi else f'{lo}-{hi}'} seeds per point)",
        fontsize=9,
    )
    fig.tight_layout()
    out = sweep_dir / f"sweep_{metric.replace('.', '_')}.png"
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    return out


def _panel(ax: Any, df: Any, metric: str, key: str, others: list[str]) -> None:
    combos = df.groupby(others).ngroups if others else 1
    if others and combos <= 6:
        groups = list(df.groupby(others))
    else:
        groups = [(None, df)]
    values = sorted(df[key].dropna().unique(), key=lambda v: (isinstance(v, str), v))
    numeric = all(isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool) for v in values)
    pos = {v: (float(v) if numeric else i) for i, v in enumerate(values)}
    width = (max(pos.values()) - min(pos.values()) or 1) * 0.015 if numeric else 0.08
    for j, (label, sub) in enumerate(groups):
        stats = [
            (pos[v], *_ci95(sub.loc[sub[key] == v, metric].to_numpy(float))) for v in values if (sub[key] == v).any()
        ]
        x = np.array([s[0] for s in stats]) + (j - (len(groups) - 1) / 2) * width
        m = np.array([s[1] for s in stats])
        h = np.nan_to_num(np.array([s[2] for s in stats]))
        if label is None:
            text = "mean" + (f" over {', '.join(others)}" if others else "")
        else:
            label = label if isinstance(label, tuple) else (label,)
            text = ", ".join(f"{k}={v}" for k, v in zip(others, label, strict=True))
        ax.errorbar(x, m, yerr=h, fmt="o-" if numeric else "o", capsize=3, label=text, color=f"C{j}")
        if numeric and len(x) > 1:
            ax.fill_between(x, m - h, m + h, alpha=0.15, color=f"C{j}")
    if not numeric:
        ax.set_xticks(range(len(values)), [str(v) for v in values], rotation=20)
    ax.set_xlabel(key)
    if len(groups) > 1 or others:
        ax.legend(fontsize=7)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.studies.collect", description=__doc__.splitlines()[0])
    parser.add_argument("sweep_dir", type=Path)
    parser.add_argument(
        "--metric",
        default="final.esteban_ray",
        help="column of summary.parquet for the figure (default: final.esteban_ray)",
    )
    parser.add_argument(
        "--scope",
        action="append",
        choices=("all", "group", "profession"),
        help="keep only these metric scopes in metrics.parquet (repeatable; default: all)",
    )
    parser.add_argument("--no-figure", action="store_true")
    args = parser.parse_args(argv)
    try:
        result = collect(args.sweep_dir, metric=args.metric, scopes=args.scope, figure=not args.no_figure)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except CollectError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if not result["runs"]:
        print(f"error: no complete run in {args.sweep_dir} ({result['incomplete']} incomplete)", file=sys.stderr)
        return 1
    print(
        f"{result['runs']} complete runs ({result['incomplete']} incomplete) -> {args.sweep_dir}/summary.parquet, "
        f"metrics.parquet" + (f", {Path(result['figure']).name}" if result["figure"] else "")
    )
    print("swept keys: " + (", ".join(result["keys"]) or "(seed only)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
