"""The model's state: one row per agent in typed numpy arrays (structure of arrays), plus the ties.

Mesa agents are views on a row of these arrays; the step reads and writes the arrays directly, so
it never needs the agent objects. `LEDGER` names the effect-ledger counters (Brief: the review's
positive, negative and mixed effects).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from sim.tiestore import Ties

LEDGER_POSITIVE = ("identity_gains", "ties_gained")
LEDGER_NEGATIVE = ("overload_episodes", "withdrawals", "ties_lost")
LEDGER = LEDGER_POSITIVE + LEDGER_NEGATIVE


@dataclass
class State:
    # fixed traits
    group: np.ndarray  # int32
    profession: np.ndarray  # int8: 0 social work, 1 health care
    literacy: np.ndarray  # float64 in [0, 1]
    trust: np.ndarray  # float64 in [0, 1]: tech trust, the engagement an agent recovers to
    critical: np.ndarray  # float64 in [0, 1]
    in_group_degree0: np.ndarray  # int32: in-group ties at the start
    # dynamic state
    stance: np.ndarray  # float64 in [0, 1], 1 = the dominant discourse
    engagement: np.ndarray  # float64 in [0, 1]
    identity: np.ndarray  # float64 in [0, 1]: identity clarity
    load: np.ndarray  # float64 >= 0: arriving messages / attention capacity
    overloaded: np.ndarray  # bool
    withdrawn: np.ndarray  # bool
    ledger: dict[str, np.ndarray]  # uint32 counters, keys LEDGER
    ties: Ties
    t: int = 0
    # derived once from `group`, for sampling members of a group
    group_order: np.ndarray = field(default=None)  # agents sorted by group
    group_start: np.ndarray = field(default=None)  # int64 [G+1]

    def __post_init__(self) -> None:
        if self.group_order is None:
            self.group_order = np.argsort(self.group, kind="stable").astype(np.int64)
            counts = np.bincount(self.group, minlength=int(self.group.max()) + 1 if len(self.group) else 0)
            self.group_start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)

    @property
    def n_agents(self) -> int:
        return len(self.stance)

    @property
    def n_groups(self) -> int:
        return len(self.group_start) - 1

    def copy(self) -> State:
        out = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, np.ndarray):
                v = v.copy()
            elif isinstance(v, dict):
                v = {k: a.copy() for k, a in v.items()}
            elif isinstance(v, Ties):
                v = v.copy()
            out[f.name] = v
        return State(**out)

    def in_group_degree(self) -> np.ndarray:
        """Alive ties to members of one's own group."""
        t = self.ties
        own = t.owner()
        same = (t.nbr >= 0) & (self.group[np.maximum(t.nbr, 0)] == self.group[own])
        return t.block_sum(same.astype(np.int64))
