"""What a recorded step's metrics need from the steps between two records, and the measurement itself.

Tie events are counted since the previous record (a record every k steps counts k steps' events),
and the ledger shares count effects since the ledger's window opened (`metrics.ledger_window`: the
last W steps of a run; before the window opens they are NaN). `MetricsTracker` keeps both and
measures every metric of the scopes asked for. The run's recorder (`sim.run.recorder`, Parquet)
and the Mesa `DataCollector` of `sim.model` read their metrics from it: a metric is computed in one
place whoever asks.
"""

from __future__ import annotations

import numpy as np

from sim.config.params import Config
from sim.core.report import StepReport
from sim.core.state import State
from sim.metrics.population import ScopeValues, indicators, scopes_metrics


class MetricsTracker:
    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self._events: list[tuple[np.ndarray, np.ndarray]] = []  # (source, kind) since the last record
        window = cfg.metrics.ledger_window
        self.ledger_opens = max(0, cfg.steps - window) if window else 0  # step the ledger's window opens
        self._ledger_base: dict[str, np.ndarray] | None = None

    def observe(self, state: State, report: StepReport) -> None:
        """After every step: keep its tie events, open the ledger's window when its step comes."""
        src, _, kind = report.event_table()
        self._events.append((src, kind))
        if self.ledger_opens and state.t == self.ledger_opens:
            self._ledger_base = {k: v.copy() for k, v in state.ledger.items()}

    def measure(self, state: State, report: StepReport | None, scopes: list[str], exposure: float) -> list[ScopeValues]:
        """Every metric of every level of `scopes` now; the events counted start again from here."""
        if self._events:
            events = (np.concatenate([e[0] for e in self._events]), np.concatenate([e[1] for e in self._events]))
        else:
            events = (np.zeros(0, np.int64), np.zeros(0, np.int8))
        self._events = []
        ind = indicators(
            state,
            report,
            self.cfg.metrics,
            self.cfg.ties.conformity,
            self._ledger_base,
            ledger_open=state.t >= self.ledger_opens,
        )
        return scopes_metrics(state, events, ind, scopes, self.cfg.metrics, exposure)
