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


@nb.njit(parallel=True, **_JIT)
def level_assortativity(indptr, nbr, x, level, k):
    """Assortativity of stances over the ties inside each level (both ends in it): float[k], NaN if undefined.

    Two passes (mean, then centred sums) keep the rounding of a one-pass formula out of nearly
    equal stances; a level whose tie ends all hold one stance is NaN, as in the edge-list version.
    Each pass sums per agent in parallel, then per level in agent order, so the result does not
    depend on the number of threads.
    """
    n = len(indptr) - 1
    arcs = np.zeros(n, dtype=np.int64)  # alive arcs from i to its own level
    for i in nb.prange(n):
        li = level[i]
        for s in range(indptr[i], indptr[i + 1]):
            j = nbr[s]
            if j >= 0 and level[j] == li:
                arcs[i] += 1
    cnt = np.zeros(k, dtype=np.int64)
    total = np.zeros(k)
    lo = np.full(k, np.inf)
    hi = np.full(k, -np.inf)
    for i in range(n):
        if arcs[i] > 0:
            li = level[i]
            cnt[li] += arcs[i]
            total[li] += arcs[i] * x[i]
            lo[li] = min(lo[li], x[i])
            hi[li] = max(hi[li], x[i])
    mean = total / np.maximum(cnt, 1)
    var_i = np.zeros(n)
    cov_i = np.zeros(n)
    for i in nb.prange(n):
        if arcs[i] == 0:
            continue
        li = level[i]
        di = x[i] - mean[li]
        acc = 0.0
        for s in range(indptr[i], indptr[i + 1]):
            j = nbr[s]
            if j >= 0 and level[j] == li:
                acc += x[j] - mean[li]
        var_i[i] = arcs[i] * di * di
        cov_i[i] = di * acc
    var = np.zeros(k)
    cov = np.zeros(k)
    for i in range(n):
        var[level[i]] += var_i[i]
        cov[level[i]] += cov_i[i]
    out = np.full(k, np.nan)
    for lv in range(k):
        if cnt[lv] > 0 and hi[lv] > lo[lv] and var[lv] > 0:
            out[lv] = min(1.0, max(-1.0, cov[lv] / var[lv]))
    return out
