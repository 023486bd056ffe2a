"""Ties as a slotted adjacency: CSR blocks with spare slots, so ties change in place.

Each undirected tie i-j is two arcs: a slot in i's block holding j and a slot in j's block holding
i. The reverse arc is found by scanning the neighbour's block (a few dozen slots): ties change far
less often than they are read, so a stored link per slot (8 bytes) would cost more than it saves.
The block owner is the receiver: `muted[s]` means the owner no longer attends to that neighbour,
`rejections[s]` counts the rejected messages it sent.

Blocks are compact: an agent's ties fill the start of its block in the order they were formed, and
the free slots follow. Cutting a tie shifts the later ties of both blocks one slot left; forming one
appends it to both. So the order of an agent's ties, which its random picks among them follow,
depends only on the history of its ties, never on the spare room (`network.slack`) or on when a
block was moved, and every slot loop stops at the first free slot. A block that runs out of room
takes free slots from its neighbouring blocks (a local move of a few blocks); only when no nearby
window has room are all blocks re-packed. The per-step cost is that of a sparse pass over the
slots, not of rebuilding a matrix.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import cast

import numba as nb
import numpy as np

from sim.config.networkfiles import sorted_unique
from sim.core.kernels import PREFETCH_AHEAD, jit, parallel_kernel, prefetch, sort_small
from sim.core.pages import huge_pages

EMPTY = -1


@dataclass
class Ties:
    indptr: np.ndarray  # int32 (int64 past 2**31 slots) [N+1]: block of agent i is slots indptr[i]:indptr[i+1]
    nbr: np.ndarray  # int32 [S]: neighbour held in the slot, EMPTY if free
    muted: np.ndarray  # bool [S]: the block owner muted this neighbour
    rejections: np.ndarray  # uint8 [S]: rejected messages received from this neighbour
    slack: float = 0.25
    # bool [N]: the block may hold a muted slot. Set on every mute, cleared only by a re-pack; mutes
    # are rare, so the compiled exchange reads `muted` only in these blocks (a fifth of its traffic).
    # Derived by __post_init__ when not given (None), so an array afterwards.
    mutes: np.ndarray = cast(np.ndarray, None)
    # the slot arrays of the layout before the last re-pack, reused by the next one: writing into fresh
    # memory costs a page fault per 4 KiB, about half of a re-pack at a million agents
    spare: tuple[np.ndarray, np.ndarray, np.ndarray] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if _has_holes(self.indptr, self.nbr):  # arrays built by hand: make the blocks compact
            _compact(self.indptr, self.nbr, self.muted, self.rejections, np.arange(self.n_agents))
        if self.mutes is None:
            self.mutes = _blocks_with_mutes(self.indptr, self.nbr, self.muted)

    @property
    def n_agents(self) -> int:
        return len(self.indptr) - 1

    def owner(self) -> np.ndarray:
        """Block owner of every slot (derived, not stored: it only changes on a repack)."""
        return np.repeat(np.arange(self.n_agents, dtype=np.int32), np.diff(self.indptr))

    def alive(self) -> np.ndarray:
        return self.nbr >= 0

    def block_sum(self, values: np.ndarray) -> np.ndarray:
        """Sum of per-slot values over each agent's block (exact for integer values)."""
        c = np.concatenate([np.zeros(1, dtype=values.dtype), np.cumsum(values)])
        return c[self.indptr[1:]] - c[self.indptr[:-1]]

    def degree(self) -> np.ndarray:
        """Alive ties of every agent (a compiled pass: the classic presets need it every step)."""
        return _degree(self.indptr, self.nbr)

    def copy(self) -> Ties:
        return Ties(
            self.indptr.copy(),
            self.nbr.copy(),
            self.muted.copy(),
            self.rejections.copy(),
            self.slack,
            self.mutes.copy(),
        )

    def edges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Undirected ties (u < v, sorted) with who muted whom, for outputs and metrics.

        Emitted block by block in owner order, each block's ties sorted by neighbour: a compiled pass,
        where a sort of the whole list took seconds at ten million ties.
        """
        start = self._edge_starts()
        return _edge_list(self.indptr, self.nbr, self.muted, self.mutes, start, 0)

    def edge_chunks(self, rows: int) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
        """`edges()` in consecutive pieces of about `rows` ties (whole blocks each), to write them in bounded memory."""
        start = self._edge_starts()
        bounds = sorted_unique(
            np.append(np.searchsorted(start, np.arange(0, start[-1], rows), side="right") - 1, self.n_agents)
        )
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
            yield _edge_list(self.indptr, self.nbr, self.muted, self.mutes, start[lo : hi + 1] - start[lo], lo)

    def _edge_starts(self) -> np.ndarray:
        """Where each agent's ties to higher-numbered agents start in `edges()`'s list (N + 1 entries)."""
        ends = _upper_arcs(self.indptr, self.nbr)
        start = np.zeros(len(ends) + 1, dtype=np.int64)
        np.cumsum(ends, out=start[1:])
        return start

    def canonical(self) -> dict[str, np.ndarray]:
        """Layout-free description of the ties (for comparing two implementations)."""
        s = np.flatnonzero(self.nbr >= 0)
        own = self.owner()[s].astype(np.int64)
        nb = self.nbr[s].astype(np.int64)
        order = np.lexsort((nb, own))
        s = s[order]
        return {"owner": own[order], "nbr": nb[order], "muted": self.muted[s], "rejections": self.rejections[s]}


@parallel_kernel(cache=True, nogil=True)
def _degree(indptr, nbr):
    n = len(indptr) - 1
    deg = np.zeros(n, dtype=np.int64)
    for i in nb.prange(n):
        deg[i] = alive_count_nb(indptr, nbr, i)
    return deg


@parallel_kernel(cache=True, nogil=True)
def _degrees(indptr, nbr, group):
    n = len(indptr) - 1
    deg = np.zeros(n, dtype=np.int64)
    same = np.zeros(n, dtype=np.int64)
    for i in nb.prange(n):
        for s in range(indptr[i], indptr[i + 1]):
            j = nbr[s]
            if j < 0:  # blocks are compact: the ties end at the first free slot
                break
            deg[i] += 1
            same[i] += group[j] == group[i]
    return deg, same


def degrees(indptr, nbr, group):
    """Alive ties, and alive ties to members of the same group, of every agent (int64)."""
    return _degrees(indptr, nbr, group)


@parallel_kernel(cache=True, nogil=True)
def _blocks_with_mutes(indptr, nbr, muted):
    n = len(indptr) - 1
    out = np.zeros(n, dtype=np.bool_)
    for i in nb.prange(n):
        for s in range(indptr[i], indptr[i + 1]):
            if nbr[s] < 0:
                break
            if muted[s]:
                out[i] = True
                break
    return out


@parallel_kernel(cache=True, nogil=True)
def _upper_arcs(indptr, nbr):
    n = len(indptr) - 1
    count = np.zeros(n, dtype=np.int64)
    for i in nb.prange(n):
        for s in range(indptr[i], indptr[i + 1]):
            if nbr[s] < 0:
                break
            if nbr[s] > i:
                count[i] += 1
    return count


#: Up to this many ties, an agent's ties are put in neighbour order by insertion (the common case)
_FEW_TIES = 32


@jit(cache=True, nogil=True)
def _order_by_neighbour(slots, nbr):
    """Sort `slots` in place by their (distinct) neighbours `nbr[slots]`.

    By insertion for a few; for more, the neighbours are sorted as the blocks are at set-up (`sort_small`
    of int32, compiled once for both) and each slot put at its neighbour's place by binary search.
    """
    c = len(slots)
    if c <= _FEW_TIES:
        for x in range(1, c):
            s = slots[x]
            key = nbr[s]
            y = x - 1
            while y >= 0 and nbr[slots[y]] > key:
                slots[y + 1] = slots[y]
                y -= 1
            slots[y + 1] = s
        return
    values = np.empty(c, dtype=np.int32)
    for x in range(c):
        values[x] = nbr[slots[x]]
    sort_small(values)
    placed = np.empty(c, dtype=np.int64)
    for x in range(c):
        placed[first_at_least(values, nbr[slots[x]])] = slots[x]
    for x in range(c):
        slots[x] = placed[x]


@parallel_kernel(cache=True, nogil=True)
def _edge_list(indptr, nbr, muted, mutes, start, first):
    """The ties of agents first, first + 1, ... to higher-numbered agents; agent first + r's start at start[r].

    Each agent's slots are listed in its rows of `v` first (no array of its own: ten million agents'
    allocations were about a tenth of listing their ties), ordered by neighbour, then replaced by the
    neighbours. Who muted whom: the reverse arc is looked for only in a block that may hold a muted
    slot (`mutes`); in the others nobody is muted.
    """
    m = start[-1]
    u = np.empty(m, dtype=np.int64)
    v = np.empty(m, dtype=np.int64)
    mu = np.empty(m, dtype=np.bool_)
    mv = np.empty(m, dtype=np.bool_)
    for r in nb.prange(len(start) - 1):
        i = first + r
        a = start[r]
        c = start[r + 1] - a
        slots = v[a : a + c]  # the slots of the ties to higher neighbours, in neighbour order
        k = 0
        for s in range(indptr[i], indptr[i + 1]):
            if nbr[s] < 0:
                break
            if nbr[s] > i:
                slots[k] = s
                k += 1
        _order_by_neighbour(slots, nbr)
        for k in range(c):
            s = slots[k]  # read before its row is written
            j = nbr[s]
            u[a + k] = i
            v[a + k] = j
            mu[a + k] = muted[s]
            mv[a + k] = mutes[j] and muted[reverse_slot(indptr, nbr, s, i)]
    return u, v, mu, mv


@jit(cache=True, nogil=True)
def alive_count_nb(indptr, nbr, i):
    """Alive arcs of i's block, found by bisection: blocks are compact (ties first, then free slots).

    O(log capacity) whatever the degree, so a classic preset's partner pick does not slow down on a
    dense network (the classic kernels count where needed: a degree pass each step costs more).
    """
    lo, hi = indptr[i], indptr[i + 1]  # the first free slot lies in [lo, hi]
    while lo < hi:
        mid = (lo + hi) // 2
        if nbr[mid] >= 0:
            lo = mid + 1
        else:
            hi = mid
    return lo - indptr[i]


def _indptr(cap: np.ndarray) -> np.ndarray:
    """Block boundaries: int32 while the slots fit (4 bytes per agent saved), int64 beyond 2**31 slots."""
    indptr = np.zeros(len(cap) + 1, dtype=np.int64)
    np.cumsum(cap, out=indptr[1:])
    return indptr.astype(np.int32) if indptr[-1] < np.iinfo(np.int32).max else indptr


@jit(cache=True, nogil=True)
def _block_capacity(d, slack):
    """Slots for a block of d arcs: d plus spare room, at least 2."""
    return d + max(2, np.int64(math.ceil(slack * d)))


@parallel_kernel(cache=True, nogil=True)
def _capacity(deg, slack):
    cap = np.empty(len(deg), dtype=np.int64)
    for i in nb.prange(len(deg)):
        cap[i] = _block_capacity(deg[i], slack)
    return cap


def from_edges(n: int, u: np.ndarray, v: np.ndarray, slack: float = 0.25) -> Ties:
    """Lay out undirected ties (no duplicates, no self-loops) with spare room in every block.

    Each block holds its neighbours in increasing order, then its spare slots. The blocks are filled
    and sorted in place by compiled loops, so the only arrays of the size of the tie list are the
    input and the result (a sort of the 2m arcs would need several more: 1.5 GiB at 10^7 ties).
    """
    u, v = np.asarray(u), np.asarray(v)
    if u.dtype != np.int32:  # int32 (the compiled SBM builder's) kept as is: no copy of the tie list
        u, v = u.astype(np.int64, copy=False), v.astype(np.int64, copy=False)
    deg = _count_ends(n, u, v)
    with huge_pages():  # every step reads the store at random places (sim.core.pages)
        indptr = _indptr(_capacity(deg, slack))
        size = int(indptr[-1])
        nbr = np.full(size, EMPTY, dtype=np.int32)
        muted, rejections = np.zeros(size, dtype=bool), np.zeros(size, dtype=np.uint8)
    _fill_blocks(indptr, u, v, nbr)
    _sort_blocks(indptr, deg, nbr)
    return Ties(indptr, nbr, muted, rejections, slack)


@jit(cache=True, nogil=True)
def _count_ends(n, u, v):
    """Ties per agent (np.bincount would copy int32 ids to int64 first: 1.6 GB at 10^8 ties)."""
    deg = np.zeros(n, dtype=np.int64)
    for k in range(len(u)):
        deg[u[k]] += 1
        deg[v[k]] += 1
    return deg


@jit(cache=True)
def _fill_blocks(indptr, u, v, nbr):
    fill = indptr[:-1].copy()
    for k in range(len(u)):
        a, b = u[k], v[k]
        nbr[fill[a]] = b
        fill[a] += 1
        nbr[fill[b]] = a
        fill[b] += 1


@parallel_kernel(cache=True)
def _sort_blocks(indptr, deg, nbr):
    for i in nb.prange(len(indptr) - 1):
        a = indptr[i]
        sort_small(nbr[a : a + deg[i]])  # in place


@jit(cache=True, nogil=True)
def reverse_slot(indptr, nbr, s, owner):
    """The slot of the reverse arc of alive slot `s` (owned by `owner`): where its neighbour holds the owner."""
    return find_slot_nb(indptr, nbr, np.int64(nbr[s]), owner)  # an int64 id, as every other call


@jit(cache=True, nogil=True)
def slot_of_nb(indptr, nbr, i, j, hint):
    """`find_slot_nb`, trying first `hint`: a slot of i's block that held j before some cuts moved it."""
    if indptr[i] <= hint < indptr[i + 1] and nbr[hint] == j:
        return hint
    return find_slot_nb(indptr, nbr, i, j)


@jit(cache=True, nogil=True)
def find_slot_nb(indptr, nbr, i, j):
    """The slot of i's block holding j; -1 if i and j are not tied."""
    for s in range(indptr[i], indptr[i + 1]):
        if nbr[s] == j:
            return s
        if nbr[s] < 0:
            break
    return -1


@jit(cache=True, nogil=True)
def linked_nb(indptr, nbr, i, j):
    """Whether i holds j in its block (the compiled kernels' `linked`)."""
    return find_slot_nb(indptr, nbr, i, j) >= 0


@jit(cache=True, nogil=True)
def first_free_nb(indptr, nbr, i):
    """The first free slot of i's block (after its ties); -1 if full."""
    s = indptr[i] + alive_count_nb(indptr, nbr, i)
    return s if s < indptr[i + 1] else -1


@jit(cache=True, nogil=True)
def cut_nb(indptr, nbr, muted, rejections, s, owner):
    """`cut` of one alive slot (owned by `owner`) on the raw arrays: both arcs removed, blocks kept compact."""
    j = np.int64(nbr[s])  # an int64 id, as `owner`: _remove compiled once
    _remove(indptr, nbr, muted, rejections, reverse_slot(indptr, nbr, s, owner), j)
    _remove(indptr, nbr, muted, rejections, s, owner)


@jit(cache=True, nogil=True)
def _remove(indptr, nbr, muted, rejections, s, owner):
    """Remove the arc in slot s: the owner's later ties move one slot left, keeping their order."""
    end = indptr[owner + 1]
    q = s
    while q + 1 < end and nbr[q + 1] >= 0:
        nbr[q] = nbr[q + 1]
        muted[q] = muted[q + 1]
        rejections[q] = rejections[q + 1]
        q += 1
    nbr[q] = EMPTY
    muted[q] = False
    rejections[q] = 0


@parallel_kernel(cache=True, nogil=True)
def _compact(indptr, nbr, muted, rejections, blocks):
    """Move the ties of these blocks to the start of each block, in order; the rest is free."""
    for q in nb.prange(len(blocks)):
        i = blocks[q]
        w = indptr[i]
        for s in range(indptr[i], indptr[i + 1]):
            if nbr[s] >= 0:
                if s != w:
                    nbr[w] = nbr[s]
                    muted[w] = muted[s]
                    rejections[w] = rejections[s]
                w += 1
        for s in range(w, indptr[i + 1]):
            nbr[s] = EMPTY
            muted[s] = False
            rejections[s] = 0


@parallel_kernel(cache=True, nogil=True)
def _has_holes(indptr, nbr):
    """Whether some block holds a tie after a free slot (only arrays built by hand can)."""
    n = len(indptr) - 1
    bad = np.zeros(n, dtype=np.bool_)
    for i in nb.prange(n):
        for s in range(indptr[i] + 1, indptr[i + 1]):
            if nbr[s] >= 0 and nbr[s - 1] < 0:
                bad[i] = True
                break
    return bad.any()


@jit(cache=True, nogil=True)
def connect_one_nb(indptr, nbr, muted, rejections, a, b):
    """`connect_one` on the raw arrays: the tie a-b appended to each block (room ensured)."""
    _append(indptr, nbr, muted, rejections, a, b)
    _append(indptr, nbr, muted, rejections, b, a)


@parallel_kernel(cache=True, nogil=True)
def _reverse_slots(indptr, nbr, slots):
    out = np.empty(len(slots), dtype=np.int64)
    for q in nb.prange(len(slots)):
        s = slots[q]
        owner = np.searchsorted(indptr, s, side="right") - 1
        out[q] = reverse_slot(indptr, nbr, s, owner)
    return out


def reverse_slots(ties: Ties, slots: np.ndarray) -> np.ndarray:
    """Reverse arcs of these alive slots (cost: the neighbours' block sizes)."""
    return _reverse_slots(ties.indptr, ties.nbr, np.asarray(slots, dtype=np.int64))


def cut(ties: Ties, slots: np.ndarray) -> None:
    """Remove the ties holding these slots, both arcs (a slot already empty is ignored).

    The slots are those of the ties before the call: the blocks are compacted once all are emptied,
    which leaves the same order as cutting them one by one.
    """
    slots = np.asarray(slots, dtype=np.int64)
    slots = slots[ties.nbr[slots] >= 0]
    if len(slots) == 0:
        return
    both = np.concatenate([slots, reverse_slots(ties, slots)])
    ties.nbr[both] = EMPTY
    ties.muted[both] = False
    ties.rejections[both] = 0
    blocks = sorted_unique(np.searchsorted(ties.indptr, both, side="right") - 1)
    _compact(ties.indptr, ties.nbr, ties.muted, ties.rejections, blocks)


def free_slots(ties: Ties) -> np.ndarray:
    """Free slots per agent."""
    return ties.block_sum((ties.nbr < 0).astype(np.int64))


def ensure_capacity(ties: Ties, need: np.ndarray) -> None:
    """Make room for `need[i]` more arcs in every block i that lacks it.

    A block short of room takes free slots from nearby blocks; if no window of `REACH` blocks
    around it has enough, every block is re-packed with new spare room. Neither changes the order
    of anyone's ties, so neither changes a result. Both the check and the moves are compiled passes.
    """
    need = np.asarray(need, dtype=np.int64)
    if _lacks_room(ties.indptr, ties.nbr, need):
        who = np.flatnonzero(need > 0)
        _make_room(ties, who, need[who])


def ensure_room(ties: Ties, a: np.ndarray, b: np.ndarray) -> None:
    """`ensure_capacity` for the ties a[k]-b[k] about to be formed, checking only their ends' blocks.

    A step forms a few thousand ties among a million agents: the check costs a sort of their ends,
    not a pass over every block.
    """
    ends = np.sort(np.concatenate([np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)]))
    if len(ends) and _ends_lack_room(ties.indptr, ties.nbr, ends):
        # the ends and their counts, not np.bincount's array of N counts (80 MB of fresh pages at ten million
        # agents, twice a step once blocks fill up) nor np.unique (about 0.7 s on a million ends there)
        _make_room(ties, *_run_lengths(ends))


def compile_layout_tail() -> None:
    """Compile (or load) the layout kernels a new store reaches last, on a store of two agents and one tie.

    `from_edges` counts the ends, sizes and fills the blocks, then sorts them; `Ties` checks them for holes
    and marks the blocks with mutes; the state counts in-group ties (`degrees`). On a cold cache the compile
    partner (`sim.run.partner`) calls this while the run compiles the others, so that each is compiled
    once, by one of the two: the sort and the counts here (measured so that each is in the cache before
    the run reaches it). The arrays have the types of every store `from_edges` lays out below 2**31 slots
    (int32 slots and blocks, int64 counts).
    """
    indptr = np.array([0, 2, 4], dtype=np.int32)
    nbr = np.array([1, EMPTY, 0, EMPTY], dtype=np.int32)
    _sort_blocks(indptr, np.ones(2, dtype=np.int64), nbr)
    degrees(indptr, nbr, np.zeros(2, dtype=np.int32))


def compile_room(ties: Ties) -> None:
    """Compile (or load) the kernel that makes room for new ties, for these arrays' types; changes nothing.

    It makes room for no tie. The compile partner's run calls it before its first step, since it is the
    step's last kernel to compile (`sim.run.partner`).
    """
    none = np.empty(0, dtype=np.int64)  # as `_run_lengths` gives them
    _make_room(ties, none, none.copy())


def _run_lengths(ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of the sorted `ends` and how often each occurs (`sorted_unique`'s runs, counted)."""
    first = np.empty(len(ends), dtype=bool)
    first[:1] = True
    np.not_equal(ends[1:], ends[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    return ends[starts], np.diff(starts, append=len(ends))


#: How many blocks a short block may take free slots from, around it, before all are re-packed.
REACH = 1024


def _make_room(ties: Ties, who: np.ndarray, count: np.ndarray) -> None:
    """Room for count[k] more arcs in block who[k] (`who` sorted and distinct; every other block needs none)."""
    if not _widen_all(ties.indptr, ties.nbr, ties.muted, ties.rejections, who, count, ties.slack, REACH):
        need = np.zeros(ties.n_agents, dtype=np.int64)
        need[who] = count
        _repack_with_room(ties, need)


@jit(cache=True, nogil=True)
def _need(who, count, b):
    """What block b needs: count[k] where who[k] == b, else 0 (`who` sorted)."""
    k = first_at_least(who, b)
    return count[k] if k < len(who) and who[k] == b else 0


@jit(cache=True, nogil=True)
def first_at_least(a, x):
    """The first index k of the sorted `a` with a[k] >= x (len(a) if none), by bisection.

    `np.searchsorted(a, x)`, which numba took 0.4 s to compile on a cold cache.
    """
    lo, hi = 0, len(a)
    while lo < hi:
        mid = (lo + hi) // 2
        if a[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@jit(cache=True, nogil=True)
def _widen_all(indptr, nbr, muted, rej, who, count, slack, reach):
    """Widen, in turn, every block who[k] with fewer free slots than count[k]; False if one cannot be."""
    for k in range(len(who)):
        i = who[k]
        if _free_count(indptr, nbr, i) < count[k] and not _widen(indptr, nbr, muted, rej, who, count, i, slack, reach):
            return False
    return True


@jit(cache=True, nogil=True)
def _widen(indptr, nbr, muted, rej, who, count, i, slack, reach):
    """Give block i room for its need more arcs plus spare, moving the boundaries of the blocks around it.

    The window grows one block at a time, alternately right and left, until its slots hold every
    block's ties, each neighbour's own need and i's new capacity. Its blocks are then laid out again
    inside the same slots: i gets its capacity, the others share the rest in proportion to the free
    room they had. Returns False when no window of `reach` blocks suffices.
    """
    n = len(indptr) - 1
    lo = hi = i
    have = np.int64(indptr[i + 1] - indptr[i])
    want_i = _block_capacity(alive_count_nb(indptr, nbr, i) + _need(who, count, i), slack)
    used = want_i
    while have < used:
        can_right, can_left = hi + 1 < n, lo > 0
        if not (can_right or can_left) or hi - lo + 1 >= reach:
            return False
        if can_right and (not can_left or hi - i <= i - lo):
            hi += 1
            b = hi
        else:
            lo -= 1
            b = lo
        have += indptr[b + 1] - indptr[b]
        used += alive_count_nb(indptr, nbr, b) + _need(who, count, b)
    m = hi - lo + 1
    alive = np.empty(m, dtype=np.int64)
    cap = np.empty(m, dtype=np.int64)
    weight = np.zeros(m, dtype=np.int64)
    surplus, total = have, np.int64(0)  # summed here: numba's array sum compiled in a fifth of a second
    for k in range(m):
        b = lo + k
        alive[k] = alive_count_nb(indptr, nbr, b)
        if b == i:
            cap[k] = want_i
        else:
            cap[k] = alive[k] + _need(who, count, b)
            weight[k] = max(0, indptr[b + 1] - indptr[b] - cap[k])
        surplus -= cap[k]
        total += weight[k]
    given = 0
    for k in range(m):
        if total > 0 and lo + k != i:
            share = surplus * weight[k] // total
            cap[k] += share
            given += share
    cap[i - lo] += surplus - given
    a0 = np.int64(indptr[lo])
    old = np.empty(m + 1, dtype=np.int64)
    for k in range(m + 1):
        old[k] = indptr[lo + k] - a0
    t_nbr = nbr[a0 : a0 + have].copy()
    t_muted = muted[a0 : a0 + have].copy()
    t_rej = rej[a0 : a0 + have].copy()
    w = a0
    for k in range(m):
        src = old[k]
        for q in range(alive[k]):
            nbr[w + q] = t_nbr[src + q]
            muted[w + q] = t_muted[src + q]
            rej[w + q] = t_rej[src + q]
        for q in range(alive[k], cap[k]):
            nbr[w + q] = EMPTY
            muted[w + q] = False
            rej[w + q] = 0
        w += cap[k]
        indptr[lo + k + 1] = w
    return True


def _repack_with_room(ties: Ties, need: np.ndarray) -> None:
    cap = _room(ties.indptr, ties.nbr, need, ties.slack)
    with huge_pages():  # as `from_edges`' arrays
        indptr = _indptr(cap)
        size = int(indptr[-1])
        if ties.spare is not None and len(ties.spare[0]) >= size:
            nbr, muted, rej = (a[:size] for a in ties.spare)
        else:  # every slot of all three is written by the re-pack
            nbr, muted, rej = np.empty(size, np.int32), np.empty(size, np.bool_), np.empty(size, np.uint8)
    _repack(ties.indptr, ties.nbr, ties.muted, ties.rejections, indptr, nbr, muted, rej)
    ties.spare = cast(
        tuple[np.ndarray, np.ndarray, np.ndarray],
        tuple(a if a.base is None else a.base for a in (ties.nbr, ties.muted, ties.rejections)),
    )
    ties.indptr, ties.nbr, ties.muted, ties.rejections = indptr, nbr, muted, rej  # `mutes` stays valid


@parallel_kernel(cache=True, nogil=True)
def _room(indptr, nbr, need, slack):
    """The capacity of (alive arcs + need) for every block, in one compiled pass."""
    n = len(need)
    cap = np.empty(n, dtype=np.int64)
    for i in nb.prange(n):
        cap[i] = _block_capacity(alive_count_nb(indptr, nbr, i) + need[i], slack)
    return cap


@parallel_kernel(cache=True, nogil=True)
def _lacks_room(indptr, nbr, need):
    n = len(need)
    short = np.zeros(n, dtype=np.bool_)
    for i in nb.prange(n):
        if need[i] > 0:
            short[i] = _free_count(indptr, nbr, i) < need[i]
    return short.any()


@jit(cache=True, nogil=True)
def _ends_lack_room(indptr, nbr, ends):
    """Whether some agent in the sorted `ends` occurs more often than its block has free slots."""
    r = 0
    while r < len(ends):
        i, k = ends[r], r
        while r < len(ends) and ends[r] == i:
            r += 1
        if _free_count(indptr, nbr, i) < r - k:
            return True
    return False


@jit(cache=True, nogil=True)
def _free_count(indptr, nbr, i):
    return (indptr[i + 1] - indptr[i]) - alive_count_nb(indptr, nbr, i)


@parallel_kernel(cache=True, nogil=True)
def _repack(indptr, nbr, muted, rej, new_indptr, new_nbr, new_muted, new_rej):
    """Copy each block's ties, in order, to the start of its new block; the rest is free."""
    for i in nb.prange(len(indptr) - 1):
        w = new_indptr[i]
        for s in range(indptr[i], indptr[i + 1]):
            if nbr[s] < 0:
                break
            new_nbr[w] = nbr[s]
            new_muted[w] = muted[s]
            new_rej[w] = rej[s]
            w += 1
        end = new_indptr[i + 1]
        new_nbr[w:end] = EMPTY
        new_muted[w:end] = False
        new_rej[w:end] = 0


#: Writes in place that touch only the two ends' blocks of each tie (`connect` here, the step's cuts) run on
#: this many parts of the agents at once, one thread each; any number of parts gives the same ties.
PARTS = 2


@jit(cache=True, nogil=True)
def part_size(indptr, parts):
    """Agents per part: agent i lies in part i // part_size (the last part may be smaller)."""
    return (len(indptr) - 1 + parts - 1) // parts


def connect(ties: Ties, a: np.ndarray, b: np.ndarray) -> None:
    """Form ties a[k]-b[k] (distinct, not yet linked), appended to both blocks in the given order.

    Makes room first (`ensure_room`, which may replace the arrays), then appends in parallel, by parts
    of the agents: each part walks the ties in order and appends to its own agents' blocks only, so
    every block gets its new arcs in the order of their ties, as forming them one by one
    (`connect_one_nb`) appends them.
    """
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    if len(a) == 0:
        return
    ensure_room(ties, a, b)
    _connect_parts(ties.indptr, ties.nbr, ties.muted, ties.rejections, a, b, PARTS)


@parallel_kernel(cache=True, nogil=True)
def _connect_parts(indptr, nbr, muted, rejections, a, b, parts):
    size = part_size(indptr, parts)
    for k in nb.prange(parts):
        _append_part(indptr, nbr, muted, rejections, a, b, k, size)


@jit(cache=True, nogil=True)
def _append_part(indptr, nbr, muted, rejections, a, b, k, size):
    """Append, in tie order, the arcs of the ties a[q]-b[q] whose owner lies in part k (agents k size ...)."""
    m = len(a)
    for q in range(m):
        # ask ahead (`prefetch`) for the owners' index entries, then their blocks: cache misses at ten million agents
        ahead = q + PREFETCH_AHEAD
        if ahead < m:
            if a[ahead] // size == k:
                prefetch(indptr, a[ahead])
            if b[ahead] // size == k:
                prefetch(indptr, b[ahead])
        ahead = q + PREFETCH_AHEAD // 2
        if ahead < m:
            if a[ahead] // size == k:
                prefetch(nbr, indptr[a[ahead]])
            if b[ahead] // size == k:
                prefetch(nbr, indptr[b[ahead]])
        if a[q] // size == k:
            _append(indptr, nbr, muted, rejections, a[q], b[q])
        if b[q] // size == k:
            _append(indptr, nbr, muted, rejections, b[q], a[q])


@jit(cache=True, nogil=True)
def _append(indptr, nbr, muted, rejections, i, j):
    """The arc i -> j in i's first free slot (room ensured)."""
    s = first_free_nb(indptr, nbr, i)
    nbr[s] = j
    muted[s] = False
    rejections[s] = 0


def connect_one(ties: Ties, a: int, b: int) -> None:
    """Form one tie, appended to both blocks (the per-agent reference's primitive)."""
    sa = _first_free(ties, a)
    sb = _first_free(ties, b)
    ties.nbr[sa], ties.nbr[sb] = b, a
    ties.muted[sa] = ties.muted[sb] = False
    ties.rejections[sa] = ties.rejections[sb] = 0


def _first_free(ties: Ties, i: int) -> int:
    for s in range(ties.indptr[i], ties.indptr[i + 1]):
        if ties.nbr[s] < 0:
            return s
    raise RuntimeError(f"no free slot for agent {i}: ensure_capacity first")
