"""Tie-based metrics read straight from the slotted ties, without building an edge list.

At a million agents an edge list is ten million sorted pairs: building it costs seconds per record,
while one pass over the slots costs tens of milliseconds. Each undirected tie is two arcs (one slot
in each end's block), so a pass over the alive arcs visits every tie once in each direction: the
symmetric list Newman's assortativity is defined on. `sim.metrics.polarization.opinion_assortativity`
is the edge-list definition these kernels are tested against.
"""

from __future__ import annotations

import numba as nb
import numpy as np

_JIT = {"cache": True, "nogil": True}


@nb.njit(parallel=True, **_JIT)
def degrees(indptr, nbr, group):
    """Alive ties, and alive ties to members of the same group, of every agent."""
    n = len(indptr) - 1
    deg = np.zeros(n, dtype=np.int64)
    in_deg = np.zeros(n, dtype=np.int64)
    for i in nb.prange(n):
        for s in range(indptr[i], indptr[i + 1]):
            j = nbr[s]
            if j >= 0:
                deg[i] += 1
                if group[j] == group[i]:
                    in_deg[i] += 1
    return deg, in_deg


def level_assortativity(indptr, nbr, x, level, k):
    """Assortativity of stances over the ties inside each level (both ends in it): float[k], NaN if undefined."""
    return scoped_assortativity(indptr, nbr, x, np.asarray(level, dtype=np.int64)[None, :],
                                np.array([k], dtype=np.int64))[0, :k]


@nb.njit(parallel=True, **_JIT)
def scoped_assortativity(indptr, nbr, x, levels, ks):
    """Per-level assortativity for several scopes in one pass over the ties: float[scopes, max k].

    `levels[r, i]` is agent i's level in scope r (e.g. all zeros, its group, its profession); a tie
    counts in a level when both ends are in it. One pass gathers, per agent, its same-level arcs a_i
    and the sum S_i of their far ends' stances; then with the level's mean m over arc ends,
    var = sum_i a_i (x_i - m)^2 and cov = sum_i (x_i - m)(S_i - a_i m): the centred sums of the
    two-pass formula, without a second pass over the ties. A level whose tie ends all hold one
    stance is NaN, as in the edge-list version. Sums run per agent in parallel, then per level in
    agent order, so the result does not depend on the number of threads.
    """
    n = len(indptr) - 1
    m = levels.shape[0]
    kmax = ks.max()
    arcs = np.zeros((m, n), dtype=np.int64)  # alive arcs from i to its own level, per scope
    far = np.zeros((m, n))  # sum of their far ends' stances
    for i in nb.prange(n):
        for s in range(indptr[i], indptr[i + 1]):
            j = nbr[s]
            if j >= 0:
                xj = x[j]
                for r in range(m):
                    if levels[r, j] == levels[r, i]:
                        arcs[r, i] += 1
                        far[r, i] += xj
    out = np.full((m, kmax), np.nan)
    for r in range(m):
        cnt = np.zeros(kmax, dtype=np.int64)
        total = np.zeros(kmax)
        lo = np.full(kmax, np.inf)
        hi = np.full(kmax, -np.inf)
        for i in range(n):
            if arcs[r, i] > 0:
                li = levels[r, i]
                cnt[li] += arcs[r, i]
                total[li] += arcs[r, i] * x[i]
                lo[li] = min(lo[li], x[i])
                hi[li] = max(hi[li], x[i])
        mean = total / np.maximum(cnt, 1)
        var = np.zeros(kmax)
        cov = np.zeros(kmax)
        for i in range(n):
            if arcs[r, i] > 0:
                li = levels[r, i]
                di = x[i] - mean[li]
                var[li] += arcs[r, i] * di * di
                cov[li] += di * (far[r, i] - arcs[r, i] * mean[li])
        for lv in range(ks[r]):
            if cnt[lv] > 0 and hi[lv] > lo[lv] and var[lv] > 0:
                out[r, lv] = min(1.0, max(-1.0, cov[lv] / var[lv]))
    return out
