"""Tie-based metrics read straight from the slotted ties, without building an edge list.

At a million agents an edge list is ten million sorted pairs: building it costs seconds per record,
while one pass over the slots costs tens of milliseconds. Each undirected tie is two arcs (one slot
in each end's block), so a pass over the alive arcs visits every tie once in each direction: the
symmetric list Newman's assortativity is defined on. `sim.metrics.polarization.opinion_assortativity`
is the edge-list definition these kernels are tested against.
"""

from __future__ import annotations

from typing import Any

import numba as nb
import numpy as np

from sim.core.kernels import PREFETCH_AHEAD, jit, parallel_kernel, prefetch

_JIT: dict[str, Any] = {"cache": True, "nogil": True}


def level_assortativity(indptr, nbr, x, level, k):
    """Assortativity of stances over the ties inside each level (both ends in it): float[k], NaN if undefined."""
    level = np.asarray(level)
    arcs, far = scope_arcs(indptr, nbr, x, level, 0)
    return assortativity_from_arcs(x, level, 0, -1, k, arcs[1], far[1])


def scope_arcs(indptr, nbr, x, cell, bits, out=None):
    """`_scope_arcs` into `out` = (arcs, far), int32 and float64 arrays [3, n], if given (every entry is written)."""
    n = len(indptr) - 1
    arcs, far = (np.empty((3, n), dtype=np.int32), np.empty((3, n))) if out is None else out
    return _scope_arcs(indptr, nbr, x, cell, bits, arcs, far)


@parallel_kernel(**_JIT)
def _scope_arcs(indptr, nbr, x, cell, bits, arcs, far):
    """Each agent's alive arcs and the sum of their far ends' stances, in three scopes.

    `cell` packs two levels per agent as (a << bits) | b, e.g. group and profession. Rows: 0 every
    tie, 1 ties to agents of the same level a, 2 of the same level b: int32 arcs[3, n] and float64
    far[3, n]. Row 0 is the degree and row 1 the in-group degree, so one pass over the slots serves
    the degrees and the assortativity of every scope. Both tests come from one load and one xor, and
    are added branch-free (a mispredicted branch per arc costs more than the adds); unsigned indices
    spare the negative-index checks. Each agent sums its slots in slot order, up to its first free slot.
    The far ends' stances and cells are asked for a few agents ahead (`prefetch`): at ten million agents
    most are cache misses (1.14 -> 0.98 s a record there, with the walk stopping at the free slots).
    """
    n = len(indptr) - 1
    low = (1 << bits) - 1
    for i in nb.prange(n):
        k = i + PREFETCH_AHEAD  # written out, not `prefetch_ends`: see `sim.step.compiled._exchange`
        if k < n:
            for s in range(indptr[k], indptr[k + 1]):
                if nbr[s] < 0:  # blocks are compact: the ties end at the first free slot
                    break
                prefetch(x, nbr[s])
                prefetch(cell, nbr[s])
        c0 = c1 = c2 = 0
        f0 = f1 = f2 = 0.0
        ci = cell[i]
        for s in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
            j = nbr[s]
            if j < 0:  # the free slots (a fifth of them at ten million agents) are not read
                break
            xj = x[np.uint64(j)]
            d = cell[np.uint64(j)] ^ ci
            in_a = (d >> bits) == 0
            in_b = (d & low) == 0
            c0 += 1
            c1 += in_a
            c2 += in_b
            f0 += xj
            f1 += xj if in_a else 0.0
            f2 += xj if in_b else 0.0
        arcs[0, i], arcs[1, i], arcs[2, i] = c0, c1, c2
        far[0, i], far[1, i], far[2, i] = f0, f1, f2
    return arcs, far


@jit(**_JIT)
def assortativity_from_arcs(x, cell, shift, mask, k, arcs, far):
    """Per-level assortativity from each agent's same-level arcs a_i and far-end stance sum S_i: float[k].

    Agent i's level is (cell[i] >> shift) & mask (a level of `scope_arcs`'s cells: mask 0 for
    all agents in one level). With the level's mean m over arc ends,
    var = sum_i a_i (x_i - m)^2 and cov = sum_i (x_i - m)(S_i - a_i m): the centred sums of the
    two-pass formula, without a second pass over the ties. A level whose tie ends all hold one
    stance is NaN, as in the edge-list version. Sums run in agent order.
    """
    cnt = np.zeros(k, dtype=np.int64)
    total = np.zeros(k)
    lo = np.full(k, np.inf)
    hi = np.full(k, -np.inf)
    for i in range(len(x)):
        if arcs[i] > 0:
            li = (cell[i] >> shift) & mask
            cnt[li] += arcs[i]
            total[li] += arcs[i] * x[i]
            lo[li] = min(lo[li], x[i])
            hi[li] = max(hi[li], x[i])
    mean = total / np.maximum(cnt, 1)
    var = np.zeros(k)
    cov = np.zeros(k)
    for i in range(len(x)):
        if arcs[i] > 0:
            li = (cell[i] >> shift) & mask
            di = x[i] - mean[li]
            var[li] += arcs[i] * di * di
            cov[li] += di * (far[i] - arcs[i] * mean[li])
    out = np.full(k, np.nan)
    for lv in range(k):
        if cnt[lv] > 0 and hi[lv] > lo[lv] and var[lv] > 0:
            out[lv] = min(1.0, max(-1.0, cov[lv] / var[lv]))
    return out


@parallel_kernel(**_JIT)
def scope_assortativity(x, cell, bits, arcs, far, rows, ks):
    """Per-level assortativity of the scopes `rows` of `scope_arcs` (0 all, 1 a, 2 b): float[len(rows), max k].

    The scopes run in parallel, each in agent order, so the result does not depend on the threads.
    """
    width = 0
    for t in range(ks.size):  # a loop, not ks.max(): numba's array max took 0.4 s to compile
        width = max(width, ks[t])
    out = np.full((rows.size, width), np.nan)
    for t in nb.prange(rows.size):
        r = rows[t]
        shift = bits if r == 1 else 0
        mask = 0 if r == 0 else -1 if r == 1 else (1 << bits) - 1
        values = assortativity_from_arcs(x, cell, shift, mask, ks[t], arcs[r], far[r])
        for lv in range(ks[t]):  # element by element: a slice assignment compiles numba's shape-error text
            out[t, lv] = values[lv]
    return out
