"""Ties as a slotted adjacency: CSR blocks with spare slots, so ties change in place.

Each undirected tie i-j is two arcs: a slot in i's block holding j and a slot in j's block holding
i. The reverse arc is found by scanning the neighbour's block (a few dozen slots): ties change far
less often than they are read, so a stored link per slot (8 bytes) would cost more than it saves.
The block owner is the receiver: `muted[s]` means the owner no longer attends to that neighbour,
`rejections[s]` counts the rejected messages it sent. Cutting a tie empties both slots; forming
one fills a free slot in each block. Blocks are re-packed (with new spare room) only when one
overflows, so the per-step cost is that of a sparse pass over the slots, not of rebuilding a matrix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numba as nb
import numpy as np

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
    mutes: np.ndarray | None = None
    # the slot arrays of the layout before the last re-pack, reused by the next one: writing into fresh
    # memory costs a page fault per 4 KiB, about half of a re-pack at a million agents
    spare: tuple[np.ndarray, np.ndarray, np.ndarray] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.mutes is None:
            self.mutes = _blocks_with_mutes(self.indptr, self.muted)

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
        return Ties(self.indptr.copy(), self.nbr.copy(), self.muted.copy(), self.rejections.copy(), self.slack,
                    self.mutes.copy())

    def edges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Undirected ties (u < v, sorted) with who muted whom, for outputs and metrics.

        Emitted block by block in owner order, each block's ties sorted by neighbour: a compiled pass,
        where a sort of the whole list took seconds at ten million ties.
        """
        ends = _upper_arcs(self.indptr, self.nbr)
        start = np.zeros(len(ends) + 1, dtype=np.int64)
        np.cumsum(ends, out=start[1:])
        return _edge_list(self.indptr, self.nbr, self.muted, start)

    def canonical(self) -> dict[str, np.ndarray]:
        """Layout-free description of the ties (for comparing two implementations)."""
        s = np.flatnonzero(self.nbr >= 0)
        own = self.owner()[s].astype(np.int64)
        nb = self.nbr[s].astype(np.int64)
        order = np.lexsort((nb, own))
        s = s[order]
        return {"owner": own[order], "nbr": nb[order], "muted": self.muted[s],
                "rejections": self.rejections[s]}


@nb.njit(parallel=True, cache=True, nogil=True)
def _degree(indptr, nbr):
    n = len(indptr) - 1
    deg = np.zeros(n, dtype=np.int64)
    for i in nb.prange(n):
        deg[i] = alive_count_nb(indptr, nbr, i)
    return deg


@nb.njit(parallel=True, cache=True, nogil=True)
def _blocks_with_mutes(indptr, muted):
    n = len(indptr) - 1
    out = np.zeros(n, dtype=np.bool_)
    for i in nb.prange(n):
        for s in range(indptr[i], indptr[i + 1]):
            if muted[s]:
                out[i] = True
                break
    return out


@nb.njit(parallel=True, cache=True, nogil=True)
def _upper_arcs(indptr, nbr):
    n = len(indptr) - 1
    count = np.zeros(n, dtype=np.int64)
    for i in nb.prange(n):
        for s in range(indptr[i], indptr[i + 1]):
            if nbr[s] > i:
                count[i] += 1
    return count


@nb.njit(parallel=True, cache=True, nogil=True)
def _edge_list(indptr, nbr, muted, start):
    m = start[-1]
    u = np.empty(m, dtype=np.int64)
    v = np.empty(m, dtype=np.int64)
    mu = np.empty(m, dtype=np.bool_)
    mv = np.empty(m, dtype=np.bool_)
    for i in nb.prange(len(indptr) - 1):
        a = start[i]
        slots = np.empty(start[i + 1] - a, dtype=np.int64)
        c = 0
        for s in range(indptr[i], indptr[i + 1]):
            if nbr[s] > i:
                slots[c] = s
                c += 1
        slots = slots[np.argsort(nbr[slots], kind="mergesort")]
        for k in range(c):
            s = slots[k]
            u[a + k] = i
            v[a + k] = nbr[s]
            mu[a + k] = muted[s]
            mv[a + k] = muted[reverse_slot(indptr, nbr, s, i)]
    return u, v, mu, mv


@nb.njit(cache=True, nogil=True)
def alive_count_nb(indptr, nbr, i):
    """Alive arcs of i's block (the classic kernels count where needed: a degree pass each step costs more)."""
    c = 0
    for s in range(indptr[i], indptr[i + 1]):
        if nbr[s] >= 0:
            c += 1
    return c


def _indptr(cap: np.ndarray) -> np.ndarray:
    """Block boundaries: int32 while the slots fit (4 bytes per agent saved), int64 beyond 2**31 slots."""
    indptr = np.zeros(len(cap) + 1, dtype=np.int64)
    np.cumsum(cap, out=indptr[1:])
    return indptr.astype(np.int32) if indptr[-1] < np.iinfo(np.int32).max else indptr


@nb.njit(cache=True, nogil=True)
def _block_capacity(d, slack):
    """Slots for a block of d arcs: d plus spare room, at least 2."""
    return d + max(2, np.int64(math.ceil(slack * d)))


@nb.njit(parallel=True, cache=True, nogil=True)
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
    u = np.asarray(u, dtype=np.int64)
    v = np.asarray(v, dtype=np.int64)
    deg = np.bincount(u, minlength=n) + np.bincount(v, minlength=n)
    indptr = _indptr(_capacity(deg, slack))
    size = int(indptr[-1])
    nbr = np.full(size, EMPTY, dtype=np.int32)
    _fill_blocks(indptr, u, v, nbr)
    _sort_blocks(indptr, deg, nbr)
    return Ties(indptr, nbr, np.zeros(size, dtype=bool), np.zeros(size, dtype=np.uint8), slack)


@nb.njit(cache=True)
def _fill_blocks(indptr, u, v, nbr):
    fill = indptr[:-1].copy()
    for k in range(len(u)):
        a, b = u[k], v[k]
        nbr[fill[a]] = b
        fill[a] += 1
        nbr[fill[b]] = a
        fill[b] += 1


@nb.njit(parallel=True, cache=True)
def _sort_blocks(indptr, deg, nbr):
    for i in nb.prange(len(indptr) - 1):
        a = indptr[i]
        nbr[a:a + deg[i]] = np.sort(nbr[a:a + deg[i]])


@nb.njit(cache=True, nogil=True)
def reverse_slot(indptr, nbr, s, owner):
    """The slot of the reverse arc of alive slot `s` (owned by `owner`): where its neighbour holds the owner."""
    j = nbr[s]
    for r in range(indptr[j], indptr[j + 1]):
        if nbr[r] == owner:
            return r
    return -1


@nb.njit(cache=True, nogil=True)
def linked_nb(indptr, nbr, i, j):
    """Whether i holds j in its block (the compiled kernels' `linked`)."""
    for s in range(indptr[i], indptr[i + 1]):
        if nbr[s] == j:
            return True
    return False


@nb.njit(cache=True, nogil=True)
def first_free_nb(indptr, nbr, i):
    """The first free slot of i's block; -1 if full."""
    for s in range(indptr[i], indptr[i + 1]):
        if nbr[s] < 0:
            return s
    return -1


@nb.njit(cache=True, nogil=True)
def cut_nb(indptr, nbr, muted, rejections, s, owner):
    """`cut` of one alive slot (owned by `owner`) on the raw arrays: both arcs emptied."""
    t = reverse_slot(indptr, nbr, s, owner)
    for q in (s, t):
        nbr[q] = EMPTY
        muted[q] = False
        rejections[q] = 0


@nb.njit(cache=True, nogil=True)
def connect_one_nb(indptr, nbr, muted, rejections, a, b):
    """`connect_one` on the raw arrays: the tie a-b in the first free slot of each block (room ensured)."""
    sa = first_free_nb(indptr, nbr, a)
    sb = first_free_nb(indptr, nbr, b)
    nbr[sa] = b
    nbr[sb] = a
    muted[sa] = muted[sb] = False
    rejections[sa] = rejections[sb] = 0


@nb.njit(parallel=True, cache=True, nogil=True)
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
    """Empty both arcs of the ties holding these slots (a slot already empty is ignored)."""
    slots = np.asarray(slots, dtype=np.int64)
    slots = slots[ties.nbr[slots] >= 0]
    both = np.concatenate([slots, reverse_slots(ties, slots)])
    ties.nbr[both] = EMPTY
    ties.muted[both] = False
    ties.rejections[both] = 0


def free_slots(ties: Ties) -> np.ndarray:
    """Free slots per agent."""
    return ties.block_sum((ties.nbr < 0).astype(np.int64))


def ensure_capacity(ties: Ties, need: np.ndarray) -> None:
    """Re-pack every block with room for `need` more arcs if any block lacks it.

    Alive arcs keep their order inside a block, so a re-pack does not change which neighbour
    a draw selects. At a million agents some block overflows every few steps, so both the check and
    the re-pack are compiled passes over the slots (tens of milliseconds, not seconds).
    """
    need = np.asarray(need, dtype=np.int64)
    if _lacks_room(ties.indptr, ties.nbr, need):
        _repack_with_room(ties, need)


def ensure_room(ties: Ties, a: np.ndarray, b: np.ndarray) -> None:
    """`ensure_capacity` for the ties a[k]-b[k] about to be formed, checking only their ends' blocks.

    A step forms a few thousand ties among a million agents: the check costs a sort of their ends,
    not a pass over every block (the full need array is built only for a re-pack).
    """
    ends = np.concatenate([np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)])
    if len(ends) and _ends_lack_room(ties.indptr, ties.nbr, np.sort(ends)):
        _repack_with_room(ties, np.bincount(ends, minlength=ties.n_agents))


def _repack_with_room(ties: Ties, need: np.ndarray) -> None:
    cap = _room(ties.indptr, ties.nbr, need, ties.slack)
    indptr = _indptr(cap)
    size = int(indptr[-1])
    if ties.spare is not None and len(ties.spare[0]) >= size:
        nbr, muted, rej = (a[:size] for a in ties.spare)
    else:  # every slot of all three is written by the re-pack
        nbr, muted, rej = np.empty(size, np.int32), np.empty(size, np.bool_), np.empty(size, np.uint8)
    _repack(ties.indptr, ties.nbr, ties.muted, ties.rejections, indptr, nbr, muted, rej)
    ties.spare = tuple(a if a.base is None else a.base for a in (ties.nbr, ties.muted, ties.rejections))
    ties.indptr, ties.nbr, ties.muted, ties.rejections = indptr, nbr, muted, rej  # `mutes` stays valid


@nb.njit(parallel=True, cache=True, nogil=True)
def _room(indptr, nbr, need, slack):
    """The capacity of (alive arcs + need) for every block, in one compiled pass."""
    n = len(need)
    cap = np.empty(n, dtype=np.int64)
    for i in nb.prange(n):
        cap[i] = _block_capacity(alive_count_nb(indptr, nbr, i) + need[i], slack)
    return cap


@nb.njit(parallel=True, cache=True, nogil=True)
def _lacks_room(indptr, nbr, need):
    n = len(need)
    short = np.zeros(n, dtype=np.bool_)
    for i in nb.prange(n):
        if need[i] > 0:
            short[i] = _free_count(indptr, nbr, i) < need[i]
    return short.any()


@nb.njit(cache=True, nogil=True)
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


@nb.njit(cache=True, nogil=True)
def _free_count(indptr, nbr, i):
    return (indptr[i + 1] - indptr[i]) - alive_count_nb(indptr, nbr, i)


@nb.njit(parallel=True, cache=True, nogil=True)
def _repack(indptr, nbr, muted, rej, new_indptr, new_nbr, new_muted, new_rej):
    """Copy each block's alive arcs, in order, to the start of its new block; the rest is free."""
    for i in nb.prange(len(indptr) - 1):
        w = new_indptr[i]
        for s in range(indptr[i], indptr[i + 1]):
            if nbr[s] >= 0:
                new_nbr[w] = nbr[s]
                new_muted[w] = muted[s]
                new_rej[w] = rej[s]
                w += 1
        end = new_indptr[i + 1]
        new_nbr[w:end] = EMPTY
        new_muted[w:end] = False
        new_rej[w:end] = 0


def connect(ties: Ties, a: np.ndarray, b: np.ndarray) -> None:
    """Form ties a[k]-b[k] (distinct, not yet linked) in the first free slots, in the given order."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    m = len(a)
    if m == 0:
        return
    ensure_room(ties, a, b)
    # arcs in pair order: a->b then b->a for each pair; owner of arc 2k is a[k], of 2k+1 is b[k]
    owners = np.empty(2 * m, dtype=np.int64)
    owners[0::2], owners[1::2] = a, b
    holds = np.empty(2 * m, dtype=np.int64)
    holds[0::2], holds[1::2] = b, a
    order = np.argsort(owners, kind="stable")
    so = owners[order]
    rank = np.arange(2 * m) - np.searchsorted(so, so, side="left")
    free = np.flatnonzero(ties.nbr < 0)
    first_free = np.searchsorted(free, ties.indptr[so])
    slot_sorted = free[first_free + rank]
    slot = np.empty(2 * m, dtype=np.int64)
    slot[order] = slot_sorted
    ties.nbr[slot] = holds
    ties.muted[slot] = False
    ties.rejections[slot] = 0


def connect_one(ties: Ties, a: int, b: int) -> None:
    """Form one tie in the first free slots of both blocks (the per-agent reference's primitive)."""
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


def block_slots(ties: Ties, agents: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All slots of the given agents' blocks, with the index into `agents` each belongs to."""
    agents = np.asarray(agents, dtype=np.int64)
    if len(agents) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    lens = ties.indptr[agents + 1] - ties.indptr[agents]
    which = np.repeat(np.arange(len(agents)), lens)
    offset = np.repeat(ties.indptr[agents] - np.concatenate([[0], np.cumsum(lens)[:-1]]), lens)
    return which, offset + np.arange(len(which))


def linked(ties: Ties, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Whether a[k] and b[k] are tied, scanning only a's block (cost: sum of their degrees)."""
    b = np.asarray(b, dtype=np.int64)
    which, slots = block_slots(ties, a)
    hit = ties.nbr[slots] == b[which]
    return np.bincount(which[hit], minlength=len(b)) > 0
