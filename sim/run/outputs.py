"""Tables written by a run: agent snapshots, tie events and the final ties."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from sim.config.params import PROFESSIONS
from sim.core.report import EVENT_KINDS, StepReport
from sim.core.state import LEDGER, State
from sim.core.tiestore import degrees
from sim.run.io import ParquetStream

_PROFESSION = pa.dictionary(pa.int8(), pa.string())
AGENT_SCHEMA = pa.schema(
    [("step", pa.int32()), ("agent_id", pa.int64()), ("group", pa.int32()), ("profession", _PROFESSION)]
    + [(c, pa.float64()) for c in ("stance", "engagement", "load", "identity")]
    + [(c, pa.int32()) for c in ("in_group_degree", "in_group_degree0", "degree")]
    + [("overloaded", pa.bool_()), ("withdrawn", pa.bool_()), ("overload_withdrawn", pa.bool_())]
    + [(c, pa.float64()) for c in ("literacy", "trust", "critical")]
    + [(f"ledger_{k}", pa.uint32()) for k in LEDGER]
)
EVENT_SCHEMA = pa.schema(
    [
        ("step", pa.int32()),
        ("source", pa.int64()),
        ("target", pa.int64()),
        ("kind", pa.dictionary(pa.int8(), pa.string())),
    ]
)
EDGE_SCHEMA = pa.schema(
    [
        ("source", pa.int64()),
        ("target", pa.int64()),
        ("same_group", pa.bool_()),
        ("source_muted_target", pa.bool_()),
        ("target_muted_source", pa.bool_()),
    ]
)


def _dictionary(codes: np.ndarray, names: tuple[str, ...]) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int8)), pa.array(list(names)))


def snapshot_rows(n_agents: int, sample: float) -> np.ndarray:
    """Agents kept in snapshots: every k-th agent with k = round(1 / sample); no randomness used."""
    stride = max(1, round(1.0 / sample))
    return np.arange(0, n_agents, stride)


def agent_table(state: State, rows: np.ndarray) -> pa.Table:
    degree, in_deg = degrees(state.ties.indptr, state.ties.nbr, state.group)
    degree, in_deg = degree[rows], in_deg[rows]
    cols = {
        "step": np.full(len(rows), state.t, dtype=np.int32),
        "agent_id": rows.astype(np.int64),
        "group": state.group[rows],
        "profession": _dictionary(state.profession[rows], PROFESSIONS),
        "stance": state.stance[rows],
        "engagement": state.engagement[rows].astype(np.float64),
        "load": state.load[rows].astype(np.float64),
        "identity": state.identity[rows].astype(np.float64),
        "in_group_degree": in_deg.astype(np.int32),
        "in_group_degree0": state.in_group_degree0[rows].astype(np.int32),
        "degree": degree.astype(np.int32),
        "overloaded": state.overloaded[rows],
        "withdrawn": state.withdrawn[rows],
        "overload_withdrawn": state.overload_withdrawn[rows],
        **{k: getattr(state, k)[rows].astype(np.float64) for k in ("literacy", "trust", "critical")},
    }
    cols.update({f"ledger_{k}": state.ledger[k][rows].astype(np.uint32) for k in LEDGER})
    return pa.table(cols, schema=AGENT_SCHEMA)


#: events kept before they are handed to events.parquet's stream as one table (a few steps' worth)
EVENT_ROWS = 1 << 16


class EventLog:
    """events.parquet's rows, gathered over steps and handed to `stream` a table of about `rows` at a time.

    The same rows in the same order as one table per step, built and cast once instead of at every step.
    """

    def __init__(self, stream: ParquetStream, rows: int = EVENT_ROWS) -> None:
        self.stream = stream
        self.rows = rows
        self._parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self._n = 0

    def add(self, step: int, report: StepReport) -> None:
        src, dst, kind = report.event_table()
        if len(src):
            self._parts.append((np.full(len(src), step, dtype=np.int32), src, dst, kind))
            self._n += len(src)
            if self._n >= self.rows:
                self.flush()

    def flush(self) -> None:
        if self._parts:
            step, src, dst, kind = (np.concatenate(col) for col in zip(*self._parts, strict=True))
            self._parts, self._n = [], 0
            columns = {"step": step, "source": src, "target": dst, "kind": _dictionary(kind, EVENT_KINDS)}
            self.stream.write(pa.table(columns, schema=EVENT_SCHEMA))


#: ties per piece of edges.parquet (one row group each): the list is never held whole (1.5 GB at 10^8 ties)
EDGE_ROWS = 1 << 20


def edge_tables(state: State, rows: int = EDGE_ROWS) -> Iterator[pa.Table]:
    """edges.parquet's rows in pieces of about `rows` ties, in order."""
    for edges in state.ties.edge_chunks(rows):
        yield edge_table(state, edges)


def edge_table(state: State, edges: tuple[np.ndarray, ...]) -> pa.Table:
    """Ties (a piece of `Ties.edges()`: source, target and who muted whom) as edges.parquet's rows."""
    u, v, mu, mv = edges
    return pa.table(
        {
            "source": u,
            "target": v,
            "same_group": state.group[u] == state.group[v],
            "source_muted_target": mu,
            "target_muted_source": mv,
        },
        schema=EDGE_SCHEMA,
    )


def node_table(node_labels: np.ndarray, group: np.ndarray, group_labels: np.ndarray) -> pa.Table:
    """The user's own node and group ids of each agent of an edge-list run, with their types.

    Agents are renumbered 0..N-1 in sorted id order; without this table the ``agent_id`` in the
    other outputs could not be joined back to the user's data. ``node`` and ``group_label`` are int64
    when every id (label) is an integer, else strings; ``group`` is the group's number, as in
    agents.parquet.
    """
    return pa.table(
        {
            "agent_id": np.arange(len(node_labels), dtype=np.int64),
            "node": _typed_column(node_labels),
            "group": group.astype(np.int32),
            "group_label": _typed_column(group_labels[group]),
        }
    )


def _typed_column(labels: np.ndarray) -> pa.Array:
    if np.issubdtype(labels.dtype, np.integer):
        return pa.array(labels.astype(np.int64), pa.int64())
    return pa.array([str(x) for x in labels.tolist()], pa.string())
