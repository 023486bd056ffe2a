"""Checks of the slotted tie store shared by tests."""

from __future__ import annotations

import numpy as np

from sim.core import tiestore


def pairs_of(t: tiestore.Ties) -> set[tuple[int, int]]:
    u, v, _, _ = t.edges()
    return set(zip(u.tolist(), v.tolist(), strict=True))


def check_consistent(t: tiestore.Ties) -> None:
    alive = np.flatnonzero(t.nbr >= 0)
    owner = t.owner()
    rev = tiestore.reverse_slots(t, alive)
    assert np.all(rev >= 0)  # every arc has its reverse
    assert np.array_equal(tiestore.reverse_slots(t, rev), alive)  # reverses point back
    assert np.array_equal(owner[rev], t.nbr[alive])  # the reverse sits in the neighbour's block
    assert np.all(t.nbr[alive] != owner[alive])  # no self-loops
    key = owner[alive].astype(np.int64) * t.n_agents + t.nbr[alive]
    assert len(np.unique(key)) == len(key)  # no duplicate arcs
    # a block holding a muted tie is marked (`Ties.mutes`): the exchange and `edges()` skip unmarked blocks
    assert np.all(t.mutes[owner[alive][t.muted[alive]]])
    deg = t.degree()
    for i in range(t.n_agents):  # compact blocks: the ties first, then only free slots
        block = t.nbr[t.indptr[i] : t.indptr[i + 1]]
        assert np.all(block[: deg[i]] >= 0) and np.all(block[deg[i] :] < 0)


def ties_of(t: tiestore.Ties, i: int) -> list[int]:
    """Agent i's neighbours in block order (the order its picks follow)."""
    return [j for j in t.nbr[t.indptr[i] : t.indptr[i + 1]].tolist() if j >= 0]
