"""What a step reports that is not part of the state: the exposure level, accepted exchanges, tie events.

Every step function (the model's reference and compiled steps, each classic preset) returns a
`StepReport`; the metrics, the event log and the app read it. It lives in the core so that none of
them needs to import a step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: kinds of tie event in events.parquet, in code order
EVENT_KINDS = ("cut", "muted", "formed", "rewired", "excluded")


@dataclass
class StepReport:
    """What happened in a step that is not part of the state (for metrics and event logs)."""

    exposure: float
    # messages accepted per agent: int8 in the full model (one per channel, at most 3: an eighth of the memory
    # an int64 takes, written every step), int64 for a classic preset's interactions
    n_accepted: np.ndarray
    # (source, target) by sub-phase: excluded, muted, cut_mute, formed, cut_rewire, rewired
    events: dict[str, tuple[np.ndarray, np.ndarray]]
    _table: tuple[np.ndarray, np.ndarray, np.ndarray] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def event_table(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Events as (source, target, kind code), grouped by kind in EVENT_KINDS order.

        Ties cut by mutual muting and ties dropped by rewiring are both of kind `cut`. Built on the first
        call (the metrics and the event log both read it); the arrays are shared: read them, do not write.
        """
        if self._table is None:
            self._table = self._build_table()
        return self._table

    def _build_table(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        src, dst, kind = [], [], []
        for code, name in enumerate(EVENT_KINDS):
            for part in (name,) if name != "cut" else ("cut", "cut_mute", "cut_rewire"):
                a, b = self.events.get(part, (np.zeros(0, np.int64), np.zeros(0, np.int64)))
                src.append(np.asarray(a, dtype=np.int64))
                dst.append(np.asarray(b, dtype=np.int64))
                kind.append(np.full(len(a), code, dtype=np.int8))
        return np.concatenate(src), np.concatenate(dst), np.concatenate(kind)
