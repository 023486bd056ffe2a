"""Records metrics into the tidy long table `step, scope, level, metric, value` (`metrics.parquet`).

A run on a user's network (the runs that write `nodes.parquet`) has one more column, `group_label`: the
user's label of the group with its type (int64 when every label is an integer, else string, as in
`nodes.parquet`), on the rows of scope ``group`` (null on the others), so that the two tables join on
it; `level` holds the same label as text. `metrics_schema` gives the schema of either.

Rows are streamed to Parquet in row groups (memory stays bounded on long runs); the whole
population's series and the stance histograms are also kept in memory for the figure and
the summary (a few numbers per recorded step).
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa

from sim.config.params import Config
from sim.core.kernels import jit
from sim.core.report import StepReport
from sim.core.state import State
from sim.metrics.population import METRICS, SCOPES
from sim.metrics.tracker import MetricsTracker
from sim.run.io import ParquetStream
from sim.step.exposure import level

SCHEMA = pa.schema(
    [
        ("step", pa.int32()),
        ("scope", pa.dictionary(pa.int8(), pa.string())),
        ("level", pa.dictionary(pa.int32(), pa.string())),
        ("metric", pa.dictionary(pa.int16(), pa.string())),
        ("value", pa.float64()),
    ]
)
#: metrics.parquet's typed group label (a run on a user's network), next to `level`
GROUP_LABEL = "group_label"
# pandas reads an int64 column with nulls as float64 (inexact above 2**53, and not the user's type):
# this note in the schema, pandas' own, makes it read the column as its nullable Int64
_PANDAS_INT64 = {
    "index_columns": [],
    "column_indexes": [],
    "columns": [
        {
            "name": GROUP_LABEL,
            "field_name": GROUP_LABEL,
            "pandas_type": "int64",
            "numpy_type": "Int64",
            "metadata": None,
        }
    ],
}
HIST_BINS = 20
_HIST_EDGES = np.linspace(0.0, 1.0, HIST_BINS + 1)  # np.histogram's edges for range (0, 1)


def metrics_schema(group_labels: np.ndarray | None = None) -> pa.Schema:
    """The schema of a run's metrics.parquet: `SCHEMA`, then with a user's group labels `group_label`.

    `group_labels`: the label of each group number (int64 or str, as `EdgeList.group_labels`), or None
    (a generated network: no column, the table as before).
    """
    if group_labels is None:
        return SCHEMA
    if np.issubdtype(group_labels.dtype, np.integer):
        return SCHEMA.append(pa.field(GROUP_LABEL, pa.int64())).with_metadata(
            {b"pandas": json.dumps(_PANDAS_INT64).encode()}
        )
    return SCHEMA.append(pa.field(GROUP_LABEL, pa.string()))


class _Pending:
    """Rows recorded since the last flush, as numpy codes, and the dictionaries the codes index."""

    def __init__(self) -> None:
        self.names: dict[str, dict[str, int]] = {"scope": {}, "level": {}, "metric": {}}
        self.step: list[np.ndarray] = []
        self.scope: list[np.ndarray] = []
        self.level: list[np.ndarray] = []
        self.metric: list[np.ndarray] = []
        self.value: list[np.ndarray] = []
        self.label: list[pa.Array] = []
        self._last: dict[tuple[str, str], tuple[list[str], np.ndarray]] = {}  # a scope's last names, their codes

    def code(self, field: str, names: list[str]) -> np.ndarray:
        """Each name's code in `field`'s dictionary, a new name taking the next code."""
        known = self.names[field]
        return np.array([known.setdefault(name, len(known)) for name in names], dtype=np.int64)

    def scope_codes(self, field: str, scope: str, names: list[str]) -> np.ndarray:
        """`code` of a scope's `names`; the scope's names as last time: the same codes, not looked up again."""
        last = self._last.get((field, scope))
        if last is None or last[0] != names:
            last = self._last[(field, scope)] = (names, self.code(field, names))
        return last[1]


class MetricsRecorder:
    """The metrics of a run, recorded step by step.

    `group_labels`: a user's network's label of each group number (int64 or str): the rows of scope
    ``group`` carry it as text in `level` and with its type in `group_label` (`metrics_schema`); by
    default (None) their level is the group number ``0 .. G-1`` and there is no `group_label` column.
    """

    def __init__(
        self,
        cfg: Config,
        stream: ParquetStream | None = None,
        flush_rows: int = 500_000,
        group_labels: np.ndarray | None = None,
    ) -> None:
        self.cfg = cfg
        self.schema = metrics_schema(group_labels)
        self.group_labels = None if group_labels is None else [str(x) for x in group_labels.tolist()]
        self._typed_labels = (
            None if group_labels is None else pa.array(group_labels.tolist(), self.schema.field(GROUP_LABEL).type)
        )
        self.stream = stream
        self.flush_rows = flush_rows
        self.scopes = [s for s in SCOPES if s == "all" or getattr(cfg.metrics, f"by_{s}")]
        self._pending = _Pending()
        self._rows = 0
        self.steps: list[int] = []
        self.series: dict[str, list[float]] = {m: [] for m in METRICS}
        self.by_profession: dict[str, dict[str, list[float]]] = {}
        self.histograms: list[np.ndarray] = []
        self.tracker = MetricsTracker(cfg)

    def observe(self, state: State, report: StepReport) -> None:
        """After every step (tie events since the previous record, the ledger's window: `MetricsTracker`)."""
        self.tracker.observe(state, report)

    def record(self, state: State, report: StepReport | None) -> None:
        e_t = level(state.t, self.cfg.exposure)
        self.steps.append(state.t)
        self.histograms.append(stance_histogram(state.stance))
        for sv in self.tracker.measure(state, report, self.scopes, e_t):
            scope = sv.scope
            if scope == "all":
                for m in METRICS:
                    self.series[m].append(float(sv.values[m][0]))
            if scope == "profession":
                for lv, name in enumerate(sv.levels):
                    d = self.by_profession.setdefault(name, {m: [] for m in METRICS})
                    for m in METRICS:
                        d[m].append(float(sv.values[m][lv]))
            levels = self.group_labels if scope == "group" and self.group_labels is not None else sv.levels
            self._append(state.t, scope, levels, sv.values)
        if self._rows >= self.flush_rows:
            self.flush()

    def _append(self, step: int, scope: str, levels: list[str], values: dict[str, np.ndarray]) -> None:
        """One scope's rows, kept as codes into the pending rows' dictionaries (no per-row strings).

        The rows of every record up to the next flush become one table (`table`): its dictionaries hold
        each scope, level and metric name once, in the order they first came.
        """
        k = len(levels)
        metric_names = [m for m in METRICS if m in values]
        n = k * len(metric_names)
        rows = self._pending
        level_codes = np.tile(np.arange(k), len(metric_names))
        rows.step.append(np.full(n, step, dtype=np.int32))
        rows.scope.append(np.full(n, rows.code("scope", [scope])[0], dtype=np.int64))
        rows.level.append(rows.scope_codes("level", scope, levels)[level_codes])
        rows.metric.append(np.repeat(rows.scope_codes("metric", scope, metric_names), k))
        rows.value.append(np.concatenate([values[m] for m in metric_names]).astype(np.float64))
        if self._typed_labels is not None:  # the user's label of the group, with its type; null elsewhere
            typed = self._typed_labels
            rows.label.append(typed.take(pa.array(level_codes)) if scope == "group" else pa.nulls(n, typed.type))
        self._rows += n

    def table(self) -> pa.Table:
        """The pending rows as one table (one chunk per column)."""
        rows = self._pending
        if not rows.step:
            return self.schema.empty_table()

        def coded(codes: list[np.ndarray], field: str) -> pa.DictionaryArray:
            index_type = SCHEMA.field(field).type.index_type
            names = pa.array(list(rows.names[field]), pa.string())
            return pa.DictionaryArray.from_arrays(pa.array(np.concatenate(codes), type=index_type), names)

        columns = [
            pa.array(np.concatenate(rows.step)),
            coded(rows.scope, "scope"),
            coded(rows.level, "level"),
            coded(rows.metric, "metric"),
            pa.array(np.concatenate(rows.value)),
        ]
        if self._typed_labels is not None:
            columns.append(pa.concat_arrays(rows.label))
        return pa.Table.from_arrays(columns, schema=self.schema)

    def flush(self) -> None:
        if self.stream is not None:
            self.stream.write(self.table())
            self._pending, self._rows = _Pending(), 0

    def final(self) -> dict[str, float]:
        """The whole population's metrics at the last recorded step."""
        return {m: s[-1] for m, s in self.series.items() if s}


def stance_histogram(x: np.ndarray) -> np.ndarray:
    """`np.histogram(x, bins=HIST_BINS, range=(0, 1))[0]`, in one compiled pass instead of several numpy ones."""
    return _histogram(x, _HIST_EDGES)


@jit(cache=True, nogil=True)
def _histogram(x, edges):
    """Counts in equal-width bins by np.histogram's rule.

    The bin comes from the scaled value, corrected by one where rounding put it across an edge; the
    last bin is closed; values outside the edges (and NaN) are dropped.
    """
    bins = edges.size - 1
    first, last = edges[0], edges[-1]
    counts = np.zeros(bins, dtype=np.int64)
    for v in x:
        if not (first <= v <= last):
            continue
        b = min(int((v - first) / (last - first) * bins), bins - 1)
        if v < edges[b]:
            b -= 1
        elif b != bins - 1 and v >= edges[b + 1]:
            b += 1
        counts[b] += 1
    return counts
