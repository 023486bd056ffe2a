"""Groups' norms and who dissents from them: one definition for the ties mechanism and the metrics.

A group's norm is the median stance of its members (the stance its majority gathers around; a
median, not a mean: in a split group the mean can sit where nobody is, which would make everyone a
dissenter). An agent dissents when its stance lies more than the conformity threshold from its
group's norm. The ties submodel (`sim.step.ties`, ODD 4) acts on dissent and the metrics count it,
so the definition lives here, below both.
"""

from __future__ import annotations

from typing import Any

import numba as nb
import numpy as np

from sim.core.kernels import jit, parallel_kernel

_JIT: dict[str, Any] = {"cache": True, "nogil": True}


@jit(**_JIT)
def dissents(x, norm, conformity):
    """Whether an agent at stance x dissents from a group norm (the rule, for one agent)."""
    return abs(x - norm) > conformity


@jit(**_JIT)
def lost_share(in_degree, in_degree0):
    """The share of its initial in-group ties an agent has lost, net of new ones (0 if it had none).

    Marginalization, as the metrics count it (a dissenter that lost more than `metrics.marginalized_loss`)
    and as the rewiring rule reads it (`sim.step.ties.rewire_chance`).
    """
    if in_degree0 <= 0:
        return 0.0
    return max(0.0, 1.0 - np.float64(in_degree) / np.float64(in_degree0))


@jit(**_JIT)
def in_group_degree(indptr, nbr, group, i):
    """Agent i's alive ties to members of its own group (a walk over its block)."""
    count = 0
    for s in range(indptr[i], indptr[i + 1]):
        j = nbr[s]
        if j < 0:  # blocks are compact: the ties end at the first free slot
            break
        if group[j] == group[i]:
            count += 1
    return count


@jit(**_JIT)
def select(v, k):
    """Reorder `v` in place so that v[k] is its k-th smallest value, none after it smaller, none before larger.

    Hoare's quickselect (middle pivot), O(len(v)) expected. What `np.partition(v, k)` guarantees, written
    out because numba's generic np.partition costs several seconds of compilation on every fresh install.
    """
    lo, hi = 0, len(v) - 1
    while lo < hi:
        pivot = v[(lo + hi) // 2]
        i, j = lo, hi
        while i <= j:
            while v[i] < pivot:
                i += 1
            while v[j] > pivot:
                j -= 1
            if i <= j:
                v[i], v[j] = v[j], v[i]
                i += 1
                j -= 1
        if k <= j:
            hi = j
        elif k >= i:
            lo = i
        else:  # j < k < i: v[k] equals the pivot, in its place
            return


@parallel_kernel(**_JIT)
def group_norms_nb(x, group_order, group_start):
    """The median stance of each group (NaN for an empty group), by selection, O(size) per group."""
    n_groups = len(group_start) - 1
    norm = np.empty(n_groups)
    for g in nb.prange(n_groups):
        a, b = group_start[g], group_start[g + 1]
        m = b - a
        if m == 0:
            norm[g] = np.nan
            continue
        k = m // 2  # the upper middle, and for even m the top of the rest
        vals = x[group_order[a:b]]  # a copy
        select(vals, k)
        other = vals[k]
        if m % 2 == 0:  # the top of the lower half; a loop, as numba's array max took 0.3 s to compile
            other = vals[0]
            for q in range(1, k):
                other = max(other, vals[q])
        norm[g] = (vals[k] + other) / 2.0
    return norm


@parallel_kernel(**_JIT)
def dissenters_nb(x, group, group_order, group_start, conformity):
    """Who dissents from its group's norm, for every agent."""
    norm = group_norms_nb(x, group_order, group_start)
    out = np.empty(len(x), dtype=np.bool_)
    for i in nb.prange(len(x)):
        out[i] = dissents(x[i], norm[group[i]], conformity)
    return out
