"""The model's state: one row per agent in typed numpy arrays (structure of arrays), plus the ties.

Mesa agents are views on a row of these arrays; the step reads and writes the arrays directly, so
it never needs the agent objects. `LEDGER` names the effect-ledger counters (Brief: the review's
positive, negative and mixed effects).

Memory is the limit at a million agents, so the state is kept narrow: stances stay float64 (the
classic models' thresholds compare them exactly), the other fractions are stored as float32, and
every rule reads them as float64 and rounds only when it stores (`as_f64`), so all three
implementations of the step compute in the same precision. Ledger counters are uint16 and saturate
at LEDGER_MAX instead of wrapping.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import cast

import numpy as np

from sim.core.tiestore import Ties, degrees

LEDGER_POSITIVE = ("identity_gains", "ties_gained")
LEDGER_NEGATIVE = ("overload_episodes", "withdrawals", "ties_lost")
LEDGER = LEDGER_POSITIVE + LEDGER_NEGATIVE
LEDGER_DTYPE = np.uint16
LEDGER_MAX = int(np.iinfo(LEDGER_DTYPE).max)
FRACTION = np.float32  # storage type of engagement, identity, load and the fixed traits


def as_f64(a: np.ndarray) -> np.ndarray:
    """A float64 working copy of a stored float32 array (exact: every float32 is a float64)."""
    return a.astype(np.float64)


def add_saturating(counter: np.ndarray, counts: np.ndarray) -> None:
    """Add counts to the counter in place, stopping at LEDGER_MAX (a uint16 would otherwise wrap to 0)."""
    counter[:] = np.minimum(counter.astype(np.int64) + counts, LEDGER_MAX)


@dataclass
class State:
    # fixed traits
    group: np.ndarray  # int32
    profession: np.ndarray  # int8: 0 social work, 1 health care
    literacy: np.ndarray  # float32 in [0, 1]
    trust: np.ndarray  # float32 in [0, 1]: tech trust, the engagement an agent recovers to (dynamic, ODD 7.5)
    critical: np.ndarray  # float32 in [0, 1]
    in_group_degree0: np.ndarray  # int32: in-group ties at the start
    # dynamic state
    stance: np.ndarray  # float64 in [0, 1], 1 = the dominant discourse
    engagement: np.ndarray  # float32 in [0, 1]
    identity: np.ndarray  # float32 in [0, 1]: identity clarity
    load: np.ndarray  # float32 >= 0: arriving messages / attention capacity
    overloaded: np.ndarray  # bool
    withdrawn: np.ndarray  # bool
    overload_withdrawn: np.ndarray  # bool: withdrawn, and the withdrawal began in a step of overload
    ledger: dict[str, np.ndarray]  # uint16 counters (saturating), keys LEDGER
    ties: Ties
    t: int = 0
    # derived once from `group`, for sampling members of a group (None until __post_init__ derives them)
    group_order: np.ndarray = field(default=cast(np.ndarray, None))  # int32: agents sorted by group
    group_start: np.ndarray = field(default=cast(np.ndarray, None))  # int64 [G+1]

    def __post_init__(self) -> None:
        if self.group_order is None:
            self.group_order = np.argsort(self.group, kind="stable").astype(np.int32)
            counts = np.bincount(self.group, minlength=int(self.group.max()) + 1 if len(self.group) else 0)
            self.group_start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)

    def scratch(self) -> dict[str, tuple[np.ndarray, ...]]:
        """Working arrays a step keeps between steps so as not to allocate them anew (not state).

        Kept beside the fields: never copied, compared or pickled (a copy or an unpickled state starts
        without them), and left out of the state's bytes.
        """
        return self.__dict__.setdefault("_scratch", {})

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_scratch"}

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

    def bytes_per_agent_and_tie(self) -> tuple[float, float]:
        """Persistent state in bytes per agent and per tie (the issue's memory budget).

        Per agent: every per-agent array, the ledger and the tie index `indptr`; per tie: every slot
        array, spare slots included. Per-group arrays are left out.
        """
        n, t = self.n_agents, self.ties
        arrays = [getattr(self, f.name) for f in dataclasses.fields(self)] + list(self.ledger.values())
        per_agent = (
            sum(a.nbytes for a in arrays if isinstance(a, np.ndarray) and len(a) == n)
            + t.indptr.nbytes
            + t.mutes.nbytes
        )
        per_slot = sum(
            getattr(t, f.name).nbytes
            for f in dataclasses.fields(t)
            if isinstance(getattr(t, f.name), np.ndarray) and f.name not in ("indptr", "mutes")
        )
        return per_agent / n, per_slot / max(int(t.degree().sum() // 2), 1)

    def in_group_degree(self) -> np.ndarray:
        """Alive ties to members of one's own group."""
        return degrees(self.ties.indptr, self.ties.nbr, self.group)[1]
