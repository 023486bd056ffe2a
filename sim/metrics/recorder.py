"""Records metrics into the tidy long table `step, scope, level, metric, value`.

Rows are streamed to Parquet in row groups (memory stays bounded on long runs); the whole
population's series and the stance histograms are also kept in memory for the figure and
the summary (a few numbers per recorded step).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sim.io import ParquetStream
from sim.metrics.population import METRICS, SCOPES, indicators, scope_levels, scope_metrics
from sim.metrics.tiestats import scoped_assortativity
from sim.params import Config
from sim.schedule import StepReport
from sim.state import State
from sim.submodels.exposure import level

SCHEMA = pa.schema([
    ("step", pa.int32()),
    ("scope", pa.dictionary(pa.int8(), pa.string())),
    ("level", pa.dictionary(pa.int32(), pa.string())),
    ("metric", pa.dictionary(pa.int16(), pa.string())),
    ("value", pa.float64()),
])
HIST_BINS = 20


class MetricsRecorder:
    def __init__(self, cfg: Config, stream: ParquetStream | None = None, flush_rows: int = 500_000) -> None:
        self.cfg = cfg
        self.stream = stream
        self.flush_rows = flush_rows
        self.scopes = [s for s in SCOPES if s == "all" or getattr(cfg.metrics, f"by_{s}")]
        self._chunks: list[dict[str, np.ndarray]] = []
        self._rows = 0
        self.steps: list[int] = []
        self.series: dict[str, list[float]] = {m: [] for m in METRICS}
        self.by_profession: dict[str, dict[str, list[float]]] = {}
        self.histograms: list[np.ndarray] = []
        self._events: list[tuple[np.ndarray, np.ndarray]] = []  # (source, kind) since the last record
        window = cfg.metrics.ledger_window
        self.ledger_opens = max(0, cfg.steps - window) if window else 0  # step the ledger's window opens
        self._ledger_base: dict[str, np.ndarray] | None = None

    def observe(self, state: State, report: StepReport) -> None:
        """Keep a step's tie events (counts cover every step since the previous record), open the ledger window."""
        src, _, kind = report.event_table()
        self._events.append((src, kind))
        if self.ledger_opens and state.t == self.ledger_opens:
            self._ledger_base = {k: v.copy() for k, v in state.ledger.items()}

    def record(self, state: State, report: StepReport | None) -> None:
        if self._events:
            events = (np.concatenate([e[0] for e in self._events]), np.concatenate([e[1] for e in self._events]))
        else:
            events = (np.zeros(0, np.int64), np.zeros(0, np.int8))
        self._events = []
        ind = indicators(state, report, self.cfg.metrics, self.cfg.ties.conformity, self._ledger_base,
                         ledger_open=state.t >= self.ledger_opens)
        levels = [scope_levels(state, scope) for scope in self.scopes]
        assort = scoped_assortativity(state.ties.indptr, state.ties.nbr, state.stance,
                                      np.stack([lv for lv, _ in levels]),
                                      np.array([len(names) for _, names in levels], dtype=np.int64))
        ind["_assortativity"] = {scope: assort[r, :len(levels[r][1])] for r, scope in enumerate(self.scopes)}
        e_t = level(state.t, self.cfg.exposure)
        self.steps.append(state.t)
        self.histograms.append(np.histogram(state.stance, bins=HIST_BINS, range=(0.0, 1.0))[0])
        for scope in self.scopes:
            sv = scope_metrics(state, events, ind, scope, self.cfg.metrics, e_t)
            if scope == "all":
                for m in METRICS:
                    self.series[m].append(float(sv.values[m][0]))
            if scope == "profession":
                for lv, name in enumerate(sv.levels):
                    d = self.by_profession.setdefault(name, {m: [] for m in METRICS})
                    for m in METRICS:
                        d[m].append(float(sv.values[m][lv]))
            self._append(state.t, scope, sv.levels, sv.values)
        if self._rows >= self.flush_rows:
            self.flush()

    def _append(self, step: int, scope: str, levels: list[str], values: dict[str, np.ndarray]) -> None:
        k = len(levels)
        metric_names = [m for m in METRICS if m in values]
        n = k * len(metric_names)
        self._chunks.append({
            "step": np.full(n, step, dtype=np.int32),
            "scope": np.full(n, scope, dtype=object),
            "level": np.tile(np.array(levels, dtype=object), len(metric_names)),
            "metric": np.repeat(np.array(metric_names, dtype=object), k),
            "value": np.concatenate([values[m] for m in metric_names]).astype(np.float64),
        })
        self._rows += n

    def table(self) -> pa.Table:
        if not self._chunks:
            return SCHEMA.empty_table()
        cols = {c: np.concatenate([ch[c] for ch in self._chunks]) for c in SCHEMA.names}
        arrays = [pa.array(cols[f.name]).cast(f.type) if pa.types.is_dictionary(f.type)
                  else pa.array(cols[f.name], type=f.type) for f in SCHEMA]
        return pa.Table.from_arrays(arrays, schema=SCHEMA)

    def flush(self) -> None:
        if self.stream is not None:
            self.stream.write(self.table())
            self._chunks, self._rows = [], 0

    def final(self) -> dict[str, float]:
        """The whole population's metrics at the last recorded step."""
        return {m: s[-1] for m, s in self.series.items() if s}
