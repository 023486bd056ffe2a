"""What the classic presets share: their draws, the partner pick, the tie primitives, the report.

Every classic step draws all its random numbers up front, as uniforms on [0, 1) from the model's
generator (`draw_uniforms`), one row per kind of choice and one column per elementary update, so
the per-agent reference (plain Python) and the compiled kernel (numba) read the same numbers and
map the same (state, draws) to the same next state. numba's own generator is never used.

An index is taken from a uniform by `pick(u, m) = min(floor(u * m), m - 1)`: the same IEEE
product in Python and in numba, so both pick the same agent, neighbour or member.

The numba tie primitives below do to the arrays of a `sim.core.tiestore.Ties` exactly what
`tiestore.cut` and `tiestore.connect_one` do (the reference calls those): remove both arcs of a tie,
closing the gap in each block; append the new tie to each block. When a block has no free slot the
kernel stops and returns the agent that needs room; the caller makes room there
(`tiestore.ensure_capacity`, as the reference does at the same moment) and resumes the kernel at the
same update. Making room never reorders anyone's ties.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numba as nb
import numpy as np

from sim.core import tiestore
from sim.core.kernels import jit, parallel_kernel
from sim.core.report import StepReport
from sim.core.state import State

JIT: dict[str, Any] = {"cache": True, "nogil": True}

#: Two linked opinions closer than this count as equal when deciding convergence (Deffuant,
#: Jager-Amblard, Kozma-Barrat): their remaining moves are below 1e-6 of the opinion scale.
TOL = 1e-6


@dataclass(frozen=True)
class ClassicDraws:
    """The uniforms of one classic step: row r, column t is the r-th choice of elementary update t."""

    u: np.ndarray  # float64 [rows, N]


def draw_uniforms(rng: np.random.Generator, rows: int, n: int) -> ClassicDraws:
    """One block of uniforms; its shape depends only on N, never on parameter values."""
    return ClassicDraws(rng.random((rows, n)) if rows else np.zeros((0, n)))


def uniform_draws(rows: int):
    """A preset's `draw(rng, state, cfg)`: `rows` uniforms per agent and step."""

    def draw(rng: np.random.Generator, state, cfg) -> ClassicDraws:
        return draw_uniforms(rng, rows, state.n_agents)

    return draw


def on_complete_graph(cfg) -> bool:
    """Whether partners are drawn from everyone (mean field) rather than along ties."""
    return cfg.network.kind == "complete"


def pick(u: float, m: int) -> int:
    """Index in range(m) from a uniform on [0, 1) (the reference's version)."""
    return min(int(u * m), m - 1)


@jit(**JIT)
def pick_nb(u, m):
    """`pick` in numba: the same product, truncated the same way."""
    k = np.int64(u * m)
    return k if k < m else m - 1


def other_agent(u: float, i: int, n: int) -> int:
    """A uniformly chosen agent other than i: the pick-th of the others in index order."""
    k = pick(u, n - 1)
    return k + 1 if k >= i else k


@jit(**JIT)
def other_agent_nb(u, i, n):
    k = pick_nb(u, n - 1)
    return k + 1 if k >= i else k


# --------------------------------------------------------------------------- ties (reference)


def block(state: State, i: int) -> range:
    return range(int(state.ties.indptr[i]), int(state.ties.indptr[i + 1]))


def alive_slots(state: State, i: int) -> list[int]:
    """Slots of i's ties, in block order (the order a neighbour is picked in)."""
    return [s for s in block(state, i) if state.ties.nbr[s] >= 0]


def partner(state: State, mean_field: bool, i: int, u: float) -> int:
    """Agent i's partner: anyone else (mean field) or a neighbour along an alive tie; -1 if none."""
    if mean_field:
        return other_agent(u, i, state.n_agents)
    ties = alive_slots(state, i)
    return int(state.ties.nbr[ties[pick(u, len(ties))]]) if ties else -1


def linked(state: State, i: int, j: int) -> bool:
    return any(state.ties.nbr[s] == j for s in block(state, i))


def has_free_slot(state: State, i: int) -> bool:
    return any(state.ties.nbr[s] < 0 for s in block(state, i))


#: Room made for this many more ties at a full block (rewiring presets fill blocks fast: the room
#: keeps the kernel from stopping again at the next tie).
ROOM = 8


def make_room(state: State, k: int) -> None:
    """Room for ROOM more ties in agent k's block, which is full: the room the kernels ask for.

    Usually k's block takes free slots from the blocks around it; all blocks are re-packed only when
    none nearby has room (`tiestore.ensure_capacity`).
    """
    need = np.zeros(state.n_agents, dtype=np.int64)
    need[k] = ROOM
    tiestore.ensure_capacity(state.ties, need)


def move_tie(state: State, s: int, i: int, k: int) -> None:
    """Cut the tie held in i's slot s and tie i to k instead (k has a free slot)."""
    tiestore.cut(state.ties, np.array([s], dtype=np.int64))
    tiestore.connect_one(state.ties, i, k)


def rewire_reference(state: State, i: int, which: int, k: int, rewired: list[tuple[int, int, int]]) -> None:
    """Move agent i's `which`-th alive tie to k, making room in k's block first if it is full."""
    if not has_free_slot(state, k):
        make_room(state, k)  # the same ties, in the same order, some in new slots
    s = alive_slots(state, i)[which]
    j = int(state.ties.nbr[s])
    move_tie(state, s, i, k)
    rewired.append((i, j, k))


# --------------------------------------------------------------------------- ties (numba)


@jit(**JIT)
def nth_alive_nb(indptr, nbr, i, k):
    """Slot of the k-th (0-based) alive arc of i's block, in block order; -1 if none.

    Blocks are compact (`sim.core.tiestore`: ties first, in order, then free slots), so it is slot
    indptr[i] + k: O(1) whatever the degree.
    """
    s = indptr[i] + k
    return s if 0 <= k and s < indptr[i + 1] and nbr[s] >= 0 else -1


@jit(**JIT)
def partner_nb(indptr, nbr, mean_field, i, u, n):
    """`partner` on the raw arrays: anyone else, or the pick(u, degree)-th alive neighbour; -1 if none."""
    if mean_field:
        return other_agent_nb(u, i, n)
    deg = tiestore.alive_count_nb(indptr, nbr, i)
    if deg == 0:
        return -1
    return nbr[nth_alive_nb(indptr, nbr, i, pick_nb(u, deg))]


@parallel_kernel(**JIT)
def pairs_nb(indptr, nbr, mean_field, u):
    """Agent (row 0 of `u`) and partner (row 1) of every elementary update of a step; partner -1 if none.

    In Deffuant and Jager-Amblard the ties do not change during a step and a partner does not depend
    on opinions, so every pair is found up front, in parallel: the sequential updates then touch
    only opinions instead of waiting on a chain of cache misses through the tie blocks at each one.
    """
    n = len(indptr) - 1
    m = u.shape[1]
    agent = np.empty(m, dtype=np.int64)
    other = np.empty(m, dtype=np.int64)
    for t in nb.prange(m):
        agent[t] = pick_nb(u[0, t], n)
        other[t] = partner_nb(indptr, nbr, mean_field, agent[t], u[1, t], n)
    return agent, other


@jit(**JIT)
def move_tie_nb(indptr, nbr, muted, rejections, s, i, k):
    """`move_tie` on the raw arrays: `tiestore.cut` of slot s (owned by i), then `tiestore.connect_one(i, k)`."""
    tiestore.cut_nb(indptr, nbr, muted, rejections, s, i)
    tiestore.connect_one_nb(indptr, nbr, muted, rejections, i, k)


def run_with_room(kernel, state: State, *args):
    """Run a rewiring kernel to the end of the step, re-packing the ties whenever it asks for room.

    The kernel is called as kernel(indptr, nbr, muted, rejections, *args, start) and returns
    (stopped_at, agent_needing_room) with agent -1 when it finished.
    """
    start = 0
    while True:
        t = state.ties
        start, need = kernel(t.indptr, t.nbr, t.muted, t.rejections, *args, start)
        if need < 0:
            return
        make_room(state, int(need))


# --------------------------------------------------------------------------- reports


def report(n_accepted: np.ndarray, rewired: list[tuple[int, int, int]] | np.ndarray | None = None) -> StepReport:
    """The step's report: accepted influences per agent, and the rewirings.

    A rewiring (i, old j, new k) gives a `cut` event (i, j) and a `rewired` event (i, k), in the order
    they happened.
    """
    events: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if rewired is not None:
        r = np.asarray(rewired, dtype=np.int64).reshape(-1, 3)
        events["cut"] = (r[:, 0].copy(), r[:, 1].copy())
        events["rewired"] = (r[:, 0].copy(), r[:, 2].copy())
    return StepReport(0.0, np.asarray(n_accepted, dtype=np.int64), events)


# --------------------------------------------------------------------------- convergence


@jit(**JIT)
def edges_frozen_nb(indptr, nbr, x, near, far_lo, far_active):
    """True if no tie is still active.

    A tie i-j is active when near < |x_i - x_j| < far_lo, or, with far_active, when
    |x_i - x_j| > far_lo (it would be rewired).
    """
    n = x.shape[0]
    for i in range(n):
        for s in range(indptr[i], indptr[i + 1]):
            j = nbr[s]
            if j > i:
                dx = abs(x[i] - x[j])
                if near < dx < far_lo or (far_active and dx > far_lo):
                    return False
    return True


def mean_field_frozen(x: np.ndarray, d: float, tol: float = TOL) -> bool:
    """True if no pair (i, j) has tol < |x_i - x_j| < d.

    Sorted, the opinions split at gaps >= d into runs; pairs in different runs are >= d apart and
    a run holds no such pair exactly when its spread is <= tol (for tol < d / 2).
    """
    xs = np.sort(x)
    if len(xs) < 2:
        return True
    cuts = np.flatnonzero(np.diff(xs) >= d) + 1
    starts = np.concatenate(([0], cuts))
    ends = np.concatenate((cuts, [len(xs)])) - 1
    return bool(np.all(xs[ends] - xs[starts] <= tol))
