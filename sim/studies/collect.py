"""Join a sweep's runs into tidy tables and a figure: `python -m sim.studies.collect SWEEP_DIR`.

Writes, next to the runs (each file atomically):
- `SWEEP_DIR/summary.parquet`: one row per complete run: `run_id`, `seed`, one column per swept key
  (the key as typed on the command line, e.g. `influence.rate`, `scenario`; typed from the run's
  config: ints as ints, floats as floats, strings as strings; a config group gives its option name),
  then the run's summary.json flattened (`final.<metric>`, `initial.<metric>`, `recovery.<key>`,
  `n_ties`, `wall_time_s`, ...);
- `SWEEP_DIR/metrics.parquet`: every run's metrics.parquet (`step, scope, level, metric, value`)
  with `run_id`, `seed` and the swept keys in front;
- `SWEEP_DIR/summary.columns.csv` and `metrics.columns.csv`: the data dictionary of the two tables, one
  row per column (column, type, label, unit, meaning, origin, reference), from the same words as the
  figures (`sim.run.dictionary`, `sim.metrics.catalog`; a swept key's from `sim.config.params`);
- `SWEEP_DIR/sweep_<metric>.png`: the chosen metric against each swept key, mean and 95% confidence
  interval of the mean across seeds (t interval), its axes labelled in words with units.

`dataset(SWEEP_DIR)` reads the same metrics without copying them: a `pyarrow.dataset` over the run
directories' own metrics.parquet, with `run_id`, `seed` and one column per swept key, equal to the
collected metrics.parquet and queryable lazily (pyarrow, DuckDB, Polars) however many runs there are.

Only complete runs are read (their completion marker, written last, lists every file with its size and
sha256). A run whose marker no longer matches its files (altered or corrupted after it completed), or
whose files cannot be read, fails the collection (`CollectError`, one line per run at fault) and the
sweep's older collected tables and figure are removed, so that no stale table outlives a failed collection;
the runs are streamed one at a time and agents.parquet is never opened, so memory does not grow with
the number of runs or the size of their agent snapshots. Safe to run while a sweep is still going.
Two complete runs with the same overrides (a run directory left by an older naming of run directories)
count once: the one that ended last; a warning names the others.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import math
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sim.config.compose import get_value
from sim.config.errors import InputError
from sim.core.deferred import defer
from sim.run.completion import MARKER, load_marker, verify
from sim.run.io import ParquetStream, atomic_path

SUMMARY_BATCH = 2000  # summary rows held before they are written as a row group
#: rows of metrics.parquet held before they are written as a row group: about one run's rows at the default
#: size (each run's file is read whole and written at once when it has more), so each row group is encoded
#: on the stream's thread while the next runs are read, instead of most of the file at the end; a reader
#: that filters on run_id also skips whole row groups
METRICS_GROUP_ROWS = 1 << 16
DICTIONARIES = ("summary.columns.csv", "metrics.columns.csv")  # the data dictionary of each table
COLLECTED = ("summary.parquet", "metrics.parquet", *DICTIONARIES, "sweep_*.png")  # what a collection writes
READ = ("metrics.parquet", "summary.json")  # what it reads of a run: hashed against the marker; the rest by size
log = logging.getLogger("sim.studies")


class CollectError(Exception):
    """A sweep's runs could not be collected: the runs at fault, one per line after the first."""


def complete_runs(sweep_dir: Path, hashed: tuple[str, ...] = READ) -> tuple[list[tuple[Path, dict[str, Any]]], int]:
    """(run dir, marker) of every complete run, in job order; and how many run dirs are incomplete.

    Raises CollectError if a run's marker does not match its files (altered after it completed): the
    files `hashed` by content, the others by size.
    """
    runs, incomplete, altered = [], 0, []
    for d in sorted(p for p in sweep_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
        marker = load_marker(d)
        if marker is None:
            if (d / ".hydra").is_dir() or any(d.glob("*.parquet")) or (d / MARKER).exists():
                incomplete += 1
            continue
        problem = verify(d, marker, hashed=hashed)
        if problem is None:
            runs.append((d, marker))
        else:
            altered.append(f"{d.name}: {problem}")
    if altered:
        raise CollectError(
            f"{len(altered)} run(s) of {sweep_dir} no longer match their completion marker (run the sweep "
            "again to redo them):\n  " + "\n  ".join(altered)
        )
    runs = _newest_per_overrides(runs)
    runs.sort(key=lambda rm: (_job_num(rm[1]) is None, _job_num(rm[1]) or 0, rm[0].name))
    return runs, incomplete


def _newest_per_overrides(runs: list[tuple[Path, dict[str, Any]]]) -> list[tuple[Path, dict[str, Any]]]:
    """One run per set of overrides: the one that ended last (an older naming may have left another)."""
    newest: dict[tuple[str, ...], tuple[Path, dict[str, Any]]] = {}
    kept, older = [], []
    for d, marker in runs:
        overrides = tuple((marker.get("hydra") or {}).get("overrides") or ())
        if not overrides:
            kept.append((d, marker))
            continue
        other = newest.get(overrides)
        if other is None or str(marker.get("ended", "")) > str(other[1].get("ended", "")):
            newest[overrides] = (d, marker)
            if other is not None:
                older.append(other[0].name)
        else:
            older.append(d.name)
    if older:
        log.warning(
            "%d run dir(s) hold the same overrides as a newer run and are not collected: %s",
            len(older),
            ", ".join(sorted(older)[:5]) + (" ..." if len(older) > 5 else ""),
        )
    return kept + list(newest.values())


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
    """summary.json as one row: `section.key` for a section's keys; a list as its items joined by commas."""
    out: dict[str, Any] = {}
    for k, v in summary.items():
        if k == "versions":
            continue
        for name, value in ((f"{k}.{k2}", v2) for k2, v2 in v.items()) if isinstance(v, dict) else [(k, v)]:
            out[name] = ",".join(map(str, value)) if isinstance(value, list | tuple) else value
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


def _front(
    sweep_dir: Path, runs: list[tuple[Path, dict[str, Any]]]
) -> tuple[list[str], dict[str, list[Any]], pa.Schema]:
    """The swept keys, and the columns in front of every row: run_id, seed and the swept keys, typed."""
    keys = [k for k in swept_keys(sweep_dir, runs) if k not in ("run_id", "seed")]
    front: dict[str, list[Any]] = {
        "run_id": [str(d.relative_to(sweep_dir)) for d, _ in runs],
        "seed": [int(m["seed"]) for _, m in runs],
    }
    types = {"run_id": pa.string(), "seed": pa.int64()}
    for k in keys:
        values = [typed_value(m, k) for _, m in runs]
        types[k] = arrow_type(values)
        front[k] = [_cast(v, types[k]) for v in values]
    return keys, front, pa.schema([(k, types[k]) for k in front])


def _metrics_schema(front_schema: pa.Schema) -> pa.Schema:
    """The collected metrics' schema: run_id (dictionary-encoded), seed, the swept keys, then a run's columns."""
    from sim.run.recorder import SCHEMA

    run_id_type = pa.dictionary(pa.int32(), pa.string())
    fields = [pa.field("run_id", run_id_type)] + [f for f in front_schema if f.name != "run_id"]
    return pa.schema(fields + list(SCHEMA))


def _collect(sweep_dir: Path, metric: str, scopes: list[str] | None, figure: bool) -> dict[str, Any]:
    runs, incomplete = complete_runs(sweep_dir)
    result: dict[str, Any] = {"runs": len(runs), "incomplete": incomplete, "keys": [], "figure": None}
    if not runs:
        return result
    keys, front, front_schema = _front(sweep_dir, runs)
    result["keys"] = keys

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

    # the figure (from summary.parquet) is drawn beside the metrics' collection, which is mostly pyarrow's
    # reading, casting and compressing outside the GIL: the sweep's tail is the longer of the two
    with ThreadPoolExecutor(1, thread_name_prefix="sweep-figure") as pool:
        drawn = pool.submit(sweep_figure, sweep_dir, metric, keys) if figure else None
        # metrics.parquet: one run at a time, in record batches
        _collect_metrics(sweep_dir, runs, front, front_schema, scopes)
        write_dictionaries(sweep_dir, schema, _metrics_schema(front_schema), keys)
        if drawn is not None:
            result["figure"] = str(drawn.result())
    return result


def _collect_metrics(
    sweep_dir: Path,
    runs: list[tuple[Path, dict[str, Any]]],
    front: dict[str, list[Any]],
    front_schema: pa.Schema,
    scopes: list[str] | None,
) -> None:
    from sim.run.recorder import SCHEMA

    schema = _metrics_schema(front_schema)
    fields = list(schema)[: len(front_schema)]
    # the columns in front (run_id, seed, the swept keys) hold one value per run: stored with a dictionary
    stream = ParquetStream(
        sweep_dir / "metrics.parquet", schema, group_rows=METRICS_GROUP_ROWS, dictionary=[f.name for f in fields]
    )
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


DICTIONARY_FIELDS = ("column", "type", "label", "unit", "meaning", "origin", "reference")


def key_column(key: str) -> dict[str, str]:
    """Words and unit of a swept key: a parameter of sim.config.params, a config group, or another override."""
    from sim.config.compose import CONF_DIR
    from sim.config.params import parameter_table

    origin = f"the run's config: {key}, as swept on the command line"
    if (CONF_DIR / key).is_dir():
        return {
            "label": f"{key} (option of conf/{key}/)",
            "unit": "name",
            "meaning": f"the option of the config group {key} (conf/{key}/NAME.yaml)",
            "origin": origin,
        }
    row = next((r for r in parameter_table() if r["key"] == key), None)
    if row is not None:
        words = str(row.get("doc") or key)
        return {"label": words, "unit": str(row.get("unit") or ""), "meaning": words, "origin": origin}
    return {"label": key, "unit": "", "meaning": f"the swept override {key} (not a model parameter)", "origin": origin}


def column_words(column: str, keys: list[str]) -> dict[str, str]:
    """The dictionary's words for a column of the collected tables (empty strings if nothing describes it)."""
    from sim.run.dictionary import describe

    if column == "run_id":
        return {
            "label": "run",
            "unit": "path",
            "meaning": "the run's directory, relative to the sweep directory",
            "origin": "the sweep directory",
        }
    if column in keys:
        return key_column(column)
    d = describe(column)
    if d is None:
        return {"label": "", "unit": "", "meaning": "", "origin": ""}
    return {"label": d.label, "unit": d.unit, "meaning": d.meaning, "origin": d.origin, "reference": d.reference}


def dictionary_rows(schema: pa.Schema, keys: list[str]) -> list[dict[str, str]]:
    """One row per column of `schema`: column, type, label, unit, meaning, origin, reference."""
    rows = []
    for f in schema:
        words = column_words(f.name, keys)
        typ = f.type.value_type if pa.types.is_dictionary(f.type) else f.type
        rows.append({"column": f.name, "type": str(typ), **{k: words.get(k, "") for k in DICTIONARY_FIELDS[2:]}})
    return rows


def write_dictionaries(sweep_dir: Path, summary: pa.Schema, metrics: pa.Schema, keys: list[str]) -> None:
    """summary.columns.csv and metrics.columns.csv beside the tables they describe (atomically)."""
    for name, schema in zip(DICTIONARIES, (summary, metrics), strict=True):
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=DICTIONARY_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(dictionary_rows(schema, keys))
        with atomic_path(sweep_dir / name) as tmp:
            tmp.write_text(buf.getvalue())


def axis_label(column: str, keys: list[str] | tuple[str, ...] = ()) -> str:
    """A figure's label for a column: words and unit ('Esteban-Ray polarization at the last step (index, 0-1)').

    A swept key's label ends with the key itself on a second line, as typed on the command line.
    """
    words = column_words(column, list(keys))
    if not words["label"]:
        return column
    unit = words["unit"]
    label = f"{words['label']} ({unit})" if unit and unit not in ("name", "integer") else words["label"]
    return f"{label}\n{column}" if column in keys else label


def dataset(sweep_dir: str | Path) -> Any:
    """Every complete run's metrics.parquet as one lazy `pyarrow.dataset.Dataset`, nothing copied.

    Columns: `run_id`, `seed`, one per swept key (typed as in the collected tables), then `step, scope,
    level, metric, value`: the rows of the collected metrics.parquet, read from the run directories only
    when scanned, and only the runs a filter on run_id, seed or a swept key keeps. Only the markers are
    read to build it (each run's files checked against its marker by size). Query it with pyarrow
    (`.to_table(filter=..., columns=...)`), DuckDB (`duckdb.sql("... FROM ds")`) or Polars
    (`polars.scan_pyarrow_dataset(ds)`): docs/sweeps.md.
    """
    import pyarrow.dataset as ds
    import pyarrow.fs as pafs

    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise InputError(f"not a sweep directory: {sweep_dir}")
    runs, _ = complete_runs(sweep_dir, hashed=())
    if not runs:
        raise InputError(f"no complete run in {sweep_dir}")
    _, front, front_schema = _front(sweep_dir, runs)
    schema = _metrics_schema(front_schema)
    partitions = []
    for i in range(len(runs)):
        expr = None
        for f in front_schema:
            v = front[f.name][i]
            term = ds.field(f.name).is_null() if v is None else ds.field(f.name) == pa.scalar(v, type=f.type)
            expr = term if expr is None else expr & term
        partitions.append(expr)
    return ds.FileSystemDataset.from_paths(
        [str(d / "metrics.parquet") for d, _ in runs],
        schema=schema,
        format=ds.ParquetFileFormat(),
        filesystem=pafs.LocalFileSystem(),
        partitions=partitions,
    )


def _batches(path: Path) -> Iterator[pa.RecordBatch]:
    """A run's metrics in record batches; a file that cannot be read is a CollectError naming it."""
    try:
        pf = pq.ParquetFile(path)
        yield from pf.iter_batches(batch_size=262_144)
    except (OSError, pa.ArrowException) as err:
        raise CollectError(f"{path.parent.name}/{path.name} cannot be read: {err}") from err


def t_half_width(v: np.ndarray, level: float = 0.95) -> float:
    """Half-width of the t interval at `level` of the mean of `v` (finite values, at least two)."""
    # Student's t quantile (scipy.stats.t.ppf's own, without scipy.stats), from scipy's compiled functions
    # without the rest of scipy.special (its __init__ waits: 0.08 s of every sweep's collection)
    defer("scipy.special", {"stdtrit": "scipy.special._ufuncs"})
    from scipy.special import stdtrit

    return float(stdtrit(len(v) - 1, 0.5 + level / 2) * v.std(ddof=1) / math.sqrt(len(v)))


def _ci95(values: np.ndarray) -> tuple[float, float, int]:
    """Mean and half-width of the 95% t interval of the mean (NaN half-width for one value)."""
    v = values[np.isfinite(values)]
    n = len(v)
    if n == 0:
        return math.nan, math.nan, 0
    if n == 1:
        return float(v[0]), math.nan, 1
    return float(v.mean()), t_half_width(v), n


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
    ylabel = axis_label(metric)
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
        ax.set_ylabel(_wrap(ylabel, 45), fontsize=9)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    lo, hi = int(seeds.min()), int(seeds.max())
    name = sweep_dir.name if len(sweep_dir.name) <= 90 else sweep_dir.name[:87] + "..."
    what = f"{ylabel}: mean and 95% CI of the mean across seeds ({lo if lo == hi else f'{lo}-{hi}'} seeds per point)"
    fig.suptitle(f"{name}\n{_wrap(what, int(fig.get_figwidth() * 13))}", fontsize=9)
    fig.tight_layout()
    out = sweep_dir / f"sweep_{metric.replace('.', '_')}.png"
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    return out


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text


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
    words, _, typed = axis_label(key, [key]).partition("\n")
    ax.set_xlabel(_wrap(words, 60) + (f"\n{typed}" if typed else ""), fontsize=9)
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
        "metrics.parquet, their data dictionaries (summary.columns.csv, metrics.columns.csv)"
        + (f", {Path(result['figure']).name}" if result["figure"] else "")
    )
    print("swept keys: " + (", ".join(result["keys"]) or "(seed only)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
